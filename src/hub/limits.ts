// The hub's limits and their defaults, in one object the CLI, README and tests import.

/** Limits the hub enforces for every transport. */
export interface HubLimits {
  /** Largest message in bytes (UTF-8 for text). @default 65536 */
  maxMessageBytes: number
  /** Messages a member may publish per second on average. @default 50 */
  messagesPerSecond: number
  /** Messages a member may publish at once before the rate applies. @default 100 */
  messageBurst: number
  /** Rooms one connection may be in. @default 50 */
  maxRoomsPerMember: number
  /** Most messages one history request returns. @default 500 */
  maxHistoryPage: number
  /** Recent messages that come with a join. @default 20 */
  recentOnJoin: number
}

/** The defaults of every hub limit. */
export const hubDefaults: HubLimits = {
  maxMessageBytes: 64 * 1024,
  messagesPerSecond: 50,
  messageBurst: 100,
  maxRoomsPerMember: 50,
  maxHistoryPage: 500,
  recentOnJoin: 20,
}

/** Nicknames: 1–32 letters, digits, `_`, `-` or `.`. */
export const nickPattern = /^[A-Za-z0-9_.-]{1,32}$/

/** Room names: 1–64 letters, digits, `_`, `-`, `.` or `#`. */
export const roomPattern = /^[A-Za-z0-9_.#-]{1,64}$/
