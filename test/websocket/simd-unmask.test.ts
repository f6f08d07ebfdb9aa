// unmaskInPlace, the WebAssembly SIMD unmasking of long payloads, against applyMask (itself checked against
// RFC 6455 §5.3's byte loop in codec/mask.test.ts): every length around its threshold and its 64 KiB pages,
// every alignment, and the bytes around the payload untouched.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { applyMask } from '../../src/websocket/codec/index.js'
import { unmaskInPlace } from '../../src/websocket/simd-unmask.js'

const guard = 0xee
const page = 64 * 1024

const length = fc.oneof(
  fc.integer({ min: 0, max: 600 }),
  fc.integer({ min: page - 40, max: page + 40 }),
  fc.integer({ min: 2 * page - 20, max: 3 * page + 20 }),
)

describe('unmaskInPlace', () => {
  test('gives what applyMask gives, at any length and alignment, and touches nothing else', () => {
    fc.assert(
      fc.property(
        length,
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 255 }),
        (n, mask, at, seed) => {
          const backing = new Uint8Array(at + n + 8).fill(guard)
          const view = backing.subarray(at, at + n)
          for (let i = 0; i < n; i++) view[i] = (i * 31 + seed) & 0xff
          const expected = view.slice()
          applyMask(expected, expected, mask)
          unmaskInPlace(view, mask)
          assert.deepStrictEqual(view, expected)
          for (let i = 0; i < backing.length; i++) {
            if (i < at || i >= at + n) assert.equal(backing[i], guard, `byte ${i} outside the payload`)
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  test('is its own inverse, as masking is', () => {
    const data = Uint8Array.from({ length: 70_000 }, (_, i) => i & 0xff)
    const view = data.slice()
    const mask = Uint8Array.of(0x12, 0x34, 0x56, 0x78)
    unmaskInPlace(view, mask)
    assert.notDeepStrictEqual(view, data)
    unmaskInPlace(view, mask)
    assert.deepStrictEqual(view, data)
  })
})
