// The receiving half of a connection: frames from the decoder become whole messages, inflated in order
// (RFC 7692 §6.2) while pings and pongs go ahead of a message waiting for zlib.
import { isUtf8 } from 'node:buffer'
import { CloseCode } from './codec/close-code.js'
import { type Frame, Opcode } from './codec/frame.js'
import { FrameDecoder, type FrameDecoderOptions } from './codec/frame-decoder.js'
import { WebSocketProtocolError } from './codec/protocol-error.js'
import { Utf8Validator } from './codec/utf8.js'
import type { MessageInflater } from './inflate.js'
import { toBuffer } from './send-queue.js'

/** What the owning connection does with what arrives; one shared object, so no closures per connection. */
export interface InboundHandler<T> {
  onMessage(owner: T, data: Buffer, binary: boolean): void
  onPing(owner: T, payload: Uint8Array): void
  onPong(owner: T, payload: Uint8Array): void
  onClose(owner: T, payload: Uint8Array): void
  onFailure(owner: T, error: WebSocketProtocolError): void
  /** Stops (false) or restarts (true) reading from the socket while a message is inflated. */
  setReading(owner: T, reading: boolean): void
}

/** Assembles messages from frames, one connection's worth. */
export class Inbound<T> {
  readonly #decoder: FrameDecoder
  readonly #inflater: MessageInflater | null
  readonly #maxPayloadBytes: number
  readonly #owner: T
  readonly #handler: InboundHandler<T>
  #fragments: Uint8Array[] | null = null
  #binary = false
  #compressed = false
  #inflating = false
  #deferred: Frame[] | null = null
  #deferredFailure: WebSocketProtocolError | null = null
  #stopped = false

  constructor(
    owner: T,
    handler: InboundHandler<T>,
    decoder: FrameDecoderOptions,
    inflater: MessageInflater | null,
  ) {
    this.#owner = owner
    this.#handler = handler
    this.#decoder = new FrameDecoder(decoder)
    this.#inflater = inflater
    this.#maxPayloadBytes = decoder.maxPayloadBytes
  }

  /** True while a compressed message is with zlib. */
  get inflating(): boolean {
    return this.#inflating
  }

  /** Feeds bytes from the socket. */
  push(chunk: Uint8Array): void {
    if (this.#stopped) return
    const frames = this.#decoder.push(chunk)
    if (frames instanceof WebSocketProtocolError) return this.#handler.onFailure(this.#owner, frames)
    for (let i = 0; i < frames.length && !this.#stopped; i++) this.#onFrame(frames[i])
    const failure = this.#decoder.failure
    if (failure && !this.#stopped) {
      // Messages that arrived before the violation are delivered first: nothing accepted is lost.
      if (this.#inflating) this.#deferredFailure = failure
      else this.#handler.onFailure(this.#owner, failure)
    }
  }

  /** Ignores everything from now on (after a close frame, or a failure). */
  stop(): void {
    this.#stopped = true
  }

  /** Frees zlib. */
  close(): void {
    this.#stopped = true
    this.#inflater?.close()
  }

  #onFrame(frame: Frame): void {
    if (this.#inflating && frame.opcode !== Opcode.Ping && frame.opcode !== Opcode.Pong) {
      this.#deferred ??= []
      this.#deferred.push(frame)
      return
    }
    switch (frame.opcode) {
      case Opcode.Ping:
        return this.#handler.onPing(this.#owner, frame.payload)
      case Opcode.Pong:
        return this.#handler.onPong(this.#owner, frame.payload)
      case Opcode.Close:
        return this.#handler.onClose(this.#owner, frame.payload)
      default:
        return this.#onDataFrame(frame)
    }
  }

  #onDataFrame(frame: Frame): void {
    if (frame.opcode !== Opcode.Continuation) {
      this.#binary = frame.opcode === Opcode.Binary
      this.#compressed = frame.rsv1
      // The common case: one frame, not compressed, delivered as a view of the bytes read.
      if (frame.fin && !frame.rsv1)
        return this.#handler.onMessage(this.#owner, toBuffer(frame.payload), this.#binary)
    }
    this.#fragments ??= []
    const fragments = this.#fragments
    fragments.push(frame.payload)
    if (!frame.fin) return
    this.#fragments = null
    if (this.#compressed) return this.#inflate(fragments, this.#binary)
    this.#handler.onMessage(
      this.#owner,
      fragments.length === 1 ? toBuffer(fragments[0]) : Buffer.concat(fragments),
      this.#binary,
    )
  }

  #inflate(fragments: Uint8Array[], binary: boolean): void {
    this.#inflating = true
    this.#handler.setReading(this.#owner, false)
    const utf8 = binary ? null : new Utf8Validator(isUtf8)
    this.#inflater!.inflate(fragments, this.#maxPayloadBytes, utf8).then((result) => {
      this.#inflating = false
      if (this.#stopped) return
      if (result instanceof WebSocketProtocolError) return this.#handler.onFailure(this.#owner, result)
      if (utf8 && !utf8.end()) {
        const detail = 'a compressed text message ends inside a UTF-8 sequence'
        return this.#handler.onFailure(
          this.#owner,
          new WebSocketProtocolError('ws-invalid-utf8', CloseCode.InvalidPayload, detail),
        )
      }
      this.#handler.onMessage(this.#owner, result, binary)
      this.#replayDeferred()
    })
  }

  #replayDeferred(): void {
    const frames = this.#deferred ?? []
    this.#deferred = null
    for (let i = 0; i < frames.length; i++) {
      if (this.#stopped) return
      this.#onFrame(frames[i])
      if (this.#inflating) {
        this.#deferred = frames.slice(i + 1)
        return
      }
    }
    if (this.#deferredFailure) return this.#handler.onFailure(this.#owner, this.#deferredFailure)
    if (!this.#stopped) this.#handler.setReading(this.#owner, true)
  }
}
