// applyMask (RFC 6455 §5.3) against a plain byte loop, over every alignment its word loop cares about.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { applyMask } from '../../../src/websocket/codec/index.js'
import { hex } from '../../helpers/bytes.js'

/** §5.3 as written: byte i is XORed with mask[(i + offset) mod 4]. */
function maskByBytes(source: Uint8Array, mask: Uint8Array, maskOffset: number): Uint8Array {
  const out = new Uint8Array(source.length)
  for (let i = 0; i < source.length; i++) out[i] = source[i] ^ mask[(maskOffset + i) % 4]
  return out
}

const guard = 0xee

/** A view of `length` bytes at `byteOffset` into a larger buffer whose other bytes are `guard`. */
function viewAt(byteOffset: number, length: number): { view: Uint8Array; backing: Uint8Array } {
  const backing = new Uint8Array(byteOffset + length + 8).fill(guard)
  return { view: backing.subarray(byteOffset, byteOffset + length), backing }
}

function assertGuardsIntact(backing: Uint8Array, view: Uint8Array): void {
  backing.forEach((byte, i) => {
    if (i < view.byteOffset || i >= view.byteOffset + view.length)
      assert.equal(byte, guard, `guard byte ${i}`)
  })
}

// Lengths past 68 bytes reach the word loop (more than 16 words once aligned).
const payload = fc.uint8Array({ maxLength: 300, size: 'max' })
const maskKey = fc.uint8Array({ minLength: 4, maxLength: 4 })
const byteOffset = fc.integer({ min: 0, max: 7 })
const maskOffset = fc.integer({ min: 0, max: 3 })

describe('applyMask', () => {
  test('matches the byte loop when masking into another buffer at any alignment', () => {
    fc.assert(
      fc.property(payload, maskKey, byteOffset, byteOffset, maskOffset, (data, mask, from, to, offset) => {
        const source = viewAt(from, data.length)
        source.view.set(data)
        const target = viewAt(to, data.length)
        applyMask(source.view, target.view, mask, offset)
        assert.deepStrictEqual(target.view, maskByBytes(data, mask, offset))
        assert.deepStrictEqual(source.view, data)
        assertGuardsIntact(target.backing, target.view)
      }),
      { numRuns: 300 },
    )
  })

  test('matches the byte loop when masking in place at any alignment', () => {
    fc.assert(
      fc.property(payload, maskKey, byteOffset, maskOffset, (data, mask, at, offset) => {
        const { view, backing } = viewAt(at, data.length)
        view.set(data)
        applyMask(view, view, mask, offset)
        assert.deepStrictEqual(view, maskByBytes(data, mask, offset))
        assertGuardsIntact(backing, view)
      }),
      { numRuns: 300 },
    )
  })

  test('masking a payload in two pieces, the second at the offset of the first, equals masking it whole', () => {
    fc.assert(
      fc.property(payload, maskKey, fc.nat(), byteOffset, (data, mask, cut, at) => {
        const split = cut % (data.length + 1)
        const { view } = viewAt(at, data.length)
        applyMask(data.subarray(0, split), view.subarray(0, split), mask)
        applyMask(data.subarray(split), view.subarray(split), mask, split)
        assert.deepStrictEqual(view, maskByBytes(data, mask, 0))
      }),
    )
  })

  test('masking twice with the same key gives back the original bytes', () => {
    fc.assert(
      fc.property(payload, maskKey, maskOffset, (data, mask, offset) => {
        const copy = data.slice()
        applyMask(copy, copy, mask, offset)
        applyMask(copy, copy, mask, offset)
        assert.deepStrictEqual(copy, data)
      }),
    )
  })

  test('masks the RFC 6455 §5.7 "Hello" with key 37 fa 21 3d', () => {
    const target = new Uint8Array(5)
    applyMask(hex('48 65 6c 6c 6f'), target, hex('37 fa 21 3d'))
    assert.deepStrictEqual(target, hex('7f 9f 4d 51 58'))
  })

  test('leaves an empty payload alone', () => {
    const target = new Uint8Array(0)
    applyMask(new Uint8Array(0), target, hex('37 fa 21 3d'), 2)
    assert.equal(target.length, 0)
  })
})
