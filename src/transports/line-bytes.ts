// Lines as the bytes written to a stream socket. A hub event is encoded once per mode, however many members
// of a room it reaches.
import type { HubEvent } from '../hub/member.js'
import { formatEvent } from './codec/json-protocol.js'
import { formatEventLine } from './codec/line.js'
import type { LineMode } from './line-options.js'

// The hub hands one event object to every member of a room, so each is formatted and encoded once per mode
// and the same bytes are written to every socket, not once per member.
const encoded = { text: new WeakMap<HubEvent, Buffer>(), json: new WeakMap<HubEvent, Buffer>() }

/** The bytes of `event` as one line in `mode`, shared by every connection that writes it. */
export function encodeEvent(event: HubEvent, mode: LineMode): Buffer {
  let bytes = encoded[mode].get(event)
  if (bytes === undefined) {
    bytes = lineBytes(mode === 'text' ? formatEventLine(event) : formatEvent({ ...event }))
    encoded[mode].set(event, bytes)
  }
  return bytes
}

/** The bytes of one line, with its LF. */
export function lineBytes(line: string): Buffer {
  return Buffer.from(`${line}\n`)
}
