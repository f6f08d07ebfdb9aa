// The WebSocket transport with the npm `ws` client (protocol v4 §WebSocket, §Upgrade): WebSocket-only sessions,
// the probe and upgrade from polling, the protocol's errors on upgrade requests, and maxPayload.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { WebSocket as WsClient } from 'ws'
import { engineDefaults } from '../../src/engineio/options.js'
import {
  assertEngineError,
  nextSession,
  openPolling,
  openWs,
  parseOpen,
  poll,
  post,
  refusedWs,
  startEngine,
  waitingPoll,
} from './helpers/engine.js'

describe('WebSocket-only sessions', () => {
  it('sends the open packet first, with no upgrades', async (t) => {
    const running = await startEngine(t, { pingIntervalMs: 300, pingTimeoutMs: 200 })
    const opened = nextSession(running.engine)
    const { inbox } = await openWs(t, running, { transport: 'websocket' })
    const open = parseOpen((await inbox.next()) as string)
    assert.deepEqual(Object.keys(open), ['sid', 'upgrades', 'pingInterval', 'pingTimeout', 'maxPayload'])
    assert.deepEqual(open.upgrades, [])
    assert.equal(open.pingInterval, 300)
    assert.equal(open.pingTimeout, 200)
    assert.equal(open.maxPayload, engineDefaults.maxPayloadBytes)
    const session = await opened
    assert.equal(session.id, open.sid)
    assert.equal(session.transport, 'websocket')
  })

  it('carries text packets as text frames and binary messages as bare binary frames', async (t) => {
    const running = await startEngine(t)
    const opened = nextSession(running.engine)
    const { socket, inbox } = await openWs(t, running, { transport: 'websocket' })
    await inbox.next()
    const session = await opened
    const received = once(session, 'message')
    socket.send(Buffer.from([1, 2, 3, 4]))
    assert.deepEqual(await received, [Buffer.from([1, 2, 3, 4])])
    session.send('hello')
    session.send(new Uint8Array([5, 6]))
    assert.equal(await inbox.next(), '4hello')
    assert.deepEqual(await inbox.next(), Buffer.from([5, 6]))
  })

  it('closes the session with parse error on a message that is not a packet', async (t) => {
    const running = await startEngine(t)
    const opened = nextSession(running.engine)
    const { socket, inbox } = await openWs(t, running, { transport: 'websocket' })
    await inbox.next()
    const session = await opened
    const closed = once(session, 'close')
    const socketClosed = once(socket, 'close')
    socket.send('abc')
    assert.deepEqual(await closed, ['parse error'])
    assert.equal((await socketClosed)[0], 1002)
  })

  it('closes the session when the client sends the close packet', async (t) => {
    const running = await startEngine(t)
    const opened = nextSession(running.engine)
    const { socket, inbox } = await openWs(t, running, { transport: 'websocket' })
    await inbox.next()
    const session = await opened
    const closed = once(session, 'close')
    socket.send('1')
    assert.deepEqual(await closed, ['transport close'])
    await once(socket, 'close')
  })
})

describe('maxPayload on WebSocket', () => {
  const maxPayloadBytes = 1000

  it('takes a message of exactly maxPayload bytes', async (t) => {
    const running = await startEngine(t, { maxPayloadBytes })
    const opened = nextSession(running.engine)
    const { socket, inbox } = await openWs(t, running, { transport: 'websocket' })
    await inbox.next()
    const session = await opened
    const received = once(session, 'message')
    socket.send(`4${'x'.repeat(maxPayloadBytes - 1)}`)
    const [data] = await received
    assert.equal((data as string).length, maxPayloadBytes - 1)
  })

  it('closes with 1009 on a message one byte over maxPayload, ending the session with transport error', async (t) => {
    const running = await startEngine(t, { maxPayloadBytes })
    const opened = nextSession(running.engine)
    const { socket, inbox } = await openWs(t, running, { transport: 'websocket' })
    await inbox.next()
    const session = await opened
    const closed = once(session, 'close')
    const socketClosed = once(socket, 'close')
    socket.send(Buffer.alloc(maxPayloadBytes + 1))
    assert.equal((await socketClosed)[0], 1009)
    assert.deepEqual(await closed, ['transport error'])
  })
})

describe('refused upgrade requests', () => {
  it('answers an unknown transport with 400, code 0', async (t) => {
    const running = await startEngine(t)
    assert.deepEqual(await refusedWs(running, { transport: 'abc' }), {
      status: 400,
      body: { code: 0, message: 'Transport unknown' },
    })
  })

  it('answers a WebSocket on a server without that transport with code 0', async (t) => {
    const running = await startEngine(t, { transports: ['polling'] })
    const { body } = await refusedWs(running, { transport: 'websocket' })
    assert.deepEqual(body, { code: 0, message: 'Transport unknown' })
  })

  it('answers EIO=3 with 400, code 5', async (t) => {
    const running = await startEngine(t)
    assert.deepEqual(await refusedWs(running, { EIO: '3', transport: 'websocket' }), {
      status: 400,
      body: { code: 5, message: 'Unsupported protocol version' },
    })
  })

  it('answers an unknown sid with 400, code 1', async (t) => {
    const running = await startEngine(t)
    assert.deepEqual(await refusedWs(running, { transport: 'websocket', sid: 'nope' }), {
      status: 400,
      body: { code: 1, message: 'Session ID unknown' },
    })
  })

  it('answers an upgrade request for transport=polling with 400, code 3', async (t) => {
    const running = await startEngine(t)
    const { body } = await refusedWs(running, { transport: 'polling' })
    assert.deepEqual(body, { code: 3, message: 'Bad request' })
  })
})

describe('upgrading from polling', () => {
  it('answers 2probe with 3probe, ends the waiting GET with a noop, and switches on 5', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    const { answer: waiting } = await waitingPoll(running, sid)
    const { socket, inbox } = await openWs(t, running, { transport: 'websocket', sid })
    socket.send('2probe')
    assert.equal(await inbox.next(), '3probe')
    assert.equal(await (await waiting).text(), '6')
    assert.equal(session.state, 'upgrading')
    const upgraded = once(session, 'upgrade')
    socket.send('5')
    await upgraded
    assert.equal(session.transport, 'websocket')
    const received = once(session, 'message')
    socket.send('4hello')
    assert.deepEqual(await received, ['hello'])
  })

  it('ends GETs during the upgrade with a noop and sends what they held back on the WebSocket, in order', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    const { socket, inbox } = await openWs(t, running, { transport: 'websocket', sid })
    socket.send('2probe')
    assert.equal(await inbox.next(), '3probe')
    session.send('a')
    session.send(new Uint8Array([7]))
    assert.equal(await (await poll(running, sid)).text(), '6')
    socket.send('5')
    assert.equal(await inbox.next(), '4a')
    assert.deepEqual(await inbox.next(), Buffer.from([7]))
  })

  it('refuses GET and POST with the sid of an upgraded session with code 3 and keeps the session', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    const { socket, inbox } = await openWs(t, running, { transport: 'websocket', sid })
    socket.send('2probe')
    await inbox.next()
    const upgraded = once(session, 'upgrade')
    socket.send('5')
    await upgraded
    await assertEngineError(await poll(running, sid), 400, 3, 'Bad request')
    await assertEngineError(await post(running, sid, '4sneaky'), 400, 3, 'Bad request')
    session.send('still')
    assert.equal(await inbox.next(), '4still')
  })

  it('accepts and at once closes a second WebSocket for a probing or upgraded session; the first goes on', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    const { socket, inbox } = await openWs(t, running, { transport: 'websocket', sid })
    const secondClose = async () => {
      const second = new WsClient(running.url({ transport: 'websocket', sid }, 'ws'))
      const [code, reason] = await once(second, 'close')
      return [code, String(reason)]
    }
    assert.deepEqual(await secondClose(), [1008, 'session cannot upgrade'])
    socket.send('2probe')
    await inbox.next()
    const upgraded = once(session, 'upgrade')
    socket.send('5')
    await upgraded
    assert.deepEqual(await secondClose(), [1008, 'session cannot upgrade'])
    session.send('only one')
    assert.equal(await inbox.next(), '4only one')
  })

  it('drops a probe whose upgrade packet does not come within upgradeTimeout, and polling goes on', async (t) => {
    const upgradeTimeoutMs = 300
    const running = await startEngine(t, { upgradeTimeoutMs })
    const { sid, session } = await openPolling(running)
    const started = performance.now()
    const { socket, inbox } = await openWs(t, running, { transport: 'websocket', sid })
    socket.send('2probe')
    assert.equal(await inbox.next(), '3probe')
    session.send('held')
    await once(socket, 'close')
    assert.ok(performance.now() - started >= upgradeTimeoutMs * 0.8, 'not before the timeout')
    assert.equal(session.state, 'open')
    assert.equal(session.transport, 'polling')
    assert.equal(await (await poll(running, sid)).text(), '4held')
  })

  it('drops a probe that sends anything but 2probe then 5, and polling goes on', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    const { socket } = await openWs(t, running, { transport: 'websocket', sid })
    socket.send('4too early')
    assert.equal((await once(socket, 'close'))[0], 1002)
    assert.equal(session.transport, 'polling')
    assert.equal(session.state, 'open')
  })

  it('closes the probing WebSocket when the session closes during the upgrade', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    const { socket, inbox } = await openWs(t, running, { transport: 'websocket', sid })
    socket.send('2probe')
    await inbox.next()
    const socketClosed = once(socket, 'close')
    session.close()
    assert.equal((await socketClosed)[0], 1001)
  })
})
