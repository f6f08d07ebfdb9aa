// The head of an HTTP/1.1 request (RFC 9112 §2–5): request line and header fields, for a server that takes
// WebSocket upgrades on a bare TCP listener without node:http. Pure: bytes in, a head or an error out.
import { HandshakeError } from './handshake.js'
import { isToken } from './header-list.js'

/** A parsed request head; header names are lower-cased and repeated fields joined with ", ". */
export interface RequestHead {
  method: string
  /** The request target as sent, e.g. `/ws?room=lobby`. */
  url: string
  /** `1.1` for HTTP/1.1. */
  httpVersion: string
  headers: Record<string, string>
  /** Bytes the head took, blank line included; what follows belongs to the WebSocket. */
  headBytes: number
}

const decoder = new TextDecoder('latin1')
const requestLine = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP\/(\d)\.(\d)$/
// Visible characters, spaces and tabs (RFC 9110 §5.5); anything else in a field value is refused.
const fieldValue = /^[\t\x20-\x7e\x80-\xff]*$/

/**
 * Parses the head at the start of `bytes`: `null` while the blank line that ends it has not arrived (and
 * `maxHeadBytes` is not yet exceeded), a `RequestHead`, or a `HandshakeError` (400, or 431 when too long).
 */
export function parseRequestHead(
  bytes: Uint8Array,
  maxHeadBytes: number,
): RequestHead | HandshakeError | null {
  const end = findHeadEnd(bytes, maxHeadBytes)
  if (end === -1) {
    if (bytes.length > maxHeadBytes) {
      return new HandshakeError(
        'ws-handshake-head-too-large',
        431,
        `a request head over ${maxHeadBytes} bytes`,
      )
    }
    return null
  }
  const lines = decoder.decode(bytes.subarray(0, end)).split('\r\n')
  const first = requestLine.exec(lines[0])
  if (!first) return badRequest('the request line is not METHOD TARGET HTTP/x.y')
  const headers: Record<string, string> = {}
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]
    const colon = line.indexOf(':')
    // RFC 9112 §5.2: obsolete line folding is refused, as is a name with spaces before the colon.
    if (colon <= 0 || line[0] === ' ' || line[0] === '\t') return badRequest(`a malformed header line`)
    const name = line.slice(0, colon).toLowerCase()
    if (!isToken(name)) return badRequest('a header name that is not a token')
    const value = line.slice(colon + 1).trim()
    if (!fieldValue.test(value)) return badRequest(`a control character in ${name}`)
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
  }
  return {
    method: first[1],
    url: first[2],
    httpVersion: `${first[3]}.${first[4]}`,
    headers,
    headBytes: end + 4,
  }
}

// The index of the CR LF CR LF that ends the head, looking no further than `limit` bytes; -1 if absent.
function findHeadEnd(bytes: Uint8Array, limit: number): number {
  const last = Math.min(bytes.length, limit + 4) - 4
  for (let i = 0; i <= last; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i
  }
  return -1
}

function badRequest(detail: string): HandshakeError {
  return new HandshakeError('ws-handshake-bad-request', 400, detail)
}
