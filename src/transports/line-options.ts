// Every setting of the TCP and Unix line transports with its default, and the check that fills in and
// validates a partial set. The protocol: docs/line-protocol.md.
import { rangeError } from '../errors.js'

/** What a connection speaks: text lines for people, or switchboard.v1 JSON lines for programs. */
export type LineMode = 'text' | 'json'

/** Settings of the TCP and Unix line transports. */
export interface LineOptions {
  /** What a connection speaks from the start; `/json` and `/text` switch it. @default 'text' */
  mode: LineMode
  /** Longest line accepted, in bytes without its CR LF; fits a 64 KiB message sent as base64 JSON. @default 131072 */
  maxLineBytes: number
  /** A connection that sends nothing for this long is closed with `BYE 4002 idle timeout`; 0 never. @default 300000 */
  idleTimeoutMs: number
  /** Bytes waiting to be sent to one connection past which it is closed with `BYE 4008`. @default 1048576 */
  maxQueuedBytes: number
  /** After a BYE, how long the peer has to read it and close before the socket is dropped. @default 5000 */
  closeTimeoutMs: number
}

/** The defaults of every line transport setting. */
export const lineDefaults: LineOptions = {
  mode: 'text',
  maxLineBytes: 128 * 1024,
  idleTimeoutMs: 5 * 60 * 1000,
  maxQueuedBytes: 1024 * 1024,
  closeTimeoutMs: 5000,
}

/** Fills in defaults and checks every setting; misuse throws a `RangeError` with a `code` at once. */
export function resolveLineOptions(options: Partial<LineOptions> = {}): LineOptions {
  const resolved: LineOptions = { ...lineDefaults }
  for (const key of Object.keys(lineDefaults) as Array<keyof LineOptions>) {
    if (options[key] !== undefined) Object.assign(resolved, { [key]: options[key] })
  }
  if (resolved.mode !== 'text' && resolved.mode !== 'json')
    throw rangeError('line-bad-option', `mode is 'text' or 'json', not ${String(resolved.mode)}`)
  const positive = ['maxLineBytes', 'maxQueuedBytes'] as const
  const nonNegative = ['idleTimeoutMs', 'closeTimeoutMs'] as const
  for (const key of [...positive, ...nonNegative]) {
    const value = resolved[key]
    const least = (positive as readonly string[]).includes(key) ? 1 : 0
    if (!Number.isInteger(value) || value < least)
      throw rangeError('line-bad-option', `${key} must be a whole number of at least ${least}, not ${value}`)
  }
  return resolved
}
