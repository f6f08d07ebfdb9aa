// The WebSocket server side of the opening handshake (RFC 6455 §4.2, RFC 7692 §5): attaches to any
// http/https server's `upgrade` event, routed by path, or listens on its own.
import { EventEmitter } from 'node:events'
import type { Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { AddressInfo, Server as NetServer, Socket } from 'node:net'
import { debuglog } from 'node:util'
import { computeAcceptKey } from './accept-key.js'
import { CloseCode } from './codec/close-code.js'
import { acceptDeflateOffer, parseExtensions } from './codec/deflate-offer.js'
import {
  type ClientHandshake,
  formatRejection,
  formatUpgradeResponse,
  HandshakeError,
  parseUpgradeRequest,
} from './codec/handshake.js'
import { type ConnectionInit, WebSocketConnection } from './connection.js'
import {
  type ConnectionSettings,
  type DeflateSettings,
  resolveSettings,
  websocketDefaults,
} from './options.js'
import { listenRaw, type UpgradeRequest } from './raw-listener.js'
import { routeUpgrades } from './upgrade-router.js'

const log = debuglog('switchboard:ws')
const maxCachedInits = 64

function onHandshakeSocketError(error: Error): void {
  log('handshake socket error: %s', error.message)
}

/** How a refused handshake is answered. */
export interface Refusal {
  /** HTTP status. @default 403 */
  status?: number
  message?: string
  headers?: Record<string, string>
}

/** Server options; every connection setting may be given here too. */
export interface WebSocketServerOptions extends Partial<ConnectionSettings> {
  /** An http or https server to attach to; without one, `listen` starts our own. */
  server?: HttpServer | HttpsServer
  /** Only upgrades to this path are ours (query strings ignored); others are left to other endpoints. */
  path?: string
  /** Time from the upgrade request to the 101 answer, hooks included. @default 10000 */
  handshakeTimeoutMs?: number
  /** permessage-deflate: false, true for defaults, or settings. @default false */
  perMessageDeflate?: boolean | DeflateSettings
  /** Subprotocols we speak, in our order of preference; the client's first one we speak is chosen. */
  protocols?: string[]
  /** Picks the subprotocol from the client's list; returning null or undefined selects none. */
  selectProtocol?: (
    offered: string[],
    request: UpgradeRequest,
  ) => string | null | undefined | Promise<string | null | undefined>
  /** Accepts (true) or refuses (false, or a Refusal with a status) an upgrade request. */
  authorize?: (request: UpgradeRequest) => boolean | Refusal | Promise<boolean | Refusal>
  /** Origins allowed to open a connection; absent means any. Requests without Origin are not browsers and pass. */
  allowedOrigins?: string[]
}

interface Acceptance {
  handshake: ClientHandshake
  protocol: string
  extensions: string
  deflate: ReturnType<typeof acceptDeflateOffer>
}

/** Events of a server. */
export interface WebSocketServerEvents {
  connection: [connection: WebSocketConnection, request: UpgradeRequest]
  /** A handshake that was refused, with the reason; the client got the HTTP answer already. */
  rejected: [error: HandshakeError, request: UpgradeRequest]
  close: []
}

/** Accepts WebSocket connections; every open one is in `clients`. */
export class WebSocketServer extends EventEmitter<WebSocketServerEvents> {
  readonly clients = new Set<WebSocketConnection>()
  readonly #options: WebSocketServerOptions
  readonly #settings: ConnectionSettings
  readonly #deflate: DeflateSettings | null
  #http: HttpServer | HttpsServer | null
  #raw: NetServer | null = null
  #detach: (() => void) | null = null
  #closing = false
  readonly #inits = new Map<string, ConnectionInit<WebSocketConnection>>()

  constructor(options: WebSocketServerOptions = {}) {
    super()
    this.#options = options
    this.#settings = resolveSettings(options)
    const deflate = options.perMessageDeflate ?? false
    this.#deflate = deflate === false ? null : deflate === true ? {} : deflate
    this.#http = options.server ?? null
    if (this.#http) this.#attach(this.#http)
  }

  /**
   * Listens on a TCP port of our own, reading upgrade requests without node:http (plain requests get 426),
   * and resolves with the address.
   */
  async listen(port = 0, host = '127.0.0.1'): Promise<AddressInfo> {
    if (this.#http || this.#raw) throw new Error('this server listens or is attached already')
    const handshakeTimeoutMs = this.#options.handshakeTimeoutMs ?? websocketDefaults.handshakeTimeoutMs
    this.#raw = await listenRaw(
      port,
      host,
      { handshakeTimeoutMs, path: this.#options.path },
      (request, socket, head) => this.handleUpgrade(request, socket, head),
    )
    return this.#raw.address() as AddressInfo
  }

  /** The address of the server we listen on or are attached to. */
  address(): AddressInfo | null {
    const address = (this.#raw ?? this.#http)?.address()
    return address && typeof address === 'object' ? address : null
  }

  /**
   * Takes over an upgrade request directly (for servers that route upgrades themselves).
   * Always answers it: with 101 and a `connection` event, or an HTTP error.
   */
  handleUpgrade(request: UpgradeRequest, socket: Socket, head: Buffer): void {
    const { authorize, selectProtocol } = this.#options
    // Without hooks nothing can wait, so the handshake completes in this call: no timer, no promise.
    if (!authorize && !selectProtocol) {
      const handshake = this.#check(request)
      if (handshake instanceof HandshakeError) return this.#reject(socket, request, handshake)
      return this.#finish(
        request,
        socket,
        head,
        this.#conclude(handshake, this.#preferredProtocol(handshake.protocols)),
      )
    }
    socket.on('error', onHandshakeSocketError)
    void this.#handshakeWithHooks(request, socket, head).finally(() =>
      socket.off('error', onHandshakeSocketError),
    )
  }

  /** Closes every connection with 1001 and stops accepting; resolves when all are closed. */
  async close(code: number = CloseCode.GoingAway, reason = 'server stopping'): Promise<void> {
    if (this.#closing) return
    this.#closing = true
    this.#detach?.()
    const closed = [...this.clients].map(
      (client) =>
        new Promise<void>((resolve) => {
          client.once('close', () => resolve())
          client.close(code, reason)
        }),
    )
    if (this.#raw) {
      const raw = this.#raw
      await new Promise<void>((resolve) => raw.close(() => resolve()))
    }
    await Promise.all(closed)
    this.emit('close')
  }

  #attach(http: HttpServer | HttpsServer): void {
    this.#detach = routeUpgrades(http, this.#options.path, (request, socket, head) =>
      this.handleUpgrade(request, socket, head),
    )
  }

  async #handshakeWithHooks(request: UpgradeRequest, socket: Socket, head: Buffer): Promise<void> {
    const timeoutMs = this.#options.handshakeTimeoutMs ?? websocketDefaults.handshakeTimeoutMs
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      const error = new HandshakeError('ws-handshake-timeout', 408, `no handshake within ${timeoutMs} ms`)
      this.#reject(socket, request, error)
    }, timeoutMs)
    try {
      const answer = await this.#decideWithHooks(request)
      if (!timedOut && !socket.destroyed) this.#finish(request, socket, head, answer)
    } catch (error) {
      if (!timedOut && !socket.destroyed) {
        log('handshake hook failed: %s', error)
        const refusal = new HandshakeError(
          'ws-handshake-refused',
          500,
          'the server failed to decide on the upgrade',
        )
        this.#reject(socket, request, refusal)
      }
    } finally {
      clearTimeout(timer)
    }
  }

  async #decideWithHooks(request: UpgradeRequest): Promise<HandshakeError | Acceptance> {
    const handshake = this.#check(request)
    if (handshake instanceof HandshakeError) return handshake
    const { authorize, selectProtocol } = this.#options
    if (authorize) {
      const verdict = await authorize(request)
      if (verdict !== true) {
        const refusal = verdict === false ? {} : verdict
        const message = refusal.message ?? 'the upgrade was refused'
        return new HandshakeError('ws-handshake-refused', refusal.status ?? 403, message, refusal.headers)
      }
    }
    const offered = handshake.protocols
    if (!selectProtocol || offered.length === 0)
      return this.#conclude(handshake, this.#preferredProtocol(offered))
    const chosen = await selectProtocol(offered, request)
    if (chosen === null || chosen === undefined || chosen === '') return this.#conclude(handshake, '')
    return this.#conclude(handshake, offered.includes(chosen) ? chosen : null)
  }

  // The checks that need no hook: the request itself (RFC 6455 §4.2.1) and the Origin allow-list.
  #check(request: UpgradeRequest): HandshakeError | ClientHandshake {
    const handshake = parseUpgradeRequest(request)
    if (handshake instanceof HandshakeError) return handshake
    const { allowedOrigins } = this.#options
    if (allowedOrigins && handshake.origin !== undefined && !allowedOrigins.includes(handshake.origin)) {
      return new HandshakeError('ws-handshake-origin', 403, `origin ${handshake.origin} is not allowed`)
    }
    return handshake
  }

  // `protocol` is '' for none, or null when a hook chose one the client did not offer.
  #conclude(handshake: ClientHandshake, protocol: string | null): HandshakeError | Acceptance {
    if (protocol === null) {
      return new HandshakeError(
        'ws-handshake-protocol',
        500,
        'selectProtocol chose a protocol the client did not offer',
      )
    }
    let deflate: ReturnType<typeof acceptDeflateOffer> = null
    if (this.#deflate && handshake.extensions) {
      // RFC 7692 §5: an offer we cannot parse or honour is declined and the connection goes on uncompressed.
      const offers = parseExtensions(handshake.extensions)
      if (offers) deflate = acceptDeflateOffer(offers, this.#deflate)
    }
    return { handshake, protocol, extensions: deflate?.response ?? '', deflate }
  }

  #preferredProtocol(offered: string[]): string {
    if (offered.length === 0) return ''
    const { protocols } = this.#options
    if (protocols) return offered.find((p) => protocols.includes(p)) ?? ''
    // Deviation: like `ws`, with no preference configured the client's first choice is accepted.
    return offered[0]
  }

  #finish(request: UpgradeRequest, socket: Socket, head: Buffer, answer: HandshakeError | Acceptance): void {
    if (answer instanceof HandshakeError) return this.#reject(socket, request, answer)
    if (this.#closing) {
      return this.#reject(
        socket,
        request,
        new HandshakeError('ws-handshake-refused', 503, 'the server is stopping'),
      )
    }
    this.#accept(request, socket, head, answer)
  }

  #accept(request: UpgradeRequest, socket: Socket, head: Buffer, answer: Acceptance): void {
    socket.write(
      formatUpgradeResponse(computeAcceptKey(answer.handshake.key), answer.protocol, answer.extensions),
    )
    const connection = new WebSocketConnection(socket, this.#initFor(answer))
    this.emit('connection', connection, request)
    // Frames that came with the upgrade request are read only now, once `connection` listeners are in place.
    if (head.length > 0) socket.unshift(head)
  }

  // Connections negotiated alike share one init object rather than each holding a copy (bench: idle memory).
  #initFor(answer: Acceptance): ConnectionInit<WebSocketConnection> {
    const key = `${answer.protocol}\n${answer.extensions}`
    const cached = this.#inits.get(key)
    if (cached) return cached
    const init: ConnectionInit<WebSocketConnection> = {
      role: 'server',
      settings: this.#settings,
      protocol: answer.protocol,
      extensions: answer.extensions,
      deflate: answer.deflate && {
        params: answer.deflate.params,
        thresholdBytes: this.#deflate?.thresholdBytes ?? websocketDefaults.deflateThresholdBytes,
        level: this.#deflate?.level ?? websocketDefaults.deflateLevel,
      },
      nextMask: null,
      registry: this.clients,
    }
    // Clients choose the protocol strings, so the cache is bounded.
    if (this.#inits.size < maxCachedInits) this.#inits.set(key, init)
    return init
  }

  #reject(socket: Socket, request: UpgradeRequest, error: HandshakeError): void {
    log('refusing upgrade: %d %s', error.httpStatus, error.message)
    // A peer that resets while the refusal is written must not take the process down.
    if (socket.listenerCount('error') === 0) socket.on('error', onHandshakeSocketError)
    if (socket.writable) {
      socket.once('finish', () => socket.destroy())
      socket.end(formatRejection(error))
    } else {
      socket.destroy()
    }
    if (this.listenerCount('rejected') > 0) this.emit('rejected', error, request)
  }
}
