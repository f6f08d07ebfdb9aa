// The echo and idle-memory cases of the Socket.IO benchmark: one server process per case, driven by the C
// load generator in its Socket.IO mode, the same way bench/run.ts measures the WebSocket servers.
import { setTimeout as sleep } from 'node:timers/promises'
import { holdIdle, runEcho } from './loadgen-driver.js'
import { type CpuSample, cpuShare, machineBusyShare, readRssKiB, sampleCpu } from './proc-stats.js'
import type { EchoRow, IdleRow } from './report.js'
import { startServer } from './server-process.js'
import type { SioBenchOptions } from './sio-options.js'
import type { Cores, SioServer } from './sio-servers.js'

/** An echo is the event sent back (`42["echo",P]`), or the ack the event asked for (`431[P]`). */
export type SioVariant = 'event' | 'ack'

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** One closed-loop echo run against a fresh server process. */
export async function measureSioEcho(
  loadgen: string,
  server: SioServer,
  variant: SioVariant,
  sizeBytes: number,
  o: SioBenchOptions,
  cores: Cores,
): Promise<EchoRow> {
  const row: EchoRow = { server: server.id, label: server.label, deflate: false, sizeBytes, variant }
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
    const run = {
      port: running.port,
      mode: 'sio',
      deflate: false,
      ack: variant === 'ack',
      size: sizeBytes,
    } as const
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

/** RSS of a fresh server before and while it holds `o.idleConns` Socket.IO connections joined to `/`. */
export async function measureSioIdle(
  loadgen: string,
  server: SioServer,
  o: SioBenchOptions,
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
  const running = await startServer(server.args, cores.server, o.idleConns + 1024).catch((error: unknown) => {
    row.error = errorText(error)
  })
  if (running === undefined) return row
  try {
    // A second more for the heap to settle after startup, so the baseline is not still growing.
    await sleep(1000)
    row.rssBeforeKiB = readRssKiB(running.pid)
    const hold = await holdIdle(loadgen, cores.loadgen, running.port, 'sio', o.idleConns)
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

/** The round with the median throughput (the lower middle one for an even count); it keeps all throughputs. */
export function pickMedian(rows: readonly EchoRow[]): EchoRow {
  const sorted = [...rows].sort((a, b) => (a.result?.msgs_per_s ?? -1) - (b.result?.msgs_per_s ?? -1))
  const median = sorted[Math.floor((sorted.length - 1) / 2)]
  return rows.length === 1
    ? median
    : { ...median, attemptsMsgsPerS: rows.map((r) => r.result?.msgs_per_s ?? 0) }
}
