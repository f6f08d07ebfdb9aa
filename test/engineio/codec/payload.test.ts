// Polling payloads and base64 (protocol v4 §Packet encoding/HTTP long-polling, RFC 4648): the spec's examples
// as literal text, every violation as a typed error, and fast-check properties for round trip and totality.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import {
  decodeBase64,
  decodePayload,
  decodePayloadBytes,
  EngineIOProtocolError,
  encodeBase64,
  encodePayload,
  type Packet,
  PacketType,
} from '../../../src/engineio/codec/index.js'
import { hex } from '../../helpers/bytes.js'

describe('the spec examples', () => {
  test('splits 4hello\\x1e2\\x1e4world into message "hello", a ping and message "world"', () => {
    assert.deepEqual(decodePayload('4hello\x1e2\x1e4world'), [
      { type: PacketType.Message, data: 'hello' },
      { type: PacketType.Ping, data: '' },
      { type: PacketType.Message, data: 'world' },
    ])
  })

  test('reads bAQIDBA== as a binary message of the bytes 01 02 03 04', () => {
    assert.deepEqual(decodePayload('4hello\x1ebAQIDBA=='), [
      { type: PacketType.Message, data: 'hello' },
      { type: PacketType.Message, data: hex('01 02 03 04') },
    ])
  })

  test('writes text and binary messages as 4hello\\x1ebAQIDBA==', () => {
    const packets: Packet[] = [
      { type: PacketType.Message, data: 'hello' },
      { type: PacketType.Message, data: hex('01 02 03 04') },
    ]
    assert.equal(encodePayload(packets), '4hello\x1ebAQIDBA==')
  })

  test('reads a UTF-8 body 34 e2 82 ac as the message "€"', () => {
    assert.deepEqual(decodePayloadBytes(hex('34 e2 82 ac')), [{ type: PacketType.Message, data: '€' }])
  })
})

describe('payload violations', () => {
  const cases: [string, string][] = [
    ['', 'eio-empty-payload'],
    ['4a\x1e', 'eio-empty-packet'],
    ['\x1e4a', 'eio-empty-packet'],
    ['4a\x1eabc', 'eio-unknown-packet-type'],
    ['b!!!!', 'eio-invalid-base64'],
    ['bA', 'eio-invalid-base64'],
  ]
  for (const [body, code] of cases) {
    test(`returns ${code} for the body ${JSON.stringify(body)}`, () => {
      const error = decodePayload(body)
      assert.ok(error instanceof EngineIOProtocolError)
      assert.equal(error.code, code)
      assert.equal(error.httpStatus, 400)
    })
  }

  test('returns eio-invalid-utf8 for a body with the byte ff', () => {
    const error = decodePayloadBytes(hex('34 ff'))
    assert.ok(error instanceof EngineIOProtocolError)
    assert.equal(error.code, 'eio-invalid-utf8')
  })
})

describe('base64', () => {
  // RFC 4648 §10.
  const vectors: [string, string][] = [
    ['', ''],
    ['f', 'Zg=='],
    ['fo', 'Zm8='],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg=='],
    ['fooba', 'Zm9vYmE='],
    ['foobar', 'Zm9vYmFy'],
  ]
  for (const [plain, encoded] of vectors) {
    test(`encodes ${JSON.stringify(plain)} as ${JSON.stringify(encoded)} and back (RFC 4648 §10)`, () => {
      const bytes = new TextEncoder().encode(plain)
      assert.equal(encodeBase64(bytes), encoded)
      assert.deepEqual(decodeBase64(encoded), bytes)
    })
  }

  test('accepts base64 without its padding: Zg is "f", Zm8 is "fo"', () => {
    assert.deepEqual(decodeBase64('Zg'), hex('66'))
    assert.deepEqual(decodeBase64('Zm8'), hex('66 6f'))
  })

  for (const text of ['Z', 'Zg=', '=Zg=', 'Zm9v!', 'Zg==Zg==', 'Zm9vé', 'Zm 9v', 'Zm-_']) {
    test(`refuses ${JSON.stringify(text)} with null`, () => {
      assert.equal(decodeBase64(text), null)
    })
  }

  test('encodes like Node’s Buffer and decodes what it encodes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const encoded = encodeBase64(bytes)
        assert.equal(encoded, Buffer.from(bytes).toString('base64'))
        assert.deepEqual(decodeBase64(encoded), bytes)
      }),
    )
  })

  test('decodes any string to bytes or null, never a throw', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        const bytes = decodeBase64(text)
        assert.ok(bytes === null || bytes instanceof Uint8Array)
      }),
    )
  })
})

// Text data never holds the record separator: the protocol assumes it, and JSON never writes one.
const packet: fc.Arbitrary<Packet> = fc
  .oneof(
    fc.record({
      type: fc.constantFrom(...Object.values(PacketType)),
      data: fc.string({ unit: 'binary', maxLength: 30 }).filter((s) => !s.includes('\x1e')),
    }),
    fc.record({ type: fc.constant(PacketType.Message), data: fc.uint8Array({ maxLength: 60 }) }),
  )
  .map(({ type, data }) => ({ type, data }) as Packet) // plain objects: fc.record's have no prototype

describe('payload properties', () => {
  test('packets survive a payload unchanged and in order, as text and as UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.array(packet, { minLength: 1, maxLength: 8 }), (packets) => {
        const body = encodePayload(packets)
        assert.deepEqual(decodePayload(body), packets)
        assert.deepEqual(decodePayloadBytes(new TextEncoder().encode(body)), packets)
      }),
    )
  })

  test('any string decodes to packets or a typed error, never a throw', () => {
    const pieces = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.constantFrom('\x1e', 'b', '4', 'bAQ=='),
    )
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 8 }), (parts) => {
        const result = decodePayload(parts.join(''))
        assert.ok(result instanceof EngineIOProtocolError || Array.isArray(result))
      }),
    )
  })

  test('any bytes decode to packets or a typed error, never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), (bytes) => {
        const result = decodePayloadBytes(bytes)
        assert.ok(result instanceof EngineIOProtocolError || Array.isArray(result))
      }),
    )
  })
})
