// The npm `socket.io` server that bench/socketio.ts measures ours against: `Server` with its defaults on a
// node:http server. Its twin, ours-sio.ts, does the same with our `SocketIOServer`, line for line.
// Usage: node dist/bench/sio-peers/socketio-sio.js
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server } from 'socket.io'

const http = createServer()
const io = new Server(http)

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
