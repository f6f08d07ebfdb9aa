// Binary attachments (Socket.IO v5, "Packet encoding"): which values the encoder moves out of the arguments and
// in what order, and where the decoder puts the bytes back. Packet strings here are written out by hand.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { encodePacket, PacketDecoder } from '../../../src/socketio/codec/index.js'

const bytes = (...values: number[]) => Uint8Array.from(values)
const placeholder = (num: number) => `{"_placeholder":true,"num":${num}}`

function decode(...wire: (string | Uint8Array | ArrayBuffer)[]): unknown {
  const decoder = new PacketDecoder()
  return wire.map((message) => decoder.push(message)).at(-1)
}

describe('encodePacket with bytes in the arguments', () => {
  test('numbers attachments in the order JSON.stringify meets them, at any depth', () => {
    const data: [string, ...unknown[]] = ['deep', { a: [1, { b: bytes(1) }], c: bytes(2) }, [[[bytes(3)]]]]
    assert.deepStrictEqual(encodePacket({ type: 2, namespace: '/', data }), [
      `53-["deep",{"a":[1,{"b":${placeholder(0)}}],"c":${placeholder(1)}},[[[${placeholder(2)}]]]]`,
      bytes(1),
      bytes(2),
      bytes(3),
    ])
  })

  test('sends the bytes it was given without copying them', () => {
    const payload = bytes(9, 9)
    const [, attachment] = encodePacket({ type: 3, namespace: '/', data: [payload], id: 1 })
    assert.equal(attachment, payload)
  })

  test('takes a Buffer as bytes, not as its toJSON form', () => {
    assert.deepStrictEqual(encodePacket({ type: 2, namespace: '/', data: ['b', Buffer.from([1, 2])] }), [
      `51-["b",${placeholder(0)}]`,
      Buffer.from([1, 2]),
    ])
  })

  test('takes an ArrayBuffer, a DataView and a Float32Array as their bytes', () => {
    const buffer = bytes(1, 2, 3, 4, 5, 6, 7, 8).buffer
    const [text, ...attachments] = encodePacket({
      type: 2,
      namespace: '/',
      data: ['views', buffer, new DataView(buffer, 2, 2), new Float32Array(buffer, 4, 1)],
    })
    assert.equal(text, `53-["views",${placeholder(0)},${placeholder(1)},${placeholder(2)}]`)
    assert.deepStrictEqual(attachments, [bytes(1, 2, 3, 4, 5, 6, 7, 8), bytes(3, 4), bytes(5, 6, 7, 8)])
  })

  test('moves out bytes that a toJSON method returns', () => {
    const wrapped = { toJSON: () => bytes(4, 2) }
    assert.deepStrictEqual(encodePacket({ type: 2, namespace: '/', data: ['w', wrapped] }), [
      `51-["w",${placeholder(0)}]`,
      bytes(4, 2),
    ])
  })

  test('sends an EVENT with a Date (a toJSON without bytes) as a plain EVENT', () => {
    const when = new Date(Date.UTC(2024, 0, 2))
    assert.deepStrictEqual(encodePacket({ type: 2, namespace: '/', data: ['at', when] }), [
      '2["at","2024-01-02T00:00:00.000Z"]',
    ])
  })

  test('leaves bytes in a CONNECT payload to JSON, as only events and acks carry attachments', () => {
    assert.deepStrictEqual(encodePacket({ type: 0, namespace: '/', data: { key: Buffer.from([1]) } }), [
      '0{"key":{"type":"Buffer","data":[1]}}',
    ])
  })
})

describe('PacketDecoder reassembling attachments', () => {
  test('waits for each declared attachment and reports how many are still due', () => {
    const decoder = new PacketDecoder()
    assert.equal(decoder.push(`62-/chat,7[${placeholder(1)},${placeholder(0)}]`), null)
    assert.equal(decoder.awaitingAttachments, 2)
    assert.equal(decoder.push(bytes(0)), null)
    assert.equal(decoder.awaitingAttachments, 1)
    assert.deepStrictEqual(decoder.push(bytes(1)), {
      type: 3,
      namespace: '/chat',
      data: [bytes(1), bytes(0)],
      id: 7,
    })
    assert.equal(decoder.awaitingAttachments, 0)
  })

  test('puts bytes back at any depth, in arrays and objects', () => {
    const text = `53-["deep",{"a":[1,{"b":${placeholder(0)}}],"c":${placeholder(1)}},[[[${placeholder(2)}]]]]`
    assert.deepStrictEqual(decode(text, bytes(1), bytes(2), bytes(3)), {
      type: 2,
      namespace: '/',
      data: ['deep', { a: [1, { b: bytes(1) }], c: bytes(2) }, [[[bytes(3)]]]],
    })
  })

  test('yields the attachment objects it was given', () => {
    const attachment = bytes(5)
    const packet = decode(`51-["a",${placeholder(0)}]`, attachment) as { data: unknown[] }
    assert.equal(packet.data[1], attachment)
  })

  test('reads an attachment pushed as an ArrayBuffer as a Uint8Array over it', () => {
    const packet = decode(`51-["a",${placeholder(0)}]`, bytes(1, 2).buffer) as { data: unknown[] }
    assert.deepStrictEqual(packet.data[1], bytes(1, 2))
  })

  test('puts the same attachment in two places that name it', () => {
    const packet = decode(`51-["twice",${placeholder(0)},{"again":${placeholder(0)}}]`, bytes(8))
    assert.deepStrictEqual(packet, {
      type: 2,
      namespace: '/',
      data: ['twice', bytes(8), { again: bytes(8) }],
    })
  })

  test('accepts an attachment that no placeholder names, as socket.io does', () => {
    assert.deepStrictEqual(decode(`52-["one",${placeholder(1)}]`, bytes(0), bytes(1)), {
      type: 2,
      namespace: '/',
      data: ['one', bytes(1)],
    })
  })

  test('keeps a placeholder under the key "__proto__" as an own property, leaving the prototype alone', () => {
    const packet = decode(`51-["p",{"__proto__":${placeholder(0)}}]`, bytes(6)) as { data: [string, object] }
    const holder = packet.data[1]
    assert.equal(Object.getPrototypeOf(holder), Object.prototype)
    assert.deepStrictEqual(Object.getOwnPropertyDescriptor(holder, '__proto__')?.value, bytes(6))
  })

  test('leaves placeholder-shaped objects of a text-only EVENT as data', () => {
    assert.deepStrictEqual(decode(`2["raw",${placeholder(5)}]`), {
      type: 2,
      namespace: '/',
      data: ['raw', { _placeholder: true, num: 5 }],
    })
  })

  test('leaves an object whose _placeholder is not true as data in a binary packet', () => {
    assert.deepStrictEqual(decode(`51-["a",${placeholder(0)},{"_placeholder":"yes","num":9}]`, bytes(1)), {
      type: 2,
      namespace: '/',
      data: ['a', bytes(1), { _placeholder: 'yes', num: 9 }],
    })
  })

  test('decodes the next packet after a binary one completes', () => {
    const decoder = new PacketDecoder()
    assert.equal(decoder.push(`51-["a",${placeholder(0)}]`), null)
    assert.ok(decoder.push(bytes(1)) !== null)
    assert.deepStrictEqual(decoder.push('2["b"]'), { type: 2, namespace: '/', data: ['b'] })
  })
})
