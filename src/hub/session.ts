// One connection's view of the hub: its nickname, its rooms, and every operation a transport offers.
import type { Hub } from './hub.js'
import { HubError } from './hub-error.js'
import type { HistoryPage, ResumePoint } from './history.js'
import { nickPattern, roomPattern } from './limits.js'
import type { Delivery, DirectMessage, HubEvent, Member, MessageData, RoomMessage } from './member.js'
import { TokenBucket } from './rate-limit.js'
import { countDelivery, type DeliveryCounts, settleDelivery, zeroCounts } from './tally.js'

/** What a join answers: who is there and the history asked for (recent messages, or since a resume point). */
export interface JoinResult {
  room: string
  members: string[]
  history: HistoryPage
}

/** A nickname and the key that lets other connections share it. */
export interface NickClaim {
  nick: string
  key: string
}

/** One connection inside the hub. Every method returns a `HubError` value for a refused request. */
export class Session {
  readonly member: Member
  readonly connectedAt: number
  readonly #hub: Hub
  readonly #rooms = new Set<string>()
  readonly #bucket: TokenBucket
  readonly #counts: DeliveryCounts = zeroCounts()
  #nick = ''
  #nickKey = ''
  // Live events for a room being joined wait here until the join's answer is out (so none overtakes it).
  #joining: Map<string, HubEvent[]> | null = null
  #detached = false

  constructor(hub: Hub, member: Member, now: number) {
    this.#hub = hub
    this.member = member
    this.connectedAt = now
    this.#bucket = new TokenBucket(hub.limits.messagesPerSecond, hub.limits.messageBurst, now)
  }

  /** The current nickname. */
  get nick(): string {
    return this.#nick
  }

  /** The key of the current nickname; another connection presenting it joins as the same person. */
  get nickKey(): string {
    return this.#nickKey
  }

  /** Rooms this connection is in. */
  get rooms(): ReadonlySet<string> {
    return this.#rooms
  }

  /** What became of the deliveries to this connection. */
  get counts(): Readonly<DeliveryCounts> {
    return this.#counts
  }

  /** Takes a nickname, or shares one held elsewhere when `key` is its key. */
  async setNick(name: string, key?: string, guest = false): Promise<NickClaim | HubError> {
    if (!nickPattern.test(name) || (!guest && /^guest-/i.test(name))) {
      return new HubError(
        'bad-nick',
        400,
        'a nickname is 1-32 letters, digits, _ - or ., not starting with guest-',
      )
    }
    if (name === this.#nick) return { nick: name, key: this.#nickKey }
    const presence = this.#hub.adapter.presence
    const wanted = key ?? randomKey()
    const claim = await presence.claimNick(name, wanted, this.member.id)
    if (this.#detached && claim !== 'taken') {
      // The connection went away while the claim was in flight: give the name back at once.
      await presence.releaseNick(name, this.member.id)
      return new HubError('closed', 410, 'this connection has left')
    }
    if (claim === 'taken') {
      return new HubError(
        'nick-taken',
        409,
        `${name} is taken; its key lets another connection of the same person use it`,
      )
    }
    const previous = this.#nick || null
    this.#nick = name
    this.#nickKey = wanted
    this.#hub.indexNick(this, previous)
    for (const room of this.#rooms) {
      if (await presence.add(room, name, this.member.id)) this.#announce(room, 'join', name)
      if (previous !== null && (await presence.remove(room, previous, this.member.id)))
        this.#announce(room, 'leave', previous)
    }
    if (previous !== null) await presence.releaseNick(previous, this.member.id)
    return { nick: name, key: wanted }
  }

  /**
   * Joins a room. The answer carries the members and the recent history, or everything since `resume`
   * with an explicit gap when that is no longer available.
   */
  async join(room: string, resume?: ResumePoint): Promise<JoinResult | HubError> {
    const refused = this.#checkRoom(room) ?? this.#checkOpen()
    if (refused) return refused
    const { presence, history } = this.#hub.adapter
    if (!this.#rooms.has(room)) {
      if (this.#rooms.size >= this.#hub.limits.maxRoomsPerMember) {
        return new HubError(
          'too-many-rooms',
          403,
          `at most ${this.#hub.limits.maxRoomsPerMember} rooms per connection`,
        )
      }
      this.#rooms.add(room)
      this.#joining ??= new Map()
      this.#joining.set(room, [])
      this.#hub.addToRoom(this, room)
      if (await presence.add(room, this.#nick, this.member.id)) this.#announce(room, 'join', this.#nick)
    }
    const { maxHistoryPage, recentOnJoin } = this.#hub.limits
    const page = resume
      ? await history.after(room, resume, maxHistoryPage)
      : await history.last(room, recentOnJoin)
    const members = await presence.members(room)
    // The caller sends the answer when this promise settles; held events follow it a turn later. The
    // buffer is captured so a leave and a new join of the same room in between get their own release.
    const held = this.#joining?.get(room)
    if (held) setImmediate(() => this.#releaseJoining(room, held, page.lastOffset))
    return { room, members, history: page }
  }

  /** Leaves a room; the others see the nickname leave once its last connection there is gone. */
  async leave(room: string): Promise<true | HubError> {
    if (!this.#rooms.has(room)) return new HubError('not-in-room', 403, `not in ${room}`)
    await this.#leave(room)
    return true
  }

  /** Publishes to a room this connection is in; the answer carries the message's offset and epoch. */
  async publish(
    room: string,
    data: MessageData,
    options: { echo?: boolean } = {},
  ): Promise<RoomMessage | HubError> {
    const refused = this.#checkOpen() ?? this.#checkMessage(data)
    if (refused) return refused
    if (!this.#rooms.has(room))
      return new HubError('not-in-room', 403, `join ${room} before publishing to it`)
    let message: RoomMessage
    try {
      message = await this.#hub.adapter.history.append(room, { from: this.#nick, data, ts: this.#hub.now() })
    } catch (error) {
      // A store that fails (disk full, closed during shutdown) refuses this publish; nothing was sent.
      const detail = `the message could not be stored: ${(error as Error).message}`
      return new HubError('history-unavailable', 503, detail)
    }
    this.#hub.countPublished(room)
    this.#hub.broadcast({
      kind: 'room',
      room,
      event: message,
      except: options.echo === false ? this.member.id : undefined,
    })
    return message
  }

  /** Sends a message to every connection of one nickname. */
  async direct(to: string, data: MessageData): Promise<DirectMessage | HubError> {
    const refused = this.#checkOpen() ?? this.#checkMessage(data)
    if (refused) return refused
    // The name is checked before it is echoed back, so an error never carries raw control characters.
    if (!nickPattern.test(to))
      return new HubError('bad-nick', 400, 'a nickname is 1-32 letters, digits, _ - or .')
    if (!(await this.#hub.adapter.presence.hasNick(to))) {
      return new HubError('no-such-member', 404, `nobody is called ${to}`)
    }
    const event: DirectMessage = { type: 'direct', from: this.#nick, to, data, ts: this.#hub.now() }
    this.#hub.broadcast({ kind: 'nick', nick: to, event })
    return event
  }

  /** Nicknames in a room, each once. */
  async who(room: string): Promise<string[] | HubError> {
    return this.#checkRoom(room) ?? this.#hub.adapter.presence.members(room)
  }

  /** Every connection in a room (the per-connection view of presence). */
  async whoConnections(room: string): Promise<Array<{ nick: string; connectionId: string }> | HubError> {
    return this.#checkRoom(room) ?? this.#hub.adapter.presence.connections(room)
  }

  /** The last `last` messages of a room, or those after a resume point. */
  async history(
    room: string,
    query: { last: number } | { after: ResumePoint },
  ): Promise<HistoryPage | HubError> {
    const refused = this.#checkRoom(room)
    if (refused) return refused
    const { history } = this.#hub.adapter
    const max = this.#hub.limits.maxHistoryPage
    if ('after' in query) return history.after(room, query.after, max)
    return history.last(room, Math.max(0, Math.min(max, query.last)))
  }

  /** Leaves every room and gives up the nickname; call once the connection is gone. Safe to call twice. */
  async detach(): Promise<void> {
    if (this.#detached) return
    this.#detached = true
    for (const room of [...this.#rooms]) await this.#leave(room)
    if (this.#nick) await this.#hub.adapter.presence.releaseNick(this.#nick, this.member.id)
    this.#hub.forget(this)
  }

  /** @internal Hands an event to the member, or holds it while its room is being joined. */
  receive(event: HubEvent): Delivery {
    if (this.#detached) return 'dropped'
    if (this.#joining !== null && event.type !== 'direct') {
      const held = this.#joining.get(event.room)
      if (held) {
        held.push(event)
        return 'queued'
      }
    }
    return this.member.deliver(event)
  }

  /** @internal */
  count(delivery: Delivery): void {
    countDelivery(this.#counts, delivery)
  }

  /** @internal */
  settle(outcome: Delivery): void {
    settleDelivery(this.#counts, outcome)
  }

  #releaseJoining(room: string, held: HubEvent[], lastOffset: number): void {
    if (this.#joining?.get(room) !== held) return
    this.#joining.delete(room)
    if (this.#joining.size === 0) this.#joining = null
    for (const event of held) {
      // Messages the join's history already contained are not sent twice: they count as delivered.
      const duplicate = event.type === 'message' && event.offset <= lastOffset
      const outcome = this.#detached ? 'dropped' : duplicate ? 'delivered' : this.member.deliver(event)
      this.#hub.settle(room, this, outcome)
    }
  }

  async #leave(room: string): Promise<void> {
    this.#rooms.delete(room)
    for (const _ of this.#joining?.get(room) ?? []) this.#hub.settle(room, this, 'dropped')
    this.#joining?.delete(room)
    if (this.#joining?.size === 0) this.#joining = null
    this.#hub.removeFromRoom(this, room)
    if (this.#nick && (await this.#hub.adapter.presence.remove(room, this.#nick, this.member.id))) {
      this.#announce(room, 'leave', this.#nick)
    }
  }

  #announce(room: string, event: 'join' | 'leave', member: string): void {
    this.#hub.broadcast({
      kind: 'room',
      room,
      event: { type: 'presence', room, event, member, ts: this.#hub.now() },
    })
  }

  #checkOpen(): HubError | null {
    return this.#detached ? new HubError('closed', 410, 'this connection has left') : null
  }

  #checkRoom(room: string): HubError | null {
    return roomPattern.test(room)
      ? null
      : new HubError('bad-room', 400, 'a room name is 1-64 letters, digits, _ - . or #')
  }

  #checkMessage(data: MessageData): HubError | null {
    const bytes = typeof data === 'string' ? byteLength(data) : data.byteLength
    if (bytes > this.#hub.limits.maxMessageBytes) {
      return new HubError(
        'message-too-big',
        413,
        `a message of ${bytes} bytes (at most ${this.#hub.limits.maxMessageBytes})`,
      )
    }
    if (!this.#bucket.take(this.#hub.now())) {
      this.#hub.countDropped('rate-limited')
      return new HubError(
        'rate-limited',
        429,
        `more than ${this.#hub.limits.messagesPerSecond} messages per second`,
      )
    }
    return null
  }
}

function byteLength(text: string): number {
  return Buffer.byteLength(text)
}

function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9))
  return Buffer.from(bytes).toString('base64url')
}
