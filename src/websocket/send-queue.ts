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

type QueuedFrame = Buffer | readonly [Buffer, Buffer]

// Frames of one event-loop turn are joined into one write below this size; larger turns, and a turn of one
// large frame, use writev.
const joinTurnBelowBytes = 64 * 1024

/**
 * The outbound side of one connection. Data frames written during one event-loop turn go to the socket
 * together at the end of it — one syscall however many messages the connection got in that turn — while
 * it keeps up, and into `#queue` when it does not; `writeControl` always goes straight to the socket.
 */
export class SendQueue {
  // Queues with frames from the current turn; one nextTick flushes them all (bench: fan-out).
  static #dirty: SendQueue[] = []
  static #flushScheduled = false

  readonly #socket: Socket
  readonly #nextMask: MaskSource | null
  #turn: QueuedFrame[] | null = null
  #turnBytes = 0
  // Whole frames only (one buffer, or a header and its payload), so a control frame written straight to
  // the socket always lands between two frames.
  #queue: QueuedFrame[] | null = null
  #head = 0
  #queuedBytes = 0
  #waitingForDrain = false
  #endWhenFlushed = false
  // Set by flushAlone until the next iteration of the event loop: this turn's later frames wait for it.
  #holding = false

  constructor(socket: Socket, nextMask: MaskSource | null) {
    this.#socket = socket
    this.#nextMask = nextMask
  }

  /** Bytes accepted but not yet handed to the kernel: ours plus the socket's. */
  get bufferedAmount(): number {
    return this.#turnBytes + this.#queuedBytes + this.#socket.writableLength
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

  /**
   * Sends a text frame encoding `text` (of `byteLength` UTF-8 bytes) straight into the frame's buffer: one
   * allocation, where encoding it first and framing it after costs two and a copy.
   */
  writeText(fin: boolean, opcode: number, text: string, byteLength: number): void {
    const mask = this.#nextMask?.()
    const frame = Buffer.allocUnsafe(frameHeaderBytes(byteLength, mask !== undefined) + byteLength)
    const start = writeFrameHeader(frame, 0, fin, false, opcode, byteLength, mask)
    frame.write(text, start, byteLength, 'utf8')
    if (mask) {
      const payload = frame.subarray(start)
      applyMask(payload, payload, mask)
    }
    this.#push(frame)
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

  /**
   * Writes the frames of this turn now, alone: the frames that follow in this turn wait for a 1 ms timer and
   * leave in a later write, so a peer that reads one message per wake-up sees them as later messages.
   */
  flushAlone(): void {
    this.#flushTurn()
    if (this.#holding) return
    this.#holding = true
    setTimeout(() => {
      this.#holding = false
      this.#flushTurn()
    }, 1)
  }

  /** Ends the socket (a TCP FIN) once everything queued has been handed to it. */
  endWhenFlushed(): void {
    if (this.#queue === null && this.#turn === null) this.#socket.end()
    else this.#endWhenFlushed = true
  }

  /** Drops everything still queued (the connection is going away). */
  discard(): void {
    this.#turn = null
    this.#turnBytes = 0
    this.#queue = null
    this.#head = 0
    this.#queuedBytes = 0
  }

  #push(first: Buffer, second?: Buffer): void {
    const frame: QueuedFrame = second === undefined ? first : [first, second]
    const bytes = second === undefined ? first.length : first.length + second.length
    if (this.#queue !== null) {
      this.#queue.push(frame)
      this.#queuedBytes += bytes
      return
    }
    if (this.#turn === null) {
      this.#turn = [frame]
      SendQueue.#dirty.push(this)
      if (!SendQueue.#flushScheduled) {
        SendQueue.#flushScheduled = true
        process.nextTick(SendQueue.#flushTurns)
      }
    } else {
      this.#turn.push(frame)
    }
    this.#turnBytes += bytes
  }

  static #flushTurns = (): void => {
    SendQueue.#flushScheduled = false
    const dirty = SendQueue.#dirty
    SendQueue.#dirty = []
    for (const queue of dirty) queue.#flushTurn()
  }

  #flushTurn(): void {
    const frames = this.#turn
    if (frames === null || this.#holding) return
    const bytes = this.#turnBytes
    this.#turn = null
    this.#turnBytes = 0
    const socket = this.#socket
    if (!socket.writable) return
    if (this.#queue !== null || socket.writableLength >= socketBudgetBytes) {
      // The socket is behind: these frames wait for its drain, behind anything already waiting.
      this.#queue = this.#queue === null ? frames : this.#queue.concat(frames)
      this.#queuedBytes += bytes
      this.#waitingForDrain = true
      return
    }
    if (frames.length === 1 && Buffer.isBuffer(frames[0])) socket.write(frames[0])
    // A lone large frame (header and payload apart) goes out with writev below: copying its payload to join
    // it to its header costs more than writev's own overhead.
    else if (frames.length > 1 && bytes < joinTurnBelowBytes)
      socket.write(Buffer.concat(frames.flat(), bytes))
    else {
      // A large turn goes out only up to the socket budget, so control frames can still overtake the rest.
      let i = 0
      socket.cork()
      while (i < frames.length && socket.writableLength < socketBudgetBytes) {
        const frame = frames[i++]
        if (Buffer.isBuffer(frame)) socket.write(frame)
        else {
          socket.write(frame[0])
          socket.write(frame[1])
        }
      }
      socket.uncork()
      if (i < frames.length) {
        this.#queue = frames.slice(i)
        for (const frame of this.#queue)
          this.#queuedBytes += Buffer.isBuffer(frame) ? frame.length : frame[0].length + frame[1].length
        this.#waitingForDrain = true
        return
      }
    }
    if (this.#endWhenFlushed) socket.end()
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
