// Connection state recovery (Socket.IO v4.6+ "connection state recovery", compatible with socket.io-client 4.x):
// every event broadcast or emitted without an ack gets an offset, sent as its last argument and kept for a
// while; a socket that disconnects for a transport reason leaves its id, rooms and data here under a private
// session id (`pid`, sent in the CONNECT answer). A client that reconnects in time presents `pid` and the last
// offset it saw in its CONNECT auth, and gets all of it back with the events it missed.
import { randomBytes } from 'node:crypto'
import type { RecoverySettings } from './options.js'
import type { Room } from './rooms.js'

/** What a disconnected socket leaves behind. */
export interface SessionToPersist {
  namespace: string
  id: string
  pid: string
  rooms: readonly Room[]
  data: unknown
  /** Where replay starts for a client that presents no offset: it received no stored event. */
  emptyOffsetSeq: number
}

/** A session given back to a client that reconnected in time. */
export interface RestoredSession {
  id: string
  pid: string
  rooms: readonly Room[]
  data: unknown
  emptyOffsetSeq: number
  /** The arguments (name first, offset last) of each event it missed, in order. */
  missed: unknown[][]
}

interface StoredPacket {
  readonly seq: number
  readonly namespace: string
  readonly rooms: ReadonlySet<Room>
  readonly except: ReadonlySet<Room>
  readonly data: unknown[]
  readonly storedAt: number
}

interface StoredSession extends SessionToPersist {
  disconnectedAt: number
}

// The log is an array read from `#head`; it is compacted once the dead part is large, not on every drop.
const compactAfter = 1024
const sweepEveryMs = 60_000

/** The events and sessions kept for recovery, for every namespace of one server. */
export class RecoveryStore {
  readonly #settings: RecoverySettings
  readonly #now: () => number
  // Offsets carry this server's own prefix, so an offset from an earlier process never matches.
  readonly #prefix = `${randomBytes(6).toString('base64url')}.`
  #packets: StoredPacket[] = []
  #head = 0
  #nextSeq = 1
  readonly #sessions = new Map<string, StoredSession>()
  readonly #timer: NodeJS.Timeout

  constructor(settings: RecoverySettings, now: () => number = Date.now) {
    this.#settings = settings
    this.#now = now
    const every = Math.min(settings.maxDisconnectionDurationMs, sweepEveryMs)
    this.#timer = setInterval(() => this.#sweep(), every).unref()
  }

  /** A new private session id; it is never shown to other clients. */
  newPid(): string {
    return randomBytes(15).toString('base64url')
  }

  /** The sequence number of the last event stored (0 before the first). */
  get lastSeq(): number {
    return this.#nextSeq - 1
  }

  /** The number of events kept now. */
  get size(): number {
    return this.#packets.length - this.#head
  }

  /** The offset the next stored event gets; the sender appends it as the event's last argument. */
  get nextOffset(): string {
    return this.#prefix + this.#nextSeq.toString(36)
  }

  /**
   * Keeps an event for replay: `data` ends with `nextOffset` already (the client reads the last string
   * argument as its offset). Returns its sequence number.
   */
  store(namespace: string, rooms: ReadonlySet<Room>, except: ReadonlySet<Room>, data: unknown[]): number {
    const seq = this.#nextSeq++
    const now = this.#now()
    this.#packets.push({ seq, namespace, rooms, except, data, storedAt: now })
    this.#dropOld(now)
    return seq
  }

  /** Keeps what a socket leaves behind, for `maxDisconnectionDurationMs`. */
  persist(session: SessionToPersist): void {
    this.#sessions.set(session.pid, { ...session, disconnectedAt: this.#now() })
  }

  /**
   * Gives a session back, once: null when it is unknown, of another namespace, expired, or when an event it
   * may have missed is no longer kept (the client then starts afresh rather than with a hole).
   */
  restore(namespace: string, pid: unknown, offset: unknown): RestoredSession | null {
    if (typeof pid !== 'string') return null
    const session = this.#sessions.get(pid)
    if (!session || session.namespace !== namespace) return null
    this.#sessions.delete(pid)
    const now = this.#now()
    if (session.disconnectedAt + this.#settings.maxDisconnectionDurationMs < now) return null
    this.#dropOld(now)
    // Deviation: socket.io recovers only a client that saw at least one event (socket.io#4888); without an
    // offset we replay what was meant for the socket since it last had a stored event sent.
    const after = offset === undefined ? session.emptyOffsetSeq : this.#parseOffset(offset)
    if (after === null || after >= this.#nextSeq) return null
    const first = this.#head < this.#packets.length ? this.#packets[this.#head].seq : this.#nextSeq
    if (after + 1 < first) return null
    const missed: unknown[][] = []
    const rooms = new Set(session.rooms)
    for (let index = this.#head + (after + 1 - first); index < this.#packets.length; index++) {
      const packet = this.#packets[index]
      if (packet.namespace === namespace && isAddressedTo(rooms, packet)) missed.push(packet.data)
    }
    const { id, rooms: list, data, emptyOffsetSeq } = session
    return { id, pid, rooms: list, data, emptyOffsetSeq, missed }
  }

  /** Stops the sweep timer and forgets everything. */
  close(): void {
    clearInterval(this.#timer)
    this.#sessions.clear()
    this.#packets = []
    this.#head = 0
  }

  #parseOffset(offset: unknown): number | null {
    if (typeof offset !== 'string' || !offset.startsWith(this.#prefix)) return null
    const digits = offset.slice(this.#prefix.length)
    if (!/^[0-9a-z]{1,11}$/.test(digits)) return null
    return Number.parseInt(digits, 36)
  }

  #dropOld(now: number): void {
    const oldest = now - this.#settings.maxDisconnectionDurationMs
    const packets = this.#packets
    while (
      this.#head < packets.length &&
      (packets.length - this.#head > this.#settings.maxStoredPackets || packets[this.#head].storedAt < oldest)
    ) {
      this.#head++
    }
    if (this.#head >= compactAfter && this.#head * 2 >= packets.length) {
      this.#packets = packets.slice(this.#head)
      this.#head = 0
    }
  }

  #sweep(): void {
    const now = this.#now()
    this.#dropOld(now)
    for (const [pid, session] of this.#sessions) {
      if (session.disconnectedAt + this.#settings.maxDisconnectionDurationMs < now) this.#sessions.delete(pid)
    }
  }
}

// Socket.IO's rule: an event reached a socket when it was for all (no rooms) or one of its rooms, and for
// none of the rooms excluded.
function isAddressedTo(rooms: ReadonlySet<Room>, packet: StoredPacket): boolean {
  for (const room of packet.except) if (rooms.has(room)) return false
  if (packet.rooms.size === 0) return true
  for (const room of packet.rooms) if (rooms.has(room)) return true
  return false
}
