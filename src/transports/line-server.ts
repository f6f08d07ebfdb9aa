// The server side of the TCP and Unix line transports: admits stream sockets through the connection gate,
// counts them and closes them all. The protocol: docs/line-protocol.md.
import type { ListenOptions, Server } from 'node:net'
import type { Duplex } from 'node:stream'
import { debuglog } from 'node:util'
import type { DisconnectInfo } from '../hub/disconnect.js'
import type { Hub } from '../hub/hub.js'
import { formatError } from './codec/json-protocol.js'
import { formatErr } from './codec/line.js'
import { ConnectionGate } from './connection-gate.js'
import { LineConnection } from './line-connection.js'
import { type LineOptions, resolveLineOptions } from './line-options.js'
import { countRefused, type Listener, newCounters, type TransportCounters } from './listener.js'

const log = debuglog('switchboard:lines')

/** How a line server is set up. */
export interface LineServerSettings {
  transport: 'tcp' | 'unix'
  options?: Partial<LineOptions>
  /** Connection limits shared with the server's other transports. @default a gate of its own */
  gate?: ConnectionGate
}

/** The connections of one line listener: admits them through the gate, counts them, closes them all. */
export class LineServer {
  readonly counters: TransportCounters
  readonly options: LineOptions
  readonly #hub: Hub
  readonly #transport: 'tcp' | 'unix'
  readonly #gate: ConnectionGate
  readonly #open = new Set<LineConnection>()
  #closing = false

  constructor(hub: Hub, settings: LineServerSettings) {
    this.#hub = hub
    this.#transport = settings.transport
    this.options = resolveLineOptions(settings.options)
    this.#gate = settings.gate ?? new ConnectionGate()
    const open = this.#open
    this.counters = {
      ...newCounters(),
      get queuedBytes() {
        let sum = 0
        for (const connection of open) sum += connection.queuedBytes
        return sum
      },
    }
  }

  /** Open connections. */
  get connections(): number {
    return this.#open.size
  }

  /**
   * Serves a new socket from `address`. `gateKey` is what the per-address limit counts (Unix peers have no
   * address, so each passes a key of its own and only the total applies).
   */
  accept(socket: Duplex, address: string, gateKey = address): void {
    // ECONNRESET and the like are routine; 'close' follows every error and does the cleaning up.
    socket.on('error', (error) => log('%s socket from %s: %s', this.#transport, address, error.message))
    if (this.#closing) return this.#turnAway(socket, 'closed', 'the server is stopping')
    const admitted = this.#gate.admit(gateKey)
    if (admitted !== 'ok') {
      countRefused(this.counters, admitted)
      const detail =
        admitted === 'too-many-connections'
          ? 'the server has all the connections it can take; try again later'
          : `too many connections from ${address}; try again later`
      return this.#turnAway(socket, admitted, detail)
    }
    const connection = new LineConnection(socket, {
      hub: this.#hub,
      transport: this.#transport,
      remoteAddress: address,
      options: this.options,
      counters: this.counters,
    })
    this.#open.add(connection)
    void connection.closed.then(() => {
      this.#open.delete(connection)
      this.#gate.release(gateKey)
    })
  }

  /** Refuses new sockets, says BYE to every connection and resolves once all are gone. */
  async close(reason: DisconnectInfo): Promise<void> {
    this.#closing = true
    const open = [...this.#open]
    for (const connection of open) connection.close(reason)
    await Promise.all(open.map((connection) => connection.closed))
  }

  #turnAway(socket: Duplex, code: string, message: string): void {
    const error = { status: 503, code, message }
    const line = this.options.mode === 'json' ? formatError(undefined, error) : formatErr(error)
    socket.end(`${line}\n`)
    socket.resume()
    const timer = setTimeout(() => socket.destroy(), this.options.closeTimeoutMs)
    socket.once('close', () => clearTimeout(timer))
  }
}

/** Listens, rejecting with the system's error (EADDRINUSE, EACCES…) when that fails. */
export function listen(server: Server, options: ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options, () => {
      server.off('error', reject)
      // Later errors (EMFILE on accept) are the server's to survive, not the process's.
      server.on('error', (error) => log('listener error: %s', error.message))
      resolve()
    })
  })
}

/**
 * The listener of a stream-socket server whose connections `lines` serves: closing stops accepting, says
 * goodbye to every connection, and waits for both; `afterClose` then tidies what the server left (a socket file).
 */
export function lineListener(
  server: Server,
  lines: LineServer,
  url: string,
  afterClose?: () => Promise<void>,
): Listener {
  return {
    url,
    get connections() {
      return lines.connections
    },
    counters: lines.counters,
    async close(reason) {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
      await lines.close(reason)
      await stopped
      await afterClose?.()
    },
  }
}
