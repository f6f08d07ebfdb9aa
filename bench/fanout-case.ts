// One broadcast fan-out case against a fresh server process, driven by bench/loadgen/fanout.c: the
// measurement bench/fanout.ts (the hub) and bench/sio-broadcast.ts (a Socket.IO room) share.
import { once } from 'node:events'
import { type FanoutOutput, readFanoutOutput } from './fanout-output.js'
import { type FanoutRun, spawnFanout } from './loadgen-driver.js'
import type { Cores } from './pinning.js'
import { waitForQuiet } from './proc-stats.js'
import { measureWithServer, type ServerUnderTest } from './server-process.js'

/** One server × subscriber count: one latency window, then one throughput window per K. */
export interface FanoutRow<Id extends string = string> extends FanoutOutput {
  server: Id
  label: string
  subs: number
  /** False when the machine stayed busy before the case began. */
  quiet: boolean
  error?: string
}

/** Waits for a quiet machine, starts the server, runs fanout.c against it, and stops both. */
export async function measureFanout<Id extends string>(
  binary: string,
  server: ServerUnderTest<Id>,
  run: Omit<FanoutRun, 'port'>,
  cores: Cores,
): Promise<FanoutRow<Id>> {
  const quiet = await waitForQuiet()
  const row: FanoutRow<Id> = { server: server.id, label: server.label, subs: run.subs, quiet, throughput: [] }
  return measureWithServer(server, cores.server, run.subs + 1024, row, async (running) => {
    const child = spawnFanout(binary, cores.loadgen, { ...run, port: running.port })
    const exited = once(child, 'exit')
    await readFanoutOutput(child.stdout!, running.pid, row)
    const [code, signal] = await exited
    if (row.throughput.length < run.inflight.length)
      throw new Error(`load generator exited (${signal ?? code}) before its last window`)
  })
}
