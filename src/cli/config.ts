// The settings of `switchboard serve`: one schema, filled from defaults, a JSON config file, SWITCHBOARD_*
// environment variables and flags (later sources win), validated with an error that names the bad key.
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { retentionDefaults } from '../hub/history.js'
import { hubDefaults } from '../hub/limits.js'
import { connectionDefaults } from '../transports/connection-gate.js'
import { lineDefaults } from '../transports/line-options.js'
import { udpDefaults } from '../transports/udp.js'
import { webSocketTransportDefaults } from '../transports/websocket.js'
import { websocketDefaults } from '../websocket/options.js'

const port = z.number().int().min(0).max(65535)
// A listener is a port number, or `off` (as `false` in a file).
const listenerPort = z.union([port, z.literal(false)])

/** Every setting of `serve`, with its default. */
export const serveSchema = z
  .object({
    /** Address every listener binds to; `::` or `0.0.0.0` for every interface. */
    host: z.string().min(1).default('127.0.0.1'),
    http: listenerPort.default(8080),
    tcp: listenerPort.default(9090),
    udp: listenerPort.default(9090),
    /** Unix socket path, or false for none. */
    unix: z.union([z.string().min(1), z.literal(false)]).default('./switchboard.sock'),
    /** Directory of the on-disk history store. */
    data: z.string().min(1).default('./switchboard-data'),
    /** Keep history in memory only (lost on restart: every room gets a new epoch). */
    memory: z.boolean().default(false),
    /** `os`: acked once in the OS page cache (survives kill -9); `fsync`: acked once on disk (survives power loss). */
    durability: z.enum(['os', 'fsync']).default('os'),
    /** TLS for HTTP and WebSocket: PEM file paths. */
    tls: z
      .object({ cert: z.string().min(1), key: z.string().min(1) })
      .strict()
      .optional(),
    /** Origins allowed to open a WebSocket from a browser; absent means any. */
    allowedOrigins: z.array(z.string().min(1)).optional(),
    retention: z
      .object({
        maxMessages: z.number().int().positive().default(retentionDefaults.maxMessages),
        maxAgeMs: z.number().int().positive().default(retentionDefaults.maxAgeMs),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        maxConnections: z.number().int().positive().default(connectionDefaults.maxConnections),
        maxConnectionsPerIp: z.number().int().positive().default(connectionDefaults.maxConnectionsPerIp),
        maxLineBytes: z.number().int().positive().default(lineDefaults.maxLineBytes),
        maxMessageBytes: z.number().int().positive().default(hubDefaults.maxMessageBytes),
        messagesPerSecond: z.number().positive().default(hubDefaults.messagesPerSecond),
        messageBurst: z.number().int().positive().default(hubDefaults.messageBurst),
        maxQueuedBytes: z
          .number()
          .int()
          .positive()
          .default(webSocketTransportDefaults.maxQueuedBytesPerMember),
        idleTimeoutMs: z.number().int().positive().default(lineDefaults.idleTimeoutMs),
        udpKeepaliveMs: z.number().int().positive().default(udpDefaults.keepaliveTimeoutMs),
        maxDatagramBytes: z.number().int().min(512).max(65507).default(udpDefaults.maxDatagramBytes),
        pingIntervalMs: z.number().int().min(0).default(websocketDefaults.pingIntervalMs),
        pingTimeoutMs: z.number().int().positive().default(websocketDefaults.pingTimeoutMs),
        handshakeTimeoutMs: z.number().int().positive().default(websocketDefaults.handshakeTimeoutMs),
        shutdownTimeoutMs: z.number().int().positive().default(10_000),
      })
      .strict()
      .prefault({}),
  })
  .strict()

/** The validated settings. */
export type ServeConfig = z.infer<typeof serveSchema>

/** A bad setting: says which key and why. */
export class ConfigError extends Error {
  readonly code = 'config-invalid'
}

/** Where each setting may come from, before validation. */
export interface ConfigSources {
  /** Path of a JSON config file (`--config`, or SWITCHBOARD_CONFIG). */
  file?: string
  env?: NodeJS.ProcessEnv
  /** Flag values already parsed by the CLI, under the schema's keys. */
  flags?: Record<string, unknown>
}

const envKeys: Record<string, string> = {
  SWITCHBOARD_HOST: 'host',
  SWITCHBOARD_HTTP: 'http',
  SWITCHBOARD_TCP: 'tcp',
  SWITCHBOARD_UDP: 'udp',
  SWITCHBOARD_UNIX: 'unix',
  SWITCHBOARD_DATA: 'data',
  SWITCHBOARD_MEMORY: 'memory',
  SWITCHBOARD_DURABILITY: 'durability',
}

/** Merges defaults, file, environment and flags, and validates the result. */
export function loadConfig(sources: ConfigSources = {}): ServeConfig {
  const env = sources.env ?? {}
  const filePath = sources.file ?? env.SWITCHBOARD_CONFIG
  const merged: Record<string, unknown> = filePath ? readConfigFile(filePath) : {}
  for (const [variable, key] of Object.entries(envKeys)) {
    const value = env[variable]
    if (value !== undefined && value !== '') merged[key] = parseScalar(key, value, variable)
  }
  for (const [key, value] of Object.entries(sources.flags ?? {})) if (value !== undefined) merged[key] = value
  const result = serveSchema.safeParse(merged)
  if (!result.success) {
    const issue = result.error.issues[0]
    if (issue.code === 'unrecognized_keys') {
      throw new ConfigError(`invalid setting ${[...issue.path, issue.keys[0]].join('.')}: unknown setting`)
    }
    throw new ConfigError(`invalid setting ${issue.path.join('.') || '(root)'}: ${issue.message}`)
  }
  return result.data
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`)
  }
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object')
    return value as Record<string, unknown>
  } catch (error) {
    throw new ConfigError(`config file ${path} is not a JSON object: ${(error as Error).message}`)
  }
}

/** Turns a flag or variable string into the value its key expects: ports, `off`, booleans. */
export function parseScalar(key: string, value: string, source: string): unknown {
  if (key === 'http' || key === 'tcp' || key === 'udp') {
    if (value === 'off') return false
    const n = Number(value)
    if (!/^\d+$/.test(value) || n > 65535)
      throw new ConfigError(`invalid setting ${key} (${source}): a port 0-65535 or off, not ${value}`)
    return n
  }
  if (key === 'unix') return value === 'off' ? false : value
  if (key === 'memory') {
    if (value === 'true' || value === '1') return true
    if (value === 'false' || value === '0') return false
    throw new ConfigError(`invalid setting memory (${source}): true or false, not ${value}`)
  }
  return value
}
