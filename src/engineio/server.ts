// The Engine.IO v4 server (Engine.IO protocol v4 §Transports, §Handshake): routes the requests under its path
// to sessions, opens new ones, refuses what the protocol does not allow with its numbered errors, and hands
// WebSocket upgrades to our RFC 6455 engine.
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import { debuglog } from 'node:util'
import type { WebSocketConnection } from '../websocket/connection.js'
import { WebSocketServer } from '../websocket/server.js'
import { routeUpgrades } from '../websocket/upgrade-router.js'
import { EngineErrorCode, EngineIOProtocolError, type EioViolation } from './codec/protocol-error.js'
import { CorsPolicy } from './cors.js'
import { answerError, type ExtraHeaders, refuseUpgrade } from './http-answer.js'
import {
  type EngineOptions,
  type EngineSettings,
  resolveEngineSettings,
  type TransportName,
} from './options.js'
import { EngineSession } from './session.js'
import type { SessionInit } from './session-types.js'

const log = debuglog('switchboard:eio')
const protocolVersion = '4'

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void

/** Events of an Engine.IO server. */
export interface EngineServerEvents {
  connection: [session: EngineSession]
  /** A request refused with one of the protocol's errors; the client got its answer already. */
  connectionError: [error: EngineIOProtocolError, request: IncomingMessage]
  close: []
}

// What the server decided about an upgrade request before handing it to the WebSocket engine.
type UpgradeIntent = { kind: 'open' } | { kind: 'upgrade'; session: EngineSession }

/** An Engine.IO v4 server: polling and WebSocket transports, upgrades, heartbeat and the protocol's errors. */
export class EngineServer extends EventEmitter<EngineServerEvents> {
  readonly #settings: EngineSettings
  readonly #sessionInit: readonly [SessionInit, SessionInit]
  readonly #options: EngineOptions
  readonly #cors: CorsPolicy
  readonly #sessions = new Map<string, EngineSession>()
  readonly #webSockets: WebSocketServer
  readonly #intents = new WeakMap<IncomingMessage, UpgradeIntent>()
  #detach: (() => void) | null = null
  #closed = false

  constructor(options: EngineOptions = {}) {
    super()
    this.#options = options
    this.#settings = resolveEngineSettings(options)
    // Shared by every session: without upgrades (opened on WebSocket), and with them (opened on polling).
    const onClosed = (closed: EngineSession) => this.#sessions.delete(closed.id)
    const canUpgrade = this.#settings.transports.includes('websocket')
    this.#sessionInit = [
      { limits: this.#settings, upgrades: [], onClosed },
      { limits: this.#settings, upgrades: canUpgrade ? ['websocket'] : [], onClosed },
    ]
    this.#cors = new CorsPolicy(options.cors)
    this.#webSockets = new WebSocketServer({
      maxPayloadBytes: this.#settings.maxPayloadBytes,
      // The Engine.IO heartbeat watches the peer already; a second keepalive would only add traffic.
      pingIntervalMs: 0,
      perMessageDeflate: options.perMessageDeflate ?? false,
    })
    // Upgrades reach the WebSocket server only through handleUpgrade with node:http's request, which the
    // `connection` event hands back as it was given.
    this.#webSockets.on('connection', (connection, request) =>
      this.#onWebSocket(connection, request as IncomingMessage),
    )
  }

  /** The path served, always ending in `/`. */
  get path(): string {
    return this.#settings.path
  }

  /** The open sessions by id. */
  get sessions(): ReadonlyMap<string, EngineSession> {
    return this.#sessions
  }

  /**
   * Serves requests under the path on an http or https server, in front of its other `request` listeners,
   * which still get every other request. Call it after adding them (as Engine.IO does), or route requests
   * yourself with `handleRequest`.
   */
  attach(http: HttpServer | HttpsServer): this {
    if (this.#detach) throw new Error('this Engine.IO server is attached already')
    const others = http.listeners('request') as RequestListener[]
    http.removeAllListeners('request')
    const onRequest: RequestListener = (request, response) => {
      if (this.handleRequest(request, response)) return
      for (const listener of others) listener.call(http, request, response)
    }
    http.on('request', onRequest)
    const detachUpgrades = routeUpgrades(http, this.#settings.path, (request, socket, head) =>
      this.handleUpgrade(request, socket, head),
    )
    this.#detach = () => {
      http.off('request', onRequest)
      for (const listener of others) http.on('request', listener)
      detachUpgrades()
    }
    return this
  }

  /** Answers a request if it is under our path (true); leaves it alone otherwise (false). */
  handleRequest(request: IncomingMessage, response: ServerResponse): boolean {
    const url = splitUrl(request.url)
    if (url.path !== this.#settings.path || this.#closed) return false
    const origin = request.headers.origin
    const allowed = origin === undefined ? true : this.#cors.allows(origin, request)
    if (allowed === true || allowed === false) this.#route(request, response, url.query, origin, allowed)
    else void allowed.then((verdict) => this.#route(request, response, url.query, origin, verdict))
    return true
  }

  /** Takes an upgrade request if it is under our path (true): a WebSocket-only session or an upgrade. */
  handleUpgrade(request: IncomingMessage, socket: Socket, head: Buffer): boolean {
    const url = splitUrl(request.url)
    if (url.path !== this.#settings.path) return false
    socket.on('error', onHandshakeSocketError)
    this.#upgrade(request, socket, head, url.query).then(
      () => socket.off('error', onHandshakeSocketError),
      (error: unknown) => {
        log('upgrade failed: %s', error)
        socket.destroy()
      },
    )
    return true
  }

  /** Ends every session (`server shutting down`), stops serving and resolves when the WebSockets are closed. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#detach?.()
    for (const session of [...this.#sessions.values()]) session.shutdown()
    await this.#webSockets.close()
    this.emit('close')
  }

  #route(
    request: IncomingMessage,
    response: ServerResponse,
    query: URLSearchParams,
    origin: string | undefined,
    allowed: boolean,
  ): void {
    if (!allowed) return this.#refuse(request, response, {}, forbiddenOrigin(origin))
    const headers = origin === undefined ? {} : this.#cors.headersFor(origin)
    if (request.method === 'OPTIONS') return this.#cors.answerPreflight(request, response, headers)
    const refusal = this.#checkQuery(query, false)
    if (refusal) return this.#refuse(request, response, headers, refusal)
    const sid = query.get('sid')
    if (sid === null) return this.#handshake(request, response, headers)
    const session = this.#sessions.get(sid)
    if (!session) return this.#refuse(request, response, headers, unknownSid(sid))
    // Once upgraded, the session lives on its WebSocket: requests of the old transport are refused.
    if (session.transport !== 'polling') {
      const detail = `session ${sid} is on ${session.transport}`
      return this.#refuse(request, response, headers, badRequest('eio-transport-mismatch', detail))
    }
    if (request.method === 'GET') return session.handlePoll(response, headers)
    if (request.method === 'POST') return session.handlePost(request, response, headers)
    this.#refuse(request, response, headers, badRequest('eio-bad-method', `method ${request.method}`))
  }

  // The checks every request gets (§Query parameters): a transport we offer, EIO=4, and WebSocket only by upgrade.
  #checkQuery(query: URLSearchParams, isUpgrade: boolean): EngineIOProtocolError | null {
    const transport = query.get('transport')
    if (transport === null || !this.#settings.transports.includes(transport as TransportName)) {
      return new EngineIOProtocolError(
        'eio-unknown-transport',
        EngineErrorCode.UnknownTransport,
        `transport ${transport}`,
      )
    }
    const version = query.get('EIO')
    if (version !== protocolVersion) {
      return new EngineIOProtocolError(
        'eio-unsupported-version',
        EngineErrorCode.UnsupportedProtocolVersion,
        `EIO=${version}`,
      )
    }
    if ((transport === 'websocket') !== isUpgrade) {
      return badRequest(
        'eio-transport-mismatch',
        `${transport} over ${isUpgrade ? 'an upgrade' : 'plain HTTP'}`,
      )
    }
    return null
  }

  #handshake(request: IncomingMessage, response: ServerResponse, headers: ExtraHeaders): void {
    if (request.method !== 'GET') {
      const error = new EngineIOProtocolError(
        'eio-bad-handshake-method',
        EngineErrorCode.BadHandshakeMethod,
        `method ${request.method}`,
      )
      return this.#refuse(request, response, headers, error)
    }
    const open = (allowed: boolean) => {
      if (!allowed) return this.#refuse(request, response, headers, forbiddenSession())
      if (response.destroyed) return
      const session = this.#open(request, null)
      session.handlePoll(response, headers)
      this.emit('connection', session)
    }
    const verdict = this.#authorize(request)
    if (typeof verdict === 'boolean') open(verdict)
    else void verdict.then(open)
  }

  async #upgrade(
    request: IncomingMessage,
    socket: Socket,
    head: Buffer,
    query: URLSearchParams,
  ): Promise<void> {
    const refusal = await this.#checkUpgrade(request, query)
    if (socket.destroyed) return
    if (refusal) {
      this.#reportRefusal(refusal, request)
      return refuseUpgrade(socket, refusal)
    }
    // Without hooks the WebSocket engine completes the handshake within this call, so the intent is read back
    // in the `connection` listener before anything else can run.
    this.#webSockets.handleUpgrade(request, socket, head)
  }

  async #checkUpgrade(
    request: IncomingMessage,
    query: URLSearchParams,
  ): Promise<EngineIOProtocolError | null> {
    const origin = request.headers.origin
    if (origin !== undefined && !(await this.#cors.allows(origin, request))) return forbiddenOrigin(origin)
    const refusal = this.#checkQuery(query, true)
    if (refusal) return refusal
    const sid = query.get('sid')
    if (sid === null) {
      if (!(await this.#authorize(request)) || this.#closed) return forbiddenSession()
      this.#intents.set(request, { kind: 'open' })
      return null
    }
    const session = this.#sessions.get(sid)
    if (!session) return unknownSid(sid)
    // §WebSocket: one WebSocket per session. One for a session upgraded or probing already is accepted and
    // closed at once (in #onWebSocket), as the reference server does: a client that sees a refused handshake
    // as an error it never listens for would crash, while a close is something every client handles.
    this.#intents.set(request, { kind: 'upgrade', session })
    return null
  }

  #onWebSocket(connection: WebSocketConnection, request: IncomingMessage): void {
    const intent = this.#intents.get(request)
    this.#intents.delete(request)
    if (intent?.kind === 'open') {
      const session = this.#open(request, connection)
      this.emit('connection', session)
    } else if (intent?.kind === 'upgrade' && intent.session.canUpgrade) {
      intent.session.probe(connection)
    } else {
      connection.close(1008, 'session cannot upgrade')
    }
  }

  #open(request: IncomingMessage, connection: WebSocketConnection | null): EngineSession {
    const id = randomBytes(15).toString('base64url')
    const session = new EngineSession(id, request, this.#sessionInit[connection === null ? 1 : 0], connection)
    this.#sessions.set(session.id, session)
    return session
  }

  #authorize(request: IncomingMessage): boolean | Promise<boolean> {
    const { authorize } = this.#options
    if (!authorize) return true
    try {
      const verdict = authorize(request)
      if (typeof verdict === 'boolean') return verdict
      return verdict.then(
        (allowed) => allowed === true,
        (error: unknown) => {
          log('authorize hook failed: %s', error)
          return false
        },
      )
    } catch (error) {
      log('authorize hook failed: %s', error)
      return false
    }
  }

  #refuse(
    request: IncomingMessage,
    response: ServerResponse,
    headers: ExtraHeaders,
    error: EngineIOProtocolError,
  ): void {
    this.#reportRefusal(error, request)
    // A refused request's body is never read: closing the connection keeps it from being parsed as a request.
    answerError(response, error, headers, request.method !== 'GET' && request.method !== 'OPTIONS')
  }

  #reportRefusal(error: EngineIOProtocolError, request: IncomingMessage): void {
    log('refusing %s %s: %s (%s)', request.method, request.url, error.code, error.message)
    if (this.listenerCount('connectionError') > 0) this.emit('connectionError', error, request)
  }
}

/** Starts an Engine.IO server on an http or https server; see `EngineServer.attach`. */
export function attachEngineIO(http: HttpServer | HttpsServer, options: EngineOptions = {}): EngineServer {
  return new EngineServer(options).attach(http)
}

function badRequest(code: EioViolation, detail: string): EngineIOProtocolError {
  return new EngineIOProtocolError(code, EngineErrorCode.BadRequest, detail)
}

function unknownSid(sid: string): EngineIOProtocolError {
  return new EngineIOProtocolError('eio-unknown-sid', EngineErrorCode.UnknownSid, `sid ${sid}`)
}

function forbiddenOrigin(origin: string | undefined): EngineIOProtocolError {
  return new EngineIOProtocolError('eio-forbidden-origin', EngineErrorCode.Forbidden, `origin ${origin}`)
}

function forbiddenSession(): EngineIOProtocolError {
  return new EngineIOProtocolError('eio-forbidden', EngineErrorCode.Forbidden, 'the session was refused')
}

function onHandshakeSocketError(error: Error): void {
  log('upgrade socket error: %s', error.message)
}

function splitUrl(url: string | undefined): { path: string; query: URLSearchParams } {
  const text = url ?? '/'
  const mark = text.indexOf('?')
  if (mark === -1) return { path: text, query: new URLSearchParams() }
  return { path: text.slice(0, mark), query: new URLSearchParams(text.slice(mark + 1)) }
}
