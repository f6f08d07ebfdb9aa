// Runs the server and the load generator on separate cores, each with enough file descriptors.
import { execFileSync } from 'node:child_process'
import { availableParallelism } from 'node:os'

/** The server's core, and the load generator's. */
export const serverCore = 0
export const loadgenCore = 1

/** The cores the server and the load generator are pinned to; null when pinning is unavailable. */
export interface Cores {
  server: number | null
  loadgen: number | null
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Null when pinning works here, else why not (the run goes on unpinned and says so). */
export function pinningProblem(): string | null {
  if (availableParallelism() < 2) return 'fewer than 2 cores'
  if (!hasTaskset()) return 'taskset not found (Debian package util-linux)'
  return null
}

/**
 * The command line that runs `argv` on `core` with at least `fdLimit` descriptors. bash raises the
 * limit (a root shell may lift the hard limit too), then `exec`s, so the child keeps bash's pid.
 */
export function pinnedCommand(
  core: number | null,
  fdLimit: number,
  argv: readonly string[],
): [string, string[]] {
  const raise = `[ "$(ulimit -n)" -ge ${fdLimit} ] || ulimit -n ${fdLimit} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`
  const pin = core === null ? [] : ['taskset', '-c', String(core)]
  return ['bash', ['-c', raise, 'bench', ...pin, ...argv]]
}
