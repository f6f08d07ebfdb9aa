// A WebSocket server's own listener: a bare TCP server that reads the upgrade request's head itself
// instead of going through node:http, so an idle connection costs only its socket and our connection
// object (bench: idle memory).
import type { IncomingHttpHeaders } from 'node:http'
import { createServer, type Server as NetServer, type Socket } from 'node:net'
import { debuglog } from 'node:util'
import { formatRejection, HandshakeError, hasToken } from './codec/handshake.js'
import { parseRequestHead } from './codec/request-head.js'

const log = debuglog('switchboard:ws')

/** What a WebSocket server reads of an upgrade request; node:http's `IncomingMessage` has all of it. */
export interface UpgradeRequest {
  method?: string
  url?: string
  httpVersion: string
  headers: IncomingHttpHeaders
  socket: Socket
}

/** How the listener reads request heads. */
export interface RawListenerOptions {
  /** Time for the whole request head to arrive; then 408. */
  handshakeTimeoutMs: number
  /** Largest request head; a longer one gets 431. @default 16384 */
  maxHeadBytes?: number
  /** Only this path is served (404 otherwise); undefined serves every path. */
  path?: string
}

/** Called with each complete upgrade request; `head` holds any bytes that followed it. */
export type OnRawUpgrade = (request: UpgradeRequest, socket: Socket, head: Buffer) => void

const defaultMaxHeadBytes = 16 * 1024

/** Listens on `port` and `host`; resolves with the server once it is bound. */
export function listenRaw(
  port: number,
  host: string,
  options: RawListenerOptions,
  onUpgrade: OnRawUpgrade,
): Promise<NetServer> {
  const server = createServer((socket) => readHead(socket, options, onUpgrade))
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server)
    })
  })
}

function readHead(socket: Socket, options: RawListenerOptions, onUpgrade: OnRawUpgrade): void {
  const maxHeadBytes = options.maxHeadBytes ?? defaultMaxHeadBytes
  let buffered: Buffer | null = null
  const done = () => {
    clearTimeout(timer)
    socket.off('data', onData)
    // Paused until the connection takes over, so nothing sent meanwhile is lost.
    socket.pause()
  }
  const timer = setTimeout(() => {
    done()
    refuse(
      socket,
      new HandshakeError(
        'ws-handshake-timeout',
        408,
        `no request head within ${options.handshakeTimeoutMs} ms`,
      ),
    )
  }, options.handshakeTimeoutMs)
  const onData = (chunk: Buffer) => {
    buffered = buffered === null ? chunk : Buffer.concat([buffered, chunk])
    const head = parseRequestHead(buffered, maxHeadBytes)
    if (head === null) return
    done()
    if (head instanceof HandshakeError) return refuse(socket, head)
    const request: UpgradeRequest = {
      method: head.method,
      url: head.url,
      httpVersion: head.httpVersion,
      headers: head.headers,
      socket,
    }
    if (head.headers.upgrade === undefined || !hasToken(head.headers.connection, 'upgrade')) {
      return refuse(
        socket,
        new HandshakeError('ws-upgrade-required', 426, 'this endpoint speaks WebSocket only', {
          Upgrade: 'websocket',
        }),
      )
    }
    const pathname = head.url.split('?')[0]
    if (options.path !== undefined && pathname !== options.path) {
      return refuse(
        socket,
        new HandshakeError('ws-handshake-not-found', 404, `no WebSocket endpoint at ${pathname}`),
      )
    }
    // The server watches the socket from here on; two error listeners would cost an array per socket.
    socket.off('error', onSocketError)
    onUpgrade(request, socket, buffered.subarray(head.headBytes))
  }
  socket.on('data', onData)
  // A shared function, not a closure: this listener stays on the socket, and a closure would keep this
  // scope (the request bytes, the timer) alive for the connection's whole life.
  socket.on('error', onSocketError)
}

function onSocketError(error: Error): void {
  log('socket error before the handshake: %s', error.message)
}

function refuse(socket: Socket, error: HandshakeError): void {
  if (!socket.writable) return void socket.destroy()
  socket.once('finish', () => socket.destroy())
  socket.end(formatRejection(error))
}
