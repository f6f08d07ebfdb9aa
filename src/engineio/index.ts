// switchboard/engineio: an Engine.IO v4 server (polling, WebSocket, upgrades, heartbeat) and its codec.
export * from './codec/index.js'
export type { CorsOptions, EngineLimits, EngineOptions, TransportName } from './options.js'
export { engineDefaults } from './options.js'
export * from './server.js'
export type { EngineCloseReason, EngineSessionEvents, SessionState } from './session-types.js'
export { EngineSession } from './session.js'
export { SharedMessage } from './shared-message.js'
