// stringifyJson, the event encoder's shortcut for long strings, must write exactly what JSON.stringify
// writes: checked against JSON.stringify on strings built to sit near every character that needs escaping,
// and through encodePacket, whose scan decides when the shortcut is taken.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { runInNewContext } from 'node:vm'
import fc from 'fast-check'
import { encodePacket } from '../../../src/socketio/codec/index.js'
import { isPlainJsonString, stringifyJson } from '../../../src/socketio/codec/stringify-json.js'

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

const otherRealm: unknown[] = runInNewContext(
  '[new String("hi"), new Number(5), new Boolean(false), { a: 1 }]',
)

class Point {
  x = 1
  y = 'y'.repeat(300)
}

// JSON values with long strings in them, and what JSON.stringify writes differently in an array and an
// object (undefined, functions, symbols) or specially (boxed primitives, -0, non-finite numbers).
const value = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    longString,
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.constant(() => 1),
    fc.constant(Symbol('s')),
    longString.map((s) => new String(s)),
    // What only JSON.stringify knows how to write: boxed values of another realm, class instances, Maps.
    fc.constantFrom(...otherRealm, new Point(), new Map([[1, 2]])),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('0', '10', '2', '__proto__')), tie('value'), {
      maxKeys: 4,
    }),
  ),
})).value

describe('stringifyJson', () => {
  test('writes what JSON.stringify writes, long strings or not, at any depth', () => {
    fc.assert(
      fc.property(value, (v) => {
        assert.equal(stringifyJson(v), JSON.stringify(v))
      }),
      { numRuns: 3000 },
    )
  })

  test('writes null for what JSON.stringify leaves out of an array, and leaves it out of an object', () => {
    const long = 'a'.repeat(300)
    assert.equal(stringifyJson([long, undefined, () => 1, Symbol('s')]), `["${long}",null,null,null]`)
    assert.equal(stringifyJson({ a: long, b: undefined, c: () => 1 }), `{"a":"${long}"}`)
  })

  test('throws what JSON.stringify throws', () => {
    assert.throws(() => stringifyJson(['x'.repeat(300), 1n]), TypeError)
    assert.throws(() => stringifyJson(['x'.repeat(300), Object(1n)]), TypeError)
  })
})

describe('encodePacket with long strings', () => {
  test('writes the packet JSON.stringify would, whatever else the arguments hold', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 4 }), (args) => {
        const [text] = encodePacket({ type: 2, namespace: '/', data: ['event', ...args] })
        assert.equal(text, `2${JSON.stringify(['event', ...args])}`)
      }),
      { numRuns: 2000 },
    )
  })

  test('lets toJSON see its own key, next to a long string', () => {
    const keys: string[] = []
    const dated = { toJSON: (key: string) => keys.push(key) }
    const long = 'x'.repeat(300)
    const [text] = encodePacket({ type: 2, namespace: '/', data: ['event', long, { at: dated }] })
    assert.equal(text, `2["event","${long}",{"at":1}]`)
    assert.deepEqual(keys, ['at'])
  })

  test('still finds bytes next to a long string', () => {
    const long = 'x'.repeat(300)
    const [text, bytes] = encodePacket({ type: 2, namespace: '/', data: ['event', long, Uint8Array.of(1)] })
    assert.equal(text, `51-["event","${long}",{"_placeholder":true,"num":0}]`)
    assert.deepEqual(bytes, Uint8Array.of(1))
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
