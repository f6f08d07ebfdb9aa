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

/** What the owning connection does when sending fails or drains; one shared object, no closures. */
export interface OutboundHandler<T> {
  onFailure(owner: T, error: WebSocketProtocolError): void
  onDrain(owner: T): void
}

/** Ordered, bounded sending on top of a `SendQueue`. */
export class Outbound<T> {
  readonly #owner: T
  readonly #handler: OutboundHandler<T>
  readonly #queue: SendQueue
  readonly #deflate: OutboundDeflate | null
  readonly #settings: ConnectionSettings
  // Created only when a message first has to wait for zlib.
  #chain: Promise<void> | null = null
  #pending = 0
  #pendingBytes = 0
  #needDrain = false
  #stopped = false

  constructor(
    owner: T,
    handler: OutboundHandler<T>,
    queue: SendQueue,
    deflate: OutboundDeflate | null,
    settings: ConnectionSettings,
  ) {
    this.#owner = owner
    this.#handler = handler
    this.#queue = queue
    this.#deflate = deflate
    this.#settings = settings
  }

  /** The socket drained: hand it what we held back, and signal `drain` if the buffer fell low. */
  onSocketDrain(): void {
    this.#queue.flush()
    this.checkDrain()
  }

  /** Bytes accepted and not yet handed to the kernel, including messages still being compressed. */
  get bufferedAmount(): number {
    return this.#queue.bufferedAmount + this.#pendingBytes
  }

  /** Whether what is buffered is under the high-water mark: `send` would answer true. */
  get belowHighWater(): boolean {
    return this.bufferedAmount < this.#settings.highWaterMarkBytes
  }

  /** Sends one frame of a message; false once past the high-water mark. */
  send(payload: Uint8Array, opcode: number, fin: boolean, mayCompress: boolean): boolean {
    const deflater = this.#deflaterFor(payload.length, opcode, fin, mayCompress)
    if (deflater) this.#compressInOrder(deflater, payload, opcode)
    else if (this.#pending > 0)
      this.#inOrder(payload.length, () => this.#queue.writeFrame(fin, false, opcode, payload))
    else this.#queue.writeFrame(fin, false, opcode, payload)
    // 14 bytes: the largest frame header, so what was buffered before is never overestimated.
    return this.#afterSend(payload.length + 14)
  }

  /** Sends one frame of a text message given as a string; the same as `send` with its UTF-8 bytes. */
  sendText(text: string, opcode: number, fin: boolean, mayCompress: boolean): boolean {
    const byteLength = Buffer.byteLength(text)
    if (this.#deflaterFor(byteLength, opcode, fin, mayCompress) || this.#pending > 0)
      return this.send(Buffer.from(text), opcode, fin, mayCompress)
    this.#queue.writeText(fin, opcode, text, byteLength)
    return this.#afterSend(byteLength + 14)
  }

  // The deflater when this frame is to be compressed. Fragmented messages go uncompressed, which RFC 7692 §6
  // allows per message, and so do those under the threshold.
  #deflaterFor(
    byteLength: number,
    opcode: number,
    fin: boolean,
    mayCompress: boolean,
  ): MessageDeflater | null {
    const deflate = this.#deflate
    if (deflate === null || !mayCompress || !fin || opcode === Opcode.Continuation) return null
    return byteLength >= deflate.thresholdBytes ? deflate.deflater : null
  }

  /** Sends bytes that already form a whole frame (a prepared broadcast message). */
  sendEncoded(chunks: readonly Buffer[], byteLength: number): boolean {
    if (this.#pending > 0) this.#inOrder(byteLength, () => this.#queue.writeEncoded(chunks))
    else this.#queue.writeEncoded(chunks)
    return this.#afterSend(byteLength)
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

  /**
   * Writes what this turn queued now (`SendQueue.flushAlone`). While a message waits for zlib nothing is
   * written early: the queue keeps the order, and the messages leave as they are compressed.
   */
  flushAlone(): void {
    if (this.#pending === 0) this.#queue.flushAlone()
  }

  /** Ends TCP once the queue is written (the server closes first, RFC 6455 §7.1.1). */
  endWhenFlushed(): void {
    if (this.#pending > 0) this.#then(() => this.#queue.endWhenFlushed())
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
      this.#handler.onDrain(this.#owner)
    }
  }

  #compressInOrder(deflater: MessageDeflater, payload: Uint8Array, opcode: number): void {
    this.#pending++
    this.#pendingBytes += payload.length
    this.#then(async () => {
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
        const error = new WebSocketProtocolError(
          'ws-deflate-failed',
          CloseCode.InternalError,
          String(failure),
        )
        return this.#handler.onFailure(this.#owner, error)
      }
      this.#queue.writeFrame(true, true, opcode, compressed)
      this.checkDrain()
    })
  }

  #then(step: () => void | Promise<void>): void {
    this.#chain = (this.#chain ?? Promise.resolve()).then(step)
  }

  #inOrder(bytes: number, write: () => void): void {
    this.#pending++
    this.#pendingBytes += bytes
    this.#then(() => {
      this.#pending--
      this.#pendingBytes -= bytes
      if (!this.#stopped) write()
    })
  }

  // A single message larger than the limit is let through; a backlog that grows past it is not. What was
  // buffered before is worked out from the bytes just added: one read of bufferedAmount per send (bench: fan-out).
  #afterSend(addedBytes: number): boolean {
    const buffered = this.bufferedAmount
    if (buffered > this.#settings.maxBufferedBytes && buffered - addedBytes > 0) {
      const error = new WebSocketProtocolError(
        'ws-send-queue-full',
        CloseCode.PolicyViolation,
        'send queue full',
      )
      this.#handler.onFailure(this.#owner, error)
      return false
    }
    if (buffered < this.#settings.highWaterMarkBytes) return true
    this.#needDrain = true
    return false
  }
}
