// `npm run bench:socketio`: our Socket.IO server against the npm `socket.io` server, WebSocket transport
// only — echo (event, event + ack), a room broadcast, idle memory — each server on core 0 while the C load
// generators drive it from core 1. Ratios are ours ÷ socket.io. Method and results: bench/SOCKETIO.md.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { measureIdle, pickMedian } from './echo-case.js'
import {
  fanoutNotes,
  formatFanoutLatencyTable,
  formatFanoutThroughputTable,
  summarizeFanoutRow,
} from './fanout-report.js'
import { root, startHarness, writeHarnessResults } from './harness.js'
import { buildLoadgen } from './loadgen-driver.js'
import type { Cores } from './pinning.js'
import { quietWaitS, waitForQuiet } from './proc-stats.js'
import { count, type EchoRow, echoNotes, formatEchoTable, formatIdleTable, type IdleRow } from './report.js'
import { type BroadcastRow, measureSioBroadcast } from './sio-broadcast.js'
import { measureSioEcho, type SioVariant } from './sio-echo.js'
import { parseSioBenchOptions, type SioBenchOptions } from './sio-options.js'
import { formatSummary } from './sio-report.js'
import { baseline, listSioServers, type SioServer } from './sio-servers.js'

const variants: readonly SioVariant[] = ['event', 'ack']

/** Rounds through every echo case in turn, so a slow spell of the machine hits both servers alike. */
async function runEchoCases(
  loadgen: string,
  servers: readonly SioServer[],
  o: SioBenchOptions,
  cores: Cores,
) {
  const attempts = new Map<string, EchoRow[]>()
  for (let round = 1; round <= o.repeat; round++) {
    for (const server of servers) {
      for (const variant of variants) {
        for (const size of o.sizes) {
          if (!(await waitForQuiet()))
            console.log(`the machine stayed busy for ${quietWaitS} s; measuring anyway`)
          const row = await measureSioEcho(loadgen, server, variant, size, o, cores)
          const summary = row.result
            ? `${count.format(row.result.msgs_per_s)} msgs/s, ${row.result.errors} errors`
            : `failed: ${row.error}`
          console.log(
            `${o.repeat > 1 ? `round ${round}: ` : ''}${server.label} ${variant} ${size} B: ${summary}`,
          )
          const key = `${variant} ${size} ${server.id}`
          attempts.set(key, [...(attempts.get(key) ?? []), row])
        }
      }
    }
  }
  // Table order: case by case, ours next to socket.io.
  const keys = variants.flatMap((v) => o.sizes.flatMap((size) => servers.map((s) => `${v} ${size} ${s.id}`)))
  return keys.flatMap((key) => {
    const rows = attempts.get(key)
    return rows === undefined ? [] : [pickMedian(rows)]
  })
}

async function runBroadcastCases(
  fanout: string,
  servers: readonly SioServer[],
  o: SioBenchOptions,
  cores: Cores,
) {
  const rows: BroadcastRow[] = []
  for (const subs of o.subs) {
    for (const server of servers) {
      const row = await measureSioBroadcast(fanout, server, subs, o, cores)
      console.log(`${server.label} broadcast × ${count.format(subs)}: ${summarizeFanoutRow(row)}`)
      rows.push(row)
    }
  }
  return rows
}

async function runIdleCases(
  loadgen: string,
  servers: readonly SioServer[],
  o: SioBenchOptions,
  cores: Cores,
) {
  const rows: IdleRow[] = []
  for (const server of o.idleConns > 0 ? servers : []) {
    await waitForQuiet()
    const row = await measureIdle(loadgen, server, 'sio', o, cores)
    const summary =
      row.error ?? `${row.perConnKiB.toFixed(1)} KiB/connection, ${row.open} open, ${row.errors} errors`
    console.log(`${server.label} idle: ${summary}`)
    rows.push(row)
  }
  return rows
}

function printTables(o: SioBenchOptions, echo: EchoRow[], broadcast: BroadcastRow[], idle: IdleRow[]) {
  if (echo.length > 0) {
    console.log(
      `\nEcho: ${o.conns} connections × ${o.inflight} in flight, ${o.durationS} s after ${o.warmupS} s warmup` +
        `${o.repeat > 1 ? `, median of ${o.repeat} rounds` : ''}; size is the event's string\n`,
    )
    const sameCase = (rows: readonly EchoRow[], row: EchoRow) =>
      rows.find((r) => r.server === baseline.id && r.variant === row.variant && r.sizeBytes === row.sizeBytes)
    const labelled = echo.map((row) => ({ ...row, label: `${row.label}, ${row.variant}` }))
    console.log(formatEchoTable(labelled, { head: `vs ${baseline.label}`, baseline: sameCase }))
    for (const note of echoNotes(labelled)) console.log(`- ${note}`)
  }
  if (broadcast.length > 0) {
    console.log(`\nBroadcast: 64 B messages, ${o.durationS} s per K after ${o.warmupS} s warmup\n`)
    console.log(formatFanoutThroughputTable(broadcast, baseline))
    console.log(`\nBroadcast latency at a fixed offered rate: ${o.durationS} s after ${o.warmupS} s warmup\n`)
    console.log(formatFanoutLatencyTable(broadcast, baseline))
    for (const note of fanoutNotes(broadcast, { connectErrors: true })) console.log(`- ${note}`)
  }
  if (idle.length > 0) {
    console.log(`\nIdle memory: ${o.idleConns} connections held ${o.idleHoldS} s\n`)
    console.log(formatIdleTable(idle, baseline))
  }
  console.log(`\nOurs ÷ ${baseline.label}, against the issue's targets\n`)
  console.log(formatSummary(echo, broadcast, idle))
}

/** The installed npm `socket.io`'s version, for the results file. */
function socketIoVersion(): string {
  const manifest: unknown = JSON.parse(
    readFileSync(join(root, 'node_modules/socket.io/package.json'), 'utf8'),
  )
  const version = (manifest as { version?: unknown }).version
  return typeof version === 'string' ? version : 'unknown'
}

async function main(): Promise<void> {
  const harness = startHarness(parseSioBenchOptions)
  if (harness === undefined) return
  const { options: o, cores } = harness
  const loadgen = buildLoadgen(root)
  const fanout = buildLoadgen(root, 'fanout')
  const servers = listSioServers(root).filter((s) => o.only.length === 0 || o.only.includes(s.id))

  const echo = await runEchoCases(loadgen, servers, o, cores)
  const broadcast = await runBroadcastCases(fanout, servers, o, cores)
  const idle = await runIdleCases(loadgen, servers, o, cores)
  printTables(o, echo, broadcast, idle)
  writeHarnessResults('socketio', harness, { echo, broadcast, idle }, { socketIo: socketIoVersion() })
}

await main()
