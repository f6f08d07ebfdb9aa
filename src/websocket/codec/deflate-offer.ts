// permessage-deflate negotiation (RFC 7692 §5, §7.1): parsing Sec-WebSocket-Extensions, choosing from a
// client's offers, formatting our own offer, and checking a server's answer to it.
import { parseHeaderList } from './header-list.js'

/** What both ends agreed on for one connection. */
export interface DeflateParams {
  serverNoContextTakeover: boolean
  clientNoContextTakeover: boolean
  /** LZ77 window of the server's compressor, 8–15. */
  serverMaxWindowBits: number
  /** LZ77 window of the client's compressor, 8–15. */
  clientMaxWindowBits: number
}

/** Our side's wishes for negotiation. */
export interface DeflateNegotiation {
  /** @default false */
  serverNoContextTakeover?: boolean
  /** @default false */
  clientNoContextTakeover?: boolean
  /** @default 15 */
  serverMaxWindowBits?: number
  /** @default 15 */
  clientMaxWindowBits?: number
}

type Params = Map<string, string | true>

const knownParams = new Set([
  'server_no_context_takeover',
  'client_no_context_takeover',
  'server_max_window_bits',
  'client_max_window_bits',
])

// zlib cannot compress with an 8-bit raw window (it silently widens to 9), so we never promise one.
const minOwnWindowBits = 9

/** One extension from a Sec-WebSocket-Extensions header, with its parameters in order. */
export interface ExtensionOffer {
  name: string
  params: Params
  /** False when a parameter appeared twice, which makes the offer invalid. */
  unique: boolean
}

/** Parses a Sec-WebSocket-Extensions value; null when it is not well-formed. */
export function parseExtensions(header: string): ExtensionOffer[] | null {
  const items = parseHeaderList(header)
  if (items === null) return null
  return items.map(({ name, params }) => {
    const map: Params = new Map()
    let unique = true
    for (const [key, value] of params) {
      if (map.has(key)) unique = false
      map.set(key, value)
    }
    return { name: name.toLowerCase(), params: map, unique }
  })
}

function parseWindowBits(value: string | true | undefined): number | null {
  if (typeof value !== 'string' || !/^(8|9|1[0-5])$/.test(value)) return null
  return Number(value)
}

/**
 * Picks the first permessage-deflate offer we can honour (§5: decline the rest) and returns the agreed
 * parameters with the header value to answer; null when none can be accepted.
 */
export function acceptDeflateOffer(
  offers: ExtensionOffer[],
  ours: DeflateNegotiation = {},
): { params: DeflateParams; response: string } | null {
  for (const offer of offers) {
    if (offer.name !== 'permessage-deflate' || !offer.unique) continue
    const accepted = acceptOne(offer.params, ours)
    if (accepted) return accepted
  }
  return null
}

function acceptOne(
  offer: Params,
  ours: DeflateNegotiation,
): { params: DeflateParams; response: string } | null {
  for (const [key, value] of offer) {
    if (!knownParams.has(key)) return null
    if (key.endsWith('no_context_takeover') && value !== true) return null
  }
  const offeredServerBits = offer.get('server_max_window_bits')
  const offeredClientBits = offer.get('client_max_window_bits')
  const serverLimit = offeredServerBits === undefined ? 15 : parseWindowBits(offeredServerBits)
  if (serverLimit === null) return null
  if (
    offeredClientBits !== undefined &&
    offeredClientBits !== true &&
    parseWindowBits(offeredClientBits) === null
  ) {
    return null
  }
  const serverMaxWindowBits = Math.min(serverLimit, ours.serverMaxWindowBits ?? 15)
  if (serverMaxWindowBits < minOwnWindowBits) return null
  const clientLimit = typeof offeredClientBits === 'string' ? Number(offeredClientBits) : 15
  // §7.1.2.2: we may only name client_max_window_bits when the client offered it.
  const clientMaxWindowBits =
    offeredClientBits === undefined ? 15 : Math.min(clientLimit, ours.clientMaxWindowBits ?? 15)
  const params: DeflateParams = {
    serverNoContextTakeover:
      offer.has('server_no_context_takeover') || (ours.serverNoContextTakeover ?? false),
    clientNoContextTakeover:
      offer.has('client_no_context_takeover') || (ours.clientNoContextTakeover ?? false),
    serverMaxWindowBits,
    clientMaxWindowBits,
  }
  const parts = ['permessage-deflate']
  if (params.serverNoContextTakeover) parts.push('server_no_context_takeover')
  if (params.clientNoContextTakeover) parts.push('client_no_context_takeover')
  if (offeredServerBits !== undefined || serverMaxWindowBits < 15)
    parts.push(`server_max_window_bits=${serverMaxWindowBits}`)
  if (
    offeredClientBits !== undefined &&
    (typeof offeredClientBits === 'string' || clientMaxWindowBits < 15)
  ) {
    parts.push(`client_max_window_bits=${clientMaxWindowBits}`)
  }
  return { params, response: parts.join('; ') }
}

/** The offer a client sends; it always allows the server to limit our window. */
export function formatDeflateOffer(ours: DeflateNegotiation = {}): string {
  const parts = ['permessage-deflate']
  if (ours.serverNoContextTakeover) parts.push('server_no_context_takeover')
  if (ours.clientNoContextTakeover) parts.push('client_no_context_takeover')
  if (ours.serverMaxWindowBits !== undefined && ours.serverMaxWindowBits < 15) {
    parts.push(`server_max_window_bits=${ours.serverMaxWindowBits}`)
  }
  parts.push(
    ours.clientMaxWindowBits !== undefined && ours.clientMaxWindowBits < 15
      ? `client_max_window_bits=${ours.clientMaxWindowBits}`
      : 'client_max_window_bits',
  )
  return parts.join('; ')
}

/**
 * Checks a server's Sec-WebSocket-Extensions answer against the offer `formatDeflateOffer(ours)` made.
 * Returns null when the server declined compression, the agreed parameters, or a reason to fail.
 */
export function acceptDeflateResponse(
  header: string | undefined,
  ours: DeflateNegotiation = {},
): DeflateParams | null | { invalid: string } {
  if (header === undefined || header.trim() === '') return null
  const extensions = parseExtensions(header)
  if (extensions === null) return { invalid: 'Sec-WebSocket-Extensions is malformed' }
  if (extensions.length !== 1 || extensions[0].name !== 'permessage-deflate') {
    return { invalid: 'the server accepted an extension we did not offer' }
  }
  const { params, unique } = extensions[0]
  if (!unique) return { invalid: 'a permessage-deflate parameter appears twice' }
  for (const [key, value] of params) {
    if (!knownParams.has(key)) return { invalid: `unknown permessage-deflate parameter ${key}` }
    if (key.endsWith('no_context_takeover') && value !== true) return { invalid: `${key} takes no value` }
  }
  const serverBits = params.get('server_max_window_bits')
  const serverMaxWindowBits = serverBits === undefined ? 15 : parseWindowBits(serverBits)
  if (serverMaxWindowBits === null || serverMaxWindowBits > (ours.serverMaxWindowBits ?? 15)) {
    return { invalid: 'server_max_window_bits is out of range' }
  }
  if (ours.serverNoContextTakeover && !params.has('server_no_context_takeover')) {
    return { invalid: 'the server dropped server_no_context_takeover' }
  }
  const clientBits = params.get('client_max_window_bits')
  const clientMaxWindowBits =
    clientBits === undefined ? (ours.clientMaxWindowBits ?? 15) : parseWindowBits(clientBits)
  if (clientMaxWindowBits === null || clientMaxWindowBits > (ours.clientMaxWindowBits ?? 15)) {
    return { invalid: 'client_max_window_bits is out of range' }
  }
  if (clientMaxWindowBits < minOwnWindowBits)
    return { invalid: 'a client window of 8 bits cannot be honoured' }
  return {
    serverNoContextTakeover: params.has('server_no_context_takeover'),
    clientNoContextTakeover:
      params.has('client_no_context_takeover') || (ours.clientNoContextTakeover ?? false),
    serverMaxWindowBits,
    clientMaxWindowBits,
  }
}
