// Properties of encodePacket and PacketDecoder (Socket.IO v5): round trip with bytes nested anywhere, a stream
// of packets through one decoder, totality on hostile messages, and agreement with the official
// socket.io-parser both ways. Literal examples live in spec-examples, invalid-packets and attachments tests.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { Decoder as OfficialDecoder, Encoder as OfficialEncoder } from 'socket.io-parser'
import {
  encodePacket,
  isReservedEventName,
  type Packet,
  PacketDecoder,
  SocketIOProtocolError,
} from '../../../src/socketio/codec/index.js'

// fast-check's JSON values may hold -0, which JSON writes as 0: keep the form that survives the trip.
const json = fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.parse(JSON.stringify(value)) as unknown)
const jsonObject = fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 4, noNullPrototype: true })

/** Any JSON value with Uint8Arrays mixed in, nested up to four levels. */
const argument: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 4, depthSize: 'small' },
    json,
    fc.uint8Array({ maxLength: 16 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value

const namespace = fc.oneof(
  fc.constant('/'),
  fc.string({ maxLength: 10 }).map((name) => `/${name.replaceAll(',', '')}`),
)
const ackId = fc.oneof(fc.nat({ max: 1000 }), fc.maxSafeNat())
const eventName = fc.string({ maxLength: 12 }).filter((name) => !isReservedEventName(name))

/** Every packet the encoder takes, with events and acks given as plain EVENT and ACK. */
const anyPacket: fc.Arbitrary<Packet> = fc
  .oneof(
    fc.record(
      { type: fc.constant(0 as const), namespace, data: jsonObject },
      { requiredKeys: ['type', 'namespace'] },
    ),
    fc.record({ type: fc.constant(1 as const), namespace }),
    fc.record(
      {
        type: fc.constant(2 as const),
        namespace,
        data: fc
          .tuple(eventName, fc.array(argument, { maxLength: 4 }))
          .map(([name, args]) => [name, ...args]),
        id: ackId,
      },
      { requiredKeys: ['type', 'namespace', 'data'] },
    ) as fc.Arbitrary<Packet>,
    fc.record({
      type: fc.constant(3 as const),
      namespace,
      data: fc.array(argument, { maxLength: 4 }),
      id: ackId,
    }),
    fc.record({
      type: fc.constant(4 as const),
      namespace,
      data: fc.oneof(jsonObject, fc.string({ maxLength: 20 })),
    }),
  )
  // fc.record builds objects without a prototype; decoded packets are plain objects.
  .map((packet): Packet => ({ ...packet }))

/**
 * A decoder for round trips. The generated arguments can hold more byte arrays than the default attachment
 * limit (10, a server's guard against hostile packets, tested in invalid-packets), and every packet the
 * encoder makes must come back.
 */
function roundTripDecoder(): PacketDecoder {
  return new PacketDecoder({ maxAttachments: 1000 })
}

/** Pushes every message; returns what the decoder yielded other than `null`. */
function decodeAll(decoder: PacketDecoder, wire: readonly (string | Uint8Array)[]): unknown[] {
  return wire.map((message) => decoder.push(message)).filter((out) => out !== null)
}

describe('Socket.IO packet round trip', () => {
  test('decodes every encoded packet back to itself, bytes nested anywhere', () => {
    fc.assert(
      fc.property(anyPacket, (packet) => {
        assert.deepStrictEqual(decodeAll(roundTripDecoder(), encodePacket(packet)), [packet])
      }),
    )
  })

  test('decodes a stream of packets through one decoder, one message at a time', () => {
    fc.assert(
      fc.property(fc.array(anyPacket, { maxLength: 8 }), (packets) => {
        const wire = packets.flatMap((packet) => encodePacket(packet))
        assert.deepStrictEqual(decodeAll(roundTripDecoder(), wire), packets)
      }),
      { numRuns: 50 },
    )
  })

  test('decoding does not depend on how the attachments are held: own buffer, ArrayBuffer, or a slice', () => {
    const holding = fc.constantFrom('own', 'arraybuffer', 'slice')
    fc.assert(
      fc.property(anyPacket, fc.array(holding, { minLength: 16, maxLength: 16 }), (packet, ways) => {
        const [text, ...attachments] = encodePacket(packet)
        const held = attachments.map((bytes, i) => {
          if (ways[i] === 'arraybuffer') return bytes.slice().buffer
          if (ways[i] === 'own') return bytes
          const padded = new Uint8Array(bytes.length + 7)
          padded.set(bytes, 3)
          return padded.subarray(3, 3 + bytes.length)
        })
        const decoder = roundTripDecoder()
        const out = [text, ...held].map((message) => decoder.push(message)).at(-1)
        assert.deepStrictEqual(out, packet)
      }),
    )
  })
})

const fragment = fc.constantFrom(
  ...['0', '1', '2', '3', '4', '5', '6', '7', 'a', '-', '1-', '2-', '/', '/admin', ',', '12', '01', ' '],
  ...['[', ']', '{', '}', '"', '["a"]', '["connect"]', '[]', '{}', '"x"', '[1]', 'null', '\u0000'],
  ...['{"_placeholder":true,"num":0}', '{"_placeholder":true,"num":1}', '{"_placeholder":true}'],
)
/** Text that looks like packets often enough to reach every branch of the grammar. */
const packetLikeText = fc.oneof(
  fc.array(fragment, { maxLength: 8 }).map((parts) => parts.join('')),
  fc.string({ unit: 'binary', maxLength: 30 }),
  anyPacket.map((packet) => encodePacket(packet)[0]),
)
const message = fc.oneof(packetLikeText, fc.uint8Array({ maxLength: 4 }))

function isPacketOrError(out: unknown): boolean {
  return out === null || out instanceof SocketIOProtocolError || (typeof out === 'object' && 'type' in out)
}

describe('PacketDecoder totality', () => {
  test('answers any sequence of strings and bytes with a packet, null or a violation, never an exception', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 6 }), fc.nat({ max: 3 }), (messages, maxAttachments) => {
        const decoder = new PacketDecoder({ maxAttachments, maxDepth: 3 })
        for (const out of messages.map((m) => decoder.push(m))) assert.ok(isPacketOrError(out))
      }),
      { numRuns: 300 },
    )
  })

  test('answers random text (any UTF-16, lone surrogates included) without an exception', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        assert.ok(isPacketOrError(new PacketDecoder().push(text)))
      }),
      { numRuns: 300 },
    )
  })
})

/** The official decoder's packet in our shape, `null` while it waits, or the error it threw. */
function officialDecode(wire: readonly (string | Uint8Array)[]): unknown {
  const decoder = new OfficialDecoder()
  let decoded: unknown = null
  decoder.on('decoded', (packet: { type: number; nsp: string; data?: unknown; id?: number }) => {
    const { type, nsp, data, id } = packet
    decoded = {
      type,
      namespace: nsp,
      ...(data === undefined ? {} : { data }),
      ...(id === undefined ? {} : { id }),
    }
  })
  try {
    for (const m of wire) decoder.add(m)
  } catch (error) {
    return error
  }
  return decoded
}

describe('agreement with the official socket.io-parser', () => {
  test('the official decoder reads what we encode as the same packet', () => {
    fc.assert(
      fc.property(anyPacket, (packet) => {
        assert.deepStrictEqual(officialDecode(encodePacket(packet)), packet)
      }),
    )
  })

  test('we read what the official encoder writes as the same packet', () => {
    fc.assert(
      fc.property(anyPacket, (packet) => {
        const wire = new OfficialEncoder().encode({ ...packet, nsp: packet.namespace }) as (
          | string
          | Uint8Array
        )[]
        assert.deepStrictEqual(decodeAll(roundTripDecoder(), wire), [packet])
      }),
    )
  })

  test('every text packet we accept, the official decoder accepts as the same packet (we are only stricter)', () => {
    fc.assert(
      fc.property(packetLikeText, (text) => {
        const ours = new PacketDecoder().push(text)
        if (ours instanceof SocketIOProtocolError) return
        assert.deepStrictEqual(officialDecode([text]), ours)
      }),
      { numRuns: 500 },
    )
  })
})
