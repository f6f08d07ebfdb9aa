// The server-driven heartbeat (protocol v4 §Heartbeat): a ping every pingInterval, a pong expected within
// pingTimeout, on both transports; a client that stops answering is closed with `ping timeout`.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import {
  assertEngineError,
  nextSession,
  openPolling,
  openWs,
  poll,
  post,
  startEngine,
  waitingPoll,
} from './helpers/engine.js'

const pingIntervalMs = 60
const pingTimeoutMs = 40
// Where the test answers every ping, a generous timeout keeps a loaded machine from failing it.
const patientTimeoutMs = 2000

describe('heartbeat over polling', () => {
  it('sends a ping after pingInterval, and again after each pong', async (t) => {
    const running = await startEngine(t, { pingIntervalMs, pingTimeoutMs: patientTimeoutMs })
    // The interval runs from the handshake, then from each pong.
    let started = performance.now()
    const { sid, session } = await openPolling(running)
    for (let i = 0; i < 3; i++) {
      assert.equal(await (await poll(running, sid)).text(), '2')
      // Timers run from the loop's cached clock, which can lag real time by a few ms under load.
      assert.ok(performance.now() - started >= pingIntervalMs * 0.8, `ping ${i} came early`)
      started = performance.now()
      assert.equal(await (await post(running, sid, '3')).text(), 'ok')
    }
    assert.equal(session.state, 'open')
  })

  it('closes a session that does not answer after pingInterval + pingTimeout, then refuses its sid', async (t) => {
    const running = await startEngine(t, { pingIntervalMs, pingTimeoutMs })
    const started = performance.now()
    const { sid, session } = await openPolling(running)
    assert.deepEqual(await once(session, 'close'), ['ping timeout'])
    assert.ok(
      performance.now() - started >= pingIntervalMs + pingTimeoutMs - 1,
      'not before interval + timeout',
    )
    await assertEngineError(await poll(running, sid), 400, 1, 'Session ID unknown')
  })

  it('keeps the deadline at pingInterval + pingTimeout when a busy event loop sends the ping late', async (t) => {
    const interval = 100
    const timeout = 100
    const running = await startEngine(t, { pingIntervalMs: interval, pingTimeoutMs: timeout })
    // The session opens between these two instants.
    const started = performance.now()
    const { session } = await openPolling(running)
    const opened = performance.now()
    // The event loop is busy from 90 ms to 190 ms after the opening, so the ping due at 100 ms goes out ~90 ms late:
    // measured from the late ping, the session would end at 290 ms or later.
    setTimeout(() => {
      const until = opened + 190
      while (performance.now() < until) {
        // A handler that hogs the event loop, as a slow one in a real server would.
      }
    }, 90)
    assert.deepEqual(await once(session, 'close'), ['ping timeout'])
    const closed = performance.now()
    const earliest = closed - started
    const latest = closed - opened
    assert.ok(
      earliest >= interval + timeout - 5,
      `closed ${earliest} ms after opening: before interval + timeout`,
    )
    assert.ok(
      latest < interval + timeout + 80,
      `closed ${latest} ms after opening: the late ping moved the deadline`,
    )
  })

  it('ends the waiting GET with the close packet on ping timeout', async (t) => {
    const running = await startEngine(t, { pingIntervalMs, pingTimeoutMs })
    const { sid, session } = await openPolling(running)
    assert.equal(await (await poll(running, sid)).text(), '2')
    const { answer: waiting } = await waitingPoll(running, sid)
    assert.deepEqual(await once(session, 'close'), ['ping timeout'])
    assert.equal(await (await waiting).text(), '1')
  })
})

describe('heartbeat over WebSocket', () => {
  it('keeps a session that answers each ping with a pong', async (t) => {
    const running = await startEngine(t, { pingIntervalMs, pingTimeoutMs: patientTimeoutMs })
    const opened = nextSession(running.engine)
    const { socket, inbox } = await openWs(t, running, { transport: 'websocket' })
    await inbox.next()
    const session = await opened
    for (let i = 0; i < 3; i++) {
      assert.equal(await inbox.next(), '2')
      socket.send('3')
    }
    assert.equal(session.state, 'open')
  })

  it('closes a session that does not answer after pingInterval + pingTimeout, and its WebSocket', async (t) => {
    const running = await startEngine(t, { pingIntervalMs, pingTimeoutMs })
    const opened = nextSession(running.engine)
    const started = performance.now()
    const { socket, inbox } = await openWs(t, running, { transport: 'websocket' })
    await inbox.next()
    const session = await opened
    const socketClosed = once(socket, 'close')
    assert.deepEqual(await once(session, 'close'), ['ping timeout'])
    assert.ok(
      performance.now() - started >= pingIntervalMs + pingTimeoutMs - 1,
      'not before interval + timeout',
    )
    assert.equal(await inbox.next(), '2')
    assert.equal((await socketClosed)[0], 1008)
  })

  it('answers a ping from the client with a pong carrying the same data', async (t) => {
    const running = await startEngine(t)
    const { socket, inbox } = await openWs(t, running, { transport: 'websocket' })
    await inbox.next()
    socket.send('2hi')
    assert.equal(await inbox.next(), '3hi')
  })
})
