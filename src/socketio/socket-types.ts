// The types around a socket: the events it emits itself, what it needs of its namespace, and the handle the
// namespace keeps on it.
import type { ErrorFirstAckCallback } from './acks.js'
import type { BroadcastHost } from './broadcast.js'
import type { EventArguments } from './codec/index.js'
import type { ConnectionSocket, OutgoingPacket, SocketIOConnection } from './connection.js'
import type { DisconnectReason } from './disconnect-reason.js'
import type { Namespace } from './namespace.js'
import type { RecoveryStore, RestoredSession } from './recovery.js'
import type { RoomAdapter } from './rooms.js'
import type { Socket } from './socket.js'
import type {
  EmitWithAckParams,
  EmitWithAckResult,
  EventNames,
  EventsMap,
  TimedEmitParams,
} from './typed-events.js'

/** Where a socket is in its life. */
export type SocketState = 'connecting' | 'connected' | 'disconnected'

/** The events a server-side socket emits itself; clients cannot send these names. */
export interface SocketReservedEvents {
  /** The socket is about to leave: its rooms are still there to read. */
  disconnecting: (reason: DisconnectReason) => void
  /** The socket left, for this reason. */
  disconnect: (reason: DisconnectReason) => void
  /** A listener threw or its promise rejected. Events the client sends named "error" are ignored. */
  error: (error: unknown) => void
}

/** What a socket needs of its namespace. */
export interface SocketHost<Target> extends BroadcastHost<Target> {
  readonly name: string
  readonly adapter: RoomAdapter
  readonly recovery: RecoveryStore | null
  /** The socket ended; forget it. */
  remove(id: string): void
}

/** How a namespace makes a socket. */
export interface SocketInit<ListenEvents extends EventsMap, EmitEvents extends EventsMap, SocketData> {
  nsp: Namespace<ListenEvents, EmitEvents, SocketData>
  host: SocketHost<Socket<ListenEvents, EmitEvents, SocketData>>
  connection: SocketIOConnection
  auth: Record<string, unknown>
  restored: RestoredSession | null
}

/** Emits with flags: `socket.volatile` and `socket.timeout(ms)` return one. */
export interface FlaggedEmitter<EmitEvents extends EventsMap> {
  emit<Event extends EventNames<EmitEvents>>(
    event: Event,
    ...args: TimedEmitParams<EmitEvents, Event>
  ): boolean
  emitWithAck<Event extends EventNames<EmitEvents>>(
    event: Event,
    ...args: EmitWithAckParams<EmitEvents, Event>
  ): Promise<EmitWithAckResult<EmitEvents, Event>>
}

/** The namespace's handle on a socket. @internal */
export interface SocketControl extends ConnectionSocket {
  /** The middleware passed: answer CONNECT, replay what it missed, announce it. */
  open(): void
  /** The middleware refused: answer CONNECT_ERROR and end unseen. */
  refuse(error: { message: string; data?: unknown }): void
  /** Sends a packet encoded for many sockets; `seq` is its recovery number. */
  sendEncoded(encoded: OutgoingPacket, volatile: boolean, seq: number | undefined): boolean
  /** Sends an event with an ack for a broadcast. */
  emitForAck(args: EventArguments, timeoutMs: number | undefined, callback: ErrorFirstAckCallback): void
  readonly state: SocketState
}
