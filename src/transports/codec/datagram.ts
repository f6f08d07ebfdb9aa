// The UDP protocol (docs/udp.md): one datagram is one line of the line protocol (line.ts) or one
// switchboard.v1 JSON request, and what we send must fit in one datagram. Pure: bytes and strings only.
import { type Command, LineProtocolError, parseCommand } from './line.js'

/** A datagram, decoded: a switchboard.v1 JSON request (still text) or a line-protocol command. */
export type Datagram = { kind: 'json'; text: string } | { kind: 'command'; command: Command }

/** What a peer that has not joined hears, whatever it sent. */
export const howToJoin = 'send /join ROOM or /nick NAME [KEY] to join, or a switchboard.v1 JSON join request'

// Fatal: a datagram that is not UTF-8 is refused, never repaired; a leading U+FEFF stays text.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Decodes one datagram: text starting with `{` is JSON, anything else one line of the line protocol, less
 * one trailing LF or CR LF (what nc and socat add). Never throws: a refusal comes back as the error.
 */
export function decodeDatagram(bytes: Uint8Array): Datagram | LineProtocolError {
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    return new LineProtocolError(
      'invalid-utf8',
      400,
      'a datagram is UTF-8 text; send bytes in JSON as {"base64": "..."}',
    )
  }
  if (text.startsWith('{')) return { kind: 'json', text }
  const command = parseCommand(stripNewline(text))
  return command instanceof LineProtocolError ? command : { kind: 'command', command }
}

function stripNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2)
  return text.endsWith('\n') ? text.slice(0, -1) : text
}

/** A room or direct message too big for one datagram. */
export type TooBigEvent =
  | { type: 'message'; room: string; from: string; data: string | Uint8Array; offset: number }
  | { type: 'direct'; from: string; data: string | Uint8Array }

/**
 * What is sent instead of a message too big for one datagram, shaped like its line (line.ts
 * `formatEventLine`) so it is never silently missing: `[lobby] ann: [message of 5000 bytes too big for UDP;
 * /history over TCP or WebSocket to read offset 42]`. A direct message is not kept, so its notice says so.
 */
export function formatTooBigLine(event: TooBigEvent): string {
  const bytes = dataBytes(event.data)
  if (event.type === 'direct') {
    return `[dm] ${event.from}: [message of ${bytes} bytes too big for UDP; direct messages are not kept, ask ${event.from} to send it over TCP or WebSocket]`
  }
  return `[${event.room}] ${event.from}: [message of ${bytes} bytes too big for UDP; /history over TCP or WebSocket to read offset ${event.offset}]`
}

/**
 * The JSON counterpart of `formatTooBigLine`: the event without its data, `type: "too-big"`, the type it
 * stands for in `event`, and the data's size in `bytes`. A room message keeps its offset to fetch it by.
 */
export function formatTooBigJson(event: TooBigEvent & Record<string, unknown>): string {
  const { data, type, ...rest } = event
  return JSON.stringify({ type: 'too-big', event: type, ...rest, bytes: dataBytes(data) })
}

/**
 * Makes a JSON reply fit in `maxBytes` (UTF-8) by cutting its history page, keeping the oldest messages:
 * the client sees the page end before `lastOffset` and asks `history` after the last one it got, as with
 * a page cut by the hub's page limit. Null when it cannot fit even without messages.
 */
export function fitJsonReply(reply: string, maxBytes: number): string | null {
  if (textBytes(reply) <= maxBytes) return reply
  let value: unknown
  try {
    value = JSON.parse(reply)
  } catch {
    return null
  }
  const history = (value as { history?: { messages?: unknown } } | null)?.history
  if (!history || !Array.isArray(history.messages)) return null
  const messages: unknown[] = history.messages
  const cut = (count: number) =>
    JSON.stringify({ ...(value as object), history: { ...history, messages: messages.slice(0, count) } })
  if (textBytes(cut(0)) > maxBytes) return null
  // The most messages that fit, by bisection: a page holds up to 500 of any size.
  let low = 0
  let high = messages.length - 1
  while (low < high) {
    const middle = Math.ceil((low + high) / 2)
    if (textBytes(cut(middle)) <= maxBytes) low = middle
    else high = middle - 1
  }
  return cut(low)
}

/** The size in bytes of message data (UTF-8 for text). */
export function dataBytes(data: string | Uint8Array): number {
  return typeof data === 'string' ? textBytes(data) : data.byteLength
}

const encoder = new TextEncoder()

/** The UTF-8 size of a string. */
export function textBytes(text: string): number {
  return encoder.encode(text).byteLength
}
