// Base64 (RFC 4648 §4, the standard alphabet) for binary packets in polling payloads, without Node's Buffer so
// that a browser can share this codec. Decoding is total: anything not base64 gives null, never a throw.

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const encodeTable = new Uint8Array(64)
// 255 marks a character outside the alphabet.
const decodeTable = new Uint8Array(128).fill(255)
for (let i = 0; i < 64; i++) {
  encodeTable[i] = alphabet.charCodeAt(i)
  decodeTable[alphabet.charCodeAt(i)] = i
}
const pad = 0x3d // '='
// The output is pure ASCII, which latin1 decodes byte for byte and much faster than building a string per char.
const ascii = new TextDecoder('latin1')

/** Encodes bytes as padded base64. */
export function encodeBase64(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4)
  let o = 0
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2]
    out[o++] = encodeTable[n >>> 18]
    out[o++] = encodeTable[(n >>> 12) & 63]
    out[o++] = encodeTable[(n >>> 6) & 63]
    out[o++] = encodeTable[n & 63]
  }
  const rest = bytes.length - i
  if (rest > 0) {
    const n = (bytes[i] << 16) | (rest === 2 ? bytes[i + 1] << 8 : 0)
    out[o++] = encodeTable[n >>> 18]
    out[o++] = encodeTable[(n >>> 12) & 63]
    out[o++] = rest === 2 ? encodeTable[(n >>> 6) & 63] : pad
    out[o++] = pad
  }
  return ascii.decode(out)
}

/**
 * Decodes base64 with or without its `=` padding; null for any other character, padding anywhere but at
 * the end, or a length no encoder produces (one character left over).
 */
export function decodeBase64(text: string): Uint8Array | null {
  let end = text.length
  if (end % 4 === 0 && end > 0 && text.charCodeAt(end - 1) === pad) {
    end -= text.charCodeAt(end - 2) === pad ? 2 : 1
  }
  if (end % 4 === 1) return null
  const out = new Uint8Array(Math.floor((end * 3) / 4))
  let o = 0
  let bits = 0
  let count = 0
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i)
    const value = code < 128 ? decodeTable[code] : 255
    if (value === 255) return null
    bits = (bits << 6) | value
    if (++count === 4) {
      out[o++] = bits >>> 16
      out[o++] = (bits >>> 8) & 0xff
      out[o++] = bits & 0xff
      bits = 0
      count = 0
    }
  }
  if (count === 3) {
    out[o++] = bits >>> 10
    out[o++] = (bits >>> 2) & 0xff
  } else if (count === 2) {
    out[o++] = bits >>> 4
  }
  return out
}
