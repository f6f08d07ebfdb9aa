// Every Socket.IO server setting with its default, in one object that the CLI, README and tests import.
import { rangeError } from '../errors.js'
import type { EngineOptions } from '../engineio/options.js'
import type { RoomAdapter } from './rooms.js'

/** Connection state recovery: a client that comes back soon gets its id, rooms, data and missed events. */
export interface RecoveryOptions {
  /** How long a disconnected socket's state and the events it may miss are kept, in ms. @default 120000 */
  maxDisconnectionDurationMs?: number
  /** Whether a recovered socket skips the namespace middleware (it passed it once). @default true */
  skipMiddlewares?: boolean
  /**
   * Most events kept for replay, over all namespaces. Past it the oldest go, and a client that missed one of
   * them is not recovered (it gets a new session) rather than given a stream with a hole. @default 10000
   */
  maxStoredPackets?: number
}

/** How a Socket.IO server is set up: the Engine.IO settings underneath, and its own. */
export interface SocketIOServerOptions extends EngineOptions {
  /** Where the server answers. @default '/socket.io/' */
  path?: string
  /** Time a new Engine.IO session has to join a namespace before it is closed, in ms. @default 45000 */
  connectTimeoutMs?: number
  /** Most binary attachments one incoming packet may declare; more closes the session. @default 10 */
  maxAttachments?: number
  /** Deepest nesting of arrays and objects in an incoming payload; deeper closes the session. @default 64 */
  maxDepth?: number
  /** Turns connection state recovery on (absent: off, as in Socket.IO). */
  connectionStateRecovery?: RecoveryOptions
  /**
   * Dynamic namespaces (made by `io.of(pattern)`) are removed when their last socket leaves, so a client
   * cannot grow the server by naming ever new ones. @default true
   */
  cleanupEmptyChildNamespaces?: boolean
  /** Makes the room registry of each namespace; see `RoomAdapter`. @default a `LocalRooms` per namespace */
  adapter?: (namespace: string) => RoomAdapter
}

/** The defaults of every Socket.IO setting (the Engine.IO ones are in `engineDefaults`). */
export const socketIODefaults = {
  path: '/socket.io/',
  connectTimeoutMs: 45_000,
  maxAttachments: 10,
  maxDepth: 64,
  cleanupEmptyChildNamespaces: true,
  recovery: {
    maxDisconnectionDurationMs: 120_000,
    skipMiddlewares: true,
    maxStoredPackets: 10_000,
  },
} as const

/** Recovery settings with every default filled in. */
export interface RecoverySettings {
  maxDisconnectionDurationMs: number
  skipMiddlewares: boolean
  maxStoredPackets: number
}

/** Settings with every default filled in and checked. */
export interface SocketIOSettings {
  connectTimeoutMs: number
  maxAttachments: number
  maxDepth: number
  cleanupEmptyChildNamespaces: boolean
  recovery: RecoverySettings | null
}

/** Fills in defaults; throws a RangeError (with a `code`) for a setting that cannot work. */
export function resolveSocketIOSettings(options: SocketIOServerOptions): SocketIOSettings {
  const recovery = options.connectionStateRecovery
  const settings: SocketIOSettings = {
    connectTimeoutMs: options.connectTimeoutMs ?? socketIODefaults.connectTimeoutMs,
    maxAttachments: options.maxAttachments ?? socketIODefaults.maxAttachments,
    maxDepth: options.maxDepth ?? socketIODefaults.maxDepth,
    cleanupEmptyChildNamespaces:
      options.cleanupEmptyChildNamespaces ?? socketIODefaults.cleanupEmptyChildNamespaces,
    recovery: recovery ? { ...socketIODefaults.recovery, ...withoutUndefined(recovery) } : null,
  }
  checkPositive('connectTimeoutMs', settings.connectTimeoutMs)
  checkPositive('maxDepth', settings.maxDepth)
  if (!Number.isSafeInteger(settings.maxAttachments) || settings.maxAttachments < 0) {
    throw rangeError('sio-invalid-setting', `maxAttachments must be a whole number >= 0`)
  }
  if (settings.recovery) {
    checkPositive('maxDisconnectionDurationMs', settings.recovery.maxDisconnectionDurationMs)
    checkPositive('maxStoredPackets', settings.recovery.maxStoredPackets)
  }
  return settings
}

function checkPositive(key: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw rangeError('sio-invalid-setting', `${key} must be a positive whole number, not ${value}`)
  }
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
