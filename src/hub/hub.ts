// The hub: rooms, broadcast, presence and history for every connection, whatever transport it came by.
// All traffic crosses the adapter, so one node or many behave the same.
import type { Envelope, HubAdapter } from './adapter.js'
import { Disconnect, type DisconnectInfo } from './disconnect.js'
import { HubError } from './hub-error.js'
import { type HubLimits, hubDefaults } from './limits.js'
import type { Delivery, HubEvent, Member, TransportKind } from './member.js'
import { Session } from './session.js'
import { countDelivery, type DeliveryCounts, Tally } from './tally.js'

/** How a hub is built. */
export interface HubOptions {
  adapter: HubAdapter
  limits?: Partial<HubLimits>
  /** The clock, for tests. @default Date.now */
  now?: () => number
}

/** How a connection starts. */
export interface ConnectOptions {
  /** A nickname to claim at once (otherwise a guest name is given). */
  nick?: string
  /** The key of a nickname already held elsewhere, to join it as the same person. */
  nickKey?: string
  /** Rooms to join at once. @default ['lobby'] */
  rooms?: string[]
}

/** Counters for metrics. */
export interface HubStats {
  connections: Record<TransportKind, number>
  rooms: Map<string, DeliveryCounts & { messages: number }>
  dropped: Map<string, number>
  /** Rooms with at least one local connection in them now. */
  activeRooms: number
}

/** The hub. Transports call `connect` for each new connection and act through the returned `Session`. */
export class Hub {
  readonly limits: HubLimits
  readonly #adapter: HubAdapter
  readonly #now: () => number
  // Local connections only; other nodes deliver to their own.
  readonly #sessions = new Map<string, Session>()
  readonly #roomSessions = new Map<string, Set<Session>>()
  readonly #nickSessions = new Map<string, Set<Session>>()
  readonly #tally = new Tally()
  #guests = 0
  #closing = false

  constructor(options: HubOptions) {
    this.#adapter = options.adapter
    this.limits = { ...hubDefaults, ...options.limits }
    this.#now = options.now ?? Date.now
    this.#adapter.onEnvelope((envelope) => this.#onEnvelope(envelope))
  }

  /** The adapter's stores, for transports that need history or presence directly. */
  get adapter(): HubAdapter {
    return this.#adapter
  }

  /** The current time on the hub's clock. */
  now(): number {
    return this.#now()
  }

  /** Registers a connection: it gets a nickname (claimed or a guest name) and joins its first rooms. */
  async connect(member: Member, options: ConnectOptions = {}): Promise<Session | HubError> {
    if (this.#closing) return new HubError('closed', 503, 'the server is stopping')
    const session = new Session(this, member, this.#now())
    this.#sessions.set(member.id, session)
    this.#tally.connected(member.transport)
    const named =
      options.nick === undefined
        ? await this.#assignGuest(session)
        : await session.setNick(options.nick, options.nickKey)
    if (named instanceof HubError) {
      this.#forget(session)
      return named
    }
    for (const room of options.rooms ?? ['lobby']) {
      const joined = await session.join(room)
      if (joined instanceof HubError) {
        await session.detach()
        return joined
      }
    }
    return session
  }

  /** A local session by connection id. */
  session(id: string): Session | undefined {
    return this.#sessions.get(id)
  }

  /** Every local session. */
  sessions(): IterableIterator<Session> {
    return this.#sessions.values()
  }

  /** Rooms with anyone in them (on any node), with their member counts. */
  rooms(): Promise<Array<{ room: string; members: number }>> {
    return this.#adapter.presence.rooms()
  }

  /** Counters for /metrics. */
  stats(): HubStats {
    return { ...this.#tally.snapshot(), activeRooms: this.#roomSessions.size }
  }

  /** Disconnects everyone with `reason` and stops accepting connections. */
  async close(reason: DisconnectInfo = Disconnect.ServerStopping): Promise<void> {
    this.#closing = true
    const sessions = [...this.#sessions.values()]
    for (const session of sessions) session.member.close(reason)
    await Promise.all(sessions.map((session) => session.detach()))
  }

  // Used by Session: the hub owns the local indexes and the tally.

  /** @internal */
  broadcast(envelope: Envelope): void {
    this.#adapter.broadcast(envelope)
  }

  /** @internal */
  addToRoom(session: Session, room: string): void {
    let set = this.#roomSessions.get(room)
    if (!set) {
      set = new Set()
      this.#roomSessions.set(room, set)
    }
    set.add(session)
  }

  /** @internal */
  removeFromRoom(session: Session, room: string): void {
    const set = this.#roomSessions.get(room)
    if (!set) return
    set.delete(session)
    if (set.size === 0) this.#roomSessions.delete(room)
  }

  /** @internal */
  indexNick(session: Session, previous: string | null): void {
    if (previous !== null) {
      const set = this.#nickSessions.get(previous)
      set?.delete(session)
      if (set?.size === 0) this.#nickSessions.delete(previous)
    }
    let set = this.#nickSessions.get(session.nick)
    if (!set) {
      set = new Set()
      this.#nickSessions.set(session.nick, set)
    }
    set.add(session)
  }

  /** @internal */
  forget(session: Session): void {
    this.#forget(session)
  }

  /** @internal */
  countPublished(room: string): void {
    this.#tally.published(room)
  }

  /** @internal A delivery the hub held (counted as queued) has gone out or been dropped. */
  settle(room: string, session: Session, outcome: Delivery): void {
    this.#tally.settled(room, outcome)
    session.settle(outcome)
  }

  /** @internal */
  countDropped(reason: string): void {
    this.#tally.dropped(reason)
  }

  #forget(session: Session): void {
    if (!this.#sessions.delete(session.member.id)) return
    this.#tally.disconnected(session.member.transport)
    const set = this.#nickSessions.get(session.nick)
    set?.delete(session)
    if (set?.size === 0) this.#nickSessions.delete(session.nick)
  }

  async #assignGuest(session: Session): Promise<HubError | undefined> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const named = await session.setNick(`guest-${++this.#guests}`, undefined, true)
      if (!(named instanceof HubError)) return undefined
    }
    return new HubError('nick-taken', 409, 'no free guest name')
  }

  #onEnvelope(envelope: Envelope): void {
    if (envelope.kind === 'room') {
      const sessions = this.#roomSessions.get(envelope.room)
      if (!sessions) return
      // Looked up once per broadcast, not once per recipient (bench: fan-out).
      const counts = this.#tally.room(envelope.room)
      for (const session of sessions) {
        if (session.member.id === envelope.except) continue
        const delivery = session.receive(envelope.event)
        countDelivery(counts, delivery)
        session.count(delivery)
      }
      return
    }
    for (const session of this.#nickSessions.get(envelope.nick) ?? []) session.receive(envelope.event)
  }
}

/** True for events that belong to a room's stream. */
export function isRoomEvent(event: HubEvent): event is Extract<HubEvent, { room: string }> {
  return event.type === 'message' || event.type === 'presence'
}
