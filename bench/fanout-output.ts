// Reads what bench/loadgen/fanout.c prints — `connected S ERRORS SECONDS`, `measuring`/`measured` around each
// window, one JSON line per window — and pairs each window with the server's CPU use over it.
import type { Readable } from 'node:stream'
import { createInterface } from 'node:readline'
import { type CpuSample, cpuShare, machineBusyShare, sampleCpu } from './proc-stats.js'

/** What the load generator prints for the fixed-rate window. */
export interface LatencyWindow {
  offered_per_s: number
  publishes: number
  expected: number
  received: number
  achieved_per_s: number
  p50_us: number
  p99_us: number
  max_us: number
  /** The load generator's CPU time over wall time; it polls while measuring, so this is near 1. */
  cpu_share: number
  /** The same without polls that found nothing: the share of its core it needed. */
  work_share: number
}

/** What it prints for each throughput window. */
export interface ThroughputWindow {
  inflight: number
  deliveries_per_s: number
  publishes_per_s: number
  cpu_share: number
  work_share: number
  lag_blocked_share: number
  errors: number
  open: number
}

/** A window's server CPU share, what the rest of the machine used meanwhile, and its CLOCK_MONOTONIC edges (µs). */
export interface WindowStats {
  serverCpuShare: number
  otherCpuShare: number
  windowUs: [number, number]
}

/** Everything one run of the load generator reported. */
export interface FanoutOutput {
  connectS?: number
  connectErrors?: number
  latency?: LatencyWindow & WindowStats
  throughput: Array<ThroughputWindow & WindowStats>
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

/**
 * Reads the load generator's `stdout` into `out` line by line, sampling the server `serverPid` at each
 * window's edges; `out` keeps the windows that finished if the load generator dies early.
 */
export async function readFanoutOutput(
  stdout: Readable,
  serverPid: number,
  out: FanoutOutput,
): Promise<void> {
  const monotonicUs = () => Number(process.hrtime.bigint() / 1000n)
  let from: CpuSample = sampleCpu(serverPid)
  let to = from
  let windowUs: [number, number] = [0, 0]
  for await (const line of createInterface({ input: stdout })) {
    if (line === 'measuring') [from, windowUs[0]] = [sampleCpu(serverPid), monotonicUs()]
    else if (line === 'measured') [to, windowUs[1]] = [sampleCpu(serverPid), monotonicUs()]
    else if (line.startsWith('connected ')) {
      const [, , errors, seconds] = line.split(' ')
      out.connectErrors = Number(errors)
      out.connectS = Number(seconds)
    }
    if (!line.startsWith('{')) continue
    const result: unknown = JSON.parse(line)
    const loadgenCpu = isResult<{ cpu_share: number }>(result, ['cpu_share']) ? result.cpu_share : 0
    const serverCpuShare = cpuShare(from, to)
    // What neither process used: someone else's work on this machine, which skews the case.
    const otherCpuShare = Math.max(0, machineBusyShare(from, to) - serverCpuShare - loadgenCpu)
    const stats = { serverCpuShare, otherCpuShare, windowUs }
    if (isResult<LatencyWindow>(result, latencyFields)) out.latency = { ...result, ...stats }
    else if (isResult<ThroughputWindow>(result, throughputFields))
      out.throughput.push({ ...result, ...stats })
    windowUs = [0, 0]
  }
}
