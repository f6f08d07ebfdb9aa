// Starts one echo server as a child process, learns its port from its `listening` line, and stops it.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { errorText } from './error-text.js'
import { pinnedCommand } from './pinning.js'

// What every server prints once it accepts connections: the peers and `echo` `listening ws://127.0.0.1:PORT/`,
// `serve` first `listening http://127.0.0.1:PORT`. The first such line gives the port.
const listeningLine = /^listening [a-z]+:\/\/[^ /]+:(\d+)\/?$/

const startTimeoutMs = 10_000
// Ours closes gracefully (and writes its CPU profile when asked to); nothing is connected by then.
const stopTimeoutMs = 10_000

/**
 * The Node options every server of every harness runs under, ours and the peers alike, so that a ratio
 * compares code, not runtime settings: V8's defaults unless `SWITCHBOARD_BENCH_NODE_FLAGS` gives some, e.g.
 * `--max-semi-space-size=1`, the 1 MiB semi-spaces (a small young generation) the `switchboard` command itself starts with.
 */
export const serverNodeFlags: readonly string[] = (process.env.SWITCHBOARD_BENCH_NODE_FLAGS ?? '')
  .split(' ')
  .filter((flag) => flag !== '')

/** What every harness knows of a server under test: its id for `--only`, its label, how to start it. */
export interface ServerUnderTest<Id extends string = string> {
  id: Id
  label: string
  /** Arguments for `node`. */
  args: readonly string[]
}

/** A server that printed its listening line. */
export interface RunningServer {
  pid: number
  port: number
  /** The tail of its stderr, for error messages. */
  stderr: () => string
  /** SIGTERM, then SIGKILL if it lingers. */
  stop: () => Promise<void>
}

function collectTail(child: ChildProcess): () => string {
  let tail = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (text: string) => {
    tail = (tail + text).slice(-2000)
  })
  return () => tail.trim()
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs)
  await exited
  clearTimeout(timer)
}

/** Spawns `node ...args` (pinned to `core` unless null) and resolves once it is listening. */
export async function startServer(
  args: readonly string[],
  core: number | null,
  fdLimit: number,
): Promise<RunningServer> {
  const [command, argv] = pinnedCommand(core, fdLimit, [process.execPath, ...serverNodeFlags, ...args])
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
  const stderr = collectTail(child)
  const lines = createInterface({ input: child.stdout! })
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no listening line within ${startTimeoutMs} ms`)),
      startTimeoutMs,
    )
    lines.on('line', (line) => {
      const match = listeningLine.exec(line.trim())
      if (match === null) return
      clearTimeout(timer)
      resolve(Number(match[1]))
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`exited (${signal ?? code}) before listening: ${stderr() || 'no stderr'}`))
    })
    child.once('error', reject)
  }).catch(async (error: unknown) => {
    await stopChild(child)
    throw error
  })
  // Give a fresh server a moment for its startup garbage before anyone reads its memory.
  await sleep(300)
  return { pid: child.pid!, port, stderr, stop: () => stopChild(child) }
}

/**
 * Starts `server`, runs `measure` against it, and stops it. A failure to start, or one in `measure`, lands in
 * `row.error` with the tail of the server's stderr; the row keeps whatever `measure` filled in before.
 */
export async function measureWithServer<Row extends { error?: string }>(
  server: ServerUnderTest,
  core: number | null,
  fdLimit: number,
  row: Row,
  measure: (running: RunningServer) => Promise<void>,
): Promise<Row> {
  let running: RunningServer | undefined
  try {
    running = await startServer(server.args, core, fdLimit)
    await measure(running)
  } catch (error) {
    row.error = `${errorText(error)} ${running?.stderr() ?? ''}`.trim()
  } finally {
    await running?.stop()
  }
  return row
}
