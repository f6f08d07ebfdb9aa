// Byte helpers for codec tests: literal hex, joining and cutting byte arrays.

/** Parses hex written for people to read, e.g. `hex('81 85 37 fa')`; spaces and newlines are ignored. */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '')
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) throw new TypeError(`not whole hex bytes: ${text}`)
  const bytes = new Uint8Array(digits.length / 2)
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(digits.slice(2 * i, 2 * i + 2), 16)
  return bytes
}

/** Joins byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/**
 * Cuts `bytes` at the given positions (each taken modulo `bytes.length + 1`, in any order, repeats
 * allowed, so empty pieces occur) into fresh copies that together hold every byte once, in order.
 */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const positions = cuts.map((cut) => cut % (bytes.length + 1)).sort((a, b) => a - b)
  const pieces: Uint8Array[] = []
  let start = 0
  for (const position of positions) {
    pieces.push(bytes.slice(start, position))
    start = position
  }
  pieces.push(bytes.slice(start))
  return pieces
}

/** A fresh array of `length` bytes counting up from 0 and wrapping at 256, for payloads whose content does not matter. */
export function countingBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length)
  for (let i = 0; i < length; i++) bytes[i] = i & 0xff
  return bytes
}
