// `switchboard serve` as users run it: the compiled CLI in a child process, its `listening …` lines parsed,
// and the programs people talk to it with (nc, socat, the `ws` client), each with a waitable list of lines.
import assert from 'node:assert/strict'
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { ClientRequest, IncomingMessage } from 'node:http'
import type { TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type ClientOptions, WebSocket } from 'ws'

/** The compiled CLI: this helper runs as dist/test/helpers/serve-process.js. */
export const cliPath = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))

/** How long a wait for a line or an exit may take before the test fails with what did arrive. */
const waitLimitMs = 10_000

/**
 * Lines in arrival order. `next` and `waitFor` take them one by one; `waitForSeen` looks at every line so far
 * without taking any, so a test can wait for an echo and still read everything later.
 */
export class Lines {
  /** Every line so far, taken or not. */
  readonly seen: string[] = []
  #taken = 0
  #ended = false
  readonly #waiters = new Set<() => void>()

  push = (line: string): void => {
    this.seen.push(line)
    for (const wake of this.#waiters) wake()
  }

  /** No more lines will come (the program exited, the socket closed). */
  end = (): void => {
    this.#ended = true
    for (const wake of this.#waiters) wake()
  }

  /** The oldest line not yet taken, waiting for it if need be. */
  next(what = 'a line'): Promise<string> {
    return this.waitFor(() => true, what)
  }

  /** Takes lines until one passes `test` and returns it; the lines before it are taken too. */
  async waitFor(test: (line: string) => boolean, what: string): Promise<string> {
    let found: string | undefined
    await this.#until(() => {
      while (found === undefined && this.#taken < this.seen.length) {
        const line = this.seen[this.#taken++]
        if (test(line)) found = line
      }
      return found !== undefined
    }, what)
    return found as string
  }

  /** Waits until `count` of the lines so far pass `test`, and returns those, taking none. */
  async waitForSeen(count: number, test: (line: string) => boolean, what: string): Promise<string[]> {
    let found: string[] = []
    await this.#until(() => {
      found = this.seen.filter(test)
      return found.length >= count
    }, `${count} × ${what}`)
    return found
  }

  async #until(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + waitLimitMs
    while (!done()) {
      if (this.#ended) throw new Error(`ended while waiting for ${what}; saw ${JSON.stringify(this.seen)}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no ${what} within ${waitLimitMs} ms; saw ${JSON.stringify(this.seen)}`)
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer)
          this.#waiters.delete(wake)
          resolve()
        }
        const timer = setTimeout(wake, left)
        this.#waiters.add(wake)
      })
    }
  }
}

/** How a process ended, and how long after `stop` sent its signal. */
export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  elapsedMs: number
}

/** A host and port from a `listening` line; an IPv6 host is without its brackets. */
export interface Endpoint {
  host: string
  port: number
}

/** The listeners a server printed. */
export interface Listening {
  /** `http://…` or `https://…`, no trailing slash. */
  http?: string
  tcp?: Endpoint
  udp?: Endpoint
  /** The socket path exactly as printed. */
  unix?: string
}

/** A running `switchboard serve`. */
export interface ServeProcess extends Listening {
  child: ChildProcessWithoutNullStreams
  /** Everything it printed on stdout, `listening` lines first. */
  stdout: Lines
  /** What it printed on stderr so far. */
  stderr(): string
  /** Resolves when it exits. */
  exited: Promise<Exit>
  /** Sends `signal` and resolves with the exit, timed from the signal. */
  stop(signal?: NodeJS.Signals): Promise<Exit>
}

/** What a listener prints in its line. */
export type Scheme = 'http' | 'https' | 'tcp' | 'udp' | 'unix'

/** Where and how to start a server. */
export interface ServeOptions {
  /** Working directory (defaults like `./switchboard.sock` land there). @default a fresh temp dir */
  cwd?: string
  /** `SWITCHBOARD_*` variables; the test runner's own are never passed on. */
  env?: Record<string, string>
  /** The listening lines to wait for. @default every listener whose flag is not `off`, http unless TLS */
  expect?: Scheme[]
}

/** A temp directory removed after the test. */
export function makeTempDir(t: TestContext, prefix = 'switchboard-serve-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Flags for every listener on a free port, a socket file in `dir` and history in memory. */
export function everyListener(dir: string): string[] {
  return ['--http', '0', '--tcp', '0', '--udp', '0', '--unix', join(dir, 'sb.sock'), '--memory']
}

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith('SWITCHBOARD_')) env[name] = value
  return { ...env, ...extra }
}

function spawnCli(t: TestContext, args: string[], options: ServeOptions) {
  const cwd = options.cwd ?? makeTempDir(t)
  const child = spawn(process.execPath, [cliPath, 'serve', ...args], { cwd, env: childEnv(options.env) })
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }) as Omit<Exit, 'elapsedMs'>)
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const stdout = new Lines()
  createInterface({ input: child.stdout }).on('line', stdout.push).on('close', stdout.end)
  return { child, exited, stdout, stderr: () => stderr }
}

function expectedListeners(args: string[]): Scheme[] {
  const on = (flag: string) => !args.includes(flag) || args[args.indexOf(flag) + 1] !== 'off'
  const web: Scheme = args.includes('--tls-cert') ? 'https' : 'http'
  return (
    [
      [web, '--http'],
      ['tcp', '--tcp'],
      ['udp', '--udp'],
      ['unix', '--unix'],
    ] as const
  )
    .filter(([, flag]) => on(flag))
    .map(([scheme]) => scheme)
}

/** `host:port` or `[v6]:port` into an endpoint. */
function parseEndpoint(text: string): Endpoint {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text)
  assert.ok(match, `an address with a port: ${text}`)
  return { host: match[1], port: Number(match[2]) }
}

/** Starts `switchboard serve ARGS` and resolves once it has printed every expected `listening` line. */
export async function startServe(
  t: TestContext,
  args: string[],
  options: ServeOptions = {},
): Promise<ServeProcess> {
  const { child, exited, stdout, stderr } = spawnCli(t, args, options)
  const waiting = new Set(options.expect ?? expectedListeners(args))
  const listening: Listening = {}
  const early = exited.then(({ code }) => {
    throw new Error(`switchboard serve exited with ${code} before listening: ${stderr()}`)
  })
  const ready = (async () => {
    while (waiting.size > 0) {
      const line = await stdout.waitFor((l) => l.startsWith('listening '), 'a listening line')
      const match = /^listening (https?|tcp|udp|unix):\/\/(.+)$/.exec(line)
      assert.ok(match, `a listening line is SCHEME://ADDRESS: ${line}`)
      const scheme = match[1] as Scheme
      assert.ok(waiting.delete(scheme), `one listening line per expected listener: ${line}`)
      if (scheme === 'http' || scheme === 'https') listening.http = `${scheme}://${match[2]}`
      else if (scheme === 'unix') listening.unix = match[2]
      else listening[scheme] = parseEndpoint(match[2])
    }
  })()
  await Promise.race([ready, early])
  early.catch(() => {
    // Exiting after it was ready is what `exited` and `stop` report.
  })
  let signalledAt = performance.now()
  const timedExit = exited.then((exit) => ({ ...exit, elapsedMs: performance.now() - signalledAt }))
  return {
    ...listening,
    child,
    stdout,
    stderr,
    exited: timedExit,
    stop(signal = 'SIGTERM') {
      signalledAt = performance.now()
      child.kill(signal)
      return timedExit
    },
  }
}

/** Runs a `switchboard serve` that is expected to exit by itself (a bad setting); resolves with its output. */
export async function runServe(t: TestContext, args: string[], options: ServeOptions = {}) {
  const { exited, stdout, stderr } = spawnCli(t, args, options)
  const { code, signal } = await exited
  return { code, signal, stdout: stdout.seen, stderr: stderr() }
}

// The clients.

/** A program (nc, socat) with its stdout as lines; killed after the test if still running. */
export interface Program {
  child: ChildProcessWithoutNullStreams
  lines: Lines
  /** Writes `text` and a newline to its stdin. */
  send(text: string): void
  exited: Promise<Exit>
}

/** Starts `command ARGS`; nothing is written until `send`. */
export function startProgram(t: TestContext, command: string, args: string[]): Program {
  const child = spawn(command, args)
  const startedAt = performance.now()
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
    elapsedMs: performance.now() - startedAt,
  }))
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  const lines = new Lines()
  createInterface({ input: child.stdout }).on('line', lines.push).on('close', lines.end)
  child.stdin.on('error', () => {
    // The program may have exited already; what it did is in `lines` and `exited`.
  })
  return { child, lines, send: (text) => child.stdin.write(`${text}\n`), exited }
}

/** `nc -N HOST PORT` (it shuts its side down when its input ends), once the server has welcomed it. */
export async function connectNc(t: TestContext, { host, port }: Endpoint): Promise<Program> {
  const nc = startProgram(t, 'nc', ['-N', host, String(port)])
  await nc.lines.waitFor((line) => line.startsWith('WELCOME '), 'the TCP welcome')
  return nc
}

/** `socat - UNIX-CONNECT:PATH`, once the server has welcomed it. */
export async function connectSocatUnix(t: TestContext, path: string): Promise<Program> {
  const socat = startProgram(t, 'socat', ['-', `UNIX-CONNECT:${path}`])
  await socat.lines.waitFor((line) => line.startsWith('WELCOME '), 'the Unix welcome')
  return socat
}

/**
 * `socat - UDP:HOST:PORT`. socat sends what one read of its input gives as one datagram, so a caller sends
 * the next line only after an answer to the previous one: two lines in one datagram would be one bad line.
 */
export function startSocatUdp(t: TestContext, { host, port }: Endpoint): Program {
  return startProgram(t, 'socat', ['-', `UDP:${host.includes(':') ? `[${host}]` : host}:${port}`])
}

/** A `ws` client and its text messages as lines (binary ones as `binary:HEX`). */
export interface WsPeer {
  ws: WebSocket
  messages: Lines
  closed: Promise<{ code: number; reason: string }>
}

/** Opens an npm `ws` client to `url` (terminated after the test). */
export async function openWs(
  t: TestContext,
  url: string,
  protocols: string[] = [],
  options: ClientOptions = {},
): Promise<WsPeer> {
  const ws = new WebSocket(url, protocols, options)
  t.after(() => ws.terminate())
  const messages = new Lines()
  ws.on('message', (data, isBinary) => {
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer)
    messages.push(isBinary ? `binary:${bytes.toString('hex')}` : bytes.toString())
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code, reason) => {
      messages.end()
      resolve({ code, reason: reason.toString() })
    })
  })
  await once(ws, 'open')
  return { ws, messages, closed }
}

/** Opens a WebSocket that the server is expected to refuse; resolves with the HTTP status and JSON body. */
export async function refusedUpgrade(url: string, options: ClientOptions = {}) {
  const ws = new WebSocket(url, options)
  const [request, response] = (await once(ws, 'unexpected-response')) as [ClientRequest, IncomingMessage]
  let text = ''
  for await (const chunk of response) text += chunk
  // With an 'unexpected-response' listener, ending the request is ours to do (ws would fail it otherwise).
  request.destroy()
  return { status: response.statusCode, body: parseJson(text) }
}

/** The JSON object of a switchboard.v1 message. */
export function parseJson(line: string): Record<string, unknown> {
  const value: unknown = JSON.parse(line)
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `a JSON object: ${line}`)
  return value as Record<string, unknown>
}
