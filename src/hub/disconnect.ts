// Why a member left: one catalog for every transport, each of which translates it onto its own wire
// (a WebSocket close code, an ERR/BYE line, a datagram notice).

/** A reason for ending a member's connection. */
export interface DisconnectInfo {
  /** A WebSocket-style application code (4000–4999) that every transport can show. */
  code: number
  reason: string
  /** Whether a client should come back (and resume from history). */
  reconnect: boolean
}

/** Every reason the server ends a connection. */
export const Disconnect = {
  ServerStopping: { code: 4001, reason: 'server stopping', reconnect: true },
  Quit: { code: 4000, reason: 'bye', reconnect: false },
  IdleTimeout: { code: 4002, reason: 'idle timeout', reconnect: true },
  ProtocolError: { code: 4003, reason: 'protocol error', reconnect: false },
  SlowConsumer: { code: 4008, reason: 'send queue full', reconnect: true },
  RateLimited: { code: 4029, reason: 'too many messages', reconnect: true },
  TooManyConnections: { code: 4030, reason: 'too many connections', reconnect: true },
  Kicked: { code: 4403, reason: 'removed by moderator', reconnect: false },
} as const satisfies Record<string, DisconnectInfo>
