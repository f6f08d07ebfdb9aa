// The `ws` echo server that bench/run.ts measures ours against: the npm package in its plainest use.
// Usage: node dist/bench/peers/ws-echo.js [--deflate]
import type { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'

/**
 * Compression settings for `--deflate`: exactly ws's own defaults (what `perMessageDeflate: true`
 * gives), spelled out so the README can cite them. Replies under 1024 bytes go out uncompressed.
 */
export const wsDeflateOptions = { threshold: 1024 } as const

const deflate = process.argv.includes('--deflate')
const server = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: deflate ? wsDeflateOptions : false,
})

server.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
})

server.on('listening', () => {
  const { port } = server.address() as AddressInfo
  console.log(`listening ws://127.0.0.1:${port}/`)
})
