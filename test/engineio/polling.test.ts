// The polling transport with plain fetch (protocol v4 §HTTP long-polling, §Handshake): the handshake, payloads,
// the protocol's numbered errors, one GET and one POST at a time, maxPayload, and closing.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { describe, it } from 'node:test'
import type { EngineIOProtocolError } from '../../src/engineio/codec/protocol-error.js'
import { engineDefaults } from '../../src/engineio/options.js'
import {
  assertEngineError,
  openPolling,
  parseOpen,
  poll,
  post,
  startEngine,
  waitingPoll,
} from './helpers/engine.js'

describe('handshake', () => {
  it('opens a session with a GET answered by 0{"sid","upgrades","pingInterval","pingTimeout","maxPayload"}', async (t) => {
    const running = await startEngine(t, { pingIntervalMs: 300, pingTimeoutMs: 200 })
    const response = await fetch(running.url())
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-type'), 'text/plain; charset=UTF-8')
    const text = await response.text()
    assert.match(
      text,
      /^0\{"sid":"[\w-]{20}","upgrades":\["websocket"\],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000\}$/,
    )
    assert.ok(running.engine.sessions.has(parseOpen(text).sid))
  })

  it('announces the defaults of engineDefaults when given no settings', async (t) => {
    const running = await startEngine(t)
    const open = parseOpen(await (await fetch(running.url())).text())
    assert.equal(open.pingInterval, engineDefaults.pingIntervalMs)
    assert.equal(open.pingTimeout, engineDefaults.pingTimeoutMs)
    assert.equal(open.maxPayload, engineDefaults.maxPayloadBytes)
  })

  it('offers no upgrade when the WebSocket transport is turned off', async (t) => {
    const running = await startEngine(t, { transports: ['polling'] })
    assert.deepEqual(parseOpen(await (await fetch(running.url())).text()).upgrades, [])
  })

  it('includes messages sent in the connection handler in the handshake answer', async (t) => {
    const running = await startEngine(t)
    running.engine.on('connection', (session) => session.send('welcome'))
    const text = await (await fetch(running.url())).text()
    const [open, welcome] = text.split('\x1e')
    parseOpen(open)
    assert.equal(welcome, '4welcome')
  })

  it('serves a path configured without its trailing slash at that path with one, and leaves /engine.io/ alone', async (t) => {
    const running = await startEngine(t, { path: '/socket.io' })
    assert.equal(running.engine.path, '/socket.io/')
    assert.equal((await fetch(`${running.origin}/socket.io/?EIO=4&transport=polling`)).status, 200)
    assert.equal((await fetch(`${running.origin}/engine.io/?EIO=4&transport=polling`)).status, 404)
  })
})

describe('the protocol errors', () => {
  it('answers a missing or unknown transport with 400, code 0 "Transport unknown"', async (t) => {
    const running = await startEngine(t)
    await assertEngineError(await fetch(running.url({})), 400, 0, 'Transport unknown')
    await assertEngineError(await fetch(running.url({ transport: 'abc' })), 400, 0, 'Transport unknown')
  })

  it('answers polling on a server without it with code 0', async (t) => {
    const running = await startEngine(t, { transports: ['websocket'] })
    await assertEngineError(await fetch(running.url()), 400, 0, 'Transport unknown')
  })

  it('answers EIO=3, EIO=abc or no EIO with 400, code 5 "Unsupported protocol version"', async (t) => {
    const running = await startEngine(t)
    for (const EIO of ['3', 'abc', '']) {
      await assertEngineError(
        await fetch(running.url({ EIO, transport: 'polling' })),
        400,
        5,
        'Unsupported protocol version',
      )
    }
    const withoutEio = `${running.origin}/engine.io/?transport=polling`
    await assertEngineError(await fetch(withoutEio), 400, 5, 'Unsupported protocol version')
  })

  it('answers a POST or PUT handshake with 400, code 2 "Bad handshake method"', async (t) => {
    const running = await startEngine(t)
    for (const method of ['POST', 'PUT']) {
      const response = await fetch(running.url(), { method, body: '4hello' })
      await assertEngineError(response, 400, 2, 'Bad handshake method')
    }
    assert.equal(running.engine.sessions.size, 0)
  })

  it('answers a GET or POST with an unknown sid with 400, code 1 "Session ID unknown"', async (t) => {
    const running = await startEngine(t)
    await assertEngineError(await poll(running, 'no-such-session'), 400, 1, 'Session ID unknown')
    await assertEngineError(await post(running, 'no-such-session', '4hi'), 400, 1, 'Session ID unknown')
    await assertEngineError(await poll(running, ''), 400, 1, 'Session ID unknown')
  })

  it('answers a plain GET for the websocket transport with 400, code 3 "Bad request"', async (t) => {
    const running = await startEngine(t)
    await assertEngineError(await fetch(running.url({ transport: 'websocket' })), 400, 3, 'Bad request')
  })

  it('answers a DELETE on a session with code 3 and keeps the session', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    await assertEngineError(await poll(running, sid, { method: 'DELETE' }), 400, 3, 'Bad request')
    assert.equal(session.state, 'open')
  })

  it('reports each refusal as a connectionError event with its stable code', async (t) => {
    const running = await startEngine(t)
    const reported = once(running.engine, 'connectionError') as Promise<
      [EngineIOProtocolError, IncomingMessage]
    >
    await fetch(running.url({ transport: 'abc' }))
    const [error, request] = await reported
    assert.equal(error.code, 'eio-unknown-transport')
    assert.equal(error.engineCode, 0)
    assert.match(request.url ?? '', /transport=abc/)
  })
})

describe('sending and receiving', () => {
  it('answers a POST with ok and delivers its packets in order, text and binary', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    const received: unknown[] = []
    session.on('message', (data) => received.push(data))
    const response = await post(running, sid, '4test1\x1e4test2\x1ebAQIDBA==')
    assert.equal(response.status, 200)
    assert.equal(await response.text(), 'ok')
    assert.deepEqual(received, ['test1', 'test2', Buffer.from([1, 2, 3, 4])])
  })

  it('joins the messages waiting for a GET with the record separator, binary as b and base64', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    session.send('hello')
    session.send(new Uint8Array([1, 2, 3, 4]))
    session.send('€')
    assert.equal(await (await poll(running, sid)).text(), '4hello\x1ebAQIDBA==\x1e4€')
  })

  it('holds a GET until there is something to send', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    const { answer } = await waitingPoll(running, sid)
    session.send('later')
    assert.equal(await (await answer).text(), '4later')
  })

  it('closes the session on a body that is not a payload, with 400 code 3, and ends the waiting GET with 1', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    const { answer: waiting } = await waitingPoll(running, sid)
    const closed = once(session, 'close')
    await assertEngineError(await post(running, sid, 'abc'), 400, 3, 'Bad request')
    assert.deepEqual(await closed, ['parse error'])
    assert.equal(await (await waiting).text(), '1')
    await assertEngineError(await poll(running, sid), 400, 1, 'Session ID unknown')
  })

  it('refuses a binary body (Content-Type application/octet-stream) with code 3 and closes', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    const closed = once(session, 'close')
    const response = await fetch(running.url({ transport: 'polling', sid }), {
      method: 'POST',
      body: new Uint8Array([4, 1, 2]),
      headers: { 'Content-Type': 'application/octet-stream' },
    })
    await assertEngineError(response, 400, 3, 'Bad request')
    assert.deepEqual(await closed, ['parse error'])
  })
})

describe('one request of each kind at a time', () => {
  it('closes the session on a second concurrent GET: 400 for it, the close packet for the first', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    const { answer: first } = await waitingPoll(running, sid)
    const closed = once(session, 'close')
    await assertEngineError(await poll(running, sid), 400, 3, 'Bad request')
    assert.equal(await (await first).text(), '1')
    assert.deepEqual(await closed, ['transport error'])
    await assertEngineError(await poll(running, sid), 400, 1, 'Session ID unknown')
  })

  it('closes the session on a second POST while the first body is still arriving', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    let finishBody = (): void => {}
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('4slow'))
        finishBody = () => controller.close()
      },
    })
    const arrived = once(running.server, 'request')
    const slow = fetch(running.url({ transport: 'polling', sid }), {
      method: 'POST',
      body,
      duplex: 'half',
    } as RequestInit)
    await arrived
    const closed = once(session, 'close')
    await assertEngineError(await post(running, sid, '4fast'), 400, 3, 'Bad request')
    assert.deepEqual(await closed, ['transport error'])
    finishBody()
    await assertEngineError(await slow, 400, 1, 'Session ID unknown')
  })

  it('closes the session when its waiting GET is cancelled', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    const controller = new AbortController()
    const arrived = once(running.server, 'request')
    const cancelled = poll(running, sid, { signal: controller.signal }).catch(() => 'aborted')
    await arrived
    const closed = once(session, 'close')
    controller.abort()
    assert.equal(await cancelled, 'aborted')
    assert.deepEqual(await closed, ['transport close'])
    await assertEngineError(await poll(running, sid), 400, 1, 'Session ID unknown')
  })
})

describe('maxPayload', () => {
  const maxPayloadBytes = 1000

  it('takes a POST body of exactly maxPayload bytes', async (t) => {
    const running = await startEngine(t, { maxPayloadBytes })
    const { sid, session } = await openPolling(running)
    const received = once(session, 'message')
    const response = await post(running, sid, `4${'x'.repeat(maxPayloadBytes - 1)}`)
    assert.equal(response.status, 200)
    const [data] = await received
    assert.equal((data as string).length, maxPayloadBytes - 1)
  })

  it('answers a POST body one byte over maxPayload with 413 and code 3, and closes the session', async (t) => {
    const running = await startEngine(t, { maxPayloadBytes })
    const { sid, session } = await openPolling(running)
    const closed = once(session, 'close')
    await assertEngineError(
      await post(running, sid, `4${'x'.repeat(maxPayloadBytes)}`),
      413,
      3,
      'Bad request',
    )
    assert.deepEqual(await closed, ['transport error'])
  })

  it('counts bytes, not characters: 334 euro signs (1003 bytes) are over a 1000-byte maxPayload', async (t) => {
    const running = await startEngine(t, { maxPayloadBytes })
    const { sid } = await openPolling(running)
    await assertEngineError(await post(running, sid, `4${'€'.repeat(334)}`), 413, 3, 'Bad request')
  })

  it('stops reading a chunked body as soon as it passes maxPayload', async (t) => {
    const running = await startEngine(t, { maxPayloadBytes })
    const { sid, session } = await openPolling(running)
    const closed = once(session, 'close')
    const chunk = new TextEncoder().encode('x'.repeat(600))
    let sent = 0
    // No Content-Length: the limit is found while reading. The stream would go on for 100 MB.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(sent === 0 ? new TextEncoder().encode('4') : chunk)
        sent++
        if (sent > 170_000) controller.close()
      },
    })
    const response = await fetch(running.url({ transport: 'polling', sid }), {
      method: 'POST',
      body,
      duplex: 'half',
    } as RequestInit).catch((error: Error) => error)
    if (!(response instanceof Error)) await assertEngineError(response, 413, 3, 'Bad request')
    assert.deepEqual(await closed, ['transport error'])
    assert.ok(sent < 170_000, `the server read on: ${sent} chunks`)
  })
})

describe('closing', () => {
  it('ends the waiting GET with a noop when the client sends the close packet', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    const { answer: waiting } = await waitingPoll(running, sid)
    const closed = once(session, 'close')
    assert.equal(await (await post(running, sid, '1')).text(), 'ok')
    assert.equal(await (await waiting).text(), '6')
    assert.deepEqual(await closed, ['transport close'])
    await assertEngineError(await poll(running, sid), 400, 1, 'Session ID unknown')
  })

  it('gives the next GET what was sent after close(), and the close packet to the GET after it', async (t) => {
    // socket.io-client hands a payload's packets on a tick later and drops them if that payload also closes.
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    session.send('bye')
    session.close()
    assert.equal(session.state, 'closing')
    assert.equal(session.send('too late'), false)
    const closed = once(session, 'close')
    assert.equal(await (await poll(running, sid)).text(), '4bye')
    assert.equal(session.state, 'closing')
    assert.equal(await (await poll(running, sid)).text(), '1')
    assert.deepEqual(await closed, ['forced close'])
  })

  it('answers a waiting GET with what was sent when close() comes, and the next GET with the close packet', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    const { answer: waiting } = await waitingPoll(running, sid)
    const closed = once(session, 'close')
    session.send('bye')
    session.close()
    assert.equal(await (await waiting).text(), '4bye')
    assert.equal(await (await poll(running, sid)).text(), '1')
    assert.deepEqual(await closed, ['forced close'])
  })

  it('answers a waiting GET with the close packet at once when close() finds nothing queued', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    const { answer: waiting } = await waitingPoll(running, sid)
    const closed = once(session, 'close')
    session.close()
    assert.equal(await (await waiting).text(), '1')
    assert.deepEqual(await closed, ['forced close'])
  })

  it('closes a session whose client does not come for its close packet within pingTimeout', async (t) => {
    const running = await startEngine(t, { pingTimeoutMs: 50 })
    const { session } = await openPolling(running)
    const started = performance.now()
    session.close()
    assert.deepEqual(await once(session, 'close'), ['forced close'])
    // Node's timers run from the loop's cached clock, which can lag real time by a few ms under load.
    assert.ok(performance.now() - started >= 40)
  })

  it('ends every session with server shutting down when the server closes', async (t) => {
    const running = await startEngine(t)
    const { sid, session } = await openPolling(running)
    const { answer: waiting } = await waitingPoll(running, sid)
    const closed = once(session, 'close')
    await running.engine.close()
    assert.deepEqual(await closed, ['server shutting down'])
    assert.equal(await (await waiting).text(), '1')
  })
})

describe('server API misuse', () => {
  it('throws a TypeError with a code when send is given neither a string nor bytes', async (t) => {
    const running = await startEngine(t)
    const { session } = await openPolling(running)
    assert.throws(() => session.send(42 as unknown as string), { name: 'TypeError', code: 'eio-send-type' })
  })
})
