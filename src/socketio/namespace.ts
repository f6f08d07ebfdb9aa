// A namespace (Socket.IO protocol v5 §Connection to a namespace): admits sockets through its middleware,
// answers CONNECT or CONNECT_ERROR, keeps its sockets and rooms, and broadcasts an event encoded once.
import { EventEmitter } from 'node:events'
import { debuglog } from 'node:util'
import type { ErrorFirstAckCallback } from './acks.js'
import {
  type BroadcastAckParams,
  type BroadcastAckResult,
  type BroadcastEmitParams,
  type BroadcastOptions,
  BroadcastOperator,
} from './broadcast.js'
import { type EventArguments, encodePacket, PacketType } from './codec/index.js'
import type { SocketIOConnection } from './connection.js'
import { type PreparedEvent, prepareEvent } from './prepared-event.js'
import type { RecoveryStore } from './recovery.js'
import type { Room, RoomAdapter } from './rooms.js'
import { controlOf, Socket } from './socket.js'
import type { SocketControl, SocketHost } from './socket-types.js'
import type { DefaultEventsMap, EventNames, EventsMap } from './typed-events.js'

const log = debuglog('switchboard:sio')

/** Why a middleware refused a socket: the client's `connect_error` gets this `message` and `data`. */
export interface ConnectionRefusal {
  message: string
  data?: unknown
}

/**
 * Runs before a socket joins its namespace. It admits the socket by returning nothing (or a promise of
 * nothing) and refuses it by throwing, rejecting, or returning an `Error` or `{ message, data }`.
 *
 * Deviation: Socket.IO's middleware takes a `next(err?)` callback; ours returns a value or a promise, as every
 * hook of switchboard does.
 */
export type Middleware<ListenEvents extends EventsMap, EmitEvents extends EventsMap, SocketData> = (
  socket: Socket<ListenEvents, EmitEvents, SocketData>,
  // biome-ignore lint/suspicious/noConfusingVoidType: `async (socket) => { … }` returns Promise<void>, which must fit
) => void | ConnectionRefusal | Promise<void | ConnectionRefusal>

/** Events of a namespace. */
export interface NamespaceEvents<ListenEvents extends EventsMap, EmitEvents extends EventsMap, SocketData> {
  /** A socket passed the middleware and got its CONNECT answer. */
  connection: [socket: Socket<ListenEvents, EmitEvents, SocketData>]
}

/** What a namespace needs of its server. */
export interface NamespaceInit<ListenEvents extends EventsMap, EmitEvents extends EventsMap, SocketData> {
  name: string
  adapter: RoomAdapter
  recovery: RecoveryStore | null
  skipMiddlewaresOnRecovery: boolean
  /** A dynamic namespace's parent: its middleware runs first, and it hears of each connection. */
  parent?: {
    readonly middlewares: readonly Middleware<ListenEvents, EmitEvents, SocketData>[]
    onConnection(socket: Socket<ListenEvents, EmitEvents, SocketData>): void
  }
  /** Called when the last socket left (or a refused one was the only one). */
  onEmpty?: () => void
}

// The server's handle on a namespace; kept off the public class.
const connectors = new WeakMap<
  object,
  (connection: SocketIOConnection, auth: Record<string, unknown>) => void
>()

/** Connects a client to a namespace: runs its middleware and answers CONNECT or CONNECT_ERROR. @internal */
export function connectToNamespace(
  namespace: object,
  connection: SocketIOConnection,
  auth: Record<string, unknown>,
): void {
  connectors.get(namespace)?.(connection, auth)
}

/** A namespace: its sockets, middleware, rooms and broadcasts. */
export class Namespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  SocketData = unknown,
> {
  /** The name, starting with `/`. */
  readonly name: string
  /** Who is in which room. */
  readonly adapter: RoomAdapter
  readonly #init: NamespaceInit<ListenEvents, EmitEvents, SocketData>
  readonly #sockets = new Map<string, Socket<ListenEvents, EmitEvents, SocketData>>()
  readonly #controls = new Map<string, SocketControl>()
  readonly #middlewares: Middleware<ListenEvents, EmitEvents, SocketData>[] = []
  readonly #host: SocketHost<Socket<ListenEvents, EmitEvents, SocketData>>
  // Not the class's own: `emit` sends to clients here, as in Socket.IO.
  readonly #events = new EventEmitter<NamespaceEvents<ListenEvents, EmitEvents, SocketData>>()
  // Sockets whose middleware runs: the namespace is not empty while there are some.
  #admitting = 0

  constructor(init: NamespaceInit<ListenEvents, EmitEvents, SocketData>) {
    this.name = init.name
    this.adapter = init.adapter
    this.#init = init
    this.#host = this.#makeHost()
    connectors.set(this, (connection, auth) => this.#connect(connection, auth))
  }

  /** The connected sockets by id. */
  get sockets(): ReadonlyMap<string, Socket<ListenEvents, EmitEvents, SocketData>> {
    return this.#sockets
  }

  /** Listens for sockets that joined. */
  on(event: 'connection', listener: (socket: Socket<ListenEvents, EmitEvents, SocketData>) => void): this {
    this.#events.on(event, listener)
    return this
  }

  /** Listens for the next socket that joins. */
  once(event: 'connection', listener: (socket: Socket<ListenEvents, EmitEvents, SocketData>) => void): this {
    this.#events.once(event, listener)
    return this
  }

  /** Stops listening. */
  off(event: 'connection', listener: (socket: Socket<ListenEvents, EmitEvents, SocketData>) => void): this {
    this.#events.off(event, listener)
    return this
  }

  /** Adds a middleware; they run in the order added, each after the previous one admitted the socket. */
  use(middleware: Middleware<ListenEvents, EmitEvents, SocketData>): this {
    this.#middlewares.push(middleware)
    return this
  }

  /** Targets the sockets in these rooms. */
  to(
    room: Room | readonly Room[],
  ): BroadcastOperator<EmitEvents, Socket<ListenEvents, EmitEvents, SocketData>> {
    return this.#operator().to(room)
  }

  /** The same as `to`. */
  in(
    room: Room | readonly Room[],
  ): BroadcastOperator<EmitEvents, Socket<ListenEvents, EmitEvents, SocketData>> {
    return this.#operator().to(room)
  }

  /** Leaves out the sockets in these rooms. */
  except(
    room: Room | readonly Room[],
  ): BroadcastOperator<EmitEvents, Socket<ListenEvents, EmitEvents, SocketData>> {
    return this.#operator().except(room)
  }

  /** Drops the event for sockets whose transport cannot take it now. */
  get volatile(): BroadcastOperator<EmitEvents, Socket<ListenEvents, EmitEvents, SocketData>> {
    return this.#operator().volatile
  }

  /** Bounds the wait for acks of a broadcast, in ms. */
  timeout(timeoutMs: number): BroadcastOperator<EmitEvents, Socket<ListenEvents, EmitEvents, SocketData>> {
    return this.#operator().timeout(timeoutMs)
  }

  /** Encodes an event once for `socket.emitPrepared` on any number of this namespace's sockets. */
  prepare<Event extends EventNames<EmitEvents>>(
    event: Event,
    ...args: BroadcastEmitParams<EmitEvents, Event>
  ): PreparedEvent {
    return prepareEvent(this.name, [event, ...args])
  }

  /** Sends an event to every socket of the namespace. */
  emit<Event extends EventNames<EmitEvents>>(
    event: Event,
    ...args: BroadcastEmitParams<EmitEvents, Event>
  ): true {
    return this.#operator().emit(event, ...(args as never))
  }

  /** Sends an event to every socket and resolves with their replies. */
  emitWithAck<Event extends EventNames<EmitEvents>>(
    event: Event,
    ...args: BroadcastAckParams<EmitEvents, Event>
  ): Promise<BroadcastAckResult<EmitEvents, Event>> {
    return this.#operator().emitWithAck(event, ...(args as never))
  }

  /** The connected sockets (a promise, as a cluster would need one). */
  fetchSockets(): Promise<Socket<ListenEvents, EmitEvents, SocketData>[]> {
    return this.#operator().fetchSockets()
  }

  /** Makes every socket join rooms. */
  socketsJoin(room: Room | readonly Room[]): void {
    this.#operator().socketsJoin(room)
  }

  /** Makes every socket leave rooms. */
  socketsLeave(room: Room | readonly Room[]): void {
    this.#operator().socketsLeave(room)
  }

  /** Disconnects every socket; with `close`, their Engine.IO sessions too. */
  disconnectSockets(close = false): void {
    this.#operator().disconnectSockets(close)
  }

  #operator(): BroadcastOperator<EmitEvents, Socket<ListenEvents, EmitEvents, SocketData>> {
    return new BroadcastOperator(this.#host)
  }

  // Connecting.

  #connect(connection: SocketIOConnection, auth: Record<string, unknown>): void {
    const { recovery, parent } = this.#init
    const restored = recovery ? recovery.restore(this.name, auth.pid, auth.offset) : null
    const socket = new Socket<ListenEvents, EmitEvents, SocketData>({
      nsp: this,
      host: this.#host,
      connection,
      auth,
      restored,
    })
    const control = controlOf(socket)
    connection.attach(this.name, control)
    const skip = restored !== null && this.#init.skipMiddlewaresOnRecovery
    const middlewares = skip ? [] : [...(parent?.middlewares ?? []), ...this.#middlewares]
    this.#admitting++
    runMiddlewares(middlewares, socket, 0, (refusal) => {
      this.#admitting--
      if (refusal) {
        log('%s: %s refused: %s', this.name, socket.id, refusal.message)
        control.refuse(refusal)
        return this.#checkEmpty()
      }
      this.#admit(socket, control)
    })
  }

  #admit(socket: Socket<ListenEvents, EmitEvents, SocketData>, control: SocketControl): void {
    // The session may have ended while the middleware ran.
    if (control.state !== 'connecting') return this.#checkEmpty()
    this.#sockets.set(socket.id, socket)
    this.#controls.set(socket.id, control)
    control.open()
    announce(this.#events.rawListeners('connection'), socket)
    this.#init.parent?.onConnection(socket)
  }

  #checkEmpty(): void {
    if (this.#sockets.size === 0 && this.#admitting === 0) this.#init.onEmpty?.()
  }

  // What sockets and operators use.

  #makeHost(): SocketHost<Socket<ListenEvents, EmitEvents, SocketData>> {
    return {
      name: this.name,
      adapter: this.adapter,
      recovery: this.#init.recovery,
      remove: (id) => {
        this.#sockets.delete(id)
        this.#controls.delete(id)
        this.#checkEmpty()
      },
      broadcast: (args, options) => this.#broadcast(args, options),
      broadcastWithAck: (args, options, timeoutMs, done) =>
        this.#broadcastWithAck(args, options, timeoutMs, done),
      matching: (options) => this.#matching(options),
    }
  }

  #broadcast(args: EventArguments, options: BroadcastOptions): void {
    const { recovery } = this.#init
    const stored = recovery !== null && !options.volatile
    const data: EventArguments = stored ? [...args, recovery.nextOffset] : args
    // Encoded once for every socket; this also checks the arguments before anything is stored.
    const { parts } = prepareEvent(this.name, data)
    const seq = stored ? recovery.store(this.name, options.rooms, options.except, data) : undefined
    for (const id of this.adapter.socketsIn(options.rooms, options.except)) {
      this.#controls.get(id)?.sendEncoded(parts, options.volatile, seq)
    }
  }

  #broadcastWithAck(
    args: EventArguments,
    options: BroadcastOptions,
    timeoutMs: number | undefined,
    done: (error: Error | null, replies: unknown[]) => void,
  ): void {
    const controls = this.#matchingIds(options).map((id) => this.#controls.get(id)!)
    if (controls.length === 0) return queueMicrotask(() => done(null, []))
    // Each socket gets its own ack id, so its own encoding; this one only checks the arguments before any is sent.
    encodePacket({ type: PacketType.Event, namespace: this.name, data: args })
    let pending = controls.length
    let failure: Error | null = null
    const replies: unknown[] = []
    const settle: ErrorFirstAckCallback = (error, reply) => {
      if (error) failure ??= error
      else replies.push(reply)
      if (--pending === 0) done(failure, replies)
    }
    for (const control of controls) control.emitForAck(args, timeoutMs, settle)
  }

  #matching(options: BroadcastOptions): Socket<ListenEvents, EmitEvents, SocketData>[] {
    return this.#matchingIds(options).map((id) => this.#sockets.get(id)!)
  }

  #matchingIds(options: BroadcastOptions): string[] {
    return [...this.adapter.socketsIn(options.rooms, options.except)].filter((id) => this.#sockets.has(id))
  }
}

// Runs the middleware in order without a promise until one returns one, so a namespace whose middleware is
// synchronous admits a socket within the packet's own turn.
function runMiddlewares<ListenEvents extends EventsMap, EmitEvents extends EventsMap, SocketData>(
  middlewares: readonly Middleware<ListenEvents, EmitEvents, SocketData>[],
  socket: Socket<ListenEvents, EmitEvents, SocketData>,
  from: number,
  done: (refusal: ConnectionRefusal | null) => void,
): void {
  for (let index = from; index < middlewares.length; index++) {
    let result: unknown
    try {
      result = middlewares[index](socket)
    } catch (error) {
      return done(asRefusal(error))
    }
    if (isThenable(result)) {
      result.then(
        (value) => {
          const refusal = refusalIn(value)
          if (refusal) done(refusal)
          else runMiddlewares(middlewares, socket, index + 1, done)
        },
        (error: unknown) => done(asRefusal(error)),
      )
      return
    }
    const refusal = refusalIn(result)
    if (refusal) return done(refusal)
  }
  done(null)
}

/**
 * Calls each `connection` listener, so that one that throws neither keeps the others from the socket nor takes
 * the server down: its error becomes a process warning. @internal
 */
export function announce<Target>(listeners: readonly ((socket: Target) => void)[], socket: Target): void {
  for (const listener of listeners) {
    try {
      listener(socket)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      process.emitWarning(`a Socket.IO connection listener failed: ${message}`, {
        code: 'SWITCHBOARD_SIO_LISTENER',
      })
    }
  }
}

// A returned Error or `{ message }` refuses; anything else (an arrow's incidental value among them) admits.
function refusalIn(value: unknown): ConnectionRefusal | null {
  if (value instanceof Error) return asRefusal(value)
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { message?: unknown }).message === 'string'
  ) {
    return asRefusal(value)
  }
  return null
}

function asRefusal(error: unknown): ConnectionRefusal {
  if (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { message?: unknown }).message === 'string'
  ) {
    const { message, data } = error as { message: string; data?: unknown }
    return data === undefined ? { message } : { message, data }
  }
  return { message: typeof error === 'string' ? error : 'connection refused' }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}
