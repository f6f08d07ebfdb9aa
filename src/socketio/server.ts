// The Socket.IO v5 server: an Engine.IO server at `/socket.io/`, the namespaces (static and dynamic) that its
// sessions connect to, and the main namespace's API on the server itself, in the spirit of Socket.IO's `Server`.
import type { Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import { debuglog } from 'node:util'
import { rangeError } from '../errors.js'
import { EngineServer } from '../engineio/server.js'
import type { EngineSession } from '../engineio/session.js'
import type {
  BroadcastAckParams,
  BroadcastAckResult,
  BroadcastEmitParams,
  BroadcastOperator,
} from './broadcast.js'
import { type ConnectionHost, SocketIOConnection } from './connection.js'
import { connectToNamespace, type Middleware, Namespace } from './namespace.js'
import {
  resolveSocketIOSettings,
  type SocketIOServerOptions,
  type SocketIOSettings,
  socketIODefaults,
} from './options.js'
import { linkOf, type NamespaceMatcher, ParentNamespace } from './parent-namespace.js'
import { RecoveryStore } from './recovery.js'
import { LocalRooms, type Room, type RoomAdapter } from './rooms.js'
import type { Socket } from './socket.js'
import type { DefaultEventsMap, EventNames, EventsMap } from './typed-events.js'

const log = debuglog('switchboard:sio')

/**
 * A Socket.IO server. Type the events once: `new SocketIOServer<ClientToServer, ServerToClient, Data>(http)`;
 * then every `emit`, listener and ack is checked. The methods of the main namespace `/` are on the server too.
 */
export class SocketIOServer<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  SocketData = unknown,
> {
  /** The Engine.IO server underneath. */
  readonly engine: EngineServer
  /** The main namespace, `/`. */
  readonly sockets: Namespace<ListenEvents, EmitEvents, SocketData>
  readonly #settings: SocketIOSettings
  readonly #makeAdapter: (namespace: string) => RoomAdapter
  readonly #recovery: RecoveryStore | null
  readonly #namespaces = new Map<string, Namespace<ListenEvents, EmitEvents, SocketData>>()
  readonly #parents: ParentNamespace<ListenEvents, EmitEvents, SocketData>[] = []
  readonly #host: ConnectionHost

  /** Serves Socket.IO on `http` (if given; otherwise call `attach`) under `options.path`. */
  constructor(http?: HttpServer | HttpsServer, options: SocketIOServerOptions = {}) {
    this.#settings = resolveSocketIOSettings(options)
    this.#makeAdapter = options.adapter ?? (() => new LocalRooms())
    this.#recovery = this.#settings.recovery ? new RecoveryStore(this.#settings.recovery) : null
    this.engine = new EngineServer({ ...options, path: options.path ?? socketIODefaults.path })
    this.#host = { connect: (connection, name, auth) => this.#connect(connection, name, auth) }
    this.engine.on('connection', (session) => this.#onSession(session))
    this.sockets = this.of('/')
    if (http) this.attach(http)
  }

  /** Serves on an http or https server; see `EngineServer.attach` for how it shares the server. */
  attach(http: HttpServer | HttpsServer): this {
    this.engine.attach(http)
    return this
  }

  /** The path served, ending in `/`. */
  get path(): string {
    return this.engine.path
  }

  /**
   * A namespace by name (made on first use), or a dynamic one: every name a pattern matches (a RegExp, or a
   * function of the name and the client's auth) gets a namespace of its own on the first CONNECT to it.
   */
  of(name: string): Namespace<ListenEvents, EmitEvents, SocketData>
  of(pattern: RegExp | NamespaceMatcher): ParentNamespace<ListenEvents, EmitEvents, SocketData>
  of(
    name: string | RegExp | NamespaceMatcher,
  ): Namespace<ListenEvents, EmitEvents, SocketData> | ParentNamespace<ListenEvents, EmitEvents, SocketData> {
    if (typeof name !== 'string') {
      const parent = new ParentNamespace<ListenEvents, EmitEvents, SocketData>(name)
      this.#parents.push(parent)
      return parent
    }
    const normalized = name.startsWith('/') ? name : `/${name}`
    if (normalized.includes(',')) throw rangeError('sio-invalid-namespace', `a namespace has no ",": ${name}`)
    return this.#namespaces.get(normalized) ?? this.#makeNamespace(normalized, null)
  }

  /** Adds a middleware to the main namespace. */
  use(middleware: Middleware<ListenEvents, EmitEvents, SocketData>): this {
    this.sockets.use(middleware)
    return this
  }

  /** Listens for sockets joining the main namespace. */
  on(event: 'connection', listener: (socket: Socket<ListenEvents, EmitEvents, SocketData>) => void): this {
    this.sockets.on(event, listener)
    return this
  }

  /** Stops listening. */
  off(event: 'connection', listener: (socket: Socket<ListenEvents, EmitEvents, SocketData>) => void): this {
    this.sockets.off(event, listener)
    return this
  }

  /** Targets rooms of the main namespace. */
  to(
    room: Room | readonly Room[],
  ): BroadcastOperator<EmitEvents, Socket<ListenEvents, EmitEvents, SocketData>> {
    return this.sockets.to(room)
  }

  /** The same as `to`. */
  in(
    room: Room | readonly Room[],
  ): BroadcastOperator<EmitEvents, Socket<ListenEvents, EmitEvents, SocketData>> {
    return this.sockets.to(room)
  }

  /** Leaves rooms of the main namespace out. */
  except(
    room: Room | readonly Room[],
  ): BroadcastOperator<EmitEvents, Socket<ListenEvents, EmitEvents, SocketData>> {
    return this.sockets.except(room)
  }

  /** Drops the event for sockets whose transport cannot take it now. */
  get volatile(): BroadcastOperator<EmitEvents, Socket<ListenEvents, EmitEvents, SocketData>> {
    return this.sockets.volatile
  }

  /** Bounds the wait for acks of a broadcast, in ms. */
  timeout(timeoutMs: number): BroadcastOperator<EmitEvents, Socket<ListenEvents, EmitEvents, SocketData>> {
    return this.sockets.timeout(timeoutMs)
  }

  /** Sends an event to every socket of the main namespace. */
  emit<Event extends EventNames<EmitEvents>>(
    event: Event,
    ...args: BroadcastEmitParams<EmitEvents, Event>
  ): true {
    return this.sockets.emit(event, ...args)
  }

  /** Sends an event to every socket of the main namespace and resolves with their replies. */
  emitWithAck<Event extends EventNames<EmitEvents>>(
    event: Event,
    ...args: BroadcastAckParams<EmitEvents, Event>
  ): Promise<BroadcastAckResult<EmitEvents, Event>> {
    return this.sockets.emitWithAck(event, ...args)
  }

  /** The sockets of the main namespace. */
  fetchSockets(): Promise<Socket<ListenEvents, EmitEvents, SocketData>[]> {
    return this.sockets.fetchSockets()
  }

  /** Makes every socket of the main namespace join rooms. */
  socketsJoin(room: Room | readonly Room[]): void {
    this.sockets.socketsJoin(room)
  }

  /** Makes every socket of the main namespace leave rooms. */
  socketsLeave(room: Room | readonly Room[]): void {
    this.sockets.socketsLeave(room)
  }

  /** Disconnects every socket of the main namespace; with `close`, their sessions too. */
  disconnectSockets(close = false): void {
    this.sockets.disconnectSockets(close)
  }

  /**
   * Disconnects every client (`server shutting down`) and stops serving. Deviation: the HTTP server stays
   * open, since it may serve other endpoints too; Socket.IO closes it.
   */
  async close(): Promise<void> {
    await this.engine.close()
    this.#recovery?.close()
  }

  #onSession(session: EngineSession): void {
    new SocketIOConnection(session, this.#host, this.#settings)
  }

  #connect(connection: SocketIOConnection, name: string, auth: Record<string, unknown>): void {
    const namespace = this.#namespaces.get(name)
    if (namespace) return connectToNamespace(namespace, connection, auth)
    this.#findParent(name, auth, 0, (parent) => {
      if (connection.closed) return
      if (!parent) {
        log('%s: CONNECT to unknown namespace %s', connection.session.id, name)
        return connection.refuseNamespace(name, 'Invalid namespace')
      }
      const child = this.#namespaces.get(name) ?? this.#makeNamespace(name, parent)
      connectToNamespace(child, connection, auth)
    })
  }

  // The first parent whose pattern matches, in the order they were made; without a promise when none needs one.
  #findParent(
    name: string,
    auth: Record<string, unknown>,
    from: number,
    done: (parent: ParentNamespace<ListenEvents, EmitEvents, SocketData> | null) => void,
  ): void {
    for (let index = from; index < this.#parents.length; index++) {
      const parent = this.#parents[index]
      let verdict: boolean | Promise<boolean>
      try {
        verdict = linkOf(parent).matches(name, auth)
      } catch (error) {
        log('namespace matcher failed: %s', error)
        continue
      }
      if (typeof verdict === 'boolean') {
        if (verdict) return done(parent)
        continue
      }
      verdict.then(
        (matched) => (matched === true ? done(parent) : this.#findParent(name, auth, index + 1, done)),
        (error: unknown) => {
          log('namespace matcher failed: %s', error)
          this.#findParent(name, auth, index + 1, done)
        },
      )
      return
    }
    done(null)
  }

  #makeNamespace(
    name: string,
    parent: ParentNamespace<ListenEvents, EmitEvents, SocketData> | null,
  ): Namespace<ListenEvents, EmitEvents, SocketData> {
    const link = parent ? linkOf(parent) : null
    const namespace: Namespace<ListenEvents, EmitEvents, SocketData> = new Namespace({
      name,
      adapter: this.#makeAdapter(name),
      recovery: this.#recovery,
      skipMiddlewaresOnRecovery: this.#settings.recovery?.skipMiddlewares ?? true,
      parent: link ?? undefined,
      onEmpty:
        link && this.#settings.cleanupEmptyChildNamespaces
          ? () => {
              // A child with no socket left goes, so that names a client makes up cannot pile up.
              if (this.#namespaces.get(name) === namespace) this.#namespaces.delete(name)
              link.children.delete(namespace)
            }
          : undefined,
    })
    this.#namespaces.set(name, namespace)
    link?.children.add(namespace)
    return namespace
  }
}
