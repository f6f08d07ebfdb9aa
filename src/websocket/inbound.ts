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

/** What the connection does with what arrives. */
export interface InboundHandler {
  onMessage(data: Buffer, binary: boolean): void
  onPing(payload: Uint8Array): void
  onPong(payload: Uint8Array): void
  onClose(payload: Uint8Array): void
  onFailure(error: WebSocketProtocolError): void
  /** Stops (false) or restarts (true) reading from the socket while a message is inflated. */
  setReading(reading: boolean): void
}

/** Assembles messages from frames, one connection's worth. */
export class Inbound {
  readonly #decoder: FrameDecoder
  readonly #inflater: MessageInflater | null
  readonly #maxPayloadBytes: number
  readonly #handler: InboundHandler
  #fragments: Uint8Array[] = []
  #binary = false
  #compressed = false
  #inflating = false
  #deferred: Frame[] = []
  #deferredFailure: WebSocketProtocolError | null = null
  #stopped = false

  constructor(decoder: FrameDecoderOptions, inflater: MessageInflater | null, handler: InboundHandler) {
    this.#decoder = new FrameDecoder({ ...decoder, utf8Check: isUtf8 })
    this.#inflater = inflater
    this.#maxPayloadBytes = decoder.maxPayloadBytes
    this.#handler = handler
  }

  /** True while a compressed message is with zlib. */
  get inflating(): boolean {
    return this.#inflating
  }

  /** Feeds bytes from the socket. */
  push(chunk: Uint8Array): void {
    if (this.#stopped) return
    const frames = this.#decoder.push(chunk)
    if (frames instanceof WebSocketProtocolError) return this.#handler.onFailure(frames)
    for (let i = 0; i < frames.length && !this.#stopped; i++) this.#onFrame(frames[i])
    const failure = this.#decoder.failure
    if (failure && !this.#stopped) {
      // Messages that arrived before the violation are delivered first: nothing accepted is lost.
      if (this.#inflating) this.#deferredFailure = failure
      else this.#handler.onFailure(failure)
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
      this.#deferred.push(frame)
      return
    }
    switch (frame.opcode) {
      case Opcode.Ping:
        return this.#handler.onPing(frame.payload)
      case Opcode.Pong:
        return this.#handler.onPong(frame.payload)
      case Opcode.Close:
        return this.#handler.onClose(frame.payload)
      default:
        return this.#onDataFrame(frame)
    }
  }

  #onDataFrame(frame: Frame): void {
    if (frame.opcode !== Opcode.Continuation) {
      this.#binary = frame.opcode === Opcode.Binary
      this.#compressed = frame.rsv1
      // The common case: one frame, not compressed, delivered as a view of the bytes read.
      if (frame.fin && !frame.rsv1) return this.#handler.onMessage(toBuffer(frame.payload), this.#binary)
    }
    this.#fragments.push(frame.payload)
    if (!frame.fin) return
    const fragments = this.#fragments
    this.#fragments = []
    if (this.#compressed) return this.#inflate(fragments, this.#binary)
    this.#handler.onMessage(
      fragments.length === 1 ? toBuffer(fragments[0]) : Buffer.concat(fragments),
      this.#binary,
    )
  }

  #inflate(fragments: Uint8Array[], binary: boolean): void {
    this.#inflating = true
    this.#handler.setReading(false)
    const utf8 = binary ? null : new Utf8Validator(isUtf8)
    this.#inflater!.inflate(fragments, this.#maxPayloadBytes, utf8).then((result) => {
      this.#inflating = false
      if (this.#stopped) return
      if (result instanceof WebSocketProtocolError) return this.#handler.onFailure(result)
      if (utf8 && !utf8.end()) {
        const detail = 'a compressed text message ends inside a UTF-8 sequence'
        return this.#handler.onFailure(
          new WebSocketProtocolError('ws-invalid-utf8', CloseCode.InvalidPayload, detail),
        )
      }
      this.#handler.onMessage(result, binary)
      this.#replayDeferred()
    })
  }

  #replayDeferred(): void {
    const frames = this.#deferred
    this.#deferred = []
    for (let i = 0; i < frames.length; i++) {
      if (this.#stopped) return
      this.#onFrame(frames[i])
      if (this.#inflating) {
        this.#deferred = frames.slice(i + 1)
        return
      }
    }
    if (this.#deferredFailure) return this.#handler.onFailure(this.#deferredFailure)
    if (!this.#stopped) this.#handler.setReading(true)
  }
}
