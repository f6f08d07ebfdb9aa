// What every transport listener gives the server: where it listens, how busy it is, how to stop it.
import type { DisconnectInfo } from '../hub/disconnect.js'

/** Byte and message counters of one transport, for /metrics. */
export interface TransportCounters {
  bytesIn: number
  bytesOut: number
  messagesIn: number
  messagesOut: number
  /** Bytes accepted for sending and not yet handed to the kernel, over all connections. */
  queuedBytes: number
  /** Messages or connections refused, by reason (`line-too-long`, `too-many-connections`, …). */
  refused: Map<string, number>
}

/** A running listener. */
export interface Listener {
  /** The line printed when ready, e.g. `tcp://127.0.0.1:9090`. */
  readonly url: string
  /** Open connections. */
  readonly connections: number
  readonly counters: TransportCounters
  /** Stops accepting, tells every connection `reason`, flushes, and resolves when all are gone. */
  close(reason: DisconnectInfo): Promise<void>
}

/** Fresh zeroed counters. */
export function newCounters(): TransportCounters {
  return { bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0, queuedBytes: 0, refused: new Map() }
}

/** Counts one refusal under `reason`. */
export function countRefused(counters: TransportCounters, reason: string): void {
  counters.refused.set(reason, (counters.refused.get(reason) ?? 0) + 1)
}
