// The Socket.IO v5 packet and its text form `<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]`, both ways:
// encoding moves bytes out of the arguments as numbered placeholders (Socket.IO protocol v5, "Packet encoding").
import { rangeError, SwitchboardError, typeError } from '../../errors.js'
import { longStringLength, stringifyJson } from './stringify-json.js'

/**
 * Socket.IO packet types, the first character of every packet. BINARY_EVENT and BINARY_ACK exist only on the
 * wire: a decoded packet is an EVENT or ACK with the bytes in place, and the encoder picks the binary type
 * when the arguments hold bytes (as socket.io-parser does).
 */
export const PacketType = {
  Connect: 0,
  Disconnect: 1,
  Event: 2,
  Ack: 3,
  ConnectError: 4,
  BinaryEvent: 5,
  BinaryAck: 6,
} as const
export type PacketType = (typeof PacketType)[keyof typeof PacketType]

const typeNames = ['CONNECT', 'DISCONNECT', 'EVENT', 'ACK', 'CONNECT_ERROR', 'BINARY_EVENT', 'BINARY_ACK']

/** An event's arguments: its name first, then any JSON values, with bytes allowed anywhere. */
export type EventArguments = [name: string, ...args: unknown[]]

/** Asks to join a namespace (client), or grants it with `{ sid }` (server). */
export interface ConnectPacket {
  type: typeof PacketType.Connect
  namespace: string
  /** The client's auth payload, or the server's `{ sid }`. */
  data?: Record<string, unknown>
}

/** Leaves a namespace. */
export interface DisconnectPacket {
  type: typeof PacketType.Disconnect
  namespace: string
}

/** An event, sent as BINARY_EVENT when its arguments hold bytes; with `id`, the sender waits for an ACK. */
export interface EventPacket {
  type: typeof PacketType.Event
  namespace: string
  data: EventArguments
  id?: number
}

/** Answers the event that carried the same `id`; sent as BINARY_ACK when its arguments hold bytes. */
export interface AckPacket {
  type: typeof PacketType.Ack
  namespace: string
  data: unknown[]
  id: number
}

/** Refuses a namespace: `{ message, data? }`, or a plain string from servers before v5. */
export interface ConnectErrorPacket {
  type: typeof PacketType.ConnectError
  namespace: string
  data: Record<string, unknown> | string
}

/** Any Socket.IO packet, as the decoder yields it and the encoder takes it. */
export type Packet = ConnectPacket | DisconnectPacket | EventPacket | AckPacket | ConnectErrorPacket

/** What goes on the wire for one packet: the text message, then one binary message per attachment. */
export type EncodedPacket = [text: string, ...attachments: Uint8Array[]]

// The Socket.IO libraries keep these names for their own events and refuse them as event names both ways.
const reservedEventNames: ReadonlySet<string> = new Set([
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newListener',
  'removeListener',
])

/** Whether `name` is reserved by Socket.IO and so can be neither sent nor received as an event. */
export function isReservedEventName(name: string): boolean {
  return reservedEventNames.has(name)
}

/** Stable codes for every violation the Socket.IO codec detects. */
export type SocketIOViolation =
  | 'sio-unknown-packet-type'
  | 'sio-invalid-attachment-count'
  | 'sio-attachment-limit'
  | 'sio-invalid-ack-id'
  | 'sio-invalid-json'
  | 'sio-invalid-payload'
  | 'sio-reserved-event-name'
  | 'sio-payload-too-deep'
  | 'sio-invalid-placeholder'
  | 'sio-missing-attachments'
  | 'sio-unexpected-attachment'
  | 'sio-extra-attachment'

/**
 * A packet the protocol forbids. Its only answer on the wire is closing the Engine.IO session (the protocol:
 * "the receiver MUST close the connection"); the namespace it named, if any, does not matter.
 */
export class SocketIOProtocolError extends SwitchboardError {
  declare readonly code: SocketIOViolation
}

const digit0 = 0x30
const slash = 0x2f

/**
 * Encodes a packet. Bytes (`ArrayBuffer` or any view) anywhere in an event's or ack's arguments make it a
 * BINARY_EVENT or BINARY_ACK, with placeholders in the text and the bytes as the following messages.
 * Throws (`RangeError`, `TypeError`, with a `code`) for a packet that our own decoder would refuse.
 */
export function encodePacket(packet: Packet): EncodedPacket {
  checkOutgoing(packet)
  const prefix = packet.namespace === '/' ? '' : `${packet.namespace},`
  switch (packet.type) {
    case PacketType.Connect:
    case PacketType.ConnectError:
      return [`${packet.type}${prefix}${packet.data === undefined ? '' : JSON.stringify(packet.data)}`]
    case PacketType.Disconnect:
      return [`${packet.type}${prefix}`]
    default: {
      const isEvent = packet.type === PacketType.Event
      const id = packet.id ?? ''
      const { json, attachments } = stringifyArguments(packet.data)
      const plainType = isEvent ? PacketType.Event : PacketType.Ack
      if (attachments.length === 0) return [`${plainType}${prefix}${id}${json}`]
      const type = isEvent ? PacketType.BinaryEvent : PacketType.BinaryAck
      return [`${type}${attachments.length}-${prefix}${id}${json}`, ...attachments]
    }
  }
}

function checkOutgoing(packet: Packet): void {
  const type: number = packet.type
  if (!Number.isInteger(type) || type < 0 || type > 4) {
    // BINARY_EVENT and BINARY_ACK are the encoder's choice, not the caller's.
    throw typeError('sio-unknown-packet-type', `packet type ${String(type)} is not 0 to 4`)
  }
  const { namespace } = packet
  if (typeof namespace !== 'string' || !namespace.startsWith('/') || namespace.includes(',')) {
    throw rangeError(
      'sio-invalid-namespace',
      `a namespace starts with "/" and has no ",": ${String(namespace)}`,
    )
  }
  const id = 'id' in packet ? packet.id : undefined
  const idProblem = ackIdProblem(packet.type, id)
  if (idProblem) throw rangeError('sio-invalid-ack-id', idProblem)
  if (id !== undefined && !(Number.isSafeInteger(id) && id >= 0)) {
    throw rangeError('sio-invalid-ack-id', `an ack id is an integer from 0 to 2^53 - 1, not ${id}`)
  }
  const problem = payloadProblem(packet.type, 'data' in packet ? packet.data : undefined)
  if (problem?.code === 'sio-reserved-event-name') throw rangeError(problem.code, problem.detail)
  if (problem) throw typeError(problem.code, problem.detail)
}

// Deeper than this, the quick scan stops and lets JSON.stringify decide (and report a cycle as it does).
const quickScanDepth = 500

/** The bytes of an `ArrayBuffer` or any view on one (`Uint8Array`, `Buffer`, `DataView` …), not copied. */
export function toBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  if (value instanceof ArrayBuffer) return new Uint8Array(value)
  return undefined
}

// Serializes event or ack arguments, moving every `ArrayBuffer` or view found at any depth into
// `attachments` and leaving a placeholder numbered in the order JSON.stringify meets them.
function stringifyArguments(args: readonly unknown[]): { json: string; attachments: Uint8Array[] } {
  const attachments: Uint8Array[] = []
  const scan = scanArguments(args)
  // Most packets hold no bytes, and JSON.stringify without a replacer is several times faster.
  if (scan === noBytes) return { json: JSON.stringify(args), attachments }
  if (scan === longStrings) return { json: stringifyJson(args) as string, attachments }
  const json = JSON.stringify(args, function (this: Record<string, unknown>, key: string, value: unknown) {
    // `value` has been through toJSON already (a Buffer becomes {type, data}), so look at the original too.
    const bytes = toBytes(this[key]) ?? toBytes(value)
    if (bytes === undefined) return value
    attachments.push(bytes)
    return { _placeholder: true, num: attachments.length - 1 }
  })
  return { json, attachments }
}

// What scanArguments finds, from the quickest serialization to the exact one.
const noBytes = 0
const longStrings = 1
const mayHoldBytes = 2
type Scan = typeof noBytes | typeof longStrings | typeof mayHoldBytes

// The walk of stringifyJson costs a JSON.stringify call per value, so it pays only when long strings make up
// most of the text: at least this many of their characters per value scanned.
const longCharsPerValue = 64

// What the scan of one packet's arguments counted; the scan is synchronous, so one shared tally does.
const tally = { values: 0, longChars: 0 }

// Whether the exact (slower) serialization is needed — for bytes, for anything whose `toJSON` might return
// bytes, and past the depth where a cycle may hide — and otherwise whether long strings make the shortcut pay.
function scanArguments(args: readonly unknown[]): Scan {
  tally.values = 0
  tally.longChars = 0
  if (scanValue(args, 0)) return mayHoldBytes
  return tally.longChars >= longCharsPerValue * tally.values ? longStrings : noBytes
}

// True when the value may hold bytes; counts values and long strings' characters into `tally`.
function scanValue(value: unknown, depth: number): boolean {
  tally.values++
  if (typeof value === 'string') {
    if (value.length >= longStringLength) tally.longChars += value.length
    return false
  }
  if (value === null || typeof value !== 'object') return false
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return true
  if (depth > quickScanDepth || typeof (value as { toJSON?: unknown }).toJSON === 'function') return true
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (scanValue(value[i], depth + 1)) return true
    return false
  }
  for (const key of Object.keys(value)) {
    if (scanValue((value as Record<string, unknown>)[key], depth + 1)) return true
  }
  return false
}

/** A text packet read: a binary one still holds its placeholders and waits for `attachments` messages. */
export interface ParsedPacket {
  packet: Packet
  attachments: number
}

function violation(code: SocketIOViolation, detail: string): SocketIOProtocolError {
  return new SocketIOProtocolError(code, detail)
}

/**
 * Reads one text packet and checks it against the protocol; PacketDecoder (attachments.ts) then checks
 * depth and placeholders. Internal to the codec.
 */
export function parsePacket(text: string, maxAttachments: number): ParsedPacket | SocketIOProtocolError {
  const type = text.charCodeAt(0) - digit0
  if (!(type >= 0 && type <= 6)) {
    return violation('sio-unknown-packet-type', `unknown packet type ${JSON.stringify(text.slice(0, 1))}`)
  }
  const cursor = { text, at: 1 }
  const binary = type === PacketType.BinaryEvent || type === PacketType.BinaryAck
  const attachments = binary ? readAttachmentCount(cursor, maxAttachments) : 0
  if (attachments instanceof SocketIOProtocolError) return attachments
  const namespace = readNamespace(cursor)
  const id = readAckId(cursor, type as PacketType)
  if (id instanceof SocketIOProtocolError) return id
  const data = readPayload(cursor, type as PacketType)
  if (data instanceof SocketIOProtocolError) return data
  return { packet: makePacket(type as PacketType, namespace, id, data), attachments }
}

interface Cursor {
  readonly text: string
  at: number
}

// `<count>-` after a binary type: at least 1, and at most the limit.
function readAttachmentCount(cursor: Cursor, maxAttachments: number): number | SocketIOProtocolError {
  const dash = cursor.text.indexOf('-', cursor.at)
  const digits = dash === -1 ? '' : cursor.text.slice(cursor.at, dash)
  if (!/^[1-9][0-9]*$/.test(digits)) {
    return violation('sio-invalid-attachment-count', 'a binary packet starts "<count>-", the count 1 or more')
  }
  // Any run of digits is a number (a long one is huge or Infinity), so a long count is over the limit.
  const count = Number(digits)
  if (count > maxAttachments) {
    return violation('sio-attachment-limit', `${digits.slice(0, 20)} attachments; at most ${maxAttachments}`)
  }
  cursor.at = dash + 1
  return count
}

// The namespace runs to the comma, or to the end: the protocol's test suite sends `40/custom` for `40/custom,`.
function readNamespace(cursor: Cursor): string {
  if (cursor.text.charCodeAt(cursor.at) !== slash) return '/'
  const comma = cursor.text.indexOf(',', cursor.at)
  const end = comma === -1 ? cursor.text.length : comma
  const namespace = cursor.text.slice(cursor.at, end)
  cursor.at = comma === -1 ? end : comma + 1
  return namespace
}

// Digits up to the payload, which starts with [ { or " (or the end of the packet).
function readAckId(cursor: Cursor, type: PacketType): number | undefined | SocketIOProtocolError {
  const { text, at } = cursor
  let end = at
  while (isDigit(text.charCodeAt(end))) end++
  if (end < text.length && !startsPayload(text.charCodeAt(end))) {
    return violation('sio-invalid-ack-id', `expected an ack id or the payload at offset ${end}`)
  }
  const digits = text.slice(at, end)
  const id = digits === '' ? undefined : readDecimal(digits)
  if (digits !== '' && id === undefined) {
    const shown = digits.slice(0, 20)
    return violation('sio-invalid-ack-id', `ack id ${shown} is not 0 to 2^53 - 1 without leading zeros`)
  }
  const problem = ackIdProblem(type, id)
  if (problem) return violation('sio-invalid-ack-id', problem)
  cursor.at = end
  return id
}

function readPayload(cursor: Cursor, type: PacketType): unknown {
  let data: unknown
  if (cursor.at < cursor.text.length) {
    try {
      data = JSON.parse(cursor.text.slice(cursor.at))
    } catch {
      return violation('sio-invalid-json', `the payload of ${typeNames[type]} is not JSON`)
    }
  }
  const problem = payloadProblem(type, data)
  return problem ? violation(problem.code, problem.detail) : data
}

function isDigit(code: number): boolean {
  return code >= digit0 && code <= digit0 + 9
}

// The payloads the protocol allows are arrays, objects and (CONNECT_ERROR from old servers) strings.
function startsPayload(code: number): boolean {
  return code === 0x5b || code === 0x7b || code === 0x22 // [ { "
}

// Decimal digits without a leading zero, up to 2^53 - 1; undefined for anything else.
function readDecimal(digits: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(digits)) return undefined
  const value = Number(digits)
  return Number.isSafeInteger(value) ? value : undefined
}

function ackIdProblem(type: PacketType, id: number | undefined): string | undefined {
  switch (type) {
    case PacketType.Ack:
    case PacketType.BinaryAck:
      return id === undefined ? `${typeNames[type]} needs the id of the event it answers` : undefined
    case PacketType.Event:
    case PacketType.BinaryEvent:
      return undefined
    default:
      return id === undefined ? undefined : `${typeNames[type]} carries no ack id`
  }
}

// §"Exchange protocol": what each packet type may carry.
function payloadProblem(
  type: PacketType,
  data: unknown,
): { code: 'sio-invalid-payload' | 'sio-reserved-event-name'; detail: string } | undefined {
  const invalid = (detail: string) => ({ code: 'sio-invalid-payload' as const, detail })
  switch (type) {
    case PacketType.Connect:
      return data === undefined || isPlainObject(data)
        ? undefined
        : invalid('CONNECT carries an object or nothing')
    case PacketType.Disconnect:
      return data === undefined ? undefined : invalid('DISCONNECT carries no payload')
    case PacketType.Event:
    case PacketType.BinaryEvent:
      // "The payload is mandatory and MUST be a non-empty array."
      if (!Array.isArray(data) || data.length === 0)
        return invalid(`${typeNames[type]} carries a non-empty array`)
      // Deviation: socket.io-parser also lets a number be the event name; every Socket.IO API names events
      // with strings.
      if (typeof data[0] !== 'string')
        return invalid(`the first element of ${typeNames[type]} is a string name`)
      if (isReservedEventName(data[0])) {
        return { code: 'sio-reserved-event-name', detail: `"${data[0]}" is reserved by Socket.IO` }
      }
      return undefined
    case PacketType.Ack:
    case PacketType.BinaryAck:
      // "The payload is mandatory and MUST be an array (possibly empty)."
      return Array.isArray(data) ? undefined : invalid(`${typeNames[type]} carries an array`)
    case PacketType.ConnectError:
      return isPlainObject(data) || typeof data === 'string'
        ? undefined
        : invalid('CONNECT_ERROR carries an object or a string')
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// The payload has been checked by payloadProblem, so the casts restate what was just proved.
function makePacket(type: PacketType, namespace: string, id: number | undefined, data: unknown): Packet {
  switch (type) {
    case PacketType.Connect:
      return data === undefined
        ? { type, namespace }
        : { type, namespace, data: data as Record<string, unknown> }
    case PacketType.Disconnect:
      return { type, namespace }
    case PacketType.Event:
    case PacketType.BinaryEvent:
      return id === undefined
        ? { type: PacketType.Event, namespace, data: data as EventArguments }
        : { type: PacketType.Event, namespace, data: data as EventArguments, id }
    case PacketType.Ack:
    case PacketType.BinaryAck:
      return { type: PacketType.Ack, namespace, data: data as unknown[], id: id as number }
    case PacketType.ConnectError:
      return { type, namespace, data: data as Record<string, unknown> | string }
  }
}
