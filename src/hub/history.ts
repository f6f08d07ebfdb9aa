// A room's history: offsets increasing by one per room, an epoch that names the stream, retention by count
// and age, and answers that say so when what was asked for is gone (never silently nothing).
import type { MessageData, RoomMessage } from './member.js'

/** Where a client got to: the last offset it saw, in which epoch. */
export interface ResumePoint {
  offset: number
  epoch: string
}

/** Why some of what was asked for cannot be given. */
export interface HistoryGap {
  /** `epoch-changed`: the stream was lost and restarted; `truncated`: retention removed older messages. */
  reason: 'epoch-changed' | 'truncated'
  /** The oldest offset still available in the current epoch. */
  firstOffset: number
}

/** A slice of a room's history. */
export interface HistoryPage {
  room: string
  epoch: string
  messages: RoomMessage[]
  /** The offset of the newest message in the room, 0 when there is none. */
  lastOffset: number
  gap: HistoryGap | null
}

/** How much history a room keeps. */
export interface Retention {
  /** Messages kept per room. @default 1000 */
  maxMessages: number
  /** Age past which messages are dropped. @default 86400000 (24 h) */
  maxAgeMs: number
}

/** Where history lives; the hub only uses this interface (memory, LMDB on disk, Redis later). */
export interface HistoryStore {
  /** Gives the message the room's next offset and stores it; resolves once it is as durable as configured. */
  append(room: string, entry: { from: string; data: MessageData; ts: number }): Promise<RoomMessage>
  /** The newest `count` messages. */
  last(room: string, count: number): Promise<HistoryPage>
  /** Messages after `point`, at most `limit`; a gap when the epoch changed or retention cut into them. */
  after(room: string, point: ResumePoint, limit: number): Promise<HistoryPage>
  /** Flushes and releases the store. */
  close(): Promise<void>
}

/** Computes a page from a room's retained messages; shared by every store. */
export function pageAfter(
  room: string,
  epoch: string,
  retained: readonly RoomMessage[],
  nextOffset: number,
  point: ResumePoint,
  limit: number,
): HistoryPage {
  const firstOffset = retained.length > 0 ? retained[0].offset : nextOffset
  const lastOffset = nextOffset - 1
  if (point.epoch !== epoch) {
    return {
      room,
      epoch,
      messages: retained.slice(0, limit),
      lastOffset,
      gap: { reason: 'epoch-changed', firstOffset },
    }
  }
  if (point.offset + 1 < firstOffset) {
    return {
      room,
      epoch,
      messages: retained.slice(0, limit),
      lastOffset,
      gap: { reason: 'truncated', firstOffset },
    }
  }
  const start = Math.max(0, point.offset + 1 - firstOffset)
  return { room, epoch, messages: retained.slice(start, start + limit), lastOffset, gap: null }
}

/** The default retention. */
export const retentionDefaults: Retention = { maxMessages: 1000, maxAgeMs: 24 * 60 * 60 * 1000 }

interface RoomStream {
  epoch: string
  nextOffset: number
  messages: RoomMessage[]
}

/** History in memory: lost on restart, so every room gets a new epoch each time the process starts. */
export class MemoryHistory implements HistoryStore {
  readonly #rooms = new Map<string, RoomStream>()
  readonly #retention: Retention
  readonly #now: () => number

  constructor(retention: Partial<Retention> = {}, now: () => number = Date.now) {
    this.#retention = { ...retentionDefaults, ...retention }
    this.#now = now
  }

  async append(room: string, entry: { from: string; data: MessageData; ts: number }): Promise<RoomMessage> {
    const stream = this.#stream(room)
    const message: RoomMessage = {
      type: 'message',
      room,
      ...entry,
      offset: stream.nextOffset++,
      epoch: stream.epoch,
    }
    stream.messages.push(message)
    this.#prune(stream)
    return message
  }

  async last(room: string, count: number): Promise<HistoryPage> {
    const stream = this.#stream(room)
    this.#prune(stream)
    const messages = count > 0 ? stream.messages.slice(-count) : []
    return { room, epoch: stream.epoch, messages, lastOffset: stream.nextOffset - 1, gap: null }
  }

  async after(room: string, point: ResumePoint, limit: number): Promise<HistoryPage> {
    const stream = this.#stream(room)
    this.#prune(stream)
    return pageAfter(room, stream.epoch, stream.messages, stream.nextOffset, point, limit)
  }

  async close(): Promise<void> {
    this.#rooms.clear()
  }

  #stream(room: string): RoomStream {
    let stream = this.#rooms.get(room)
    if (!stream) {
      stream = { epoch: newEpoch(), nextOffset: 1, messages: [] }
      this.#rooms.set(room, stream)
    }
    return stream
  }

  #prune(stream: RoomStream): void {
    const { maxMessages, maxAgeMs } = this.#retention
    const oldest = this.#now() - maxAgeMs
    let drop = Math.max(0, stream.messages.length - maxMessages)
    while (drop < stream.messages.length && stream.messages[drop].ts < oldest) drop++
    if (drop > 0) stream.messages.splice(0, drop)
  }
}

/** A fresh epoch: random, short, URL-safe. */
export function newEpoch(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6))
  return Array.from(bytes, (b) => b.toString(36).padStart(2, '0')).join('')
}
