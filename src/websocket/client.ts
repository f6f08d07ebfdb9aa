// A WHATWG-style WebSocket client for Node (RFC 6455 §4.1 client handshake, §5.3 masking, RFC 7692 offer),
// shaped like the browser's: `open`/`message`/`close`/`error` events, `readyState`, `binaryType`.
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest, type RequestOptions as HttpsRequestOptions } from 'node:https'
import type { Socket } from 'node:net'
import { rangeError } from '../errors.js'
import { computeAcceptKey, generateKey, nextMaskKey } from './accept-key.js'
import { CloseCode, maxCloseReasonBytes } from './codec/close-code.js'
import { acceptDeflateResponse, formatDeflateOffer } from './codec/deflate-offer.js'
import { hasToken, headerValue, parseProtocols } from './codec/handshake.js'
import { isToken } from './codec/header-list.js'
import { WebSocketConnection } from './connection.js'
import {
  type ConnectionSettings,
  type DeflateSettings,
  resolveSettings,
  websocketDefaults,
} from './options.js'

/** How binary messages are handed to `message` listeners. */
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'blob'

/** Client options; every connection setting may be given here too. */
export interface WebSocketClientOptions extends Partial<ConnectionSettings> {
  /** Extra request headers (cookies, authorization). */
  headers?: Record<string, string>
  /** Sent as the Origin header, as a browser would. */
  origin?: string
  /** Time allowed from the request to the 101 answer. @default 10000 */
  handshakeTimeoutMs?: number
  /** permessage-deflate offer: true for defaults, settings, or false for none. @default true */
  perMessageDeflate?: boolean | DeflateSettings
  /** TLS options for wss:// (ca, cert, key, rejectUnauthorized, servername). */
  tls?: Pick<HttpsRequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>
}

/** The close event: `code`, `reason` and whether the closing handshake completed. */
export class CloseEvent extends Event {
  readonly code: number
  readonly reason: string
  readonly wasClean: boolean

  constructor(type: string, init: { code: number; reason: string; wasClean: boolean }) {
    super(type)
    this.code = init.code
    this.reason = init.reason
    this.wasClean = init.wasClean
  }
}

/** The error event; `error` says what went wrong (Node extra, browsers give none). */
export class ErrorEvent extends Event {
  readonly error: Error
  readonly message: string

  constructor(error: Error) {
    super('error')
    this.error = error
    this.message = error.message
  }
}

type Handler<E extends Event> = ((event: E) => void) | null

const readyStates = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const

/**
 * `new WebSocket(url, protocols?, options?)` for ws:// and wss:// (http:// and https:// work too).
 * Binary messages arrive as Buffers by default; set `binaryType` to 'arraybuffer' or 'blob' as in a browser.
 */
export class WebSocket extends EventTarget {
  static readonly CONNECTING = 0
  static readonly OPEN = 1
  static readonly CLOSING = 2
  static readonly CLOSED = 3
  readonly CONNECTING = 0
  readonly OPEN = 1
  readonly CLOSING = 2
  readonly CLOSED = 3

  readonly url: string
  binaryType: BinaryType = 'nodebuffer'
  onopen: Handler<Event> = null
  onmessage: Handler<MessageEvent> = null
  onclose: Handler<CloseEvent> = null
  onerror: Handler<ErrorEvent> = null

  #readyState: number = readyStates.CONNECTING
  #connection: WebSocketConnection | null = null
  #abort: (() => void) | null = null
  #protocol = ''
  #extensions = ''
  // Sends wait behind a Blob being read, so messages keep the order of the send() calls.
  #blobChain: Promise<void> | null = null
  #blobBytes = 0

  constructor(url: string | URL, protocols: string | string[] = [], options: WebSocketClientOptions = {}) {
    super()
    const target = parseUrl(url)
    const offered = typeof protocols === 'string' ? [protocols] : protocols
    if (offered.some((p) => !isToken(p)) || new Set(offered).size !== offered.length) {
      throw new DOMException('protocols must be distinct tokens', 'SyntaxError')
    }
    this.url = target.href
    this.#connect(target, offered, options)
  }

  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  get readyState(): number {
    return this.#readyState
  }

  /** Bytes queued by `send` and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return (this.#connection?.bufferedAmount ?? 0) + this.#blobBytes
  }

  /** The subprotocol the server chose, or ''. */
  get protocol(): string {
    return this.#protocol
  }

  /** The extensions the server accepted, or ''. */
  get extensions(): string {
    return this.#extensions
  }

  /** The underlying connection once open (Node extra: ping, pause, prepared frames). */
  get connection(): WebSocketConnection | null {
    return this.#connection
  }

  /** Sends text or bytes; throws while connecting, as the WHATWG API does. */
  send(data: string | ArrayBuffer | ArrayBufferView | Blob): void {
    if (this.#readyState === readyStates.CONNECTING) {
      throw new DOMException('the connection is not open yet', 'InvalidStateError')
    }
    const connection = this.#connection
    if (!connection) return
    let payload: string | ArrayBuffer | Uint8Array | Blob
    if (typeof data === 'string' || data instanceof ArrayBuffer || data instanceof Blob) payload = data
    else if (ArrayBuffer.isView(data)) payload = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    else throw new TypeError('send takes a string, an ArrayBuffer, a typed array or a Blob')
    if (!(payload instanceof Blob) && this.#blobChain === null) return void connection.send(payload)
    this.#sendAfterBlobs(connection, payload)
  }

  #sendAfterBlobs(connection: WebSocketConnection, payload: string | ArrayBuffer | Uint8Array | Blob): void {
    const size = payload instanceof Blob ? payload.size : 0
    this.#blobBytes += size
    const bytes = payload instanceof Blob ? payload.arrayBuffer() : payload
    const chain = (this.#blobChain ?? Promise.resolve()).then(async () => {
      const ready = await bytes
      this.#blobBytes -= size
      connection.send(ready)
    })
    this.#blobChain = chain
    void chain.finally(() => {
      if (this.#blobChain === chain) this.#blobChain = null
    })
  }

  /** Starts the closing handshake; `code` is 1000 or 3000–4999, `reason` at most 123 bytes. */
  close(code?: number, reason = ''): void {
    // Deviation: browsers throw an InvalidAccessError DOMException here; like all misuse of our API, this
    // throws a RangeError with a `code`.
    if (code !== undefined && code !== CloseCode.Normal && (code < 3000 || code > 4999)) {
      throw rangeError('ws-invalid-close-code', `close code ${code} is not 1000 or 3000-4999`)
    }
    if (Buffer.byteLength(reason) > maxCloseReasonBytes) {
      throw rangeError('ws-close-reason-too-long', 'a close reason is at most 123 bytes')
    }
    if (this.#readyState === readyStates.CLOSING || this.#readyState === readyStates.CLOSED) return
    if (this.#readyState === readyStates.CONNECTING) {
      this.#abort?.()
      return this.#failBeforeOpen(new Error('closed before the connection was established'))
    }
    this.#readyState = readyStates.CLOSING
    const connection = this.#connection
    // The close frame follows any Blob still being read, as it follows every earlier send.
    if (this.#blobChain) void this.#blobChain.then(() => connection?.close(code, reason))
    else connection?.close(code, reason)
  }

  /** Sends a ping (Node extra). */
  ping(data?: string | Uint8Array): void {
    this.#connection?.ping(data)
  }

  /** Drops the connection without a closing handshake (Node extra). */
  terminate(): void {
    if (this.#connection) this.#connection.terminate()
    else if (this.#readyState === readyStates.CONNECTING) {
      this.#abort?.()
      this.#failBeforeOpen(new Error('terminated before the connection was established'))
    }
  }

  override dispatchEvent(event: Event): boolean {
    const handler = (this as unknown as Record<string, unknown>)[`on${event.type}`]
    const result = super.dispatchEvent(event)
    if (typeof handler === 'function') handler.call(this, event)
    return result
  }

  #connect(target: URL, offered: string[], options: WebSocketClientOptions): void {
    const key = generateKey()
    const deflate = options.perMessageDeflate ?? true
    const deflateWishes = deflate === false ? null : deflate === true ? {} : deflate
    const headers: Record<string, string> = {
      ...options.headers,
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Key': key,
      'Sec-WebSocket-Version': '13',
    }
    if (offered.length > 0) headers['Sec-WebSocket-Protocol'] = offered.join(', ')
    if (deflateWishes) headers['Sec-WebSocket-Extensions'] = formatDeflateOffer(deflateWishes)
    if (options.origin) headers.Origin = options.origin
    const secure = target.protocol === 'wss:'
    const request = (secure ? httpsRequest : httpRequest)({
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port || (secure ? 443 : 80),
      path: target.pathname + target.search,
      headers,
      ...(secure ? options.tls : {}),
    })
    const timeoutMs = options.handshakeTimeoutMs ?? websocketDefaults.handshakeTimeoutMs
    const timer = setTimeout(() => fail(new Error(`no handshake answer within ${timeoutMs} ms`)), timeoutMs)
    let settled = false
    const fail = (error: Error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      request.destroy()
      this.#failBeforeOpen(error)
    }
    this.#abort = () => {
      settled = true
      clearTimeout(timer)
      request.destroy()
    }
    request.on('error', fail)
    request.on('response', (response) => {
      response.resume()
      fail(new Error(`the server answered ${response.statusCode} instead of 101`))
    })
    request.on('upgrade', (response: IncomingMessage, socket: Socket, head: Buffer) => {
      if (settled) return void socket.destroy()
      const problem = checkResponse(response, key, offered)
      const params = deflateWishes
        ? acceptDeflateResponse(headerValue(response.headers, 'sec-websocket-extensions'), deflateWishes)
        : null
      const extensionProblem =
        params !== null && 'invalid' in params
          ? params.invalid
          : !deflateWishes && headerValue(response.headers, 'sec-websocket-extensions')
            ? 'the server accepted an extension we did not offer'
            : null
      if (problem || extensionProblem) {
        socket.destroy()
        return fail(new Error(problem ?? extensionProblem ?? ''))
      }
      settled = true
      clearTimeout(timer)
      this.#open(
        socket,
        head,
        response,
        options,
        params && !('invalid' in params) ? { params, wishes: deflateWishes ?? {} } : null,
      )
    })
    request.end()
  }

  #open(
    socket: Socket,
    head: Buffer,
    response: IncomingMessage,
    options: WebSocketClientOptions,
    deflate: { params: import('./codec/deflate-offer.js').DeflateParams; wishes: DeflateSettings } | null,
  ): void {
    this.#protocol = headerValue(response.headers, 'sec-websocket-protocol') ?? ''
    this.#extensions = deflate ? (headerValue(response.headers, 'sec-websocket-extensions') ?? '') : ''
    const connection = new WebSocketConnection(socket, {
      role: 'client',
      settings: resolveSettings(options),
      protocol: this.#protocol,
      extensions: this.#extensions,
      deflate: deflate && {
        params: deflate.params,
        thresholdBytes: deflate.wishes.thresholdBytes ?? websocketDefaults.deflateThresholdBytes,
        level: deflate.wishes.level ?? websocketDefaults.deflateLevel,
      },
      nextMask: nextMaskKey,
    })
    this.#connection = connection
    this.#readyState = readyStates.OPEN
    connection.on('message', (data, isBinary) => {
      this.dispatchEvent(
        new MessageEvent('message', { data: isBinary ? this.#binary(data) : data.toString() }),
      )
    })
    connection.on('error', (error) => this.dispatchEvent(new ErrorEvent(error)))
    connection.on('close', (code, reason, wasClean) => {
      this.#readyState = readyStates.CLOSED
      this.dispatchEvent(new CloseEvent('close', { code, reason, wasClean }))
    })
    this.dispatchEvent(new Event('open'))
    // Data that arrived with the 101 answer is read only now, after `open` has been seen.
    if (head.length > 0) socket.unshift(head)
  }

  #binary(data: Buffer): Buffer | ArrayBuffer | Blob {
    if (this.binaryType === 'arraybuffer')
      return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer
    if (this.binaryType === 'blob') return new Blob([data])
    return data
  }

  #failBeforeOpen(error: Error): void {
    if (this.#readyState === readyStates.CLOSED) return
    this.#readyState = readyStates.CLOSED
    this.dispatchEvent(new ErrorEvent(error))
    this.dispatchEvent(new CloseEvent('close', { code: CloseCode.Abnormal, reason: '', wasClean: false }))
  }
}

function parseUrl(url: string | URL): URL {
  let target: URL
  try {
    target = new URL(url)
  } catch {
    throw new DOMException(`invalid URL: ${url}`, 'SyntaxError')
  }
  if (target.protocol === 'http:') target.protocol = 'ws:'
  else if (target.protocol === 'https:') target.protocol = 'wss:'
  if (target.protocol !== 'ws:' && target.protocol !== 'wss:') {
    throw new DOMException(`a WebSocket URL must be ws: or wss:, not ${target.protocol}`, 'SyntaxError')
  }
  if (target.hash) throw new DOMException('a WebSocket URL has no fragment', 'SyntaxError')
  return target
}

// §4.1: the checks a client makes on the server's 101 answer; a problem fails the connection.
function checkResponse(response: IncomingMessage, key: string, offered: string[]): string | null {
  const headers = response.headers
  if (!hasToken(headerValue(headers, 'upgrade'), 'websocket')) return 'the Upgrade header is not websocket'
  if (!hasToken(headerValue(headers, 'connection'), 'upgrade')) return 'the Connection header lacks upgrade'
  if (headerValue(headers, 'sec-websocket-accept') !== computeAcceptKey(key))
    return 'Sec-WebSocket-Accept does not match our key'
  const chosen = parseProtocols(headerValue(headers, 'sec-websocket-protocol'))
  if (chosen === null || chosen.length > 1) return 'Sec-WebSocket-Protocol is malformed'
  if (chosen.length === 1 && !offered.includes(chosen[0]))
    return `the server chose ${chosen[0]}, which we did not offer`
  if (chosen.length === 0 && offered.length > 0) return 'the server chose none of the offered subprotocols'
  return null
}
