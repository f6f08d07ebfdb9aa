// Utf8Validator against an independent oracle, the WHATWG decoder in Node (`TextDecoder`, fatal): same verdict,
// and failure on the very piece after which no continuation could make the bytes valid.
import assert from 'node:assert/strict'
import { isUtf8 } from 'node:buffer'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { type Utf8Check, Utf8Validator, validateUtf8 } from '../../../src/websocket/codec/index.js'
import { concatBytes, hex, splitAt } from '../../helpers/bytes.js'

const encoder = new TextEncoder()

/** The oracle's verdict on a whole input. */
function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    return true
  } catch {
    return false
  }
}

/** The oracle's verdict on a prefix: a streaming decoder throws as soon as no continuation could make it valid. */
function canStillBecomeUtf8(prefix: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(prefix, { stream: true })
    return true
  } catch {
    return false
  }
}

/** What `push` answered for each piece, and what `end` answered after the last. */
function feed(pieces: readonly Uint8Array[], check?: Utf8Check): { pushes: boolean[]; end: boolean } {
  const validator = new Utf8Validator(check)
  const pushes = pieces.map((piece) => validator.push(piece))
  return { pushes, end: validator.end() }
}

function assertAgreesWithOracle(bytes: Uint8Array, pieces: readonly Uint8Array[], check?: Utf8Check): void {
  const { pushes, end } = feed(pieces, check)
  assert.equal(pushes.every(Boolean) && end, isValidUtf8(bytes))
  pieces.forEach((_, k) => {
    assert.equal(pushes[k], canStillBecomeUtf8(concatBytes(pieces.slice(0, k + 1))), `piece ${k}`)
  })
}

// Bytes near every boundary of the UTF-8 tables: ASCII, continuations, valid and invalid leads.
const utf8ishByte = fc.oneof(
  fc.integer({ min: 0x00, max: 0x7f }),
  fc.integer({ min: 0x80, max: 0xbf }),
  fc.integer({ min: 0xc0, max: 0xff }),
  fc.constantFrom(
    0x80,
    0x8f,
    0x90,
    0x9f,
    0xa0,
    0xbf,
    0xc0,
    0xc1,
    0xc2,
    0xdf,
    0xe0,
    0xed,
    0xef,
    0xf0,
    0xf4,
    0xf5,
    0xff,
  ),
)

// Code points at the edges of each encoded length, and any code point at all.
const codePoint = fc.oneof(
  fc.constantFrom('a', '\u007f', '\u0080', 'é', '\u07ff', '\u0800', '€', '\ud7ff', '\ue000', '\uffff'),
  fc.constantFrom('\u{10000}', '😀', '\u{10ffff}'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
)

function text(minLength: number, maxLength: number): fc.Arbitrary<Uint8Array> {
  return fc.string({ unit: codePoint, minLength, maxLength }).map((s) => encoder.encode(s))
}

/** Valid text with one byte overwritten or inserted somewhere. */
function corrupted(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .record({ bytes: valid, at: fc.nat(), value: utf8ishByte, insert: fc.boolean() })
    .map(({ bytes, at, value, insert }) => {
      const i = at % (bytes.length + 1)
      if (insert || i === bytes.length)
        return concatBytes([bytes.subarray(0, i), Uint8Array.of(value), bytes.subarray(i)])
      const out = bytes.slice()
      out[i] = value
      return out
    })
}

const shortInput = fc.oneof(
  fc.array(utf8ishByte, { maxLength: 24, size: 'max' }).map((bytes) => Uint8Array.from(bytes)),
  text(0, 12),
  corrupted(text(1, 12)),
)

// Over 256 bytes, so that pieces are long enough for the native check.
const longInput = fc.oneof(text(300, 700), corrupted(text(300, 700)))

const nativeCheck = fc.constantFrom<Array<Utf8Check | undefined>>(undefined, isUtf8)

describe('Utf8Validator against TextDecoder', () => {
  test('gives the oracle verdict on random bytes pushed in random pieces, failing on the first impossible piece', () => {
    fc.assert(
      fc.property(shortInput, fc.array(fc.nat(), { maxLength: 6 }), nativeCheck, (bytes, cuts, check) => {
        assertAgreesWithOracle(bytes, splitAt(bytes, cuts), check)
      }),
      { numRuns: 300 },
    )
  })

  test('accepts any valid text, however it is cut into pieces', () => {
    fc.assert(
      fc.property(text(0, 40), fc.array(fc.nat(), { maxLength: 8 }), nativeCheck, (bytes, cuts, check) => {
        const { pushes, end } = feed(splitAt(bytes, cuts), check)
        assert.ok(pushes.every(Boolean))
        assert.ok(end)
      }),
    )
  })

  test('gives the oracle verdict on long inputs with the native check, cut inside multi-byte sequences', () => {
    fc.assert(
      fc.property(longInput, fc.array(fc.nat(), { maxLength: 4 }), nativeCheck, (bytes, cuts, check) => {
        assertAgreesWithOracle(bytes, splitAt(bytes, cuts), check)
      }),
      { numRuns: 60 },
    )
  })

  test('gives the oracle verdict on long inputs cut just after the lead byte of a sequence', () => {
    fc.assert(
      fc.property(longInput, fc.nat(), fc.integer({ min: 1, max: 3 }), (bytes, seed, into) => {
        // Cut `into` bytes past the lead byte of some multi-byte sequence, so that the sequence straddles the cut.
        const leads: number[] = []
        bytes.forEach((b, i) => {
          if (b >= 0xc0) leads.push(i)
        })
        const cut =
          leads.length === 0
            ? seed % (bytes.length + 1)
            : Math.min(bytes.length, leads[seed % leads.length] + into)
        assertAgreesWithOracle(bytes, [bytes.slice(0, cut), bytes.slice(cut)], isUtf8)
      }),
      { numRuns: 60 },
    )
  })
})

// Pieces pushed in turn, and what `push` must answer for each (true while a valid continuation remains possible).
const failFastCases: Array<{ title: string; pieces: string[]; pushes: boolean[] }> = [
  { title: 'fails on 90 after F4, which would pass U+10FFFF', pieces: ['f4', '90'], pushes: [true, false] },
  {
    title: 'fails on A0 after ED, which would be the surrogate U+D800',
    pieces: ['ed', 'a0'],
    pushes: [true, false],
  },
  { title: 'fails on C0, which can only start an overlong sequence', pieces: ['c0'], pushes: [false] },
  { title: 'fails on C1, which can only start an overlong sequence', pieces: ['c1'], pushes: [false] },
  {
    title: 'fails on 80 after E0, an overlong three-byte sequence',
    pieces: ['e0', '80'],
    pushes: [true, false],
  },
  {
    title: 'fails on 8F after F0, an overlong four-byte sequence',
    pieces: ['f0', '8f'],
    pushes: [true, false],
  },
  { title: 'fails on F5, which could only encode past U+10FFFF', pieces: ['f5'], pushes: [false] },
  { title: 'fails on FF, which is never UTF-8', pieces: ['ff'], pushes: [false] },
  { title: 'fails on a continuation byte with no lead', pieces: ['41', '80'], pushes: [true, false] },
  {
    title: 'fails on ASCII where a continuation byte is due',
    pieces: ['e2 82', '41'],
    pushes: [true, false],
  },
  { title: 'keeps failing after the first failure', pieces: ['c0', '41', ''], pushes: [false, false, false] },
  {
    title: 'accepts F4 8F BF BF (U+10FFFF) byte by byte',
    pieces: ['f4', '8f', 'bf', 'bf'],
    pushes: [true, true, true, true],
  },
  { title: 'accepts ED 9F BF (U+D7FF) byte by byte', pieces: ['ed', '9f', 'bf'], pushes: [true, true, true] },
  { title: 'accepts E0 A0 80 (U+0800) byte by byte', pieces: ['e0', 'a0', '80'], pushes: [true, true, true] },
  {
    title: 'accepts F0 90 80 80 (U+10000) byte by byte',
    pieces: ['f0', '90', '80', '80'],
    pushes: [true, true, true, true],
  },
  { title: 'accepts C2 80 (U+0080) byte by byte', pieces: ['c2', '80'], pushes: [true, true] },
]

describe('Utf8Validator fails fast', () => {
  for (const { title, pieces, pushes } of failFastCases) {
    test(title, () => {
      assert.deepStrictEqual(feed(pieces.map(hex)).pushes, pushes)
    })

    test(`${title}, after 300 ASCII bytes with the native check`, () => {
      const long = pieces.map(hex)
      long[0] = concatBytes([new Uint8Array(300).fill(0x61), long[0]])
      assert.deepStrictEqual(feed(long, isUtf8).pushes, pushes)
    })
  }

  test('ends invalid when the input stops inside a sequence', () => {
    // E2 82 are the first two of the three bytes of "€".
    assert.deepStrictEqual(feed([hex('41 e2 82')]), { pushes: [true], end: false })
  })

  test('ends valid when a sequence cut across pieces is completed', () => {
    // "€" is E2 82 AC.
    assert.deepStrictEqual(feed([hex('41 e2'), hex('82'), hex('ac 42')]), {
      pushes: [true, true, true],
      end: true,
    })
  })

  test('is usable again after reset', () => {
    const validator = new Utf8Validator()
    assert.equal(validator.push(hex('c0')), false)
    validator.reset()
    assert.equal(validator.push(hex('e2 82')), true)
    validator.reset()
    assert.equal(validator.end(), true)
    assert.equal(validator.push(hex('c3 a9')), true)
    assert.equal(validator.end(), true)
  })
})

describe('Utf8Validator native check', () => {
  test('consults the native check for a long piece and still checks the sequence cut at its end', () => {
    let calls = 0
    const counting: Utf8Check = (bytes) => {
      calls++
      return isUtf8(bytes)
    }
    const validator = new Utf8Validator(counting)
    // 400 ASCII bytes and the first byte of "😀" (F0 9F 98 80), then the rest, then 400 more ASCII bytes.
    const ascii = new Uint8Array(400).fill(0x61)
    assert.equal(validator.push(concatBytes([ascii, hex('f0')])), true)
    assert.ok(calls > 0)
    assert.equal(validator.push(concatBytes([hex('9f 98 80'), ascii])), true)
    assert.equal(validator.end(), true)
  })

  test('fails a long piece whose native check fails', () => {
    // 300 ASCII bytes with C0 80 (an overlong NUL) in the middle.
    const bytes = concatBytes([new Uint8Array(150).fill(0x61), hex('c0 80'), new Uint8Array(150).fill(0x61)])
    assert.deepStrictEqual(feed([bytes], isUtf8), { pushes: [false], end: false })
  })
})

describe('validateUtf8', () => {
  test('accepts whole valid text', () => {
    // "héllo €😀"
    assert.equal(validateUtf8(hex('68 c3 a9 6c 6c 6f 20 e2 82 ac f0 9f 98 80')), true)
  })

  test('rejects text that ends inside a sequence', () => {
    assert.equal(validateUtf8(hex('68 c3')), false)
  })

  test('rejects an encoded surrogate with or without the native check', () => {
    // ED A0 80 would be U+D800.
    assert.equal(validateUtf8(hex('ed a0 80')), false)
    assert.equal(validateUtf8(concatBytes([new Uint8Array(300), hex('ed a0 80')]), isUtf8), false)
  })

  test('accepts an empty input', () => {
    assert.equal(validateUtf8(new Uint8Array(0)), true)
  })
})
