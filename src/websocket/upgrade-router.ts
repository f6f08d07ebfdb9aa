// Several WebSocket endpoints on one HTTP server: one `upgrade` listener per server that routes by path,
// and answers 404 for a path nobody serves unless some other code listens for upgrades too.
import type { IncomingMessage, Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import { formatRejection, HandshakeError } from './codec/handshake.js'

/** Called with an upgrade request that belongs to an endpoint. */
export type UpgradeHandler = (request: IncomingMessage, socket: Socket, head: Buffer) => void

interface Endpoint {
  path: string | undefined
  handle: UpgradeHandler
}

const routers = new WeakMap<HttpServer | HttpsServer, Endpoint[]>()

/** Routes upgrades for `path` (or every path when undefined) to `handle`; returns a function that detaches. */
export function routeUpgrades(
  server: HttpServer | HttpsServer,
  path: string | undefined,
  handle: UpgradeHandler,
): () => void {
  let endpoints = routers.get(server)
  if (!endpoints) {
    const list: Endpoint[] = []
    endpoints = list
    routers.set(server, list)
    const onUpgrade = (request: IncomingMessage, socket: Socket, head: Buffer) => {
      const pathname = pathOf(request.url)
      // An exact path wins over a catch-all endpoint, whatever order they were attached in.
      const endpoint = list.find((e) => e.path === pathname) ?? list.find((e) => e.path === undefined)
      if (endpoint) return endpoint.handle(request, socket, head)
      if (server.listenerCount('upgrade') > 1) return
      const error = new HandshakeError('ws-handshake-not-found', 404, `no WebSocket endpoint at ${pathname}`)
      socket.once('finish', () => socket.destroy())
      socket.on('error', () => socket.destroy())
      socket.end(formatRejection(error))
    }
    server.on('upgrade', onUpgrade)
  }
  const endpoint: Endpoint = { path, handle }
  endpoints.push(endpoint)
  return () => {
    const list = routers.get(server)
    if (!list) return
    const index = list.indexOf(endpoint)
    if (index !== -1) list.splice(index, 1)
  }
}

function pathOf(url: string | undefined): string {
  if (!url) return '/'
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}
