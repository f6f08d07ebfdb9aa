// The JSON protocol `switchboard.v1`, spoken over WebSocket (subprotocol switchboard.v1) and as JSON lines on
// TCP, Unix and UDP: requests in, replies and events out. Pure: strings in, values out. See docs/protocol.md.
import { SwitchboardError } from '../../errors.js'

/** A request's correlation id, echoed in its reply. */
export type RequestId = string | number

/** Message data on the wire: text as a string, bytes as `{ "base64": "…" }`. */
export type WireData = string | { base64: string }

/** A resume point: the last offset seen, in which epoch. */
export interface WireResumePoint {
  offset: number
  epoch: string
}

/** Every operation a client can ask for. */
export type Request =
  | { op: 'nick'; id?: RequestId; name: string; key?: string }
  | { op: 'join'; id?: RequestId; room: string; resume?: WireResumePoint }
  | { op: 'leave'; id?: RequestId; room: string }
  | { op: 'publish'; id?: RequestId; room: string; data: Uint8Array | string; echo?: boolean }
  | { op: 'direct'; id?: RequestId; to: string; data: Uint8Array | string }
  | { op: 'who'; id?: RequestId; room: string; connections?: boolean }
  | { op: 'rooms'; id?: RequestId }
  | { op: 'history'; id?: RequestId; room: string; last?: number; after?: WireResumePoint }
  | { op: 'ping'; id?: RequestId }
  | { op: 'quit'; id?: RequestId }

/** The operation names. */
export type Operation = Request['op']

/** A request that cannot be understood; answered with `status` 400 and the request's id when it had one. */
export class JsonProtocolError extends SwitchboardError {
  readonly status = 400
  readonly requestId: RequestId | undefined

  constructor(detail: string, requestId?: RequestId) {
    super('bad-request', detail)
    this.requestId = requestId
  }
}

const operations = new Set<string>([
  'nick',
  'join',
  'leave',
  'publish',
  'direct',
  'who',
  'rooms',
  'history',
  'ping',
  'quit',
])

/** Parses one request; a `JsonProtocolError` says what is wrong with it. Never throws. */
export function parseRequest(text: string): Request | JsonProtocolError {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return new JsonProtocolError('not valid JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return new JsonProtocolError('a request is a JSON object')
  const fields = value as Record<string, unknown>
  const id = fields.id
  if (id !== undefined && typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id))) {
    return new JsonProtocolError('id must be a string or a number')
  }
  const requestId = id as RequestId | undefined
  const op = fields.op
  if (typeof op !== 'string' || !operations.has(op))
    return new JsonProtocolError(`unknown op ${JSON.stringify(op)}`, requestId)
  const fail = (detail: string) => new JsonProtocolError(`${op}: ${detail}`, requestId)
  const str = (name: string) => (typeof fields[name] === 'string' ? (fields[name] as string) : null)
  switch (op) {
    case 'nick': {
      const name = str('name')
      if (name === null) return fail('name must be a string')
      const key = fields.key
      if (key !== undefined && typeof key !== 'string') return fail('key must be a string')
      return { op, id: requestId, name, ...(key === undefined ? {} : { key }) }
    }
    case 'join': {
      const room = str('room')
      if (room === null) return fail('room must be a string')
      const resume = fields.resume === undefined ? undefined : parseResume(fields.resume)
      if (resume === null) return fail('resume must be {offset, epoch}')
      return { op, id: requestId, room, ...(resume ? { resume } : {}) }
    }
    case 'leave':
    case 'who': {
      const room = str('room')
      if (room === null) return fail('room must be a string')
      if (op === 'leave') return { op, id: requestId, room }
      return { op, id: requestId, room, connections: fields.connections === true }
    }
    case 'publish':
    case 'direct': {
      const data = decodeData(fields.data)
      if (data === null) return fail('data must be a string or {"base64": "..."}')
      if (op === 'direct') {
        const to = str('to')
        if (to === null) return fail('to must be a string')
        return { op, id: requestId, to, data }
      }
      const room = str('room')
      if (room === null) return fail('room must be a string')
      const echo = fields.echo
      if (echo !== undefined && typeof echo !== 'boolean') return fail('echo must be a boolean')
      return { op, id: requestId, room, data, ...(echo === undefined ? {} : { echo }) }
    }
    case 'history': {
      const room = str('room')
      if (room === null) return fail('room must be a string')
      const last = fields.last
      if (last !== undefined && !(Number.isInteger(last) && (last as number) >= 0))
        return fail('last must be a whole number')
      const after = fields.after === undefined ? undefined : parseResume(fields.after)
      if (after === null) return fail('after must be {offset, epoch}')
      return {
        op,
        id: requestId,
        room,
        ...(last === undefined ? {} : { last: last as number }),
        ...(after ? { after } : {}),
      }
    }
    default:
      return { op: op as 'rooms' | 'ping' | 'quit', id: requestId }
  }
}

function parseResume(value: unknown): WireResumePoint | null {
  if (typeof value !== 'object' || value === null) return null
  const { offset, epoch } = value as Record<string, unknown>
  if (!Number.isInteger(offset) || (offset as number) < 0 || typeof epoch !== 'string') return null
  return { offset: offset as number, epoch }
}

/** Decodes wire data: a string stays text, `{base64}` becomes bytes; null when neither. */
export function decodeData(value: unknown): string | Uint8Array | null {
  if (typeof value === 'string') return value
  if (typeof value !== 'object' || value === null) return null
  const { base64 } = value as Record<string, unknown>
  if (typeof base64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0)
    return null
  return fromBase64(base64)
}

/** Encodes message data for the wire. */
export function encodeData(data: string | Uint8Array): WireData {
  return typeof data === 'string' ? data : { base64: toBase64(data) }
}

/** A successful reply: `{id, ok: true, op, …result}`. */
export function formatReply(
  op: Operation | 'pong',
  id: RequestId | undefined,
  result: Record<string, unknown> = {},
): string {
  return JSON.stringify({ ...(id === undefined ? {} : { id }), ok: true, op, ...result })
}

/** A refusal: `{id, ok: false, error: {code, status, message}}`. */
export function formatError(
  id: RequestId | undefined,
  error: { code: string; status: number; message: string },
): string {
  return JSON.stringify({
    ...(id === undefined ? {} : { id }),
    ok: false,
    error: { code: error.code, status: error.status, message: error.message },
  })
}

/** An event the server pushes: `{type, …}` with message data encoded for the wire. */
export function formatEvent(
  event: { type: string; data?: string | Uint8Array } & Record<string, unknown>,
): string {
  if (event.data === undefined) return JSON.stringify(event)
  return JSON.stringify({ ...event, data: encodeData(event.data) })
}

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

function toBase64(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0)
    out += alphabet[(n >> 18) & 63] + alphabet[(n >> 12) & 63]
    out += i + 1 < bytes.length ? alphabet[(n >> 6) & 63] : '='
    out += i + 2 < bytes.length ? alphabet[n & 63] : '='
  }
  return out
}

function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '')
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4))
  let bits = 0
  let value = 0
  let o = 0
  for (let i = 0; i < clean.length; i++) {
    value = (value << 6) | alphabet.indexOf(clean[i])
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (value >> bits) & 0xff
    }
  }
  return out
}
