// Exact accounting for metrics: for every room and connection, published = delivered + queued + dropped,
// where `published` counts one per recipient of each message.
import type { Delivery, TransportKind } from './member.js'

/** What became of the deliveries of a room or a connection. */
export interface DeliveryCounts {
  /** One per recipient of each message. */
  published: number
  delivered: number
  queued: number
  dropped: number
}

/** A fresh set of zero counts. */
export function zeroCounts(): DeliveryCounts {
  return { published: 0, delivered: 0, queued: 0, dropped: 0 }
}

/** Adds one delivery's outcome to `counts`. */
export function countDelivery(counts: DeliveryCounts, delivery: Delivery): void {
  counts.published++
  counts[delivery]++
}

/** Moves one delivery counted as queued to its final outcome. */
export function settleDelivery(counts: DeliveryCounts, outcome: Delivery): void {
  counts.queued--
  counts[outcome]++
}

/** The hub's counters. */
export class Tally {
  readonly #connections: Record<TransportKind, number> = {
    tcp: 0,
    unix: 0,
    udp: 0,
    websocket: 0,
    socketio: 0,
  }
  readonly #rooms = new Map<string, DeliveryCounts & { messages: number }>()
  readonly #dropped = new Map<string, number>()

  connected(transport: TransportKind): void {
    this.#connections[transport]++
  }

  disconnected(transport: TransportKind): void {
    this.#connections[transport]--
  }

  published(room: string): void {
    this.#room(room).messages++
  }

  /** The counts of one room, to add each recipient's outcome to without looking the room up again. */
  room(room: string): DeliveryCounts {
    return this.#room(room)
  }

  settled(room: string, outcome: Delivery): void {
    settleDelivery(this.#room(room), outcome)
  }

  dropped(reason: string): void {
    this.#dropped.set(reason, (this.#dropped.get(reason) ?? 0) + 1)
  }

  snapshot(): {
    connections: Record<TransportKind, number>
    rooms: Map<string, DeliveryCounts & { messages: number }>
    dropped: Map<string, number>
  } {
    return {
      connections: { ...this.#connections },
      rooms: new Map(this.#rooms),
      dropped: new Map(this.#dropped),
    }
  }

  #room(room: string): DeliveryCounts & { messages: number } {
    let counts = this.#rooms.get(room)
    if (!counts) {
      counts = { ...zeroCounts(), messages: 0 }
      this.#rooms.set(room, counts)
    }
    return counts
  }
}
