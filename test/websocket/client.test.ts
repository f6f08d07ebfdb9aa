// Our WHATWG-style client (RFC 6455 §4.1 client handshake, §5.1 masking rules) against our server, a
// plain HTTP server, and raw TCP servers that answer with literal bytes.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { createServer as createHttpServer } from 'node:http'
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { type CloseEvent, type ErrorEvent, WebSocket } from '../../src/websocket/client.js'
import { WebSocketServer, type WebSocketServerOptions } from '../../src/websocket/server.js'
import { hex } from '../helpers/bytes.js'

async function listenWs(t: TestContext, options: WebSocketServerOptions = {}) {
  const server = new WebSocketServer(options)
  const { port } = await server.listen()
  t.after(async () => {
    for (const client of server.clients) client.terminate()
    await server.close()
  })
  return { server, port }
}

/** A client whose events are recorded in order; `closed` resolves with the close event. */
function open(t: TestContext, url: string, protocols?: string | string[], options = {}) {
  const ws = new WebSocket(url, protocols, options)
  t.after(() => ws.terminate())
  const events: string[] = []
  let error: Error | null = null
  ws.addEventListener('open', () => events.push('open'))
  ws.addEventListener('error', (event) => {
    events.push('error')
    error = (event as ErrorEvent).error
  })
  const closed = new Promise<CloseEvent>((resolve) =>
    ws.addEventListener('close', (event) => {
      events.push('close')
      resolve(event as CloseEvent)
    }),
  )
  const opened = new Promise<void>((resolve) => ws.addEventListener('open', () => resolve()))
  return { ws, events, closed, opened, error: () => error }
}

/** The Sec-WebSocket-Accept for a key, computed here from RFC 6455 §4.2.2 rather than by our code. */
function acceptFor(key: string): string {
  return createHash('sha1')
    .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
    .digest('base64')
}

/**
 * A TCP server that reads one HTTP request per connection and hands its headers (lower-cased) and the
 * socket to `answer`, which writes whatever bytes the test wants.
 */
async function rawServer(
  t: TestContext,
  answer: (headers: Record<string, string>, socket: Socket) => void,
): Promise<number> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => socket.destroy())
    let head = ''
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1')
      const end = head.indexOf('\r\n\r\n')
      if (end === -1) return
      socket.off('data', onData)
      const headers: Record<string, string> = {}
      for (const line of head.slice(0, end).split('\r\n').slice(1)) {
        const colon = line.indexOf(':')
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
      }
      answer(headers, socket)
    }
    socket.on('data', onData)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  return (server.address() as AddressInfo).port
}

function switchingProtocols(accept: string, extra = ''): string {
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${extra}\r\n`
}

function assertSyntaxError(make: () => unknown): void {
  assert.throws(make, (error) => error instanceof DOMException && error.name === 'SyntaxError')
}

describe('client construction', () => {
  it('throws a SyntaxError DOMException for a string that is not a URL', () => {
    assertSyntaxError(() => new WebSocket('not a url'))
  })

  it('throws a SyntaxError DOMException for an ftp: URL', () => {
    assertSyntaxError(() => new WebSocket('ftp://127.0.0.1/'))
  })

  it('throws a SyntaxError DOMException for a URL with a fragment', () => {
    assertSyntaxError(() => new WebSocket('ws://127.0.0.1/#section'))
  })

  it('throws a SyntaxError DOMException for repeated or malformed protocols', () => {
    assertSyntaxError(() => new WebSocket('ws://127.0.0.1/', ['chat', 'chat']))
    assertSyntaxError(() => new WebSocket('ws://127.0.0.1/', ['two words']))
  })

  it('throws an InvalidStateError DOMException from send while connecting', async (t) => {
    const { port } = await listenWs(t)
    const { ws, opened } = open(t, `ws://127.0.0.1:${port}/`)
    assert.equal(ws.readyState, WebSocket.CONNECTING)
    assert.throws(
      () => ws.send('too early'),
      (error) => error instanceof DOMException && error.name === 'InvalidStateError',
    )
    await opened
  })
})

describe('client against our server', () => {
  it('opens, exchanges text and binary messages, and closes cleanly with 1000', async (t) => {
    const { server, port } = await listenWs(t, { protocols: ['chat'] })
    server.on('connection', (connection) => {
      connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }))
    })
    const { ws, opened, closed, events } = open(t, `http://127.0.0.1:${port}/room`, ['chat'])
    assert.equal(ws.url, `ws://127.0.0.1:${port}/room`)
    await opened
    assert.equal(ws.protocol, 'chat')
    ws.binaryType = 'arraybuffer'
    const messages: unknown[] = []
    const two = new Promise<void>((resolve) =>
      ws.addEventListener('message', (event) => {
        if (messages.push((event as MessageEvent).data) === 2) resolve()
      }),
    )
    ws.send('héllo')
    ws.send(new Uint8Array([1, 2, 3]))
    await two
    assert.equal(messages[0], 'héllo')
    assert.ok(messages[1] instanceof ArrayBuffer)
    assert.deepEqual(new Uint8Array(messages[1] as ArrayBuffer), new Uint8Array([1, 2, 3]))
    ws.close(1000, 'done')
    assert.equal(ws.readyState, WebSocket.CLOSING)
    const close = await closed
    assert.deepEqual([close.code, close.wasClean], [1000, true])
    assert.deepEqual(events, ['open', 'close'])
  })

  it('throws a RangeError for close(1001), as WHATWG allows only 1000 and 3000–4999', async (t) => {
    const { port } = await listenWs(t)
    const { ws, opened } = open(t, `ws://127.0.0.1:${port}/`)
    await opened
    assert.throws(() => ws.close(1001), { name: 'RangeError', code: 'ws-invalid-close-code' })
    assert.throws(() => ws.close(2999), { name: 'RangeError' })
    assert.throws(() => ws.close(5000), { name: 'RangeError' })
    assert.equal(ws.readyState, WebSocket.OPEN)
    ws.close(3000)
  })

  it('fires error then close 1006 when the server refuses the handshake', async (t) => {
    const { port } = await listenWs(t, { authorize: () => false })
    const { closed, events, error } = open(t, `ws://127.0.0.1:${port}/`)
    const close = await closed
    assert.deepEqual(events, ['error', 'close'])
    assert.deepEqual([close.code, close.wasClean], [1006, false])
    assert.ok(error() instanceof Error)
  })
})

describe('client handshake failures', () => {
  it('fires error then close 1006 when nothing listens on the port', async (t) => {
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const { port } = probe.address() as AddressInfo
    await new Promise((resolve) => probe.close(resolve))
    const { closed, events } = open(t, `ws://127.0.0.1:${port}/`)
    const close = await closed
    assert.deepEqual(events, ['error', 'close'])
    assert.deepEqual([close.code, close.wasClean], [1006, false])
  })

  it('fires error then close 1006 when a plain HTTP server answers 200', async (t) => {
    const http = createHttpServer((_request, response) => response.end('hello'))
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    t.after(() => http.close())
    const { closed, events } = open(t, `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`)
    const close = await closed
    assert.deepEqual(events, ['error', 'close'])
    assert.equal(close.code, 1006)
  })

  it('fails when the 101 answer carries the wrong Sec-WebSocket-Accept', async (t) => {
    const port = await rawServer(t, (_headers, socket) => {
      // The RFC's sample accept value, which answers a different key than the client sent.
      socket.write(switchingProtocols('s3pPLMBiTxaQ9kYGzzhZRbK+xOo='))
    })
    const { closed, events } = open(t, `ws://127.0.0.1:${port}/`)
    const close = await closed
    assert.deepEqual(events, ['error', 'close'])
    assert.equal(close.code, 1006)
  })

  it('fails when the server selects a protocol the client did not offer', async (t) => {
    const port = await rawServer(t, (headers, socket) => {
      socket.write(
        switchingProtocols(acceptFor(headers['sec-websocket-key']), 'Sec-WebSocket-Protocol: mqtt\r\n'),
      )
    })
    const { closed, events } = open(t, `ws://127.0.0.1:${port}/`, ['chat'])
    const close = await closed
    assert.deepEqual(events, ['error', 'close'])
    assert.equal(close.code, 1006)
  })

  it('fails when the server accepts an extension the client did not offer', async (t) => {
    const port = await rawServer(t, (headers, socket) => {
      socket.write(
        switchingProtocols(acceptFor(headers['sec-websocket-key']), 'Sec-WebSocket-Extensions: x-webkit\r\n'),
      )
    })
    const { closed, events } = open(t, `ws://127.0.0.1:${port}/`, [], { perMessageDeflate: false })
    await closed
    assert.deepEqual(events, ['error', 'close'])
  })

  it('fails after handshakeTimeoutMs when the server never answers', async (t) => {
    const port = await rawServer(t, () => {})
    const started = Date.now()
    const { closed, events } = open(t, `ws://127.0.0.1:${port}/`, [], { handshakeTimeoutMs: 150 })
    const close = await closed
    const waited = Date.now() - started
    assert.deepEqual(events, ['error', 'close'])
    assert.equal(close.code, 1006)
    assert.ok(waited >= 140 && waited < 2000, `gave up after ${waited} ms`)
  })
})

describe('client reading frames', () => {
  it('delivers a frame that arrived in the same packet as the 101 answer, after open', async (t) => {
    const port = await rawServer(t, (headers, socket) => {
      // An unmasked text frame carrying "Hello" (RFC 6455 §5.7), right behind the 101.
      const frame = hex('81 05 48 65 6c 6c 6f')
      socket.write(
        Buffer.concat([Buffer.from(switchingProtocols(acceptFor(headers['sec-websocket-key']))), frame]),
      )
    })
    const { ws, events } = open(t, `ws://127.0.0.1:${port}/`)
    const [event] = await once(ws, 'message')
    assert.equal((event as MessageEvent).data, 'Hello')
    assert.deepEqual(events, ['open'])
  })

  it('fails with 1002 when a server frame is masked', async (t) => {
    let clientClose: Promise<Buffer> = Promise.resolve(Buffer.alloc(0))
    const port = await rawServer(t, (headers, socket) => {
      const chunks: Buffer[] = []
      socket.on('data', (chunk: Buffer) => chunks.push(chunk))
      clientClose = new Promise((resolve) => socket.once('end', () => resolve(Buffer.concat(chunks))))
      socket.write(switchingProtocols(acceptFor(headers['sec-websocket-key'])))
      // A masked text frame carrying "Hello" (RFC 6455 §5.7), which only a client may send.
      socket.write(hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'))
    })
    const { closed, events, error } = open(t, `ws://127.0.0.1:${port}/`, [], { closeTimeoutMs: 1000 })
    const close = await closed
    assert.deepEqual(events, ['open', 'error', 'close'])
    assert.deepEqual([close.code, close.wasClean], [1002, false])
    assert.equal((error() as (Error & { code: string }) | null)?.code, 'ws-masked-server-frame')
    // The client's own close frame on the wire: FIN + close, masked, with a payload starting 0x03ea (1002).
    const wire = await clientClose
    assert.equal(wire[0], 0x88)
    assert.equal(wire[1] & 0x80, 0x80)
    const key = wire.subarray(2, 6)
    assert.deepEqual([wire[6] ^ key[0], wire[7] ^ key[1]], [0x03, 0xea])
  })
})
