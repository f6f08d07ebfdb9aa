// What the hub knows of a connection: how to hand it an event and how to end it. Transports implement
// `Member`; the hub never sees sockets.
import type { DisconnectInfo } from './disconnect.js'

/** The transports a member can come by. */
export type TransportKind = 'tcp' | 'unix' | 'udp' | 'websocket' | 'socketio'

/** Text or bytes; a transport that cannot carry bytes shows them as `[binary N bytes]`. */
export type MessageData = string | Uint8Array

/** A message published to a room, as stored in its history. */
export interface RoomMessage {
  type: 'message'
  room: string
  /** The sender's nickname. */
  from: string
  data: MessageData
  /** Position in the room's stream, starting at 1 and increasing by one. */
  offset: number
  /** Identity of the room's stream; offsets are meaningful only within one epoch. */
  epoch: string
  /** Milliseconds since the Unix epoch when the server accepted it. */
  ts: number
}

/** A message for one member. */
export interface DirectMessage {
  type: 'direct'
  from: string
  to: string
  data: MessageData
  ts: number
}

/** A nickname appearing in or leaving a room (once per nickname, however many connections it has). */
export interface PresenceEvent {
  type: 'presence'
  room: string
  event: 'join' | 'leave'
  member: string
  ts: number
}

/** Everything the hub delivers to members. */
export type HubEvent = RoomMessage | DirectMessage | PresenceEvent

/**
 * What happened to one delivery, for exact accounting (published = delivered + queued + dropped):
 * `delivered` handed to the socket, `queued` held in the transport's own queue, `dropped` not sent (and
 * the member is told or disconnected, never silently).
 */
export type Delivery = 'delivered' | 'queued' | 'dropped'

/** One connection, as a transport presents it to the hub. */
export interface Member {
  /** Unique among all connections of this server. */
  readonly id: string
  readonly transport: TransportKind
  /** The peer's address for display and per-address limits. */
  readonly remoteAddress: string
  /** Hands one event to the connection. Must not throw. */
  deliver(event: HubEvent): Delivery
  /** Ends the connection, telling the peer why in its own protocol. */
  close(reason: DisconnectInfo): void
}
