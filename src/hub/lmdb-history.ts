// History on disk in LMDB (the `lmdb` package): each room's epoch and offsets survive a restart or a crash,
// and an append resolves only once its message is stored as durably as configured.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Database, open, type RootDatabase } from 'lmdb'
import { SwitchboardError } from '../errors.js'
import {
  type HistoryPage,
  type HistoryStore,
  newEpoch,
  pageAfter,
  type ResumePoint,
  type Retention,
  retentionDefaults,
} from './history.js'
import type { MessageData, RoomMessage } from './member.js'

/**
 * When an append resolves:
 * - `os`: once its LMDB transaction has committed, i.e. its pages are written into the operating system's
 *   page cache, without waiting for the disk. It survives the process crashing or being killed
 *   (`kill -9`), not a power cut or kernel crash: those can lose what was acknowledged since the last
 *   background flush (about a second), and LMDB warns that in this mode (`MDB_NOSYNC`) they can damage
 *   the file.
 * - `fsync`: once that transaction is also flushed to the disk (fsync). It survives a power cut, at the
 *   cost of one disk flush per batch of appends.
 */
export type Durability = 'os' | 'fsync'

/** Where and how `LmdbHistory` keeps history. */
export interface LmdbHistoryOptions {
  /** Data directory, created if missing; holds `history.mdb` and its lock file. One server per directory. */
  path: string
  /** Per room; messages past it are deleted from disk. @default retentionDefaults */
  retention?: Partial<Retention>
  /** When an append resolves (see `Durability`). @default 'os' */
  durability?: Durability
  /** Clock for age-based retention, in milliseconds since the Unix epoch. @default Date.now */
  now?: () => number
}

/** The defaults of `LmdbHistory` besides retention (which is `retentionDefaults`). */
export const lmdbHistoryDefaults = { durability: 'os' } as const satisfies Pick<
  LmdbHistoryOptions,
  'durability'
>

/** The file inside the data directory. */
const fileName = 'history.mdb'

// `os`: no fsync on commit (MDB_NOSYNC). `fsync`: LMDB's classic durable commit, which returns once the
// disk has it. Not lmdb's default overlappingSync: each commit waits for the previous one's flush, so one
// publisher awaiting each ack got a disk flush per message (300–1,100 puts/s here, against 7,900 without).
const envOptions = {
  os: { noSync: true },
  fsync: { noSync: false, overlappingSync: false },
} as const satisfies Record<Durability, object>

// In `os` mode a timer flushes what was written, so a power cut loses about this much, not whatever the
// kernel had not yet written back (up to 30 s on Linux).
const backgroundSyncMs = 1000

// lmdb's `sync` (mdb_env_sync on a worker thread) is not in its type declarations.
interface Syncable {
  sync(callback: (error: unknown) => void): void
}

function closedError(): SwitchboardError {
  return new SwitchboardError('history-closed', 'the history store is closed')
}

// Messages are keyed [room, offset]: LMDB's ordered keys keep one room's messages together and in order.
type MessageKey = [room: string, offset: number]
// Tuples rather than objects: no field names stored per message.
type StoredMessage = [from: string, ts: number, data: MessageData]
// `nextOffset` here is only a floor: it is written when a room is created and when retention empties it;
// otherwise the newest stored message says where the room got to (one write per append, not two).
type StoredRoom = [epoch: string, nextOffset: number]

interface RoomLog {
  epoch: string
  /** The offset the next append gets. */
  nextOffset: number
  /** The newest offset whose append has resolved; reads stop there, so they show only acknowledged messages. */
  storedOffset: number
  /** The oldest offset retention keeps; older keys are deleted, or being deleted. */
  firstOffset: number
  /** Resolves once a new room's epoch is stored, so no reader sees an epoch a crash could forget. */
  created: Promise<unknown> | null
}

/**
 * History in an embedded LMDB database. Every room's epoch is stored, so the same data directory after a
 * restart (or a crash) keeps each room's epoch and continues its offsets exactly; a new directory gives new
 * epochs. Appends are batched by LMDB into one transaction per event-loop turn, written on its own thread;
 * appends to a room resolve in call order.
 */
export class LmdbHistory implements HistoryStore {
  readonly #env: RootDatabase
  readonly #rooms: Database<StoredRoom, string>
  readonly #messages: Database<StoredMessage, MessageKey>
  readonly #logs = new Map<string, RoomLog>()
  readonly #retention: Retention
  readonly #durability: Durability
  readonly #now: () => number
  #closed = false
  #dirty = false
  readonly #syncTimer: NodeJS.Timeout | null = null

  constructor(options: LmdbHistoryOptions) {
    mkdirSync(options.path, { recursive: true })
    this.#retention = { ...retentionDefaults, ...options.retention }
    this.#durability = options.durability ?? lmdbHistoryDefaults.durability
    this.#now = options.now ?? Date.now
    this.#env = open({ path: join(options.path, fileName), ...envOptions[this.#durability] })
    this.#rooms = this.#env.openDB<StoredRoom, string>({ name: 'rooms' })
    this.#messages = this.#env.openDB<StoredMessage, MessageKey>({ name: 'messages' })
    if (this.#durability === 'os') {
      this.#syncTimer = setInterval(() => this.#sync(), backgroundSyncMs)
      this.#syncTimer.unref()
    }
  }

  /**
   * Stores the message under the room's next offset; resolves once it is as durable as configured.
   * Rejects with code `history-closed` once `close()` was called.
   */
  append(room: string, entry: { from: string; data: MessageData; ts: number }): Promise<RoomMessage> {
    if (this.#closed) return Promise.reject(closedError())
    const log = this.#log(room)
    const offset = log.nextOffset++
    const message: RoomMessage = {
      type: 'message',
      room,
      from: entry.from,
      data: entry.data,
      offset,
      epoch: log.epoch,
      ts: entry.ts,
    }
    // Queued writes commit in call order, and all puts of one batch share one promise, so appends resolve
    // in call order without a chain of our own.
    this.#dirty = true
    const written = this.#messages.put([room, offset], [entry.from, entry.ts, entry.data])
    this.#prune(room, log)
    return written.then(() => {
      log.storedOffset = Math.max(log.storedOffset, offset)
      return message
    })
  }

  /** The newest `count` messages of the room. */
  async last(room: string, count: number): Promise<HistoryPage> {
    const log = await this.#ready(room)
    const from = Math.max(log.firstOffset, log.storedOffset - count + 1)
    const messages = count > 0 ? this.#read(room, log, from, log.storedOffset) : []
    return { room, epoch: log.epoch, messages, lastOffset: log.storedOffset, gap: null }
  }

  /** At most `limit` messages after `point`; a gap when its epoch is not the room's or retention cut in. */
  async after(room: string, point: ResumePoint, limit: number): Promise<HistoryPage> {
    const log = await this.#ready(room)
    const resumable = point.epoch === log.epoch && point.offset + 1 >= log.firstOffset
    const from = resumable ? point.offset + 1 : log.firstOffset
    const to = Math.min(log.storedOffset, from + Math.max(0, limit) - 1)
    // pageAfter finds where to start from the first message it is given, so handing it the messages from
    // `from` on yields the same page (and gap) as handing it every retained one.
    return pageAfter(room, log.epoch, this.#read(room, log, from, to), log.storedOffset + 1, point, limit)
  }

  /** Waits for every queued write, flushes the file to the disk, then closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#logs.clear()
    if (this.#syncTimer) clearInterval(this.#syncTimer)
    await this.#env.committed
    if (this.#durability === 'os') {
      this.#dirty = true
      await new Promise<void>((resolve) => this.#sync(resolve))
    }
    await this.#env.close()
  }

  /** The room's state, loaded from disk on first use; a room never seen gets a new epoch, stored at once. */
  #log(room: string): RoomLog {
    if (this.#closed) throw closedError()
    const known = this.#logs.get(room)
    if (known) return known
    const stored = this.#rooms.get(room)
    const newest = this.#edgeOffset(room, 'newest')
    const nextOffset = Math.max(stored?.[1] ?? 1, newest + 1)
    const epoch = stored?.[0] ?? newEpoch()
    const oldest = newest > 0 ? this.#edgeOffset(room, 'oldest') : nextOffset
    // Queued before any message of the room, so it commits first: a stored message always has its epoch.
    const created = stored ? null : this.#rooms.put(room, [epoch, nextOffset])
    this.#dirty ||= !stored
    const log: RoomLog = { epoch, nextOffset, storedOffset: nextOffset - 1, firstOffset: oldest, created }
    this.#logs.set(room, log)
    return log
  }

  async #ready(room: string): Promise<RoomLog> {
    const log = this.#log(room)
    if (log.created) {
      await log.created
      log.created = null
    }
    this.#prune(room, log)
    return log
  }

  /** The offset of the room's newest or oldest stored message, 0 when it has none. */
  #edgeOffset(room: string, edge: 'newest' | 'oldest'): number {
    const low: MessageKey = [room, 0]
    const high: MessageKey = [room, Number.POSITIVE_INFINITY]
    const range =
      edge === 'newest'
        ? { start: high, end: low, reverse: true, limit: 1 }
        : { start: low, end: high, limit: 1 }
    for (const key of this.#messages.getKeys(range)) return key[1]
    return 0
  }

  /** Messages `from`..`to` (inclusive) as stored. */
  #read(room: string, log: RoomLog, from: number, to: number): RoomMessage[] {
    if (to < from) return []
    const range = { start: [room, from] as MessageKey, end: [room, to] as MessageKey, inclusiveEnd: true }
    return Array.from(this.#messages.getRange(range), ({ key, value: [sender, ts, data] }) => ({
      type: 'message' as const,
      room,
      from: sender,
      // msgpack hands bytes back as a Buffer; give back a plain Uint8Array, as it was stored.
      data: typeof data === 'string' ? data : new Uint8Array(data),
      offset: key[1],
      epoch: log.epoch,
      ts,
    }))
  }

  /** Moves the room's first offset past what retention drops, and deletes those keys. */
  #prune(room: string, log: RoomLog): void {
    const { maxMessages, maxAgeMs } = this.#retention
    let first = Math.max(log.firstOffset, log.nextOffset - maxMessages)
    const oldest = this.#now() - maxAgeMs
    // Messages not yet committed read as missing and stop the scan; the next append or read prunes them.
    for (; first < log.nextOffset; first++) {
      const ts = this.#messages.get([room, first])?.[1]
      if (ts === undefined || ts >= oldest) break
    }
    if (first === log.firstOffset) return
    this.#dirty = true
    // Retention emptied the room: record where it got to before its last key goes, or a restart would
    // reuse offsets. Queued first, so it commits no later than the deletes.
    if (first === log.nextOffset) this.#rooms.put(room, [log.epoch, log.nextOffset])
    for (let offset = log.firstOffset; offset < first; offset++) this.#messages.remove([room, offset])
    log.firstOffset = first
  }

  /** Flushes the file to the disk if anything was written since the last flush. */
  #sync(done?: () => void): void {
    if (!this.#dirty) return done?.()
    this.#dirty = false
    // A failed flush breaks no promise made in `os` mode (an ack never meant "on the disk"), and the next
    // commit or flush tries again.
    ;(this.#env as unknown as Syncable).sync(() => done?.())
  }
}
