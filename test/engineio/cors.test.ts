// Cross-origin access for browsers and the authorize hook: CORS headers on polling answers, preflight (OPTIONS)
// answers, and origins or sessions refused with 403 and code 4 "Forbidden" on both transports.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { assertEngineError, openPolling, poll, refusedWs, startEngine } from './helpers/engine.js'

const good = 'https://chat.example'
const bad = 'https://evil.example'

describe('CORS on polling', () => {
  it('echoes an allowed origin with credentials and Vary: Origin on the handshake', async (t) => {
    const running = await startEngine(t, { cors: { origin: [good], credentials: true } })
    const response = await fetch(running.url(), { headers: { Origin: good } })
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('access-control-allow-origin'), good)
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true')
    assert.equal(response.headers.get('vary'), 'Origin')
  })

  it('refuses an origin not on the list with 403, code 4 "Forbidden" and no CORS headers', async (t) => {
    const running = await startEngine(t, { cors: { origin: [good] } })
    const response = await fetch(running.url(), { headers: { Origin: bad } })
    assert.equal(response.headers.get('access-control-allow-origin'), null)
    await assertEngineError(response, 403, 4, 'Forbidden')
    assert.equal(running.engine.sessions.size, 0)
  })

  it('lets requests without an Origin header through, without CORS headers', async (t) => {
    const running = await startEngine(t, { cors: { origin: [good] } })
    const response = await fetch(running.url())
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('access-control-allow-origin'), null)
  })

  it('sends no credentials header when credentials are off', async (t) => {
    const running = await startEngine(t, { cors: { origin: '*' } })
    const response = await fetch(running.url(), { headers: { Origin: bad } })
    assert.equal(response.headers.get('access-control-allow-origin'), bad)
    assert.equal(response.headers.get('access-control-allow-credentials'), null)
  })

  it('puts the CORS headers on error answers too, so the page can read them', async (t) => {
    const running = await startEngine(t, { cors: { origin: [good] } })
    const response = await fetch(running.url({ transport: 'polling', sid: 'nope' }), {
      headers: { Origin: good },
    })
    assert.equal(response.headers.get('access-control-allow-origin'), good)
    await assertEngineError(response, 400, 1, 'Session ID unknown')
  })

  it('asks an origin function, which may answer with a promise', async (t) => {
    const running = await startEngine(t, {
      cors: { origin: async (origin) => origin.endsWith('.chat.example') },
    })
    const allowed = await fetch(running.url(), { headers: { Origin: 'https://eu.chat.example' } })
    assert.equal(allowed.status, 200)
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://eu.chat.example')
    await assertEngineError(await fetch(running.url(), { headers: { Origin: bad } }), 403, 4, 'Forbidden')
  })

  it('adds no CORS headers without CORS options, whatever the origin', async (t) => {
    const running = await startEngine(t)
    const response = await fetch(running.url(), { headers: { Origin: bad } })
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('access-control-allow-origin'), null)
  })

  it('keeps the CORS headers on the polls and posts of a session', async (t) => {
    const running = await startEngine(t, { cors: { origin: [good] } })
    const { sid, session } = await openPolling(running)
    session.send('x')
    const response = await poll(running, sid, { headers: { Origin: good } })
    assert.equal(response.headers.get('access-control-allow-origin'), good)
    assert.equal(await response.text(), '4x')
  })
})

describe('preflight', () => {
  it('answers OPTIONS from an allowed origin with 204, the methods, the requested headers and a max age', async (t) => {
    const running = await startEngine(t, { cors: { origin: [good], credentials: true, maxAgeSeconds: 60 } })
    const response = await fetch(running.url(), {
      method: 'OPTIONS',
      headers: {
        Origin: good,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    })
    assert.equal(response.status, 204)
    assert.equal(response.headers.get('access-control-allow-origin'), good)
    assert.equal(response.headers.get('access-control-allow-methods'), 'GET, POST, OPTIONS')
    assert.equal(response.headers.get('access-control-allow-headers'), 'content-type')
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true')
    assert.equal(response.headers.get('access-control-max-age'), '60')
  })

  it('caches preflights for 600 seconds by default', async (t) => {
    const running = await startEngine(t, { cors: { origin: [good] } })
    const response = await fetch(running.url(), { method: 'OPTIONS', headers: { Origin: good } })
    assert.equal(response.headers.get('access-control-max-age'), '600')
  })

  it('refuses OPTIONS from an origin not allowed with 403, code 4', async (t) => {
    const running = await startEngine(t, { cors: { origin: [good] } })
    const response = await fetch(running.url(), { method: 'OPTIONS', headers: { Origin: bad } })
    await assertEngineError(response, 403, 4, 'Forbidden')
  })
})

describe('refusing on the WebSocket transport', () => {
  it('refuses an upgrade from an origin not allowed with 403, code 4', async (t) => {
    const running = await startEngine(t, { cors: { origin: [good] } })
    assert.deepEqual(await refusedWs(running, { transport: 'websocket' }, { Origin: bad }), {
      status: 403,
      body: { code: 4, message: 'Forbidden' },
    })
  })
})

describe('authorize', () => {
  it('refuses a new session with 403, code 4 when authorize answers false, on both transports', async (t) => {
    const running = await startEngine(t, {
      authorize: (request) => request.headers.authorization === 'Bearer ok',
    })
    await assertEngineError(await fetch(running.url()), 403, 4, 'Forbidden')
    assert.deepEqual(await refusedWs(running, { transport: 'websocket' }), {
      status: 403,
      body: { code: 4, message: 'Forbidden' },
    })
    const allowed = await fetch(running.url(), { headers: { Authorization: 'Bearer ok' } })
    assert.equal(allowed.status, 200)
  })

  it('waits for an authorize promise, and refuses when it rejects', async (t) => {
    let calls = 0
    const running = await startEngine(t, {
      authorize: async () => {
        calls++
        if (calls > 1) throw new Error('auth service down')
        return true
      },
    })
    assert.equal((await fetch(running.url())).status, 200)
    await assertEngineError(await fetch(running.url()), 403, 4, 'Forbidden')
  })
})
