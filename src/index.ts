// The switchboard package's public surface.
export { SwitchboardError } from './errors.js'
export * from './websocket/index.js'
