// Every Engine.IO setting with its default, in one object that the CLI, README and tests import.
import type { IncomingMessage } from 'node:http'
import { rangeError, typeError } from '../errors.js'
import type { DeflateSettings } from '../websocket/options.js'

/** The transports of Engine.IO v4. */
export type TransportName = 'polling' | 'websocket'

/** The limits of a session; each is announced to the client or enforced on it. */
export interface EngineLimits {
  /** Time between two pings the server sends (announced as `pingInterval`). @default 25000 */
  pingIntervalMs: number
  /** Time a ping may go unanswered before the session closes with `ping timeout` (announced as `pingTimeout`). @default 20000 */
  pingTimeoutMs: number
  /**
   * Largest polling POST body and largest WebSocket message, in bytes (announced as `maxPayload`). A larger
   * POST is answered 413 and a larger WebSocket message closes the connection with 1009; either ends the session.
   * @default 1000000
   */
  maxPayloadBytes: number
  /** Time from the WebSocket connection of an upgrade to its upgrade packet `5`; then the probe is dropped. @default 10000 */
  upgradeTimeoutMs: number
}

/** Cross-origin access to the polling transport from browsers. */
export interface CorsOptions {
  /**
   * Origins allowed: `'*'` for any, a list of exact origins (`https://chat.example`), or a function
   * deciding. A browser from another origin is refused with 403 and code 4 (Forbidden), on polling and on
   * WebSocket alike. Requests without an `Origin` header are not from browsers and always pass.
   */
  origin: '*' | readonly string[] | ((origin: string, request: IncomingMessage) => boolean | Promise<boolean>)
  /** Let browsers send cookies and read answers of credentialed requests. @default false */
  credentials?: boolean
  /** How long a browser may cache a preflight answer, in seconds. @default 600 */
  maxAgeSeconds?: number
}

/** How an Engine.IO server is set up. */
export interface EngineOptions extends Partial<EngineLimits> {
  /** Where the server answers; Socket.IO mounts it at `/socket.io/`. @default '/engine.io/' */
  path?: string
  /** The transports offered; a request for another is refused with code 0. @default ['polling', 'websocket'] */
  transports?: readonly TransportName[]
  /** Cross-origin access for browsers; absent means no CORS headers and every origin passes. */
  cors?: CorsOptions
  /** Accepts (true) or refuses (false: 403, code 4) a new session, on its first request. */
  authorize?: (request: IncomingMessage) => boolean | Promise<boolean>
  /** permessage-deflate on the WebSocket transport. @default false */
  perMessageDeflate?: boolean | DeflateSettings
}

/** The defaults for every Engine.IO setting. */
export const engineDefaults = {
  path: '/engine.io/',
  transports: ['polling', 'websocket'] as readonly TransportName[],
  pingIntervalMs: 25_000,
  pingTimeoutMs: 20_000,
  maxPayloadBytes: 1_000_000,
  upgradeTimeoutMs: 10_000,
  corsMaxAgeSeconds: 600,
} as const

/** Settings with every default filled in and checked. */
export interface EngineSettings extends EngineLimits {
  path: string
  transports: readonly TransportName[]
}

/** Fills in defaults; throws a RangeError or TypeError (with a `code`) for a setting that cannot work. */
export function resolveEngineSettings(options: EngineOptions = {}): EngineSettings {
  const settings: EngineSettings = {
    path: normalizePath(options.path ?? engineDefaults.path),
    transports: options.transports ?? engineDefaults.transports,
    pingIntervalMs: options.pingIntervalMs ?? engineDefaults.pingIntervalMs,
    pingTimeoutMs: options.pingTimeoutMs ?? engineDefaults.pingTimeoutMs,
    maxPayloadBytes: options.maxPayloadBytes ?? engineDefaults.maxPayloadBytes,
    upgradeTimeoutMs: options.upgradeTimeoutMs ?? engineDefaults.upgradeTimeoutMs,
  }
  for (const key of ['pingIntervalMs', 'pingTimeoutMs', 'maxPayloadBytes', 'upgradeTimeoutMs'] as const) {
    const value = settings[key]
    if (!Number.isSafeInteger(value) || value < 1) {
      throw rangeError('eio-invalid-setting', `${key} must be a positive whole number, not ${value}`)
    }
  }
  if (
    settings.transports.length === 0 ||
    settings.transports.some((t) => t !== 'polling' && t !== 'websocket')
  ) {
    throw typeError('eio-invalid-setting', `transports must list 'polling' and/or 'websocket'`)
  }
  return settings
}

// The client asks for `/engine.io/?EIO=4…`: the path always ends with one slash.
function normalizePath(path: string): string {
  if (!path.startsWith('/')) throw typeError('eio-invalid-setting', `path must start with '/': ${path}`)
  return path.endsWith('/') ? path : `${path}/`
}
