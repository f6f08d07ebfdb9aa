// The hub's WebSocket transport at /ws: the plain chat of the classic WebSocket tutorial for a client that asks
// for no subprotocol, and the switchboard.v1 JSON protocol for one that asks for it (docs/protocol.md).
import type { Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import { Server as TlsServer } from 'node:tls'
import { debuglog } from 'node:util'
import { Disconnect, type DisconnectInfo } from '../hub/disconnect.js'
import type { Hub } from '../hub/hub.js'
import { HubError } from '../hub/hub-error.js'
import type { Delivery, HubEvent, Member } from '../hub/member.js'
import type { Session } from '../hub/session.js'
import { CloseCode } from '../websocket/codec/close-code.js'
import type { ConnectionState, WebSocketConnection } from '../websocket/connection.js'
import type { ConnectionSettings, DeflateSettings } from '../websocket/options.js'
import { websocketDefaults } from '../websocket/options.js'
import { type PreparedMessage, prepareMessage } from '../websocket/prepared-message.js'
import type { UpgradeRequest } from '../websocket/raw-listener.js'
import { WebSocketServer } from '../websocket/server.js'
import { formatError, formatEvent, JsonProtocolError, parseRequest } from './codec/json-protocol.js'
import { type ConnectionGate, refusalMessage } from './connection-gate.js'
import { runRequest } from './json-requests.js'
import { countRefused, type Listener, newCounters, type TransportCounters } from './listener.js'
import { newMemberId } from './member-id.js'
import { formatAddress } from './address.js'
import { LastEventCache } from './event-cache.js'

const log = debuglog('switchboard:transport')

/** The subprotocol that selects the JSON protocol; a client asking for none gets the plain chat. */
export const webSocketProtocol = 'switchboard.v1'

/** How a connection talks: `plain` chat text, or `v1` JSON. */
export type WireMode = 'plain' | 'v1'

/** Limits of the WebSocket transport. */
export interface WebSocketTransportLimits {
  /**
   * `bufferedAmount` past which a member that does not read is disconnected with 4008 (send queue full);
   * the others are not slowed. @default 4194304 (4 MiB)
   */
  maxQueuedBytesPerMember: number
  /** Largest incoming WebSocket message, in bytes; a larger one closes the connection with 1009. @default 262144 (256 KiB) */
  maxRequestBytes: number
}

/** The defaults of the WebSocket transport. */
export const webSocketTransportDefaults = {
  path: '/ws',
  maxQueuedBytesPerMember: 4 * 1024 * 1024,
  // Room for the hub's largest message (64 KiB) as base64 inside a JSON request, with plenty to spare.
  maxRequestBytes: 256 * 1024,
} as const satisfies WebSocketTransportLimits & { path: string }

/** How the transport is attached. */
export interface WebSocketTransportOptions {
  /** The http or https server whose upgrades to `path` are ours; https gives `wss://`. */
  server: HttpServer | HttpsServer
  /** @default '/ws' */
  path?: string
  /** The connection limits shared with every other transport. */
  gate: ConnectionGate
  limits?: Partial<WebSocketTransportLimits>
  /** Browser origins allowed to connect; absent means any. Requests without Origin are not browsers and pass. */
  allowedOrigins?: string[]
  /** Engine settings, such as the keepalive (`pingIntervalMs`, on by default); the message size comes from `limits`. */
  connection?: Partial<Omit<ConnectionSettings, 'maxPayloadBytes'>>
  /** permessage-deflate for the connections. @default false */
  perMessageDeflate?: boolean | DeflateSettings
}

/** What a member needs of its connection; a `WebSocketConnection` has it all. */
export interface MemberSocket {
  readonly state: ConnectionState
  readonly bufferedAmount: number
  /** False once `bufferedAmount` has passed the high-water mark, which the transport keeps at or below its limit. */
  sendPrepared(message: PreparedMessage): boolean
  send(text: string): boolean
  close(code: number, reason: string): void
}

// One frame per event and mode, shared by every recipient: with 10,000 members in a room the event is encoded
// and framed once, and each connection writes the same bytes (the broadcast path, see bench/).
const prepared: Record<WireMode, LastEventCache<PreparedMessage>> = {
  plain: new LastEventCache(),
  v1: new LastEventCache(),
}

/** The frame for `event` in `mode`, made on first use and then shared by every connection of that mode. */
export function preparedFor(event: HubEvent, mode: WireMode): PreparedMessage {
  return prepared[mode].get(event, (fresh) =>
    prepareMessage(mode === 'plain' ? formatPlain(fresh) : formatEvent({ ...fresh })),
  )
}

/**
 * An event as the plain chat shows it: `ann: hello`, `ann (private): hi`, `* ann joined`, `* ann left`.
 * Bytes travel as a binary message, unchanged (a prefix would corrupt them), so their sender is not shown.
 */
export function formatPlain(event: HubEvent): string | Uint8Array {
  if (event.type === 'presence') return `* ${event.member} ${event.event === 'join' ? 'joined' : 'left'}`
  if (typeof event.data !== 'string') return event.data
  return event.type === 'direct' ? `${event.from} (private): ${event.data}` : `${event.from}: ${event.data}`
}

/** One WebSocket connection as the hub sees it. */
export class WebSocketMember implements Member {
  readonly id = newMemberId('ws')
  readonly transport = 'websocket'
  readonly remoteAddress: string
  readonly mode: WireMode
  readonly #socket: MemberSocket
  readonly #counters: TransportCounters
  readonly #maxQueuedBytes: number

  constructor(
    socket: MemberSocket,
    mode: WireMode,
    remoteAddress: string,
    counters: TransportCounters,
    maxQueuedBytes: number,
  ) {
    this.#socket = socket
    this.mode = mode
    this.remoteAddress = remoteAddress
    this.#counters = counters
    this.#maxQueuedBytes = maxQueuedBytes
  }

  /** Bytes waiting to be sent to this member. */
  get bufferedAmount(): number {
    return this.#socket.bufferedAmount
  }

  deliver(event: HubEvent): Delivery {
    // Closing (slow, quitting or gone): nothing more is accepted for it, and it can resume from history.
    if (this.#socket.state !== 'open') return 'dropped'
    const message = preparedFor(event, this.mode)
    this.#sent(message.payload.length, this.#socket.sendPrepared(message))
    return 'delivered'
  }

  /** Sends what only this member gets (a reply, the welcome, a notice), under the same queue limit. */
  send(text: string): void {
    if (this.#socket.state !== 'open') return
    this.#sent(Buffer.byteLength(text), this.#socket.send(text))
  }

  close(reason: DisconnectInfo): void {
    // The close frame follows what is queued, so a slow reader that catches up still learns why it was cut;
    // the engine drops the TCP connection if it has not answered within closeTimeoutMs.
    this.#socket.close(closeCodeOf(reason), reason.reason)
  }

  // `belowHighWater`: the socket's send returned true, so its buffer is under a mark at or below our limit.
  #sent(payloadBytes: number, belowHighWater: boolean): void {
    this.#counters.messagesOut++
    this.#counters.bytesOut += payloadBytes
    if (!belowHighWater && this.#socket.bufferedAmount > this.#maxQueuedBytes) {
      countRefused(this.#counters, 'slow-consumer')
      this.close(Disconnect.SlowConsumer)
    }
  }
}

// One open connection and what it is doing: requests are carried out one at a time, in order.
interface Peer {
  readonly connection: WebSocketConnection
  readonly member: WebSocketMember
  readonly room: string
  session: Session | null
  readonly inbox: Array<[data: Buffer, binary: boolean]>
  busy: boolean
}

/** Attaches the transport to `options.server` at `/ws` and returns its listener. */
export function attachWebSocket(hub: Hub, options: WebSocketTransportOptions): Listener {
  return new WebSocketTransport(hub, options)
}

class WebSocketTransport implements Listener {
  readonly counters: TransportCounters = newCounters()
  readonly #hub: Hub
  readonly #http: HttpServer | HttpsServer
  readonly #path: string
  readonly #limits: WebSocketTransportLimits
  readonly #server: WebSocketServer
  readonly #peers = new Set<Peer>()
  readonly #detaching = new Set<Promise<void>>()
  // Upgrades the gate refused, so the `rejected` event counts them under the gate's reason.
  readonly #gateRefusals = new WeakMap<UpgradeRequest, string>()

  constructor(hub: Hub, options: WebSocketTransportOptions) {
    this.#hub = hub
    this.#http = options.server
    this.#path = options.path ?? webSocketTransportDefaults.path
    this.#limits = { ...webSocketTransportDefaults, ...options.limits }
    const peers = this.#peers
    Object.defineProperty(this.counters, 'queuedBytes', {
      enumerable: true,
      get() {
        let sum = 0
        for (const peer of peers) sum += peer.member.bufferedAmount
        return sum
      },
    })
    const gate = options.gate
    this.#server = new WebSocketServer({
      ...options.connection,
      // The engine's own cut (1008) stays above ours (4008), which tells the client to come back and resume.
      maxBufferedBytes:
        options.connection?.maxBufferedBytes ??
        Math.max(websocketDefaults.maxBufferedBytes, 2 * this.#limits.maxQueuedBytesPerMember),
      // At or below our queue limit, so a send that returns true proves the member is under it: the limit
      // is then checked without reading bufferedAmount for every recipient (bench: fan-out).
      highWaterMarkBytes: Math.min(
        options.connection?.highWaterMarkBytes ?? websocketDefaults.highWaterMarkBytes,
        this.#limits.maxQueuedBytesPerMember,
      ),
      maxPayloadBytes: this.#limits.maxRequestBytes,
      server: options.server,
      path: this.#path,
      protocols: [webSocketProtocol],
      allowedOrigins: options.allowedOrigins,
      perMessageDeflate: options.perMessageDeflate,
      authorize: (request) => this.#admit(request, gate),
    })
    this.#server.on('connection', (connection, request) => this.#onConnection(connection, request))
    this.#server.on('rejected', (error, request) =>
      countRefused(this.counters, this.#gateRefusals.get(request) ?? error.code),
    )
  }

  get url(): string {
    const scheme = this.#http instanceof TlsServer ? 'wss' : 'ws'
    return `${formatAddress(scheme, this.#http.address())}${this.#path}`
  }

  get connections(): number {
    return this.#peers.size
  }

  async close(reason: DisconnectInfo): Promise<void> {
    await this.#server.close(closeCodeOf(reason), reason.reason)
    await Promise.all(this.#detaching)
  }

  #admit(request: UpgradeRequest, gate: ConnectionGate): true | { status: number; message: string } {
    const address = request.socket.remoteAddress ?? 'unknown'
    const verdict = gate.admit(address)
    if (verdict !== 'ok') {
      this.#gateRefusals.set(request, verdict)
      return { status: 503, message: refusalMessage(verdict, address) }
    }
    // The TCP socket closes exactly once, whether the handshake completes or fails later.
    request.socket.once('close', () => gate.release(address))
    return true
  }

  #onConnection(connection: WebSocketConnection, request: UpgradeRequest): void {
    const mode: WireMode = connection.protocol === webSocketProtocol ? 'v1' : 'plain'
    const address = request.socket.remoteAddress ?? 'unknown'
    const member = new WebSocketMember(
      connection,
      mode,
      address,
      this.counters,
      this.#limits.maxQueuedBytesPerMember,
    )
    const query = new URL(request.url ?? '/', 'http://localhost').searchParams
    const room = query.get('room') || 'lobby'
    const peer: Peer = { connection, member, room, session: null, inbox: [], busy: true }
    this.#peers.add(peer)
    // Nothing is read until the hub has the connection; what arrives meanwhile waits in the socket.
    connection.pause()
    connection.on('message', (data, binary) => this.#onMessage(peer, data, binary))
    connection.once('close', () => this.#onClose(peer))
    // An empty parameter counts as absent: `?nick=` gets a guest name.
    const nick = query.get('nick') || undefined
    const nickKey = query.get('key') || undefined
    void this.#hub.connect(member, { nick, nickKey, rooms: [room] }).then(
      (session) => this.#onConnected(peer, session),
      (error: unknown) => this.#onFailure(peer, error),
    )
  }

  #onConnected(peer: Peer, session: Session | HubError): void {
    const { connection } = peer
    if (session instanceof HubError) {
      countRefused(this.counters, session.code)
      // A refusal at connect time closes with 4000 + its HTTP-like status (4400, 4409, 4503): the Disconnect
      // catalog names reasons for ending a session, not for refusing one (docs/protocol.md).
      connection.close(4000 + session.status, shortReason(session.message))
      // Reading again lets the peer's close answer in, so the TCP connection ends now, not at closeTimeoutMs.
      connection.resume()
      return
    }
    if (connection.state !== 'open') {
      this.#track(session.detach())
      return
    }
    peer.session = session
    // Sent before the join's held events, which the hub releases a turn later.
    peer.member.send(
      peer.member.mode === 'v1'
        ? formatEvent({
            type: 'welcome',
            nick: session.nick,
            key: session.nickKey,
            rooms: [...session.rooms],
          })
        : `* you are ${session.nick} in ${peer.room}`,
    )
    void this.#drain(peer)
  }

  #onMessage(peer: Peer, data: Buffer, binary: boolean): void {
    // After our close frame only the peer's close answer matters (RFC 6455 §1.4).
    if (peer.connection.state !== 'open') return
    this.counters.messagesIn++
    this.counters.bytesIn += data.length
    peer.inbox.push([data, binary])
    if (!peer.busy) void this.#drain(peer)
  }

  // One request at a time, so replies come in request order and a join is done before the next publish.
  async #drain(peer: Peer): Promise<void> {
    const { connection } = peer
    peer.busy = true
    connection.pause()
    try {
      for (let next = peer.inbox.shift(); next !== undefined; next = peer.inbox.shift()) {
        if (peer.member.mode === 'v1') await this.#onRequest(peer, next[0], next[1])
        else await this.#onChat(peer, next[0], next[1])
      }
    } catch (error) {
      return this.#onFailure(peer, error)
    }
    peer.busy = false
    // Also after a quit: the peer's close answer has to be read.
    if (connection.state !== 'closed') connection.resume()
  }

  async #onChat(peer: Peer, data: Buffer, binary: boolean): Promise<void> {
    // A copy, so history does not keep the engine's receive buffer alive.
    const text = binary ? new Uint8Array(data) : data.toString()
    const published = await peer.session!.publish(peer.room, text)
    if (published instanceof HubError) {
      countRefused(this.counters, published.code)
      peer.member.send(`! ${published.code}: ${published.message}`)
    }
  }

  async #onRequest(peer: Peer, data: Buffer, binary: boolean): Promise<void> {
    const request = binary
      ? new JsonProtocolError('switchboard.v1 requests are text; send bytes as {"base64": "..."}')
      : parseRequest(data.toString())
    if (request instanceof JsonProtocolError) {
      countRefused(this.counters, request.code)
      peer.member.send(formatError(request.requestId, request))
      return
    }
    const { reply, quit } = await runRequest(this.#hub, peer.session!, request)
    peer.member.send(reply)
    if (quit) peer.member.close(Disconnect.Quit)
  }

  #onClose(peer: Peer): void {
    this.#peers.delete(peer)
    peer.inbox.length = 0
    // A session still being made is detached by #onConnected when it arrives.
    if (peer.session) this.#track(peer.session.detach())
  }

  // A store that throws (a disk failure): the client is told so with 1011, never left hanging.
  #onFailure(peer: Peer, error: unknown): void {
    log('websocket connection %s failed: %s', peer.member.id, error)
    peer.connection.close(CloseCode.InternalError, 'internal error')
    peer.connection.resume()
  }

  #track(detaching: Promise<void>): void {
    const tracked = detaching
      .catch((error: unknown) => log('detach failed: %s', error))
      .finally(() => this.#detaching.delete(tracked))
    this.#detaching.add(tracked)
  }
}

// A close reason fits in 123 bytes of UTF-8.
function shortReason(text: string): string {
  let reason = text
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1)
  return reason
}

/** The close code for a reason: RFC 6455's 1001 when the server goes away, our 4000-range codes otherwise. */
export function closeCodeOf(reason: DisconnectInfo): number {
  return reason.code === Disconnect.ServerStopping.code ? CloseCode.GoingAway : reason.code
}
