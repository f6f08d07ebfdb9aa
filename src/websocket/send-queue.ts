// Writes frames to a socket with our own queue above the kernel's, so control frames can overtake queued
// data (RFC 6455 §5.4 lets them go between frames) and a reader that stops reading costs bounded memory.
import type { Socket } from 'node:net'
import { frameHeaderBytes, writeFrameHeader } from './codec/frame.js'
import { applyMask } from './codec/mask.js'

// Below this payload size a frame is copied into one buffer with its header: one write beats two.
const copyBelowBytes = 4096
// How much we let sit in the socket's own buffer before holding frames in our queue instead.
const socketBudgetBytes = 64 * 1024

/** Supplies fresh 4-byte masking keys; only clients mask. */
export type MaskSource = () => Uint8Array

/**
 * The outbound side of one connection. Data frames go straight to the socket while it keeps up, and into
 * `#queue` when it does not; `writeControl` always goes straight to the socket, ahead of the queue.
 */
export class SendQueue {
  readonly #socket: Socket
  readonly #nextMask: MaskSource | null
  // Whole frames only (one buffer, or a header and its payload), so a control frame written straight to
  // the socket always lands between two frames.
  #queue: Array<Buffer | readonly [Buffer, Buffer]> | null = null
  #head = 0
  #queuedBytes = 0
  #waitingForDrain = false
  #endWhenFlushed = false

  constructor(socket: Socket, nextMask: MaskSource | null) {
    this.#socket = socket
    this.#nextMask = nextMask
  }

  /** Bytes accepted but not yet handed to the kernel: ours plus the socket's. */
  get bufferedAmount(): number {
    return this.#queuedBytes + this.#socket.writableLength
  }

  /** Sends a data frame; the payload is not copied when it is large and we are the server. */
  writeFrame(fin: boolean, rsv1: boolean, opcode: number, payload: Uint8Array): void {
    const mask = this.#nextMask?.()
    const headerBytes = frameHeaderBytes(payload.length, mask !== undefined)
    if (mask || payload.length < copyBelowBytes) {
      const frame = Buffer.allocUnsafe(headerBytes + payload.length)
      const start = writeFrameHeader(frame, 0, fin, rsv1, opcode, payload.length, mask)
      if (mask) applyMask(payload, frame.subarray(start), mask)
      else frame.set(payload, start)
      this.#push(frame)
      return
    }
    const header = Buffer.allocUnsafe(headerBytes)
    writeFrameHeader(header, 0, fin, rsv1, opcode, payload.length)
    this.#push(header, toBuffer(payload))
  }

  /** Sends bytes that already form whole frames (a prepared broadcast frame shared by many sockets). */
  writeEncoded(chunks: readonly Buffer[]): void {
    if (chunks.length === 1) this.#push(chunks[0])
    else this.#push(chunks[0], chunks[1])
  }

  /** Sends a control frame at once, ahead of any queued data. */
  writeControl(opcode: number, payload: Uint8Array, onWritten?: () => void): void {
    const mask = this.#nextMask?.()
    const frame = Buffer.allocUnsafe(frameHeaderBytes(payload.length, mask !== undefined) + payload.length)
    const start = writeFrameHeader(frame, 0, true, false, opcode, payload.length, mask)
    if (mask) applyMask(payload, frame.subarray(start), mask)
    else frame.set(payload, start)
    if (!this.#socket.writable) return
    this.#socket.write(frame, onWritten ? () => onWritten() : undefined)
  }

  /** Ends the socket (a TCP FIN) once everything queued has been handed to it. */
  endWhenFlushed(): void {
    if (this.#queue === null) this.#socket.end()
    else this.#endWhenFlushed = true
  }

  /** Drops everything still queued (the connection is going away). */
  discard(): void {
    this.#queue = null
    this.#head = 0
    this.#queuedBytes = 0
  }

  #push(first: Buffer, second?: Buffer): void {
    const socket = this.#socket
    if (this.#queue === null && socket.writableLength < socketBudgetBytes) {
      if (second === undefined) {
        socket.write(first)
        return
      }
      socket.cork()
      socket.write(first)
      socket.write(second)
      socket.uncork()
      return
    }
    this.#queue ??= []
    if (second === undefined) {
      this.#queue.push(first)
      this.#queuedBytes += first.length
    } else {
      this.#queue.push([first, second])
      this.#queuedBytes += first.length + second.length
    }
    this.#waitingForDrain = true
  }

  /** Hands held-back frames to the socket after its `drain`; true when nothing is held back any more. */
  flush(): boolean {
    if (!this.#waitingForDrain) return true
    const socket = this.#socket
    const queue = this.#queue ?? []
    let i = this.#head
    socket.cork()
    while (i < queue.length && socket.writableLength < socketBudgetBytes && socket.writable) {
      const frame = queue[i++]
      if (Buffer.isBuffer(frame)) {
        this.#queuedBytes -= frame.length
        socket.write(frame)
      } else {
        this.#queuedBytes -= frame[0].length + frame[1].length
        socket.write(frame[0])
        socket.write(frame[1])
      }
    }
    socket.uncork()
    if (i === queue.length) {
      this.#queue = null
      this.#head = 0
    } else if (i > 1024 && i * 2 > queue.length) {
      this.#queue = queue.slice(i)
      this.#head = 0
    } else {
      this.#head = i
    }
    if (this.#queue === null) {
      this.#waitingForDrain = false
      if (this.#endWhenFlushed) socket.end()
      return true
    }
    return false
  }
}

/** A view of the same memory as a Buffer, without copying. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
