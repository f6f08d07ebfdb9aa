// switchboard/cluster: the adapters the hub runs on (memory now; Redis for several nodes later).
export type { Envelope, HubAdapter, PresenceStore } from '../hub/adapter.js'
export * from './memory-adapter.js'
