// Properties of FrameDecoder (RFC 6455 §5.1–5.6): round trip, chunking independence, totality and limits.
// Literal hostile frames live in hostile-frames.test.ts.
import assert from 'node:assert/strict'
import { isUtf8 } from 'node:buffer'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import {
  encodeCloseBody,
  encodeFrame,
  type Frame,
  FrameDecoder,
  type FrameDecoderOptions,
  frameHeaderBytes,
  Opcode,
  WebSocketProtocolError,
} from '../../../src/websocket/codec/index.js'
import { concatBytes, splitAt } from '../../helpers/bytes.js'
import { decodeChunks, decodeWith, decoderOptions } from '../../helpers/frame-decoding.js'

const encoder = new TextEncoder()

const validCloseCode = fc.oneof(
  fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014),
  fc.integer({ min: 3000, max: 4999 }),
)

// Close bodies are valid: a 0-byte body, or a code with a reason of at most 30 code points (≤ 120 bytes).
const controlFrame: fc.Arbitrary<Frame> = fc
  .oneof(
    fc.record({
      opcode: fc.constantFrom(Opcode.Ping, Opcode.Pong),
      payload: fc.uint8Array({ maxLength: 125 }),
    }),
    fc
      .record({ code: validCloseCode, reason: fc.string({ unit: 'binary', maxLength: 30 }) })
      .map(({ code, reason }) => ({ opcode: Opcode.Close, payload: encodeCloseBody(code, reason) })),
    fc.constant(null).map(() => ({ opcode: Opcode.Close, payload: new Uint8Array(0) })),
  )
  .map(({ opcode, payload }) => ({ fin: true, rsv1: false, opcode, payload }))

// Mostly short payloads; some long enough for the 16-bit length, capped at a few KiB for a small machine.
const messageStart = fc
  .oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }).map((s) => encoder.encode(s)) },
    {
      weight: 1,
      arbitrary: fc
        .string({ unit: 'binary', minLength: 40, maxLength: 800, size: 'max' })
        .map((s) => encoder.encode(s)),
    },
  )
  .chain((text) =>
    fc.oneof(
      fc.constant({ opcode: Opcode.Text as Opcode, payload: text }),
      fc
        .uint8Array({ minLength: text.length, maxLength: text.length + 1000, size: 'max' })
        .map((payload) => ({
          opcode: Opcode.Binary as Opcode,
          payload,
        })),
    ),
  )

/** Frames of one data message: its payload cut into fragments (text may be cut inside a character), with control frames between. */
function dataMessage(compression: boolean): fc.Arbitrary<Frame[]> {
  return fc
    .record({
      start: messageStart,
      cuts: fc.array(fc.nat(), { maxLength: 4 }),
      compressed: compression ? fc.boolean() : fc.constant(false),
      // Stands in for deflated bytes, which need not be UTF-8 even in a text message.
      deflated: fc.uint8Array({ maxLength: 60 }),
      between: fc.array(fc.option(controlFrame, { nil: undefined }), { maxLength: 4 }),
    })
    .map(({ start, cuts, compressed, deflated, between }) =>
      fragmentsOf(start.opcode, compressed ? deflated : start.payload, cuts, compressed).flatMap(
        (fragment, i) => {
          const control = i > 0 ? between[i - 1] : undefined
          return control ? [control, fragment] : [fragment]
        },
      ),
    )
}

/** A message's payload split at `cuts` into frames: the first carries the opcode (and RSV1), the last FIN. */
function fragmentsOf(opcode: Opcode, payload: Uint8Array, cuts: readonly number[], rsv1 = false): Frame[] {
  const pieces = splitAt(payload, cuts)
  return pieces.map((piece, i) => ({
    fin: i === pieces.length - 1,
    rsv1: i === 0 && rsv1,
    opcode: i === 0 ? opcode : Opcode.Continuation,
    payload: piece,
  }))
}

function frameStream(compression: boolean): fc.Arbitrary<Frame[]> {
  return fc
    .array(
      fc.oneof(
        dataMessage(compression),
        controlFrame.map((frame) => [frame]),
      ),
      { maxLength: 6 },
    )
    .map((messages) => messages.flat())
}

const maskKey = fc.uint8Array({ minLength: 4, maxLength: 4 })

/** A valid stream of frames, how it is put on the wire, and the decoder options that read it back. */
const validStream = fc.boolean().chain((compression) =>
  fc.record({
    compression: fc.constant(compression),
    frames: frameStream(compression),
    masked: fc.boolean(),
    masks: fc.array(maskKey, { minLength: 1, maxLength: 8 }),
    native: fc.boolean(),
  }),
)

type ValidStream = typeof validStream extends fc.Arbitrary<infer T> ? T : never

function wireOf(stream: ValidStream): Uint8Array {
  const { frames, masked, masks } = stream
  return concatBytes(
    frames.map((frame, i) => encodeFrame(frame, masked ? masks[i % masks.length] : undefined)),
  )
}

function optionsOf(stream: ValidStream): Partial<FrameDecoderOptions> {
  return {
    role: stream.masked ? 'server' : 'client',
    compression: stream.compression,
    utf8Check: stream.native ? isUtf8 : undefined,
  }
}

describe('FrameDecoder round trip', () => {
  test('decodes encoded frames, masked or not, back to the same frames', () => {
    fc.assert(
      fc.property(validStream, (stream) => {
        assert.deepStrictEqual(decodeWith(optionsOf(stream), wireOf(stream)), {
          frames: stream.frames,
          error: null,
        })
      }),
    )
  })

  test('decoding does not depend on how the bytes are chunked', () => {
    // Payloads split across chunks go into buffers from `allocate`: poisoned ones show any byte left unwritten.
    const allocate = (bytes: number) => new Uint8Array(bytes).fill(0xa5)
    fc.assert(
      fc.property(validStream, fc.array(fc.nat(), { maxLength: 12 }), (stream, cuts) => {
        const decoder = new FrameDecoder(decoderOptions({ ...optionsOf(stream), allocate }))
        assert.deepStrictEqual(decodeChunks(decoder, splitAt(wireOf(stream), cuts)), {
          frames: stream.frames,
          error: null,
        })
      }),
    )
  })

  test('decodes a stream fed one byte at a time', () => {
    fc.assert(
      fc.property(validStream, (stream) => {
        const wire = wireOf(stream)
        const bytes = Array.from(wire, (_, i) => wire.slice(i, i + 1))
        const decoder = new FrameDecoder(decoderOptions(optionsOf(stream)))
        assert.deepStrictEqual(decodeChunks(decoder, bytes), { frames: stream.frames, error: null })
      }),
      { numRuns: 30 },
    )
  })
})

const anyOptions: fc.Arbitrary<FrameDecoderOptions> = fc.record({
  role: fc.constantFrom('server' as const, 'client' as const),
  maxPayloadBytes: fc.integer({ min: 0, max: 5000 }),
  maxFragments: fc.integer({ min: 1, max: 8 }),
  compression: fc.boolean(),
  utf8Check: fc.constantFrom(undefined, isUtf8),
})

/**
 * Bytes a decoder should survive: random bytes, or valid wire with a few bytes overwritten (read with the
 * options it was written for, but tight limits) so that decoding gets past the first header before going wrong.
 */
const hostileInput: fc.Arbitrary<{ options: FrameDecoderOptions; wire: Uint8Array }> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ options: anyOptions, wire: fc.uint8Array({ maxLength: 64 }) }) },
  {
    weight: 3,
    arbitrary: fc
      .record({
        stream: validStream,
        maxPayloadBytes: fc.integer({ min: 0, max: 5000 }),
        maxFragments: fc.integer({ min: 1, max: 8 }),
        writes: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), {
          maxLength: 3,
        }),
      })
      .map(({ stream, maxPayloadBytes, maxFragments, writes }) => {
        const wire = wireOf(stream)
        for (const { at, value } of writes) if (wire.length > 0) wire[at % wire.length] = value
        return { options: decoderOptions({ ...optionsOf(stream), maxPayloadBytes, maxFragments }), wire }
      }),
  },
)

const knownOpcodes: readonly number[] = Object.values(Opcode)

function assertWellFormed(frame: Frame): void {
  assert.ok(knownOpcodes.includes(frame.opcode))
  assert.ok(frame.payload instanceof Uint8Array)
  if (frame.opcode >= Opcode.Close) {
    assert.equal(frame.fin, true)
    assert.equal(frame.rsv1, false)
    assert.ok(frame.payload.length <= 125)
  }
}

function assertViolation(error: WebSocketProtocolError): void {
  assert.ok([1002, 1007, 1009].includes(error.closeCode))
  assert.match(error.code, /^ws-[a-z0-9-]+$/)
}

describe('FrameDecoder totality', () => {
  test('random bytes yield well-formed frames or a protocol error, never an exception', () => {
    fc.assert(
      fc.property(hostileInput, fc.array(fc.nat(), { maxLength: 6 }), ({ options, wire }, cuts) => {
        const decoder = new FrameDecoder(options)
        for (const chunk of splitAt(wire, cuts)) {
          const out = decoder.push(chunk)
          if (out instanceof WebSocketProtocolError) assertViolation(out)
          else {
            assert.ok(Array.isArray(out))
            out.forEach(assertWellFormed)
          }
        }
      }),
    )
  })

  test('once a violation is found, failure holds it and every later push returns that same error', () => {
    fc.assert(
      fc.property(hostileInput, fc.array(fc.nat(), { maxLength: 6 }), ({ options, wire }, cuts) => {
        const decoder = new FrameDecoder(options)
        assert.equal(decoder.failure, null)
        for (const chunk of [...splitAt(wire, cuts), new Uint8Array(0), Uint8Array.of(0x81, 0x00)]) {
          const before: WebSocketProtocolError | null = decoder.failure
          const out = decoder.push(chunk)
          if (before !== null) assert.equal(out, before)
          if (out instanceof WebSocketProtocolError) assert.equal(decoder.failure, out)
          // An empty result never hides a violation: it is returned directly when no frame precedes it.
          else if (out.length === 0) assert.equal(decoder.failure, null)
        }
      }),
    )
  })

  test('hostile bytes yield the same frames and the same violation however they are chunked', () => {
    fc.assert(
      fc.property(hostileInput, fc.array(fc.nat(), { maxLength: 8 }), ({ options, wire }, cuts) => {
        const whole = decodeChunks(new FrameDecoder(options), [wire.slice()])
        const pieces = decodeChunks(new FrameDecoder(options), splitAt(wire, cuts))
        assert.deepStrictEqual(pieces.frames, whole.frames)
        assert.equal(pieces.error?.code, whole.error?.code)
        assert.equal(pieces.error?.closeCode, whole.error?.closeCode)
      }),
    )
  })
})

const messageOpcode = fc.constantFrom(Opcode.Text, Opcode.Binary)

/** `length` bytes of ASCII, valid as text or binary. */
function asciiPayload(length: number): Uint8Array {
  return new Uint8Array(length).fill(0x61)
}

function assertFails(
  decoded: { error: WebSocketProtocolError | null },
  closeCode: number,
  code: string,
): void {
  assert.ok(decoded.error instanceof WebSocketProtocolError)
  assert.equal(decoded.error.closeCode, closeCode)
  assert.equal(decoded.error.code, code)
}

describe('FrameDecoder maxPayloadBytes', () => {
  test('accepts a single frame of exactly maxPayloadBytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4096 }), messageOpcode, fc.boolean(), (limit, opcode, masked) => {
        const frame: Frame = { fin: true, rsv1: false, opcode, payload: asciiPayload(limit) }
        const wire = encodeFrame(frame, masked ? Uint8Array.of(1, 2, 3, 4) : undefined)
        const role = masked ? 'server' : 'client'
        assert.deepStrictEqual(decodeWith({ role, maxPayloadBytes: limit }, wire), {
          frames: [frame],
          error: null,
        })
      }),
    )
  })

  test('fails with 1009 ws-message-too-big on a single frame one byte over maxPayloadBytes, from its header alone', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4096 }), messageOpcode, (limit, opcode) => {
        const wire = encodeFrame({ fin: true, rsv1: false, opcode, payload: asciiPayload(limit + 1) })
        const header = wire.slice(0, frameHeaderBytes(limit + 1, false))
        assertFails(decodeWith({ maxPayloadBytes: limit }, header), 1009, 'ws-message-too-big')
        assertFails(decodeWith({ maxPayloadBytes: limit }, wire), 1009, 'ws-message-too-big')
      }),
    )
  })

  test('accepts fragments that sum to exactly maxPayloadBytes, for each of several messages', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4096 }),
        messageOpcode,
        fc.array(fc.array(fc.nat(), { maxLength: 5 }), { minLength: 1, maxLength: 3 }),
        (limit, opcode, cutsPerMessage) => {
          const frames = cutsPerMessage.flatMap((cuts) => fragmentsOf(opcode, asciiPayload(limit), cuts))
          const wire = concatBytes(frames.map((frame) => encodeFrame(frame)))
          assert.deepStrictEqual(decodeWith({ maxPayloadBytes: limit }, wire), { frames, error: null })
        },
      ),
    )
  })

  test('fails with 1009 ws-message-too-big when fragments sum to one byte over maxPayloadBytes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4096 }),
        messageOpcode,
        fc.array(fc.nat(), { maxLength: 5 }),
        (limit, opcode, cuts) => {
          const frames = fragmentsOf(opcode, asciiPayload(limit + 1), cuts)
          const wire = concatBytes(frames.map((frame) => encodeFrame(frame)))
          // Every fragment before the one that crosses the limit is still delivered.
          const crossing = frames.findIndex((_, i) => sumLengths(frames.slice(0, i + 1)) > limit)
          const decoded = decodeWith({ maxPayloadBytes: limit }, wire)
          assert.deepStrictEqual(decoded.frames, frames.slice(0, crossing))
          assertFails(decoded, 1009, 'ws-message-too-big')
        },
      ),
    )
  })
})

function sumLengths(frames: readonly Frame[]): number {
  return frames.reduce((sum, frame) => sum + frame.payload.length, 0)
}

describe('FrameDecoder maxFragments', () => {
  test('accepts a message in exactly maxFragments frames, with control frames between them not counted', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        messageOpcode,
        fc.array(controlFrame),
        (limit, opcode, controls) => {
          const fragments = fragmentsOf(
            opcode,
            asciiPayload(limit),
            Array.from({ length: limit - 1 }, (_, i) => i + 1),
          )
          const frames = fragments.flatMap((fragment, i) =>
            i < controls.length ? [controls[i], fragment] : [fragment],
          )
          const wire = concatBytes(frames.map((frame) => encodeFrame(frame)))
          assert.deepStrictEqual(decodeWith({ maxFragments: limit }, wire), { frames, error: null })
        },
      ),
    )
  })

  test('fails with 1009 ws-too-many-fragments on the frame one past maxFragments', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), messageOpcode, (limit, opcode) => {
        const frames = fragmentsOf(
          opcode,
          asciiPayload(limit + 1),
          Array.from({ length: limit }, (_, i) => i + 1),
        )
        const wire = concatBytes(frames.map((frame) => encodeFrame(frame)))
        const decoded = decodeWith({ maxFragments: limit }, wire)
        assert.deepStrictEqual(decoded.frames, frames.slice(0, limit))
        assertFails(decoded, 1009, 'ws-too-many-fragments')
      }),
    )
  })
})

const controlOpcode = fc.constantFrom(Opcode.Ping, Opcode.Pong, Opcode.Close)

/** A valid control payload of `length` bytes (at least 2): for a close frame, code 1000 and an ASCII reason. */
function controlPayload(opcode: Opcode, length: number, filler: Uint8Array): Uint8Array {
  if (opcode !== Opcode.Close) return filler.slice(0, length)
  return encodeCloseBody(1000, 'r'.repeat(length - 2))
}

describe('FrameDecoder control frame length', () => {
  test('accepts a control frame of exactly 125 bytes', () => {
    fc.assert(
      fc.property(
        controlOpcode,
        fc.uint8Array({ minLength: 126, maxLength: 126 }),
        fc.boolean(),
        (opcode, filler, masked) => {
          const frame: Frame = {
            fin: true,
            rsv1: false,
            opcode,
            payload: controlPayload(opcode, 125, filler),
          }
          const wire = encodeFrame(frame, masked ? Uint8Array.of(0xa5, 0x5a, 0xff, 0x00) : undefined)
          assert.deepStrictEqual(decodeWith({ role: masked ? 'server' : 'client' }, wire), {
            frames: [frame],
            error: null,
          })
        },
      ),
    )
  })

  test('fails with 1002 ws-control-frame-too-long on a control frame of 126 bytes', () => {
    fc.assert(
      fc.property(
        controlOpcode,
        fc.uint8Array({ minLength: 126, maxLength: 126 }),
        fc.boolean(),
        (opcode, filler, masked) => {
          const frame: Frame = {
            fin: true,
            rsv1: false,
            opcode,
            payload: controlPayload(opcode, 126, filler),
          }
          const wire = encodeFrame(frame, masked ? Uint8Array.of(0xa5, 0x5a, 0xff, 0x00) : undefined)
          const decoded = decodeWith({ role: masked ? 'server' : 'client' }, wire)
          assert.deepStrictEqual(decoded.frames, [])
          assertFails(decoded, 1002, 'ws-control-frame-too-long')
        },
      ),
    )
  })
})
