// How the Socket.IO transport maps the hub onto Socket.IO events (docs/protocol.md, "Socket.IO events"): bytes,
// direct messages, refusals at connect and in acks, and the goodbye at shutdown, each seen from the npm
// socket.io-client and from the other transports' real clients.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Socket as ClientSocket } from 'socket.io-client'
import {
  ask,
  enter,
  nextEvent,
  nextJson,
  openJsonWs,
  openSocketIO,
  openTcp,
  scrapeMetrics,
  serve,
  socketIOClient,
} from './helpers/socketio-served.js'

/** Every event of `client` in arrival order, with its first argument, until it disconnects or fails to connect. */
function recordUntilDisconnect(client: ClientSocket): Promise<[event: string, payload: unknown][]> {
  const events: [string, unknown][] = []
  client.onAny((event: string, payload: unknown) => events.push([event, payload]))
  client.on('connect', () => events.push(['connect', undefined]))
  return new Promise((resolve) => {
    client.once('disconnect', (reason) => {
      events.push(['disconnect', reason])
      resolve(events)
    })
    // Refused before connecting is a different outcome: recorded, so the test fails rather than waits.
    client.once('connect_error', (error) => {
      events.push(['connect_error', error.message])
      resolve(events)
    })
  })
}

/** A `switchboard_refused_total` line of /metrics for the Socket.IO listener. */
function refusedLine(reason: string, count: number): RegExp {
  return new RegExp(`^switchboard_refused_total\\{transport="socketio",reason="${reason}"\\} ${count}$`, 'm')
}

describe('Socket.IO mapping of the hub under switchboard serve', () => {
  it('carries published bytes unchanged to Socket.IO, as [binary N bytes] to TCP and as base64 to switchboard.v1', async (t) => {
    const served = await serve(t)
    const tcp = await openTcp(t, served, 'tom')
    const json = await openJsonWs(t, served, 'nick=wes')
    const ann = await openSocketIO(t, served)
    await enter(ann, 'ann', 'lobby')
    // bob polls, so the bytes also cross Engine.IO's base64 encoding for polling.
    const bob = await openSocketIO(t, served, { transports: ['polling'] })
    await enter(bob, 'bob', 'lobby')

    const toBob = nextEvent(bob, 'message', (message) => message.from === 'ann')
    const toAnn = nextEvent(ann, 'message', (message) => message.from === 'ann')
    const toJson = nextJson(json, (event) => event.type === 'message')
    // 00 01 fe ff: the bytes of the base64 example in docs/protocol.md.
    const sent = await ask(ann, 'message', 'lobby', Buffer.from([0x00, 0x01, 0xfe, 0xff]))
    assert.equal(sent.ok, true)
    assert.equal(sent.room, 'lobby')
    assert.equal(sent.offset, 1)
    assert.equal(typeof sent.epoch, 'string')
    assert.equal(typeof sent.ts, 'number')

    for (const message of [await toBob, await toAnn]) {
      assert.ok(Buffer.isBuffer(message.data), `bytes arrive as a Buffer, not ${typeof message.data}`)
      assert.deepEqual(message, {
        room: 'lobby',
        from: 'ann',
        data: Buffer.from('0001feff', 'hex'),
        offset: 1,
        ts: sent.ts,
      })
    }
    assert.equal(await tcp.lines.until(/^\[lobby\] ann: /), '[lobby] ann: [binary 4 bytes]')
    assert.deepEqual(await toJson, {
      type: 'message',
      room: 'lobby',
      from: 'ann',
      data: { base64: 'AAH+/w==' },
      offset: 1,
      epoch: sent.epoch,
      ts: sent.ts,
    })
  })

  it('publishes only the bytes of a Uint8Array view, and an ArrayBuffer sent over polling', async (t) => {
    const served = await serve(t)
    const ann = await openSocketIO(t, served)
    await enter(ann, 'ann', 'lobby')
    const bob = await openSocketIO(t, served, { transports: ['polling'] })
    await enter(bob, 'bob', 'lobby')

    // Bytes 3..6 of a larger buffer: a sender that published the whole buffer would show 0x00 0x01 0x02 first.
    const whole = Uint8Array.from([0x00, 0x01, 0x02, 0xca, 0xfe, 0xba, 0xbe, 0x07])
    const fromView = nextEvent(bob, 'message', (message) => message.from === 'ann')
    assert.equal((await ask(ann, 'message', 'lobby', whole.subarray(3, 7))).offset, 1)
    assert.deepEqual((await fromView).data, Buffer.from('cafebabe', 'hex'))

    const fromArrayBuffer = nextEvent(ann, 'message', (message) => message.from === 'bob')
    const arrayBuffer = Uint8Array.from([0xde, 0xad, 0x00, 0x0a, 0x0d]).buffer
    assert.equal((await ask(bob, 'message', 'lobby', arrayBuffer)).offset, 2)
    const received = await fromArrayBuffer
    assert.deepEqual(received.data, Buffer.from('dead000a0d', 'hex'))
    assert.equal(received.offset, 2)

    // History keeps bytes as bytes: a later join's ack carries both, oldest first.
    const carol = await openSocketIO(t, served)
    const joined = await ask(carol, 'join', 'lobby')
    const history = joined.history as { messages: { from: string; data: unknown; offset: number }[] }
    assert.deepEqual(
      history.messages.map(({ from, data, offset }) => [from, data, offset]),
      [
        ['ann', Buffer.from('cafebabe', 'hex'), 1],
        ['bob', Buffer.from('dead000a0d', 'hex'), 2],
      ],
    )
  })

  it('delivers a TCP /msg to every Socket.IO connection of the nickname as a direct event', async (t) => {
    const served = await serve(t)
    const ann = await openSocketIO(t, served)
    const claim = await ask(ann, 'nick', 'ann')
    assert.equal(claim.ok, true)
    // A second socket with ann's key is the same person: a direct message reaches both.
    const annAgain = await openSocketIO(t, served, { transports: ['polling'] })
    assert.deepEqual(await ask(annAgain, 'nick', 'ann', claim.key), { ok: true, nick: 'ann', key: claim.key })
    const tcp = await openTcp(t, served, 'tom')

    const first = nextEvent(ann, 'direct')
    const second = nextEvent(annAgain, 'direct')
    tcp.send('/msg ann meet at\tnoon')
    assert.equal(await tcp.lines.until(/^(OK|ERR) /), 'OK msg ann')
    const direct = await first
    assert.equal(typeof direct.ts, 'number')
    assert.deepEqual(direct, { from: 'tom', to: 'ann', data: 'meet at\tnoon', ts: direct.ts })
    assert.deepEqual(await second, direct)
  })

  it('connects a Socket.IO client over maxConnections, then says bye too-many-connections and disconnects it', async (t) => {
    const served = await serve(t, { maxConnections: 2 })
    const tcp = await openTcp(t, served)
    const ann = await openSocketIO(t, served)
    await enter(ann, 'ann', 'lobby')

    const refused = socketIOClient(t, served)
    const events = await recordUntilDisconnect(refused)
    assert.deepEqual(events, [
      ['connect', undefined],
      ['bye', { code: 'too-many-connections', reason: 'the server has too many connections' }],
      ['disconnect', 'io server disconnect'],
    ])
    assert.match(await scrapeMetrics(served), refusedLine('too-many-connections', 1))
    const response = await fetch(new URL('/connections', served.http))
    const { connections } = (await response.json()) as { connections: { transport: string }[] }
    assert.deepEqual(connections.map(({ transport }) => transport).sort(), ['socketio', 'tcp'])

    // The refused socket held no slot; ann's, once freed, admits the next socket.
    ann.disconnect()
    await tcp.lines.until(/^\* ann left lobby$/)
    const next = await openSocketIO(t, served)
    assert.equal((await ask(next, 'nick', 'nat')).ok, true)
  })

  it('says bye too-many-from-address naming the address to a Socket.IO client over maxConnectionsPerIp', async (t) => {
    const served = await serve(t, { maxConnectionsPerIp: 1 })
    await openSocketIO(t, served)
    const events = await recordUntilDisconnect(socketIOClient(t, served))
    const bye = events.find(([event]) => event === 'bye')?.[1] as
      | { code: unknown; reason: unknown }
      | undefined
    assert.equal(bye?.code, 'too-many-from-address')
    // docs/protocol.md: a refusal for the address says so (`too many connections from ADDRESS`), not that
    // the server is full.
    assert.match(String(bye?.reason), /^too many connections from (::ffff:)?127\.0\.0\.1$/)
    assert.match(await scrapeMetrics(served), refusedLine('too-many-from-address', 1))
  })

  it('answers bad-nick, nick-taken, bad-room and bad-request through acks and counts each refusal', async (t) => {
    const served = await serve(t)
    const tcp = await openTcp(t, served, 'tom')
    const ann = await openSocketIO(t, served)
    const refusal = (answer: Record<string, unknown>) => {
      assert.equal(answer.ok, false)
      const { code, status, message } = answer.error as Record<string, unknown>
      assert.equal(typeof message, 'string')
      assert.ok((message as string).length > 0)
      return [code, status]
    }

    assert.deepEqual(refusal(await ask(ann, 'nick', 'guest-7')), ['bad-nick', 400])
    assert.deepEqual(refusal(await ask(ann, 'nick', 'x'.repeat(33))), ['bad-nick', 400])
    assert.deepEqual(refusal(await ask(ann, 'nick', 'tom')), ['nick-taken', 409])
    assert.equal((await ask(ann, 'nick', 'x'.repeat(32))).ok, true)

    assert.deepEqual(refusal(await ask(ann, 'join', 'no space')), ['bad-room', 400])
    assert.deepEqual(refusal(await ask(ann, 'join', 'r'.repeat(65))), ['bad-room', 400])
    assert.equal((await ask(ann, 'join', 'r'.repeat(64))).ok, true)

    const room = 'r'.repeat(64)
    assert.deepEqual(refusal(await ask(ann, 'message', room, 42)), ['bad-request', 400])
    assert.deepEqual(refusal(await ask(ann, 'message', room, { text: 'hi' })), ['bad-request', 400])
    assert.deepEqual(refusal(await ask(ann, 'message', room)), ['bad-request', 400])
    assert.deepEqual(refusal(await ask(ann, 'message', 42, 'hi')), ['bad-request', 400])
    assert.deepEqual(refusal(await ask(ann, 'message', 'lobby', 'hi')), ['not-in-room', 403])

    const metrics = await scrapeMetrics(served)
    assert.match(metrics, refusedLine('bad-nick', 2))
    assert.match(metrics, refusedLine('nick-taken', 1))
    assert.match(metrics, refusedLine('bad-room', 2))
    assert.match(metrics, refusedLine('bad-request', 4))
    assert.match(metrics, refusedLine('not-in-room', 1))
  })

  it('accepts data of exactly maxMessageBytes and refuses one byte more with message-too-big 413', async (t) => {
    const served = await serve(t, { maxMessageBytes: 16 })
    const ann = await openSocketIO(t, served)
    await enter(ann, 'ann', 'lobby')
    assert.equal((await ask(ann, 'message', 'lobby', Buffer.alloc(16, 0xab))).offset, 1)
    // 'é' is two UTF-8 bytes: 8 of them are 16 bytes, though 8 characters.
    assert.equal((await ask(ann, 'message', 'lobby', 'é'.repeat(8))).offset, 2)
    for (const data of [Buffer.alloc(17, 0xab), `${'é'.repeat(8)}!`]) {
      const answer = await ask(ann, 'message', 'lobby', data)
      assert.equal(answer.ok, false)
      const { code, status } = answer.error as Record<string, unknown>
      assert.deepEqual([code, status], ['message-too-big', 413])
    }
  })

  it('refuses the message past the burst with rate-limited 429 and carries on', async (t) => {
    const served = await serve(t, { messageBurst: 2, messagesPerSecond: 0.001 })
    const ann = await openSocketIO(t, served)
    await enter(ann, 'ann', 'lobby')
    assert.equal((await ask(ann, 'message', 'lobby', 'one')).offset, 1)
    assert.equal((await ask(ann, 'message', 'lobby', 'two')).offset, 2)
    const third = await ask(ann, 'message', 'lobby', 'three')
    assert.equal(third.ok, false)
    const { code, status } = third.error as Record<string, unknown>
    assert.deepEqual([code, status], ['rate-limited', 429])
    assert.deepEqual(await ask(ann, 'who', 'lobby'), { ok: true, room: 'lobby', members: ['ann'] })
  })

  it('says bye 4001 server stopping to each Socket.IO client before disconnecting it at shutdown', async (t) => {
    const served = await serve(t)
    const tcp = await openTcp(t, served)
    const ann = await openSocketIO(t, served)
    await enter(ann, 'ann', 'lobby')
    const nat = await openSocketIO(t, served)

    const annEvents = recordUntilDisconnect(ann)
    const natEvents = recordUntilDisconnect(nat)
    await served.close()
    // Presence from members leaving meanwhile may come too; what matters is that bye comes before the end.
    const ending = (events: [string, unknown][]) =>
      events.filter(([event]) => event === 'bye' || event === 'disconnect')
    const expected = [
      ['bye', { code: 4001, reason: 'server stopping' }],
      ['disconnect', 'io server disconnect'],
    ]
    assert.deepEqual(ending(await annEvents), expected)
    assert.deepEqual(ending(await natEvents), expected)
    // The line client hears the same code from the same catalog.
    assert.equal(await tcp.lines.until(/^BYE /), 'BYE 4001 server stopping')
  })
})
