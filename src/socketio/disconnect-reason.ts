// Why a Socket.IO socket disconnected, in the words Socket.IO uses (its "disconnect" event reasons).

/**
 * Why a socket left its namespace: the server called `disconnect()` (`server namespace disconnect`), the
 * client did (`client namespace disconnect`), the connection went away or broke its rules (`transport close`,
 * `transport error`), stopped answering pings (`ping timeout`), sent a packet the protocol forbids
 * (`parse error`), the server stopped (`server shutting down`), the application closed the Engine.IO session
 * (`forced close`), or the session joined no namespace in time (`forced server close`).
 */
export type DisconnectReason =
  | 'server namespace disconnect'
  | 'client namespace disconnect'
  | 'transport close'
  | 'transport error'
  | 'ping timeout'
  | 'parse error'
  | 'server shutting down'
  | 'forced close'
  | 'forced server close'

/** The reasons after which a client may come back and recover its state (as in Socket.IO). */
export const recoverableReasons: ReadonlySet<DisconnectReason> = new Set<DisconnectReason>([
  'transport error',
  'transport close',
  'forced close',
  'ping timeout',
  'server shutting down',
  'forced server close',
])
