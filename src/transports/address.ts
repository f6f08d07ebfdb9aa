// Printing listener addresses the way users paste them: IPv6 hosts in brackets.
import type { AddressInfo } from 'node:net'

/** `ws://127.0.0.1:8080`, `tcp://[::1]:9090`. */
export function formatAddress(scheme: string, address: AddressInfo | string | null): string {
  if (address === null) return `${scheme}://unknown`
  if (typeof address === 'string') return `${scheme}://${address}`
  const host =
    address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address
  return `${scheme}://${host}:${address.port}`
}
