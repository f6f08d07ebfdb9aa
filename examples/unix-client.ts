// A Unix domain socket client for a switchboard hub (`switchboard serve`, or `startUnix` in your own program):
// it reads the WELCOME line, sends lines from the command line, prints what comes back, and leaves.
import { connect } from 'node:net'
import { createInterface } from 'node:readline'
import { readCommandLine, readInteger } from './command-line.js'

const usage = `usage: node dist/examples/unix-client.js [--path ./switchboard.sock] [--timeout-ms 5000] [lines...]

Connects to a switchboard hub's Unix socket, waits for its WELCOME line, sends each line (default:
"hello from a Unix socket", then "/who"), ends its side, and prints all the hub says until it closes.
Lines from the hub are shown after "< ", lines sent after "> " (the protocol: docs/line-protocol.md).`

const { values, positionals } = readCommandLine(usage, {
  path: './switchboard.sock',
  'timeout-ms': '5000',
})
const timeoutMs = readInteger(usage, 'timeout-ms', values['timeout-ms'], 1, 3_600_000)
const toSend = positionals.length > 0 ? positionals : ['hello from a Unix socket', '/who']
let welcomed = false

// A Unix socket is reached by its file path instead of a host and port; everything else is as with TCP.
const socket = connect(values.path)
socket.setTimeout(timeoutMs)

const lines = createInterface({ input: socket, crlfDelay: Number.POSITIVE_INFINITY })
lines.on('line', (line) => {
  console.log(`< ${line}`)
  if (welcomed) return
  welcomed = true
  // Anything but a welcome is a refusal (`ERR 503 too-many-connections …`): the hub closes, and we have shown why.
  if (!line.startsWith('WELCOME ')) return
  for (const text of toSend) {
    console.log(`> ${text}`)
    socket.write(`${text}\n`)
  }
  // Ending our side says goodbye like /quit: the hub answers every line we sent, says `BYE 4000 bye`, and closes.
  socket.end()
})

socket.on('timeout', () => {
  console.error(`the hub said nothing for ${timeoutMs} ms`)
  process.exitCode = 1
  socket.destroy()
})

// readline passes the socket's errors on to the interface, so that is where they are caught.
lines.on('error', (error: NodeJS.ErrnoException) => {
  const hints: Record<string, string> = {
    ENOENT: 'no socket file there: is the hub running? (npx switchboard serve)',
    ECONNREFUSED: 'nobody accepts on that socket file: the server that made it is gone',
  }
  console.error(`cannot talk to ${values.path}: ${hints[error.code ?? ''] ?? error.message}`)
  process.exitCode = 1
})

socket.on('close', (hadError) => {
  if (!hadError) console.log('connection closed')
})
