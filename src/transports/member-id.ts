// Connection ids that stay unique across every server of a cluster: a random tag for this process and a
// counter per transport.

const processTag = Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString('hex')
const counters = new Map<string, number>()

/** A fresh id such as `ws-1a2b3c4d-17`. */
export function newMemberId(prefix: string): string {
  const next = (counters.get(prefix) ?? 0) + 1
  counters.set(prefix, next)
  return `${prefix}-${processTag}-${next}`
}
