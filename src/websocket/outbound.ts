// The sending half of a connection: compression decisions, keeping messages in order while some wait for
// zlib, `bufferedAmount`, the `drain` signal, and the policy for a peer that stops reading.
import { CloseCode } from './codec/close-code.js'
import { Opcode } from './codec/frame.js'
import { WebSocketProtocolError } from './codec/protocol-error.js'
import type { MessageDeflater } from './inflate.js'
import type { ConnectionSettings } from './options.js'
import type { SendQueue } from './send-queue.js'

/** How outbound messages are compressed, if at all. */
export interface OutboundDeflate {
  deflater: MessageDeflater
  thresholdBytes: number
}

/** Ordered, bounded sending on top of a `SendQueue`. */
export class Outbound {
  readonly #queue: SendQueue
  readonly #deflate: OutboundDeflate | null
  readonly #settings: ConnectionSettings
  readonly #onFailure: (error: WebSocketProtocolError) => void
  #chain: Promise<void> = Promise.resolve()
  #pending = 0
  #pendingBytes = 0
  #needDrain = false
  #stopped = false
  /** Emits the connection's `drain` event. */
  onDrain: () => void = () => {}

  constructor(
    queue: SendQueue,
    deflate: OutboundDeflate | null,
    settings: ConnectionSettings,
    onFailure: (error: WebSocketProtocolError) => void,
  ) {
    this.#queue = queue
    this.#deflate = deflate
    this.#settings = settings
    this.#onFailure = onFailure
    queue.onFlushed = () => this.checkDrain()
  }

  /** Bytes accepted and not yet handed to the kernel, including messages still being compressed. */
  get bufferedAmount(): number {
    return this.#queue.bufferedAmount + this.#pendingBytes
  }

  /** Sends one frame of a message; false once past the high-water mark. */
  send(payload: Uint8Array, opcode: number, fin: boolean, mayCompress: boolean): boolean {
    const before = this.bufferedAmount
    const deflate = this.#deflate
    // Fragmented messages go uncompressed, which RFC 7692 §6 allows per message.
    const compress =
      deflate !== null &&
      mayCompress &&
      fin &&
      opcode !== Opcode.Continuation &&
      payload.length >= deflate.thresholdBytes
    if (compress) this.#compressInOrder(deflate.deflater, payload, opcode)
    else if (this.#pending > 0)
      this.#inOrder(payload.length, () => this.#queue.writeFrame(fin, false, opcode, payload))
    else this.#queue.writeFrame(fin, false, opcode, payload)
    return this.#afterSend(before)
  }

  /** Sends bytes that already form a whole frame (a prepared broadcast message). */
  sendEncoded(chunks: readonly Buffer[], byteLength: number): boolean {
    const before = this.bufferedAmount
    if (this.#pending > 0) this.#inOrder(byteLength, () => this.#queue.writeEncoded(chunks))
    else this.#queue.writeEncoded(chunks)
    return this.#afterSend(before)
  }

  /**
   * Sends the close frame: after everything queued, or `immediately` ahead of it (when failing, and the
   * queue is discarded anyway).
   */
  sendClose(body: Uint8Array, immediately: boolean): void {
    if (immediately) {
      this.#queue.discard()
      return this.#queue.writeControl(Opcode.Close, body)
    }
    const write = () => this.#queue.writeFrame(true, false, Opcode.Close, body)
    if (this.#pending > 0) this.#inOrder(body.length, write)
    else write()
  }

  /** Sends a ping or pong at once, ahead of queued data. */
  sendControl(opcode: number, payload: Uint8Array): void {
    this.#queue.writeControl(opcode, payload)
  }

  /** Ends TCP once the queue is written (the server closes first, RFC 6455 §7.1.1). */
  endWhenFlushed(): void {
    if (this.#pending > 0) this.#chain = this.#chain.then(() => this.#queue.endWhenFlushed())
    else this.#queue.endWhenFlushed()
  }

  /** Drops what is queued and frees zlib; nothing more is written. */
  stop(): void {
    this.#stopped = true
    this.#queue.discard()
    this.#deflate?.deflater.close()
  }

  /** Emits `drain` when a full buffer has fallen back below the high-water mark. */
  checkDrain(): void {
    if (this.#needDrain && !this.#stopped && this.bufferedAmount < this.#settings.highWaterMarkBytes) {
      this.#needDrain = false
      this.onDrain()
    }
  }

  #compressInOrder(deflater: MessageDeflater, payload: Uint8Array, opcode: number): void {
    this.#pending++
    this.#pendingBytes += payload.length
    this.#chain = this.#chain.then(async () => {
      let compressed: Buffer | null = null
      let failure: unknown = null
      try {
        compressed = await deflater.deflate(payload)
      } catch (error) {
        failure = error
      }
      this.#pending--
      this.#pendingBytes -= payload.length
      if (this.#stopped) return
      if (compressed === null) {
        return this.#onFailure(
          new WebSocketProtocolError('ws-deflate-failed', CloseCode.InternalError, String(failure)),
        )
      }
      this.#queue.writeFrame(true, true, opcode, compressed)
      this.checkDrain()
    })
  }

  #inOrder(bytes: number, write: () => void): void {
    this.#pending++
    this.#pendingBytes += bytes
    this.#chain = this.#chain.then(() => {
      this.#pending--
      this.#pendingBytes -= bytes
      if (!this.#stopped) write()
    })
  }

  // A single message larger than the limit is let through; a backlog that grows past it is not.
  #afterSend(bufferedBefore: number): boolean {
    const buffered = this.bufferedAmount
    if (bufferedBefore > 0 && buffered > this.#settings.maxBufferedBytes) {
      this.#onFailure(
        new WebSocketProtocolError('ws-send-queue-full', CloseCode.PolicyViolation, 'send queue full'),
      )
      return false
    }
    if (buffered < this.#settings.highWaterMarkBytes) return true
    this.#needDrain = true
    return false
  }
}
