// A message framed once and written as the same bytes to many connections (the broadcast path).
import { frameHeaderBytes, Opcode, writeFrameHeader } from './codec/frame.js'

/** An unmasked, uncompressed frame ready to write to any number of server-side connections. */
export interface PreparedMessage {
  /** One buffer (header and payload) for small messages, or header then payload for large ones. */
  readonly chunks: readonly Buffer[]
  readonly payload: Buffer
  readonly binary: boolean
  readonly byteLength: number
}

// Past this size the payload is not copied next to its header; the two are written together with writev.
const joinBelowBytes = 16 * 1024

/** Frames `data` once for `sendPrepared`; strings are sent as text unless `binary` says otherwise. */
export function prepareMessage(
  data: string | Uint8Array,
  options: { binary?: boolean } = {},
): PreparedMessage {
  const payload =
    typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const binary = options.binary ?? typeof data !== 'string'
  const opcode = binary ? Opcode.Binary : Opcode.Text
  const headerBytes = frameHeaderBytes(payload.length, false)
  if (payload.length < joinBelowBytes) {
    const frame = Buffer.allocUnsafe(headerBytes + payload.length)
    const start = writeFrameHeader(frame, 0, true, false, opcode, payload.length)
    frame.set(payload, start)
    return { chunks: [frame], payload, binary, byteLength: frame.length }
  }
  const header = Buffer.allocUnsafe(headerBytes)
  writeFrameHeader(header, 0, true, false, opcode, payload.length)
  return { chunks: [header, payload], payload, binary, byteLength: headerBytes + payload.length }
}
