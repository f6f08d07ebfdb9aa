// A broadcast's message framed once: the bytes every WebSocket session of the broadcast is written.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SharedMessage } from '../../src/engineio/shared-message.js'

function wire(message: SharedMessage): Buffer {
  return Buffer.concat(message.frame.chunks)
}

describe('SharedMessage', () => {
  it('frames text as one unmasked text frame carrying the message packet 4…', () => {
    assert.deepEqual(wire(new SharedMessage('héllo')), Buffer.from([0x81, 7, 0x34, ...Buffer.from('héllo')]))
  })

  it('frames bytes as a bare binary frame, as Engine.IO sends binary over WebSocket', () => {
    assert.deepEqual(wire(new SharedMessage(new Uint8Array([0, 1, 255]))), Buffer.from([0x82, 3, 0, 1, 255]))
  })

  it('frames once however many sessions ask', () => {
    const message = new SharedMessage('x'.repeat(20_000))
    assert.equal(message.frame, message.frame)
    assert.deepEqual(wire(message).subarray(0, 5), Buffer.from([0x81, 126, 0x4e, 0x21, 0x34]))
  })

  it('keeps the message packet for sessions still on polling', () => {
    assert.deepEqual(new SharedMessage('hi').packet, { type: 4, data: 'hi' })
  })
})
