// Dynamic namespaces: `io.of(/^\/room-\d+$/)` or `io.of((name, auth) => …)` admits any namespace whose name
// matches, made on the first CONNECT to it. The parent's middleware runs before each child's own, its
// `connection` listeners hear of every child's sockets, and its broadcasts reach every child.
import { EventEmitter } from 'node:events'
import {
  type BroadcastAckParams,
  type BroadcastAckResult,
  type BroadcastEmitParams,
  type BroadcastHost,
  type BroadcastOptions,
  BroadcastOperator,
} from './broadcast.js'
import type { EventArguments } from './codec/index.js'
import { announce, type Middleware, type Namespace } from './namespace.js'
import type { Room } from './rooms.js'
import type { Socket } from './socket.js'
import type { DefaultEventsMap, EventNames, EventsMap } from './typed-events.js'

/** Decides whether a namespace name belongs to a dynamic namespace; may look at the client's auth. */
export type NamespaceMatcher = (name: string, auth: Record<string, unknown>) => boolean | Promise<boolean>

/** What the server keeps of a parent to make and drop its children. @internal */
export interface ParentLink<ListenEvents extends EventsMap, EmitEvents extends EventsMap, SocketData> {
  readonly matches: NamespaceMatcher
  readonly middlewares: readonly Middleware<ListenEvents, EmitEvents, SocketData>[]
  readonly children: Set<Namespace<ListenEvents, EmitEvents, SocketData>>
  onConnection(socket: Socket<ListenEvents, EmitEvents, SocketData>): void
}

const links = new WeakMap<object, ParentLink<EventsMap, EventsMap, unknown>>()

/** The server's handle on a parent namespace. @internal */
export function linkOf<ListenEvents extends EventsMap, EmitEvents extends EventsMap, SocketData>(
  parent: ParentNamespace<ListenEvents, EmitEvents, SocketData>,
): ParentLink<ListenEvents, EmitEvents, SocketData> {
  return links.get(parent) as unknown as ParentLink<ListenEvents, EmitEvents, SocketData>
}

type ChildSocket<L extends EventsMap, E extends EventsMap, D> = Socket<L, E, D>

/** A pattern of namespaces, each made when a client first connects to it. */
export class ParentNamespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  SocketData = unknown,
> {
  readonly #middlewares: Middleware<ListenEvents, EmitEvents, SocketData>[] = []
  readonly #children = new Set<Namespace<ListenEvents, EmitEvents, SocketData>>()
  readonly #events = new EventEmitter<{
    connection: [socket: ChildSocket<ListenEvents, EmitEvents, SocketData>]
  }>()
  readonly #host: BroadcastHost<ChildSocket<ListenEvents, EmitEvents, SocketData>>

  constructor(pattern: RegExp | NamespaceMatcher) {
    const matches: NamespaceMatcher =
      typeof pattern === 'function'
        ? pattern
        : (name) => {
            // A global or sticky pattern keeps state between tests; start each from the beginning.
            pattern.lastIndex = 0
            return pattern.test(name)
          }
    const link: ParentLink<ListenEvents, EmitEvents, SocketData> = {
      matches,
      middlewares: this.#middlewares,
      children: this.#children,
      onConnection: (socket) => announce(this.#events.rawListeners('connection'), socket),
    }
    links.set(this, link as unknown as ParentLink<EventsMap, EventsMap, unknown>)
    this.#host = this.#makeHost()
  }

  /** The namespaces made so far that still have sockets. */
  get children(): ReadonlySet<Namespace<ListenEvents, EmitEvents, SocketData>> {
    return this.#children
  }

  /** Adds a middleware that runs for every child, before the child's own. */
  use(middleware: Middleware<ListenEvents, EmitEvents, SocketData>): this {
    this.#middlewares.push(middleware)
    return this
  }

  /** Listens for sockets that joined any child. */
  on(
    event: 'connection',
    listener: (socket: ChildSocket<ListenEvents, EmitEvents, SocketData>) => void,
  ): this {
    this.#events.on(event, listener)
    return this
  }

  /** Listens for the next socket that joins any child. */
  once(
    event: 'connection',
    listener: (socket: ChildSocket<ListenEvents, EmitEvents, SocketData>) => void,
  ): this {
    this.#events.once(event, listener)
    return this
  }

  /** Stops listening. */
  off(
    event: 'connection',
    listener: (socket: ChildSocket<ListenEvents, EmitEvents, SocketData>) => void,
  ): this {
    this.#events.off(event, listener)
    return this
  }

  /** Targets rooms in every child. */
  to(
    room: Room | readonly Room[],
  ): BroadcastOperator<EmitEvents, ChildSocket<ListenEvents, EmitEvents, SocketData>> {
    return new BroadcastOperator(this.#host).to(room)
  }

  /** Leaves rooms out, in every child. */
  except(
    room: Room | readonly Room[],
  ): BroadcastOperator<EmitEvents, ChildSocket<ListenEvents, EmitEvents, SocketData>> {
    return new BroadcastOperator(this.#host).except(room)
  }

  /** Sends an event to every socket of every child. */
  emit<Event extends EventNames<EmitEvents>>(
    event: Event,
    ...args: BroadcastEmitParams<EmitEvents, Event>
  ): true {
    return new BroadcastOperator<EmitEvents, ChildSocket<ListenEvents, EmitEvents, SocketData>>(
      this.#host,
    ).emit(event, ...args)
  }

  /** Sends an event to every socket of every child and resolves with their replies. */
  emitWithAck<Event extends EventNames<EmitEvents>>(
    event: Event,
    ...args: BroadcastAckParams<EmitEvents, Event>
  ): Promise<BroadcastAckResult<EmitEvents, Event>> {
    return new BroadcastOperator<EmitEvents, ChildSocket<ListenEvents, EmitEvents, SocketData>>(
      this.#host,
    ).emitWithAck(event, ...args)
  }

  // Each child broadcasts through its own public operators, so recovery and encoding stay the child's.
  #makeHost(): BroadcastHost<ChildSocket<ListenEvents, EmitEvents, SocketData>> {
    const operatorOf = (
      child: Namespace<ListenEvents, EmitEvents, SocketData>,
      options: BroadcastOptions,
    ) => {
      const operator = child.except([...options.except]).to([...options.rooms])
      return options.volatile ? operator.volatile : operator
    }
    return {
      broadcast: (args: EventArguments, options) => {
        for (const child of this.#children) emitUntyped(operatorOf(child, options), args)
      },
      broadcastWithAck: (args, options, timeoutMs, done) => {
        const children = [...this.#children]
        if (children.length === 0) return queueMicrotask(() => done(null, []))
        let pending = children.length
        let failure: Error | null = null
        const replies: unknown[] = []
        for (const child of children) {
          const operator = operatorOf(child, options)
          const timed = timeoutMs === undefined ? operator : operator.timeout(timeoutMs)
          const callback = (error: Error | null, some: unknown[]) => {
            if (error) failure ??= error
            replies.push(...some)
            if (--pending === 0) done(failure, replies)
          }
          emitUntyped(timed, [...args, callback])
        }
      },
      matching: (options) =>
        [...this.#children].flatMap((child) => {
          const ids = child.adapter.socketsIn(options.rooms, options.except)
          return [...ids].flatMap((id) => child.sockets.get(id) ?? [])
        }),
    }
  }
}

// The arguments were checked against the event map when the parent's own operator was called.
function emitUntyped(
  operator: BroadcastOperator<EventsMap, Socket<EventsMap, EventsMap, unknown>>,
  args: unknown[],
): void {
  ;(operator.emit as (...list: unknown[]) => unknown).apply(operator, args)
}
