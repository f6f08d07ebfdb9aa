// Our Socket.IO server as bench/socketio.ts measures it: `SocketIOServer` with its defaults on a node:http
// server. Its twin, socketio-sio.ts, does the same with the npm `socket.io` server, line for line.
// Usage: node dist/bench/sio-peers/ours-sio.js
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SocketIOServer } from '../../src/socketio/index.js'

const http = createServer()
const io = new SocketIOServer(http)

io.on('connection', (socket) => {
  socket.join('bench')
  // Echo: answers the ack when the client asked for one, else emits the event back.
  socket.on('echo', (data: unknown, ack?: unknown) => {
    if (typeof ack === 'function') ack(data)
    else socket.emit('echo', data)
  })
  // Broadcast: every other socket of the room gets the message; the short ack lets the load generator
  // keep K publishes in flight.
  socket.on('publish', (data: unknown, ack?: unknown) => {
    socket.broadcast.to('bench').emit('message', data)
    if (typeof ack === 'function') ack('k')
  })
})

http.listen(0, '127.0.0.1', () => {
  const { port } = http.address() as AddressInfo
  console.log(`listening ws://127.0.0.1:${port}/`)
})
