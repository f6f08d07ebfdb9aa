// The Socket.IO benchmark's command-line flags (`npm run bench:socketio -- --quick --only=ours`) and their
// defaults, which are the cases its issue asks for: echo (event, event + ack) at 32 B and 16 KiB, a room
// broadcast to 10,000 sockets, and idle memory at 10,000 connections.
import { defaultEchoOptions, type EchoOptions, parseCount, parseEchoFlag, parseFlags } from './options.js'

/** The servers, in table order; `--only` takes these ids. */
export const sioServerIds = ['ours', 'socketio'] as const
export type SioServerId = (typeof sioServerIds)[number]

/**
 * What one Socket.IO benchmark run measures and for how long. The echo options are bench/options.ts's: an
 * echo is an event carrying a string of `sizes` bytes, and the warmup and duration are those of every
 * measured window — echo, broadcast latency, each broadcast K.
 */
export interface SioBenchOptions extends EchoOptions {
  /** Server ids to run; empty means both. */
  only: SioServerId[]
  /** Subscriber counts of the broadcast; empty skips it. */
  subs: number[]
  /** Publishes the broadcast's publisher keeps unacknowledged: one throughput window per value. */
  pubInflight: number[]
  /** Offered deliveries/s of the broadcast's latency window. */
  rate: number
}

/**
 * A full run: eight echo cases of about 7 s, two broadcasts of about 35 s, two idle holds; about 3 minutes.
 * The echo benchmark's echo and idle defaults are the cases too.
 */
export const defaultSioBenchOptions: SioBenchOptions = {
  only: [],
  ...defaultEchoOptions,
  subs: [10000],
  pubInflight: [4, 16],
  rate: 20000,
}

/**
 * `--quick`: short windows to check the harness, about 2 minutes. It keeps the 10,000 subscribers and idle
 * connections, since connecting that many is what most often goes wrong.
 */
const quickOptions: Partial<SioBenchOptions> = { warmupS: 0.3, durationS: 1, idleHoldS: 0.5 }

export const sioUsage = `usage: npm run bench:socketio -- [--quick] [--only=ours,socketio] [--sizes=32,16384] [--conns=100]
         [--inflight=1] [--repeat=1] [--subs=10000] [--pub-inflight=4,16] [--rate=20000] [--idle=10000]
         [--warmup=1] [--duration=5]`

function parseList(flag: string, value: string): number[] {
  return value
    .split(',')
    .filter((item) => item !== '')
    .map((item) => parseCount(flag, item))
    .filter((n) => n > 0)
}

function parseOnly(value: string): SioServerId[] {
  const ids = value.split(',').filter((id) => id !== '')
  const unknown = ids.find((id) => !(sioServerIds as readonly string[]).includes(id))
  if (unknown !== undefined)
    throw new RangeError(`--only: no server '${unknown}' (${sioServerIds.join(', ')})`)
  return ids as SioServerId[]
}

/** Parses argv after the script name; throws a RangeError naming the bad flag. */
export function parseSioBenchOptions(argv: readonly string[]): SioBenchOptions {
  const o = parseFlags(argv, defaultSioBenchOptions, quickOptions, sioUsage, (options, flag, value) => {
    if (flag === '--only') options.only = parseOnly(value)
    else if (flag === '--sizes') options.sizes = parseList(flag, value)
    else if (flag === '--subs') options.subs = parseList(flag, value)
    else if (flag === '--pub-inflight') options.pubInflight = parseList(flag, value)
    else if (flag === '--rate') options.rate = parseCount(flag, value)
    else return parseEchoFlag(options, flag, value)
    return true
  })
  if (o.conns === 0 || o.inflight === 0 || o.repeat === 0 || o.durationS === 0 || o.rate === 0) {
    throw new RangeError('--conns, --inflight, --repeat, --rate and --duration must be above 0')
  }
  if (o.subs.length > 0 && o.pubInflight.length === 0) throw new RangeError('--pub-inflight needs a value')
  return o
}
