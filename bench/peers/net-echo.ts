// The floor of the echo benchmark: Node's `net` with 4-byte big-endian length prefixes and no WebSocket,
// so the gap between this and a WebSocket server is what the protocol layer costs.
// Usage: node dist/bench/peers/net-echo.js
import { createServer, type AddressInfo, type Socket } from 'node:net'

const headerBytes = 4

/** Reassembles each length-prefixed frame, as a WebSocket server reassembles a message, and writes it back. */
function echoFrames(socket: Socket): void {
  let pending: Buffer[] = []
  let pendingBytes = 0
  socket.on('data', (chunk: Buffer) => {
    pending.push(chunk)
    pendingBytes += chunk.length
    while (pendingBytes >= headerBytes) {
      const head = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes)
      const frameBytes = headerBytes + head.readUInt32BE(0)
      if (pendingBytes < frameBytes) {
        pending = [head]
        break
      }
      socket.write(head.subarray(0, frameBytes))
      const rest = head.subarray(frameBytes)
      pending = rest.length > 0 ? [rest] : []
      pendingBytes = rest.length
    }
  })
  socket.on('error', () => {
    // The load generator resets its connections when it exits; nothing to report.
  })
}

// noDelay: like Node's HTTP server (and so ws), so neither side waits on Nagle.
const server = createServer({ noDelay: true }, echoFrames)
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  console.log(`listening tcp://127.0.0.1:${port}/`)
})
