// The sending half of the classic UDP pair: each message from the command line goes out as one datagram.
// With --replies it also waits for answers, which is all it takes to speak switchboard's UDP protocol (docs/udp.md).
import { createSocket } from 'node:dgram'
import { formatHostPort, readCommandLine, readInteger } from './command-line.js'

const usage = `usage: node dist/examples/udp-sender.js [--port 9090] [--host 127.0.0.1] [--replies N] [--timeout-ms 2000]
         [messages...]

Sends each message as one datagram (default: one datagram, "hello, UDP"). With --replies N it then waits
up to --timeout-ms for N datagrams back and prints them. Against \`switchboard serve\` (UDP port 9090):
  node dist/examples/udp-sender.js --replies 3 '/nick ann' 'hello'`

const { values, positionals } = readCommandLine(usage, {
  port: '9090',
  host: '127.0.0.1',
  replies: '0',
  'timeout-ms': '2000',
})
const port = readInteger(usage, 'port', values.port, 1, 65535)
const replies = readInteger(usage, 'replies', values.replies, 0, 1_000_000)
const timeoutMs = readInteger(usage, 'timeout-ms', values['timeout-ms'], 1, 3_600_000)
const messages = positionals.length > 0 ? positionals : ['hello, UDP']
const target = formatHostPort(values.host, port)
let received = 0
let open = true
let timer: NodeJS.Timeout | undefined

const socket = createSocket(values.host.includes(':') ? 'udp6' : 'udp4')

// connect() fixes the peer: send() needs no address, the kernel delivers only that peer's datagrams, and when
// nothing listens there the host's ICMP "port unreachable" comes back to us as ECONNREFUSED.
socket.connect(port, values.host, async () => {
  const local = socket.address()
  console.log(`sending from ${formatHostPort(local.address, local.port)} to ${target}`)
  for (const message of messages) {
    // An error (below) may have closed the socket meanwhile; sending on a closed socket throws.
    if (!open) return
    const sent = await new Promise<boolean>((resolve) => socket.send(message, (error) => resolve(!error)))
    // A failed send is also reported through the 'error' event, which stops everything.
    if (!sent) return
    console.log(`sent ${Buffer.byteLength(message)} bytes: ${JSON.stringify(message)}`)
  }
  if (replies === 0) return finish()
  timer = setTimeout(() => {
    console.error(
      `${received} of ${replies} replies within ${timeoutMs} ms (UDP never says whether a datagram arrived)`,
    )
    process.exitCode = 1
    finish()
  }, timeoutMs)
})

socket.on('message', (data, from) => {
  console.log(`reply from ${formatHostPort(from.address, from.port)}: ${JSON.stringify(data.toString())}`)
  if (++received === replies) finish()
})

socket.on('error', (error: NodeJS.ErrnoException) => {
  const hint = error.code === 'ECONNREFUSED' ? ' (nothing listens on that port)' : ''
  console.error(`${target}: ${error.message}${hint}`)
  process.exitCode = 1
  finish()
})

function finish(): void {
  clearTimeout(timer)
  if (!open) return
  open = false
  socket.close()
}
