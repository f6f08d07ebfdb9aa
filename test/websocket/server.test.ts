// The server's opening handshake over real sockets (RFC 6455 §4.2, RFC 7692 §5): refusals as HTTP answers
// with JSON bodies, hooks, routing by path, subprotocols and permessage-deflate negotiation.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { constants, inflateRawSync } from 'node:zlib'
import type { HandshakeError } from '../../src/websocket/codec/handshake.js'
import type { WebSocketConnection } from '../../src/websocket/connection.js'
import { WebSocketServer, type WebSocketServerOptions } from '../../src/websocket/server.js'
import { hex } from '../helpers/bytes.js'
import { closeBody, masked, RawSocket, rfcAccept, type UpgradeRequest } from '../helpers/raw-socket.js'

async function listenWs(t: TestContext, options: WebSocketServerOptions = {}) {
  const server = new WebSocketServer(options)
  const { port } = await server.listen()
  t.after(async () => {
    for (const client of server.clients) client.terminate()
    await server.close()
  })
  return { server, port }
}

async function openRaw(t: TestContext, port: number, request?: UpgradeRequest): Promise<RawSocket> {
  const raw = await RawSocket.connect(port, request)
  t.after(() => raw.destroy())
  return raw
}

function nextConnection(server: WebSocketServer): Promise<WebSocketConnection> {
  return new Promise((resolve) => server.once('connection', (connection) => resolve(connection)))
}

interface RefusalBody {
  code: string
  message: string
}

function isRefusalBody(value: unknown): value is RefusalBody {
  if (typeof value !== 'object' || value === null) return false
  const { code, message } = value as Record<string, unknown>
  return typeof code === 'string' && typeof message === 'string' && Object.keys(value).length === 2
}

/** Asserts an HTTP refusal: the status and a JSON body `{code, message}`, which it returns. */
function assertRefusal(raw: RawSocket, status: number, code: string): RefusalBody {
  assert.equal(raw.answer.status, status)
  assert.equal(raw.answer.headers['content-type'], 'application/json')
  const body: unknown = JSON.parse(raw.answer.body)
  assert.ok(isRefusalBody(body), `not a {code, message} body: ${raw.answer.body}`)
  assert.equal(body.code, code)
  return body
}

describe('handshake refusals', () => {
  it('answers POST with 405, Allow: GET and a JSON body', async (t) => {
    const { port } = await listenWs(t)
    const raw = await openRaw(t, port, { method: 'POST', headers: { 'Content-Length': '0' } })
    assertRefusal(raw, 405, 'ws-handshake-method')
    assert.equal(raw.answer.headers.allow, 'GET')
    await raw.closed()
  })

  it('answers 400 when the Upgrade header names another protocol', async (t) => {
    const { port } = await listenWs(t)
    const raw = await openRaw(t, port, { headers: { Upgrade: 'h2c' } })
    assertRefusal(raw, 400, 'ws-handshake-upgrade')
  })

  it('answers a request without an Upgrade header as a plain request, with 426', async (t) => {
    const { port } = await listenWs(t)
    const raw = await openRaw(t, port, { headers: { Upgrade: null } })
    assertRefusal(raw, 426, 'ws-upgrade-required')
  })

  it('answers Sec-WebSocket-Version 8 with 426 naming version 13', async (t) => {
    const { port } = await listenWs(t)
    const raw = await openRaw(t, port, { headers: { 'Sec-WebSocket-Version': '8' } })
    assertRefusal(raw, 426, 'ws-handshake-version')
    assert.equal(raw.answer.headers['sec-websocket-version'], '13')
  })

  it('answers 400 to a Sec-WebSocket-Key that is not 16 bytes of base64', async (t) => {
    const { port } = await listenWs(t)
    // 15 bytes in base64: well-formed base64, wrong length.
    const raw = await openRaw(t, port, { headers: { 'Sec-WebSocket-Key': 'AAAAAAAAAAAAAAAAAAAA' } })
    assertRefusal(raw, 400, 'ws-handshake-key')
  })

  it('answers 400 to a request without a Sec-WebSocket-Key', async (t) => {
    const { port } = await listenWs(t)
    const raw = await openRaw(t, port, { headers: { 'Sec-WebSocket-Key': null } })
    assertRefusal(raw, 400, 'ws-handshake-key')
  })

  it('answers 403 when authorize returns false, and reports the refusal', async (t) => {
    const { server, port } = await listenWs(t, { authorize: () => false })
    const rejected = once(server, 'rejected')
    const raw = await openRaw(t, port)
    assertRefusal(raw, 403, 'ws-handshake-refused')
    const [error] = (await rejected) as [HandshakeError]
    assert.equal(error.httpStatus, 403)
    assert.equal(server.clients.size, 0)
  })

  it('answers with the status, message and headers of a Refusal returned by authorize', async (t) => {
    const { port } = await listenWs(t, {
      authorize: () => ({ status: 401, message: 'token expired', headers: { 'WWW-Authenticate': 'Bearer' } }),
    })
    const raw = await openRaw(t, port)
    const body = assertRefusal(raw, 401, 'ws-handshake-refused')
    assert.equal(body.message, 'token expired')
    assert.equal(raw.answer.headers['www-authenticate'], 'Bearer')
  })

  it('waits for an async authorize and passes it the request', async (t) => {
    const seen: string[] = []
    const { server, port } = await listenWs(t, {
      authorize: async (request) => {
        await new Promise((resolve) => setTimeout(resolve, 20))
        seen.push(String(request.headers['x-token']))
        return request.headers['x-token'] === 'letmein'
      },
    })
    const accepted = nextConnection(server)
    const raw = await openRaw(t, port, { headers: { 'X-Token': 'letmein' } })
    assert.equal(raw.answer.status, 101)
    await accepted
    const refused = await openRaw(t, port, { headers: { 'X-Token': 'wrong' } })
    assertRefusal(refused, 403, 'ws-handshake-refused')
    assert.deepEqual(seen, ['letmein', 'wrong'])
  })

  it('refuses an Origin missing from allowedOrigins with 403', async (t) => {
    const { port } = await listenWs(t, { allowedOrigins: ['https://app.example'] })
    const raw = await openRaw(t, port, { headers: { Origin: 'https://evil.example' } })
    assertRefusal(raw, 403, 'ws-handshake-origin')
  })

  it('accepts an Origin listed in allowedOrigins', async (t) => {
    const { port } = await listenWs(t, { allowedOrigins: ['https://app.example'] })
    const raw = await openRaw(t, port, { headers: { Origin: 'https://app.example' } })
    assert.equal(raw.answer.status, 101)
  })

  it('answers 500 when the authorize hook throws', async (t) => {
    const { port } = await listenWs(t, {
      authorize: () => {
        throw new Error('database down')
      },
    })
    const raw = await openRaw(t, port)
    const body = assertRefusal(raw, 500, 'ws-handshake-refused')
    assert.doesNotMatch(body.message, /database down/)
  })

  it('answers 500 when the selectProtocol hook rejects', async (t) => {
    const { port } = await listenWs(t, { selectProtocol: () => Promise.reject(new Error('boom')) })
    const raw = await openRaw(t, port, { headers: { 'Sec-WebSocket-Protocol': 'chat' } })
    assertRefusal(raw, 500, 'ws-handshake-refused')
  })

  it('answers 408 when authorize has not decided within handshakeTimeoutMs', async (t) => {
    const { port } = await listenWs(t, { handshakeTimeoutMs: 150, authorize: () => new Promise(() => {}) })
    const started = Date.now()
    const raw = await openRaw(t, port)
    const waited = Date.now() - started
    assertRefusal(raw, 408, 'ws-handshake-timeout')
    assert.ok(waited >= 140, `answered after ${waited} ms`)
    assert.ok(waited < 2000, `answered after ${waited} ms`)
    await raw.closed()
  })
})

describe('endpoints', () => {
  it('gives two servers attached to one HTTP server their own clients by path', async (t) => {
    const http = createServer()
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const chat = new WebSocketServer({ server: http, path: '/chat' })
    const feed = new WebSocketServer({ server: http, path: '/feed' })
    t.after(async () => {
      for (const client of [...chat.clients, ...feed.clients]) client.terminate()
      await Promise.all([chat.close(), feed.close()])
      await new Promise((resolve) => http.close(resolve))
    })
    const port = (http.address() as AddressInfo).port
    const toChat = nextConnection(chat)
    await openRaw(t, port, { path: '/chat?room=1' })
    await toChat
    const toFeed = nextConnection(feed)
    await openRaw(t, port, { path: '/feed' })
    await toFeed
    await openRaw(t, port, { path: '/feed' })
    assert.equal(chat.clients.size, 1)
    assert.equal(feed.clients.size, 2)
  })

  it('answers 404 with JSON for a path no endpoint serves', async (t) => {
    const http = createServer()
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const chat = new WebSocketServer({ server: http, path: '/chat' })
    t.after(async () => {
      await chat.close()
      await new Promise((resolve) => http.close(resolve))
    })
    const raw = await openRaw(t, (http.address() as AddressInfo).port, { path: '/nowhere' })
    assertRefusal(raw, 404, 'ws-handshake-not-found')
    await raw.closed()
  })

  it('leaves an unknown path to another upgrade listener on the same HTTP server', async (t) => {
    const http = createServer()
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const chat = new WebSocketServer({ server: http, path: '/chat' })
    http.on('upgrade', (request, socket) => {
      if (request.url === '/other') socket.end('HTTP/1.1 418 Teapot\r\nContent-Length: 0\r\n\r\n')
    })
    t.after(async () => {
      await chat.close()
      await new Promise((resolve) => http.close(resolve))
    })
    const raw = await openRaw(t, (http.address() as AddressInfo).port, { path: '/other' })
    assert.equal(raw.answer.status, 418)
  })

  it('answers a plain GET to its own HTTP server with 426 and a JSON body', async (t) => {
    const { port } = await listenWs(t)
    const response = await fetch(`http://127.0.0.1:${port}/`)
    assert.equal(response.status, 426)
    assert.equal(response.headers.get('upgrade'), 'websocket')
    assert.ok(isRefusalBody(await response.json()))
  })

  it('completes a handshake with the Sec-WebSocket-Accept of RFC 6455 §1.3', async (t) => {
    const { server, port } = await listenWs(t)
    const accepted = nextConnection(server)
    const raw = await openRaw(t, port)
    assert.equal(raw.answer.status, 101)
    assert.equal(raw.answer.headers['sec-websocket-accept'], rfcAccept)
    assert.equal(raw.answer.headers.upgrade?.toLowerCase(), 'websocket')
    assert.equal(raw.answer.headers['sec-websocket-protocol'], undefined)
    const connection = await accepted
    assert.equal(connection.protocol, '')
    assert.equal(server.clients.size, 1)
  })
})

describe('stopping', () => {
  it('sends 1001 to every client on close(), then stops listening and resolves once they are gone', async (t) => {
    const server = new WebSocketServer()
    const { port } = await server.listen()
    t.after(() => server.close())
    const accepted = nextConnection(server)
    const raw = await openRaw(t, port)
    await accepted
    let stopped = false
    server.once('close', () => {
      stopped = true
    })
    const closing = server.close()
    const frame = await raw.nextFrame()
    assert.deepEqual(closeBody(frame), { code: 1001, reason: 'server stopping' })
    assert.equal(stopped, false, 'close() waits for the clients')
    raw.write(masked(0x88, hex('03 e9')))
    await closing
    assert.equal(stopped, true)
    assert.equal(server.clients.size, 0)
    await assert.rejects(RawSocket.connect(port), { code: 'ECONNREFUSED' })
  })
})

describe('subprotocols', () => {
  it("chooses by the client's order among the protocols the server speaks", async (t) => {
    const { server, port } = await listenWs(t, { protocols: ['b', 'a'] })
    const accepted = nextConnection(server)
    const raw = await openRaw(t, port, { headers: { 'Sec-WebSocket-Protocol': 'c, a, b' } })
    assert.equal(raw.answer.headers['sec-websocket-protocol'], 'a')
    assert.equal((await accepted).protocol, 'a')
  })

  it('selects no subprotocol when the server speaks none of the offered ones', async (t) => {
    const { port } = await listenWs(t, { protocols: ['b'] })
    const raw = await openRaw(t, port, { headers: { 'Sec-WebSocket-Protocol': 'x, y' } })
    assert.equal(raw.answer.status, 101)
    assert.equal(raw.answer.headers['sec-websocket-protocol'], undefined)
  })

  it('lets selectProtocol choose among the offered protocols', async (t) => {
    let offered: string[] = []
    const { port } = await listenWs(t, {
      protocols: ['a'],
      selectProtocol: async (list) => {
        offered = list
        return list[list.length - 1]
      },
    })
    const raw = await openRaw(t, port, { headers: { 'Sec-WebSocket-Protocol': 'a, v2.chat' } })
    assert.deepEqual(offered, ['a', 'v2.chat'])
    assert.equal(raw.answer.headers['sec-websocket-protocol'], 'v2.chat')
  })

  it('answers 500 when selectProtocol returns a protocol the client did not offer', async (t) => {
    const { port } = await listenWs(t, { selectProtocol: () => 'superchat' })
    const raw = await openRaw(t, port, { headers: { 'Sec-WebSocket-Protocol': 'chat' } })
    assertRefusal(raw, 500, 'ws-handshake-protocol')
  })

  it('answers 400 to a Sec-WebSocket-Protocol that repeats an entry', async (t) => {
    const { port } = await listenWs(t, { protocols: ['a'] })
    const raw = await openRaw(t, port, { headers: { 'Sec-WebSocket-Protocol': 'a, a' } })
    assertRefusal(raw, 400, 'ws-handshake-protocol')
  })
})

describe('permessage-deflate negotiation', () => {
  // A text message above the default 1024-byte compression threshold.
  const longText = 'x'.repeat(2000)

  async function echoServer(t: TestContext) {
    const { server, port } = await listenWs(t, { perMessageDeflate: true })
    server.on('connection', (connection) => {
      connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }))
    })
    return port
  }

  it('declines an offer of server_max_window_bits=8 and carries on uncompressed', async (t) => {
    const port = await echoServer(t)
    const raw = await openRaw(t, port, {
      headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; server_max_window_bits=8' },
    })
    assert.equal(raw.answer.status, 101)
    assert.equal(raw.answer.headers['sec-websocket-extensions'], undefined)
    // RFC 6455 §5.7: a masked text frame carrying "Hello".
    raw.write(hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'))
    const hello = await raw.nextDataOrClose()
    assert.deepEqual([hello.opcode, hello.rsv1, hello.payload.toString()], [0x1, false, 'Hello'])
    raw.write(masked(0x81, longText))
    const echoed = await raw.nextDataOrClose()
    assert.equal(echoed.rsv1, false)
    assert.equal(echoed.payload.toString(), longText)
  })

  it('declines an offer with an unknown parameter', async (t) => {
    const port = await echoServer(t)
    const raw = await openRaw(t, port, {
      headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; dictionary=shared' },
    })
    assert.equal(raw.answer.status, 101)
    assert.equal(raw.answer.headers['sec-websocket-extensions'], undefined)
    raw.write(masked(0x81, longText))
    assert.equal((await raw.nextDataOrClose()).rsv1, false)
  })

  it('accepts the next offer when the first is declined', async (t) => {
    const port = await echoServer(t)
    const raw = await openRaw(t, port, {
      headers: {
        'Sec-WebSocket-Extensions': 'permessage-deflate; server_max_window_bits=8, permessage-deflate',
      },
    })
    assert.equal(raw.answer.headers['sec-websocket-extensions'], 'permessage-deflate')
  })

  it('echoes client_no_context_takeover when it is offered', async (t) => {
    const port = await echoServer(t)
    const raw = await openRaw(t, port, {
      headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_no_context_takeover' },
    })
    assert.equal(
      raw.answer.headers['sec-websocket-extensions'],
      'permessage-deflate; client_no_context_takeover',
    )
    raw.write(masked(0x81, longText))
    const echoed = await raw.nextDataOrClose()
    assert.equal(echoed.rsv1, true, 'a message past the threshold is sent compressed')
    // RFC 7692 §7.2.2: the receiver appends 00 00 ff ff and inflates up to that sync point.
    const inflated = inflateRawSync(Buffer.concat([echoed.payload, hex('00 00 ff ff')]), {
      finishFlush: constants.Z_SYNC_FLUSH,
    })
    assert.equal(inflated.toString(), longText)
  })

  it('accepts no extension when perMessageDeflate is off', async (t) => {
    const { port } = await listenWs(t)
    const raw = await openRaw(t, port, { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } })
    assert.equal(raw.answer.status, 101)
    assert.equal(raw.answer.headers['sec-websocket-extensions'], undefined)
  })
})
