// `npm run bench:socketio`: our Socket.IO server against the npm `socket.io` server, WebSocket transport
// only — echo (event, event + ack), a room broadcast, idle memory — each server on core 0 while the C load
// generators drive it from core 1. Ratios are ours ÷ socket.io. Method and results: bench/SOCKETIO.md.
import { readFileSync } from 'node:fs'
import { cpus, release } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildLoadgen } from './loadgen-driver.js'
import { loadgenCore, pinningProblem, serverCore } from './pinning.js'
import { quietWaitS, waitForQuiet } from './proc-stats.js'
import { count, type EchoRow, echoNotes, formatEchoTable, formatIdleTable, type IdleRow } from './report.js'
import { writeResults } from './results-file.js'
import { serverNodeFlags } from './server-process.js'
import { type BroadcastRow, measureSioBroadcast } from './sio-broadcast.js'
import { errorText, measureSioEcho, measureSioIdle, pickMedian, type SioVariant } from './sio-echo.js'
import { parseSioBenchOptions, type SioBenchOptions } from './sio-options.js'
import {
  broadcastNotes,
  formatBroadcastLatencyTable,
  formatBroadcastTable,
  formatSummary,
} from './sio-report.js'
import { baseline, type Cores, listSioServers, type SioServer } from './sio-servers.js'

/** The repository root, from dist/bench/socketio.js. */
const root = fileURLToPath(new URL('../../', import.meta.url))

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
      const rates = row.throughput.map((w) => `K=${w.inflight} ${count.format(w.deliveries_per_s)}/s`)
      const p99 = row.latency ? `, p99 ${count.format(row.latency.p99_us)} µs` : ''
      console.log(
        `${server.label} broadcast × ${count.format(subs)}: ${row.error ?? `${rates.join(', ')}${p99}`}`,
      )
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
    const row = await measureSioIdle(loadgen, server, o, cores)
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
    console.log(formatBroadcastTable(broadcast))
    console.log(`\nBroadcast latency at a fixed offered rate: ${o.durationS} s after ${o.warmupS} s warmup\n`)
    console.log(formatBroadcastLatencyTable(broadcast))
    for (const note of broadcastNotes(broadcast)) console.log(`- ${note}`)
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
  let o: SioBenchOptions
  try {
    o = parseSioBenchOptions(process.argv.slice(2))
  } catch (error) {
    console.error(errorText(error))
    process.exitCode = 2
    return
  }
  const startedAt = new Date()
  const problem = pinningProblem()
  console.log(`servers run under: node ${serverNodeFlags.join(' ') || '(V8 defaults)'}`)
  if (problem !== null) console.log(`not pinning to cores: ${problem}; expect noisier numbers`)
  const cores: Cores =
    problem === null ? { server: serverCore, loadgen: loadgenCore } : { server: null, loadgen: null }
  const loadgen = buildLoadgen(root)
  const fanout = buildLoadgen(root, 'fanout')
  const servers = listSioServers(root).filter((s) => o.only.length === 0 || o.only.includes(s.id))

  const echo = await runEchoCases(loadgen, servers, o, cores)
  const broadcast = await runBroadcastCases(fanout, servers, o, cores)
  const idle = await runIdleCases(loadgen, servers, o, cores)
  printTables(o, echo, broadcast, idle)

  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    kernel: release(),
    node: process.version,
    socketIo: socketIoVersion(),
  }
  const stamp = startedAt.toISOString().slice(0, 19).replace(/:/g, '-')
  const path = join(root, 'bench/results', `socketio-${stamp}Z.json`)
  const pinned = problem === null
  writeResults(path, {
    startedAt: startedAt.toISOString(),
    machine,
    pinned,
    options: o,
    echo,
    broadcast,
    idle,
  })
  console.log(`\nwrote ${path.slice(root.length)}`)
}

await main()
