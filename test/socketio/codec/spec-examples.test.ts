// The examples of the Socket.IO protocol v5 document ("Packet encoding", "Sample session") and of its test
// suite, both ways: each literal string decodes to its packet, and each packet encodes to that string.
// Strings from the sample session lose their leading "4", the Engine.IO message type. The document's
// BINARY_EVENT and BINARY_ACK packets are EVENT and ACK here: the binary type is only how they travel.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { encodePacket, type Packet, PacketDecoder } from '../../../src/socketio/codec/index.js'

interface Example {
  title: string
  packet: Packet
  /** The text packet, then each attachment. */
  wire: [string, ...Uint8Array[]]
}

const bytes = (...values: number[]) => Uint8Array.from(values)

const documentExamples: Example[] = [
  { title: 'CONNECT to the main namespace', packet: { type: 0, namespace: '/' }, wire: ['0'] },
  {
    title: 'CONNECT granted with a sid',
    packet: { type: 0, namespace: '/', data: { sid: 'wZX3oN0bSVIhsaknAAAI' } },
    wire: ['0{"sid":"wZX3oN0bSVIhsaknAAAI"}'],
  },
  { title: 'CONNECT to /admin', packet: { type: 0, namespace: '/admin' }, wire: ['0/admin,'] },
  {
    title: 'CONNECT to /admin granted with a sid',
    packet: { type: 0, namespace: '/admin', data: { sid: 'oSO0OpakMV_3jnilAAAA' } },
    wire: ['0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}'],
  },
  {
    title: 'CONNECT_ERROR with a message',
    packet: { type: 4, namespace: '/', data: { message: 'Not authorized' } },
    wire: ['4{"message":"Not authorized"}'],
  },
  { title: 'EVENT', packet: { type: 2, namespace: '/', data: ['foo'] }, wire: ['2["foo"]'] },
  {
    title: 'EVENT in /admin',
    packet: { type: 2, namespace: '/admin', data: ['bar'] },
    wire: ['2/admin,["bar"]'],
  },
  {
    title: 'BINARY_EVENT with one attachment',
    packet: { type: 2, namespace: '/', data: ['baz', bytes(1, 2, 3, 4)] },
    wire: ['51-["baz",{"_placeholder":true,"num":0}]', bytes(1, 2, 3, 4)],
  },
  {
    title: 'BINARY_EVENT in /admin with two attachments',
    packet: { type: 2, namespace: '/admin', data: ['baz', bytes(1, 2), bytes(3, 4)] },
    wire: [
      '52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
      bytes(1, 2),
      bytes(3, 4),
    ],
  },
  {
    title: 'EVENT with ack id 12',
    packet: { type: 2, namespace: '/', data: ['foo'], id: 12 },
    wire: ['212["foo"]'],
  },
  { title: 'ACK 12, empty', packet: { type: 3, namespace: '/', data: [], id: 12 }, wire: ['312[]'] },
  {
    title: 'EVENT in /admin with ack id 13',
    packet: { type: 2, namespace: '/admin', data: ['foo'], id: 13 },
    wire: ['2/admin,13["foo"]'],
  },
  {
    title: 'ACK 13 in /admin',
    packet: { type: 3, namespace: '/admin', data: ['bar'], id: 13 },
    wire: ['3/admin,13["bar"]'],
  },
  {
    title: 'BINARY_EVENT with ack id 14',
    packet: { type: 2, namespace: '/', data: ['foo', bytes(1, 2, 3, 4)], id: 14 },
    wire: ['51-14["foo",{"_placeholder":true,"num":0}]', bytes(1, 2, 3, 4)],
  },
  { title: 'ACK 14', packet: { type: 3, namespace: '/', data: ['bar'], id: 14 }, wire: ['314["bar"]'] },
  {
    title: 'EVENT with ack id 15',
    packet: { type: 2, namespace: '/', data: ['foo'], id: 15 },
    wire: ['215["foo"]'],
  },
  {
    title: 'BINARY_ACK 15',
    packet: { type: 3, namespace: '/', data: ['bar', bytes(1, 2, 3, 4)], id: 15 },
    wire: ['61-15["bar",{"_placeholder":true,"num":0}]', bytes(1, 2, 3, 4)],
  },
  { title: 'DISCONNECT', packet: { type: 1, namespace: '/' }, wire: ['1'] },
  { title: 'DISCONNECT from /admin', packet: { type: 1, namespace: '/admin' }, wire: ['1/admin,'] },
  // Sample session, WebSocket frames.
  {
    title: 'sample session: CONNECT granted in /admin',
    packet: { type: 0, namespace: '/admin', data: { sid: '-G5j-67EZFp-q59rADQM' } },
    wire: ['0/admin,{"sid":"-G5j-67EZFp-q59rADQM"}'],
  },
  {
    title: 'sample session: EVENT tellme with ack id 1 in /admin',
    packet: { type: 2, namespace: '/admin', data: ['tellme'], id: 1 },
    wire: ['2/admin,1["tellme"]'],
  },
  {
    title: 'sample session: BINARY_ACK 1 in /admin',
    packet: { type: 3, namespace: '/admin', data: [bytes(0xca, 0xfe)], id: 1 },
    wire: ['61-/admin,1[{"_placeholder":true,"num":0}]', bytes(0xca, 0xfe)],
  },
  {
    title: 'sample session: EVENT hey Jude',
    packet: { type: 2, namespace: '/', data: ['hey', 'Jude'] },
    wire: ['2["hey","Jude"]'],
  },
]

// From the protocol repository's test suite (test-suite/test-suite.js).
const suiteExamples: Example[] = [
  {
    title: 'suite: CONNECT with a token',
    packet: { type: 0, namespace: '/', data: { token: '123' } },
    wire: ['0{"token":"123"}'],
  },
  {
    title: 'suite: CONNECT to /custom with a token',
    packet: { type: 0, namespace: '/custom', data: { token: 'abc' } },
    wire: ['0/custom,{"token":"abc"}'],
  },
  {
    title: 'suite: CONNECT_ERROR for an unknown namespace',
    packet: { type: 4, namespace: '/random', data: { message: 'Invalid namespace' } },
    wire: ['4/random,{"message":"Invalid namespace"}'],
  },
  {
    title: 'suite: EVENT with mixed arguments',
    packet: { type: 2, namespace: '/', data: ['message', 1, '2', { 3: [true] }] },
    wire: ['2["message",1,"2",{"3":[true]}]'],
  },
  {
    title: 'suite: BINARY_EVENT with two attachments',
    packet: { type: 2, namespace: '/', data: ['message', bytes(1, 2, 3), bytes(4, 5, 6)] },
    wire: [
      '52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
      bytes(1, 2, 3),
      bytes(4, 5, 6),
    ],
  },
  {
    title: 'suite: EVENT with ack id 456',
    packet: { type: 2, namespace: '/', data: ['message-with-ack', 1, '2', { 3: [false] }], id: 456 },
    wire: ['2456["message-with-ack",1,"2",{"3":[false]}]'],
  },
  {
    title: 'suite: ACK 456',
    packet: { type: 3, namespace: '/', data: [1, '2', { 3: [false] }], id: 456 },
    wire: ['3456[1,"2",{"3":[false]}]'],
  },
  {
    title: 'suite: BINARY_EVENT with ack id 789',
    packet: { type: 2, namespace: '/', data: ['message-with-ack', bytes(1, 2, 3), bytes(4, 5, 6)], id: 789 },
    wire: [
      '52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
      bytes(1, 2, 3),
      bytes(4, 5, 6),
    ],
  },
  {
    title: 'suite: BINARY_ACK 789',
    packet: { type: 3, namespace: '/', data: [bytes(1, 2, 3), bytes(4, 5, 6)], id: 789 },
    wire: [
      '62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
      bytes(1, 2, 3),
      bytes(4, 5, 6),
    ],
  },
]

/** Feeds every message to one decoder; all but the last must leave it waiting. */
function decodeMessages(wire: readonly (string | Uint8Array)[]): unknown {
  const decoder = new PacketDecoder()
  const results = wire.map((message) => decoder.push(message))
  assert.deepStrictEqual(results.slice(0, -1), new Array(wire.length - 1).fill(null))
  return results.at(-1)
}

describe('Socket.IO v5 document examples', () => {
  for (const { title, packet, wire } of [...documentExamples, ...suiteExamples]) {
    test(`decodes ${title} from ${JSON.stringify(wire[0])}`, () => {
      assert.deepStrictEqual(decodeMessages(wire), packet)
    })
    test(`encodes ${title} as ${JSON.stringify(wire[0])}`, () => {
      assert.deepStrictEqual(encodePacket(packet), wire)
    })
  }
})

describe('Socket.IO v5 test-suite packets written without the trailing comma', () => {
  test('decodes "0/random" as CONNECT to /random', () => {
    assert.deepStrictEqual(decodeMessages(['0/random']), { type: 0, namespace: '/random' })
  })

  test('decodes "0/custom" as CONNECT to /custom', () => {
    assert.deepStrictEqual(decodeMessages(['0/custom']), { type: 0, namespace: '/custom' })
  })

  test('decodes "1/custom" as DISCONNECT from /custom', () => {
    assert.deepStrictEqual(decodeMessages(['1/custom']), { type: 1, namespace: '/custom' })
  })
})
