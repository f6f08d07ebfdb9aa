// The TCP line transport: `nc 127.0.0.1 9090` joins the hub's lobby. The protocol: docs/line-protocol.md.
import { createServer } from 'node:net'
import type { Hub } from '../hub/hub.js'
import type { ConnectionGate } from './connection-gate.js'
import type { Listener } from './listener.js'
import type { LineOptions } from './line-options.js'
import { LineServer, lineListener, listen } from './line-server.js'
import { formatAddress } from './address.js'

/** Where the TCP transport listens. */
export interface TcpSettings {
  /** Interface to listen on; `0.0.0.0` or `::` for every one. @default '127.0.0.1' */
  host: string
  /** Port; 0 picks a free one. @default 9090 */
  port: number
}

/** The TCP transport's defaults. */
export const tcpDefaults: TcpSettings = { host: '127.0.0.1', port: 9090 }

/** How `startTcp` is set up: where, the line settings, and the gate shared with other transports. */
export type TcpOptions = Partial<TcpSettings & LineOptions> & { gate?: ConnectionGate }

/** Starts the TCP line transport; resolves once listening, with the URL to print (`tcp://127.0.0.1:9090`). */
export async function startTcp(hub: Hub, options: TcpOptions = {}): Promise<Listener> {
  const { host = tcpDefaults.host, port = tcpDefaults.port, gate, ...lineOptions } = options
  const lines = new LineServer(hub, { transport: 'tcp', options: lineOptions, gate })
  // Half-open: a peer that has sent its last line (nc -N) still gets the answers and the BYE.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    // Chat lines are small and wanted now.
    socket.setNoDelay(true)
    lines.accept(socket, socket.remoteAddress ?? 'unknown')
  })
  await listen(server, { host, port })
  return lineListener(server, lines, formatAddress('tcp', server.address()))
}
