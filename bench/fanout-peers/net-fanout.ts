// The floor of the fan-out benchmark: Node's `net` with 4-byte big-endian length prefixes and no WebSocket.
// A connection that sends a frame is a publisher: the frame, bytes unchanged, is written once to every other
// connection (one write per delivery), and the publisher gets a 1-byte frame back as its ack. An empty frame
// greets each connection, so the load generator knows it was accepted (as a WebSocket client knows by its 101).
// Usage: node dist/bench/fanout-peers/net-fanout.js
import { type AddressInfo, createServer, type Socket } from 'node:net'

const headerBytes = 4
const hello = Buffer.alloc(headerBytes) // an empty frame
const ack = Buffer.from([0, 0, 0, 1, 0x6b]) // a 1-byte frame, "k"
const subscribers = new Set<Socket>()

function broadcast(from: Socket, frame: Buffer): void {
  for (const socket of subscribers) socket.write(frame)
  from.write(ack)
}

/** Reassembles each length-prefixed frame a publisher sends and relays it. */
function onConnection(socket: Socket): void {
  subscribers.add(socket)
  socket.write(hello)
  let pending: Buffer[] = []
  let pendingBytes = 0
  socket.on('data', (chunk: Buffer) => {
    // Publishers receive acks, not their own messages.
    subscribers.delete(socket)
    pending.push(chunk)
    pendingBytes += chunk.length
    while (pendingBytes >= headerBytes) {
      const head = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes)
      const frameBytes = headerBytes + head.readUInt32BE(0)
      if (pendingBytes < frameBytes) {
        pending = [head]
        break
      }
      broadcast(socket, head.subarray(0, frameBytes))
      const rest = head.subarray(frameBytes)
      pending = rest.length > 0 ? [rest] : []
      pendingBytes = rest.length
    }
  })
  socket.on('close', () => subscribers.delete(socket))
  socket.on('error', () => {
    // The load generator resets its connections when it exits; nothing to report.
  })
}

// noDelay: like Node's HTTP server (and so ws and ours), so nobody waits on Nagle.
const server = createServer({ noDelay: true }, onConnection)
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  console.log(`listening tcp://127.0.0.1:${port}/`)
})
