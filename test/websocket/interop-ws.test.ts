// Interoperability with the npm `ws` package (v8), the reference Node peer: its client against our
// server, and our client against its server. Expected data is built here, never by our own encoder.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { describe, it, type TestContext } from 'node:test'
import {
  type ClientOptions as WsClientOptions,
  type RawData,
  WebSocket as WsClient,
  WebSocketServer as WsServer,
  type ServerOptions as WsServerOptions,
} from 'ws'
import { type CloseEvent, WebSocket, type WebSocketClientOptions } from '../../src/websocket/client.js'
import type { WebSocketConnection } from '../../src/websocket/connection.js'
import { prepareMessage } from '../../src/websocket/prepared-message.js'
import { WebSocketServer, type WebSocketServerOptions } from '../../src/websocket/server.js'

const KiB = 1024
const MiB = 1024 * KiB

type Received = [data: Buffer, isBinary: boolean]

/** Messages in arrival order; several may arrive in one tick, so nothing is lost between `next` calls. */
class Inbox {
  readonly #items: Received[] = []
  readonly #waiters: ((item: Received) => void)[] = []

  push = (data: Buffer, isBinary: boolean): void => {
    const waiter = this.#waiters.shift()
    if (waiter) waiter([data, isBinary])
    else this.#items.push([data, isBinary])
  }

  next(): Promise<Received> {
    const item = this.#items.shift()
    return item ? Promise.resolve(item) : new Promise((resolve) => this.#waiters.push(resolve))
  }

  async take(count: number): Promise<Received[]> {
    const items: Received[] = []
    while (items.length < count) items.push(await this.next())
    return items
  }
}

/** Sends the same messages both ways; the two identical ones in a row exercise each compressor's context. */
async function exchange(
  client: { send(data: Buffer): void; inbox: Inbox },
  server: { send(data: Buffer): void; inbox: Inbox },
): Promise<void> {
  const messages = [
    pattern(100 * KiB),
    pattern(100 * KiB),
    Buffer.from('short'),
    Buffer.alloc(0),
    pattern(5000),
  ]
  for (const message of messages) {
    client.send(message)
    server.send(message)
  }
  const atServer = await server.inbox.take(messages.length)
  const atClient = await client.inbox.take(messages.length)
  for (const [i, message] of messages.entries()) {
    assert.ok(atServer[i][0].equals(message), `message ${i} to the server differs`)
    assert.ok(atClient[i][0].equals(message), `message ${i} to the client differs`)
  }
}

/** Bytes that compress well but differ every 4 KiB, so a misplaced chunk shows. */
function pattern(size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) bytes[i] = (i % 251) ^ ((i >>> 12) & 0xff)
  return bytes
}

/** Text of exactly `bytes` UTF-8 bytes, mostly 2-, 3- and 4-byte characters. */
function textOf(bytes: number): string {
  const unit = 'aé日🎉' // 1 + 2 + 3 + 4 bytes
  const text = unit.repeat(Math.floor(bytes / 10))
  return text + 'x'.repeat(bytes - Buffer.byteLength(text))
}

function asBuffer(data: RawData): Buffer {
  assert.ok(Buffer.isBuffer(data), 'ws delivers Buffers with its default binaryType')
  return data
}

// Our side.

async function startServer(t: TestContext, options: WebSocketServerOptions = {}) {
  const server = new WebSocketServer(options)
  const { port } = await server.listen(0, '127.0.0.1')
  t.after(async () => {
    for (const connection of server.clients) connection.terminate()
    await server.close()
  })
  return { server, url: `ws://127.0.0.1:${port}/` }
}

function opened(client: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    client.addEventListener('open', () => resolve(), { once: true })
    client.addEventListener('close', () => reject(new Error('our client closed before opening')), {
      once: true,
    })
  })
}

function closed(client: WebSocket): Promise<CloseEvent> {
  return new Promise((resolve) => {
    client.onclose = (event) => resolve(event)
  })
}

async function openClient(
  t: TestContext,
  url: string,
  protocols: string[] = [],
  options: WebSocketClientOptions = {},
) {
  const client = new WebSocket(url, protocols, options)
  t.after(() => client.terminate())
  const inbox = new Inbox()
  client.addEventListener('message', (event) => {
    // Tests that change binaryType read their events themselves.
    const data: unknown = (event as MessageEvent).data
    if (typeof data === 'string') inbox.push(Buffer.from(data), false)
    else if (Buffer.isBuffer(data)) inbox.push(data, true)
  })
  await opened(client)
  return { client, inbox }
}

// Listens to 'close' only: `once()` would also listen to 'error', which a connection emits only when heard.
function connectionClosed(
  connection: WebSocketConnection,
): Promise<[code: number, reason: string, wasClean: boolean]> {
  return new Promise((resolve) => connection.once('close', (...args) => resolve(args)))
}

// The `ws` side.

async function startWsServer(t: TestContext, options: WsServerOptions = {}) {
  const wss = new WsServer({ host: '127.0.0.1', port: 0, ...options })
  await once(wss, 'listening')
  t.after(async () => {
    for (const socket of wss.clients) socket.terminate()
    await new Promise((resolve) => wss.close(resolve))
  })
  const address = wss.address()
  assert.ok(address !== null && typeof address === 'object')
  return { wss, url: `ws://127.0.0.1:${address.port}/` }
}

async function connectWs(
  t: TestContext,
  url: string,
  protocols: string[] = [],
  options: WsClientOptions = {},
) {
  const ws = new WsClient(url, protocols, options)
  t.after(() => ws.terminate())
  const inbox = new Inbox()
  ws.on('message', (data, isBinary) => inbox.push(asBuffer(data), isBinary))
  let extensions = ''
  ws.once('upgrade', (response: IncomingMessage) => {
    extensions = response.headers['sec-websocket-extensions'] ?? ''
  })
  await once(ws, 'open')
  return { ws, inbox, extensions }
}

function wsClosed(ws: WsClient): Promise<{ code: number; reason: string; wasClean: boolean }> {
  return new Promise((resolve) => {
    ws.addEventListener('close', ({ code, reason, wasClean }) => resolve({ code, reason, wasClean }), {
      once: true,
    })
  })
}

// Both together.

/** A ws client connected to our server; `wire` is the server's end of the TCP connection. */
async function wsClientToOurServer(
  t: TestContext,
  serverOptions: WebSocketServerOptions = {},
  clientOptions: WsClientOptions = {},
  protocols: string[] = [],
) {
  const { server, url } = await startServer(t, serverOptions)
  const accepted = once(server, 'connection') as Promise<[WebSocketConnection, IncomingMessage]>
  const { ws, inbox, extensions } = await connectWs(t, url, protocols, clientOptions)
  const [connection, request] = await accepted
  const serverInbox = new Inbox()
  connection.on('message', serverInbox.push)
  return { server, ws, inbox, extensions, connection, serverInbox, wire: request.socket }
}

/** Our client connected to a ws server; `wire` is the server's end of the TCP connection. */
async function ourClientToWsServer(
  t: TestContext,
  serverOptions: WsServerOptions = {},
  clientOptions: WebSocketClientOptions = {},
  protocols: string[] = [],
) {
  const { wss, url } = await startWsServer(t, serverOptions)
  const accepted = once(wss, 'connection') as Promise<[WsClient, IncomingMessage]>
  const { client, inbox } = await openClient(t, url, protocols, clientOptions)
  const [socket, request] = await accepted
  const serverInbox = new Inbox()
  socket.on('message', (data, isBinary) => serverInbox.push(asBuffer(data), isBinary))
  return { wss, client, inbox, socket, serverInbox, wire: request.socket }
}

/** Per-frame options: `binary: false` sends text whatever the data's type; `fin: false` leaves the message open. */
interface FrameOptions {
  fin: boolean
  binary: boolean
}

/** One direction of one connection: who sends, who receives, and the bytes it took on the wire. */
interface Link {
  send(data: Buffer | string, options?: FrameOptions): void
  ping(payload: string): void
  inbox: Inbox
  wireBytes(): number
}

/** Opens a link; with deflate, messages of `threshold` bytes or more are compressed. */
type OpenLink = (t: TestContext, deflate: boolean, threshold?: number) => Promise<Link>

const directions: Record<string, OpenLink> = {
  'from a ws client to our server': async (t, deflate, threshold = 0) => {
    const { ws, serverInbox, wire } = await wsClientToOurServer(
      t,
      { perMessageDeflate: deflate && { thresholdBytes: threshold } },
      { perMessageDeflate: deflate && { threshold } },
    )
    return {
      send: (data, options) => ws.send(data, options ?? {}),
      ping: (payload) => ws.ping(payload),
      inbox: serverInbox,
      wireBytes: () => wire.bytesRead,
    }
  },
  'from our server to a ws client': async (t, deflate, threshold = 0) => {
    const { connection, inbox, wire } = await wsClientToOurServer(
      t,
      { perMessageDeflate: deflate && { thresholdBytes: threshold } },
      { perMessageDeflate: deflate && { threshold } },
    )
    return {
      send: (data, options) => connection.send(data, options),
      ping: (payload) => connection.ping(payload),
      inbox,
      wireBytes: () => wire.bytesWritten,
    }
  },
  'from our client to a ws server': async (t, deflate, threshold = 0) => {
    const { client, serverInbox, wire } = await ourClientToWsServer(
      t,
      { perMessageDeflate: deflate && { threshold } },
      { perMessageDeflate: deflate && { thresholdBytes: threshold } },
    )
    return {
      // Fragments need the connection underneath; whole messages go through the WHATWG API.
      send: (data, options) => (options ? client.connection!.send(data, options) : client.send(data)),
      ping: (payload) => client.ping(payload),
      inbox: serverInbox,
      wireBytes: () => wire.bytesRead,
    }
  },
  'from a ws server to our client': async (t, deflate, threshold = 0) => {
    const { socket, inbox, wire } = await ourClientToWsServer(
      t,
      { perMessageDeflate: deflate && { threshold } },
      { perMessageDeflate: deflate && { thresholdBytes: threshold } },
    )
    return {
      send: (data, options) => socket.send(data, options ?? {}),
      ping: (payload) => socket.ping(payload),
      inbox,
      wireBytes: () => wire.bytesWritten,
    }
  },
}

const sizes = [0, 1, 125, 126, 65535, 65536, MiB]
// 16 MiB costs a second or so per run, so it crosses once each way: into our inflater, out of our masker.
const hugeRuns = new Set([
  'from a ws client to our server, deflate on',
  'from our client to a ws server, deflate off',
])

for (const [direction, link] of Object.entries(directions)) {
  for (const deflate of [false, true]) {
    const mode = `deflate ${deflate ? 'on' : 'off'}`
    describe(`messages ${direction}, ${mode}`, () => {
      const binarySizes = hugeRuns.has(`${direction}, ${mode}`) ? [...sizes, 16 * MiB] : sizes
      for (const size of binarySizes) {
        it(`delivers a binary message of ${size} bytes intact ${direction} (${mode})`, async (t) => {
          const { send, inbox } = await link(t, deflate)
          const payload = pattern(size)
          send(payload)
          const [data, isBinary] = await inbox.next()
          assert.equal(isBinary, true)
          assert.equal(data.length, size)
          assert.ok(data.equals(payload), 'the bytes differ')
        })
      }

      for (const size of [0, 1, 125, 126, 65536, MiB]) {
        it(`delivers ${size} bytes of multi-byte UTF-8 text intact ${direction} (${mode})`, async (t) => {
          const { send, inbox } = await link(t, deflate)
          const text = textOf(size)
          send(text)
          const [data, isBinary] = await inbox.next()
          assert.equal(isBinary, false)
          assert.equal(data.toString('utf8'), text)
        })
      }

      it(`delivers 'héllo wörld — 日本語 🎉' as text ${direction} (${mode})`, async (t) => {
        const { send, inbox } = await link(t, deflate)
        send('héllo wörld — 日本語 🎉')
        const [data, isBinary] = await inbox.next()
        assert.equal(isBinary, false)
        // 'héllo wörld — 日本語 🎉' in UTF-8.
        const expected = Buffer.from(
          '68c3a96c6c6f2077c3b6726c6420e2809420e697a5e69cace8aa9e20f09f8e89',
          'hex',
        )
        assert.deepEqual(data, expected)
      })

      it(`sends a compressible 1 MiB message ${deflate ? 'compressed' : 'uncompressed'} ${direction}`, async (t) => {
        const { send, inbox, wireBytes } = await link(t, deflate)
        const before = wireBytes()
        send(pattern(MiB))
        await inbox.next()
        const onWire = wireBytes() - before
        if (deflate) assert.ok(onWire < 64 * KiB, `${onWire} bytes on the wire`)
        else assert.ok(onWire >= MiB, `${onWire} bytes on the wire`)
      })

      it(`keeps 1000 messages of mixed sizes in order ${direction} (${mode})`, async (t) => {
        // Every third message passes the 1024-byte threshold: compressed ones wait for zlib, and the small
        // uncompressed ones behind them must not overtake.
        const { send, inbox } = await link(t, deflate, 1024)
        const expected = Array.from(
          { length: 1000 },
          (_, i) => `${i}:` + 'x'.repeat(i % 3 === 0 ? 3000 : i % 7),
        )
        for (const message of expected) send(message)
        const received = await inbox.take(1000)
        assert.deepEqual(
          received.map(([data]) => data.toString()),
          expected,
        )
      })
    })
  }
}

describe('fragmented messages', () => {
  for (const [direction, link] of Object.entries(directions)) {
    for (const deflate of [false, true]) {
      const mode = `deflate ${deflate ? 'on' : 'off'}`
      it(`assembles text and binary sent in fragments, with a ping between, ${direction} (${mode})`, async (t) => {
        const { send, ping, inbox } = await link(t, deflate)
        send('frag', { fin: false, binary: false })
        ping('between')
        // '🎉' is f0 9f 8e 89, split here across two fragments.
        send(Buffer.from([0x6d, 0xc3, 0xa9, 0x6e, 0x74, 0x20, 0xf0, 0x9f]), { fin: false, binary: false })
        send(Buffer.from([0x8e, 0x89]), { fin: true, binary: false })
        const whole = pattern(3 * 64 * KiB)
        send(whole.subarray(0, 64 * KiB), { fin: false, binary: true })
        send(whole.subarray(64 * KiB, 128 * KiB), { fin: false, binary: true })
        send(whole.subarray(128 * KiB), { fin: true, binary: true })
        const [[text, textIsBinary], [bytes, bytesIsBinary]] = await inbox.take(2)
        assert.equal(textIsBinary, false)
        assert.equal(text.toString(), 'fragmént 🎉')
        assert.equal(bytesIsBinary, true)
        assert.ok(bytes.equals(whole), 'the bytes differ')
      })
    }
  }

  it('our server answers a ping that arrives between the fragments of a ws client message', async (t) => {
    const { ws, serverInbox } = await wsClientToOurServer(t)
    const pong = once(ws, 'pong')
    ws.send('one', { fin: false })
    ws.ping('between')
    const [payload] = (await pong) as [Buffer]
    assert.equal(payload.toString(), 'between')
    ws.send(' message', { fin: true })
    assert.equal((await serverInbox.next())[0].toString(), 'one message')
  })
})

describe('permessage-deflate negotiation', () => {
  it('our server with deflate answers a default ws client offer with plain permessage-deflate', async (t) => {
    const { ws, extensions, connection } = await wsClientToOurServer(t, { perMessageDeflate: true })
    assert.equal(extensions, 'permessage-deflate')
    assert.equal(connection.extensions, 'permessage-deflate')
    assert.equal(ws.extensions, 'permessage-deflate')
  })

  it('our server without deflate declines a ws client offer', async (t) => {
    const { ws, extensions, connection } = await wsClientToOurServer(t, {}, { perMessageDeflate: true })
    assert.equal(extensions, '')
    assert.equal(connection.extensions, '')
    assert.equal(ws.extensions, '')
  })

  it('a ws client that offers no deflate gets none from our server with deflate', async (t) => {
    const { extensions, connection } = await wsClientToOurServer(
      t,
      { perMessageDeflate: true },
      {
        perMessageDeflate: false,
      },
    )
    assert.equal(extensions, '')
    assert.equal(connection.extensions, '')
  })

  it('our server grants a ws client no context takeover and window bits 10/11, and both directions inflate', async (t) => {
    const { ws, inbox, extensions, connection, serverInbox } = await wsClientToOurServer(
      t,
      { perMessageDeflate: { thresholdBytes: 0 } },
      {
        perMessageDeflate: {
          serverNoContextTakeover: true,
          clientNoContextTakeover: true,
          serverMaxWindowBits: 10,
          clientMaxWindowBits: 11,
          threshold: 0,
        },
      },
    )
    assert.equal(
      extensions,
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11',
    )
    await exchange(
      { send: (data) => ws.send(data), inbox },
      { send: (data) => connection.send(data), inbox: serverInbox },
    )
  })

  it('our server limits a ws client to client_max_window_bits=9 and inflates what it sends', async (t) => {
    const { ws, extensions, serverInbox } = await wsClientToOurServer(
      t,
      { perMessageDeflate: { clientMaxWindowBits: 9 } },
      { perMessageDeflate: { threshold: 0 } },
    )
    assert.equal(extensions, 'permessage-deflate; client_max_window_bits=9')
    const message = pattern(200 * KiB)
    ws.send(message)
    ws.send(message)
    const received = await serverInbox.take(2)
    assert.ok(received[0][0].equals(message) && received[1][0].equals(message), 'the bytes differ')
  })

  it('a ws client honours our server_max_window_bits=9 and no context takeover, which it did not ask for', async (t) => {
    const { extensions, connection, inbox } = await wsClientToOurServer(
      t,
      { perMessageDeflate: { serverMaxWindowBits: 9, serverNoContextTakeover: true, thresholdBytes: 0 } },
      { perMessageDeflate: true },
    )
    assert.equal(extensions, 'permessage-deflate; server_no_context_takeover; server_max_window_bits=9')
    const messages = [pattern(200 * KiB), pattern(200 * KiB), Buffer.from('a'), Buffer.alloc(0)]
    for (const message of messages) connection.send(message)
    const received = await inbox.take(messages.length)
    for (const [i, message] of messages.entries()) {
      assert.ok(received[i][0].equals(message), `message ${i} differs`)
    }
  })

  it('a ws server with deflate answers our default offer with plain permessage-deflate', async (t) => {
    const { client } = await ourClientToWsServer(t, { perMessageDeflate: true })
    assert.equal(client.extensions, 'permessage-deflate')
    assert.equal(client.connection?.extensions, 'permessage-deflate')
  })

  it('a ws server without deflate leaves our client uncompressed', async (t) => {
    const { client, socket } = await ourClientToWsServer(t, { perMessageDeflate: false })
    assert.equal(client.extensions, '')
    assert.equal(socket.extensions, '')
  })

  it('our client honours a ws server that limits both windows to 10 bits without context takeover', async (t) => {
    const { client, socket, inbox, serverInbox } = await ourClientToWsServer(
      t,
      {
        perMessageDeflate: {
          serverNoContextTakeover: true,
          clientNoContextTakeover: true,
          serverMaxWindowBits: 10,
          clientMaxWindowBits: 10,
          threshold: 0,
        },
      },
      { perMessageDeflate: { thresholdBytes: 0 } },
    )
    assert.equal(
      client.extensions,
      // ws writes the parameters in the order it set them.
      'permessage-deflate; client_max_window_bits=10; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10',
    )
    await exchange(
      { send: (data) => client.send(data), inbox },
      { send: (data) => socket.send(data), inbox: serverInbox },
    )
  })

  it('our client fails with 1006 when a ws server limits it to an 8-bit window, which zlib cannot honour', async (t) => {
    const { url } = await startWsServer(t, { perMessageDeflate: { clientMaxWindowBits: 8 } })
    const client = new WebSocket(url)
    t.after(() => client.terminate())
    const { code, wasClean } = await closed(client)
    assert.equal(code, 1006)
    assert.equal(wasClean, false)
  })

  it('a ws server accepts our offer of server_no_context_takeover and server_max_window_bits=10', async (t) => {
    const { client, socket, inbox } = await ourClientToWsServer(
      t,
      { perMessageDeflate: { threshold: 0 } },
      { perMessageDeflate: { serverNoContextTakeover: true, serverMaxWindowBits: 10 } },
    )
    assert.equal(
      client.extensions,
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=10',
    )
    const message = pattern(300 * KiB)
    socket.send(message)
    socket.send(message)
    const received = await inbox.take(2)
    assert.ok(received[0][0].equals(message) && received[1][0].equals(message), 'the bytes differ')
  })
})

describe('subprotocols', () => {
  it("our server picks a ws client's first choice among the protocols it speaks", async (t) => {
    const { ws, connection } = await wsClientToOurServer(t, { protocols: ['chat.v1', 'chat.v2'] }, {}, [
      'chat.v3',
      'chat.v2',
      'chat.v1',
    ])
    assert.equal(ws.protocol, 'chat.v2')
    assert.equal(connection.protocol, 'chat.v2')
  })

  it('our selectProtocol hook sees the ws client offer in order and its choice reaches the client', async (t) => {
    let seen: string[] = []
    const { ws, connection } = await wsClientToOurServer(
      t,
      {
        selectProtocol: (offered) => {
          seen = offered
          return 'b'
        },
      },
      {},
      ['a', 'b', 'c'],
    )
    assert.deepEqual(seen, ['a', 'b', 'c'])
    assert.equal(ws.protocol, 'b')
    assert.equal(connection.protocol, 'b')
  })

  it('a ws client that offers no subprotocol gets none from our server with a protocol list', async (t) => {
    const { ws, connection } = await wsClientToOurServer(t, { protocols: ['chat.v1'] })
    assert.equal(ws.protocol, '')
    assert.equal(connection.protocol, '')
  })

  it('a ws client fails the handshake when our server speaks none of its protocols', async (t) => {
    const { url } = await startServer(t, { protocols: ['chat.v1'] })
    const ws = new WsClient(url, ['chat.v9'])
    t.after(() => ws.terminate())
    const closing = wsClosed(ws)
    const [error] = await once(ws, 'error')
    assert.ok(error instanceof Error)
    const { code, wasClean } = await closing
    assert.equal(code, 1006)
    assert.equal(wasClean, false)
  })

  it("a ws server's handleProtocols choice reaches our client", async (t) => {
    let seen: string[] = []
    const { client, socket } = await ourClientToWsServer(
      t,
      {
        handleProtocols: (offered) => {
          seen = [...offered]
          return 'chat.b'
        },
      },
      {},
      ['chat.a', 'chat.b'],
    )
    assert.deepEqual(seen, ['chat.a', 'chat.b'])
    assert.equal(client.protocol, 'chat.b')
    assert.equal(socket.protocol, 'chat.b')
  })

  it('our client fails with 1006 when a ws server picks none of its protocols', async (t) => {
    const { url } = await startWsServer(t, { handleProtocols: () => false })
    const client = new WebSocket(url, ['chat.a'])
    t.after(() => client.terminate())
    let errored = false
    client.onerror = () => {
      errored = true
    }
    const { code, wasClean } = await closed(client)
    assert.equal(errored, true)
    assert.equal(code, 1006)
    assert.equal(wasClean, false)
    assert.equal(client.readyState, WebSocket.CLOSED)
  })
})

describe('closing', () => {
  it('a ws client close code and reason reach our server, and both sides close cleanly', async (t) => {
    const { ws, connection } = await wsClientToOurServer(t)
    const wsClose = wsClosed(ws)
    const ourClose = connectionClosed(connection)
    ws.close(4001, 'client leaving ✓')
    assert.deepEqual(await ourClose, [4001, 'client leaving ✓', true])
    const { code, wasClean } = await wsClose
    assert.equal(code, 4001)
    assert.equal(wasClean, true)
  })

  it('our server close code and reason reach a ws client, and both sides close cleanly', async (t) => {
    const { ws, connection } = await wsClientToOurServer(t)
    const wsClose = wsClosed(ws)
    const ourClose = connectionClosed(connection)
    connection.close(4002, 'server says bye — ü')
    assert.deepEqual(await wsClose, { code: 4002, reason: 'server says bye — ü', wasClean: true })
    const [code, , wasClean] = await ourClose
    assert.equal(code, 4002)
    assert.equal(wasClean, true)
  })

  it('a ws client close without a code reaches our server as 1005', async (t) => {
    const { ws, connection } = await wsClientToOurServer(t)
    const ourClose = connectionClosed(connection)
    ws.close()
    assert.deepEqual(await ourClose, [1005, '', true])
  })

  it('a 123-byte close reason from our server reaches a ws client intact', async (t) => {
    const { ws, connection } = await wsClientToOurServer(t)
    const wsClose = wsClosed(ws)
    const reason = textOf(123)
    connection.close(1000, reason)
    assert.deepEqual(await wsClose, { code: 1000, reason, wasClean: true })
  })

  it('stopping our server closes a ws client with 1001', async (t) => {
    const { server, ws } = await wsClientToOurServer(t)
    const wsClose = wsClosed(ws)
    await server.close()
    assert.deepEqual(await wsClose, { code: 1001, reason: 'server stopping', wasClean: true })
  })

  it('a message our server sends before closing reaches a ws client before the close', async (t) => {
    const { ws, inbox, connection } = await wsClientToOurServer(
      t,
      { perMessageDeflate: { thresholdBytes: 0 } },
      { perMessageDeflate: { threshold: 0 } },
    )
    const events: string[] = []
    ws.on('message', () => events.push('message'))
    const wsClose = wsClosed(ws).then((event) => {
      events.push('close')
      return event
    })
    const message = pattern(MiB)
    connection.send(message)
    connection.close(4005, 'after the data')
    assert.deepEqual(await wsClose, { code: 4005, reason: 'after the data', wasClean: true })
    assert.deepEqual(events, ['message', 'close'])
    assert.ok((await inbox.next())[0].equals(message), 'the bytes differ')
  })

  it('a compressed message a ws client sends right before closing reaches our server before the close', async (t) => {
    const { ws, connection } = await wsClientToOurServer(
      t,
      { perMessageDeflate: { thresholdBytes: 0 } },
      { perMessageDeflate: { threshold: 0 } },
    )
    const events: string[] = []
    const message = pattern(MiB)
    let intact = false
    connection.on('message', (data) => {
      intact = data.equals(message)
      events.push('message')
    })
    const ourClose = connectionClosed(connection)
    ws.send(message)
    ws.close(4006, 'sent everything')
    assert.deepEqual(await ourClose, [4006, 'sent everything', true])
    assert.deepEqual(events, ['message'])
    assert.ok(intact, 'the bytes differ')
  })

  it('terminating a connection on our server ends a ws client with 1006, not cleanly', async (t) => {
    const { ws, connection } = await wsClientToOurServer(t)
    const wsClose = wsClosed(ws)
    const ourClose = connectionClosed(connection)
    connection.terminate()
    const { code, wasClean } = await wsClose
    assert.equal(code, 1006)
    assert.equal(wasClean, false)
    const [ourCode, , ourClean] = await ourClose
    assert.equal(ourCode, 1006)
    assert.equal(ourClean, false)
  })

  it('our client close code and reason reach a ws server, and both sides close cleanly', async (t) => {
    const { client, socket } = await ourClientToWsServer(t)
    const wsClose = wsClosed(socket)
    const ourClose = closed(client)
    client.close(4003, 'client leaving ✓')
    assert.deepEqual(await wsClose, { code: 4003, reason: 'client leaving ✓', wasClean: true })
    const { code, wasClean } = await ourClose
    assert.equal(code, 4003)
    assert.equal(wasClean, true)
    assert.equal(client.readyState, WebSocket.CLOSED)
  })

  it('a ws server close code and reason reach our client, and both sides close cleanly', async (t) => {
    const { client, socket } = await ourClientToWsServer(t)
    const wsClose = wsClosed(socket)
    const ourClose = closed(client)
    socket.close(4004, 'server says bye — ü')
    const { code, reason, wasClean } = await ourClose
    assert.deepEqual(
      { code, reason, wasClean },
      { code: 4004, reason: 'server says bye — ü', wasClean: true },
    )
    const echoed = await wsClose
    assert.equal(echoed.code, 4004)
    assert.equal(echoed.wasClean, true)
  })

  it('our client close without a code reaches a ws server as 1005', async (t) => {
    const { client, socket } = await ourClientToWsServer(t)
    const wsClose = wsClosed(socket)
    const ourClose = closed(client)
    client.close()
    assert.deepEqual(await wsClose, { code: 1005, reason: '', wasClean: true })
    const { code, wasClean } = await ourClose
    assert.equal(code, 1005)
    assert.equal(wasClean, true)
  })

  it('a ws server close without a code reaches our client as 1005', async (t) => {
    const { client, socket } = await ourClientToWsServer(t)
    const ourClose = closed(client)
    socket.close()
    const { code, reason, wasClean } = await ourClose
    assert.deepEqual({ code, reason, wasClean }, { code: 1005, reason: '', wasClean: true })
  })

  it('a ws server that terminates the TCP connection ends our client with 1006, not cleanly', async (t) => {
    const { client, socket } = await ourClientToWsServer(t)
    const ourClose = closed(client)
    socket.terminate()
    const { code, wasClean } = await ourClose
    assert.equal(code, 1006)
    assert.equal(wasClean, false)
  })

  it('a compressed message a ws server sends right before closing reaches our client before the close', async (t) => {
    const { client, socket } = await ourClientToWsServer(
      t,
      { perMessageDeflate: { threshold: 0 } },
      { perMessageDeflate: { thresholdBytes: 0 } },
    )
    client.binaryType = 'arraybuffer'
    const events: string[] = []
    const message = pattern(MiB)
    let intact = false
    client.onmessage = (event) => {
      const data: unknown = event.data
      intact = data instanceof ArrayBuffer && Buffer.from(data).equals(message)
      events.push('message')
    }
    const ourClose = closed(client)
    socket.send(message)
    socket.close(4007, 'sent everything')
    const { code, reason, wasClean } = await ourClose
    assert.deepEqual({ code, reason, wasClean }, { code: 4007, reason: 'sent everything', wasClean: true })
    assert.deepEqual(events, ['message'])
    assert.ok(intact, 'the bytes differ')
  })

  it('a message our client sends before closing reaches a ws server before the close', async (t) => {
    const { client, socket, serverInbox } = await ourClientToWsServer(
      t,
      { perMessageDeflate: { threshold: 0 } },
      { perMessageDeflate: { thresholdBytes: 0 } },
    )
    const events: string[] = []
    socket.on('message', () => events.push('message'))
    const wsClose = wsClosed(socket).then((event) => {
      events.push('close')
      return event
    })
    const message = pattern(MiB)
    client.send(message)
    client.close(1000, 'done')
    assert.deepEqual(await wsClose, { code: 1000, reason: 'done', wasClean: true })
    assert.deepEqual(events, ['message', 'close'])
    assert.ok((await serverInbox.next())[0].equals(message), 'the bytes differ')
  })
})

describe('our client data types', () => {
  it("hands binary from a ws server over as an ArrayBuffer with binaryType 'arraybuffer'", async (t) => {
    const { client, socket } = await ourClientToWsServer(t)
    client.binaryType = 'arraybuffer'
    const message = once(client, 'message') as Promise<[MessageEvent]>
    socket.send(Buffer.from([0x00, 0x01, 0xfe, 0xff]))
    const [event] = await message
    const data: unknown = event.data
    assert.ok(data instanceof ArrayBuffer)
    assert.deepEqual([...new Uint8Array(data)], [0x00, 0x01, 0xfe, 0xff])
  })

  it("hands binary from a ws server over as a Blob with binaryType 'blob', and text still as a string", async (t) => {
    const { client, socket } = await ourClientToWsServer(t)
    client.binaryType = 'blob'
    const received = new Promise<unknown[]>((resolve) => {
      const items: unknown[] = []
      client.onmessage = (event) => {
        if (items.push(event.data) === 2) resolve(items)
      }
    })
    const payload = pattern(70 * KiB)
    socket.send(payload)
    socket.send('ünïcode')
    const [blob, text] = await received
    assert.ok(blob instanceof Blob)
    assert.equal(blob.size, 70 * KiB)
    assert.ok(Buffer.from(await blob.arrayBuffer()).equals(payload), 'the bytes differ')
    assert.equal(text, 'ünïcode')
  })

  it('sends an ArrayBuffer, a typed-array view with an offset, a Blob and a string to a ws server in call order (#3)', async (t) => {
    const { client, serverInbox } = await ourClientToWsServer(t)
    const backing = new Uint8Array([9, 9, 1, 2, 3, 4, 9, 9])
    client.send(backing.buffer.slice(2, 4))
    client.send(new Uint16Array(backing.buffer, 2, 2))
    client.send(new Blob([new Uint8Array([5, 6]), new Uint8Array([7])]))
    client.send('text')
    const received = await serverInbox.take(4)
    assert.deepEqual(
      received.map(([data, isBinary]) => [data.toString('hex'), isBinary]),
      [
        ['0102', true],
        ['01020304', true],
        ['050607', true],
        ['74657874', false], // 'text'
      ],
    )
  })

  it('delivers, after open, the messages a ws server sends along with its handshake answer', async (t) => {
    const { url, wss } = await startWsServer(t)
    wss.on('connection', (socket) => {
      socket.send('first')
      socket.send(Buffer.from([1, 2, 3]))
    })
    const client = new WebSocket(url)
    t.after(() => client.terminate())
    const events: string[] = []
    client.onopen = () => events.push('open')
    const received = new Promise<unknown[]>((resolve) => {
      const items: unknown[] = []
      client.onmessage = (event) => {
        events.push('message')
        if (items.push(event.data) === 2) resolve(items)
      }
    })
    const [text, bytes] = await received
    assert.deepEqual(events, ['open', 'message', 'message'])
    assert.equal(text, 'first')
    assert.ok(Buffer.isBuffer(bytes))
    assert.deepEqual([...bytes], [1, 2, 3])
  })
})

describe('pings and keepalive', () => {
  it("our server answers a ws client's ping with the same payload", async (t) => {
    const { ws } = await wsClientToOurServer(t)
    const pong = once(ws, 'pong')
    ws.ping(Buffer.from([0xde, 0xad, 0xbe, 0xef]))
    const [payload] = (await pong) as [Buffer]
    assert.deepEqual([...payload], [0xde, 0xad, 0xbe, 0xef])
  })

  it("a ws server answers our client's ping with the same payload", async (t) => {
    const { client } = await ourClientToWsServer(t)
    const pong = once(client.connection!, 'pong')
    client.ping('heartbeat')
    const [payload] = await pong
    assert.equal(payload.toString(), 'heartbeat')
  })

  it("a ws client answers our server's pings and our pong events carry their payload", async (t) => {
    const { connection } = await wsClientToOurServer(t)
    const pong = once(connection, 'pong')
    connection.ping('are you there?')
    assert.equal(((await pong)[0] as Buffer).toString(), 'are you there?')
  })

  it("our client answers a ws server's ping with the same payload", async (t) => {
    const { socket } = await ourClientToWsServer(t)
    const pong = once(socket, 'pong')
    socket.ping(Buffer.from([0x00, 0xff, 0x80]))
    assert.deepEqual([...((await pong)[0] as Buffer)], [0x00, 0xff, 0x80])
  })

  it('a ws client keeps answering the pings of our idle keepalive, so the connection stays open', async (t) => {
    const { connection } = await wsClientToOurServer(t, { pingIntervalMs: 20, pingTimeoutMs: 1000 })
    for (let i = 0; i < 3; i++) await once(connection, 'pong')
    assert.equal(connection.state, 'open')
  })
})

describe('prepared messages', () => {
  async function wsClients(t: TestContext, count: number, serverOptions: WebSocketServerOptions) {
    const { server, url } = await startServer(t, serverOptions)
    const clients: Inbox[] = []
    // Alternate clients with and without deflate: a prepared frame is never compressed, which both accept.
    for (let i = 0; i < count; i++) {
      const accepted = once(server, 'connection')
      clients.push((await connectWs(t, url, [], { perMessageDeflate: i % 2 === 0 })).inbox)
      await accepted
    }
    return { server, clients }
  }

  it('a prepared text message reaches five ws clients intact', async (t) => {
    const { server, clients } = await wsClients(t, 5, { perMessageDeflate: true })
    const prepared = prepareMessage('broadcast — 日本語 🎉')
    for (const connection of server.clients) assert.equal(connection.sendPrepared(prepared), true)
    for (const inbox of clients) {
      const [data, isBinary] = await inbox.next()
      assert.equal(isBinary, false)
      assert.equal(data.toString(), 'broadcast — 日本語 🎉')
    }
  })

  it('a prepared 100 KiB binary message reaches five ws clients intact', async (t) => {
    const { server, clients } = await wsClients(t, 5, { perMessageDeflate: true })
    const payload = pattern(100 * KiB)
    const prepared = prepareMessage(payload)
    for (const connection of server.clients) connection.sendPrepared(prepared)
    for (const inbox of clients) {
      const [data, isBinary] = await inbox.next()
      assert.equal(isBinary, true)
      assert.ok(data.equals(payload), 'the bytes differ')
    }
  })

  it('a prepared message keeps its place between compressed sends to a ws client', async (t) => {
    const { connection, inbox } = await wsClientToOurServer(
      t,
      { perMessageDeflate: { thresholdBytes: 0 } },
      { perMessageDeflate: true },
    )
    const big = pattern(MiB)
    connection.send(big)
    connection.sendPrepared(prepareMessage('prepared'))
    connection.send('last')
    const [[first], [second], [third]] = await inbox.take(3)
    assert.ok(first.equals(big), 'the first message differs')
    assert.equal(second.toString(), 'prepared')
    assert.equal(third.toString(), 'last')
  })
})

describe('limits and violations', () => {
  it('our server closes with 1009 when a ws client sends more than maxPayloadBytes', async (t) => {
    const { ws, connection } = await wsClientToOurServer(t, { maxPayloadBytes: 1000 })
    const wsClose = wsClosed(ws)
    const ourClose = connectionClosed(connection)
    ws.send(Buffer.alloc(1001))
    assert.equal((await wsClose).code, 1009)
    assert.equal((await ourClose)[0], 1009)
  })

  it('our server closes with 1007 when a ws client sends text that is not UTF-8', async (t) => {
    const { ws, connection } = await wsClientToOurServer(t)
    const wsClose = wsClosed(ws)
    const ourClose = connectionClosed(connection)
    // 'é' in Latin-1 (e9) followed by 'n' is not UTF-8.
    ws.send(Buffer.from([0x6d, 0xe9, 0x6e]), { binary: false })
    assert.equal((await wsClose).code, 1007)
    assert.equal((await ourClose)[0], 1007)
  })

  it("our server sees 1009 when a message passes a ws client's maxPayload", async (t) => {
    const { ws, connection } = await wsClientToOurServer(t, {}, { maxPayload: 1000 })
    ws.on('error', () => {}) // ws reports the violation as an error before closing; expected here.
    const ourClose = connectionClosed(connection)
    connection.send(Buffer.alloc(1001))
    assert.equal((await ourClose)[0], 1009)
  })

  it("our client sees 1009 when it sends more than a ws server's maxPayload", async (t) => {
    const { client, socket } = await ourClientToWsServer(t, { maxPayload: 1000 })
    socket.on('error', () => {}) // As above: ws reports its own refusal as an error.
    const ourClose = closed(client)
    client.send(Buffer.alloc(1001))
    assert.equal((await ourClose).code, 1009)
  })

  it('our server holds sends for a paused ws client and emits drain once it reads again', async (t) => {
    const { ws, inbox, connection } = await wsClientToOurServer(t)
    ws.pause()
    const chunk = pattern(64 * KiB)
    let sent = 0
    while (connection.send(chunk)) sent++
    sent++ // the send that returned false was accepted too
    const drained = once(connection, 'drain')
    ws.resume()
    await drained
    const received = await inbox.take(sent)
    assert.ok(
      received.every(([data]) => data.equals(chunk)),
      'a message differs',
    )
  })
})

describe('regressions', () => {
  it('a ping sent while frames wait in our queue reaches a ws client between frames, not inside one (#3)', async (t) => {
    const { ws, connection, inbox, wire } = await wsClientToOurServer(t)
    ws.on('error', () => {}) // A corrupted stream makes ws fail the connection; `closed` below reports it.
    const closed = wsClosed(ws).then(({ code }) => {
      throw new Error(`ws closed with ${code} before all messages arrived`)
    })
    // 12 MiB backs the socket up, so what follows waits in our own queue.
    connection.send(Buffer.alloc(12 * MiB, 1))
    assert.ok(wire.writableLength > 0, 'precondition: the socket is backed up')
    // 17 frames of 4 + 3851 bytes make 65535: the header after them crosses the 64 KiB socket budget.
    for (let i = 0; i < 17; i++) connection.send(Buffer.alloc(3851, 2))
    connection.send(Buffer.alloc(100 * KiB, 3))
    // The connection listens for 'drain' from the start, so this ping is written just after its flush.
    wire.once('drain', () => connection.ping('x'))
    const received = await Promise.race([inbox.take(19), closed])
    assert.ok(received[18][0].equals(Buffer.alloc(100 * KiB, 3)), 'the last message is corrupted')
  })
})
