// One Engine.IO session as Socket.IO sees it (Socket.IO protocol v5 §Exchange protocol): its messages become
// packets, each routed to the socket of the namespace it names; packets go out with their attachments after
// them. Several namespaces share one session, as socket.io-client's Manager multiplexes them.
import { debuglog } from 'node:util'
import type { EngineSession } from '../engineio/session.js'
import type { EngineCloseReason, SessionReceiver } from '../engineio/session-types.js'
import type { SharedMessage } from '../engineio/shared-message.js'
import { type EncodedPacket, encodePacket, type Packet, PacketDecoder, PacketType } from './codec/index.js'
import { SocketIOProtocolError } from './codec/packet.js'
import type { DisconnectReason } from './disconnect-reason.js'

/** An encoded packet, or one shared by a broadcast's sockets and framed for WebSocket once. */
export type OutgoingPacket = EncodedPacket | readonly SharedMessage[]

const log = debuglog('switchboard:sio')

/** What a connection needs of a namespace socket. */
export interface ConnectionSocket {
  /** An EVENT, ACK or DISCONNECT packet for its namespace. */
  onPacket(packet: Packet): void
  /** The connection is gone, or is closing with this reason; the socket must end without sending. */
  onClose(reason: DisconnectReason): void
  /** Sends its DISCONNECT and ends with `server namespace disconnect`. */
  disconnect(): void
  /** Whether it passed its middleware and answered CONNECT. */
  readonly connected: boolean
}

/** Where a connection hands its CONNECT packets. */
export interface ConnectionHost {
  /** Joins `namespace`, or answers CONNECT_ERROR; calls `attach` when a socket exists for it. */
  connect(connection: SocketIOConnection, namespace: string, auth: Record<string, unknown>): void
}

/** Settings of a connection. */
export interface ConnectionSettings {
  connectTimeoutMs: number
  maxAttachments: number
  maxDepth: number
}

/** The Socket.IO side of one Engine.IO session. */
export class SocketIOConnection implements SessionReceiver {
  /** The Engine.IO session underneath (`socket.conn` in Socket.IO). */
  readonly session: EngineSession
  /**
   * The peer's address, read when the session opens: over polling, the opening request's socket may be gone
   * (and its address with it) by the time the client joins a namespace.
   */
  readonly remoteAddress: string
  readonly #host: ConnectionHost
  readonly #decoder: PacketDecoder
  readonly #sockets = new Map<string, ConnectionSocket>()
  // Namespaces whose CONNECT waits for a dynamic namespace's verdict; a second CONNECT meanwhile is ignored.
  #deciding: Set<string> | null = null
  // Namespaces this session left: a packet for one of them may have crossed our DISCONNECT, and is ignored.
  #left: Set<string> | null = null
  #closeReason: DisconnectReason | null = null
  #connectTimer: NodeJS.Timeout | undefined

  constructor(session: EngineSession, host: ConnectionHost, settings: ConnectionSettings) {
    this.session = session
    this.remoteAddress = session.remoteAddress ?? ''
    this.#host = host
    this.#decoder = new PacketDecoder({
      maxAttachments: settings.maxAttachments,
      maxDepth: settings.maxDepth,
    })
    session.setReceiver(this)
    // A session that joins no namespace in time is closed, as Socket.IO's connectTimeout does.
    this.#connectTimer = setTimeout(() => {
      if (this.#sockets.size === 0) this.close('forced server close')
    }, settings.connectTimeoutMs).unref()
  }

  /** Whether a packet sent now goes out at once rather than waiting for the transport (`volatile`). */
  get writable(): boolean {
    return this.#closeReason === null && this.session.writable
  }

  /** Whether the connection is closed or closing. */
  get closed(): boolean {
    return this.#closeReason !== null
  }

  /** Sends an encoded packet: its text, then each attachment. False when the connection is closing. */
  send(encoded: OutgoingPacket): boolean {
    if (this.#closeReason !== null) return false
    for (const part of encoded) if (!this.session.send(part)) return false
    return true
  }

  /** Writes what was sent in this turn now (see `EngineSession.flush`). */
  flush(): void {
    this.session.flush()
  }

  /** Encodes and sends a packet. */
  sendPacket(packet: Packet): boolean {
    return this.send(encodePacket(packet))
  }

  /** Registers the socket for a namespace, from the moment it exists (its middleware may still be running). */
  attach(namespace: string, socket: ConnectionSocket): void {
    this.#decided(namespace)
    this.#sockets.set(namespace, socket)
    this.#left?.delete(namespace)
    clearTimeout(this.#connectTimer)
    // Dropped, not only cleared: an idle connection should not keep a spent timer.
    this.#connectTimer = undefined
  }

  /** Answers a CONNECT with CONNECT_ERROR `{ message }`, when no namespace has that name. */
  refuseNamespace(namespace: string, message: string): void {
    this.#decided(namespace)
    this.sendPacket({ type: PacketType.ConnectError, namespace, data: { message } })
  }

  /** Forgets the socket of a namespace after it ended. */
  detach(namespace: string, socket: ConnectionSocket): void {
    if (this.#sockets.get(namespace) !== socket) return
    this.#sockets.delete(namespace)
    this.#left ??= new Set()
    this.#left.add(namespace)
  }

  /** Disconnects every namespace with a DISCONNECT packet each, then closes the session. */
  disconnectAll(): void {
    for (const socket of [...this.#sockets.values()]) socket.disconnect()
    this.close('server namespace disconnect')
  }

  /** Ends every socket with `reason` and closes the session; what was sent before still reaches the client. */
  close(reason: DisconnectReason): void {
    if (this.#closeReason !== null) return
    this.#closeReason = reason
    this.#endSockets(reason)
    this.session.close()
  }

  /** @internal A message of the session (`SessionReceiver`). */
  onMessage(data: string | Buffer): void {
    if (this.#closeReason !== null) return
    const packet = this.#decoder.push(data)
    if (packet === null) return
    if (packet instanceof SocketIOProtocolError) return this.#fail(packet.code, packet.message)
    this.#route(packet)
  }

  // Most sessions decide one namespace and no other: the set goes when empty rather than living on.
  #decided(namespace: string): void {
    this.#deciding?.delete(namespace)
    if (this.#deciding?.size === 0) this.#deciding = null
  }

  #route(packet: Packet): void {
    const { namespace } = packet
    switch (packet.type) {
      case PacketType.Connect:
        if (this.#sockets.has(namespace) || this.#deciding?.has(namespace)) {
          return log('%s: CONNECT again to %s ignored', this.session.id, namespace)
        }
        this.#deciding ??= new Set()
        this.#deciding.add(namespace)
        return this.#host.connect(this, namespace, packet.data ?? {})
      case PacketType.ConnectError:
        return this.#fail('sio-unexpected-packet', 'CONNECT_ERROR comes from servers only')
      default: {
        const socket = this.#sockets.get(namespace)
        if (socket?.connected) return socket.onPacket(packet)
        if (packet.type === PacketType.Disconnect) {
          // Leaving while the middleware runs: the socket ends unseen; leaving twice is harmless.
          return socket?.onClose('client namespace disconnect')
        }
        if (this.#left?.has(namespace))
          return log('%s: late packet for %s ignored', this.session.id, namespace)
        // Socket.IO closes the session on a packet for a namespace it has not joined.
        return this.#fail(
          'sio-namespace-not-joined',
          `a packet for ${namespace}, which this session has not joined`,
        )
      }
    }
  }

  // §Packet encoding: a packet the protocol forbids closes the session, and every socket on it.
  #fail(code: string, detail: string): void {
    log('%s: %s (%s), closing', this.session.id, code, detail)
    this.close('parse error')
  }

  /** @internal The session ended (`SessionReceiver`). */
  onClose(reason: EngineCloseReason): void {
    clearTimeout(this.#connectTimer)
    if (this.#closeReason !== null) return
    this.#closeReason = reason
    this.#endSockets(reason)
  }

  #endSockets(reason: DisconnectReason): void {
    const sockets = [...this.#sockets.values()]
    this.#sockets.clear()
    for (const socket of sockets) socket.onClose(reason)
  }
}
