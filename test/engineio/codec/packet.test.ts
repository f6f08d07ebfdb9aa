// Engine.IO packets (protocol v4 §Protocol, §Packet encoding/WebSocket): the spec's examples as literal text and
// bytes, every violation as a typed error, and fast-check properties for round trip and totality.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import {
  decodePacket,
  decodeTextPacket,
  EngineErrorCode,
  EngineIOProtocolError,
  encodePacket,
  openPacket,
  type Packet,
  PacketType,
} from '../../../src/engineio/codec/index.js'
import { hex } from '../../helpers/bytes.js'

describe('decoding the spec examples', () => {
  test('decodes the probe 2probe as a ping with data "probe"', () => {
    assert.deepEqual(decodeTextPacket('2probe'), { type: PacketType.Ping, data: 'probe' })
  })

  test('decodes 4hello as a message "hello" and 4€€€ as a message of three euro signs', () => {
    assert.deepEqual(decodeTextPacket('4hello'), { type: PacketType.Message, data: 'hello' })
    assert.deepEqual(decodeTextPacket('4€€€'), { type: PacketType.Message, data: '€€€' })
  })

  test('decodes each type digit 0 to 6 alone as its packet with empty data', () => {
    const types = ['0', '1', '2', '3', '4', '5', '6'].map((text) => decodeTextPacket(text))
    assert.deepEqual(
      types,
      [0, 1, 2, 3, 4, 5, 6].map((type) => ({ type, data: '' })),
    )
  })

  test('keeps data after any type, as the grammar <packet type>[<data>] allows', () => {
    assert.deepEqual(decodeTextPacket('1bye'), { type: PacketType.Close, data: 'bye' })
  })

  test('decodes a binary WebSocket message 01 02 03 04 as a message of those bytes', () => {
    assert.deepEqual(decodePacket(hex('01 02 03 04')), { type: PacketType.Message, data: hex('01 02 03 04') })
  })

  test('decodes an empty binary message as a message of no bytes', () => {
    assert.deepEqual(decodePacket(new Uint8Array(0)), { type: PacketType.Message, data: new Uint8Array(0) })
  })
})

describe('violations', () => {
  test('returns eio-empty-packet, HTTP 400 with code 3, for empty text', () => {
    const error = decodeTextPacket('')
    assert.ok(error instanceof EngineIOProtocolError)
    assert.equal(error.code, 'eio-empty-packet')
    assert.equal(error.httpStatus, 400)
    assert.equal(error.engineCode, EngineErrorCode.BadRequest)
    assert.equal(error.body, '{"code":3,"message":"Bad request"}')
  })

  for (const text of ['abc', '7', '9x', '/', ' 4hello', '٤hello']) {
    test(`returns eio-unknown-packet-type for ${JSON.stringify(text)}`, () => {
      const error = decodeTextPacket(text)
      assert.ok(error instanceof EngineIOProtocolError)
      assert.equal(error.code, 'eio-unknown-packet-type')
    })
  }
})

describe('encoding', () => {
  test('encodes the probe answer as 3probe and a close packet as 1', () => {
    assert.equal(encodePacket({ type: PacketType.Pong, data: 'probe' }), '3probe')
    assert.equal(encodePacket({ type: PacketType.Close, data: '' }), '1')
  })

  test('encodes a binary message as its bare bytes, with no type byte', () => {
    assert.deepEqual(encodePacket({ type: PacketType.Message, data: hex('01 02 03') }), hex('01 02 03'))
  })

  test('writes the open packet with sid, upgrades, pingInterval, pingTimeout and maxPayload in that order', () => {
    const packet = openPacket({
      sid: 'lv_VI97HAXpY6yYWAAAC',
      upgrades: ['websocket'],
      pingInterval: 25000,
      pingTimeout: 20000,
      maxPayload: 1000000,
    })
    assert.equal(
      encodePacket(packet),
      '0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}',
    )
  })
})

const textPacket: fc.Arbitrary<Packet> = fc
  .record({
    type: fc.constantFrom(...Object.values(PacketType)),
    data: fc.string({ unit: 'binary', maxLength: 40 }),
  })
  .map(({ type, data }) => ({ type, data })) // plain objects: fc.record's have no prototype

describe('properties', () => {
  test('a text packet survives encoding and decoding unchanged', () => {
    fc.assert(
      fc.property(textPacket, (packet) => {
        assert.deepEqual(decodePacket(encodePacket(packet)), packet)
      }),
    )
  })

  test('a binary message survives encoding and decoding unchanged', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (data) => {
        const packet: Packet = { type: PacketType.Message, data }
        assert.deepEqual(decodePacket(encodePacket(packet)), packet)
      }),
    )
  })

  test('any text decodes to a packet or a typed error, never a throw, and only 0–6 start a packet', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (text) => {
        const result = decodeTextPacket(text)
        const startsWithType = /^[0-6]/.test(text)
        if (startsWithType) assert.ok(!(result instanceof EngineIOProtocolError))
        else
          assert.ok(
            result instanceof EngineIOProtocolError && result.engineCode === EngineErrorCode.BadRequest,
          )
      }),
    )
  })
})
