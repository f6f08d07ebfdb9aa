// The client of the classic upper-case TCP server (tcp-upper-server.ts, or `switchboard echo --tcp 9090`):
// connects, sends one line from the command line, prints the answer, and closes.
import { connect } from 'node:net'
import { createInterface } from 'node:readline'
import { formatHostPort, readCommandLine, readInteger } from './command-line.js'

const usage = `usage: node dist/examples/tcp-upper-client.js [--port 9090] [--host 127.0.0.1] [--timeout-ms 5000] [words...]

Sends the words as one line (default "hello, server") and prints each line the server answers.`

const { values, positionals } = readCommandLine(usage, {
  port: '9090',
  host: '127.0.0.1',
  'timeout-ms': '5000',
})
const port = readInteger(usage, 'port', values.port, 1, 65535)
const timeoutMs = readInteger(usage, 'timeout-ms', values['timeout-ms'], 1, 3_600_000)
const line = positionals.join(' ') || 'hello, server'
const target = formatHostPort(values.host, port)
let answers = 0

const socket = connect({ port, host: values.host })
// Covers connecting too: a host that never answers (a firewall dropping packets) would otherwise hang for minutes.
socket.setTimeout(timeoutMs)

socket.on('connect', () => {
  console.log(
    `connected to ${target} from ${formatHostPort(socket.localAddress ?? '?', socket.localPort ?? 0)}`,
  )
  console.log(`sending ${JSON.stringify(line)}`)
  // end() sends the line and then shuts down our side (a TCP FIN): the server sees that nothing more is
  // coming, answers, and closes. Reading still works until it does.
  socket.end(`${line}\n`)
})

const lines = createInterface({ input: socket, crlfDelay: Number.POSITIVE_INFINITY })
lines.on('line', (answer) => {
  answers++
  console.log(`received ${JSON.stringify(answer)}`)
})

socket.on('timeout', () => {
  // After an answer, a server that keeps its side open is merely impolite.
  if (answers === 0) {
    console.error(`no answer from ${target} within ${timeoutMs} ms`)
    process.exitCode = 1
  }
  socket.destroy()
})

// readline passes the socket's errors on to the interface, so that is where they are caught.
lines.on('error', (error: NodeJS.ErrnoException) => {
  const hint =
    error.code === 'ECONNREFUSED' ? ' (is the server running? node dist/examples/tcp-upper-server.js)' : ''
  console.error(`cannot talk to ${target}: ${error.message}${hint}`)
  process.exitCode = 1
})

socket.on('close', (hadError) => {
  if (!hadError) console.log('connection closed')
})
