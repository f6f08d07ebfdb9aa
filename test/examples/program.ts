// Runs the compiled examples the way a learner does, `node dist/examples/NAME.js …`, and real peers (nc, socat)
// next to them, reading what each prints line by line.
import assert from 'node:assert/strict'
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { type AddressInfo, createServer } from 'node:net'
import type { TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { LineReader } from '../helpers/line-reader.js'

// This file runs as dist/test/examples/program.js; the programs are in dist/examples/.
const examplesDir = fileURLToPath(new URL('../../examples/', import.meta.url))

/** A running program: its output lines, its stdin, and how it ended. */
export interface Program {
  readonly child: ChildProcessWithoutNullStreams
  readonly stdout: LineReader
  readonly stderr: () => string
  /** Resolves with the exit code (null after a signal) once the process has exited and its output is read. */
  readonly ended: Promise<number | null>
}

/** Starts `command args`, killed after the test if it is still running. */
export function spawnProgram(t: TestContext, command: string, args: string[]): Program {
  const child = spawn(command, args)
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const describe = (): string =>
    `${command} ${args.join(' ')}\nstdout: ${JSON.stringify(stdout.lines)}\nstderr: ${JSON.stringify(stderr)}`
  const stdout = new LineReader(child.stdout, describe)
  const ended = once(child, 'close').then(([code]) => code as number | null)
  return { child, stdout, stderr: () => stderr, ended }
}

/** Runs `node dist/examples/NAME.js args`. */
export function runExample(t: TestContext, name: string, args: string[] = []): Program {
  return spawnProgram(t, process.execPath, [`${examplesDir}${name}.js`, ...args])
}

/** Waits for a program to end and returns every line it printed (not yet read) and its exit code. */
export async function finish(program: Program): Promise<{ code: number | null; lines: string[] }> {
  const [code, lines] = await Promise.all([program.ended, program.stdout.rest()])
  return { code, lines }
}

/** Reads a server's `listening scheme://127.0.0.1:PORT…` line and returns the port. */
export async function listeningPort(program: Program, scheme: string): Promise<number> {
  const line = await program.stdout.next()
  const port = new RegExp(`^listening ${scheme}://127\\.0\\.0\\.1:(\\d+)/?$`).exec(line)?.[1]
  assert.ok(port, `expected a listening ${scheme} line, got ${JSON.stringify(line)}: ${program.stderr()}`)
  return Number(port)
}

/** A TCP port nobody listens on (it was free a moment ago), so connecting to it is refused. */
export async function unusedTcpPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A UDP port nobody is bound to, so a datagram sent there is answered with ICMP port unreachable. */
export async function unusedUdpPort(): Promise<number> {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const { port } = socket.address()
  await new Promise<void>((resolve) => socket.close(resolve))
  return port
}
