// The room-broadcast case of the Socket.IO benchmark: S subscribers and one publisher in room `bench`,
// driven by bench/loadgen/fanout.c in its Socket.IO mode, measured as bench/fanout.ts measures the hub.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { pinnedCommand } from './pinning.js'
import { type CpuSample, cpuShare, machineBusyShare, sampleCpu, waitForQuiet } from './proc-stats.js'
import { type RunningServer, startServer } from './server-process.js'
import { errorText } from './sio-echo.js'
import type { SioBenchOptions } from './sio-options.js'
import type { Cores, SioServer } from './sio-servers.js'

/** What the load generator prints for the fixed-rate window (bench/loadgen/fanout.c). */
export interface LatencyWindow {
  offered_per_s: number
  expected: number
  received: number
  achieved_per_s: number
  p50_us: number
  p99_us: number
  /** The share of its core the load generator needed: CPU time without polls that found nothing. */
  work_share: number
}

/** What it prints for each throughput window. */
export interface ThroughputWindow {
  inflight: number
  deliveries_per_s: number
  work_share: number
  lag_blocked_share: number
  errors: number
  open: number
}

/** The server's CPU share over a window, and what the rest of the machine used meanwhile (in cores). */
export interface WindowStats {
  serverCpuShare: number
  otherCpuShare: number
}

/** One server × subscriber count: one latency window, then one throughput window per K. */
export interface BroadcastRow {
  server: SioServer['id']
  label: string
  subs: number
  quiet: boolean
  connectS?: number
  connectErrors?: number
  latency?: LatencyWindow & WindowStats
  throughput: Array<ThroughputWindow & WindowStats>
  error?: string
}

const latencyFields = ['offered_per_s', 'expected', 'received', 'p99_us', 'work_share'] as const
const throughputFields = [
  'inflight',
  'deliveries_per_s',
  'work_share',
  'lag_blocked_share',
  'errors',
] as const

/** True when `value` is a result line with every one of `fields` a number. */
function isResult<T>(value: unknown, fields: readonly (keyof T & string)[]): value is T {
  if (typeof value !== 'object' || value === null) return false
  return fields.every((field) => typeof (value as Record<string, unknown>)[field] === 'number')
}

/** Reads the load generator's lines: `connected S ERRORS SECONDS`, `measuring`/`measured`, JSON results. */
async function readFanout(child: ChildProcess, pid: number, row: BroadcastRow): Promise<void> {
  let from: CpuSample = sampleCpu(pid)
  let to = from
  for await (const line of createInterface({ input: child.stdout! })) {
    if (line === 'measuring') from = sampleCpu(pid)
    else if (line === 'measured') to = sampleCpu(pid)
    else if (line.startsWith('connected ')) {
      const [, , errors, seconds] = line.split(' ')
      row.connectErrors = Number(errors)
      row.connectS = Number(seconds)
    }
    if (!line.startsWith('{')) continue
    const result: unknown = JSON.parse(line)
    const loadgenCpu = isResult<{ cpu_share: number }>(result, ['cpu_share']) ? result.cpu_share : 0
    const serverCpuShare = cpuShare(from, to)
    // What neither process used: someone else's work on this machine, which skews the case.
    const otherCpuShare = Math.max(0, machineBusyShare(from, to) - serverCpuShare - loadgenCpu)
    const stats = { serverCpuShare, otherCpuShare }
    if (isResult<LatencyWindow>(result, latencyFields)) row.latency = { ...result, ...stats }
    else if (isResult<ThroughputWindow>(result, throughputFields))
      row.throughput.push({ ...result, ...stats })
  }
}

/** Starts the server, runs the fan-out load generator against it, and stops both. */
export async function measureSioBroadcast(
  fanout: string,
  server: SioServer,
  subs: number,
  o: SioBenchOptions,
  cores: Cores,
): Promise<BroadcastRow> {
  const quiet = await waitForQuiet()
  const row: BroadcastRow = { server: server.id, label: server.label, subs, quiet, throughput: [] }
  let running: RunningServer | undefined
  try {
    running = await startServer(server.args, cores.server, subs + 1024)
    const args = ['--port', String(running.port), '--kind', 'sio', '--subs', String(subs)]
    args.push('--inflight', o.pubInflight.join(','), '--rate', String(o.rate))
    args.push('--warmup', String(o.warmupS), '--duration', String(o.durationS))
    args.push('--lat-warmup', String(o.warmupS), '--lat-duration', String(o.durationS))
    const [command, argv] = pinnedCommand(cores.loadgen, subs + 64, [fanout, ...args])
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stderr?.setEncoding('utf8').on('data', (text: string) => process.stderr.write(text))
    const exited = once(child, 'exit')
    await readFanout(child, running.pid, row)
    const [code, signal] = await exited
    if (row.throughput.length < o.pubInflight.length)
      throw new Error(`load generator exited (${signal ?? code}) before its last window`)
  } catch (error) {
    row.error = `${errorText(error)} ${running?.stderr() ?? ''}`.trim()
  } finally {
    await running?.stop()
  }
  return row
}
