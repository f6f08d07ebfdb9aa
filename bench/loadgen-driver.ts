// Builds the C load generators (bench/loadgen/) and starts them: echo runs and idle-connection holds
// (loadgen.c), and broadcast fan-out runs (fanout.c, whose output bench/fanout-output.ts reads).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { pinnedCommand } from './pinning.js'

/** What the load generator prints after an echo run (see bench/README.md for each field). */
export interface EchoResult {
  msgs_per_s: number
  p50_us: number
  p99_us: number
  /** The load generator's own CPU time over the measured window's wall time. */
  cpu_share: number
  errors: number
  msgs: number
  open: number
  compressed_replies: number
}

/**
 * The load generator's wire format: WebSocket, 4-byte length prefixes, or Socket.IO events over
 * WebSocket (`42["echo","<payload>"]`, see bench/SOCKETIO.md).
 */
export type WireMode = 'ws' | 'raw' | 'sio'

/** One echo run: where to connect and what to send. */
export interface EchoRun {
  port: number
  mode: WireMode
  deflate: boolean
  /** Socket.IO only: ask for an ack (`421[…]`) and expect it (`431[…]`) instead of the event back. */
  ack?: boolean
  conns: number
  size: number
  inflight: number
  warmupS: number
  durationS: number
}

/** The two load generators: echo and idle (loadgen.c), and broadcast fan-out (fanout.c). */
export type LoadgenProgram = 'loadgen' | 'fanout'

function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs
  } catch {
    return 0
  }
}

/** Installs zlib's headers with apt-get when missing and we are root; otherwise says what to install. */
function ensureZlibHeaders(): void {
  try {
    execFileSync('gcc', ['-E', '-x', 'c', '-', '-o', '/dev/null'], {
      input: '#include <zlib.h>\n',
      stdio: 'pipe',
    })
    return
  } catch {
    console.log('loadgen: zlib.h not found; it needs the zlib1g-dev package')
  }
  if (process.getuid?.() !== 0)
    throw new Error('install zlib1g-dev (apt-get install zlib1g-dev) and run again')
  console.log('loadgen: running apt-get install -y zlib1g-dev')
  execFileSync('apt-get', ['install', '-y', '-qq', 'zlib1g-dev'], { stdio: 'inherit' })
}

/** Compiles a load generator into bench/.build/ when its sources are newer; returns the binary's path. */
export function buildLoadgen(root: string, program: LoadgenProgram = 'loadgen'): string {
  const sourceDir = join(root, 'bench/loadgen')
  const outDir = join(root, 'bench/.build')
  const binary = join(outDir, program)
  const paths = [`${program}.c`, 'wire.c'].map((file) => join(sourceDir, file))
  const newest = Math.max(...[...paths, join(sourceDir, 'wire.h')].map(mtimeMs))
  if (mtimeMs(binary) > newest) return binary
  ensureZlibHeaders()
  mkdirSync(outDir, { recursive: true })
  const flags = ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-o', binary, ...paths, '-lz']
  execFileSync('gcc', flags, { stdio: 'inherit' })
  return binary
}

function isEchoResult(value: unknown): value is EchoResult {
  if (typeof value !== 'object' || value === null) return false
  const fields = ['msgs_per_s', 'p50_us', 'p99_us', 'cpu_share', 'errors'] as const
  return fields.every((field) => typeof (value as Record<string, unknown>)[field] === 'number')
}

// loadgen.c holds its idle connections until its stdin closes; fanout.c never reads stdin.
function spawnLoadgen(
  binary: string,
  core: number | null,
  args: string[],
  fdLimit: number,
  stdin: 'pipe' | 'ignore' = 'pipe',
): ChildProcess {
  const [command, argv] = pinnedCommand(core, fdLimit, [binary, ...args])
  const child = spawn(command, argv, { stdio: [stdin, 'pipe', 'pipe'] })
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (text: string) => process.stderr.write(text))
  return child
}

/** Callbacks at the edges of the measured window, where the harness samples the server's CPU. */
export interface WindowHooks {
  onMeasuring: () => void
  onMeasured: () => void
}

/** Runs one closed-loop echo run and returns the load generator's JSON line. */
export async function runEcho(binary: string, core: number | null, run: EchoRun, hooks: WindowHooks) {
  const args = ['--port', String(run.port), '--mode', run.mode, '--conns', String(run.conns)]
  args.push('--size', String(run.size), '--inflight', String(run.inflight))
  args.push('--warmup', String(run.warmupS), '--duration', String(run.durationS))
  if (run.deflate) args.push('--deflate')
  if (run.ack === true) args.push('--ack')
  const child = spawnLoadgen(binary, core, args, run.conns + 64)
  const exited = once(child, 'exit')
  child.stdin?.end()
  let result: unknown
  for await (const line of createInterface({ input: child.stdout! })) {
    if (line === 'measuring') hooks.onMeasuring()
    else if (line === 'measured') hooks.onMeasured()
    else if (line.startsWith('{')) result = JSON.parse(line)
  }
  const [code, signal] = await exited
  if (!isEchoResult(result)) throw new Error(`load generator exited (${signal ?? code}) without a result`)
  return result
}

/** Connections the load generator holds open until `release()`. */
export interface IdleHold {
  open: number
  errors: number
  release: () => Promise<void>
}

/** Opens `count` connections, completes every handshake (Socket.IO: up to the namespace), and holds them. */
export async function holdIdle(
  binary: string,
  core: number | null,
  port: number,
  mode: WireMode,
  count: number,
): Promise<IdleHold> {
  const args = ['--port', String(port), '--mode', mode, '--idle', String(count)]
  const child = spawnLoadgen(binary, core, args, count + 64)
  const lines = createInterface({ input: child.stdout! })
  const exited = once(child, 'exit')
  const [line] = (await Promise.race([once(lines, 'line'), exited.then(() => [''])])) as [string]
  const [word, open, errors] = line.split(' ')
  if (word !== 'ready') {
    child.kill()
    throw new Error('load generator stopped before its connections were ready')
  }
  const release = async () => {
    child.stdin?.end()
    await exited
  }
  return { open: Number(open), errors: Number(errors), release }
}

/** One fan-out run of fanout.c: a latency window at a fixed rate, then one throughput window per in-flight count. */
export interface FanoutRun {
  port: number
  /** The server's dialect: our hub's protocols, any relay that acks, length prefixes, or Socket.IO events. */
  kind: 'ours' | 'ws' | 'raw' | 'sio'
  subs: number
  /** Publishes kept unacknowledged: one throughput window per value. */
  inflight: readonly number[]
  /** Offered deliveries/s of the latency window. */
  rate: number
  warmupS: number
  durationS: number
  latWarmupS: number
  latDurationS: number
  /** Ours only: a nickname per subscriber, so each join is announced to the whole room. */
  distinctNicks?: boolean
}

/** Starts fanout.c for `run`, its stderr passed through; the caller reads its stdout (bench/fanout-output.ts). */
export function spawnFanout(binary: string, core: number | null, run: FanoutRun): ChildProcess {
  const args = ['--port', String(run.port), '--kind', run.kind, '--subs', String(run.subs)]
  args.push('--inflight', run.inflight.join(','), '--rate', String(run.rate))
  args.push('--warmup', String(run.warmupS), '--duration', String(run.durationS))
  args.push('--lat-warmup', String(run.latWarmupS), '--lat-duration', String(run.latDurationS))
  if (run.distinctNicks === true) args.push('--distinct-nicks')
  return spawnLoadgen(binary, core, args, run.subs + 64, 'ignore')
}
