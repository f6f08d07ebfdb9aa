// FrameDecoder against literal bytes (RFC 6455 §5.2–5.7, §7.4, §8.1; RFC 7692 §6): hostile frames with the
// close code each must earn, and the RFC's own examples. Every input is written out by hand, never encoded by us.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  type Frame,
  FrameDecoder,
  type FrameDecoderOptions,
  Opcode,
  WebSocketProtocolError,
  type WsViolation,
} from '../../../src/websocket/codec/index.js'
import { concatBytes, countingBytes, hex } from '../../helpers/bytes.js'
import { decodeWith, decoderOptions } from '../../helpers/frame-decoding.js'

interface Violation {
  /** Completes the title "fails with <closeCode> (<code>) when …". */
  when: string
  /** Chunks pushed in turn, as hex; the violation is in the last one. */
  wire: string[]
  closeCode: number
  code: WsViolation
  options?: Partial<FrameDecoderOptions>
}

// Unless a row says otherwise the decoder is a client reading a server's (unmasked) frames.
const violations: Violation[] = [
  // FIN | RSV2 | text, empty
  { when: 'RSV2 is set', wire: ['a1 00'], closeCode: 1002, code: 'ws-reserved-bits' },
  // FIN | RSV3 | text, empty
  { when: 'RSV3 is set', wire: ['91 00'], closeCode: 1002, code: 'ws-reserved-bits' },
  // FIN | RSV1 | text "A", but permessage-deflate was not negotiated
  { when: 'RSV1 is set without compression', wire: ['c1 01 41'], closeCode: 1002, code: 'ws-reserved-bits' },
  {
    when: 'RSV1 is set on a continuation frame',
    options: { compression: true },
    // RSV1 | text "A" without FIN (a compressed message starts), then FIN | RSV1 | continuation "B"
    wire: ['41 01 41', 'c0 01 42'],
    closeCode: 1002,
    code: 'ws-reserved-bits',
  },
  {
    when: 'RSV1 is set on a control frame',
    options: { compression: true },
    // FIN | RSV1 | ping, empty
    wire: ['c9 00'],
    closeCode: 1002,
    code: 'ws-reserved-bits',
  },
  // FIN | reserved non-control opcodes 0x3–0x7, empty
  { when: 'the opcode is reserved 0x3', wire: ['83 00'], closeCode: 1002, code: 'ws-reserved-opcode' },
  { when: 'the opcode is reserved 0x4', wire: ['84 00'], closeCode: 1002, code: 'ws-reserved-opcode' },
  { when: 'the opcode is reserved 0x5', wire: ['85 00'], closeCode: 1002, code: 'ws-reserved-opcode' },
  { when: 'the opcode is reserved 0x6', wire: ['86 00'], closeCode: 1002, code: 'ws-reserved-opcode' },
  { when: 'the opcode is reserved 0x7', wire: ['87 00'], closeCode: 1002, code: 'ws-reserved-opcode' },
  // FIN | reserved control opcodes 0xB–0xF, empty
  { when: 'the opcode is reserved 0xB', wire: ['8b 00'], closeCode: 1002, code: 'ws-reserved-opcode' },
  { when: 'the opcode is reserved 0xC', wire: ['8c 00'], closeCode: 1002, code: 'ws-reserved-opcode' },
  { when: 'the opcode is reserved 0xD', wire: ['8d 00'], closeCode: 1002, code: 'ws-reserved-opcode' },
  { when: 'the opcode is reserved 0xE', wire: ['8e 00'], closeCode: 1002, code: 'ws-reserved-opcode' },
  { when: 'the opcode is reserved 0xF', wire: ['8f 00'], closeCode: 1002, code: 'ws-reserved-opcode' },
  // ping without FIN, empty
  { when: 'a ping is fragmented', wire: ['09 00'], closeCode: 1002, code: 'ws-fragmented-control-frame' },
  // close without FIN, empty
  {
    when: 'a close frame is fragmented',
    wire: ['08 00'],
    closeCode: 1002,
    code: 'ws-fragmented-control-frame',
  },
  // FIN | ping with the 16-bit length 126; the 126 payload bytes never need to arrive
  {
    when: 'a ping declares 126 bytes',
    wire: ['89 7e 00 7e'],
    closeCode: 1002,
    code: 'ws-control-frame-too-long',
  },
  {
    when: 'a client frame is unmasked',
    options: { role: 'server' },
    // RFC 6455 §5.7 unmasked "Hello", sent to a server
    wire: ['81 05 48 65 6c 6c 6f'],
    closeCode: 1002,
    code: 'ws-unmasked-client-frame',
  },
  {
    when: 'a server frame is masked',
    options: { role: 'client' },
    // RFC 6455 §5.7 masked "Hello", sent to a client
    wire: ['81 85 37 fa 21 3d 7f 9f 4d 51 58'],
    closeCode: 1002,
    code: 'ws-masked-server-frame',
  },
  // FIN | continuation "A", with no message started
  {
    when: 'a continuation arrives with no message to continue',
    wire: ['80 01 41'],
    closeCode: 1002,
    code: 'ws-unexpected-continuation',
  },
  {
    when: 'a continuation follows a finished message',
    // FIN | text "A", then FIN | continuation "B"
    wire: ['81 01 41', '80 01 42'],
    closeCode: 1002,
    code: 'ws-unexpected-continuation',
  },
  {
    when: 'a new text frame starts inside a fragmented message',
    // text "Hel" without FIN, then FIN | text "lo" instead of a continuation
    wire: ['01 03 48 65 6c', '81 02 6c 6f'],
    closeCode: 1002,
    code: 'ws-expected-continuation',
  },
  {
    when: 'a new binary frame starts inside a fragmented message, after a ping',
    // binary 01 without FIN, FIN | ping (legal between fragments), then FIN | binary 02
    wire: ['02 01 01 89 00', '82 01 02'],
    closeCode: 1002,
    code: 'ws-expected-continuation',
  },
  {
    when: 'a 64-bit length has its top bit set',
    // FIN | binary, length 127 → 64-bit length 0x8000000000000001
    wire: ['82 7f 80 00 00 00 00 00 00 01'],
    closeCode: 1002,
    code: 'ws-length-too-large',
  },
  // FIN | text C3 28: C3 needs a continuation byte and 28 "(" is not one
  {
    when: 'a single text frame holds invalid UTF-8',
    wire: ['81 02 c3 28'],
    closeCode: 1007,
    code: 'ws-invalid-utf8',
  },
  {
    when: 'a masked client text frame holds invalid UTF-8',
    options: { role: 'server' },
    // FIN | MASK | text, length 2, key 37 fa 21 3d, payload C3 28 masked to F4 D2
    wire: ['81 82 37 fa 21 3d f4 d2'],
    closeCode: 1007,
    code: 'ws-invalid-utf8',
  },
  {
    when: 'a text message ends inside a UTF-8 sequence',
    // text "A" without FIN, then FIN | continuation E2 82 (the first two of the three bytes of "€")
    wire: ['01 01 41', '80 02 e2 82'],
    closeCode: 1007,
    code: 'ws-invalid-utf8',
  },
  {
    when: 'a single text frame ends inside a UTF-8 sequence',
    // FIN | text 41 F0 9F: "A" and half of a four-byte sequence
    wire: ['81 03 41 f0 9f'],
    closeCode: 1007,
    code: 'ws-invalid-utf8',
  },
  {
    when: 'an empty final fragment leaves a UTF-8 sequence unfinished',
    // text C3 without FIN, then an empty FIN | continuation
    wire: ['01 01 c3', '80 00'],
    closeCode: 1007,
    code: 'ws-invalid-utf8',
  },
  // FIN | close with a 1-byte body 03
  { when: 'a close body is 1 byte', wire: ['88 01 03'], closeCode: 1002, code: 'ws-close-body-too-short' },
  // FIN | close 1000 (03 E8) with reason C3 28
  {
    when: 'a close reason is not UTF-8',
    wire: ['88 04 03 e8 c3 28'],
    closeCode: 1007,
    code: 'ws-invalid-utf8',
  },
  {
    when: 'a message is over maxPayloadBytes',
    options: { maxPayloadBytes: 4 },
    // FIN | binary 01 02 03 04 05: five bytes against a limit of four
    wire: ['82 05 01 02 03 04 05'],
    closeCode: 1009,
    code: 'ws-message-too-big',
  },
  {
    when: 'fragments add up to more than maxPayloadBytes',
    options: { maxPayloadBytes: 4 },
    // binary 01 02 03 without FIN, then FIN | continuation 04 05
    wire: ['02 03 01 02 03', '80 02 04 05'],
    closeCode: 1009,
    code: 'ws-message-too-big',
  },
  {
    when: 'a message has more than maxFragments frames',
    options: { maxFragments: 2 },
    // text "a", continuation "b", then FIN | continuation "c": three frames against a limit of two
    wire: ['01 01 61', '00 01 62', '80 01 63'],
    closeCode: 1009,
    code: 'ws-too-many-fragments',
  },
]

describe('FrameDecoder on hostile frames', () => {
  for (const { when, wire, closeCode, code, options } of violations) {
    test(`fails with ${closeCode} (${code}) when ${when}`, () => {
      const decoder = new FrameDecoder(decoderOptions(options))
      const chunks = wire.map(hex)
      for (const chunk of chunks.slice(0, -1)) {
        assert.ok(Array.isArray(decoder.push(chunk)))
        assert.equal(decoder.failure, null)
      }
      const out = decoder.push(chunks[chunks.length - 1])
      assert.ok(out instanceof WebSocketProtocolError)
      assert.equal(out.closeCode, closeCode)
      assert.equal(out.code, code)
      assert.equal(decoder.failure, out)
    })
  }
})

// FIN | close, length 2, and the code in network order.
const invalidCloseCodes: Array<{ code: number; wire: string }> = [
  { code: 0, wire: '88 02 00 00' }, // §7.4.2: 0–999 are never used
  { code: 999, wire: '88 02 03 e7' },
  { code: 1004, wire: '88 02 03 ec' }, // reserved, no meaning yet
  { code: 1005, wire: '88 02 03 ed' }, // "no status received": local only, never sent
  { code: 1006, wire: '88 02 03 ee' }, // "abnormal closure": local only, never sent
  { code: 1015, wire: '88 02 03 f7' }, // "TLS handshake failure": local only, never sent
  { code: 1016, wire: '88 02 03 f8' }, // unassigned in the protocol range
  { code: 2999, wire: '88 02 0b b7' }, // last of the protocol range, unassigned
  { code: 5000, wire: '88 02 13 88' }, // past the private range
]

const validCloseCodes: Array<{ code: number; wire: string }> = [
  { code: 1000, wire: '88 02 03 e8' }, // normal closure
  { code: 1001, wire: '88 02 03 e9' }, // going away
  { code: 1002, wire: '88 02 03 ea' }, // protocol error
  { code: 1003, wire: '88 02 03 eb' }, // unsupported data
  { code: 1007, wire: '88 02 03 ef' }, // invalid payload data
  { code: 1008, wire: '88 02 03 f0' }, // policy violation
  { code: 1009, wire: '88 02 03 f1' }, // message too big
  { code: 1010, wire: '88 02 03 f2' }, // mandatory extension
  { code: 1011, wire: '88 02 03 f3' }, // internal error
  { code: 1012, wire: '88 02 03 f4' }, // service restart (IANA)
  { code: 1013, wire: '88 02 03 f5' }, // try again later (IANA)
  { code: 1014, wire: '88 02 03 f6' }, // bad gateway (IANA)
  { code: 3000, wire: '88 02 0b b8' }, // first code for libraries and frameworks
  { code: 4999, wire: '88 02 13 87' }, // last private code
]

describe('FrameDecoder on close codes', () => {
  for (const { code, wire } of invalidCloseCodes) {
    test(`fails with 1002 (ws-invalid-close-code) on close code ${code}`, () => {
      const { frames, error } = decodeWith({}, hex(wire))
      assert.deepStrictEqual(frames, [])
      assert.equal(error?.closeCode, 1002)
      assert.equal(error?.code, 'ws-invalid-close-code')
    })
  }

  for (const { code, wire } of validCloseCodes) {
    test(`accepts close code ${code}`, () => {
      assert.deepStrictEqual(decodeWith({}, hex(wire)), {
        frames: [{ fin: true, rsv1: false, opcode: Opcode.Close, payload: hex(wire).subarray(2) }],
        error: null,
      })
    })
  }

  test('accepts a close frame with a code and a UTF-8 reason', () => {
    // FIN | close 1000 (03 E8) "bye"
    const { frames, error } = decodeWith({}, hex('88 05 03 e8 62 79 65'))
    assert.equal(error, null)
    assert.deepStrictEqual(frames, [
      { fin: true, rsv1: false, opcode: Opcode.Close, payload: hex('03 e8 62 79 65') },
    ])
  })

  test('accepts an empty close frame', () => {
    assert.deepStrictEqual(decodeWith({}, hex('88 00')), {
      frames: [{ fin: true, rsv1: false, opcode: Opcode.Close, payload: new Uint8Array(0) }],
      error: null,
    })
  })
})

function text(fin: boolean, payload: string): Frame {
  return { fin, rsv1: false, opcode: Opcode.Text, payload: hex(payload) }
}

describe('FrameDecoder fails fast', () => {
  test('returns the valid frames before a violation in the same chunk and keeps the violation in failure', () => {
    const decoder = new FrameDecoder(decoderOptions())
    // FIN | text "hi", FIN | ping (empty), then FIN | reserved opcode 0x3
    const out = decoder.push(hex('81 02 68 69  89 00  83 00'))
    assert.deepStrictEqual(out, [
      text(true, '68 69'),
      { fin: true, rsv1: false, opcode: Opcode.Ping, payload: hex('') },
    ])
    assert.equal(decoder.failure?.closeCode, 1002)
    assert.equal(decoder.failure?.code, 'ws-reserved-opcode')
    // FIN | text, empty: valid on its own, but the connection has already failed
    assert.equal(decoder.push(hex('81 00')), decoder.failure)
  })

  test('fails with 1007 on the fragment that makes the text impossible, before the final frame arrives', () => {
    const decoder = new FrameDecoder(decoderOptions())
    // Text without FIN holding ED, which may start a three-byte sequence: fine so far.
    assert.deepStrictEqual(decoder.push(hex('01 01 ed')), [text(false, 'ed')])
    assert.equal(decoder.failure, null)
    // Continuation without FIN holding A0 80: ED A0 would encode the surrogate U+D800, which UTF-8 forbids.
    const out = decoder.push(hex('00 02 a0 80'))
    assert.ok(out instanceof WebSocketProtocolError)
    assert.equal(out.closeCode, 1007)
    assert.equal(out.code, 'ws-invalid-utf8')
  })

  test('fails with 1007 when a continuation makes an overlong four-byte sequence, before the final frame', () => {
    const decoder = new FrameDecoder(decoderOptions())
    // Text without FIN holding "A" F0; F0 starts a four-byte sequence whose next byte must be 90–BF.
    assert.deepStrictEqual(decoder.push(hex('01 02 41 f0')), [text(false, '41 f0')])
    // A ping between the fragments does not disturb the check.
    assert.equal((decoder.push(hex('89 00')) as Frame[]).length, 1)
    // Continuation without FIN holding 8F: F0 8F could only be an overlong encoding.
    const out = decoder.push(hex('00 01 8f'))
    assert.ok(out instanceof WebSocketProtocolError)
    assert.equal(out.code, 'ws-invalid-utf8')
  })

  test('fails with 1007 as soon as an impossible byte arrives, before the rest of the frame', () => {
    const decoder = new FrameDecoder(decoderOptions())
    // FIN | text of 8 bytes, of which only "AB" has arrived
    assert.deepStrictEqual(decoder.push(hex('81 08 41 42')), [])
    assert.equal(decoder.failure, null)
    // C0 can never start a valid sequence; five payload bytes are still owed.
    const out = decoder.push(hex('43 c0'))
    assert.ok(out instanceof WebSocketProtocolError)
    assert.equal(out.code, 'ws-invalid-utf8')
  })

  test('fails with 1009 on the header of an oversize frame, before its payload arrives', () => {
    // FIN | binary with the 16-bit length 1000, against a limit of 999; no payload sent
    const { frames, error } = decodeWith({ maxPayloadBytes: 999 }, hex('82 7e 03 e8'))
    assert.deepStrictEqual(frames, [])
    assert.equal(error?.closeCode, 1009)
    assert.equal(error?.code, 'ws-message-too-big')
  })

  test('fails on the first two header bytes, before the extended length and mask arrive', () => {
    // FIN | RSV2 | binary, 64-bit length to follow: the length and the rest never arrive
    const { error } = decodeWith({}, hex('a2 7f'))
    assert.equal(error?.code, 'ws-reserved-bits')
  })
})

const hello = hex('48 65 6c 6c 6f') // "Hello"

describe('FrameDecoder on the RFC 6455 §5.7 examples', () => {
  test('decodes a single-frame unmasked text message', () => {
    assert.deepStrictEqual(decodeWith({ role: 'client' }, hex('81 05 48 65 6c 6c 6f')), {
      frames: [{ fin: true, rsv1: false, opcode: Opcode.Text, payload: hello }],
      error: null,
    })
  })

  test('decodes a single-frame masked text message', () => {
    assert.deepStrictEqual(decodeWith({ role: 'server' }, hex('81 85 37 fa 21 3d 7f 9f 4d 51 58')), {
      frames: [{ fin: true, rsv1: false, opcode: Opcode.Text, payload: hello }],
      error: null,
    })
  })

  test('decodes the masked text message fed one byte at a time', () => {
    const wire = hex('81 85 37 fa 21 3d 7f 9f 4d 51 58')
    const chunks = Array.from(wire, (byte) => Uint8Array.of(byte))
    assert.deepStrictEqual(decodeWith({ role: 'server' }, ...chunks), {
      frames: [{ fin: true, rsv1: false, opcode: Opcode.Text, payload: hello }],
      error: null,
    })
  })

  test('unmasks a masked payload in place, in the chunk it was pushed in', () => {
    const chunk = hex('81 85 37 fa 21 3d 7f 9f 4d 51 58')
    const decoder = new FrameDecoder(decoderOptions({ role: 'server' }))
    const [frame] = decoder.push(chunk) as Frame[]
    assert.deepStrictEqual(chunk.subarray(6), hello)
    assert.equal(frame.payload.buffer, chunk.buffer)
  })

  test('decodes a fragmented unmasked text message', () => {
    assert.deepStrictEqual(decodeWith({ role: 'client' }, hex('01 03 48 65 6c'), hex('80 02 6c 6f')), {
      frames: [
        text(false, '48 65 6c'),
        { fin: true, rsv1: false, opcode: Opcode.Continuation, payload: hex('6c 6f') },
      ],
      error: null,
    })
  })

  test('decodes an unmasked ping and a masked pong', () => {
    assert.deepStrictEqual(decodeWith({ role: 'client' }, hex('89 05 48 65 6c 6c 6f')), {
      frames: [{ fin: true, rsv1: false, opcode: Opcode.Ping, payload: hello }],
      error: null,
    })
    assert.deepStrictEqual(decodeWith({ role: 'server' }, hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58')), {
      frames: [{ fin: true, rsv1: false, opcode: Opcode.Pong, payload: hello }],
      error: null,
    })
  })

  test('decodes a 256-byte binary message with a 16-bit length', () => {
    const payload = countingBytes(256)
    // FIN | binary, length 126 → 16-bit length 0x0100
    const wire = concatBytes([hex('82 7e 01 00'), payload])
    assert.deepStrictEqual(decodeWith({ role: 'client' }, wire), {
      frames: [{ fin: true, rsv1: false, opcode: Opcode.Binary, payload }],
      error: null,
    })
  })

  test('decodes a 64 KiB binary message with a 64-bit length, whole or in pieces', () => {
    const payload = countingBytes(65536)
    // FIN | binary, length 127 → 64-bit length 0x0000000000010000
    const wire = concatBytes([hex('82 7f 00 00 00 00 00 01 00 00'), payload])
    const expected = { frames: [{ fin: true, rsv1: false, opcode: Opcode.Binary, payload }], error: null }
    assert.deepStrictEqual(decodeWith({ role: 'client' }, wire), expected)
    const pieces = [wire.slice(0, 3), wire.slice(3, 10), wire.slice(10, 30000), wire.slice(30000)]
    assert.deepStrictEqual(decodeWith({ role: 'client' }, ...pieces), expected)
  })

  test('decodes a compressed text message with RSV1 on its first frame when compression is negotiated', () => {
    // RFC 7692 §7.2.3.1: "Hello" compressed, one frame: FIN | RSV1 | text f2 48 cd c9 c9 07 00
    assert.deepStrictEqual(decodeWith({ compression: true }, hex('c1 07 f2 48 cd c9 c9 07 00')), {
      frames: [{ fin: true, rsv1: true, opcode: Opcode.Text, payload: hex('f2 48 cd c9 c9 07 00') }],
      error: null,
    })
  })
})
