// `npm run bench`: the echo benchmark. Each server runs on core 0 while the C load generator drives it
// from core 1; then each holds thousands of idle connections for the memory table. See bench/README.md.
import { cpus, release } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildLoadgen, holdIdle, runEcho } from './loadgen-driver.js'
import { type BenchOptions, parseBenchOptions } from './options.js'
import { loadgenCore, pinningProblem, serverCore } from './pinning.js'
import {
  type CpuSample,
  cpuShare,
  machineBusyShare,
  quietWaitS,
  waitForQuiet,
  readRssKiB,
  sampleCpu,
} from './proc-stats.js'
import { echoNotes, type EchoRow, formatEchoTable, formatIdleTable, type IdleRow } from './report.js'
import { hasOurs, isSelected, listServers, oursEntry, type ServerSpec } from './servers.js'
import { writeResults } from './results-file.js'
import { startServer, serverNodeFlags } from './server-process.js'

/** The repository root, from dist/bench/run.js. */
const root = fileURLToPath(new URL('../../', import.meta.url))

interface Cores {
  server: number | null
  loadgen: number | null
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

async function measureEcho(
  loadgen: string,
  server: ServerSpec,
  sizeBytes: number,
  o: BenchOptions,
  cores: Cores,
) {
  const row: EchoRow = { server: server.id, label: server.label, deflate: server.deflate, sizeBytes }
  const running = await startServer(server.args, cores.server, o.conns + 1024).catch((error: unknown) => {
    row.error = errorText(error)
  })
  if (running === undefined) return row
  try {
    let from: CpuSample | undefined
    let to: CpuSample | undefined
    const hooks = {
      onMeasuring: () => {
        from = sampleCpu(running.pid)
      },
      onMeasured: () => {
        to = sampleCpu(running.pid)
      },
    }
    const { conns, inflight, warmupS, durationS } = o
    const run = { port: running.port, mode: server.mode, deflate: server.deflate, size: sizeBytes }
    row.result = await runEcho(loadgen, cores.loadgen, { ...run, conns, inflight, warmupS, durationS }, hooks)
    if (from !== undefined && to !== undefined) {
      row.serverCpuShare = cpuShare(from, to)
      // What neither process used: someone else's work on this machine, which skews the case.
      row.otherCpuShare = Math.max(0, machineBusyShare(from, to) - row.serverCpuShare - row.result.cpu_share)
    }
  } catch (error) {
    row.error = `${errorText(error)} ${running.stderr()}`.trim()
  } finally {
    await running.stop()
  }
  return row
}

async function measureIdle(loadgen: string, server: ServerSpec, o: BenchOptions, cores: Cores) {
  const row: IdleRow = {
    server: server.id,
    label: server.label,
    open: 0,
    errors: 0,
    rssBeforeKiB: 0,
    rssAfterKiB: 0,
    perConnKiB: 0,
  }
  const running = await startServer(server.args, cores.server, o.idleConns + 1024).catch((error: unknown) => {
    row.error = errorText(error)
  })
  if (running === undefined) return row
  try {
    // A second more for the heap to settle after startup, so the baseline is not still growing.
    await sleep(1000)
    row.rssBeforeKiB = readRssKiB(running.pid)
    const hold = await holdIdle(loadgen, cores.loadgen, running.port, server.mode, o.idleConns)
    await sleep(o.idleHoldS * 1000)
    row.rssAfterKiB = readRssKiB(running.pid)
    await hold.release()
    Object.assign(row, { open: hold.open, errors: hold.errors })
    row.perConnKiB = (row.rssAfterKiB - row.rssBeforeKiB) / Math.max(hold.open, 1)
  } catch (error) {
    row.error = `${errorText(error)} ${running.stderr()}`.trim()
  } finally {
    await running.stop()
  }
  return row
}

/** The attempt with the median throughput (the lower middle one for an even count); it keeps all throughputs. */
function pickMedian(rows: EchoRow[]): EchoRow {
  const sorted = [...rows].sort((a, b) => (a.result?.msgs_per_s ?? -1) - (b.result?.msgs_per_s ?? -1))
  const median = sorted[Math.floor((sorted.length - 1) / 2)]
  return rows.length === 1
    ? median
    : { ...median, attemptsMsgsPerS: rows.map((r) => r.result?.msgs_per_s ?? 0) }
}

function chooseServers(o: BenchOptions): ServerSpec[] {
  const selected = listServers(root).filter((server) => isSelected(server, o.only))
  if (selected.some((server) => server.family === 'ours') && !hasOurs(root)) {
    console.log(`ours: skipped, ${oursEntry} is not built (run \`npm run build\` once src/cli/ exists)`)
    return selected.filter((server) => server.family !== 'ours')
  }
  return selected
}

function resultPath(startedAt: Date): string {
  const stamp = startedAt.toISOString().slice(0, 19).replace(/:/g, '-')
  return join(root, 'bench/results', `echo-${stamp}Z.json`)
}

async function main(): Promise<void> {
  let o: BenchOptions
  try {
    o = parseBenchOptions(process.argv.slice(2))
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
  const servers = chooseServers(o)

  // Rounds go through every case in turn, so a slow spell of the machine hits all servers alike.
  const attempts = new Map<string, EchoRow[]>()
  for (let round = 1; round <= o.repeat; round++) {
    for (const server of servers) {
      for (const size of o.sizes) {
        if (!(await waitForQuiet()))
          console.log(`the machine stayed busy for ${quietWaitS} s; measuring anyway`)
        const row = await measureEcho(loadgen, server, size, o, cores)
        const summary = row.result ? `${Math.round(row.result.msgs_per_s)} msgs/s` : `failed: ${row.error}`
        console.log(`${o.repeat > 1 ? `round ${round}: ` : ''}${server.label} ${size} B: ${summary}`)
        const key = `${server.id} ${size}`
        attempts.set(key, [...(attempts.get(key) ?? []), row])
      }
    }
  }
  const echo = [...attempts.values()].map(pickMedian)
  const idle: IdleRow[] = []
  for (const server of o.idleConns > 0 ? servers.filter((s) => !s.deflate) : []) {
    await waitForQuiet()
    const row = await measureIdle(loadgen, server, o, cores)
    console.log(`${server.label} idle: ${row.error ?? `${row.perConnKiB.toFixed(1)} KiB/connection`}`)
    idle.push(row)
  }

  console.log(
    `\nEcho: ${o.conns} connections × ${o.inflight} in flight, ${o.durationS} s after ${o.warmupS} s warmup` +
      `${o.repeat > 1 ? `, median of ${o.repeat} rounds` : ''}\n`,
  )
  console.log(formatEchoTable(echo))
  for (const note of echoNotes(echo)) console.log(`- ${note}`)
  if (idle.length > 0) {
    console.log(`\nIdle memory: ${o.idleConns} connections held ${o.idleHoldS} s\n`)
    console.log(formatIdleTable(idle))
  }
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    kernel: release(),
    node: process.version,
  }
  const path = resultPath(startedAt)
  writeResults(path, {
    startedAt: startedAt.toISOString(),
    machine,
    pinned: problem === null,
    options: o,
    echo,
    idle,
  })
  console.log(`\nwrote ${path.slice(root.length)}`)
}

await main()
