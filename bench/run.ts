// `npm run bench`: the echo benchmark. Each server runs on core 0 while the C load generator drives it
// from core 1; then each holds thousands of idle connections for the memory table. See bench/README.md.
import { measureEcho, measureIdle, pickMedian } from './echo-case.js'
import { root, startHarness, writeHarnessResults } from './harness.js'
import { buildLoadgen } from './loadgen-driver.js'
import { type BenchOptions, parseBenchOptions } from './options.js'
import { quietWaitS, waitForQuiet } from './proc-stats.js'
import { echoNotes, type EchoRow, formatEchoTable, formatIdleTable, type IdleRow } from './report.js'
import { hasOurs, isSelected, listServers, oursEntry, type ServerSpec } from './servers.js'

function chooseServers(o: BenchOptions): ServerSpec[] {
  const selected = listServers(root).filter((server) => isSelected(server, o.only))
  if (selected.some((server) => server.family === 'ours') && !hasOurs(root)) {
    console.log(`ours: skipped, ${oursEntry} is not built (run \`npm run build\` once src/cli/ exists)`)
    return selected.filter((server) => server.family !== 'ours')
  }
  return selected
}

async function main(): Promise<void> {
  const harness = startHarness(parseBenchOptions)
  if (harness === undefined) return
  const { options: o, cores } = harness
  const loadgen = buildLoadgen(root)
  const servers = chooseServers(o)

  // Rounds go through every case in turn, so a slow spell of the machine hits all servers alike.
  const { conns, inflight, warmupS, durationS } = o
  const attempts = new Map<string, EchoRow[]>()
  for (let round = 1; round <= o.repeat; round++) {
    for (const server of servers) {
      for (const size of o.sizes) {
        if (!(await waitForQuiet()))
          console.log(`the machine stayed busy for ${quietWaitS} s; measuring anyway`)
        const run = { mode: server.mode, deflate: server.deflate, size, conns, inflight, warmupS, durationS }
        const row = await measureEcho(loadgen, server, run, cores)
        const summary = row.result ? `${Math.round(row.result.msgs_per_s)} msgs/s` : `failed: ${row.error}`
        console.log(`${o.repeat > 1 ? `round ${round}: ` : ''}${server.label} ${size} B: ${summary}`)
        const key = `${server.id} ${size}`
        attempts.set(key, [...(attempts.get(key) ?? []), row])
      }
    }
  }
  const echo = [...attempts.values()].map(pickMedian)
  const idle: IdleRow[] = []
  for (const server of o.idleConns > 0 ? servers.filter((s) => !s.deflate) : []) {
    await waitForQuiet()
    const row = await measureIdle(loadgen, server, server.mode, o, cores)
    console.log(`${server.label} idle: ${row.error ?? `${row.perConnKiB.toFixed(1)} KiB/connection`}`)
    idle.push(row)
  }

  console.log(
    `\nEcho: ${o.conns} connections × ${o.inflight} in flight, ${o.durationS} s after ${o.warmupS} s warmup` +
      `${o.repeat > 1 ? `, median of ${o.repeat} rounds` : ''}\n`,
  )
  console.log(formatEchoTable(echo))
  for (const note of echoNotes(echo)) console.log(`- ${note}`)
  if (idle.length > 0) {
    console.log(`\nIdle memory: ${o.idleConns} connections held ${o.idleHoldS} s\n`)
    console.log(formatIdleTable(idle))
  }
  writeHarnessResults('echo', harness, { echo, idle })
}

await main()
