// `switchboard serve`: one hub, and every listener around it — HTTP (the page, WebSocket at /ws, Socket.IO
// at /socket.io/, /healthz, /metrics), TCP, UDP and a Unix socket — started from validated settings and
// stopped gracefully.
import { readFileSync } from 'node:fs'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { MemoryAdapter } from '../cluster/memory-adapter.js'
import { Disconnect } from '../hub/disconnect.js'
import { type HistoryStore, MemoryHistory } from '../hub/history.js'
import { Hub } from '../hub/hub.js'
import { LmdbHistory } from '../hub/lmdb-history.js'
import { ConnectionGate } from '../transports/connection-gate.js'
import type { Listener } from '../transports/listener.js'
import { startTcp } from '../transports/tcp.js'
import { startUdp } from '../transports/udp.js'
import { startUnix } from '../transports/unix.js'
import type { SocketIOServer } from '../socketio/server.js'
import { attachSocketIO } from '../transports/socketio.js'
import { attachWebSocket } from '../transports/websocket.js'
import { formatAddress } from '../transports/address.js'
import type { ServeConfig } from './config.js'
import { createRequestHandler } from './http-routes.js'
import { createMetrics } from './metrics.js'

/** A running server. */
export interface RunningServer {
  hub: Hub
  /**
   * The Socket.IO server at /socket.io/ (null without HTTP). Its main namespace's sockets are hub members, and
   * its rooms are hub rooms: `socket.join(room)` in a `connection` handler joins the hub room. `io.to(room)`
   * reaches the Socket.IO members of the room only; to reach every transport, publish through the hub.
   */
  socketio: SocketIOServer | null
  /** One `listening …` line per listener, in the order they started. */
  lines: string[]
  /** Stops accepting, tells every member, flushes, removes the socket file; resolves when all is closed. */
  close(): Promise<void>
}

/** Starts everything `config` asks for; if one listener cannot start, the others are stopped and it throws. */
export async function startServer(config: ServeConfig): Promise<RunningServer> {
  const { limits } = config
  const history: HistoryStore = config.memory
    ? new MemoryHistory(config.retention)
    : new LmdbHistory({ path: config.data, retention: config.retention, durability: config.durability })
  const hub = new Hub({
    adapter: new MemoryAdapter(history),
    limits: {
      maxMessageBytes: limits.maxMessageBytes,
      messagesPerSecond: limits.messagesPerSecond,
      messageBurst: limits.messageBurst,
    },
  })
  const gate = new ConnectionGate({
    maxConnections: limits.maxConnections,
    maxConnectionsPerIp: limits.maxConnectionsPerIp,
  })
  const listeners = new Map<string, Listener>()
  const lines: string[] = []
  let http: HttpServer | HttpsServer | null = null
  let socketio: SocketIOServer | null = null
  const lineSettings = {
    gate,
    maxLineBytes: limits.maxLineBytes,
    idleTimeoutMs: limits.idleTimeoutMs,
    maxQueuedBytes: limits.maxQueuedBytes,
  }

  const close = async () => {
    await Promise.all([...listeners.values()].map((listener) => listener.close(Disconnect.ServerStopping)))
    if (http) {
      const server = http
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
    await hub.close(Disconnect.ServerStopping)
    await history.close()
  }

  try {
    if (config.http !== false) {
      http = createHttp(config)
      const server = http
      const ws = attachWebSocket(hub, {
        server,
        gate,
        allowedOrigins: config.allowedOrigins,
        limits: { maxQueuedBytesPerMember: limits.maxQueuedBytes },
        connection: { pingIntervalMs: limits.pingIntervalMs, pingTimeoutMs: limits.pingTimeoutMs },
      })
      listeners.set('websocket', ws)
      server.on(
        'request',
        createRequestHandler(
          hub,
          createMetrics(hub, () => listeners),
          Date.now(),
        ),
      )
      // After the request handler: the Socket.IO server takes /socket.io/ and hands it every other request.
      const sio = attachSocketIO(hub, { server, gate })
      listeners.set('socketio', sio)
      socketio = sio.io
      await listenOn(server, config.http, config.host, 'http')
      lines.push(`listening ${formatAddress(config.tls ? 'https' : 'http', server.address() as AddressInfo)}`)
    }
    if (config.tcp !== false) {
      const tcp = await named(
        'tcp',
        `${config.host}:${config.tcp}`,
        startTcp(hub, { ...lineSettings, host: config.host, port: config.tcp }),
      )
      listeners.set('tcp', tcp)
      lines.push(`listening ${tcp.url}`)
    }
    if (config.udp !== false) {
      const udp = await named(
        'udp',
        `${config.host}:${config.udp}`,
        startUdp(hub, {
          gate,
          host: config.host,
          port: config.udp,
          maxDatagramBytes: limits.maxDatagramBytes,
          keepaliveTimeoutMs: limits.udpKeepaliveMs,
        }),
      )
      listeners.set('udp', udp)
      lines.push(`listening ${udp.url}`)
    }
    if (config.unix !== false) {
      const unix = await named('unix', config.unix, startUnix(hub, { ...lineSettings, path: config.unix }))
      listeners.set('unix', unix)
      lines.push(`listening ${unix.url}`)
    }
  } catch (error) {
    await close()
    throw error
  }
  return { hub, socketio, lines, close }
}

// Says which listener failed, in the same words for every transport.
async function named<T>(what: string, where: string, starting: Promise<T>): Promise<T> {
  try {
    return await starting
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    // System errors get the listener named; our own errors already say what is wrong.
    if (code === undefined || !/^E[A-Z]+$/.test(code)) throw error
    throw new Error(`cannot listen for ${what} on ${where}: ${code}`)
  }
}

function createHttp(config: ServeConfig): HttpServer | HttpsServer {
  const timeout = config.limits.handshakeTimeoutMs
  const options = {
    headersTimeout: timeout,
    requestTimeout: timeout,
    connectionsCheckingInterval: Math.min(timeout, 1000),
  }
  if (!config.tls) return createHttpServer(options)
  return createHttpsServer({
    ...options,
    cert: readFileSync(config.tls.cert),
    key: readFileSync(config.tls.key),
  })
}

function listenOn(server: HttpServer | HttpsServer, port: number, host: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) =>
      reject(new Error(`cannot listen for ${what} on ${host}:${port}: ${error.code ?? error.message}`))
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
}
