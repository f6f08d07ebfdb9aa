// The `ws` fan-out servers bench/fanout.ts measures ours against. Each text message a client sends goes to
// every other client, and its sender gets a one-byte ack, so the load generator keeps K publishes in flight
// the way it does against ours. Usage: node dist/bench/fanout-peers/ws-fanout.js [--frame-once]
//   default       the usual loop: `client.send(data)` for every other open client (ws frames each copy)
//   --frame-once  frames the message once with `WebSocket.Sender.frame` and writes that same Buffer to every
//                 client's socket (the ~134k figure of issue #4)
import { type AddressInfo, Socket } from 'node:net'
import * as wsModule from 'ws'
import WebSocket, { WebSocketServer } from 'ws'

/** The options `Sender.frame` takes for an unmasked, uncompressed, final text frame. */
interface FrameOptions {
  readOnly: boolean
  mask: boolean
  rsv1: boolean
  opcode: number
  fin: boolean
}

const textFrame: FrameOptions = { readOnly: false, mask: false, rsv1: false, opcode: 0x1, fin: true }
const binaryFrame: FrameOptions = { ...textFrame, opcode: 0x2 }

/** ws's own framing function, which @types/ws does not declare; narrowed so a ws that drops it fails loudly. */
function senderFrame(): (data: Buffer, binary: boolean) => Buffer {
  // A named export of ws's ESM entry (the default export, the WebSocket class, lacks it there).
  const sender: unknown = Reflect.get(wsModule, 'Sender')
  const frame: unknown = typeof sender === 'function' ? Reflect.get(sender, 'frame') : undefined
  if (typeof frame !== 'function') throw new TypeError('ws no longer exports Sender.frame')
  return (data, binary) => {
    const chunks: unknown = frame.call(sender, data, binary ? binaryFrame : textFrame)
    if (!Array.isArray(chunks) || !chunks.every((chunk) => Buffer.isBuffer(chunk)))
      throw new TypeError('Sender.frame returned something other than Buffers')
    return Buffer.concat(chunks)
  }
}

/** A received message as one Buffer, whatever `binaryType` delivered. */
function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
}

/** The TCP socket under a ws connection (`client._socket`, not in @types/ws). */
function rawSocketOf(client: WebSocket): Socket {
  const socket: unknown = Reflect.get(client, '_socket')
  if (!(socket instanceof Socket)) throw new TypeError('a ws connection without its _socket')
  return socket
}

const ack = Buffer.from('k')
const frameOnce = process.argv.includes('--frame-once')
const frame = frameOnce ? senderFrame() : null
// Only for --frame-once: each client's socket, looked up once at connection time rather than per delivery.
const sockets = new Map<WebSocket, Socket>()
const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })

server.on('connection', (client) => {
  if (frame !== null) {
    sockets.set(client, rawSocketOf(client))
    client.on('close', () => sockets.delete(client))
  }
  client.on('message', (data, isBinary) => {
    if (frame === null) {
      // The broadcast of ws's README: "to all connected WebSocket clients, excluding itself".
      server.clients.forEach((other) => {
        if (other !== client && other.readyState === WebSocket.OPEN) other.send(data, { binary: isBinary })
      })
    } else {
      const bytes = frame(toBuffer(data), isBinary)
      for (const [other, socket] of sockets) {
        if (other !== client && other.readyState === WebSocket.OPEN) socket.write(bytes)
      }
    }
    client.send(ack)
  })
  client.on('error', () => {
    // The load generator resets its connections when it exits; nothing to report.
  })
})

server.on('listening', () => {
  const { port } = server.address() as AddressInfo
  console.log(`listening ws://127.0.0.1:${port}/`)
})
