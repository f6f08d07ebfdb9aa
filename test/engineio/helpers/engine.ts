// Test helpers for the Engine.IO server: start one on a free port, speak to it with plain `fetch`, the `ws`
// client and the npm `engine.io-client`, and read the protocol's answers.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import { Socket as EioClient, type SocketOptions } from 'engine.io-client'
import { WebSocket as WsClient } from 'ws'
import type { EngineOptions } from '../../../src/engineio/options.js'
import { EngineServer } from '../../../src/engineio/server.js'
import type { EngineSession } from '../../../src/engineio/session.js'

/** A running Engine.IO server on a free port, closed after the test. */
export interface RunningEngine {
  engine: EngineServer
  /** The HTTP server; its `request` event tells that a request reached the server. */
  server: Server
  port: number
  /** `http://127.0.0.1:port` */
  origin: string
  /** The URL of the Engine.IO endpoint with these query parameters, `EIO=4` first unless given. */
  url(query?: Record<string, string>, scheme?: 'http' | 'ws'): string
}

/** Starts an Engine.IO server on an HTTP server whose other requests get 404. */
export async function startEngine(t: TestContext, options: EngineOptions = {}): Promise<RunningEngine> {
  const http = createServer((_request, response) => {
    response.writeHead(404)
    response.end()
  })
  const engine = new EngineServer(options).attach(http)
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  const { port } = http.address() as AddressInfo
  t.after(async () => {
    await engine.close()
    http.closeAllConnections()
    await new Promise((resolve) => http.close(resolve))
  })
  const origin = `http://127.0.0.1:${port}`
  return {
    engine,
    server: http,
    port,
    origin,
    url(query = { transport: 'polling' }, scheme = 'http') {
      const params = new URLSearchParams({ EIO: '4', ...query })
      return `${scheme}://127.0.0.1:${port}${engine.path}?${params}`
    },
  }
}

/** The next session the server opens. */
export async function nextSession(engine: EngineServer): Promise<EngineSession> {
  const [session] = await once(engine, 'connection')
  return session as EngineSession
}

/** The fields of an open packet. */
export interface OpenData {
  sid: string
  upgrades: string[]
  pingInterval: number
  pingTimeout: number
  maxPayload: number
}

/** Parses the text of an open packet (`0{…}`). */
export function parseOpen(packet: string): OpenData {
  assert.equal(packet[0], '0', `not an open packet: ${packet}`)
  return JSON.parse(packet.slice(1)) as OpenData
}

/** Opens a polling session with a plain GET and returns its sid and the session object on the server. */
export async function openPolling(running: RunningEngine): Promise<{ sid: string; session: EngineSession }> {
  const opened = nextSession(running.engine)
  const response = await fetch(running.url())
  assert.equal(response.status, 200)
  const { sid } = parseOpen(await response.text())
  return { sid, session: await opened }
}

/** A GET on a session. */
export function poll(running: RunningEngine, sid: string, init?: RequestInit): Promise<Response> {
  return fetch(running.url({ transport: 'polling', sid }), init)
}

/**
 * A GET on a session that the server has received and holds, waiting for packets. Resolves once it is
 * there, with its answer still to come (wrapped, since a promise resolved with a promise would wait for it).
 */
export async function waitingPoll(
  running: RunningEngine,
  sid: string,
): Promise<{ answer: Promise<Response> }> {
  const arrived = once(running.server, 'request')
  const answer = poll(running, sid)
  await arrived
  return { answer }
}

/** A POST on a session with this body. */
export function post(running: RunningEngine, sid: string, body: RequestInit['body']): Promise<Response> {
  return fetch(running.url({ transport: 'polling', sid }), { method: 'POST', body })
}

/** Asserts an answer with the protocol's error: the status, and the JSON body `{code, message}`. */
export async function assertEngineError(response: Response, status: number, code: number, message: string) {
  assert.equal(response.status, status)
  assert.equal(response.headers.get('content-type'), 'application/json')
  assert.deepEqual(await response.json(), { code, message })
}

/** Messages a `ws` client received, as text or Buffers, in order; nothing is lost between `next` calls. */
export class WsInbox {
  readonly #items: (string | Buffer)[] = []
  readonly #waiters: ((item: string | Buffer) => void)[] = []

  constructor(socket: WsClient) {
    socket.on('message', (data, isBinary) => {
      const item = isBinary ? (data as Buffer) : (data as Buffer).toString('utf8')
      const waiter = this.#waiters.shift()
      if (waiter) waiter(item)
      else this.#items.push(item)
    })
  }

  next(): Promise<string | Buffer> {
    const item = this.#items.shift()
    return item !== undefined ? Promise.resolve(item) : new Promise((resolve) => this.#waiters.push(resolve))
  }
}

/** Opens a `ws` client to the endpoint with these query parameters; closed after the test. */
export async function openWs(
  t: TestContext,
  running: RunningEngine,
  query: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ socket: WsClient; inbox: WsInbox }> {
  const socket = new WsClient(running.url(query, 'ws'), { headers })
  const inbox = new WsInbox(socket)
  t.after(() => socket.terminate())
  await once(socket, 'open')
  return { socket, inbox }
}

/** Tries to open a `ws` client and returns the HTTP refusal: its status and parsed JSON body. */
export async function refusedWs(
  running: RunningEngine,
  query: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const socket = new WsClient(running.url(query, 'ws'), { headers })
  socket.on('error', () => {
    // The refusal is read from 'unexpected-response'; the error that follows says the same.
  })
  const [, response] = (await once(socket, 'unexpected-response')) as [unknown, IncomingMessage]
  let text = ''
  for await (const chunk of response) text += chunk
  socket.terminate()
  return { status: response.statusCode ?? 0, body: JSON.parse(text) }
}

/** Messages an engine.io-client socket received, in order. */
export class ClientInbox {
  readonly #items: unknown[] = []
  readonly #waiters: ((item: unknown) => void)[] = []

  constructor(client: EioClient) {
    client.on('message', (data) => {
      const waiter = this.#waiters.shift()
      if (waiter) waiter(data)
      else this.#items.push(data)
    })
  }

  next(): Promise<unknown> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift())
    return new Promise((resolve) => this.#waiters.push(resolve))
  }
}

/** Opens an engine.io-client socket (the npm client, speaking EIO=4) and waits until it is open. */
export async function openClient(
  t: TestContext,
  running: RunningEngine,
  options: Partial<SocketOptions> = {},
): Promise<{ client: EioClient; inbox: ClientInbox }> {
  const client = new EioClient(running.origin, { path: running.engine.path, ...options })
  const inbox = new ClientInbox(client)
  t.after(() => client.close())
  await clientEvent(client, 'open')
  return { client, inbox }
}

/** Resolves with the first emission of `event` on an engine.io-client socket. */
export function clientEvent(
  client: EioClient,
  event: 'open' | 'close' | 'upgrade' | 'ping',
): Promise<unknown[]> {
  return new Promise((resolve) => client.once(event, (...args: unknown[]) => resolve(args)))
}
