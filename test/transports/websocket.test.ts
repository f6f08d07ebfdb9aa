// The WebSocket transport with the npm `ws` client as the peer: plain chat, switchboard.v1, limits and the
// shared broadcast frame.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { createServer as createHttpsServer } from 'node:https'
import { type ClientOptions, WebSocket as WsClient } from 'ws'
import { MemoryAdapter } from '../../src/cluster/memory-adapter.js'
import { Disconnect } from '../../src/hub/disconnect.js'
import { MemoryHistory } from '../../src/hub/history.js'
import { Hub } from '../../src/hub/hub.js'
import type { HubLimits } from '../../src/hub/limits.js'
import type { RoomMessage } from '../../src/hub/member.js'
import type { PreparedMessage } from '../../src/websocket/prepared-message.js'
import { ConnectionGate, type ConnectionLimits } from '../../src/transports/connection-gate.js'
import { newCounters } from '../../src/transports/listener.js'
import {
  attachWebSocket,
  type MemberSocket,
  preparedFor,
  type WebSocketTransportOptions,
  WebSocketMember,
} from '../../src/transports/websocket.js'
import { makeCertificate } from '../helpers/tls.js'
import { connectWs, type Inbox, KiB, wsClosed } from '../helpers/ws-peer.js'

type Json = Record<string, unknown>

interface Setup {
  hubLimits?: Partial<HubLimits>
  gate?: Partial<ConnectionLimits>
  transport?: Partial<Omit<WebSocketTransportOptions, 'server' | 'gate'>>
}

/** A hub with the transport attached to a fresh HTTP server on a free port; all closed after the test. */
async function startSwitchboard(t: TestContext, setup: Setup = {}) {
  const hub = new Hub({ adapter: new MemoryAdapter(new MemoryHistory()), limits: setup.hubLimits })
  const http = createServer()
  const upgrades: Socket[] = []
  http.on('upgrade', (_request: IncomingMessage, socket: Socket) => upgrades.push(socket))
  const listener = attachWebSocket(hub, {
    server: http,
    gate: new ConnectionGate(setup.gate),
    ...setup.transport,
  })
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  t.after(async () => {
    await listener.close(Disconnect.ServerStopping)
    http.closeAllConnections()
    await new Promise((resolve) => http.close(resolve))
  })
  return { hub, listener, upgrades, url: listener.url }
}

function text(inbox: Inbox): Promise<string> {
  return inbox.next().then(([data, binary]) => {
    assert.equal(binary, false, `expected text, got ${data.length} binary bytes`)
    return data.toString()
  })
}

async function json(inbox: Inbox): Promise<Json> {
  return JSON.parse(await text(inbox)) as Json
}

/** A switchboard.v1 client: its welcome, and `call` that sends a request and returns the reply with its id. */
async function connectV1(t: TestContext, url: string, options: ClientOptions = {}) {
  const { ws, inbox } = await connectWs(t, url, ['switchboard.v1'], options)
  assert.equal(ws.protocol, 'switchboard.v1')
  const welcome = await json(inbox)
  let nextId = 0
  // Events that arrive before the reply are returned beside it, in order.
  const call = async (request: Json): Promise<{ reply: Json; events: Json[] }> => {
    const id = `r${++nextId}`
    ws.send(JSON.stringify({ id, ...request }))
    const events: Json[] = []
    for (;;) {
      const message = await json(inbox)
      if (message.id === id) return { reply: message, events }
      events.push(message)
    }
  }
  return { ws, inbox, welcome, call }
}

describe('plain mode', () => {
  it('chats between two clients in the room and under the nick named in the query', async (t) => {
    const { url, listener } = await startSwitchboard(t)
    const ann = await connectWs(t, `${url}?room=cafe&nick=ann`)
    assert.equal(ann.ws.protocol, '')
    assert.equal(await text(ann.inbox), '* you are ann in cafe')
    assert.equal(await text(ann.inbox), '* ann joined')
    const bob = await connectWs(t, `${url}?room=cafe&nick=bob`)
    assert.deepEqual(await bob.inbox.take(2).then((m) => m.map(([d]) => d.toString())), [
      '* you are bob in cafe',
      '* bob joined',
    ])
    assert.equal(await text(ann.inbox), '* bob joined')
    ann.ws.send('hello')
    assert.equal(await text(bob.inbox), 'ann: hello')
    assert.equal(await text(ann.inbox), 'ann: hello')
    bob.ws.send('hi ann')
    assert.equal(await text(ann.inbox), 'bob: hi ann')
    assert.equal(listener.connections, 2)
    assert.equal(listener.counters.messagesIn, 2)
    assert.equal(listener.counters.bytesIn, 'hello'.length + 'hi ann'.length)
  })

  it('makes a client without a query a guest in lobby', async (t) => {
    const { url } = await startSwitchboard(t)
    const guest = await connectWs(t, url)
    assert.equal(await text(guest.inbox), '* you are guest-1 in lobby')
    assert.equal(await text(guest.inbox), '* guest-1 joined')
  })

  it('publishes binary messages as bytes that arrive unchanged, and as base64 in v1', async (t) => {
    const { url } = await startSwitchboard(t)
    const observer = await connectV1(t, url)
    const ann = await connectWs(t, `${url}?nick=ann`)
    await ann.inbox.take(2)
    assert.equal((await json(observer.inbox)).member, observer.welcome.nick)
    assert.equal((await json(observer.inbox)).member, 'ann')
    ann.ws.send(Buffer.from([0x00, 0x01, 0xfe, 0xff]))
    const [bytes, binary] = await ann.inbox.next()
    assert.equal(binary, true)
    assert.deepEqual([...bytes], [0x00, 0x01, 0xfe, 0xff])
    const event = await json(observer.inbox)
    assert.deepEqual(event.data, { base64: 'AAH+/w==' })
    assert.equal(event.from, 'ann')
  })

  it('shows direct messages as "nick (private): text"', async (t) => {
    const { url } = await startSwitchboard(t)
    const ann = await connectWs(t, `${url}?nick=ann`)
    await ann.inbox.take(2)
    const bob = await connectV1(t, `${url}?room=elsewhere`)
    const { reply } = await bob.call({ op: 'direct', to: 'ann', data: 'psst' })
    assert.equal(reply.ok, true)
    assert.equal(await text(ann.inbox), `${bob.welcome.nick} (private): psst`)
  })

  it('answers a refused publish with a "! code: message" line and keeps the connection', async (t) => {
    const { url } = await startSwitchboard(t, { hubLimits: { maxMessageBytes: 10 } })
    const ann = await connectWs(t, `${url}?nick=ann`)
    await ann.inbox.take(2)
    ann.ws.send('x'.repeat(11))
    assert.equal(await text(ann.inbox), '! message-too-big: a message of 11 bytes (at most 10)')
    ann.ws.send('x'.repeat(10))
    assert.equal(await text(ann.inbox), `ann: ${'x'.repeat(10)}`)
  })

  it('closes with 4409 and the reason when the nickname in the query is taken', async (t) => {
    const { url, listener } = await startSwitchboard(t)
    await connectWs(t, `${url}?nick=ann`)
    const second = await connectWs(t, `${url}?nick=ann`)
    const { code, reason } = await wsClosed(second.ws)
    assert.equal(code, 4409)
    assert.match(reason, /^ann is taken/)
    assert.equal(listener.counters.refused.get('nick-taken'), 1)
  })

  it('closes with 4400 when the room in the query is not a room name', async (t) => {
    const { url } = await startSwitchboard(t)
    const client = await connectWs(t, `${url}?room=${encodeURIComponent('no spaces')}`)
    assert.equal((await wsClosed(client.ws)).code, 4400)
  })

  it('reads a message of maxRequestBytes and closes with 1009 on one byte more', async (t) => {
    const limit = 1000
    const { url } = await startSwitchboard(t, {
      hubLimits: { maxMessageBytes: 2 * limit },
      transport: { limits: { maxRequestBytes: limit } },
    })
    const ann = await connectWs(t, `${url}?nick=ann`)
    await ann.inbox.take(2)
    ann.ws.send('a'.repeat(limit))
    assert.equal(await text(ann.inbox), `ann: ${'a'.repeat(limit)}`)
    ann.ws.send('a'.repeat(limit + 1))
    assert.equal((await wsClosed(ann.ws)).code, 1009)
  })
})

describe('switchboard.v1', () => {
  it('welcomes a client with its nick, key and rooms', async (t) => {
    const { url } = await startSwitchboard(t)
    const { welcome, inbox } = await connectV1(t, `${url}?nick=ann&key=k1&room=cafe`)
    assert.deepEqual(welcome, { type: 'welcome', nick: 'ann', key: 'k1', rooms: ['cafe'] })
    assert.deepEqual(omitTs(await json(inbox)), {
      type: 'presence',
      room: 'cafe',
      event: 'join',
      member: 'ann',
    })
  })

  it('answers every operation with its id, op and result', async (t) => {
    const { url } = await startSwitchboard(t)
    const ann = await connectV1(t, url)
    await json(ann.inbox) // her own join in lobby
    const nick = (await ann.call({ op: 'nick', name: 'ann' })).reply
    assert.deepEqual(
      { ...nick, key: typeof nick.key },
      { id: 'r1', ok: true, op: 'nick', nick: 'ann', key: 'string' },
    )
    const joined = await ann.call({ op: 'join', room: 'cafe' })
    assert.deepEqual(joined.reply.members, ['ann'])
    assert.equal((joined.reply.history as Json).lastOffset, 0)
    assert.deepEqual(omitTs(await json(ann.inbox)), {
      type: 'presence',
      room: 'cafe',
      event: 'join',
      member: 'ann',
    })
    const published = await ann.call({ op: 'publish', room: 'cafe', data: 'hello' })
    assert.deepEqual(published.events.map(omitTs), [
      { type: 'message', room: 'cafe', from: 'ann', data: 'hello', offset: 1, epoch: published.reply.epoch },
    ])
    assert.deepEqual(omitTs(published.reply), {
      id: 'r3',
      ok: true,
      op: 'publish',
      room: 'cafe',
      offset: 1,
      epoch: published.reply.epoch,
    })
    const quiet = await ann.call({ op: 'publish', room: 'cafe', data: 'no echo', echo: false })
    assert.deepEqual([quiet.events, quiet.reply.offset], [[], 2])
    const who = (await ann.call({ op: 'who', room: 'cafe' })).reply
    assert.deepEqual(who, { id: 'r5', ok: true, op: 'who', room: 'cafe', members: ['ann'] })
    const connections = (await ann.call({ op: 'who', room: 'cafe', connections: true })).reply
    assert.deepEqual(
      (connections.members as Json[]).map((m) => m.nick),
      ['ann'],
    )
    const rooms = (await ann.call({ op: 'rooms' })).reply
    assert.deepEqual(rooms.rooms, [
      { room: 'cafe', members: 1 },
      { room: 'lobby', members: 1 },
    ])
    const last = ((await ann.call({ op: 'history', room: 'cafe', last: 1 })).reply.history as Json)
      .messages as Json[]
    assert.deepEqual(
      last.map((m) => m.data),
      ['no echo'],
    )
    const epoch = published.reply.epoch
    const after = (await ann.call({ op: 'history', room: 'cafe', after: { offset: 1, epoch } })).reply
    assert.deepEqual(
      ((after.history as Json).messages as Json[]).map((m) => m.offset),
      [2],
    )
    const direct = await ann.call({ op: 'direct', to: 'ann', data: { base64: 'AQI=' } })
    assert.deepEqual(omitTs(direct.events[0]), {
      type: 'direct',
      from: 'ann',
      to: 'ann',
      data: { base64: 'AQI=' },
    })
    assert.deepEqual(omitTs(direct.reply), { id: 'r10', ok: true, op: 'direct', to: 'ann' })
    const left = await ann.call({ op: 'leave', room: 'cafe' })
    assert.deepEqual(left.reply, { id: 'r11', ok: true, op: 'leave', room: 'cafe' })
    // The room hears her leave; she is no longer in it to hear it herself.
    assert.deepEqual(await ann.call({ op: 'ping' }), {
      reply: { id: 'r12', ok: true, op: 'pong' },
      events: [],
    })
    const closing = wsClosed(ann.ws)
    assert.deepEqual((await ann.call({ op: 'quit' })).reply, { id: 'r13', ok: true, op: 'quit' })
    assert.deepEqual(await closing, { code: 4000, reason: 'bye', wasClean: true })
  })

  it('answers errors with the request id, a code, a status and a message', async (t) => {
    const { url, listener } = await startSwitchboard(t)
    const ann = await connectV1(t, url)
    await json(ann.inbox)
    const notIn = (await ann.call({ op: 'publish', room: 'cafe', data: 'x' })).reply
    assert.deepEqual(notIn, {
      id: 'r1',
      ok: false,
      error: { code: 'not-in-room', status: 403, message: 'join cafe before publishing to it' },
    })
    const badRoom = (await ann.call({ op: 'join', room: 'no spaces' })).reply.error as Json
    assert.deepEqual([badRoom.code, badRoom.status], ['bad-room', 400])
    const unknown = (await ann.call({ op: 'dance' })).reply
    assert.deepEqual(unknown, {
      id: 'r3',
      ok: false,
      error: { code: 'bad-request', status: 400, message: 'unknown op "dance"' },
    })
    ann.ws.send('{not json')
    assert.deepEqual(await json(ann.inbox), {
      ok: false,
      error: { code: 'bad-request', status: 400, message: 'not valid JSON' },
    })
    ann.ws.send(Buffer.from('{"op":"ping"}'))
    const binary = (await json(ann.inbox)).error as Json
    assert.deepEqual([binary.code, binary.status], ['bad-request', 400])
    assert.deepEqual((await ann.call({ op: 'ping' })).reply.ok, true, 'the connection carries on')
    assert.equal(listener.counters.refused.get('bad-request'), 3)
  })

  it('returns exactly the missed messages when a client rejoins with its last offset', async (t) => {
    const { url } = await startSwitchboard(t)
    const ann = await connectV1(t, `${url}?room=news`)
    const bob = await connectV1(t, `${url}?room=news&nick=bob`)
    const first = (await ann.call({ op: 'publish', room: 'news', data: 'one', echo: false })).reply
    const seen = await nextOfType(bob.inbox, 'message')
    assert.equal(seen.offset, 1)
    const leaving = wsClosed(bob.ws)
    bob.ws.close()
    await leaving
    for (const data of ['two', 'three']) await ann.call({ op: 'publish', room: 'news', data })
    const back = await connectV1(t, url)
    const resume = { offset: seen.offset, epoch: first.epoch }
    const history = (await back.call({ op: 'join', room: 'news', resume })).reply.history as Json
    assert.equal(history.gap, null)
    assert.deepEqual(
      (history.messages as Json[]).map((m) => [m.offset, m.data]),
      [
        [2, 'two'],
        [3, 'three'],
      ],
    )
  })

  it('answers a resume from an unknown epoch with the gap epoch-changed', async (t) => {
    const { url } = await startSwitchboard(t)
    const ann = await connectV1(t, url)
    await ann.call({ op: 'join', room: 'news' })
    await ann.call({ op: 'publish', room: 'news', data: 'one' })
    const other = await connectV1(t, url)
    const resume = { offset: 7, epoch: 'not-this-one' }
    const history = (await other.call({ op: 'join', room: 'news', resume })).reply.history as Json
    assert.deepEqual(history.gap, { reason: 'epoch-changed', firstOffset: 1 })
    assert.deepEqual(
      (history.messages as Json[]).map((m) => m.data),
      ['one'],
    )
  })

  it('tells a room when someone joins and leaves', async (t) => {
    const { url } = await startSwitchboard(t)
    const ann = await connectV1(t, `${url}?nick=ann`)
    await json(ann.inbox)
    const bob = await connectWs(t, `${url}?nick=bob`)
    assert.deepEqual(omitTs(await json(ann.inbox)), {
      type: 'presence',
      room: 'lobby',
      event: 'join',
      member: 'bob',
    })
    bob.ws.close()
    assert.deepEqual(omitTs(await json(ann.inbox)), {
      type: 'presence',
      room: 'lobby',
      event: 'leave',
      member: 'bob',
    })
  })

  it('counts a nickname shared by two connections with its key once in presence, and refuses a third without it with 409', async (t) => {
    const { url } = await startSwitchboard(t)
    const observer = await connectV1(t, `${url}?nick=observer`)
    await json(observer.inbox)
    const first = await connectV1(t, `${url}?nick=ann`)
    assert.deepEqual(omitTs(await json(observer.inbox)), {
      type: 'presence',
      room: 'lobby',
      event: 'join',
      member: 'ann',
    })
    const second = await connectV1(t, `${url}?nick=ann&key=${first.welcome.key}`)
    assert.equal(second.welcome.nick, 'ann')
    const stranger = await connectWs(t, `${url}?nick=ann`, ['switchboard.v1'])
    assert.equal((await wsClosed(stranger.ws)).code, 4409)
    const renamed = await connectV1(t, url)
    const refused = (await renamed.call({ op: 'nick', name: 'ann' })).reply
    assert.deepEqual(
      [refused.id, (refused.error as Json).code, (refused.error as Json).status],
      ['r1', 'nick-taken', 409],
    )
    first.ws.close()
    // Until the server has let the first connection go, then: ann is still there and nobody saw her leave.
    let connections: Json[] = []
    do {
      const { reply, events } = await observer.call({ op: 'who', room: 'lobby', connections: true })
      assert.ok(
        !events.some((e) => e.type === 'presence' && e.event === 'leave'),
        'no leave while one connection stays',
      )
      connections = (reply.members as Json[]).filter((m) => m.nick === 'ann')
    } while (connections.length === 2)
    assert.equal(connections.length, 1)
    second.ws.close()
    assert.deepEqual(omitTs(await nextOfType(observer.inbox, 'presence')), {
      type: 'presence',
      room: 'lobby',
      event: 'leave',
      member: 'ann',
    })
  })
})

describe('limits and lifecycle', () => {
  it('disconnects a member that stops reading with 4008 while another receives everything', async (t) => {
    const { url, listener } = await startSwitchboard(t, {
      hubLimits: { messagesPerSecond: 100_000, messageBurst: 100_000 },
      transport: { limits: { maxQueuedBytesPerMember: 256 * KiB } },
    })
    const slow = await connectWs(t, `${url}?nick=slow`)
    await slow.inbox.take(2)
    slow.ws.pause()
    const fast = await connectWs(t, `${url}?nick=fast`)
    await fast.inbox.take(2)
    const publisher = await connectV1(t, `${url}?nick=pub`)
    const chunk = 'x'.repeat(32 * KiB)
    let published = 0
    // The kernel's buffers take a few MiB before the server's queue starts to grow; 2,000 is a bound, not a goal.
    while (listener.counters.refused.get('slow-consumer') === undefined && published < 2000) {
      assert.equal(
        (await publisher.call({ op: 'publish', room: 'lobby', data: chunk, echo: false })).reply.ok,
        true,
      )
      published++
    }
    assert.equal(listener.counters.refused.get('slow-consumer'), 1)
    const received = (await fast.inbox.take(1 + published)).filter(
      ([data]) => data.toString() === `pub: ${chunk}`,
    )
    assert.equal(received.length, published)
    const closing = wsClosed(slow.ws)
    slow.ws.resume()
    assert.deepEqual(await closing, { code: 4008, reason: 'send queue full', wasClean: true })
  })

  it('keeps a member whose queue is at maxQueuedBytesPerMember and cuts it one byte past with 4008', () => {
    const limit = 1000
    const event: RoomMessage = {
      type: 'message',
      room: 'lobby',
      from: 'ann',
      data: 'hi',
      offset: 1,
      epoch: 'e',
      ts: 0,
    }
    const atLimit = new FakeSocket(limit)
    const member = new WebSocketMember(atLimit, 'plain', '127.0.0.1', newCounters(), limit)
    assert.equal(member.deliver(event), 'delivered')
    assert.deepEqual(atLimit.closedWith, null)
    const pastLimit = new FakeSocket(limit + 1)
    const counters = newCounters()
    assert.equal(
      new WebSocketMember(pastLimit, 'plain', '127.0.0.1', counters, limit).deliver(event),
      'delivered',
    )
    assert.deepEqual(pastLimit.closedWith, [4008, 'send queue full'])
    assert.equal(counters.refused.get('slow-consumer'), 1)
    assert.equal(
      new WebSocketMember(pastLimit, 'plain', '127.0.0.1', counters, limit).deliver(event),
      'dropped',
    )
    const replyPastLimit = new FakeSocket(limit + 1)
    new WebSocketMember(replyPastLimit, 'v1', '127.0.0.1', counters, limit).send('{"ok":true}')
    assert.deepEqual(replyPastLimit.closedWith, [4008, 'send queue full'], 'replies count too')
  })

  it('cuts a peer that stops answering pings, and the room sees it leave', async (t) => {
    const { url } = await startSwitchboard(t, {
      transport: { connection: { pingIntervalMs: 50, pingTimeoutMs: 50 } },
    })
    const ann = await connectV1(t, `${url}?nick=ann`)
    await json(ann.inbox)
    const silent = await connectWs(t, `${url}?nick=silent`)
    await silent.inbox.take(2)
    const cut = wsClosed(silent.ws)
    silent.ws.pause()
    const events: Json[] = []
    let left: Json | undefined
    // ann's own requests keep her heard, so only the silent peer is cut.
    while (left === undefined) {
      const { events: arrived } = await ann.call({ op: 'ping' })
      events.push(...arrived)
      left = events.find((e) => e.type === 'presence' && e.event === 'leave')
    }
    assert.equal(left.member, 'silent')
    silent.ws.resume()
    assert.equal((await cut).code, 1006)
  })

  it('serves wss:// on an https server', async (t) => {
    const { key, cert } = makeCertificate()
    const hub = new Hub({ adapter: new MemoryAdapter(new MemoryHistory()) })
    const https = createHttpsServer({ key, cert })
    const listener = attachWebSocket(hub, { server: https, gate: new ConnectionGate() })
    https.listen(0, '127.0.0.1')
    await once(https, 'listening')
    t.after(async () => {
      await listener.close(Disconnect.ServerStopping)
      await new Promise((resolve) => https.close(resolve))
    })
    assert.match(listener.url, /^wss:\/\/127\.0\.0\.1:\d+\/ws$/)
    const { welcome } = await connectV1(t, listener.url, { ca: cert })
    assert.equal(welcome.nick, 'guest-1')
  })

  it('encodes one event once per mode and hands every member of that mode the same frame', () => {
    const event: RoomMessage = {
      type: 'message',
      room: 'lobby',
      from: 'ann',
      data: 'hi',
      offset: 1,
      epoch: 'e',
      ts: 0,
    }
    const sockets = [new FakeSocket(0), new FakeSocket(0), new FakeSocket(0), new FakeSocket(0)]
    const modes = ['plain', 'plain', 'v1', 'v1'] as const
    for (const [i, socket] of sockets.entries())
      new WebSocketMember(socket, modes[i], '::1', newCounters(), 1).deliver(event)
    const [plainA, plainB, v1A, v1B] = sockets.map((socket) => socket.sent[0])
    assert.equal(plainA, plainB)
    assert.equal(v1A, v1B)
    assert.equal(plainA, preparedFor(event, 'plain'))
    assert.equal(plainA.payload.toString(), 'ann: hi')
    assert.deepEqual(JSON.parse(v1A.payload.toString()), { ...event })
  })

  it('refuses upgrades over the connection limit with 503 and a JSON body, and admits again once one closes', async (t) => {
    const { url, listener, upgrades } = await startSwitchboard(t, { gate: { maxConnections: 1 } })
    const first = await connectWs(t, url)
    const refused = new WsClient(url)
    const [, response] = (await once(refused, 'unexpected-response')) as [unknown, IncomingMessage]
    assert.equal(response.statusCode, 503)
    assert.equal(response.headers['content-type'], 'application/json')
    const body = JSON.parse(await readBody(response)) as Json
    assert.deepEqual(body, { code: 'ws-handshake-refused', message: 'the server has too many connections' })
    assert.equal(listener.counters.refused.get('too-many-connections'), 1)
    const freed = once(upgrades[0], 'close')
    first.ws.close()
    await freed
    const again = await connectWs(t, url)
    assert.equal(await text(again.inbox), '* you are guest-2 in lobby')
  })

  it('refuses browsers from origins outside allowedOrigins with 403', async (t) => {
    const { url, listener } = await startSwitchboard(t, {
      transport: { allowedOrigins: ['https://chat.example'] },
    })
    const refused = new WsClient(url, { origin: 'https://evil.example' })
    const [, response] = (await once(refused, 'unexpected-response')) as [unknown, IncomingMessage]
    assert.equal(response.statusCode, 403)
    assert.equal(listener.counters.refused.get('ws-handshake-origin'), 1)
    const allowed = await connectWs(t, url, [], { origin: 'https://chat.example' })
    assert.equal(await text(allowed.inbox), '* you are guest-1 in lobby')
  })

  it('closes every connection with the code and reason of the disconnect', async (t) => {
    const { url, hub, listener } = await startSwitchboard(t)
    const plain = await connectWs(t, url)
    const v1 = await connectV1(t, url)
    assert.match(listener.url, /^ws:\/\/127\.0\.0\.1:\d+\/ws$/)
    const closings = [wsClosed(plain.ws), wsClosed(v1.ws)]
    await hub.close(Disconnect.Kicked)
    for (const closed of await Promise.all(closings))
      assert.deepEqual(closed, { code: 4403, reason: 'removed by moderator', wasClean: true })
    await listener.close(Disconnect.ServerStopping)
    assert.equal(listener.connections, 0)
    assert.equal(listener.counters.queuedBytes, 0)
  })

  it('closes with 1001 "server stopping" when the listener closes', async (t) => {
    const { url, listener } = await startSwitchboard(t)
    const client = await connectWs(t, url)
    const closing = wsClosed(client.ws)
    await listener.close(Disconnect.ServerStopping)
    assert.deepEqual(await closing, { code: 1001, reason: 'server stopping', wasClean: true })
  })
})

/** A socket that reports a fixed `bufferedAmount` and records what it is given. */
class FakeSocket implements MemberSocket {
  state: 'open' | 'closing' | 'closed' = 'open'
  readonly bufferedAmount: number
  readonly sent: PreparedMessage[] = []
  closedWith: [number, string] | null = null

  constructor(bufferedAmount: number) {
    this.bufferedAmount = bufferedAmount
  }

  // Like a connection: true only while nothing much is buffered.
  sendPrepared(message: PreparedMessage): boolean {
    this.sent.push(message)
    return this.bufferedAmount === 0
  }

  send(_text: string): boolean {
    return this.bufferedAmount === 0
  }

  close(code: number, reason: string): void {
    this.closedWith = [code, reason]
    this.state = 'closing'
  }
}

function omitTs(value: Json): Json {
  const { ts: _, ...rest } = value
  return rest
}

async function nextOfType(inbox: Inbox, type: string): Promise<Json> {
  for (;;) {
    const message = await json(inbox)
    if (message.type === type) return message
  }
}

async function readBody(response: IncomingMessage): Promise<string> {
  let body = ''
  for await (const chunk of response) body += chunk
  return body
}
