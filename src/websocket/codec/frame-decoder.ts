// Turns bytes from the wire into frames, enforcing every framing rule of RFC 6455 §5.1–5.6 and the
// RSV1 rule of RFC 7692 §6. Pure and synchronous: bytes in, frames or a protocol error out.
import { CloseCode, parseCloseBody } from './close-code.js'
import { type Frame, isControlOpcode, maxControlPayloadBytes, Opcode } from './frame.js'
import { applyMask } from './mask.js'
import { WebSocketProtocolError, type WsViolation } from './protocol-error.js'
import { type Utf8Check, Utf8Validator } from './utf8.js'

/** How a decoder checks what it reads. */
export interface FrameDecoderOptions {
  /** `server` reads a client's frames, which must be masked; `client` reads a server's, which must not be. */
  role: 'server' | 'client'
  /** Largest message, summed over its fragments, before the frames are inflated. */
  maxPayloadBytes: number
  /** Most frames one message may be split into. */
  maxFragments: number
  /** Whether permessage-deflate was negotiated, which makes RSV1 legal on a message's first frame. */
  compression: boolean
  /** A native whole-buffer UTF-8 check for long text runs (Node's `buffer.isUtf8`). */
  utf8Check?: Utf8Check
  /**
   * Makes the buffer of a payload that arrives in pieces. Every byte is written before the payload is handed
   * on, so Node's `Buffer.allocUnsafe` may skip the zero fill. @default `new Uint8Array(bytes)`
   */
  allocate?: (bytes: number) => Uint8Array
  /** Unmasks a payload that arrived whole, in place (a faster native one). @default applyMask in place */
  unmask?: (payload: Uint8Array, mask: Uint8Array) => void
}

const allocateZeroed = (bytes: number) => new Uint8Array(bytes)
const unmaskInJs = (payload: Uint8Array, mask: Uint8Array) => applyMask(payload, payload, mask)

type Step = 'header' | 'payload'

const knownOpcodes = new Set<number>(Object.values(Opcode))

/**
 * Incremental frame decoder. Masked payloads are unmasked in place, so the chunks passed to `push` are
 * owned by the decoder afterwards. Text that is not compressed is validated as it arrives, failing with
 * 1007 on the first byte that cannot become UTF-8.
 */
export class FrameDecoder {
  // Options are kept as fields, and buffers made on first use: an idle connection costs little (bench: idle memory).
  readonly #server: boolean
  readonly #maxPayloadBytes: number
  readonly #maxFragments: number
  readonly #compression: boolean
  readonly #utf8Check: Utf8Check | undefined
  readonly #allocate: (bytes: number) => Uint8Array
  readonly #unmask: (payload: Uint8Array, mask: Uint8Array) => void
  #step: Step = 'header'
  // 14 header bytes at most, then the 4-byte mask key at 14–17.
  #header: Uint8Array | null = null
  #mask: Uint8Array | null = null
  #have = 0
  #need = 2
  // The frame being read.
  #fin = false
  #rsv1 = false
  #opcode = 0
  #masked = false
  #length = 0
  #received = 0
  #buffer: Uint8Array | null = null
  // The data message being read, which may span fragments with control frames between them.
  #inMessage = false
  #messageBytes = 0
  #fragments = 0
  #validating = false
  #utf8: Utf8Validator | null = null
  #failure: WebSocketProtocolError | null = null

  constructor(options: FrameDecoderOptions) {
    this.#server = options.role === 'server'
    this.#maxPayloadBytes = options.maxPayloadBytes
    this.#maxFragments = options.maxFragments
    this.#compression = options.compression
    this.#utf8Check = options.utf8Check
    this.#allocate = options.allocate ?? allocateZeroed
    this.#unmask = options.unmask ?? unmaskInJs
  }

  /**
   * The violation found so far, if any. When one chunk holds valid frames followed by a violation, `push`
   * returns those frames and the violation waits here (and is what every later `push` returns).
   */
  get failure(): WebSocketProtocolError | null {
    return this.#failure
  }

  /** Feeds bytes; returns the frames they complete, or the violation that ends the connection. */
  push(chunk: Uint8Array): Frame[] | WebSocketProtocolError {
    if (this.#failure) return this.#failure
    const frames: Frame[] = []
    let pos = 0
    while (pos < chunk.length && this.#failure === null) {
      switch (this.#step) {
        case 'header':
          pos = this.#readHeader(chunk, pos, frames)
          break
        case 'payload':
          pos = this.#readPayload(chunk, pos, frames)
          break
      }
    }
    if (this.#failure !== null && frames.length === 0) return this.#failure
    return frames
  }

  #readHeader(chunk: Uint8Array, start: number, frames: Frame[]): number {
    const header = this.#header ?? this.#allocateHeader()
    let pos = start
    if (this.#have < 2) {
      while (this.#have < 2 && pos < chunk.length) header[this.#have++] = chunk[pos++]
      if (this.#have < 2 || !this.#checkFirstBytes(header[0], header[1])) return pos
    }
    while (this.#have < this.#need && pos < chunk.length) header[this.#have++] = chunk[pos++]
    if (this.#have === this.#need) this.#finishHeader(frames)
    return pos
  }

  #allocateHeader(): Uint8Array {
    const header = new Uint8Array(18)
    this.#header = header
    this.#mask = header.subarray(14, 18)
    return header
  }

  // Everything that the first two bytes decide, checked before any more bytes arrive (fail fast).
  #checkFirstBytes(b0: number, b1: number): boolean {
    const fin = (b0 & 0x80) !== 0
    const rsv1 = (b0 & 0x40) !== 0
    const opcode = b0 & 0x0f
    const masked = (b1 & 0x80) !== 0
    const length7 = b1 & 0x7f
    // §5.2: RSV2 and RSV3 have no negotiated meaning here.
    if ((b0 & 0x30) !== 0) return this.#fail('ws-reserved-bits', 'RSV2 or RSV3 is set')
    if (!knownOpcodes.has(opcode)) return this.#fail('ws-reserved-opcode', `opcode 0x${opcode.toString(16)}`)
    if (isControlOpcode(opcode)) {
      // §5.5: control frames are never fragmented and carry at most 125 bytes.
      if (!fin) return this.#fail('ws-fragmented-control-frame', 'a control frame without FIN')
      if (length7 > maxControlPayloadBytes)
        return this.#fail('ws-control-frame-too-long', 'a control frame over 125 bytes')
      if (rsv1) return this.#fail('ws-reserved-bits', 'RSV1 on a control frame')
    } else {
      // RFC 7692 §6.1: RSV1 marks a compressed message and belongs on its first frame only.
      if (rsv1 && (!this.#compression || opcode === Opcode.Continuation)) {
        return this.#fail('ws-reserved-bits', 'RSV1 is set without a compressed message starting')
      }
      if (opcode === Opcode.Continuation && !this.#inMessage) {
        return this.#fail('ws-unexpected-continuation', 'a continuation frame with no message to continue')
      }
      if (opcode !== Opcode.Continuation && this.#inMessage) {
        return this.#fail('ws-expected-continuation', 'a new message began before the last one finished')
      }
    }
    // §5.1: a client masks every frame; a server masks none.
    if (this.#server && !masked)
      return this.#fail('ws-unmasked-client-frame', 'an unmasked frame from a client')
    if (!this.#server && masked) return this.#fail('ws-masked-server-frame', 'a masked frame from a server')
    this.#fin = fin
    this.#rsv1 = rsv1
    this.#opcode = opcode
    this.#masked = masked
    this.#need = 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (masked ? 4 : 0)
    return true
  }

  #finishHeader(frames: Frame[]): void {
    const header = this.#header!
    const length7 = header[1] & 0x7f
    let offset = 2
    let length = length7
    if (length7 === 126) {
      length = (header[2] << 8) | header[3]
      offset = 4
    } else if (length7 === 127) {
      // §5.2: the most significant bit of a 64-bit length must be 0.
      if (header[2] & 0x80)
        return void this.#fail(
          'ws-length-too-large',
          'the 64-bit length has its top bit set',
          CloseCode.ProtocolError,
        )
      const high = ((header[2] << 24) | (header[3] << 16) | (header[4] << 8) | header[5]) >>> 0
      const low = ((header[6] << 24) | (header[7] << 16) | (header[8] << 8) | header[9]) >>> 0
      length = high * 0x100000000 + low
      offset = 10
    }
    if (this.#masked) this.#mask!.set(header.subarray(offset, offset + 4))
    if (!isControlOpcode(this.#opcode) && !this.#startData(length)) return
    this.#length = length
    this.#received = 0
    this.#have = 0
    this.#need = 2
    if (length === 0) this.#emit(new Uint8Array(0), frames)
    else this.#step = 'payload'
  }

  // Tracks the message a data frame belongs to; false when it breaks a limit.
  #startData(length: number): boolean {
    const maxPayloadBytes = this.#maxPayloadBytes
    const maxFragments = this.#maxFragments
    if (this.#opcode !== Opcode.Continuation) {
      this.#messageBytes = 0
      this.#fragments = 0
      this.#validating = this.#opcode === Opcode.Text && !this.#rsv1
      if (this.#validating) {
        this.#utf8 ??= new Utf8Validator(this.#utf8Check)
        this.#utf8.reset()
      }
    }
    this.#messageBytes += length
    this.#fragments += 1
    if (this.#messageBytes > maxPayloadBytes) {
      return this.#fail(
        'ws-message-too-big',
        `a message over ${maxPayloadBytes} bytes`,
        CloseCode.MessageTooBig,
      )
    }
    if (this.#fragments > maxFragments) {
      return this.#fail(
        'ws-too-many-fragments',
        `a message in over ${maxFragments} frames`,
        CloseCode.MessageTooBig,
      )
    }
    this.#inMessage = !this.#fin
    return true
  }

  #readPayload(chunk: Uint8Array, pos: number, frames: Frame[]): number {
    const remaining = this.#length - this.#received
    const available = chunk.length - pos
    if (this.#received === 0 && available >= remaining) {
      // The common case: the whole payload is in this chunk, so it is unmasked in place and not copied.
      const payload = chunk.subarray(pos, pos + remaining)
      if (this.#masked) this.#unmask(payload, this.#mask!)
      if (this.#checkText(payload)) this.#emit(payload, frames)
      return pos + remaining
    }
    if (this.#received === 0) this.#buffer = this.#allocate(this.#length)
    const take = Math.min(available, remaining)
    const piece = chunk.subarray(pos, pos + take)
    const target = this.#buffer!.subarray(this.#received, this.#received + take)
    if (this.#masked) applyMask(piece, target, this.#mask!, this.#received)
    else target.set(piece)
    this.#received += take
    if (!this.#checkText(target)) return pos + take
    if (this.#received === this.#length) {
      const payload = this.#buffer!
      this.#buffer = null
      this.#emit(payload, frames)
    }
    return pos + take
  }

  // §8.1: text must be UTF-8; checking each piece as it lands fails as early as the bytes allow.
  #checkText(bytes: Uint8Array): boolean {
    if (!this.#validating || isControlOpcode(this.#opcode) || this.#utf8!.push(bytes)) return true
    return this.#fail('ws-invalid-utf8', 'a text message that is not UTF-8', CloseCode.InvalidPayload)
  }

  #emit(payload: Uint8Array, frames: Frame[]): void {
    this.#step = 'header'
    const opcode = this.#opcode
    if (opcode === Opcode.Close) {
      const body = parseCloseBody(payload)
      if (body instanceof WebSocketProtocolError) return void this.#setFailure(body)
    } else if (!isControlOpcode(opcode) && this.#fin && this.#validating && !this.#utf8!.end()) {
      return void this.#fail(
        'ws-invalid-utf8',
        'a text message ends inside a UTF-8 sequence',
        CloseCode.InvalidPayload,
      )
    }
    frames.push({ fin: this.#fin, rsv1: this.#rsv1, opcode: opcode as Frame['opcode'], payload })
  }

  #fail(code: WsViolation, detail: string, closeCode: number = CloseCode.ProtocolError): false {
    this.#setFailure(new WebSocketProtocolError(code, closeCode, detail))
    return false
  }

  #setFailure(error: WebSocketProtocolError): void {
    this.#failure = error
  }
}
