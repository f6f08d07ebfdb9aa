// The echo cases of the Socket.IO benchmark: bench/echo-case.ts's closed-loop run with the C load generator
// in its Socket.IO mode, the same way bench/run.ts measures the WebSocket servers.
import { measureEcho } from './echo-case.js'
import type { Cores } from './pinning.js'
import type { EchoRow } from './report.js'
import type { SioBenchOptions } from './sio-options.js'
import type { SioServer } from './sio-servers.js'

/** An echo is the event sent back (`42["echo",P]`), or the ack the event asked for (`431[P]`). */
export type SioVariant = 'event' | 'ack'

/** One closed-loop echo run against a fresh server process. */
export function measureSioEcho(
  loadgen: string,
  server: SioServer,
  variant: SioVariant,
  sizeBytes: number,
  o: SioBenchOptions,
  cores: Cores,
): Promise<EchoRow> {
  const { conns, inflight, warmupS, durationS } = o
  const run = { mode: 'sio', deflate: false, ack: variant === 'ack', size: sizeBytes } as const
  return measureEcho(loadgen, server, { ...run, conns, inflight, warmupS, durationS }, cores, variant)
}
