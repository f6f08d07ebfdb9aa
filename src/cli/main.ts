#!/usr/bin/env node
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
    'Start the server on its defaults (for now: the echo server on 8080 and TCP upper-case on 9090)',
  )
  .option('--port <n>', 'WebSocket port', parsePort, 8080)
  .option('--tcp <n>', 'TCP port', parsePort, 9090)
  .option('--deflate', 'accept permessage-deflate (RFC 7692)', false)
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .action((options: { port: number; tcp: number; deflate: boolean; host: string }) =>
    runEcho({ ...options, upper: false }),
  )

program.parseAsync().catch((error: unknown) => {
  console.error(`switchboard: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
