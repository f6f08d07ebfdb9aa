#!/usr/bin/env -S node --max-semi-space-size=1
// The `switchboard` command: parses argv, wires the layers, prints one `listening …` line per listener.
import { Command, InvalidArgumentError } from 'commander'
import { startEcho } from './echo.js'

function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('a port is 0-65535')
  return port
}

async function runEcho(options: {
  port: number
  tcp?: number
  upper: boolean
  deflate: boolean
  host: string
}): Promise<void> {
  const echo = await startEcho({
    host: options.host,
    port: options.port,
    tcpPort: options.tcp,
    upper: options.upper,
    deflate: options.deflate,
  })
  for (const line of echo.urls) console.log(line)
  const stop = () => {
    const forced = setTimeout(() => process.exit(0), 5000)
    forced.unref()
    void echo.close().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

interface ServeFlags {
  http?: string
  tcp?: string
  udp?: string
  unix?: string
  host?: string
  data?: string
  memory?: boolean
  durability?: string
  tlsCert?: string
  tlsKey?: string
  allowedOrigin?: string[]
  config?: string
}

async function runServe(flags: ServeFlags): Promise<void> {
  // Loaded here, not at the top: `echo` and `--help` need none of the hub, its store or its metrics.
  const { loadConfig, parseScalar } = await import('./config.js')
  const { startServer } = await import('./serve.js')
  const fromFlags: Record<string, unknown> = {
    host: flags.host,
    data: flags.data,
    memory: flags.memory,
    durability: flags.durability,
    allowedOrigins: flags.allowedOrigin,
  }
  for (const key of ['http', 'tcp', 'udp', 'unix'] as const) {
    const value = flags[key]
    if (value !== undefined) fromFlags[key] = parseScalar(key, value, `--${key}`)
  }
  if (flags.tlsCert || flags.tlsKey) fromFlags.tls = { cert: flags.tlsCert, key: flags.tlsKey }
  const config = loadConfig({ file: flags.config, env: process.env, flags: fromFlags })
  const server = await startServer(config)
  for (const line of server.lines) console.log(line)
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    // Whatever happens, the process is gone within the shutdown bound.
    setTimeout(() => process.exit(1), config.limits.shutdownTimeoutMs).unref()
    void server.close().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

const program = new Command()
program
  .name('switchboard')
  .description('A real-time messaging server: WebSocket, Socket.IO, TCP, UDP and Unix sockets in one hub.')
  .version('0.1.0')

program
  .command('echo')
  .description('WebSocket echo server on ws://HOST:PORT/ (any path), plus an optional TCP upper-case server')
  .option('--port <n>', 'WebSocket port (0 picks a free one)', parsePort, 8080)
  .option('--tcp <n>', 'also serve plain TCP on this port, answering in upper case', parsePort)
  .option('--upper', 'upper-case text messages instead of echoing them unchanged', false)
  .option('--deflate', 'accept permessage-deflate (RFC 7692)', false)
  .option('--host <host>', 'address to listen on (use :: or 0.0.0.0 for every interface)', '127.0.0.1')
  .action(runEcho)

program
  .command('serve')
  .description(
    'Run the hub with every listener: HTTP (WebSocket at /ws, /healthz, /metrics), TCP, UDP and a Unix socket',
  )
  .option('--http <port|off>', 'HTTP and WebSocket port (default 8080)')
  .option('--tcp <port|off>', 'TCP line-protocol port (default 9090)')
  .option('--udp <port|off>', 'UDP port (default 9090)')
  .option('--unix <path|off>', 'Unix socket path (default ./switchboard.sock)')
  .option('--host <host>', 'address every listener binds to; :: or 0.0.0.0 for all (default 127.0.0.1)')
  .option('--data <dir>', 'directory of the on-disk history (default ./switchboard-data)')
  .option('--memory', 'keep history in memory only (lost on restart)')
  .option('--durability <os|fsync>', 'ack a message once in the OS cache (os, default) or on disk (fsync)')
  .option('--tls-cert <file>', 'PEM certificate: serve HTTPS and wss://')
  .option('--tls-key <file>', 'PEM private key for --tls-cert')
  .option('--allowed-origin <origin...>', 'browser origins allowed to open a WebSocket (default: any)')
  .option('--config <file>', 'a JSON file of settings (flags and SWITCHBOARD_* variables win over it)')
  .action(runServe)

program.parseAsync().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error)
  console.error(`switchboard: ${message}`)
  process.exit(1)
})
