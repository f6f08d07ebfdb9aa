// `npm run bench:fanout`: broadcast fan-out through the hub over WebSocket — 1 publisher, S subscribers,
// 64-byte messages — side by side with `ws` and a raw `net` server. Each server runs on core 0 while the C
// load generator (bench/loadgen/fanout.c) drives it from core 1. Method and results: bench/FANOUT.md.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { cpus, release, tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { loadgenCore, pinnedCommand, pinningProblem, serverCore } from './pinning.js'
import {
  type CpuSample,
  cpuShare,
  machineBusyShare,
  quietShare,
  quietWaitS,
  sampleCpu,
  waitForQuiet,
} from './proc-stats.js'
import { writeResults } from './results-file.js'
import { type RunningServer, startServer, serverNodeFlags } from './server-process.js'

/** The repository root, from dist/bench/fanout.js. */
const root = fileURLToPath(new URL('../../', import.meta.url))

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

/** The cores the server and the load generator are pinned to; null when pinning is unavailable. */
interface Cores {
  server: number | null
  loadgen: number | null
}

/** The servers, in table order; `--only` takes these ids. */
const serverIds = ['ours', 'ws', 'ws-frame-once', 'net'] as const

/** One server under test. */
interface FanoutServer {
  id: (typeof serverIds)[number]
  label: string
  /** The load generator's dialect: our hub's protocols, any relay that acks, or length prefixes. */
  kind: 'ours' | 'ws' | 'raw'
  /** Arguments for `node`. */
  args: string[]
}

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

/** Compiles bench/loadgen/fanout.c (with wire.c) into bench/.build/ when a source is newer. */
function buildLoadgen(): string {
  const dir = join(root, 'bench/loadgen')
  const binary = join(root, 'bench/.build/fanout')
  const sources = ['fanout.c', 'wire.c'].map((file) => join(dir, file))
  const mtime = (path: string) => statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0
  if (mtime(binary) > Math.max(...[...sources, join(dir, 'wire.h')].map(mtime))) return binary
  mkdirSync(join(root, 'bench/.build'), { recursive: true })
  // wire.c includes zlib.h: `npm run bench` installs zlib1g-dev when missing.
  execFileSync('gcc', ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-o', binary, ...sources, '-lz'], {
    stdio: 'inherit',
  })
  return binary
}

/** What the load generator prints for the fixed-rate window (bench/loadgen/fanout.c). */
interface LatencyResult {
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
interface ThroughputResult {
  inflight: number
  deliveries_per_s: number
  publishes_per_s: number
  cpu_share: number
  work_share: number
  lag_blocked_share: number
  errors: number
  open: number
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

/** A window's server CPU share, what the rest of the machine used meanwhile, and its CLOCK_MONOTONIC edges. */
interface WindowStats {
  serverCpuShare: number
  otherCpuShare: number
  windowUs: [number, number]
}

/** One server × subscriber count: one latency window, then one throughput window per K. */
interface FanoutRow {
  server: FanoutServer['id']
  label: string
  subs: number
  quiet: boolean
  connectS?: number
  latency?: LatencyResult & WindowStats
  throughput: Array<ThroughputResult & WindowStats>
  error?: string
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Reads the load generator's lines: `connected …`, `measuring`/`measured` around each window, JSON results. */
async function readLoadgen(child: ChildProcess, pid: number, row: FanoutRow): Promise<void> {
  const monotonicUs = () => Number(process.hrtime.bigint() / 1000n)
  let from: CpuSample = sampleCpu(pid)
  let to = from
  let windowUs: [number, number] = [0, 0]
  for await (const line of createInterface({ input: child.stdout! })) {
    if (line === 'measuring') [from, windowUs[0]] = [sampleCpu(pid), monotonicUs()]
    else if (line === 'measured') [to, windowUs[1]] = [sampleCpu(pid), monotonicUs()]
    else if (line.startsWith('connected ')) row.connectS = Number(line.split(' ')[3])
    if (!line.startsWith('{')) continue
    const result: unknown = JSON.parse(line)
    const cpu = isResult<{ cpu_share: number }>(result, ['cpu_share']) ? result.cpu_share : 0
    const serverCpuShare = cpuShare(from, to)
    // What neither process used: someone else's work on this machine, which skews the case.
    const otherCpuShare = Math.max(0, machineBusyShare(from, to) - serverCpuShare - cpu)
    const stats = { serverCpuShare, otherCpuShare, windowUs }
    if (isResult<LatencyResult>(result, latencyFields)) row.latency = { ...result, ...stats }
    else if (isResult<ThroughputResult>(result, throughputFields))
      row.throughput.push({ ...result, ...stats })
    windowUs = [0, 0]
  }
}

/** Starts the server, runs the load generator against it, and stops both. */
async function measure(binary: string, server: FanoutServer, subs: number, o: FanoutOptions, cores: Cores) {
  const quiet = await waitForQuiet()
  const row: FanoutRow = { server: server.id, label: server.label, subs, quiet, throughput: [] }
  let running: RunningServer | undefined
  try {
    running = await startServer(server.args, cores.server, subs + 1024)
    const args = ['--port', String(running.port), '--kind', server.kind, '--subs', String(subs)]
    args.push('--inflight', o.inflight.join(','), '--rate', String(o.rate))
    args.push('--warmup', String(o.warmupS), '--duration', String(o.durationS))
    args.push('--lat-warmup', String(o.latWarmupS), '--lat-duration', String(o.latDurationS))
    if (o.distinctNicks) args.push('--distinct-nicks')
    const [command, argv] = pinnedCommand(cores.loadgen, subs + 64, [binary, ...args])
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stderr?.setEncoding('utf8').on('data', (text: string) => process.stderr.write(text))
    const exited = once(child, 'exit')
    await readLoadgen(child, running.pid, row)
    const [code, signal] = await exited
    if (row.throughput.length < o.inflight.length)
      throw new Error(`load generator exited (${signal ?? code}) before its last window`)
  } catch (error) {
    row.error = `${errorText(error)} ${running?.stderr() ?? ''}`.trim()
  } finally {
    await running?.stop()
  }
  return row
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
      `${server.label} × ${count.format(subs)}: others used ${percent(noise(best))}% of a core; again`,
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

const count = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
const percent = (share: number | undefined) => (share === undefined ? '' : `${Math.round(share * 100)}`)
const ratio = (value: number | undefined, base: number | undefined) =>
  value === undefined || base === undefined || base === 0 ? '' : (value / base).toFixed(2)

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  return [line(head), rule, ...rows.map(line)].join('\n')
}

function wsRow(rows: readonly FanoutRow[], subs: number): FanoutRow | undefined {
  return rows.find((r) => r.server === 'ws' && r.subs === subs)
}

function formatThroughput(rows: readonly FanoutRow[]): string {
  const head = [
    'server',
    'subscribers',
    'in flight',
    'deliveries/s',
    'loadgen CPU %',
    'server CPU %',
    'vs ws',
  ]
  const body = rows.flatMap((row) => {
    if (row.throughput.length === 0) return [[row.label, count.format(row.subs), '', 'failed', '', '', '']]
    return row.throughput.map((w) => {
      const base = wsRow(rows, row.subs)?.throughput.find((b) => b.inflight === w.inflight)
      return [
        row.label,
        count.format(row.subs),
        String(w.inflight),
        count.format(w.deliveries_per_s),
        percent(w.work_share),
        percent(w.serverCpuShare),
        ratio(w.deliveries_per_s, base?.deliveries_per_s),
      ]
    })
  })
  return table(head, body)
}

function formatLatency(rows: readonly FanoutRow[]): string {
  const head = ['server', 'subscribers', 'offered deliveries/s', 'achieved', 'p50 µs', 'p99 µs']
  head.push('loadgen CPU %', 'server CPU %', 'p99 vs ws')
  const body = rows.map((row) => {
    const l = row.latency
    if (l === undefined) return [row.label, count.format(row.subs), 'failed', '', '', '', '', '', '']
    return [
      row.label,
      count.format(row.subs),
      count.format(l.offered_per_s),
      count.format(l.achieved_per_s),
      count.format(l.p50_us),
      count.format(l.p99_us),
      percent(l.work_share),
      percent(l.serverCpuShare),
      ratio(l.p99_us, wsRow(rows, row.subs)?.latency?.p99_us),
    ]
  })
  return table(head, body)
}

/** What the tables alone do not show: failures, neighbours' load, a saturated load generator, lost copies. */
function notes(rows: readonly FanoutRow[]): string[] {
  const out: string[] = []
  for (const row of rows) {
    const name = `${row.label} × ${count.format(row.subs)}`
    if (row.error !== undefined) out.push(`${name}: ${row.error}`)
    if (!row.quiet) out.push(`${name}: the machine stayed busy for ${quietWaitS} s before the case`)
    if (row.connectS !== undefined) out.push(`${name}: subscribers connected in ${row.connectS.toFixed(1)} s`)
    const l = row.latency
    const windows = [
      ...(l ? [['latency', l] as const] : []),
      ...row.throughput.map((w) => [`K=${w.inflight}`, w] as const),
    ]
    for (const [what, w] of windows) {
      if (w.otherCpuShare > quietShare)
        out.push(`${name}, ${what}: others used ${percent(w.otherCpuShare)}% of a core: noisy`)
      if (w.work_share > 0.9)
        out.push(`${name}, ${what}: the load generator needed ${percent(w.work_share)}% of its core`)
    }
    for (const w of row.throughput) {
      if (w.lag_blocked_share > 0.05)
        out.push(
          `${name}, K=${w.inflight}: the publisher waited for slow readers ${percent(w.lag_blocked_share)}% of the window`,
        )
      if (w.errors > 0)
        out.push(`${name}, K=${w.inflight}: ${w.errors} connection errors, ${w.open} subscribers open`)
    }
    if (l !== undefined && l.received < l.expected)
      out.push(
        `${name}, latency: ${count.format(l.expected - l.received)} of ${count.format(l.expected)} copies never arrived`,
      )
  }
  return out
}

/** Runs every server × subscriber count, printing a line after each case. */
async function runCases(o: FanoutOptions, cores: Cores) {
  const binary = buildLoadgen()
  const scratch = mkdtempSync(join(tmpdir(), 'switchboard-fanout-'))
  const profileDir = o.cpuProf ? join(scratch, 'profiles') : null
  const servers = listServers(writeOursConfig(scratch), profileDir)
  const rows: FanoutRow[] = []
  const profiles: Array<{ subs: number; top: string[] }> = []
  for (const subs of o.subs) {
    for (const server of servers.filter((s) => o.only.length === 0 || o.only.includes(s.id))) {
      const row = await measureQuietest(binary, server, subs, o, cores)
      const rates = row.throughput.map((w) => `K=${w.inflight} ${count.format(w.deliveries_per_s)}/s`)
      const p99 = row.latency ? `, p99 ${count.format(row.latency.p99_us)} µs` : ''
      console.log(`${server.label} × ${count.format(subs)}: ${row.error ?? `${rates.join(', ')}${p99}`}`)
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
  let o: FanoutOptions
  try {
    o = parseOptions(process.argv.slice(2))
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
  const { rows, profiles } = await runCases(o, cores)
  console.log(`\nThroughput: 64 B messages, ${o.durationS} s per K after ${o.warmupS} s warmup\n`)
  console.log(formatThroughput(rows))
  console.log(`\nLatency at a fixed offered rate: ${o.latDurationS} s after ${o.latWarmupS} s warmup\n`)
  console.log(formatLatency(rows))
  for (const note of notes(rows)) console.log(`- ${note}`)
  for (const { subs, top } of profiles) {
    console.log(`\nours × ${count.format(subs)}: self time over the throughput windows (node --cpu-prof)`)
    for (const line of top) console.log(`  ${line}`)
  }
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    kernel: release(),
    node: process.version,
  }
  const stamp = startedAt.toISOString().slice(0, 19).replace(/:/g, '-')
  const path = join(root, 'bench/results', `fanout-${stamp}Z.json`)
  const pinned = problem === null
  writeResults(path, { startedAt: startedAt.toISOString(), machine, pinned, options: o, rows, profiles })
  console.log(`\nwrote ${path.slice(root.length)}`)
}

await main()
