// The classic TCP server of a socket tutorial: it listens on port 9090 and answers every line in upper case.
// `switchboard echo --tcp 9090` does the same; this is the whole of it with node:net. Try it with `nc 127.0.0.1 9090`.
import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { createInterface } from 'node:readline'
import { formatHostPort, readCommandLine, readPort } from './command-line.js'

const usage = `usage: node dist/examples/tcp-upper-server.js [--port 9090] [--host 127.0.0.1]

Answers every line a client sends with the same line in upper case; --port 0 picks a free port.
Stops on Ctrl-C (SIGINT) or SIGTERM.`

const { values } = readCommandLine(usage, {
  port: '9090',
  host: '127.0.0.1',
})
const port = readPort(usage, values.port)

const sockets = new Set<Socket>()

// allowHalfOpen: a client that has sent its last line and shut down its side (`nc -N`, our client) still
// gets its answers; we end our side once its lines are answered.
const server = createServer({ allowHalfOpen: true }, (socket) => {
  const peer = formatHostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0)
  console.log(`${peer} connected`)
  sockets.add(socket)
  // readline splits the byte stream into lines (TCP keeps no message boundaries) and decodes UTF-8 across chunks.
  const lines = createInterface({ input: socket, crlfDelay: Number.POSITIVE_INFINITY })
  lines.on('line', (line) => {
    const answer = line.toUpperCase()
    console.log(`${peer} said ${JSON.stringify(line)}, answering ${JSON.stringify(answer)}`)
    socket.write(`${answer}\n`)
  })
  lines.on('close', () => socket.end())
  // A client that vanishes mid-write (a reset) is an ordinary event for a server, not a crash. readline passes
  // the socket's errors on to the interface, so that is where they are caught.
  lines.on('error', (error) => console.log(`${peer} error: ${error.message}`))
  socket.on('close', () => {
    sockets.delete(socket)
    console.log(`${peer} disconnected`)
  })
})

server.on('error', (error) => {
  console.error(`cannot listen on ${formatHostPort(values.host, port)}: ${error.message}`)
  process.exitCode = 1
})

server.listen(port, values.host, () => {
  const address = server.address()
  if (address !== null && typeof address === 'object') {
    console.log(`listening tcp://${formatHostPort(address.address, address.port)}`)
  }
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    console.log('stopping')
    // Stop accepting, then say goodbye to every client (a TCP FIN) and wait for them to go.
    server.close()
    const closed = [...sockets].map((socket) => once(socket, 'close'))
    for (const socket of sockets) {
      socket.end()
      // A client that never closes its side (plain `nc` waits for its input) does not keep us running.
      setTimeout(() => socket.destroy(), 1000).unref()
    }
    await Promise.all(closed)
    console.log('stopped')
  })
}
