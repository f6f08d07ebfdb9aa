// One Engine.IO session (Engine.IO protocol v4 §Handshake, §Heartbeat, §Upgrade): the socket a `connection`
// event hands out, whichever transport carries it, with the server-driven heartbeat and the move to WebSocket.
//
//           probe answered (polling paused)
//   open ───────────────────────────────► upgrading
//    ▲  ◄───── probe failed or timed out ──┘  │
//    └───────── '5': WebSocket from now on ───┘
//    │
//    ├── close() while polling ──► closing ──► closed  (queued packets go first, the close packet in a later GET)
//    ├── close() while upgrading ────────────────────────────────► closed  (the probing WebSocket takes it)
//    └── anything else that ends it, from any state ────────────► closed
import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { debuglog } from 'node:util'
import { typeError } from '../errors.js'
import type { WebSocketConnection } from '../websocket/connection.js'
import { isBinaryPacket, openPacket, type Packet, PacketType } from './codec/packet.js'
import type { EngineIOProtocolError } from './codec/protocol-error.js'
import { Heartbeat, type HeartbeatOwner } from './heartbeat.js'
import type { ExtraHeaders } from './http-answer.js'
import type { TransportName } from './options.js'
import type { PollingFailure } from './polling.js'
import { type PollingOwner, PollingQueue } from './polling-queue.js'
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

const ping: Packet = { type: PacketType.Ping, data: '' }

// What the session's parts (its transports, polling queue and heartbeat) call: one object per session.
type Port = WebSocketHandler & PollingOwner & HeartbeatOwner
// Set by EngineSession's static block, the one place that may reach a session's private members.
let makePort: (session: EngineSession) => Port

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
  readonly #port: Port
  #transport: PollingQueue | WebSocketTransport
  #probe: UpgradeProbe | null = null
  readonly #heartbeat: Heartbeat
  #receiver: SessionReceiver | null = null

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
    this.#port = makePort(this)
    const { limits } = init
    this.#transport = connection
      ? new WebSocketTransport(connection, this.#port)
      : new PollingQueue(this.#port, limits)
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
    this.#heartbeat = new Heartbeat(limits, this.#port)
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
    transport.push(packet)
    return true
  }

  #sendShared(message: SharedMessage): boolean {
    const transport = this.#transport
    if (transport.name !== 'websocket' || this.#state !== 'open') return this.#sendPacket(message.packet)
    transport.sendShared(message)
    return true
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
        return this.#heartbeat.onPong()
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

  // Upgrading.

  #onProbe(): boolean {
    if (this.#state !== 'open' || this.#transport.name !== 'polling') return false
    this.#moveTo('upgrading')
    this.#transport.releasePoll()
    return true
  }

  #onUpgrade(connection: WebSocketConnection): boolean {
    this.#probe = null
    const polling = this.#transport
    if (this.#state !== 'upgrading' || polling.name !== 'polling') return false
    polling.releasePoll()
    const transport = new WebSocketTransport(connection, this.#port)
    this.#transport = transport
    this.#moveTo('open')
    // What was queued for polling goes first, in order, so no message is lost or overtaken.
    for (const packet of polling.take()) transport.send(packet)
    this.emit('upgrade', 'websocket')
    return true
  }

  #onProbeAbort(): void {
    this.#probe = null
    if (this.#state !== 'upgrading') return
    this.#moveTo('open')
    const transport = this.#transport
    if (transport.name === 'polling') transport.flushSoon()
  }

  // Closing.

  #end(reason: EngineCloseReason): void {
    if (this.#state === 'closed') return
    if (this.#state === 'closing') {
      if (reason !== 'forced close') this.#finish(reason)
      return
    }
    this.#heartbeat.stop()
    const probe = this.#probe
    this.#probe = null
    const transport = this.#transport
    if (transport.name === 'websocket') {
      probe?.cancel()
      transport.close(reason)
      return this.#finish(reason)
    }
    if (transport.close(reason, probe)) return this.#finish(reason)
    this.#moveTo('closing')
  }

  #finish(reason: EngineCloseReason): void {
    if (this.#state === 'closed') return
    this.#moveTo('closed')
    this.#heartbeat.stop()
    const transport = this.#transport
    if (transport.name === 'polling') transport.clear()
    this.#init.onClosed(this)
    this.#receiver?.onClose(reason)
    this.emit('close', reason)
  }

  static {
    // One small object per session, its methods shared, rather than a closure per callback.
    class SessionPort implements Port {
      readonly #session: EngineSession
      constructor(session: EngineSession) {
        this.#session = session
      }
      get state(): SessionState {
        return this.#session.#state
      }
      get ending(): boolean {
        return this.#session.#state === 'closing' || this.#session.#state === 'closed'
      }
      onPacket(packet: Packet): void {
        this.#session.#onPacket(packet)
      }
      onPackets(packets: readonly Packet[]): boolean {
        return this.#session.#onPackets(packets)
      }
      onFailure(error: EngineIOProtocolError): void {
        log('%s: %s', this.#session.id, error.message)
        this.#session.#end('parse error')
      }
      onClose(reason: 'transport close' | 'transport error'): void {
        this.#session.#end(reason)
      }
      onPollingFailure(reason: PollingFailure): void {
        // A POST of the old transport may still fail after an upgrade; it does not end the WebSocket.
        if (this.#session.#transport.name === 'polling') this.#session.#end(reason)
      }
      onClosingDone(): void {
        this.#session.#finish('forced close')
      }
      sendPing(): void {
        this.#session.#sendPacket(ping)
      }
      onPingTimeout(): void {
        this.#session.#end('ping timeout')
      }
    }
    makePort = (session) => new SessionPort(session)
  }
}

function asMessage(packet: Packet): string | Buffer {
  if (!isBinaryPacket(packet)) return packet.data
  const { data } = packet
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
}
