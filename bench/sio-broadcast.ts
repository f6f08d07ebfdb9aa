// The room-broadcast case of the Socket.IO benchmark: S subscribers and one publisher in room `bench`,
// driven by bench/loadgen/fanout.c in its Socket.IO mode, measured as bench/fanout.ts measures the hub.
import { type FanoutRow, measureFanout } from './fanout-case.js'
import type { Cores } from './pinning.js'
import type { SioBenchOptions, SioServerId } from './sio-options.js'
import type { SioServer } from './sio-servers.js'

/** One server × subscriber count: one latency window, then one throughput window per K. */
export type BroadcastRow = FanoutRow<SioServerId>

/** Starts the server, runs the fan-out load generator against it, and stops both. */
export function measureSioBroadcast(
  fanout: string,
  server: SioServer,
  subs: number,
  o: SioBenchOptions,
  cores: Cores,
): Promise<BroadcastRow> {
  const { warmupS, durationS } = o
  // One warmup and one window length for every window, the latency one included.
  const windows = { warmupS, durationS, latWarmupS: warmupS, latDurationS: durationS }
  const run = { kind: 'sio', subs, inflight: o.pubInflight, rate: o.rate, ...windows } as const
  return measureFanout(fanout, server, run, cores)
}
