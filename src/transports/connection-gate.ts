// Connection limits shared by every transport: in total and per remote address.

/** Limits on connections. */
export interface ConnectionLimits {
  /** Open connections across all transports. @default 10000 */
  maxConnections: number
  /** Open connections from one address. @default 100 */
  maxConnectionsPerIp: number
}

/** The default connection limits. */
export const connectionDefaults: ConnectionLimits = { maxConnections: 10_000, maxConnectionsPerIp: 100 }

/** Admits or refuses new connections; every transport of one server shares one gate. */
export class ConnectionGate {
  readonly #limits: ConnectionLimits
  readonly #perIp = new Map<string, number>()
  #total = 0

  constructor(limits: Partial<ConnectionLimits> = {}) {
    this.#limits = { ...connectionDefaults, ...limits }
  }

  /** Open connections. */
  get total(): number {
    return this.#total
  }

  /**
   * Admits a connection from `address`, or says which limit refuses it. An admitted connection must be
   * released exactly once.
   */
  admit(address: string): 'ok' | 'too-many-connections' | 'too-many-from-address' {
    if (this.#total >= this.#limits.maxConnections) return 'too-many-connections'
    const fromAddress = this.#perIp.get(address) ?? 0
    if (fromAddress >= this.#limits.maxConnectionsPerIp) return 'too-many-from-address'
    this.#total++
    this.#perIp.set(address, fromAddress + 1)
    return 'ok'
  }

  /** Releases a connection admitted from `address`. */
  release(address: string): void {
    const fromAddress = this.#perIp.get(address) ?? 0
    if (fromAddress <= 0) return
    this.#total--
    if (fromAddress === 1) this.#perIp.delete(address)
    else this.#perIp.set(address, fromAddress - 1)
  }
}

/** What a refused client is told, in the same words on every transport that shows a reason. */
export function refusalMessage(
  verdict: 'too-many-connections' | 'too-many-from-address',
  address: string,
): string {
  return verdict === 'too-many-connections'
    ? 'the server has too many connections'
    : `too many connections from ${address}`
}
