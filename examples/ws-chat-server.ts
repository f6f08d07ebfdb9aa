// The classic WebSocket chat server: whatever one client says, every client receives, with the speaker's name.
// Built on switchboard's own engine; each message is framed once and the same bytes go to every connection.
import { type PreparedMessage, prepareMessage, WebSocketServer } from '../src/websocket/index.js'
import { formatHostPort, readCommandLine, readPort } from './command-line.js'

const usage = `usage: node dist/examples/ws-chat-server.js [--port 8080] [--host 127.0.0.1]

A chat room on ws://HOST:PORT/ (any path): each text message is sent to every client as "guest-1: text",
arrivals and departures as "* guest-1 joined" and "* guest-1 left". --port 0 picks a free port.
Stops on Ctrl-C (SIGINT) or SIGTERM, closing every connection with 1001 (going away).`

const { values } = readCommandLine(usage, {
  port: '8080',
  host: '127.0.0.1',
})
const port = readPort(usage, values.port)

const chat = new WebSocketServer()
let guests = 0

/** Sends `message` to every open connection, the sender's included, so everyone sees one order. */
function broadcast(message: PreparedMessage): void {
  // A client that stops reading is cut off (close 1008) once its backlog passes maxBufferedBytes,
  // so one slow reader never holds the others back or fills our memory.
  for (const client of chat.clients) client.sendPrepared(message)
}

/** Says `text` to everyone and shows it here too. */
function announce(text: string): void {
  console.log(text)
  broadcast(prepareMessage(text))
}

chat.on('connection', (connection, request) => {
  const name = `guest-${++guests}`
  console.log(`${name} connected from ${request.socket.remoteAddress}`)
  announce(`* ${name} joined`)
  connection.on('message', (data, isBinary) => {
    // Bytes cannot carry a name in front of them, so they are passed on unchanged.
    if (isBinary) broadcast(prepareMessage(data))
    else announce(`${name}: ${data.toString()}`)
  })
  connection.on('close', (code) => announce(`* ${name} left (close code ${code})`))
})

try {
  const address = await chat.listen(port, values.host)
  console.log(`listening ws://${formatHostPort(address.address, address.port)}/`)
} catch (error) {
  console.error(
    `cannot listen on ${formatHostPort(values.host, port)}: ${error instanceof Error ? error.message : error}`,
  )
  process.exitCode = 1
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    console.log('stopping')
    await chat.close()
    console.log('stopped')
  })
}
