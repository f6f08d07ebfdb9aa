// XOR masking of payloads (RFC 6455 §5.3), four bytes at a time where the memory is aligned.

/**
 * XORs `source` with the 4-byte `mask` into `target` (which may be `source` itself), starting at mask
 * position `maskOffset` (the count of payload bytes already masked, for payloads that arrive in pieces).
 */
export function applyMask(source: Uint8Array, target: Uint8Array, mask: Uint8Array, maskOffset = 0): void {
  const n = source.length
  let i = 0
  // Byte loop until the target is 4-byte aligned, then whole 32-bit words: several times faster (bench/mask).
  while (i < n && ((target.byteOffset + i) & 3) !== 0) {
    target[i] = source[i] ^ mask[(maskOffset + i) & 3]
    i++
  }
  const words = (n - i) >>> 2
  if (words > 8 && ((source.byteOffset + i) & 3) === 0) {
    const k = (maskOffset + i) & 3
    // Words are read in platform order; build the rotated mask the same way so byte j meets mask[(k + j) & 3].
    const rotated = new Uint8Array([mask[k], mask[(k + 1) & 3], mask[(k + 2) & 3], mask[(k + 3) & 3]])
    const word = new Uint32Array(rotated.buffer)[0]
    const from = new Uint32Array(source.buffer, source.byteOffset + i, words)
    const to = new Uint32Array(target.buffer, target.byteOffset + i, words)
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
