// The UDP datagram codec: bytes into a JSON request or a line-protocol command (fast-check totality, then
// literal bytes), and JSON replies cut to fit one datagram.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { decodeDatagram, fitJsonReply, textBytes } from '../../../src/transports/codec/datagram.js'
import { LineProtocolError } from '../../../src/transports/codec/line.js'

describe('datagram codec', () => {
  it('decodes any bytes to a datagram or a refusal, never an exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const decoded = decodeDatagram(bytes)
        assert.ok(decoded instanceof Error || decoded.kind === 'json' || decoded.kind === 'command')
      }),
    )
  })

  it('fits a JSON history reply into any size it can, keeping the longest prefix of its messages', () => {
    const message = fc.record(
      { offset: fc.nat(), data: fc.string({ maxLength: 200 }) },
      { noNullPrototype: true },
    )
    const reply = (messages: unknown[]) =>
      JSON.stringify({ ok: true, op: 'history', history: { room: 'r', lastOffset: 9, messages } })
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 40 }),
        fc.integer({ min: 60, max: 4000 }),
        (messages, max) => {
          const fitted = fitJsonReply(reply(messages), max)
          if (fitted === null) return assert.ok(textBytes(reply([])) > max)
          assert.ok(textBytes(fitted) <= max)
          const kept: unknown[] = JSON.parse(fitted).history.messages
          assert.deepEqual(kept, messages.slice(0, kept.length))
          if (kept.length < messages.length)
            assert.ok(textBytes(reply(messages.slice(0, kept.length + 1))) > max)
        },
      ),
    )
  })

  it('strips one trailing newline that nc or socat adds, and no more', () => {
    assert.deepEqual(decodeDatagram(Buffer.from('hi\r\n')), {
      kind: 'command',
      command: { kind: 'say', text: 'hi' },
    })
    assert.deepEqual(decodeDatagram(Buffer.from('\n')), { kind: 'command', command: { kind: 'blank' } })
    const twoLines = decodeDatagram(Buffer.from('a\nb\n'))
    assert.ok(twoLines instanceof LineProtocolError)
    assert.equal(twoLines.code, 'control-character')
  })
})
