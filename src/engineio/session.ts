// One Engine.IO session (Engine.IO protocol v4 §Handshake, §Heartbeat, §Upgrade): the socket a `connection`
// event hands out, whichever transport carries it, with the server-driven heartbeat and the move to WebSocket.
//
//           probe answered (polling paused)
//   open ───────────────────────────────► upgrading
//    ▲  ◄───── probe failed or timed out ──┘  │
//    └───────── '5': WebSocket from now on ───┘
//    │
//    ├── close() while polling with no GET waiting ──► closing ──► closed  (the next GET takes the close packet)
//    ├── close() while upgrading ────────────────────────────────► closed  (the probing WebSocket takes it)
//    └── anything else that ends it, from any state ────────────► closed
import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { debuglog } from 'node:util'
import { typeError } from '../errors.js'
import type { WebSocketConnection } from '../websocket/connection.js'
import { isBinaryPacket, openPacket, type Packet, PacketType } from './codec/packet.js'
import type { EngineIOProtocolError } from './codec/protocol-error.js'
import type { ExtraHeaders } from './http-answer.js'
import type { TransportName } from './options.js'
import { type PollingFailure, PollingTransport } from './polling.js'
import { SharedMessage } from './shared-message.js'
import { UpgradeProbe } from './upgrade.js'
import type {
  EngineCloseReason,
  EngineSessionEvents,
  SessionInit,
  SessionReceiver,
  SessionState,
} from './session-types.js'
import { type WebSocketHandler, WebSocketTransport } from './websocket.js'

const log = debuglog('switchboard:eio')

const NEXT = {
  open: ['upgrading', 'closing', 'closed'],
  upgrading: ['open', 'closing', 'closed'],
  closing: ['closed'],
  closed: [],
} as const satisfies Record<SessionState, readonly SessionState[]>

const noop: Packet = { type: PacketType.Noop, data: '' }
const closePacket: Packet = { type: PacketType.Close, data: '' }
const ping: Packet = { type: PacketType.Ping, data: '' }

// Set by EngineSession's static block, the one place that may reach a session's private members.
let makeWebSocketHandler: (session: EngineSession) => WebSocketHandler

/** An Engine.IO session: send and receive messages, whatever the transport underneath. */

export class EngineSession extends EventEmitter<EngineSessionEvents> {
  /** The session id (`sid`): 20 URL-safe characters. */
  readonly id: string
  /** The request that opened the session, for its headers, query and address. */
  readonly request: IncomingMessage
  readonly #init: SessionInit
  // Read once at the opening: a socket that has closed no longer knows its peer.
  readonly #remoteAddress: string | undefined
  #state: SessionState = 'open'
  #transport: PollingTransport | WebSocketTransport
  // Packets for the next GET; only a polling session buffers.
  #buffer: Packet[] = []
  #flushQueued = false
  #probe: UpgradeProbe | null = null
  // One timer serves both halves of the heartbeat: until the next ping, then until its pong is due.
  #heartbeat: NodeJS.Timeout
  // When the pending ping is due: a ping that goes out late does not move the pong's deadline later.
  #pingDueAt = 0
  #awaitingPong = false
  #receiver: SessionReceiver | null = null
  #closeTimer: NodeJS.Timeout | null = null

  /** Opens a session on the polling transport, or on `connection` for a WebSocket-only session. */
  constructor(
    id: string,
    request: IncomingMessage,
    init: SessionInit,
    connection: WebSocketConnection | null = null,
  ) {
    super()
    this.id = id
    this.request = request
    this.#init = init
    this.#remoteAddress = request.socket.remoteAddress
    this.#transport = connection ? this.#webSocketTransport(connection) : this.#pollingTransport()
    const { limits } = init
    this.#sendPacket(
      openPacket({
        sid: id,
        upgrades: init.upgrades,
        pingInterval: limits.pingIntervalMs,
        pingTimeout: limits.pingTimeoutMs,
        maxPayload: limits.maxPayloadBytes,
      }),
    )
    // §Heartbeat: the server pings every pingInterval and expects a pong within pingTimeout.
    this.#heartbeat = this.#schedulePing()
    log('%s: open on %s', this.id, this.#transport.name)
  }

  /** 'open', 'upgrading', 'closing' or 'closed'. */
  get state(): SessionState {
    return this.#state
  }

  /** The transport carrying the session now. */
  get transport(): TransportName {
    return this.#transport.name
  }

  /** The peer's address as the opening request's socket reported it when the session opened. */
  get remoteAddress(): string | undefined {
    return this.#remoteAddress
  }

  /**
   * Sends a message: a string as text, bytes as binary. Returns false once the session is closing, when the
   * message is dropped. Over polling, messages sent in one tick leave in one answer.
   */
  send(data: string | Uint8Array | SharedMessage): boolean {
    if (typeof data === 'string') return this.#sendPacket({ type: PacketType.Message, data })
    if (data instanceof SharedMessage) return this.#sendShared(data)
    if (!(data instanceof Uint8Array))
      throw typeError('eio-send-type', 'send takes a string, a Uint8Array or a SharedMessage')
    return this.#sendPacket({ type: PacketType.Message, data })
  }

  /**
   * Whether a message sent now goes out at once (what `volatile` asks): open, and on WebSocket under the
   * high-water mark, or on polling with a GET waiting for it.
   */
  get writable(): boolean {
    if (this.#state !== 'open') return false
    const transport = this.#transport
    return transport.name === 'websocket' ? transport.writable : transport.waiting
  }

  /**
   * @internal Hands every message, and then the end, to `receiver` before the `message` and `close` events:
   * the Socket.IO layer's path, without an event in between or a closure per session.
   */
  setReceiver(receiver: SessionReceiver): void {
    this.#receiver = receiver
  }

  /**
   * On WebSocket, writes the messages sent so far in this turn now, and what the rest of the turn sends a
   * moment later in a write of its own (`WebSocketConnection.flush`); on polling they wait for a GET anyway.
   */
  flush(): void {
    const transport = this.#transport
    if (transport.name === 'websocket') transport.flush()
  }

  /** Closes the session (`forced close`); messages sent before still reach the client. */
  close(): void {
    this.#end('forced close')
  }

  /** Whether a WebSocket may join now to take over from polling. Used by the server. */
  get canUpgrade(): boolean {
    return this.#state === 'open' && this.#transport.name === 'polling' && this.#probe === null
  }

  /** Starts the upgrade on a freshly opened WebSocket of this session. Used by the server. */
  probe(connection: WebSocketConnection): void {
    this.#probe = new UpgradeProbe(connection, this.#init.limits.upgradeTimeoutMs, {
      onProbe: () => this.#onProbe(),
      onUpgrade: (upgraded) => this.#onUpgrade(upgraded),
      onAbort: () => this.#onProbeAbort(),
    })
  }

  /** Takes a GET of the polling transport. Used by the server, which checked the transport. */
  handlePoll(response: ServerResponse, headers: ExtraHeaders): void {
    if (this.#transport.name === 'polling') this.#transport.poll(response, headers)
  }

  /** Takes a POST of the polling transport. Used by the server, which checked the transport. */
  handlePost(request: IncomingMessage, response: ServerResponse, headers: ExtraHeaders): void {
    if (this.#transport.name === 'polling') this.#transport.post(request, response, headers)
  }

  /** Ends the session because the server stops. Used by the server. */
  shutdown(): void {
    this.#end('server shutting down')
  }

  #pollingTransport(): PollingTransport {
    const polling: PollingTransport = new PollingTransport(
      {
        onPoll: () => this.#onPoll(),
        onPackets: (packets) => this.#onPackets(packets),
        // A POST of the old transport may still fail after an upgrade; it does not end the WebSocket.
        onFailure: (reason: PollingFailure) => {
          if (this.#transport === polling) this.#end(reason)
        },
      },
      this.#init.limits.maxPayloadBytes,
    )
    return polling
  }

  #webSocketTransport(connection: WebSocketConnection): WebSocketTransport {
    return new WebSocketTransport(connection, makeWebSocketHandler(this))
  }

  #moveTo(state: SessionState): void {
    if (state === this.#state) return
    const allowed: readonly SessionState[] = NEXT[this.#state]
    if (!allowed.includes(state)) throw new Error(`illegal move ${this.#state} -> ${state}`)
    log('%s: %s -> %s', this.id, this.#state, state)
    this.#state = state
  }

  // Sending.

  #sendPacket(packet: Packet): boolean {
    if (this.#state === 'closing' || this.#state === 'closed') return false
    const transport = this.#transport
    if (transport.name === 'websocket') {
      transport.send(packet)
      return true
    }
    this.#buffer.push(packet)
    this.#queueFlush()
    return true
  }

  #sendShared(message: SharedMessage): boolean {
    const transport = this.#transport
    if (transport.name !== 'websocket' || this.#state !== 'open') return this.#sendPacket(message.packet)
    transport.sendShared(message)
    return true
  }

  // Packets sent in the same tick share one answer: the flush waits for the end of the current job.
  #queueFlush(): void {
    if (this.#flushQueued || this.#state !== 'open' || this.#transport.name !== 'polling') return
    if (!this.#transport.waiting) return
    this.#flushQueued = true
    queueMicrotask(this.#flush)
  }

  readonly #flush = (): void => {
    this.#flushQueued = false
    const transport = this.#transport
    if (this.#state !== 'open' || transport.name !== 'polling' || this.#buffer.length === 0) return
    if (transport.write(this.#buffer)) this.#buffer = []
  }

  #onPoll(): void {
    const transport = this.#transport as PollingTransport
    switch (this.#state) {
      case 'upgrading':
        // §Upgrade: polling is paused; its GETs are ended with a noop, and what is buffered waits for the WebSocket.
        transport.write([noop])
        return
      case 'closing':
        transport.write(this.#buffer)
        this.#buffer = []
        return this.#finish('forced close')
      default:
        if (this.#buffer.length > 0) this.#queueFlush()
    }
  }

  // Receiving.

  #onPackets(packets: readonly Packet[]): boolean {
    if (this.#state === 'closed') return false
    for (const packet of packets) this.#onPacket(packet)
    return true
  }

  #onPacket(packet: Packet): void {
    if (this.#state === 'closed') return
    switch (packet.type) {
      case PacketType.Message:
        if (this.#state !== 'closing') {
          const message = asMessage(packet)
          this.#receiver?.onMessage(message)
          this.emit('message', message)
        }
        return
      case PacketType.Pong:
        return this.#onPong()
      case PacketType.Ping:
        // v4 clients never ping (the server does), but an answer costs nothing and helps people debugging by hand.
        this.#sendPacket({ type: PacketType.Pong, data: packet.data as string })
        return
      case PacketType.Close:
        return this.#end('transport close')
      case PacketType.Noop:
        return
      default:
        // An open or upgrade packet has no meaning from a client on an established transport.
        log('%s: unexpected packet type %d', this.id, packet.type)
        return this.#end('parse error')
    }
  }

  // Heartbeat.

  readonly #onHeartbeat = (): void => {
    if (this.#state === 'closing' || this.#state === 'closed') return
    if (this.#awaitingPong) return this.#end('ping timeout')
    this.#awaitingPong = true
    this.#sendPacket(ping)
    // The deadline is pingTimeout after the ping was due (pingInterval + pingTimeout after the last pong), however
    // late a busy event loop ran this timer.
    const late = Math.max(0, performance.now() - this.#pingDueAt)
    this.#heartbeat = setTimeout(
      this.#onHeartbeat,
      Math.max(0, this.#init.limits.pingTimeoutMs - late),
    ).unref()
  }

  #schedulePing(): NodeJS.Timeout {
    const interval = this.#init.limits.pingIntervalMs
    this.#pingDueAt = performance.now() + interval
    return setTimeout(this.#onHeartbeat, interval).unref()
  }

  #onPong(): void {
    // A pong nobody asked for is ignored: it must not push the next ping further away.
    if (!this.#awaitingPong) return
    this.#awaitingPong = false
    clearTimeout(this.#heartbeat)
    this.#heartbeat = this.#schedulePing()
  }

  // Upgrading.

  #onProbe(): boolean {
    if (this.#state !== 'open' || this.#transport.name !== 'polling') return false
    this.#moveTo('upgrading')
    // §Upgrade: a GET waiting now is ended with a noop so that the client can pause polling.
    this.#transport.write([noop])
    return true
  }

  #onUpgrade(connection: WebSocketConnection): boolean {
    this.#probe = null
    const polling = this.#transport
    if (this.#state !== 'upgrading' || polling.name !== 'polling') return false
    polling.write([noop])
    const transport = this.#webSocketTransport(connection)
    this.#transport = transport
    this.#moveTo('open')
    // What was buffered for polling goes first, in order, so no message is lost or overtaken.
    const buffered = this.#buffer
    this.#buffer = []
    for (const packet of buffered) transport.send(packet)
    this.emit('upgrade', 'websocket')
    return true
  }

  #onProbeAbort(): void {
    this.#probe = null
    if (this.#state !== 'upgrading') return
    this.#moveTo('open')
    this.#queueFlush()
  }

  // Closing.

  #end(reason: EngineCloseReason): void {
    if (this.#state === 'closed') return
    if (this.#state === 'closing') {
      if (reason !== 'forced close') this.#finish(reason)
      return
    }
    this.#stopHeartbeat()
    const probe = this.#probe
    this.#probe = null
    const transport = this.#transport
    if (transport.name === 'websocket') {
      probe?.cancel()
      transport.close(reason)
      return this.#finish(reason)
    }
    // The client closed: its waiting GET just ends (noop). Otherwise the close packet tells it why polling stops.
    const last = reason === 'transport close' ? noop : closePacket
    if (this.#state === 'upgrading') {
      // Polling is paused and no GET will come to take the close packet: the probing WebSocket carries what is
      // buffered and the close packet, a GET still waiting ends with a noop, and the session ends now.
      probe?.cancel(last === noop ? [] : [...this.#buffer, last])
      transport.write(probe ? [noop] : [...this.#buffer, last])
      return this.#finish(reason)
    }
    probe?.cancel()
    if (transport.write([...this.#buffer, last])) return this.#finish(reason)
    if (reason !== 'forced close') return this.#finish(reason)
    // close() with no GET waiting: the next GET takes what is buffered and the close packet, if it comes soon.
    this.#buffer.push(closePacket)
    this.#moveTo('closing')
    this.#closeTimer = setTimeout(() => this.#finish('forced close'), this.#init.limits.pingTimeoutMs).unref()
  }

  #stopHeartbeat(): void {
    clearTimeout(this.#heartbeat)
    this.#awaitingPong = false
  }

  #finish(reason: EngineCloseReason): void {
    if (this.#state === 'closed') return
    this.#moveTo('closed')
    this.#stopHeartbeat()
    if (this.#closeTimer) clearTimeout(this.#closeTimer)
    this.#buffer = []
    this.#init.onClosed(this)
    this.#receiver?.onClose(reason)
    this.emit('close', reason)
  }

  static {
    // One small object per WebSocket transport, its methods shared, rather than a closure per method.
    class Handler implements WebSocketHandler {
      readonly #session: EngineSession
      constructor(session: EngineSession) {
        this.#session = session
      }
      onPacket(packet: Packet): void {
        this.#session.#onPacket(packet)
      }
      onFailure(error: EngineIOProtocolError): void {
        log('%s: %s', this.#session.id, error.message)
        this.#session.#end('parse error')
      }
      onClose(reason: 'transport close' | 'transport error'): void {
        this.#session.#end(reason)
      }
    }
    makeWebSocketHandler = (session) => new Handler(session)
  }
}

function asMessage(packet: Packet): string | Buffer {
  if (!isBinaryPacket(packet)) return packet.data
  const { data } = packet
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
}
