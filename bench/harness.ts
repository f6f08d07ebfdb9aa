// How every benchmark's main() starts and ends: its flags (a bad one exits 2 with the reason), the Node flags
// the servers run under, the cores everything is pinned to, and the results file under bench/results/.
import { cpus, release } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { errorText } from './error-text.js'
import { type Cores, loadgenCore, pinningProblem, serverCore } from './pinning.js'
import { writeResults } from './results-file.js'
import { serverNodeFlags } from './server-process.js'

/** The repository root, from dist/bench/harness.js. */
export const root = fileURLToPath(new URL('../../', import.meta.url))

/** A started run: its options, when it began, and where its processes run. */
export interface HarnessRun<Options> {
  options: Options
  startedAt: Date
  /** False when pinning is unavailable and the numbers are noisier for it (the run says so at the start). */
  pinned: boolean
  cores: Cores
}

/**
 * Parses argv after the script name with `parse` and says what the servers run under and whether they are
 * pinned. Undefined, with exit code 2 and the reason on stderr, when `parse` throws.
 */
export function startHarness<Options>(
  parse: (argv: readonly string[]) => Options,
): HarnessRun<Options> | undefined {
  let options: Options
  try {
    options = parse(process.argv.slice(2))
  } catch (error) {
    console.error(errorText(error))
    process.exitCode = 2
    return undefined
  }
  const startedAt = new Date()
  const problem = pinningProblem()
  console.log(`servers run under: node ${serverNodeFlags.join(' ') || '(V8 defaults)'}`)
  if (problem !== null) console.log(`not pinning to cores: ${problem}; expect noisier numbers`)
  const cores: Cores =
    problem === null ? { server: serverCore, loadgen: loadgenCore } : { server: null, loadgen: null }
  return { options, startedAt, pinned: problem === null, cores }
}

/**
 * Writes `results` after the run's start, machine, pinning and options to bench/results/NAME-STAMP.json,
 * and says where. `machineExtra` adds to the machine's description (e.g. the peer library's version).
 */
export function writeHarnessResults<Options>(
  name: string,
  run: HarnessRun<Options>,
  results: Record<string, unknown>,
  machineExtra: Record<string, string> = {},
): void {
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    kernel: release(),
    node: process.version,
    ...machineExtra,
  }
  const stamp = run.startedAt.toISOString().slice(0, 19).replace(/:/g, '-')
  const path = join(root, 'bench/results', `${name}-${stamp}Z.json`)
  const { startedAt, pinned, options } = run
  writeResults(path, { startedAt: startedAt.toISOString(), machine, pinned, options, ...results })
  console.log(`\nwrote ${path.slice(root.length)}`)
}
