// XOR masking of payloads (RFC 6455 §5.3), four bytes at a time where the memory is aligned.

const littleEndian = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1

// The 32-bit word whose bytes in memory are b0 b1 b2 b3.
function maskWord(b0: number, b1: number, b2: number, b3: number): number {
  return littleEndian ? b0 | (b1 << 8) | (b2 << 16) | (b3 << 24) : (b0 << 24) | (b1 << 16) | (b2 << 8) | b3
}

/**
 * XORs `source` with the 4-byte `mask` into `target` (which may be `source` itself), starting at mask
 * position `maskOffset` (the count of payload bytes already masked, for payloads that arrive in pieces).
 */
export function applyMask(source: Uint8Array, target: Uint8Array, mask: Uint8Array, maskOffset = 0): void {
  const n = source.length
  let i = 0
  // Byte loop until the target is 4-byte aligned, then whole 32-bit words: several times faster for long payloads.
  while (i < n && ((target.byteOffset + i) & 3) !== 0) {
    target[i] = source[i] ^ mask[(maskOffset + i) & 3]
    i++
  }
  const words = (n - i) >>> 2
  if (words > 16 && ((source.byteOffset + i) & 3) === 0) {
    const k = (maskOffset + i) & 3
    // Words are read in platform order; build the rotated mask the same way so byte j meets mask[(k + j) & 3].
    // Arithmetic, not a 4-byte typed array: making an ArrayBuffer costs about 1 µs, more than masking 1 KiB.
    const word = maskWord(mask[k], mask[(k + 1) & 3], mask[(k + 2) & 3], mask[(k + 3) & 3])
    // Int32Array: its elements stay small integers, where a Uint32Array's high values would be doubles.
    const from = new Int32Array(source.buffer, source.byteOffset + i, words)
    const to = new Int32Array(target.buffer, target.byteOffset + i, words)
    let w = 0
    const unrolled = words - (words & 3)
    for (; w < unrolled; w += 4) {
      to[w] = from[w] ^ word
      to[w + 1] = from[w + 1] ^ word
      to[w + 2] = from[w + 2] ^ word
      to[w + 3] = from[w + 3] ^ word
    }
    for (; w < words; w++) to[w] = from[w] ^ word
    i += words << 2
  }
  for (; i < n; i++) target[i] = source[i] ^ mask[(maskOffset + i) & 3]
}
