// CPU time and resident memory of a running process, read from Linux's /proc (proc(5)).
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

let ticksPerSecond: number | undefined

/** CLK_TCK, the unit of utime and stime in /proc/PID/stat; 100 on every Linux we run on. */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    ticksPerSecond = Number.isInteger(out) && out > 0 ? out : 100
  }
  return ticksPerSecond
}

/** User plus system CPU seconds of every thread of `pid` (so zlib's pool threads count too). */
export function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name may contain spaces and parentheses; the fields after its last ')' are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  return (utime + stime) / clockTicks()
}

/** Resident set size of `pid`, in KiB (VmRSS in /proc/PID/status). */
export function readRssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status)
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(match[1])
}

/** CPU seconds the whole machine spent busy (user, system, interrupts) since boot, all cores summed. */
export function readMachineBusySeconds(): number {
  const text = readFileSync('/proc/stat', 'utf8')
  // The first line sums every core: "cpu user nice system idle iowait irq softirq steal …", in ticks.
  const [user, nice, system, , , irq, softirq] = text
    .slice(4, text.indexOf('\n'))
    .trim()
    .split(/\s+/)
    .map(Number)
  return (user + nice + system + irq + softirq) / clockTicks()
}

/** A CPU-time reading of one process and of the machine, paired with the wall clock. */
export interface CpuSample {
  cpuS: number
  machineBusyS: number
  wallS: number
}

export function sampleCpu(pid: number): CpuSample {
  return {
    cpuS: readCpuSeconds(pid),
    machineBusyS: readMachineBusySeconds(),
    wallS: performance.now() / 1000,
  }
}

/** Busy cores of the whole machine between two samples (2 means both cores of a 2-core machine). */
export function machineBusyShare(from: CpuSample, to: CpuSample): number {
  return (to.machineBusyS - from.machineBusyS) / (to.wallS - from.wallS)
}

/** CPU seconds per wall second between two samples: 1 means one core fully busy. */
export function cpuShare(from: CpuSample, to: CpuSample): number {
  return (to.cpuS - from.cpuS) / (to.wallS - from.wallS)
}

export const quietShare = 0.1
export const quietWaitS = 10

/**
 * Waits, up to 10 s, for half a second in which the machine is nearly idle: on two cores a neighbour's
 * tests or builds take cycles straight from the server or the load generator. False if it never was.
 */
export async function waitForQuiet(): Promise<boolean> {
  const deadline = performance.now() + quietWaitS * 1000
  while (performance.now() < deadline) {
    const before = readMachineBusySeconds()
    await new Promise((resolve) => setTimeout(resolve, 500))
    if ((readMachineBusySeconds() - before) / 0.5 < quietShare) return true
  }
  return false
}
