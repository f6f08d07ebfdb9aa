// The echo benchmark's command-line flags (`npm run bench -- --quick --only=ws,net`) and their defaults.

/** What one benchmark run measures and for how long. */
export interface BenchOptions {
  /** Server ids or families to run (`ours`, `ws`, `net`, `ws-deflate` …); empty means all. */
  only: string[]
  /** Message sizes, in bytes. */
  sizes: number[]
  /** Closed-loop connections of the load generator. */
  conns: number
  /** Messages each connection keeps in flight. */
  inflight: number
  /** Rounds through all echo cases; the table shows each case's median round. */
  repeat: number
  /** Connections held open for the memory table; 0 skips it. */
  idleConns: number
  warmupS: number
  durationS: number
  /** How long the idle connections are held before the server's RSS is read. */
  idleHoldS: number
}

/** The defaults of a full run: ten echo cases of about 7 s and three idle runs, under three minutes. */
export const defaultBenchOptions: BenchOptions = {
  only: [],
  sizes: [32, 16384],
  conns: 100,
  inflight: 1,
  repeat: 1,
  idleConns: 10000,
  warmupS: 1,
  durationS: 5,
  idleHoldS: 2,
}

/** `--quick`: a smoke run of a few seconds per case, to check the harness rather than measure. */
const quickOptions: Partial<BenchOptions> = { warmupS: 0.3, durationS: 1, idleConns: 1000, idleHoldS: 0.5 }

export const usage = `usage: npm run bench -- [--quick] [--only=ours,ws,net] [--sizes=32,16384] [--conns=100]
                        [--inflight=1] [--repeat=1] [--idle=10000] [--warmup=1] [--duration=5]`

/** A whole number ≥ 0 for `flag`; throws a RangeError naming it. */
export function parseCount(flag: string, value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${flag} wants a whole number, got '${value}'`)
  return n
}

/** Seconds ≥ 0 for `flag`; throws a RangeError naming it. */
export function parseSeconds(flag: string, value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${flag} wants seconds, got '${value}'`)
  return n
}

/** Parses argv after the script name; throws a RangeError naming the bad flag. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const quick = argv.includes('--quick')
  const options: BenchOptions = { ...defaultBenchOptions, ...(quick ? quickOptions : {}) }
  for (const arg of argv) {
    if (arg === '--quick') continue
    const [flag, value = ''] = arg.split('=', 2)
    switch (flag) {
      case '--only':
        options.only = value.split(',').filter((id) => id !== '')
        break
      case '--sizes':
        options.sizes = value.split(',').map((size) => parseCount(flag, size))
        break
      case '--conns':
        options.conns = parseCount(flag, value)
        break
      case '--inflight':
        options.inflight = parseCount(flag, value)
        break
      case '--repeat':
        options.repeat = parseCount(flag, value)
        break
      case '--idle':
        options.idleConns = parseCount(flag, value)
        break
      case '--warmup':
        options.warmupS = parseSeconds(flag, value)
        break
      case '--duration':
        options.durationS = parseSeconds(flag, value)
        break
      default:
        throw new RangeError(`unknown flag '${arg}'\n${usage}`)
    }
  }
  if (options.conns === 0 || options.inflight === 0 || options.repeat === 0 || options.durationS === 0) {
    throw new RangeError('--conns, --inflight, --repeat and --duration must be above 0')
  }
  return options
}
