// The receiving half of the classic UDP pair: binds a port and prints every datagram with the address and port
// it came from. UDP has no connections: each datagram stands alone, and nothing tells a sender it arrived.
import { createSocket } from 'node:dgram'
import { formatHostPort, readCommandLine, readInteger, readPort } from './command-line.js'

const usage = `usage: node dist/examples/udp-receiver.js [--port 9090] [--host 127.0.0.1] [--count N]

Prints each datagram that arrives, with its sender; --port 0 picks a free port. Stops after --count
datagrams, or on Ctrl-C (SIGINT) or SIGTERM.`

const { values } = readCommandLine(usage, {
  port: '9090',
  host: '127.0.0.1',
  count: undefined,
})
const port = readPort(usage, values.port)
const count =
  values.count === undefined ? null : readInteger(usage, 'count', values.count, 1, Number.MAX_SAFE_INTEGER)
let received = 0
let open = true

const socket = createSocket(values.host.includes(':') ? 'udp6' : 'udp4')

socket.on('message', (data, from) => {
  // JSON.stringify shows the text exactly, a trailing newline or a control character included, on one safe line.
  const text = JSON.stringify(data.toString())
  console.log(`${formatHostPort(from.address, from.port)} sent ${data.length} bytes: ${text}`)
  if (++received === count) stop()
})

socket.on('error', (error) => {
  console.error(`cannot receive on ${formatHostPort(values.host, port)}: ${error.message}`)
  process.exitCode = 1
  close()
})

socket.bind(port, values.host, () => {
  const address = socket.address()
  console.log(`listening udp://${formatHostPort(address.address, address.port)}`)
})

process.once('SIGINT', stop)
process.once('SIGTERM', stop)

function stop(): void {
  if (open) console.log(`stopping after ${received} datagrams`)
  close()
}

// Closing twice throws, and a count reached and a Ctrl-C can both ask.
function close(): void {
  if (!open) return
  open = false
  socket.close()
}
