// `npm run bench:fanout`: broadcast fan-out through the hub over WebSocket — 1 publisher, S subscribers,
// 64-byte messages — side by side with `ws` and a raw `net` server. Each server runs on core 0 while the C
// load generator (bench/loadgen/fanout.c) drives it from core 1. Method and results: bench/FANOUT.md.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { type FanoutRow, measureFanout } from './fanout-case.js'
import {
  fanoutNotes,
  formatFanoutLatencyTable,
  formatFanoutThroughputTable,
  summarizeFanoutRow,
} from './fanout-report.js'
import { root, startHarness, writeHarnessResults } from './harness.js'
import { buildLoadgen } from './loadgen-driver.js'
import type { Cores } from './pinning.js'
import { quietShare } from './proc-stats.js'
import { count, formatPercent } from './report.js'
import type { ServerUnderTest } from './server-process.js'

/** What one run measures and for how long. */
interface FanoutOptions {
  /** Server ids (`ours`, `ws`, `ws-frame-once`, `net`); empty means all. */
  only: string[]
  /** Subscriber counts. */
  subs: number[]
  /** Publishes kept in flight (unacked): one throughput window per value, on the same connections. */
  inflight: number[]
  /** Offered deliveries/s of the latency window: the publisher sends rate ÷ S messages per second. */
  rate: number
  warmupS: number
  durationS: number
  latWarmupS: number
  latDurationS: number
  /** Runs ours under `node --cpu-prof` and prints its hottest functions over the throughput window. */
  cpuProf: boolean
  /** Gives every subscriber of ours its own nickname, so each join is announced to the whole room. */
  distinctNicks: boolean
  /** Reruns of a case in which other processes used the machine; the quietest attempt is kept. */
  retries: number
}

/** A full run: 8 cases of 10-17 s, about 2 minutes on an idle machine (a noisy case runs twice). */
const defaults: FanoutOptions = {
  only: [],
  subs: [1000, 10000],
  inflight: [4, 16],
  rate: 20000,
  warmupS: 1,
  durationS: 2,
  latWarmupS: 1,
  latDurationS: 4,
  cpuProf: false,
  distinctNicks: false,
  retries: 1,
}

/** `--quick`: checks the harness in about 20 s rather than measuring. */
const quick: Partial<FanoutOptions> = {
  subs: [1000],
  warmupS: 0.3,
  durationS: 1,
  latWarmupS: 0.5,
  latDurationS: 1,
}

const usage = `usage: npm run bench:fanout -- [--quick] [--only=ours,ws,ws-frame-once,net] [--subs=1000,10000]
         [--inflight=4,16] [--rate=20000] [--warmup=1] [--duration=2] [--lat-warmup=1] [--lat-duration=4]
         [--retries=1] [--cpu-prof] [--distinct-nicks]`

function parseNumber(flag: string, value: string): number {
  const n = Number(value)
  if (value === '' || !Number.isFinite(n) || n <= 0)
    throw new RangeError(`${flag} wants a number above 0, got '${value}'`)
  return n
}

/** Parses argv after the script name; throws a RangeError naming the bad flag. */
function parseOptions(argv: readonly string[]): FanoutOptions {
  const o: FanoutOptions = { ...defaults, ...(argv.includes('--quick') ? quick : {}) }
  const seconds = { '--warmup': 'warmupS', '--duration': 'durationS', '--lat-warmup': 'latWarmupS' } as const
  for (const arg of argv) {
    const [flag, value = ''] = arg.split('=', 2)
    if (flag === '--quick') continue
    else if (flag === '--cpu-prof') o.cpuProf = true
    else if (flag === '--distinct-nicks') o.distinctNicks = true
    else if (flag === '--only') o.only = value.split(',').filter((id) => id !== '')
    else if (flag === '--subs' || flag === '--inflight')
      o[flag === '--subs' ? 'subs' : 'inflight'] = value
        .split(',')
        .map((n) => Math.round(parseNumber(flag, n)))
    else if (flag === '--rate') o.rate = parseNumber(flag, value)
    else if (flag === '--retries') o.retries = value === '0' ? 0 : Math.round(parseNumber(flag, value))
    else if (flag === '--lat-duration') o.latDurationS = parseNumber(flag, value)
    else if (flag in seconds) o[seconds[flag as keyof typeof seconds]] = parseNumber(flag, value)
    else throw new RangeError(`unknown flag '${arg}'\n${usage}`)
  }
  const unknown = o.only.find((id) => !(serverIds as readonly string[]).includes(id))
  if (unknown !== undefined) throw new RangeError(`--only: no server '${unknown}' (${serverIds.join(', ')})`)
  return o
}

/** The servers, in table order; `--only` takes these ids. */
const serverIds = ['ours', 'ws', 'ws-frame-once', 'net'] as const

type ServerId = (typeof serverIds)[number]

/** One server under test. */
interface FanoutServer extends ServerUnderTest<ServerId> {
  /** The load generator's dialect: our hub's protocols, any relay that acks, or length prefixes. */
  kind: 'ours' | 'ws' | 'raw'
}

/** What every ratio divides by. */
const baseline = { id: 'ws', label: 'ws' } as const

function listServers(configPath: string, profileDir: string | null): FanoutServer[] {
  const peer = (file: string) => join(root, 'dist/bench/fanout-peers', file)
  const prof = profileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]
  const serve = ['serve', '--http', '0', '--tcp', 'off', '--udp', 'off', '--unix', 'off', '--memory']
  return [
    {
      id: 'ours',
      label: profileDir === null ? 'ours' : 'ours (profiled)',
      kind: 'ours',
      args: [...prof, join(root, 'dist/src/cli/main.js'), ...serve, '--config', configPath],
    },
    { id: 'ws', label: 'ws', kind: 'ws', args: [peer('ws-fanout.js')] },
    {
      id: 'ws-frame-once',
      label: 'ws, framed once',
      kind: 'ws',
      args: [peer('ws-fanout.js'), '--frame-once'],
    },
    { id: 'net', label: 'net (raw)', kind: 'raw', args: [peer('net-fanout.js')] },
  ]
}

/** Limits of ours raised out of the benchmark's way: one publisher at full speed, 10,000+ connections from 127.0.0.1. */
function writeOursConfig(dir: string): string {
  const limits = {
    messagesPerSecond: 1_000_000_000,
    messageBurst: 1_000_000_000,
    maxConnections: 50_000,
    maxConnectionsPerIp: 50_000,
  }
  const path = join(dir, 'fanout-config.json')
  writeFileSync(path, JSON.stringify({ limits }))
  return path
}

/** Starts the server, runs the load generator against it, and stops both. */
function measure(binary: string, server: FanoutServer, subs: number, o: FanoutOptions, cores: Cores) {
  const { inflight, rate, warmupS, durationS, latWarmupS, latDurationS, distinctNicks } = o
  const run = { kind: server.kind, subs, inflight, rate, warmupS, durationS, latWarmupS, latDurationS }
  return measureFanout(binary, server, { ...run, distinctNicks }, cores)
}

/** The most other processes used of the machine in any window of the case (in cores). */
function noise(row: FanoutRow): number {
  const windows = [...(row.latency ? [row.latency] : []), ...row.throughput]
  return Math.max(0, ...windows.map((w) => w.otherCpuShare))
}

/** Measures a case, and again (up to `o.retries` times) while a neighbour's load spoiled it; keeps the quietest. */
async function measureQuietest(
  binary: string,
  server: FanoutServer,
  subs: number,
  o: FanoutOptions,
  cores: Cores,
) {
  let best = await measure(binary, server, subs, o, cores)
  for (let retry = 1; retry <= o.retries && noise(best) > quietShare && best.error === undefined; retry++) {
    console.log(
      `${server.label} × ${count.format(subs)}: others used ${formatPercent(noise(best))}% of a core; again`,
    )
    const row = await measure(binary, server, subs, o, cores)
    if (row.error === undefined && noise(row) < noise(best)) best = row
  }
  return best
}

/** The functions with the most self time in a CPU profile's samples inside `windows` (CLOCK_MONOTONIC µs). */
function topFunctions(profilePath: string, windows: Array<[number, number]>, count = 12): string[] {
  interface ProfileNode {
    id: number
    callFrame: { functionName: string; url: string; lineNumber: number }
  }
  const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as {
    nodes: ProfileNode[]
    startTime: number
    samples: number[]
    timeDeltas: number[]
  }
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
  const self = new Map<string, number>()
  let t = profile.startTime
  let total = 0
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i]
    if (!windows.some(([from, to]) => t >= from && t <= to)) return
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame
    const key = `${functionName || '(anonymous)'}${url === '' ? '' : ` ${basename(url)}:${lineNumber + 1}`}`
    self.set(key, (self.get(key) ?? 0) + 1)
    total++
  })
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, n]) => `${((100 * n) / Math.max(total, 1)).toFixed(1).padStart(5)}%  ${name}`)
}

/** Runs every server × subscriber count, printing a line after each case. */
async function runCases(o: FanoutOptions, cores: Cores) {
  const binary = buildLoadgen(root, 'fanout')
  const scratch = mkdtempSync(join(tmpdir(), 'switchboard-fanout-'))
  const profileDir = o.cpuProf ? join(scratch, 'profiles') : null
  const servers = listServers(writeOursConfig(scratch), profileDir)
  const rows: FanoutRow<ServerId>[] = []
  const profiles: Array<{ subs: number; top: string[] }> = []
  for (const subs of o.subs) {
    for (const server of servers.filter((s) => o.only.length === 0 || o.only.includes(s.id))) {
      const row = await measureQuietest(binary, server, subs, o, cores)
      console.log(`${server.label} × ${count.format(subs)}: ${summarizeFanoutRow(row)}`)
      rows.push(row)
      // Node writes the profile as the server exits; one server runs at a time, so the newest is this one's.
      const newest =
        profileDir !== null && server.id === 'ours' ? readdirSync(profileDir).sort().at(-1) : undefined
      if (profileDir !== null && newest !== undefined) {
        const windows = row.throughput.map((w) => w.windowUs)
        profiles.push({ subs, top: topFunctions(join(profileDir, newest), windows) })
      }
    }
  }
  return { rows, profiles }
}

async function main(): Promise<void> {
  const harness = startHarness(parseOptions)
  if (harness === undefined) return
  const { options: o, cores } = harness
  const { rows, profiles } = await runCases(o, cores)
  console.log(`\nThroughput: 64 B messages, ${o.durationS} s per K after ${o.warmupS} s warmup\n`)
  console.log(formatFanoutThroughputTable(rows, baseline))
  console.log(`\nLatency at a fixed offered rate: ${o.latDurationS} s after ${o.latWarmupS} s warmup\n`)
  console.log(formatFanoutLatencyTable(rows, baseline))
  for (const note of fanoutNotes(rows)) console.log(`- ${note}`)
  for (const { subs, top } of profiles) {
    console.log(`\nours × ${count.format(subs)}: self time over the throughput windows (node --cpu-prof)`)
    for (const line of top) console.log(`  ${line}`)
  }
  writeHarnessResults('fanout', harness, { rows, profiles })
}

await main()
