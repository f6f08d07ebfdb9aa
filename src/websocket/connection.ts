import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import { debuglog } from 'node:util'
import { rangeError, typeError } from '../errors.js'
import {
  CloseCode,
  encodeCloseBody,
  isValidWireCloseCode,
  maxCloseReasonBytes,
  parseCloseBody,
} from './codec/close-code.js'
import { maxControlPayloadBytes, Opcode } from './codec/frame.js'
import { WebSocketProtocolError } from './codec/protocol-error.js'
import { type ConnectionInit, createInbound, createOutbound, toPayload } from './connection-init.js'
import type { Inbound, InboundHandler } from './inbound.js'
import { KeepaliveSweep, nowMs } from './keepalive.js'
import type { PreparedMessage } from './prepared-message.js'
import type { Outbound, OutboundHandler } from './outbound.js'

export type { ConnectionInit } from './connection-init.js'

const log = debuglog('switchboard:ws')

/** Where a connection is in its life. */
export type ConnectionState = 'open' | 'closing' | 'closed'

const NEXT = {
  open: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
} as const satisfies Record<ConnectionState, readonly ConnectionState[]>

/** Events of a connection. `error` is emitted only when someone listens; `close` always follows. */
export interface ConnectionEvents {
  message: [data: Buffer, isBinary: boolean]
  ping: [data: Buffer]
  pong: [data: Buffer]
  drain: []
  close: [code: number, reason: string, wasClean: boolean]
  error: [error: Error]
}

const kConnection = Symbol('switchboard.connection')
type OwnedSocket = Socket & { [kConnection]: WebSocketConnection }

/** Per-message options for `send`. */
export interface SendOptions {
  /** Send as binary; defaults to true for bytes, false for strings. */
  binary?: boolean
  /** Compress when permessage-deflate was negotiated and the message reaches the threshold. @default true */
  compress?: boolean
  /** False to send this as a fragment of a message that later calls continue. @default true */
  fin?: boolean
}

const empty = new Uint8Array(0)

/**
 * A WebSocket connection on top of an upgraded socket. Messages arrive as `Buffer`s with a flag for
 * binary; `send` queues text or bytes and returns false when `bufferedAmount` passes the high-water mark.
 */
export class WebSocketConnection extends EventEmitter<ConnectionEvents> {
  readonly #init: ConnectionInit<WebSocketConnection>
  readonly #socket: Socket
  // Made on first use: most real-time connections sit idle, and then cost only this object (bench: idle memory).
  #inbound: Inbound<WebSocketConnection> | null = null
  #outbound: Outbound<WebSocketConnection> | null = null
  readonly #keepalive: KeepaliveSweep<WebSocketConnection> | null
  #lastHeardAt = nowMs()
  #pingSentAt = 0
  #state: ConnectionState = 'open'
  #readingStopped = false
  #pausedByUser = false
  #pongDue: Uint8Array | null = null
  #sendingFragments = false
  // Closing.
  #closeSent = false
  #closeReceived = false
  #closeCode: number = CloseCode.Abnormal
  #closeReason = ''
  #closeTimer: NodeJS.Timeout | null = null
  #failed = false

  constructor(socket: Socket, init: ConnectionInit<WebSocketConnection>) {
    super()
    this.#socket = socket
    this.#init = init
    const { pingIntervalMs, pingTimeoutMs } = init.settings
    this.#keepalive = KeepaliveSweep.join<WebSocketConnection>(
      this,
      pingIntervalMs,
      pingTimeoutMs,
      WebSocketConnection.#checkKeepalive,
      'ws',
    )
    init.registry?.add(this)
    socket.setNoDelay(true)
    socket.setTimeout(0)
    ;(socket as OwnedSocket)[kConnection] = this
    const listeners = WebSocketConnection.#socketListeners
    // Node ends our side when the peer's FIN arrives, so no 'end' listener is needed.
    socket.allowHalfOpen = false
    socket.on('data', listeners.data)
    socket.on('close', listeners.close)
    socket.on('drain', listeners.drain)
    socket.on('error', listeners.error)
    // A socket handed over paused (our own listener pauses it after the request head) starts flowing here.
    socket.resume()
  }

  /** The subprotocol both sides agreed on, or ''. */
  get protocol(): string {
    return this.#init.protocol
  }

  /** The Sec-WebSocket-Extensions value both sides agreed on, or ''. */
  get extensions(): string {
    return this.#init.extensions
  }

  /** 'open', 'closing' or 'closed'. */
  get state(): ConnectionState {
    return this.#state
  }

  /** Bytes accepted by `send` but not yet handed to the kernel, including messages being compressed. */
  get bufferedAmount(): number {
    return this.#outbound?.bufferedAmount ?? 0
  }

  /** Whether a message sent now goes out without waiting behind a full buffer (open, under the high-water mark). */
  get writable(): boolean {
    return this.#state === 'open' && !this.#closeSent && (this.#outbound?.belowHighWater ?? true)
  }

  /** The peer's address as the socket reports it. */
  get remoteAddress(): string | undefined {
    return this.#socket.remoteAddress
  }

  /**
   * Sends a message, or a fragment of one with `{ fin: false }`. Returns false once `bufferedAmount` is past
   * the high-water mark (wait for `drain`). Past `maxBufferedBytes` the peer is treated as not reading
   * and disconnected with 1008. Sends after close has begun are dropped, as in the WHATWG API.
   */
  send(data: string | Uint8Array | ArrayBuffer, options: SendOptions = {}): boolean {
    if (this.#state !== 'open' || this.#closeSent) return false
    const binary = options.binary ?? typeof data !== 'string'
    const fin = options.fin ?? true
    const opcode = this.#sendingFragments ? Opcode.Continuation : binary ? Opcode.Binary : Opcode.Text
    this.#sendingFragments = !fin
    if (typeof data === 'string') return this.#out().sendText(data, opcode, fin, options.compress !== false)
    return this.#out().send(toPayload(data), opcode, fin, options.compress !== false)
  }

  /** Sends a message framed once by `prepareMessage`, without framing or copying it again. */
  sendPrepared(message: PreparedMessage): boolean {
    if (this.#state !== 'open' || this.#closeSent) return false
    if (this.#sendingFragments)
      throw typeError('ws-send-interleaved', 'a fragmented message is still being sent')
    if (this.#init.role === 'client')
      return this.send(message.payload, { binary: message.binary, compress: false })
    return this.#out().sendEncoded(message.chunks, message.byteLength)
  }

  /**
   * Writes the messages sent in this event-loop turn now, instead of together at its end, and holds what the
   * rest of the turn sends for about a millisecond, to leave in a write of its own: for an answer that should
   * neither wait for the work that follows it nor arrive glued to what that work sends.
   */
  flush(): void {
    this.#outbound?.flushAlone()
  }

  /** Sends a ping; the answer arrives as a `pong` event. */
  ping(data: string | Uint8Array = empty): void {
    this.#sendControl(Opcode.Ping, toPayload(data))
  }

  /** Sends an unsolicited pong (a one-way heartbeat, §5.5.3). */
  pong(data: string | Uint8Array = empty): void {
    this.#sendControl(Opcode.Pong, toPayload(data))
  }

  /**
   * Starts the closing handshake. The close frame follows the data already queued, so nothing sent before
   * is lost; the TCP connection is dropped if the peer has not answered within `closeTimeoutMs`.
   */
  close(code?: number, reason = ''): void {
    if (code !== undefined && !isValidWireCloseCode(code)) {
      throw rangeError('ws-invalid-close-code', `close code ${code} may not be sent`)
    }
    const reasonBytes = Buffer.from(reason)
    if (reasonBytes.length > maxCloseReasonBytes) {
      throw rangeError(
        'ws-close-reason-too-long',
        `a close reason of ${reasonBytes.length} bytes (at most 123)`,
      )
    }
    if (this.#state !== 'open' || this.#closeSent) return
    const sentCode = code ?? (reason ? CloseCode.Normal : undefined)
    this.#closeCode = sentCode ?? CloseCode.NoStatus
    this.#closeReason = reason
    this.#sendClose(encodeCloseBody(sentCode, reasonBytes), false)
    this.#moveTo('closing')
    this.#startCloseTimer()
  }

  /** Drops the TCP connection at once, without a closing handshake. */
  terminate(): void {
    if (this.#state === 'closed') return
    this.#socket.destroy()
  }

  /** Stops reading from the socket; the peer's writes back up (TCP flow control). */
  pause(): void {
    this.#pausedByUser = true
    this.#socket.pause()
  }

  /** Resumes reading after `pause`. */
  resume(): void {
    this.#pausedByUser = false
    if (!this.#inbound?.inflating) this.#socket.resume()
  }

  static #socketListeners = {
    data(this: OwnedSocket, chunk: Buffer) {
      this[kConnection].#onData(chunk)
    },
    close(this: OwnedSocket) {
      this[kConnection].#onSocketClose()
    },
    drain(this: OwnedSocket) {
      this[kConnection].#outbound?.onSocketDrain()
    },
    // Socket errors are always followed by 'close', which reports 1006.
    error(this: OwnedSocket, error: Error) {
      log('socket error: %s', error.message)
    },
  }

  static #inboundHandler: InboundHandler<WebSocketConnection> = {
    onMessage(connection, data, binary) {
      if (connection.#state !== 'closed') connection.emit('message', data, binary)
    },
    onPing: (connection, payload) => connection.#onPing(payload),
    onPong: (connection, payload) => connection.#onPong(payload),
    onClose: (connection, payload) => connection.#onClose(payload),
    onFailure: (connection, error) => connection.#fail(error),
    setReading(connection, reading) {
      if (!reading) connection.#socket.pause()
      else if (!connection.#pausedByUser) connection.#socket.resume()
    },
  }

  static #outboundHandler: OutboundHandler<WebSocketConnection> = {
    onFailure: (connection, error) => connection.#fail(error),
    onDrain(connection) {
      if (connection.#state === 'open') connection.emit('drain')
    },
  }

  // Pings a connection silent for the interval; cuts one still silent the timeout after the ping.
  static #checkKeepalive(
    connection: WebSocketConnection,
    now: number,
    sweep: KeepaliveSweep<WebSocketConnection>,
  ): void {
    if (connection.#state !== 'open') return
    if (connection.#pingSentAt > connection.#lastHeardAt) {
      if (now - connection.#pingSentAt >= sweep.cutAfterMs)
        connection.#onPingTimeout(now - connection.#lastHeardAt)
      return
    }
    if (now - connection.#lastHeardAt < sweep.pingAfterMs) return
    connection.#pingSentAt = now
    connection.#out().sendControl(Opcode.Ping, empty)
  }

  #in(): Inbound<WebSocketConnection> {
    this.#inbound ??= createInbound(this, WebSocketConnection.#inboundHandler, this.#init)
    return this.#inbound
  }

  #out(): Outbound<WebSocketConnection> {
    this.#outbound ??= createOutbound(this, WebSocketConnection.#outboundHandler, this.#init, this.#socket)
    return this.#outbound
  }

  #moveTo(state: ConnectionState): void {
    if (state === this.#state) return
    const allowed: readonly ConnectionState[] = NEXT[this.#state]
    if (!allowed.includes(state)) throw new Error(`illegal move ${this.#state} -> ${state}`)
    log('%s: %s -> %s', this.#init.role, this.#state, state)
    this.#state = state
  }

  // Receiving.

  #onData(chunk: Buffer): void {
    if (this.#readingStopped) return
    this.#lastHeardAt = nowMs()
    this.#in().push(chunk)
    this.#flushPong()
  }

  #stopReading(): void {
    this.#readingStopped = true
    this.#inbound?.stop()
  }

  #onPing(payload: Uint8Array): void {
    // §5.5.3: answering only the latest of several unanswered pings is allowed, and bounds a flood.
    if (!this.#closeSent) this.#pongDue = payload
    if (this.listenerCount('ping') > 0) this.emit('ping', Buffer.from(payload))
  }

  #flushPong(): void {
    const payload = this.#pongDue
    if (payload === null) return
    this.#pongDue = null
    if (!this.#closeSent) this.#out().sendControl(Opcode.Pong, payload)
  }

  #onPong(payload: Uint8Array): void {
    if (this.listenerCount('pong') > 0) this.emit('pong', Buffer.from(payload))
  }

  #onClose(payload: Uint8Array): void {
    const body = parseCloseBody(payload)
    // The decoder has already refused bad close bodies, so this is always a CloseBody here.
    if (body instanceof WebSocketProtocolError) return this.#fail(body)
    this.#closeReceived = true
    this.#stopReading()
    this.#closeCode = body.code
    this.#closeReason = body.reason
    // §5.5.1: answer with a close frame echoing the status code.
    if (!this.#closeSent)
      this.#sendClose(encodeCloseBody(body.code === CloseCode.NoStatus ? undefined : body.code), false)
    if (this.#state === 'open') this.#moveTo('closing')
    // §7.1.1: the server closes the TCP connection first; a client waits for it.
    if (this.#init.role === 'server') this.#out().endWhenFlushed()
    this.#startCloseTimer()
  }

  #onSocketClose(): void {
    if (this.#closeTimer) clearTimeout(this.#closeTimer)
    this.#keepalive?.leave(this)
    this.#init.registry?.delete(this)
    this.#stopReading()
    this.#outbound?.stop()
    this.#inbound?.close()
    const wasClean = this.#closeSent && this.#closeReceived
    // Without the peer's close frame the code is 1006, unless we failed the connection and know why.
    if (!this.#closeReceived && !this.#failed) {
      this.#closeCode = CloseCode.Abnormal
      if (this.#closeReason !== 'ping timeout') this.#closeReason = ''
    }
    this.#moveTo('closed')
    this.emit('close', this.#closeCode, this.#closeReason, wasClean)
  }

  // Failing (§7.1.7): send a close frame with the violation's code, then drop the TCP connection.

  #fail(error: WebSocketProtocolError): void {
    if (this.#state === 'closed' || this.#readingStopped) return
    log('%s: failing with %d (%s): %s', this.#init.role, error.closeCode, error.code, error.message)
    this.#stopReading()
    this.#failed = true
    if (this.listenerCount('error') > 0) this.emit('error', error)
    if (!this.#closeSent) {
      this.#closeCode = error.closeCode
      this.#closeReason = error.message.slice(0, maxCloseReasonBytes)
      this.#sendClose(encodeCloseBody(error.closeCode, shortReason(error.message)), true)
    }
    if (this.#state === 'open') this.#moveTo('closing')
    this.#out().endWhenFlushed()
    this.#startCloseTimer()
  }

  #sendClose(body: Uint8Array, immediately: boolean): void {
    this.#closeSent = true
    this.#out().sendClose(body, immediately)
  }

  #startCloseTimer(): void {
    if (this.#closeTimer !== null) return
    this.#closeTimer = setTimeout(() => this.#socket.destroy(), this.#init.settings.closeTimeoutMs)
    this.#closeTimer.unref()
  }

  // Sending.

  #sendControl(opcode: number, payload: Uint8Array): void {
    if (payload.length > maxControlPayloadBytes) {
      throw rangeError(
        'ws-control-payload-too-long',
        `a control payload of ${payload.length} bytes (at most 125)`,
      )
    }
    if (this.#state !== 'open' || this.#closeSent) return
    this.#out().sendControl(opcode, payload)
  }

  #onPingTimeout(silentMs: number): void {
    if (this.#state !== 'open') return
    log('%s: silent for %d ms after a ping', this.#init.role, silentMs)
    this.#closeReason = 'ping timeout'
    this.#socket.destroy()
  }
}

// A close reason must fit in 123 bytes of UTF-8; our details are ASCII.
function shortReason(detail: string): string {
  return detail.length <= maxCloseReasonBytes ? detail : detail.slice(0, maxCloseReasonBytes)
}
