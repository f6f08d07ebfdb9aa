// The seam between the hub and whatever carries its traffic: one node in memory, or several through
// Redis. Every broadcast, presence change and history write crosses it.
import type { HistoryStore } from './history.js'
import type { HubEvent } from './member.js'

/** What crosses the adapter: an event for a room's members, or for every connection of one nickname. */
export type Envelope =
  | { kind: 'room'; room: string; event: HubEvent; except?: string }
  | { kind: 'nick'; nick: string; event: HubEvent }

/** Who is where, across every node. Presence is keyed by nickname; connections are counted under it. */
export interface PresenceStore {
  /** Records one connection of `nick` in `room`; true when the nickname was not there before (a join). */
  add(room: string, nick: string, connectionId: string): Promise<boolean>
  /** Removes it; true when it was the nickname's last connection there (a leave). */
  remove(room: string, nick: string, connectionId: string): Promise<boolean>
  /** Each nickname in the room once. */
  members(room: string): Promise<string[]>
  /** Every connection in the room. */
  connections(room: string): Promise<Array<{ nick: string; connectionId: string }>>
  /** Rooms that have anyone in them, with how many nicknames. */
  rooms(): Promise<Array<{ room: string; members: number }>>
  /**
   * Claims a nickname for a connection: `claimed` when it was free (the key is now its key), `joined` when
   * it is held and `key` matches (another connection of the same person), `taken` otherwise.
   */
  claimNick(nick: string, key: string, connectionId: string): Promise<'claimed' | 'joined' | 'taken'>
  /** Drops a connection's hold on a nickname; the nickname is free once its last connection lets go. */
  releaseNick(nick: string, connectionId: string): Promise<void>
  /** Whether anyone holds the nickname. */
  hasNick(nick: string): Promise<boolean>
}

/** The adapter a hub is built on. */
export interface HubAdapter {
  /** Sends an envelope to every node, this one included, each of which hands it to its `onEnvelope` handler. */
  broadcast(envelope: Envelope): void
  /** Registers this node's receiver; the hub calls it once. */
  onEnvelope(handler: (envelope: Envelope) => void): void
  readonly presence: PresenceStore
  readonly history: HistoryStore
  /** Releases connections and stores. */
  close(): Promise<void>
}
