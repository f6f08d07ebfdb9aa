// Every WebSocket setting with its default, in one object that the CLI, README and tests import.
import type { DeflateNegotiation } from './codec/deflate-offer.js'

/** Settings shared by server and client connections. */
export interface ConnectionSettings {
  /** Largest message accepted, in bytes, after inflating; a larger one closes with 1009. @default 67108864 (64 MiB) */
  maxPayloadBytes: number
  /** Most frames one incoming message may be split into; more closes with 1009. @default 131072 */
  maxFragments: number
  /** How long to wait for the peer's close frame or TCP close after ours. @default 5000 */
  closeTimeoutMs: number
  /** Idle time after which we ping; 0 turns the keepalive off. @default 30000 */
  pingIntervalMs: number
  /** How long a ping may go unanswered (with nothing else heard) before the connection is cut. @default 10000 */
  pingTimeoutMs: number
  /** `bufferedAmount` above which `send` returns false and a `drain` event follows later. @default 1048576 */
  highWaterMarkBytes: number
  /** `bufferedAmount` past which a peer that does not read is disconnected with 1008. @default 16777216 */
  maxBufferedBytes: number
}

/** permessage-deflate settings; `false` turns compression off. */
export interface DeflateSettings extends DeflateNegotiation {
  /** Messages smaller than this go uncompressed. @default 1024 */
  thresholdBytes?: number
  /** zlib level, 0–9. @default 6 */
  level?: number
}

/** The defaults for every WebSocket setting. */
export const websocketDefaults = {
  maxPayloadBytes: 64 * 1024 * 1024,
  maxFragments: 131072,
  closeTimeoutMs: 5000,
  pingIntervalMs: 30_000,
  pingTimeoutMs: 10_000,
  highWaterMarkBytes: 1024 * 1024,
  maxBufferedBytes: 16 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  deflateThresholdBytes: 1024,
  deflateLevel: 6,
} as const satisfies ConnectionSettings & Record<string, number>

/** Fills in defaults for any settings not given. */
export function resolveSettings(given: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return {
    maxPayloadBytes: given.maxPayloadBytes ?? websocketDefaults.maxPayloadBytes,
    maxFragments: given.maxFragments ?? websocketDefaults.maxFragments,
    closeTimeoutMs: given.closeTimeoutMs ?? websocketDefaults.closeTimeoutMs,
    pingIntervalMs: given.pingIntervalMs ?? websocketDefaults.pingIntervalMs,
    pingTimeoutMs: given.pingTimeoutMs ?? websocketDefaults.pingTimeoutMs,
    highWaterMarkBytes: given.highWaterMarkBytes ?? websocketDefaults.highWaterMarkBytes,
    maxBufferedBytes: given.maxBufferedBytes ?? websocketDefaults.maxBufferedBytes,
  }
}
