// The npm engine.io-client (v6, EIO=4) against our server: polling only, WebSocket only, and polling upgraded
// to WebSocket; text and binary both ways; the heartbeat; closing from either side.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import type { EngineSession } from '../../src/engineio/session.js'
import { clientEvent, nextSession, openClient, startEngine } from './helpers/engine.js'

// Each session echoes what it gets, and reports it.
function echo(session: EngineSession): void {
  session.on('message', (data) => session.send(data))
}

// Nine pings (at least 8 intervals, 320 ms) outlast interval + timeout (290 ms), with room for a slow pong.
const heartbeat = { pingIntervalMs: 40, pingTimeoutMs: 250 }

const cases = [
  { name: 'polling only', transports: ['polling'], expected: 'polling' },
  { name: 'WebSocket only', transports: ['websocket'], expected: 'websocket' },
] as const

for (const { name, transports, expected } of cases) {
  describe(`engine.io-client, ${name}`, () => {
    it(`opens a session on ${expected} and exchanges text both ways`, async (t) => {
      const running = await startEngine(t)
      const opened = nextSession(running.engine)
      const { client, inbox } = await openClient(t, running, { transports: [...transports] })
      const session = await opened
      assert.equal(session.transport, expected)
      assert.equal(client.id, session.id)
      echo(session)
      client.send('hello €')
      assert.equal(await inbox.next(), 'hello €')
    })

    it(`carries binary messages both ways unchanged on ${expected}`, async (t) => {
      const running = await startEngine(t)
      const opened = nextSession(running.engine)
      const { client, inbox } = await openClient(t, running, { transports: [...transports] })
      const session = await opened
      const received = once(session, 'message')
      const bytes = Buffer.from([0, 1, 2, 253, 254, 255])
      client.send(bytes)
      const [data] = await received
      assert.ok(Buffer.isBuffer(data))
      assert.deepEqual(data, bytes)
      session.send(new Uint8Array([9, 8, 7]))
      assert.deepEqual(await inbox.next(), Buffer.from([9, 8, 7]))
    })

    it(`keeps a session that answers pings open past pingInterval + pingTimeout on ${expected}`, async (t) => {
      const running = await startEngine(t, heartbeat)
      const opened = nextSession(running.engine)
      const { client, inbox } = await openClient(t, running, { transports: [...transports] })
      const session = await opened
      const started = performance.now()
      for (let i = 0; i < 9; i++) await clientEvent(client, 'ping')
      const { pingIntervalMs, pingTimeoutMs } = heartbeat
      assert.ok(
        performance.now() - started >= pingIntervalMs + pingTimeoutMs,
        'the pings outlast interval + timeout',
      )
      assert.equal(session.state, 'open')
      echo(session)
      client.send('still here')
      assert.equal(await inbox.next(), 'still here')
    })

    it(`tells the server 'transport close' when the client closes on ${expected}`, async (t) => {
      const running = await startEngine(t)
      const opened = nextSession(running.engine)
      const { client } = await openClient(t, running, { transports: [...transports] })
      const session = await opened
      const closed = once(session, 'close')
      client.close()
      assert.deepEqual(await closed, ['transport close'])
      assert.equal(running.engine.sessions.size, 0)
    })

    it(`delivers what was sent before close() and then closes the client on ${expected}`, async (t) => {
      const running = await startEngine(t)
      const opened = nextSession(running.engine)
      const { client, inbox } = await openClient(t, running, { transports: [...transports] })
      const session = await opened
      const clientClosed = clientEvent(client, 'close')
      session.send('last words')
      session.close()
      assert.equal(await inbox.next(), 'last words')
      await clientClosed
      assert.equal(session.state, 'closed')
    })
  })
}

describe('engine.io-client, polling upgraded to WebSocket', () => {
  it('starts on polling, upgrades to WebSocket and tells both sides', async (t) => {
    const running = await startEngine(t)
    const opened = nextSession(running.engine)
    const { client } = await openClient(t, running)
    const session = await opened
    const serverUpgrade = once(session, 'upgrade')
    const clientUpgrade =
      client.transport.name === 'websocket' ? Promise.resolve() : clientEvent(client, 'upgrade')
    assert.deepEqual(await serverUpgrade, ['websocket'])
    await clientUpgrade
    assert.equal(session.transport, 'websocket')
    assert.equal(client.transport.name, 'websocket')
  })

  it('loses no message and keeps their order across the upgrade, both ways', async (t) => {
    const running = await startEngine(t)
    const opened = nextSession(running.engine)
    const { client, inbox } = await openClient(t, running)
    const session = await opened
    const fromClient: unknown[] = []
    session.on('message', (data) => fromClient.push(data))
    // Sent while the session is still polling, before and during the probe.
    const upgraded = once(session, 'upgrade')
    for (let i = 0; i < 20; i++) {
      session.send(`s${i}`)
      client.send(`c${i}`)
      if (i % 5 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    await upgraded
    session.send(new Uint8Array([1, 2, 3]))
    client.send(Buffer.from([4, 5, 6]))
    const received: unknown[] = []
    for (let i = 0; i < 21; i++) received.push(await inbox.next())
    assert.deepEqual(received, [...Array.from({ length: 20 }, (_, i) => `s${i}`), Buffer.from([1, 2, 3])])
    while (fromClient.length < 21) await once(session, 'message')
    assert.deepEqual(fromClient, [...Array.from({ length: 20 }, (_, i) => `c${i}`), Buffer.from([4, 5, 6])])
  })

  it('answers pings on the WebSocket after the upgrade', async (t) => {
    const running = await startEngine(t, heartbeat)
    const opened = nextSession(running.engine)
    const { client } = await openClient(t, running)
    const session = await opened
    if (session.transport !== 'websocket') await once(session, 'upgrade')
    for (let i = 0; i < 3; i++) await clientEvent(client, 'ping')
    assert.equal(session.state, 'open')
    assert.equal(session.transport, 'websocket')
  })
})
