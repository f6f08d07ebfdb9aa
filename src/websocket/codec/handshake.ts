// The opening handshake's rules (RFC 6455 §4.1–4.2): validating a client's upgrade request and
// formatting the server's answers. Header values are checked here; hashing the key is done by the caller.
import { SwitchboardError } from '../../errors.js'
import { isToken } from './header-list.js'

/** The parts of an HTTP request the handshake looks at; headers are lower-cased as Node gives them. */
export interface UpgradeRequestHead {
  method?: string
  httpVersion: string
  headers: Record<string, string | string[] | undefined>
}

/** A validated client handshake. */
export interface ClientHandshake {
  key: string
  /** Subprotocols in the client's order of preference. */
  protocols: string[]
  /** The raw Sec-WebSocket-Extensions value, or '' when absent. */
  extensions: string
  origin: string | undefined
}

/** Stable codes for the handshake's refusals. */
export type HandshakeViolation =
  | 'ws-handshake-method'
  | 'ws-handshake-http-version'
  | 'ws-handshake-upgrade'
  | 'ws-handshake-connection'
  | 'ws-handshake-version'
  | 'ws-handshake-key'
  | 'ws-handshake-protocol'
  | 'ws-handshake-extensions'
  | 'ws-handshake-refused'
  | 'ws-handshake-origin'
  | 'ws-handshake-timeout'
  | 'ws-handshake-not-found'
  | 'ws-handshake-head-too-large'
  | 'ws-handshake-bad-request'
  | 'ws-upgrade-required'

/** A refused handshake, answered with `httpStatus`, extra `headers` and a JSON body `{code, message}`. */
export class HandshakeError extends SwitchboardError {
  readonly httpStatus: number
  readonly headers: Record<string, string>
  declare readonly code: HandshakeViolation

  constructor(
    code: HandshakeViolation,
    httpStatus: number,
    detail: string,
    headers: Record<string, string> = {},
  ) {
    super(code, detail)
    this.httpStatus = httpStatus
    this.headers = headers
  }
}

/** The only protocol version we speak (§4.1, §4.4). */
export const supportedVersion = '13'

const keyPattern = /^[+/0-9A-Za-z]{21}[AQgw]==$/

/** Joins repeated header lines the way HTTP allows (§4.2.1 headers may appear as comma lists). */
export function headerValue(headers: UpgradeRequestHead['headers'], name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** True when the comma-separated header contains `token`, compared case-insensitively. */
export function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false
  return value.split(',').some((part) => part.trim().toLowerCase() === token)
}

/** Parses Sec-WebSocket-Protocol; null when an entry is not a token or repeats. */
export function parseProtocols(value: string | undefined): string[] | null {
  if (value === undefined || value.trim() === '') return []
  const protocols = value.split(',').map((p) => p.trim())
  if (protocols.some((p) => !isToken(p))) return null
  if (new Set(protocols).size !== protocols.length) return null
  return protocols
}

/** Checks a client's opening handshake (§4.2.1); the answer for a bad one carries its HTTP status. */
export function parseUpgradeRequest(request: UpgradeRequestHead): ClientHandshake | HandshakeError {
  const { headers } = request
  if (request.method !== 'GET') {
    return new HandshakeError(
      'ws-handshake-method',
      405,
      `method ${request.method} cannot open a WebSocket`,
      {
        Allow: 'GET',
      },
    )
  }
  const [major, minor] = request.httpVersion.split('.').map(Number)
  if (!(major > 1 || (major === 1 && minor >= 1))) {
    return new HandshakeError('ws-handshake-http-version', 400, 'a WebSocket needs HTTP/1.1 or later')
  }
  if (!hasToken(headerValue(headers, 'upgrade'), 'websocket')) {
    return new HandshakeError('ws-handshake-upgrade', 400, 'the Upgrade header must name websocket')
  }
  if (!hasToken(headerValue(headers, 'connection'), 'upgrade')) {
    return new HandshakeError('ws-handshake-connection', 400, 'the Connection header must include upgrade')
  }
  const version = headerValue(headers, 'sec-websocket-version')
  if (version?.trim() !== supportedVersion) {
    return new HandshakeError(
      'ws-handshake-version',
      426,
      `Sec-WebSocket-Version must be ${supportedVersion}`,
      {
        'Sec-WebSocket-Version': supportedVersion,
      },
    )
  }
  const key = headerValue(headers, 'sec-websocket-key')?.trim()
  if (key === undefined || !keyPattern.test(key)) {
    return new HandshakeError('ws-handshake-key', 400, 'Sec-WebSocket-Key must be 16 bytes in base64')
  }
  const protocols = parseProtocols(headerValue(headers, 'sec-websocket-protocol'))
  if (protocols === null) {
    return new HandshakeError('ws-handshake-protocol', 400, 'Sec-WebSocket-Protocol must be distinct tokens')
  }
  return {
    key,
    protocols,
    extensions: headerValue(headers, 'sec-websocket-extensions') ?? '',
    origin: headerValue(headers, 'origin') ?? headerValue(headers, 'sec-websocket-origin'),
  }
}

/** The 101 answer that completes a handshake. */
export function formatUpgradeResponse(accept: string, protocol?: string, extensions?: string): string {
  let head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n`
  if (protocol) head += `Sec-WebSocket-Protocol: ${protocol}\r\n`
  if (extensions) head += `Sec-WebSocket-Extensions: ${extensions}\r\n`
  return `${head}\r\n`
}

const reasonPhrases: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

/** A complete HTTP response refusing the upgrade, with a JSON body `{code, message}`. */
export function formatRejection(error: HandshakeError): string {
  const body = JSON.stringify({ code: error.code, message: error.message })
  const phrase = reasonPhrases[error.httpStatus] ?? 'Error'
  let head = `HTTP/1.1 ${error.httpStatus} ${phrase}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${new TextEncoder().encode(body).length}\r\n`
  for (const [name, value] of Object.entries(error.headers)) head += `${name}: ${value}\r\n`
  return `${head}\r\n${body}`
}
