// What a socket knows of how its client arrived: the opening HTTP request and the CONNECT packet's auth.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'

/** The handshake details, as Socket.IO's `socket.handshake` has them. */
export interface Handshake {
  /** The headers of the request that opened the Engine.IO session. */
  headers: IncomingHttpHeaders
  /** Its query parameters (Engine.IO's `EIO`, `transport` and `t` among them); a repeated one keeps its last value. */
  query: Record<string, string>
  /** The payload of the client's CONNECT packet (`auth` in socket.io-client), without `pid` and `offset`. */
  auth: Record<string, unknown>
  /** The peer's address. */
  address: string
  /** When the socket was made, as text. */
  time: string
  /** When the socket was made, in ms since the Unix epoch. */
  issued: number
  /** The request's URL. */
  url: string
  /** Whether the request came from a browser of another origin (it had an `Origin` header). */
  xdomain: boolean
  /** Whether the request came over TLS. */
  secure: boolean
}

/** Builds the handshake of a socket from its session's opening request, the peer's address and its CONNECT auth. */
export function buildHandshake(
  request: IncomingMessage,
  address: string,
  auth: Record<string, unknown>,
): Handshake {
  const url = request.url ?? '/'
  const mark = url.indexOf('?')
  const query = Object.fromEntries(new URLSearchParams(mark === -1 ? '' : url.slice(mark + 1)))
  const issued = Date.now()
  // Deviation: Socket.IO leaves them in; the recovery fields are the server's to read, not the application's.
  const { pid: _pid, offset: _offset, ...rest } = auth
  return {
    headers: request.headers,
    query,
    auth: rest,
    address,
    time: new Date(issued).toString(),
    issued,
    url,
    xdomain: request.headers.origin !== undefined,
    secure: (request.socket as Partial<TLSSocket>).encrypted === true,
  }
}
