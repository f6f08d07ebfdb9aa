// switchboard/socketio: a Socket.IO v5 server (namespaces, middleware, events with acks and binary, rooms,
// connection state recovery) on our Engine.IO server, and its codec.
export * from './codec/index.js'
export type { AckCallback, ErrorFirstAckCallback } from './acks.js'
export {
  type BroadcastAckParams,
  type BroadcastAckResult,
  type BroadcastEmitParams,
  BroadcastOperator,
  type BroadcastOptions,
} from './broadcast.js'
export type { DisconnectReason } from './disconnect-reason.js'
export { recoverableReasons } from './disconnect-reason.js'
export type { Handshake } from './handshake.js'
export { type ConnectionRefusal, type Middleware, Namespace } from './namespace.js'
export type { RecoveryOptions, SocketIOServerOptions } from './options.js'
export { socketIODefaults } from './options.js'
export { type NamespaceMatcher, ParentNamespace } from './parent-namespace.js'
export { LocalRooms, type Room, type RoomAdapter, type SocketId } from './rooms.js'
export { SocketIOServer } from './server.js'
export { Socket } from './socket.js'
export type { FlaggedEmitter, SocketReservedEvents, SocketState } from './socket-types.js'
export type * from './typed-events.js'
export { type PreparedEvent, prepareEvent } from './prepared-event.js'
