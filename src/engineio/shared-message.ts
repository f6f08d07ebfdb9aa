// A message sent to many sessions (a broadcast): framed for WebSocket once, on first use, and the same bytes
// written to every session on that transport, instead of each session encoding and framing its own copy.
import { prepareMessage, type PreparedMessage } from '../websocket/prepared-message.js'
import { encodePacket, type Packet, PacketType } from './codec/packet.js'

export class SharedMessage {
  /** What `EngineSession.send` would take: a string as text, bytes as binary. */
  readonly data: string | Uint8Array
  /** The message packet carrying the data, for sessions still on polling. */
  readonly packet: Packet
  #frame: PreparedMessage | undefined

  constructor(data: string | Uint8Array) {
    this.data = data
    // The same object either way; the two branches let TypeScript see which kind of packet it is.
    this.packet =
      typeof data === 'string' ? { type: PacketType.Message, data } : { type: PacketType.Message, data }
  }

  /** The WebSocket frame of the message packet. */
  get frame(): PreparedMessage {
    this.#frame ??= prepareMessage(encodePacket(this.packet))
    return this.#frame
  }
}
