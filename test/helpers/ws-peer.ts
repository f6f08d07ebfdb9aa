// Both ends of a WebSocket connection for interop tests: our server and client, and the npm `ws` package's,
// each with an `Inbox` of what it received, plus the payloads the tests send.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { TestContext } from 'node:test'
import {
  type ClientOptions as WsClientOptions,
  type RawData,
  WebSocket as WsClient,
  WebSocketServer as WsServer,
  type ServerOptions as WsServerOptions,
} from 'ws'
import { type CloseEvent, WebSocket, type WebSocketClientOptions } from '../../src/websocket/client.js'
import type { WebSocketConnection } from '../../src/websocket/connection.js'
import { WebSocketServer, type WebSocketServerOptions } from '../../src/websocket/server.js'

/** Bytes in a kibibyte and a mebibyte, for sizes that read like the spec's. */
export const KiB = 1024
export const MiB = 1024 * KiB

/** One received message: its bytes, and whether it came as binary rather than text. */
export type Received = [data: Buffer, isBinary: boolean]

/** Messages in arrival order; several may arrive in one tick, so nothing is lost between `next` calls. */
export class Inbox {
  readonly #items: Received[] = []
  readonly #waiters: ((item: Received) => void)[] = []

  push = (data: Buffer, isBinary: boolean): void => {
    const waiter = this.#waiters.shift()
    if (waiter) waiter([data, isBinary])
    else this.#items.push([data, isBinary])
  }

  /** The oldest message not yet taken, or the next to arrive. */
  next(): Promise<Received> {
    const item = this.#items.shift()
    return item ? Promise.resolve(item) : new Promise((resolve) => this.#waiters.push(resolve))
  }

  /** The next `count` messages, in order. */
  async take(count: number): Promise<Received[]> {
    const items: Received[] = []
    while (items.length < count) items.push(await this.next())
    return items
  }
}

/** Bytes that compress well but differ every 4 KiB, so a misplaced chunk shows. */
export function pattern(size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) bytes[i] = (i % 251) ^ ((i >>> 12) & 0xff)
  return bytes
}

/** Text of exactly `bytes` UTF-8 bytes, mostly 2-, 3- and 4-byte characters. */
export function textOf(bytes: number): string {
  const unit = 'aé日🎉' // 1 + 2 + 3 + 4 bytes
  const text = unit.repeat(Math.floor(bytes / 10))
  return text + 'x'.repeat(bytes - Buffer.byteLength(text))
}

function asBuffer(data: RawData): Buffer {
  assert.ok(Buffer.isBuffer(data), 'ws delivers Buffers with its default binaryType')
  return data
}

// Our side.

/** Starts our server on a free port, terminating its connections and closing it after the test. */
export async function startServer(t: TestContext, options: WebSocketServerOptions = {}) {
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

/** Resolves with our client's close event. */
export function closed(client: WebSocket): Promise<CloseEvent> {
  return new Promise((resolve) => {
    client.onclose = (event) => resolve(event)
  })
}

/** Opens our client, terminated after the test; its text and Buffer messages go to `inbox`. */
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

/**
 * Resolves with the arguments of our connection's 'close' event. It listens to 'close' only: `once()` would
 * also listen to 'error', which a connection emits only when heard.
 */
export function connectionClosed(
  connection: WebSocketConnection,
): Promise<[code: number, reason: string, wasClean: boolean]> {
  return new Promise((resolve) => connection.once('close', (...args) => resolve(args)))
}

// The `ws` side.

/** Starts a ws server on a free port, terminating its sockets and closing it after the test. */
export async function startWsServer(t: TestContext, options: WsServerOptions = {}) {
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

/** Opens a ws client, terminated after the test; `extensions` is what the server's handshake answer granted. */
export async function connectWs(
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

/** Resolves with a ws socket's close code, reason and whether it closed cleanly. */
export function wsClosed(ws: WsClient): Promise<{ code: number; reason: string; wasClean: boolean }> {
  return new Promise((resolve) => {
    ws.addEventListener('close', ({ code, reason, wasClean }) => resolve({ code, reason, wasClean }), {
      once: true,
    })
  })
}

// Both together.

/** A ws client connected to our server; `wire` is the server's end of the TCP connection. */
export async function wsClientToOurServer(
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
export async function ourClientToWsServer(
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
