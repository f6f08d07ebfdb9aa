// Lines as the bytes written to a stream socket. A hub event is encoded once per mode, however many members
// of a room it reaches.
import type { HubEvent } from '../hub/member.js'
import { formatEvent } from './codec/json-protocol.js'
import { formatEventLine } from './codec/line.js'
import { LastEventCache } from './event-cache.js'
import type { LineMode } from './line-options.js'

// Each event is formatted and encoded once per mode, and the same bytes are written to every socket.
const encoded = { text: new LastEventCache<Buffer>(), json: new LastEventCache<Buffer>() }

/** The bytes of `event` as one line in `mode`, shared by every connection that writes it. */
export function encodeEvent(event: HubEvent, mode: LineMode): Buffer {
  return encoded[mode].get(event, (fresh) =>
    lineBytes(mode === 'text' ? formatEventLine(fresh) : formatEvent({ ...fresh })),
  )
}

/** The bytes of one line, with its LF. */
export function lineBytes(line: string): Buffer {
  return Buffer.from(`${line}\n`)
}
