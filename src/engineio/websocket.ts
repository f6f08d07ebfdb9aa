// The WebSocket transport of one session (Engine.IO protocol v4 §WebSocket): one packet per message, text
// packets as text messages, binary messages as bare bytes, on top of our RFC 6455 engine.
import { CloseCode } from '../websocket/codec/close-code.js'
import type { WebSocketConnection } from '../websocket/connection.js'
import type { SharedMessage } from './shared-message.js'
import { decodePacket, encodePacket, type Packet } from './codec/packet.js'
import { EngineIOProtocolError } from './codec/protocol-error.js'
import type { EngineCloseReason } from './session-types.js'

/** What the transport tells its session. */
export interface WebSocketHandler {
  onPacket(packet: Packet): void
  /** A message that is no Engine.IO packet arrived; the session must close. */
  onFailure(error: EngineIOProtocolError): void
  /** The connection closed: by the peer (`transport close`) or because it broke the WebSocket rules. */
  onClose(reason: 'transport close' | 'transport error'): void
}

// The close code each reason of ours goes out with; the client reacts to the closing, not to the code.
const closeCodes = {
  'forced close': CloseCode.Normal,
  'server shutting down': CloseCode.GoingAway,
  'parse error': CloseCode.ProtocolError,
  'ping timeout': CloseCode.PolicyViolation,
  'transport close': CloseCode.Normal,
  'transport error': CloseCode.Normal,
} as const satisfies Record<EngineCloseReason, number>

// Close codes our engine reports when the peer broke the WebSocket rules, a message was too big among them.
const violations: ReadonlySet<number> = new Set([
  CloseCode.ProtocolError,
  CloseCode.InvalidPayload,
  CloseCode.PolicyViolation,
  CloseCode.MessageTooBig,
])

/** The WebSocket side of a session. */
export class WebSocketTransport {
  readonly name = 'websocket'
  readonly #connection: WebSocketConnection
  readonly #handler: WebSocketHandler

  constructor(connection: WebSocketConnection, handler: WebSocketHandler) {
    this.#connection = connection
    this.#handler = handler
    connection.on('message', this.#onMessage)
    connection.on('close', this.#onClose)
  }

  /** Whether a packet sent now would go out without waiting behind a full buffer. */
  get writable(): boolean {
    return this.#connection.writable
  }

  /** Sends one packet as one message. */
  send(packet: Packet): void {
    const wire = encodePacket(packet)
    this.#connection.send(wire, { binary: typeof wire !== 'string' })
  }

  /**
   * Sends a message framed once for many sessions, unless this connection negotiated permessage-deflate: then
   * it is framed and compressed for this connection alone, as any other message.
   */
  sendShared(message: SharedMessage): void {
    if (this.#connection.extensions !== '') this.send(message.packet)
    else this.#connection.sendPrepared(message.frame)
  }

  /** Writes what this turn sent so far now. */
  flush(): void {
    this.#connection.flush()
  }

  /** Stops listening and closes the connection after whatever is queued on it. */
  close(reason: EngineCloseReason): void {
    this.#connection.off('message', this.#onMessage)
    this.#connection.off('close', this.#onClose)
    if (this.#connection.state === 'open') this.#connection.close(closeCodes[reason], reason)
  }

  readonly #onMessage = (data: Buffer, isBinary: boolean): void => {
    // Our engine has checked that text messages are UTF-8 already.
    const packet = decodePacket(isBinary ? data : data.toString('utf8'))
    if (packet instanceof EngineIOProtocolError) return this.#handler.onFailure(packet)
    this.#handler.onPacket(packet)
  }

  readonly #onClose = (code: number): void => {
    this.#connection.off('message', this.#onMessage)
    this.#handler.onClose(violations.has(code) ? 'transport error' : 'transport close')
  }
}
