// The hub over Socket.IO at /socket.io/: each socket of the main namespace is a hub member, driven by the
// events `nick`, `join`, `leave`, `message` and `who` (each answered through its ack) and told of room traffic
// with `message`, `presence` and `direct` (docs/protocol.md, "Socket.IO events").
import type { Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import { Server as TlsServer } from 'node:tls'
import { debuglog } from 'node:util'
import type { DisconnectInfo } from '../hub/disconnect.js'
import type { Hub } from '../hub/hub.js'
import { HubError } from '../hub/hub-error.js'
import type { Delivery, HubEvent, Member, MessageData } from '../hub/member.js'
import type { Session } from '../hub/session.js'
import { LocalRooms } from '../socketio/rooms.js'
import { SocketIOServer } from '../socketio/server.js'
import type { PreparedEvent } from '../socketio/prepared-event.js'
import type { Socket } from '../socketio/socket.js'
import { type ConnectionGate, refusalMessage } from './connection-gate.js'
import { countRefused, type Listener, newCounters, type TransportCounters } from './listener.js'
import { newMemberId } from './member-id.js'
import { formatAddress } from './address.js'
import { LastEventCache } from './event-cache.js'
import { HubRooms } from './socketio-rooms.js'

const log = debuglog('switchboard:transport')

/** The path the transport serves. */
export const socketIOPath = '/socket.io/'

/** How the transport is attached. */
export interface SocketIOTransportOptions {
  /** The http or https server to serve on; attach after its own `request` listeners are added. */
  server: HttpServer | HttpsServer
  /** The connection limits shared with every other transport; absent means none. */
  gate?: ConnectionGate
}

/** The transport as a listener, and its Socket.IO server for code that embeds `serve` (see `HubRooms`). */
export interface SocketIOListener extends Listener {
  readonly io: SocketIOServer
}

/** What an ack carries. */
export type SocketIOAnswer = ({ ok: true } & Record<string, unknown>) | { ok: false; error: WireError }

/** A refusal as an ack carries it. */
export interface WireError {
  code: string
  status: number
  message: string
}

type Ack = (answer: SocketIOAnswer) => void

// Encoded (and framed for WebSocket) once per hub event for all Socket.IO members, not once per socket.
const prepared = new LastEventCache<PreparedEvent>()

/** The event and payload a hub event goes out as (docs/protocol.md, "Socket.IO events"). */
function eventArguments(event: HubEvent): [string, Record<string, unknown>] {
  if (event.type === 'message') {
    const { room, from, data, offset, ts } = event
    return ['message', { room, from, data, offset, ts }]
  }
  if (event.type === 'presence') {
    const { room, event: what, member } = event
    return ['presence', { room, event: what, member }]
  }
  const { from, to, data, ts } = event
  return ['direct', { from, to, data, ts }]
}

/** One socket as the hub sees it. */
class SocketIOMember implements Member {
  readonly id = newMemberId('sio')
  readonly transport = 'socketio'
  readonly remoteAddress: string
  readonly #socket: Socket
  readonly #counters: TransportCounters

  constructor(socket: Socket, counters: TransportCounters) {
    this.#socket = socket
    this.remoteAddress = socket.handshake.address
    this.#counters = counters
  }

  deliver(event: HubEvent): Delivery {
    if (!this.#socket.connected) return 'dropped'
    const socket = this.#socket
    socket.emitPrepared(prepared.get(event, (fresh) => socket.nsp.prepare(...eventArguments(fresh))))
    this.#counters.messagesOut++
    return 'delivered'
  }

  close(reason: DisconnectInfo): void {
    // The client learns why before its session ends; Socket.IO's own disconnect reason is generic.
    if (this.#socket.connected) this.#socket.emit('bye', { code: reason.code, reason: reason.reason })
    this.#socket.disconnect(true)
  }
}

// A room move of server code waiting for its socket to become a hub member.
interface EarlyMove {
  readonly room: string
  readonly what: RoomMove
  readonly settle: (inRoom: boolean | null) => void
}

type RoomMove = 'join' | 'leave'

// One socket: its member, its session once the hub has it, and its requests run one at a time, in order.
interface Peer {
  readonly socketId: string
  readonly member: SocketIOMember
  session: Session | null
  queue: Promise<unknown>
}

/** Serves Socket.IO on `options.server` at `/socket.io/` and returns its listener. */
export function attachSocketIO(hub: Hub, options: SocketIOTransportOptions): SocketIOListener {
  return new SocketIOTransport(hub, options)
}

class SocketIOTransport implements SocketIOListener {
  readonly counters: TransportCounters = newCounters()
  readonly #hub: Hub
  readonly #http: HttpServer | HttpsServer
  readonly io: SocketIOServer
  readonly #gate: ConnectionGate | undefined
  readonly #peers = new Map<string, Peer>()
  readonly #rooms = new HubRooms({
    join: (id, room) => this.#move(id, room, 'join'),
    leave: (id, room) => this.#move(id, room, 'leave'),
    isMember: (id) => this.#peers.has(id),
    forget: (id) => this.#dropEarly(id),
  })
  // Server code's moves from before a socket is a hub member — `socket.join` in the namespace's middleware, a
  // recovered session's rooms — carried out, in order, once it is one.
  readonly #early = new Map<string, EarlyMove[]>()
  readonly #detaching = new Set<Promise<void>>()

  constructor(hub: Hub, options: SocketIOTransportOptions) {
    this.#hub = hub
    this.#http = options.server
    this.#gate = options.gate
    this.io = new SocketIOServer(options.server, {
      path: socketIOPath,
      // Only the main namespace's sockets are hub members; other namespaces keep Socket.IO's own rooms.
      adapter: (namespace) => (namespace === '/' ? this.#rooms : new LocalRooms()),
    })
    this.io.on('connection', (socket) => this.#onSocket(socket))
  }

  get url(): string {
    const scheme = this.#http instanceof TlsServer ? 'https' : 'http'
    return `${formatAddress(scheme, this.#http.address())}${socketIOPath}`
  }

  get connections(): number {
    return this.#peers.size
  }

  async close(reason: DisconnectInfo): Promise<void> {
    for (const peer of this.#peers.values()) peer.member.close(reason)
    await this.io.close()
    await Promise.all(this.#detaching)
  }

  #onSocket(socket: Socket): void {
    const address = socket.handshake.address
    const verdict = this.#gate?.admit(address) ?? 'ok'
    if (verdict !== 'ok') {
      this.#dropEarly(socket.id)
      countRefused(this.counters, verdict)
      socket.emit('bye', { code: verdict, reason: refusalMessage(verdict, address) })
      socket.disconnect(true)
      return
    }
    const member = new SocketIOMember(socket, this.counters)
    const peer: Peer = { socketId: socket.id, member, session: null, queue: Promise.resolve() }
    this.#peers.set(socket.id, peer)
    // The client joins rooms itself, with `join`, so its ack carries the room's history.
    peer.queue = this.#hub.connect(member, { rooms: [] }).then(
      (session) => this.#onConnected(socket, peer, session),
      (error: unknown) => this.#onFailure(socket, error),
    )
    const early = this.#early.get(socket.id)
    this.#early.delete(socket.id)
    for (const { room, what, settle } of early ?? []) this.#move(socket.id, room, what).then(settle)
    for (const event of ['nick', 'join', 'leave', 'message', 'who'] as const) {
      socket.on(event, (...args: unknown[]) => this.#onEvent(peer, event, args))
    }
    socket.once('disconnect', () => {
      this.#peers.delete(socket.id)
      this.#gate?.release(address)
      // A session still being made is detached by #onConnected when it arrives.
      if (peer.session) this.#track(peer.session.detach())
    })
  }

  #onConnected(socket: Socket, peer: Peer, session: Session | HubError): void {
    if (session instanceof HubError) {
      countRefused(this.counters, session.code)
      socket.emit('bye', { code: session.code, reason: session.message })
      socket.disconnect(true)
      return
    }
    if (!socket.connected) {
      this.#track(session.detach())
      return
    }
    peer.session = session
  }

  #onEvent(peer: Peer, event: string, args: unknown[]): void {
    this.counters.messagesIn++
    const last = args.at(-1)
    const ack: Ack = typeof last === 'function' ? (last as Ack) : () => {}
    if (typeof last === 'function') args.pop()
    // In order: a join is done before the publish that follows it.
    peer.queue = peer.queue.then(async () => {
      const session = peer.session
      if (session === null) return
      let answer: SocketIOAnswer
      try {
        answer = await this.#run(peer, session, event, args)
      } catch (error) {
        log('socket.io request %s of %s failed: %s', event, peer.member.id, error)
        answer = { ok: false, error: { code: 'internal', status: 500, message: 'internal error' } }
      }
      if (!answer.ok) countRefused(this.counters, answer.error.code)
      ack(answer)
    })
  }

  async #run(peer: Peer, session: Session, event: string, args: unknown[]): Promise<SocketIOAnswer> {
    const [first, second] = args
    if (typeof first !== 'string') return refused(`${event} takes a string first`)
    switch (event) {
      case 'nick': {
        const claim = await session.setNick(first, typeof second === 'string' ? second : undefined)
        return claim instanceof HubError ? answerOf(claim) : { ok: true, nick: claim.nick, key: claim.key }
      }
      case 'join': {
        const joined = await session.join(first)
        if (joined instanceof HubError) return answerOf(joined)
        if (this.#peers.has(peer.socketId)) this.#rooms.joined(peer.socketId, joined.room)
        const { history } = joined
        return {
          ok: true,
          room: joined.room,
          members: joined.members,
          history: { ...history, messages: history.messages.map((message) => ({ ...message })) },
        }
      }
      case 'leave': {
        const left = await session.leave(first)
        if (left instanceof HubError) return answerOf(left)
        this.#rooms.left(peer.socketId, first)
        return { ok: true, room: first }
      }
      case 'message': {
        const data = messageData(second)
        if (data === null) return refused('message takes (room, data) with data a string or bytes')
        const message = await session.publish(first, data)
        return message instanceof HubError
          ? answerOf(message)
          : { ok: true, room: message.room, offset: message.offset, epoch: message.epoch, ts: message.ts }
      }
      default: {
        const members = await session.who(first)
        return members instanceof HubError ? answerOf(members) : { ok: true, room: first, members }
      }
    }
  }

  // A room move asked for by server code (`socket.join`, `socket.leave`), queued behind the socket's requests.
  #move(id: string, room: string, what: RoomMove): Promise<boolean | null> {
    const peer = this.#peers.get(id)
    if (peer === undefined) {
      return new Promise((settle) => {
        const moves = this.#early.get(id) ?? []
        moves.push({ room, what, settle })
        this.#early.set(id, moves)
      })
    }
    const moved = peer.queue.then(async () => {
      const session = peer.session
      if (session === null) return null
      const result = await (what === 'join' ? session.join(room) : session.leave(room))
      if (result instanceof HubError)
        log('%s %s of %s refused: %s', what, room, peer.member.id, result.message)
      return session.rooms.has(room)
    })
    const settled = moved.catch((error: unknown) => {
      log('%s %s of %s failed: %s', what, room, peer.member.id, error)
      return peer.session?.rooms.has(room) ?? null
    })
    peer.queue = settled
    return settled
  }

  // The socket will never be a hub member (refused, or gone before it connected): its early moves did nothing.
  #dropEarly(id: string): void {
    const early = this.#early.get(id)
    this.#early.delete(id)
    for (const { settle } of early ?? []) settle(null)
  }

  // A store that throws (a disk failure): the socket is cut rather than left without a session.
  #onFailure(socket: Socket, error: unknown): void {
    log('socket.io connection failed: %s', error)
    socket.disconnect(true)
  }

  #track(detaching: Promise<void>): void {
    const tracked = detaching
      .catch((error: unknown) => log('detach failed: %s', error))
      .finally(() => this.#detaching.delete(tracked))
    this.#detaching.add(tracked)
  }
}

// Text stays text; bytes arrive as a Buffer (a Uint8Array), and are copied so history keeps no packet buffer.
function messageData(value: unknown): MessageData | null {
  if (typeof value === 'string') return value
  if (value instanceof Uint8Array) return new Uint8Array(value)
  return null
}

function answerOf(error: HubError): SocketIOAnswer {
  return { ok: false, error: { code: error.code, status: error.status, message: error.message } }
}

function refused(message: string): SocketIOAnswer {
  return { ok: false, error: { code: 'bad-request', status: 400, message } }
}
