// The types around an Engine.IO session: its states, why it ends, its events, and what the server and the
// Socket.IO layer hand it.
import type { EngineSession } from './session.js'
import type { EngineLimits } from './options.js'

/** Where a session is in its life. */
export type SessionState = 'open' | 'upgrading' | 'closing' | 'closed'

/**
 * Why a session ended, in Engine.IO's words (Socket.IO shows them as disconnect reasons): the client closed
 * or went away (`transport close`), broke the transport's rules (`transport error`, e.g. a body over
 * maxPayload or a second GET) or the packet grammar (`parse error`), stopped answering pings (`ping timeout`),
 * `close()` was called (`forced close`), or the server stopped (`server shutting down`).
 */
export type EngineCloseReason =
  | 'transport close'
  | 'transport error'
  | 'parse error'
  | 'ping timeout'
  | 'forced close'
  | 'server shutting down'

/** Events of a session. Binary messages arrive as Buffers, text as strings. */
export interface EngineSessionEvents {
  message: [data: string | Buffer]
  /** The session moved from polling to WebSocket. */
  upgrade: [transport: 'websocket']
  close: [reason: EngineCloseReason]
}

/** What the server gives its sessions: one object shared by all of them (per kind of opening). */
export interface SessionInit {
  limits: EngineLimits
  /** Transports the client may upgrade to, announced in the open packet. */
  upgrades: string[]
  /** Called once, when the session is closed, before its `close` event. */
  onClosed: (session: EngineSession) => void
}

/** @internal What takes a session's messages and its end directly (see `setReceiver`). */
export interface SessionReceiver {
  onMessage(data: string | Buffer): void
  onClose(reason: EngineCloseReason): void
}
