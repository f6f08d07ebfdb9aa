// Sec-WebSocket-Accept (RFC 6455 §4.2.2 step 5.4): SHA-1 of the key and the protocol's GUID, in base64.
import { createHash, randomFillSync } from 'node:crypto'

const guid = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/** The Sec-WebSocket-Accept value answering a Sec-WebSocket-Key. */
export function computeAcceptKey(key: string): string {
  return createHash('sha1')
    .update(key + guid)
    .digest('base64')
}

/** A fresh Sec-WebSocket-Key: 16 random bytes in base64 (§4.1). */
export function generateKey(): string {
  return randomFillSync(Buffer.alloc(16)).toString('base64')
}

// Masking keys come from a pool refilled in bulk: one randomFill per 2048 frames instead of one each.
const pool = Buffer.alloc(8192)
let poolOffset = pool.length

/** A fresh 4-byte masking key (§5.3: unpredictable, from a strong source). */
export function nextMaskKey(): Uint8Array {
  if (poolOffset === pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const key = pool.subarray(poolOffset, poolOffset + 4)
  poolOffset += 4
  return key
}
