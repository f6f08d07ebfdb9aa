// The WebSocket frame and its encoder (RFC 6455 §5.2): header bits, 7/16/64-bit lengths, masking.
import { applyMask } from './mask.js'

/** Frame opcodes defined by RFC 6455 §5.2; the rest are reserved. */
export const Opcode = { Continuation: 0x0, Text: 0x1, Binary: 0x2, Close: 0x8, Ping: 0x9, Pong: 0xa } as const
export type Opcode = (typeof Opcode)[keyof typeof Opcode]

/** One decoded or to-be-encoded frame; `payload` is already unmasked. */
export interface Frame {
  fin: boolean
  /** RSV1: set on the first frame of a compressed message (RFC 7692 §6). */
  rsv1: boolean
  opcode: Opcode
  payload: Uint8Array
}

/** The largest payload a control frame may carry (§5.5). */
export const maxControlPayloadBytes = 125

/** True for close, ping and pong. */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0
}

/** The size of a header for a payload of `length` bytes, masked or not. */
export function frameHeaderBytes(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0)
}

/**
 * Writes a frame header into `target` at `offset` and returns the offset where the payload begins.
 * With a `mask`, the mask key follows the length (the payload itself is masked by the caller).
 */
export function writeFrameHeader(
  target: Uint8Array,
  offset: number,
  fin: boolean,
  rsv1: boolean,
  opcode: number,
  length: number,
  mask?: Uint8Array,
): number {
  let o = offset
  target[o++] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode
  const maskBit = mask ? 0x80 : 0
  if (length < 126) {
    target[o++] = maskBit | length
  } else if (length < 0x10000) {
    target[o++] = maskBit | 126
    target[o++] = length >>> 8
    target[o++] = length & 0xff
  } else {
    target[o++] = maskBit | 127
    const high = Math.floor(length / 0x100000000)
    const low = length >>> 0
    target[o++] = 0
    target[o++] = 0
    target[o++] = (high >>> 8) & 0xff
    target[o++] = high & 0xff
    target[o++] = low >>> 24
    target[o++] = (low >>> 16) & 0xff
    target[o++] = (low >>> 8) & 0xff
    target[o++] = low & 0xff
  }
  if (mask) {
    target[o++] = mask[0]
    target[o++] = mask[1]
    target[o++] = mask[2]
    target[o++] = mask[3]
  }
  return o
}

/** Encodes just the header of a frame whose payload will be written separately (no copy of the payload). */
export function encodeFrameHeader(
  fin: boolean,
  rsv1: boolean,
  opcode: number,
  length: number,
  mask?: Uint8Array,
): Uint8Array {
  const header = new Uint8Array(frameHeaderBytes(length, mask !== undefined))
  writeFrameHeader(header, 0, fin, rsv1, opcode, length, mask)
  return header
}

/** Encodes a whole frame into one new buffer, masking the payload when a `mask` is given. */
export function encodeFrame(frame: Frame, mask?: Uint8Array): Uint8Array {
  const { payload } = frame
  const out = new Uint8Array(frameHeaderBytes(payload.length, mask !== undefined) + payload.length)
  const start = writeFrameHeader(out, 0, frame.fin, frame.rsv1, frame.opcode, payload.length, mask)
  if (mask) applyMask(payload, out.subarray(start), mask)
  else out.set(payload, start)
  return out
}
