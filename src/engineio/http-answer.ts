// Answers to Engine.IO's HTTP requests: text payloads, `ok`, and the protocol's JSON errors; also the raw HTTP
// refusal written on the socket of an upgrade request we will not take.
import { STATUS_CODES, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { EngineIOProtocolError } from './codec/protocol-error.js'

/** Header fields added to every answer of one request (CORS). */
export type ExtraHeaders = Readonly<Record<string, string>>

/** Answers with a text body. */
export function answerText(
  response: ServerResponse,
  status: number,
  body: string,
  headers: ExtraHeaders,
): void {
  if (response.headersSent || response.destroyed) return
  response.writeHead(status, {
    'Content-Type': 'text/plain; charset=UTF-8',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  })
  response.end(body)
}

/**
 * Answers with the protocol's error: its HTTP status and `{"code": N, "message": "..."}`. `closeConnection`
 * is for a request whose body we will not read, so the rest of it is not parsed as a next request.
 */
export function answerError(
  response: ServerResponse,
  error: EngineIOProtocolError,
  headers: ExtraHeaders,
  closeConnection = false,
): void {
  if (response.headersSent || response.destroyed) return
  const body = error.body
  response.writeHead(error.httpStatus, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    ...(closeConnection ? { Connection: 'close' } : {}),
    ...headers,
  })
  response.end(body)
}

/** Refuses an upgrade request before any 101: the HTTP error, then the socket is closed. */
export function refuseUpgrade(socket: Socket, error: EngineIOProtocolError): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const body = error.body
  const head =
    `HTTP/1.1 ${error.httpStatus} ${STATUS_CODES[error.httpStatus] ?? 'Error'}\r\n` +
    'Connection: close\r\nContent-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`
  socket.once('finish', () => socket.destroy())
  socket.end(head + body)
}
