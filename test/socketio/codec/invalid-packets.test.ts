// PacketDecoder against literal packets the Socket.IO v5 protocol forbids, each with the code it must earn;
// the decoder's limits at and one past; and encodePacket refusing packets our decoder would refuse.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  encodePacket,
  type Packet,
  PacketDecoder,
  type PacketDecoderOptions,
  packetDecoderDefaults,
  SocketIOProtocolError,
  type SocketIOViolation,
} from '../../../src/socketio/codec/index.js'

interface Violation {
  /** Completes the title "refuses … with <code>". */
  when: string
  /** Messages pushed in turn; the violation comes with the last. */
  wire: (string | Uint8Array)[]
  code: SocketIOViolation
  options?: Partial<PacketDecoderOptions>
}

const bytes = (...values: number[]) => Uint8Array.from(values)
const placeholder = (num: unknown) => JSON.stringify({ _placeholder: true, num })

const violations: Violation[] = [
  { when: 'an empty message', wire: [''], code: 'sio-unknown-packet-type' },
  { when: 'type 7', wire: ['7["a"]'], code: 'sio-unknown-packet-type' },
  // The suite's "4abc" without its Engine.IO "4".
  { when: 'type "a" (suite: unknown packet type)', wire: ['abc'], code: 'sio-unknown-packet-type' },
  { when: 'a BINARY_EVENT without "<count>-"', wire: ['5["a"]'], code: 'sio-invalid-attachment-count' },
  { when: 'a BINARY_EVENT with "-" and no count', wire: ['5-["a"]'], code: 'sio-invalid-attachment-count' },
  { when: 'a BINARY_EVENT with a count of 0', wire: ['50-["a"]'], code: 'sio-invalid-attachment-count' },
  { when: 'a BINARY_ACK with a count of "x"', wire: ['6x-1[]'], code: 'sio-invalid-attachment-count' },
  { when: 'a count with a leading zero', wire: ['501-["a"]'], code: 'sio-invalid-attachment-count' },
  { when: 'an ack id of letters (suite: invalid ack id)', wire: ['2abc["a",1]'], code: 'sio-invalid-ack-id' },
  { when: 'a space before the payload', wire: ['2 ["a"]'], code: 'sio-invalid-ack-id' },
  { when: 'a negative ack id', wire: ['3-1[]'], code: 'sio-invalid-ack-id' },
  { when: 'an ack id with a leading zero', wire: ['201["a"]'], code: 'sio-invalid-ack-id' },
  { when: 'an ack id of 2^53', wire: ['39007199254740992[]'], code: 'sio-invalid-ack-id' },
  { when: 'an ACK without an id', wire: ['3["a"]'], code: 'sio-invalid-ack-id' },
  { when: 'a BINARY_ACK without an id', wire: [`61-[${placeholder(0)}]`], code: 'sio-invalid-ack-id' },
  { when: 'a CONNECT with an ack id', wire: ['0/admin,1{}'], code: 'sio-invalid-ack-id' },
  { when: 'a DISCONNECT with an ack id', wire: ['1/admin,3'], code: 'sio-invalid-ack-id' },
  { when: 'a CONNECT_ERROR with an ack id', wire: ['45"x"'], code: 'sio-invalid-ack-id' },
  { when: 'JSON cut short', wire: ['2["a"'], code: 'sio-invalid-json' },
  { when: 'text after the JSON', wire: ['2["a"]x'], code: 'sio-invalid-json' },
  {
    when: 'an EVENT whose payload is an object (suite: invalid payload format)',
    wire: ['2{}'],
    code: 'sio-invalid-payload',
  },
  { when: 'an EVENT without a payload', wire: ['2'], code: 'sio-invalid-payload' },
  { when: 'an EVENT with ack id and no payload', wire: ['2/admin,12'], code: 'sio-invalid-payload' },
  { when: 'an EVENT with an empty array', wire: ['2[]'], code: 'sio-invalid-payload' },
  { when: 'an EVENT named by a number', wire: ['2[1]'], code: 'sio-invalid-payload' },
  { when: 'an EVENT whose payload is a string', wire: ['2"a"'], code: 'sio-invalid-payload' },
  { when: 'an ACK whose payload is an object', wire: ['31{}'], code: 'sio-invalid-payload' },
  { when: 'an ACK without a payload', wire: ['31'], code: 'sio-invalid-payload' },
  { when: 'a CONNECT whose payload is an array', wire: ['0[]'], code: 'sio-invalid-payload' },
  { when: 'a CONNECT whose payload is a string', wire: ['0"token"'], code: 'sio-invalid-payload' },
  { when: 'a DISCONNECT with a payload', wire: ['1{}'], code: 'sio-invalid-payload' },
  { when: 'a CONNECT_ERROR without a payload', wire: ['4'], code: 'sio-invalid-payload' },
  { when: 'a CONNECT_ERROR whose payload is an array', wire: ['4["x"]'], code: 'sio-invalid-payload' },
  { when: 'an EVENT named "connect"', wire: ['2["connect"]'], code: 'sio-reserved-event-name' },
  {
    when: 'an EVENT named "connect_error"',
    wire: ['2["connect_error",{}]'],
    code: 'sio-reserved-event-name',
  },
  {
    when: 'an EVENT named "disconnect" in /admin',
    wire: ['2/admin,["disconnect"]'],
    code: 'sio-reserved-event-name',
  },
  { when: 'an EVENT named "disconnecting"', wire: ['2["disconnecting"]'], code: 'sio-reserved-event-name' },
  { when: 'an EVENT named "newListener"', wire: ['2["newListener"]'], code: 'sio-reserved-event-name' },
  {
    when: 'an EVENT named "removeListener"',
    wire: ['21["removeListener"]'],
    code: 'sio-reserved-event-name',
  },
  {
    when: 'a BINARY_EVENT named "connect"',
    wire: [`51-["connect",${placeholder(0)}]`],
    code: 'sio-reserved-event-name',
  },
  {
    when: 'a placeholder numbered past the count',
    wire: [`51-["a",${placeholder(1)}]`],
    code: 'sio-invalid-placeholder',
  },
  {
    when: 'a placeholder numbered -1',
    wire: [`51-["a",${placeholder(-1)}]`],
    code: 'sio-invalid-placeholder',
  },
  {
    when: 'a placeholder numbered 0.5',
    wire: [`52-["a",${placeholder(0.5)}]`],
    code: 'sio-invalid-placeholder',
  },
  {
    when: 'a placeholder numbered "0"',
    wire: [`51-["a",${placeholder('0')}]`],
    code: 'sio-invalid-placeholder',
  },
  {
    when: 'a placeholder without num, nested',
    wire: ['51-["a",{"b":[{"_placeholder":true}]}]'],
    code: 'sio-invalid-placeholder',
  },
  {
    when: 'a text packet while attachments are due (too few attachments)',
    wire: [`52-["a",${placeholder(0)},${placeholder(1)}]`, bytes(1), '2["b"]'],
    code: 'sio-missing-attachments',
  },
  { when: 'an attachment with no packet before it', wire: [bytes(1)], code: 'sio-unexpected-attachment' },
  {
    when: 'an attachment after a text-only packet',
    wire: ['2["a"]', bytes(1)],
    code: 'sio-unexpected-attachment',
  },
  {
    when: 'one attachment more than declared (too many attachments)',
    wire: [`51-["a",${placeholder(0)}]`, bytes(1), bytes(2)],
    code: 'sio-extra-attachment',
  },
  {
    when: 'a binary packet when maxAttachments is 0',
    wire: [`51-["a",${placeholder(0)}]`],
    code: 'sio-attachment-limit',
    options: { maxAttachments: 0 },
  },
]

function pushAll(decoder: PacketDecoder, wire: readonly (string | Uint8Array)[]): unknown[] {
  return wire.map((message) => decoder.push(message))
}

describe('PacketDecoder on forbidden packets', () => {
  for (const { when, wire, code, options } of violations) {
    test(`refuses ${when} with ${code}`, () => {
      const results = pushAll(new PacketDecoder(options), wire)
      const last = results.at(-1)
      assert.ok(last instanceof SocketIOProtocolError, `expected a violation, got ${JSON.stringify(last)}`)
      assert.equal(last.code, code)
      assert.ok(results.slice(0, -1).every((result) => !(result instanceof SocketIOProtocolError)))
    })
  }

  test('returns the same violation for every message after the first', () => {
    const decoder = new PacketDecoder()
    const first = decoder.push('2{}')
    assert.ok(first instanceof SocketIOProtocolError)
    assert.equal(decoder.push('2["fine"]'), first)
    assert.equal(decoder.push(bytes(1)), first)
    assert.equal(decoder.failure, first)
  })

  test('forgets the pending packet when it fails', () => {
    const decoder = new PacketDecoder()
    assert.equal(decoder.push(`52-["a",${placeholder(0)},${placeholder(1)}]`), null)
    assert.equal(decoder.awaitingAttachments, 2)
    assert.ok(decoder.push('2["b"]') instanceof SocketIOProtocolError)
    assert.equal(decoder.awaitingAttachments, 0)
  })
})

/** Arrays nested `depth` deep around "x", as the arguments of an event named "deep". */
function nestedEvent(depth: number): string {
  return `2["deep",${'['.repeat(depth - 1)}"x"${']'.repeat(depth - 1)}]`
}

function attachmentsPacket(count: number): (string | Uint8Array)[] {
  const placeholders = Array.from({ length: count }, (_, num) => placeholder(num))
  return [`5${count}-["many",${placeholders.join(',')}]`, ...placeholders.map((_, num) => bytes(num))]
}

describe('PacketDecoder limits', () => {
  test('has defaults of 10 attachments and 64 levels', () => {
    assert.deepStrictEqual(packetDecoderDefaults, { maxAttachments: 10, maxDepth: 64 })
  })

  test('accepts a packet with exactly the default 10 attachments', () => {
    const results = pushAll(new PacketDecoder(), attachmentsPacket(10))
    const packet = results.at(-1) as Packet & { data: unknown[] }
    assert.equal(packet.type, 2)
    assert.deepStrictEqual(
      packet.data.slice(1),
      Array.from({ length: 10 }, (_, num) => bytes(num)),
    )
  })

  test('refuses 11 attachments on the text packet, before any arrives', () => {
    const result = new PacketDecoder().push(attachmentsPacket(11)[0]!)
    assert.ok(result instanceof SocketIOProtocolError)
    assert.equal(result.code, 'sio-attachment-limit')
  })

  test('accepts 3 attachments with maxAttachments 3 and refuses 4', () => {
    assert.ok(
      !(pushAll(new PacketDecoder({ maxAttachments: 3 }), attachmentsPacket(3)).at(-1) instanceof Error),
    )
    const result = new PacketDecoder({ maxAttachments: 3 }).push(attachmentsPacket(4)[0]!)
    assert.equal((result as SocketIOProtocolError).code, 'sio-attachment-limit')
  })

  test('refuses a count too long to be a safe integer as over the limit', () => {
    const result = new PacketDecoder().push(`5${'9'.repeat(30)}-["a"]`)
    assert.equal((result as SocketIOProtocolError).code, 'sio-attachment-limit')
  })

  test('accepts a payload nested exactly the default 64 levels deep', () => {
    const packet = new PacketDecoder().push(nestedEvent(64))
    assert.ok(!(packet instanceof Error) && packet !== null)
  })

  test('refuses a payload nested 65 levels deep with sio-payload-too-deep', () => {
    const result = new PacketDecoder().push(nestedEvent(65))
    assert.equal((result as SocketIOProtocolError).code, 'sio-payload-too-deep')
  })

  test('accepts 3 levels with maxDepth 3 and refuses 4', () => {
    assert.ok(!(new PacketDecoder({ maxDepth: 3 }).push(nestedEvent(3)) instanceof Error))
    const result = new PacketDecoder({ maxDepth: 3 }).push(nestedEvent(4))
    assert.equal((result as SocketIOProtocolError).code, 'sio-payload-too-deep')
  })

  test('counts objects as levels, as arrays are', () => {
    assert.ok(!(new PacketDecoder({ maxDepth: 3 }).push('2["a",{"b":{"c":1}}]') instanceof Error))
    const result = new PacketDecoder({ maxDepth: 3 }).push('2["a",{"b":{"c":{}}}]')
    assert.equal((result as SocketIOProtocolError).code, 'sio-payload-too-deep')
  })

  test('counts a placeholder as the bytes it stands for, adding no level', () => {
    const decoder = new PacketDecoder({ maxDepth: 2 })
    assert.equal(decoder.push(`51-["a",[${placeholder(0)}]]`), null)
    assert.deepStrictEqual(decoder.push(bytes(7)), { type: 2, namespace: '/', data: ['a', [bytes(7)]] })
  })

  test('limits the depth of CONNECT payloads too', () => {
    const result = new PacketDecoder({ maxDepth: 2 }).push('0{"a":{"b":{}}}')
    assert.equal((result as SocketIOProtocolError).code, 'sio-payload-too-deep')
  })

  test('refuses a hostile 100000-level payload without exhausting the stack', () => {
    const result = new PacketDecoder().push(nestedEvent(100_000))
    assert.equal((result as SocketIOProtocolError).code, 'sio-payload-too-deep')
  })

  for (const options of [
    { maxAttachments: -1 },
    { maxAttachments: 1.5 },
    { maxDepth: 0 },
    { maxDepth: Number.NaN },
  ]) {
    test(`throws a RangeError for the option ${JSON.stringify(options)}`, () => {
      assert.throws(() => new PacketDecoder(options), { name: 'RangeError', code: 'sio-invalid-option' })
    })
  }
})

interface Misuse {
  when: string
  packet: Packet
  error: { name: 'RangeError' | 'TypeError'; code: string }
}

const misuses: Misuse[] = [
  {
    when: 'a namespace without a leading slash',
    packet: { type: 2, namespace: 'admin', data: ['a'] },
    error: { name: 'RangeError', code: 'sio-invalid-namespace' },
  },
  {
    when: 'a namespace with a comma',
    packet: { type: 0, namespace: '/a,b' },
    error: { name: 'RangeError', code: 'sio-invalid-namespace' },
  },
  {
    when: 'a negative ack id',
    packet: { type: 3, namespace: '/', data: [], id: -1 },
    error: { name: 'RangeError', code: 'sio-invalid-ack-id' },
  },
  {
    when: 'a fractional ack id',
    packet: { type: 2, namespace: '/', data: ['a'], id: 1.5 },
    error: { name: 'RangeError', code: 'sio-invalid-ack-id' },
  },
  {
    when: 'an ACK without an id',
    packet: { type: 3, namespace: '/', data: [] } as unknown as Packet,
    error: { name: 'RangeError', code: 'sio-invalid-ack-id' },
  },
  {
    when: 'a reserved event name',
    packet: { type: 2, namespace: '/', data: ['disconnect'] },
    error: { name: 'RangeError', code: 'sio-reserved-event-name' },
  },
  {
    when: 'an EVENT without a name',
    packet: { type: 2, namespace: '/', data: [] } as unknown as Packet,
    error: { name: 'TypeError', code: 'sio-invalid-payload' },
  },
  {
    when: 'a CONNECT with an array',
    packet: { type: 0, namespace: '/', data: [] } as unknown as Packet,
    error: { name: 'TypeError', code: 'sio-invalid-payload' },
  },
  {
    when: 'BINARY_EVENT, which only the encoder chooses',
    packet: { type: 5, namespace: '/', data: ['a', new Uint8Array(1)] } as unknown as Packet,
    error: { name: 'TypeError', code: 'sio-unknown-packet-type' },
  },
  {
    when: 'an unknown type',
    packet: { type: 9, namespace: '/' } as unknown as Packet,
    error: { name: 'TypeError', code: 'sio-unknown-packet-type' },
  },
]

describe('encodePacket on packets the protocol forbids', () => {
  for (const { when, packet, error } of misuses) {
    test(`throws a ${error.name} with ${error.code} for ${when}`, () => {
      assert.throws(() => encodePacket(packet), error)
    })
  }

  test('throws the TypeError of JSON.stringify for arguments that hold a cycle', () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    assert.throws(() => encodePacket({ type: 2, namespace: '/', data: ['a', cycle] }), TypeError)
  })
})
