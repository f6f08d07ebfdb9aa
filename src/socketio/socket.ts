// One client in one namespace (Socket.IO protocol v5 §Exchange protocol): its events both ways with acks,
// its rooms, and its end, whichever side causes it.
//
//   connecting ──middleware passed: CONNECT {sid, pid?} sent──► connected ──any end──► disconnected
//        └──────── refused (CONNECT_ERROR), or the session ended ───────────────────────────┘
import { randomBytes } from 'node:crypto'
import { rangeError } from '../errors.js'
import type { IncomingMessage } from 'node:http'
import { debuglog } from 'node:util'
import type { EngineSession } from '../engineio/session.js'
import { AckRegistry, type ErrorFirstAckCallback } from './acks.js'
import { BroadcastOperator, checkTimeout } from './broadcast.js'
import { type EventArguments, type Packet, PacketType } from './codec/index.js'
import type { OutgoingPacket, SocketIOConnection } from './connection.js'
import { type DisconnectReason, recoverableReasons } from './disconnect-reason.js'
import { buildHandshake, type Handshake } from './handshake.js'
import type { Namespace } from './namespace.js'
import type { PreparedEvent } from './prepared-event.js'
import { SocketListeners } from './socket-listeners.js'
import { type EmitFlags, plain, SocketOutbox } from './socket-outbox.js'
import type { RestoredSession } from './recovery.js'
import type { Room } from './rooms.js'
import type { FlaggedEmitter, SocketControl, SocketHost, SocketInit, SocketState } from './socket-types.js'
import type {
  DefaultEventsMap,
  EmitWithAckParams,
  EmitWithAckResult,
  EventNames,
  EventParams,
  EventsMap,
} from './typed-events.js'

const log = debuglog('switchboard:sio')

const NEXT = {
  connecting: ['connected', 'disconnected'],
  connected: ['disconnected'],
  disconnected: [],
} as const satisfies Record<SocketState, readonly SocketState[]>

const reservedEvents: ReadonlySet<string> = new Set(['disconnecting', 'disconnect', 'error'])

// What the namespace does with a socket, kept off the public class: one small object per socket whose methods
// are shared, set by the class's static block (which alone may reach the socket's private members).
// biome-ignore lint/suspicious/noExplicitAny: the handle works for a socket of any event maps.
type AnySocket = Socket<any, any, any>
let makeControl: (socket: AnySocket) => SocketControl
let readControl: (socket: AnySocket) => SocketControl

/** The namespace's handle on a socket it made. @internal */
export function controlOf(socket: AnySocket): SocketControl {
  return readControl(socket)
}

/**
 * A client connected to a namespace. Events from the client reach `on` listeners, with an ack function last
 * when the client asked for one; a listener may also answer by returning a value or a promise of one.
 */
export class Socket<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  SocketData = unknown,
> extends SocketListeners<ListenEvents> {
  /** The socket's id, public: other clients may be told it. Kept across a recovered reconnection. */
  readonly id: string
  /** Whether this socket took over a recent session: same id, rooms, data, and the events missed replayed. */
  readonly recovered: boolean
  /** How the client arrived. */
  readonly handshake: Handshake
  /** The namespace the socket is in. */
  readonly nsp: Namespace<ListenEvents, EmitEvents, SocketData>
  /** Anything the application keeps with the socket; restored with it by recovery. */
  data: SocketData
  readonly #pid: string | undefined
  readonly #host: SocketHost<Socket<ListenEvents, EmitEvents, SocketData>>
  readonly #connection: SocketIOConnection
  readonly #acks = new AckRegistry()
  readonly #outbox: SocketOutbox
  #state: SocketState = 'connecting'
  readonly #restored: RestoredSession | null
  readonly #handle: SocketControl

  constructor(init: SocketInit<ListenEvents, EmitEvents, SocketData>) {
    super()
    const { host, connection, restored } = init
    this.nsp = init.nsp
    this.#host = host
    this.#connection = connection
    this.#restored = restored
    this.recovered = restored !== null
    this.id = restored?.id ?? newSocketId()
    this.#pid = restored?.pid ?? host.recovery?.newPid()
    this.data = (restored?.data ?? {}) as SocketData
    this.#outbox = new SocketOutbox(this.id, host, connection, this.#acks, restored?.emptyOffsetSeq ?? null)
    this.handshake = buildHandshake(connection.session.request, connection.remoteAddress, init.auth)
    this.#handle = makeControl(this)
  }

  /** The Engine.IO session the socket rides on (shared by the client's namespaces); `conn.close()` drops it. */
  get conn(): EngineSession {
    return this.#connection.session
  }

  /** The request that opened the Engine.IO session. */
  get request(): IncomingMessage {
    return this.#connection.session.request
  }

  /** Whether the socket passed its middleware and has not disconnected. */
  get connected(): boolean {
    return this.#state === 'connected'
  }

  /** Whether the socket has ended. */
  get disconnected(): boolean {
    return this.#state === 'disconnected'
  }

  /** The rooms the socket is in, its own id among them. */
  get rooms(): ReadonlySet<Room> {
    return this.#host.adapter.roomsOf(this.id)
  }

  // Emitting.

  /**
   * Sends an event. A function as the last argument asks the client for an ack and gets its arguments. Returns
   * false when the event was dropped (the socket is gone). Throws for a reserved name or arguments JSON cannot
   * carry (`RangeError`, `TypeError`).
   */
  emit<Event extends EventNames<EmitEvents>>(event: Event, ...args: EventParams<EmitEvents, Event>): boolean {
    return this.#outbox.emit(event, args, plain, this.#state)
  }

  /** Sends an event and resolves with the first argument of the client's ack; rejects if the socket ends first. */
  emitWithAck<Event extends EventNames<EmitEvents>>(
    event: Event,
    ...args: EmitWithAckParams<EmitEvents, Event>
  ): Promise<EmitWithAckResult<EmitEvents, Event>> {
    return this.#outbox.emitWithAck(event, args, plain, this.#state)
  }

  /**
   * Sends an event encoded once by `nsp.prepare` for many sockets, as `emit` without an ack would. With
   * connection state recovery on, it is stored for this socket like any `emit`.
   */
  emitPrepared(prepared: PreparedEvent): boolean {
    if (prepared.namespace !== this.nsp.name)
      throw rangeError(
        'sio-prepared-namespace',
        `an event prepared for ${prepared.namespace} sent on ${this.nsp.name}`,
      )
    if (this.#host.recovery !== null)
      return this.#outbox.emit(prepared.args[0], prepared.args.slice(1), plain, this.#state)
    return this.#outbox.send(prepared.parts, false, undefined, this.#state)
  }

  /** Sends `message` events, as `WebSocket.send` would. */
  send(...args: unknown[]): this {
    this.#outbox.emit('message', args, plain, this.#state)
    return this
  }

  /** Emits with a deadline for the ack, in ms: the callback gets an error first, `emitWithAck` rejects. */
  timeout(timeoutMs: number): FlaggedEmitter<EmitEvents> {
    checkTimeout(timeoutMs)
    return this.#flagged({ volatile: false, timeoutMs })
  }

  /** Emits only if the transport can take the event right now; otherwise it is dropped (never stored). */
  get volatile(): FlaggedEmitter<EmitEvents> {
    return this.#flagged({ volatile: true, timeoutMs: undefined })
  }

  /** Broadcasts to rooms, leaving this socket out. */
  to(
    room: Room | readonly Room[],
  ): BroadcastOperator<EmitEvents, Socket<ListenEvents, EmitEvents, SocketData>> {
    return this.#broadcast().to(room)
  }

  /** The same as `to`. */
  in(
    room: Room | readonly Room[],
  ): BroadcastOperator<EmitEvents, Socket<ListenEvents, EmitEvents, SocketData>> {
    return this.to(room)
  }

  /** Broadcasts to everyone but these rooms and this socket. */
  except(
    room: Room | readonly Room[],
  ): BroadcastOperator<EmitEvents, Socket<ListenEvents, EmitEvents, SocketData>> {
    return this.#broadcast().except(room)
  }

  /** Broadcasts to every other socket of the namespace. */
  get broadcast(): BroadcastOperator<EmitEvents, Socket<ListenEvents, EmitEvents, SocketData>> {
    return this.#broadcast()
  }

  // Rooms and the end.

  /** Joins rooms; a promise when the room registry stores the change elsewhere (as Socket.IO's adapters do). */
  join(rooms: Room | readonly Room[]): void | Promise<void> {
    if (this.#state === 'disconnected') return
    return this.#host.adapter.addAll(this.id, typeof rooms === 'string' ? [rooms] : rooms)
  }

  /** Leaves a room; a promise when the room registry stores the change elsewhere. */
  leave(room: Room): void | Promise<void> {
    // Gone already: its rooms went with it (a leave in a `disconnect` handler must not reach the registry).
    if (this.#state === 'disconnected') return
    return this.#host.adapter.del(this.id, room)
  }

  /**
   * Disconnects from this namespace (the client sees `io server disconnect` and does not reconnect); with
   * `close`, the whole Engine.IO session and every namespace on it.
   */
  disconnect(close = false): this {
    if (close) {
      this.#connection.disconnectAll()
      return this
    }
    if (this.#state !== 'connected') return this
    this.#connection.sendPacket({ type: PacketType.Disconnect, namespace: this.#host.name })
    this.#end('server namespace disconnect')
    return this
  }

  #broadcast(): BroadcastOperator<EmitEvents, Socket<ListenEvents, EmitEvents, SocketData>> {
    return new BroadcastOperator<EmitEvents, Socket<ListenEvents, EmitEvents, SocketData>>(this.#host).except(
      this.id,
    )
  }

  #flagged(flags: EmitFlags): FlaggedEmitter<EmitEvents> {
    return {
      emit: (event, ...args) => this.#outbox.emit(event, args, flags, this.#state),
      emitWithAck: (event, ...args) => this.#outbox.emitWithAck(event, args, flags, this.#state),
    }
  }

  // Receiving.

  #onPacket(packet: Packet): void {
    switch (packet.type) {
      case PacketType.Event:
        return this.#onEvent(packet.data, packet.id)
      case PacketType.Ack:
        return this.#acks.settle(packet.id, packet.data)
      case PacketType.Disconnect:
        return this.#end('client namespace disconnect')
      default:
        // The connection routes CONNECT and CONNECT_ERROR itself.
        return
    }
  }

  #onEvent(data: EventArguments, id: number | undefined): void {
    const [event, ...args] = data
    const ack = id === undefined ? undefined : this.#ackFunction(id)
    if (ack) args.push(ack)
    // Our own event names ("error" is the one a client may send) reach only the catch-all listeners.
    this.listenerMap.dispatch(this, event, args, ack, reservedEvents.has(event))
  }

  #ackFunction(id: number): (...reply: unknown[]) => void {
    let sent = false
    return (...reply: unknown[]) => {
      if (sent || this.#state !== 'connected') return
      sent = true
      this.#connection.sendPacket({ type: PacketType.Ack, namespace: this.#host.name, data: reply, id })
    }
  }

  #emitReserved(event: 'disconnecting' | 'disconnect', reason: DisconnectReason): void {
    this.listenerMap.emitOwn(this, event, [reason])
  }

  // Life.

  #moveTo(state: SocketState): void {
    const allowed: readonly SocketState[] = NEXT[this.#state]
    if (!allowed.includes(state)) throw new Error(`illegal move ${this.#state} -> ${state}`)
    log('%s %s: %s -> %s', this.#host.name, this.id, this.#state, state)
    this.#state = state
  }

  #open(): void {
    if (this.#state !== 'connecting') return
    this.#moveTo('connected')
    this.join([this.id, ...(this.#restored?.rooms ?? [])])
    const early = this.#outbox.connect(this.#pid, this.#restored?.missed ?? [])
    for (const { encoded, seq } of early) this.#outbox.send(encoded, false, seq, this.#state)
  }

  #refuse(error: { message: string; data?: unknown }): void {
    if (this.#state !== 'connecting') return
    this.#outbox.refuse(error)
    this.#connection.detach(this.#host.name, this.#handle)
    this.#host.adapter.delAll(this.id)
    this.#moveTo('disconnected')
  }

  #end(reason: DisconnectReason): void {
    if (this.#state === 'disconnected') return
    const wasConnected = this.#state === 'connected'
    this.#connection.detach(this.#host.name, this.#handle)
    if (!wasConnected) {
      this.#host.adapter.delAll(this.id)
      this.#outbox.dropEarly()
      return this.#moveTo('disconnected')
    }
    const { recovery } = this.#host
    if (recovery && this.#pid !== undefined && recoverableReasons.has(reason)) {
      recovery.persist({
        namespace: this.#host.name,
        id: this.id,
        pid: this.#pid,
        rooms: [...this.rooms],
        data: this.data,
        emptyOffsetSeq: this.#outbox.replayFrom ?? recovery.lastSeq,
      })
    }
    this.#emitReserved('disconnecting', reason)
    this.#acks.failAll()
    this.#host.adapter.delAll(this.id)
    this.#host.remove(this.id)
    this.#moveTo('disconnected')
    this.#emitReserved('disconnect', reason)
  }

  static {
    class Control implements SocketControl {
      readonly #socket: AnySocket
      constructor(socket: AnySocket) {
        this.#socket = socket
      }
      get connected(): boolean {
        return this.#socket.#state === 'connected'
      }
      get state(): SocketState {
        return this.#socket.#state
      }
      onPacket(packet: Packet): void {
        this.#socket.#onPacket(packet)
      }
      onClose(reason: DisconnectReason): void {
        this.#socket.#end(reason)
      }
      disconnect(): void {
        this.#socket.disconnect()
      }
      open(): void {
        this.#socket.#open()
      }
      refuse(error: { message: string; data?: unknown }): void {
        this.#socket.#refuse(error)
      }
      sendEncoded(encoded: OutgoingPacket, volatile: boolean, seq: number | undefined): boolean {
        return this.#socket.#outbox.send(encoded, volatile, seq, this.#socket.#state)
      }
      emitForAck(args: EventArguments, timeoutMs: number | undefined, callback: ErrorFirstAckCallback): void {
        const socket = this.#socket
        socket.#outbox.emitEvent(args, { volatile: false, timeoutMs }, callback, true, socket.#state)
      }
    }
    makeControl = (socket) => new Control(socket)
    readControl = (socket) => socket.#handle
  }
}

// 20 URL-safe characters, not the Engine.IO id: that one lets whoever knows it poll the session.
function newSocketId(): string {
  return randomBytes(15).toString('base64url')
}
