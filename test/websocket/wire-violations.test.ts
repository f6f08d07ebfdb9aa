// Hostile frames from a client, written as literal bytes on a raw socket: for each violation of RFC 6455
// §5–§8 (and RFC 7692 §6) the server must answer with the close code the RFC names, then close TCP.
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { WebSocketConnection } from '../../src/websocket/connection.js'
import { WebSocketServer, type WebSocketServerOptions } from '../../src/websocket/server.js'
import { hex } from '../helpers/bytes.js'
import { closeBody, masked, RawSocket, unmasked } from '../helpers/raw-socket.js'

interface Peer {
  raw: RawSocket
  connection: WebSocketConnection
  /** Messages the server's `message` listener received, as text. */
  messages: string[]
  /** Violation codes from the server's `error` event. */
  errors: string[]
  /** The server-side close event: [code, reason, wasClean]. */
  closed: Promise<unknown[]>
}

async function connect(t: TestContext, options: WebSocketServerOptions = {}): Promise<Peer> {
  const server = new WebSocketServer(options)
  const { port } = await server.listen()
  const accepted = new Promise<WebSocketConnection>((resolve) => server.once('connection', resolve))
  const raw = await RawSocket.connect(port)
  t.after(async () => {
    raw.destroy()
    await server.close()
  })
  const connection = await accepted
  const messages: string[] = []
  const errors: string[] = []
  connection.on('message', (data) => messages.push(data.toString()))
  connection.on('error', (error) => errors.push((error as Error & { code: string }).code))
  // Not `once(connection, 'close')`: that rejects on the `error` event these tests expect.
  const closed = new Promise<unknown[]>((resolve) => connection.once('close', (...args) => resolve(args)))
  return { raw, connection, messages, errors, closed }
}

/** Waits for the server's close frame, checks its code, and waits for the TCP connection to end. */
async function expectClose(peer: Peer, code: number): Promise<void> {
  const frame = await peer.raw.nextDataOrClose()
  assert.equal(frame.opcode, 0x8, `expected a close frame, got opcode ${frame.opcode}`)
  assert.equal(frame.masked, false)
  assert.equal(closeBody(frame).code, code)
  await peer.raw.closed()
  const [closeCode, , wasClean] = await peer.closed
  assert.equal(closeCode, code)
  assert.equal(wasClean, false)
}

// Each case: what the client sends, and the close code the server must answer with.
const violations: Array<{ title: string; bytes: Buffer | Uint8Array; code: number; error: string }> = [
  { title: 'a frame with RSV2 set', bytes: masked(0xa1, 'Hi'), code: 1002, error: 'ws-reserved-bits' },
  { title: 'a frame with RSV3 set', bytes: masked(0x91, 'Hi'), code: 1002, error: 'ws-reserved-bits' },
  {
    title: 'a compressed (RSV1) frame when permessage-deflate was not negotiated',
    bytes: masked(0xc1, 'Hi'),
    code: 1002,
    error: 'ws-reserved-bits',
  },
  { title: 'the reserved data opcode 0x3', bytes: masked(0x83), code: 1002, error: 'ws-reserved-opcode' },
  { title: 'the reserved control opcode 0xB', bytes: masked(0x8b), code: 1002, error: 'ws-reserved-opcode' },
  {
    title: 'a ping without FIN (a fragmented control frame)',
    bytes: masked(0x09, 'ping'),
    code: 1002,
    error: 'ws-fragmented-control-frame',
  },
  {
    title: 'a ping of 126 bytes',
    bytes: masked(0x89, Buffer.alloc(126, 0x70)),
    code: 1002,
    error: 'ws-control-frame-too-long',
  },
  {
    // "Hello" as a server would send it (RFC 6455 §5.7), which a client must never do.
    title: 'an unmasked client frame',
    bytes: hex('81 05 48 65 6c 6c 6f'),
    code: 1002,
    error: 'ws-unmasked-client-frame',
  },
  {
    title: 'a 64-bit length with its top bit set',
    bytes: hex('82 ff 80 00 00 00 00 00 00 01 37 fa 21 3d'),
    code: 1002,
    error: 'ws-length-too-large',
  },
  {
    title: 'a continuation frame with no message to continue',
    bytes: masked(0x80, 'x'),
    code: 1002,
    error: 'ws-unexpected-continuation',
  },
  {
    title: 'a new text frame before the previous message finished',
    bytes: Buffer.concat([masked(0x01, 'a'), masked(0x81, 'b')]),
    code: 1002,
    error: 'ws-expected-continuation',
  },
  {
    // "He" then 0xff, a byte that never occurs in UTF-8.
    title: 'a text message that is not UTF-8',
    bytes: masked(0x81, hex('48 65 ff')),
    code: 1007,
    error: 'ws-invalid-utf8',
  },
  {
    // "κόσμε" cut after the first byte of its last character.
    title: 'a text message that ends inside a UTF-8 sequence',
    bytes: masked(0x81, hex('ce ba e1 bd b9 cf 83 ce bc ce')),
    code: 1007,
    error: 'ws-invalid-utf8',
  },
  {
    title: 'a close body of 1 byte',
    bytes: masked(0x88, hex('03')),
    code: 1002,
    error: 'ws-close-body-too-short',
  },
  {
    title: 'a close reason that is not UTF-8',
    bytes: masked(0x88, hex('03 e8 ff')),
    code: 1007,
    error: 'ws-invalid-utf8',
  },
  // §7.4: codes below 1000, reserved for local use (1004–1006, 1015), unassigned, or past 4999.
  ...[
    [999, '03 e7'],
    [1004, '03 ec'],
    [1005, '03 ed'],
    [1006, '03 ee'],
    [1015, '03 f7'],
    [1016, '03 f8'],
    [2999, '0b b7'],
    [5000, '13 88'],
  ].map(([closeCode, bytes]) => ({
    title: `a close frame with code ${closeCode}`,
    bytes: masked(0x88, hex(String(bytes))),
    code: 1002,
    error: 'ws-invalid-close-code',
  })),
]

describe('protocol violations on the wire', () => {
  for (const violation of violations) {
    it(`closes with ${violation.code} and drops TCP on ${violation.title}`, async (t) => {
      const peer = await connect(t)
      peer.raw.write(violation.bytes)
      await expectClose(peer, violation.code)
      assert.deepEqual(peer.errors, [violation.error])
      assert.deepEqual(peer.messages, [])
    })
  }

  it('delivers a valid message that shares a TCP write with a later violation', async (t) => {
    const peer = await connect(t)
    // RFC 6455 §5.7 masked "Hello", then opcode 0x3 in the same write.
    peer.raw.write(Buffer.concat([hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'), masked(0x83)]))
    await expectClose(peer, 1002)
    assert.deepEqual(peer.messages, ['Hello'])
  })

  it('delivers nothing that follows a violation in the same write', async (t) => {
    const peer = await connect(t)
    // An unmasked "Hello", then a valid masked one that must never be delivered.
    peer.raw.write(Buffer.concat([unmasked(0x81, 'Hello'), masked(0x81, 'late')]))
    await expectClose(peer, 1002)
    assert.deepEqual(peer.messages, [])
  })

  it('fails with 1007 as soon as fragmented text stops being UTF-8, before the last fragment', async (t) => {
    const peer = await connect(t)
    // "Hi" and 0xf4, then 0x90: U+110000 and up is past Unicode, so the second fragment is already wrong.
    peer.raw.write(Buffer.concat([masked(0x01, hex('48 69 f4')), masked(0x00, hex('90 80 80'))]))
    const frame = await peer.raw.nextDataOrClose()
    assert.equal(frame.opcode, 0x8)
    assert.equal(closeBody(frame).code, 1007)
    peer.raw.write(masked(0x80, 'end'))
    await peer.raw.closed()
    assert.deepEqual(peer.errors, ['ws-invalid-utf8'])
    assert.deepEqual(peer.messages, [])
  })

  it('answers a close frame whose reason is valid UTF-8 and drops TCP after the echo', async (t) => {
    const peer = await connect(t)
    // Code 1000 and "κ" (ce ba): a close frame that breaks no rule.
    peer.raw.write(masked(0x88, hex('03 e8 ce ba')))
    const frame = await peer.raw.nextDataOrClose()
    assert.deepEqual(closeBody(frame), { code: 1000, reason: '' })
    await peer.raw.closed()
    const [code, reason, wasClean] = await peer.closed
    assert.deepEqual([code, reason, wasClean], [1000, 'κ', true])
  })
})

describe('message limits on the wire', () => {
  it('accepts a message of exactly maxPayloadBytes and fails one byte past it with 1009', async (t) => {
    const peer = await connect(t, { maxPayloadBytes: 16 })
    peer.raw.write(masked(0x81, 'a'.repeat(16)))
    peer.raw.write(masked(0x81, 'b'.repeat(17)))
    await expectClose(peer, 1009)
    assert.deepEqual(peer.messages, ['a'.repeat(16)])
    assert.deepEqual(peer.errors, ['ws-message-too-big'])
  })

  it('counts maxPayloadBytes over all fragments of a message', async (t) => {
    const peer = await connect(t, { maxPayloadBytes: 16 })
    peer.raw.write(Buffer.concat([masked(0x01, 'a'.repeat(10)), masked(0x80, 'b'.repeat(10))]))
    await expectClose(peer, 1009)
    assert.deepEqual(peer.messages, [])
  })

  it('accepts maxFragments fragments and fails with 1009 on one more', async (t) => {
    const peer = await connect(t, { maxFragments: 3 })
    // Three fragments: "a", "b", "c" (FIN on the last).
    peer.raw.write(Buffer.concat([masked(0x01, 'a'), masked(0x00, 'b'), masked(0x80, 'c')]))
    // Four fragments of one message.
    peer.raw.write(
      Buffer.concat([masked(0x01, 'w'), masked(0x00, 'x'), masked(0x00, 'y'), masked(0x80, 'z')]),
    )
    await expectClose(peer, 1009)
    assert.deepEqual(peer.messages, ['abc'])
    assert.deepEqual(peer.errors, ['ws-too-many-fragments'])
  })
})
