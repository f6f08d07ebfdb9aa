// The echo benchmark's command-line flags (`npm run bench -- --quick --only=ws,net`) and their defaults, and
// the echo and idle flags bench/sio-options.ts shares with it.

/** The echo and idle-memory cases' options, the same in the WebSocket and the Socket.IO benchmark. */
export interface EchoOptions {
  /** Message sizes, in bytes (Socket.IO: the string the event carries). */
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

/** What one benchmark run measures and for how long. */
export interface BenchOptions extends EchoOptions {
  /** Server ids or families to run (`ours`, `ws`, `net`, `ws-deflate` …); empty means all. */
  only: string[]
}

/** The echo and idle cases of a full run: 32 B and 16 KiB at 100 connections, 10,000 idle connections. */
export const defaultEchoOptions: EchoOptions = {
  sizes: [32, 16384],
  conns: 100,
  inflight: 1,
  repeat: 1,
  idleConns: 10000,
  warmupS: 1,
  durationS: 5,
  idleHoldS: 2,
}

/** The defaults of a full run: ten echo cases of about 7 s and three idle runs, under three minutes. */
export const defaultBenchOptions: BenchOptions = { only: [], ...defaultEchoOptions }

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

const countFlags = {
  '--conns': 'conns',
  '--inflight': 'inflight',
  '--repeat': 'repeat',
  '--idle': 'idleConns',
} as const
const secondsFlags = { '--warmup': 'warmupS', '--duration': 'durationS' } as const

/** Sets `o`'s field for an echo or idle flag (`--conns`, `--warmup` …); false when `flag` is none of them. */
export function parseEchoFlag(o: EchoOptions, flag: string, value: string): boolean {
  if (flag in countFlags) o[countFlags[flag as keyof typeof countFlags]] = parseCount(flag, value)
  else if (flag in secondsFlags)
    o[secondsFlags[flag as keyof typeof secondsFlags]] = parseSeconds(flag, value)
  else return false
  return true
}

/**
 * `defaults`, with `quick` over them when argv has `--quick`, then each `--flag=value` of argv through
 * `setFlag`; a flag it does not know (it returns false) throws a RangeError that shows `usage`.
 */
export function parseFlags<Options extends object>(
  argv: readonly string[],
  defaults: Options,
  quick: Partial<Options>,
  usage: string,
  setFlag: (o: Options, flag: string, value: string) => boolean,
): Options {
  const o: Options = { ...defaults, ...(argv.includes('--quick') ? quick : {}) }
  for (const arg of argv) {
    if (arg === '--quick') continue
    const [flag, value = ''] = arg.split('=', 2)
    if (!setFlag(o, flag, value)) throw new RangeError(`unknown flag '${arg}'\n${usage}`)
  }
  return o
}

/** Parses argv after the script name; throws a RangeError naming the bad flag. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const options = parseFlags(argv, defaultBenchOptions, quickOptions, usage, (o, flag, value) => {
    if (flag === '--only') o.only = value.split(',').filter((id) => id !== '')
    else if (flag === '--sizes') o.sizes = value.split(',').map((size) => parseCount(flag, size))
    else return parseEchoFlag(o, flag, value)
    return true
  })
  if (options.conns === 0 || options.inflight === 0 || options.repeat === 0 || options.durationS === 0) {
    throw new RangeError('--conns, --inflight, --repeat and --duration must be above 0')
  }
  return options
}
