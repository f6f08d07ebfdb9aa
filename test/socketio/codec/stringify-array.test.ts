// stringifyArray, the event encoder's shortcut for long strings, must write exactly what JSON.stringify
// writes: checked against JSON.stringify on strings built to sit near every character that needs escaping.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { isPlainJsonString, stringifyArray } from '../../../src/socketio/codec/stringify-array.js'

const filler = 'lorem ipsum dolor sit amet '.repeat(20)

// Characters JSON.stringify escapes or that change a string's representation, and plain ones.
const interesting = fc.constantFrom(
  '"',
  '\\',
  '\u0000',
  '\u0008',
  '\n',
  '\u001f',
  ' ',
  'a',
  '\u007f',
  'é',
  '€',
  '\u2028',
  '\ud83d\ude00',
  '\ud800',
  '\udfff',
  '\ud83d',
)

// A string long enough to take the shortcut, with a few interesting characters anywhere in it.
const longString = fc
  .tuple(fc.array(fc.tuple(fc.nat(filler.length), interesting), { maxLength: 3 }), fc.boolean())
  .map(([inserts, twoByte]) => {
    let s = twoByte ? `${filler}ü` : filler
    for (const [at, piece] of inserts) s = s.slice(0, at) + piece + s.slice(at)
    return s
  })

const element = fc.oneof(
  longString,
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.dictionary(fc.string(), longString, { maxKeys: 2 }),
  fc.array(longString, { maxLength: 2 }),
)

describe('stringifyArray', () => {
  test('writes what JSON.stringify writes, long strings or not', () => {
    fc.assert(
      fc.property(fc.array(element, { maxLength: 5 }), (values) => {
        assert.equal(stringifyArray(values), JSON.stringify(values))
      }),
      { numRuns: 2000 },
    )
  })

  test('writes null for what JSON.stringify leaves out of an array', () => {
    const values = ['a'.repeat(300), undefined, () => 1, Symbol('s')]
    assert.equal(stringifyArray(values), `["${'a'.repeat(300)}",null,null,null]`)
  })

  test('lets toJSON see its own index as the key', () => {
    const keys: string[] = []
    const dated = { toJSON: (key: string) => keys.push(key) }
    assert.equal(stringifyArray(['x'.repeat(300), dated]), JSON.stringify(['x'.repeat(300), 1]))
    assert.deepEqual(keys, ['1'])
  })

  test('throws what JSON.stringify throws', () => {
    assert.throws(() => stringifyArray(['x'.repeat(300), 1n]), TypeError)
  })
})

describe('isPlainJsonString', () => {
  test('is true exactly when JSON.stringify only adds quotes', () => {
    fc.assert(
      fc.property(longString, (s) => {
        assert.equal(isPlainJsonString(s), JSON.stringify(s) === `"${s}"`)
      }),
      { numRuns: 2000 },
    )
  })

  test('is false for each of the 32 control characters', () => {
    for (let code = 0; code < 0x20; code++) {
      assert.equal(isPlainJsonString(`${filler}${String.fromCharCode(code)}`), false, `U+${code}`)
    }
  })
})
