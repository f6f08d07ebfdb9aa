// The plain HTTP side of `serve`: the chat page (/, /app.js, /style.css), /api, /healthz, /metrics,
// /connections, and JSON 404s; upgrades go elsewhere.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Registry } from 'prom-client'
import type { Hub } from '../hub/hub.js'
import { serveWebFile } from './static-files.js'

/** Answers the HTTP requests that are not WebSocket upgrades. */
export function createRequestHandler(hub: Hub, metrics: Registry, startedAt: number) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    const path = (request.url ?? '/').split('?')[0]
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return json(
        response,
        405,
        { code: 'method-not-allowed', message: `${request.method} is not served here` },
        { Allow: 'GET, HEAD' },
      )
    }
    if (serveWebFile(request, response, path)) return
    switch (path) {
      case '/healthz':
        return json(response, 200, {
          status: 'ok',
          uptimeMs: Date.now() - startedAt,
          connections: hub.stats().connections,
        })
      case '/metrics':
        void metrics.metrics().then(
          (text) => {
            response.writeHead(200, { 'Content-Type': metrics.contentType })
            response.end(text)
          },
          (error: Error) => json(response, 500, { code: 'metrics-failed', message: error.message }),
        )
        return
      case '/connections':
        return json(response, 200, {
          connections: [...hub.sessions()].map((session) => ({
            id: session.member.id,
            transport: session.member.transport,
            nick: session.nick,
            rooms: [...session.rooms],
            connectedAt: session.connectedAt,
            deliveries: session.counts,
          })),
        })
      case '/api':
        return json(response, 200, {
          name: 'switchboard',
          websocket: '/ws (plain text, or subprotocol switchboard.v1)',
          endpoints: ['/', '/healthz', '/metrics', '/connections'],
        })
      default:
        return json(response, 404, { code: 'not-found', message: `nothing at ${path}` })
    }
  }
}

function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  })
  response.end(text)
}
