// One echo case and one idle hold, each against a fresh server process driven by the C load generator
// (bench/loadgen/loadgen.c): the measurements bench/run.ts and bench/socketio.ts share.
import { setTimeout as sleep } from 'node:timers/promises'
import { type EchoRun, holdIdle, runEcho, type WireMode } from './loadgen-driver.js'
import type { Cores } from './pinning.js'
import { type CpuSample, cpuShare, machineBusyShare, readRssKiB, sampleCpu } from './proc-stats.js'
import type { EchoRow, IdleRow } from './report.js'
import { measureWithServer, type ServerUnderTest } from './server-process.js'

/**
 * One closed-loop echo run: starts the server, runs `run` against it, and samples the server's CPU over the
 * measured window. `variant` names the kind of echo where a benchmark has several (Socket.IO: `event`, `ack`).
 */
export async function measureEcho(
  loadgen: string,
  server: ServerUnderTest,
  run: Omit<EchoRun, 'port'>,
  cores: Cores,
  variant?: string,
): Promise<EchoRow> {
  const row: EchoRow = { server: server.id, label: server.label, deflate: run.deflate, sizeBytes: run.size }
  if (variant !== undefined) row.variant = variant
  return measureWithServer(server, cores.server, run.conns + 1024, row, async (running) => {
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
    row.result = await runEcho(loadgen, cores.loadgen, { ...run, port: running.port }, hooks)
    if (from !== undefined && to !== undefined) {
      row.serverCpuShare = cpuShare(from, to)
      // What neither process used: someone else's work on this machine, which skews the case.
      row.otherCpuShare = Math.max(0, machineBusyShare(from, to) - row.serverCpuShare - row.result.cpu_share)
    }
  })
}

/** How many idle connections to hold, and for how long before the server's RSS is read. */
export interface IdleHoldOptions {
  idleConns: number
  idleHoldS: number
}

/** RSS of a fresh server before and while it holds `o.idleConns` connections (Socket.IO: joined to `/`). */
export async function measureIdle(
  loadgen: string,
  server: ServerUnderTest,
  mode: WireMode,
  o: IdleHoldOptions,
  cores: Cores,
): Promise<IdleRow> {
  const row: IdleRow = {
    server: server.id,
    label: server.label,
    open: 0,
    errors: 0,
    rssBeforeKiB: 0,
    rssAfterKiB: 0,
    perConnKiB: 0,
  }
  return measureWithServer(server, cores.server, o.idleConns + 1024, row, async (running) => {
    // A second more for the heap to settle after startup, so the baseline is not still growing.
    await sleep(1000)
    row.rssBeforeKiB = readRssKiB(running.pid)
    const hold = await holdIdle(loadgen, cores.loadgen, running.port, mode, o.idleConns)
    await sleep(o.idleHoldS * 1000)
    row.rssAfterKiB = readRssKiB(running.pid)
    await hold.release()
    Object.assign(row, { open: hold.open, errors: hold.errors })
    row.perConnKiB = (row.rssAfterKiB - row.rssBeforeKiB) / Math.max(hold.open, 1)
  })
}

/** The round with the median throughput (the lower middle one for an even count); it keeps all throughputs. */
export function pickMedian(rows: readonly EchoRow[]): EchoRow {
  const sorted = [...rows].sort((a, b) => (a.result?.msgs_per_s ?? -1) - (b.result?.msgs_per_s ?? -1))
  const median = sorted[Math.floor((sorted.length - 1) / 2)]
  return rows.length === 1
    ? median
    : { ...median, attemptsMsgsPerS: rows.map((r) => r.result?.msgs_per_s ?? 0) }
}
