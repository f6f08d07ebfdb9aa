// The Socket.IO benchmark's command-line flags (`npm run bench:socketio -- --quick --only=ours`) and their
// defaults, which are the cases its issue asks for: echo (event, event + ack) at 32 B and 16 KiB, a room
// broadcast to 10,000 sockets, and idle memory at 10,000 connections.
import { parseCount, parseSeconds } from './options.js'

/** The servers, in table order; `--only` takes these ids. */
export const sioServerIds = ['ours', 'socketio'] as const
export type SioServerId = (typeof sioServerIds)[number]

/** What one Socket.IO benchmark run measures and for how long. */
export interface SioBenchOptions {
  /** Server ids to run; empty means both. */
  only: SioServerId[]
  /** Echo payload sizes: the string the event carries, in bytes. */
  sizes: number[]
  /** Closed-loop echo connections. */
  conns: number
  /** Echoes each connection keeps in flight. */
  inflight: number
  /** Rounds through all echo cases, interleaved; the table shows each case's median round. */
  repeat: number
  /** Subscriber counts of the broadcast; empty skips it. */
  subs: number[]
  /** Publishes the broadcast's publisher keeps unacknowledged: one throughput window per value. */
  pubInflight: number[]
  /** Offered deliveries/s of the broadcast's latency window. */
  rate: number
  /** Connections held open for the memory table; 0 skips it. */
  idleConns: number
  /** Seconds before and of each measured window: echo, broadcast latency, each broadcast K. */
  warmupS: number
  durationS: number
  /** How long the idle connections are held before the server's RSS is read. */
  idleHoldS: number
}

/** A full run: eight echo cases of about 7 s, two broadcasts of about 35 s, two idle holds; about 3 minutes. */
export const defaultSioBenchOptions: SioBenchOptions = {
  only: [],
  sizes: [32, 16384],
  conns: 100,
  inflight: 1,
  repeat: 1,
  subs: [10000],
  pubInflight: [4, 16],
  rate: 20000,
  idleConns: 10000,
  warmupS: 1,
  durationS: 5,
  idleHoldS: 2,
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
  const quick = argv.includes('--quick')
  const o: SioBenchOptions = { ...defaultSioBenchOptions, ...(quick ? quickOptions : {}) }
  for (const arg of argv) {
    if (arg === '--quick') continue
    const [flag, value = ''] = arg.split('=', 2)
    if (flag === '--only') o.only = parseOnly(value)
    else if (flag === '--sizes') o.sizes = parseList(flag, value)
    else if (flag === '--conns') o.conns = parseCount(flag, value)
    else if (flag === '--inflight') o.inflight = parseCount(flag, value)
    else if (flag === '--repeat') o.repeat = parseCount(flag, value)
    else if (flag === '--subs') o.subs = parseList(flag, value)
    else if (flag === '--pub-inflight') o.pubInflight = parseList(flag, value)
    else if (flag === '--rate') o.rate = parseCount(flag, value)
    else if (flag === '--idle') o.idleConns = parseCount(flag, value)
    else if (flag === '--warmup') o.warmupS = parseSeconds(flag, value)
    else if (flag === '--duration') o.durationS = parseSeconds(flag, value)
    else throw new RangeError(`unknown flag '${arg}'\n${sioUsage}`)
  }
  if (o.conns === 0 || o.inflight === 0 || o.repeat === 0 || o.durationS === 0 || o.rate === 0) {
    throw new RangeError('--conns, --inflight, --repeat, --rate and --duration must be above 0')
  }
  if (o.subs.length > 0 && o.pubInflight.length === 0) throw new RangeError('--pub-inflight needs a value')
  return o
}
