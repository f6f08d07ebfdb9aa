// Test helpers for the Socket.IO server: start one on a free port, connect the npm socket.io-client (4.x) or a
// raw engine.io-client to it, and wait for events on either side without sleeping.
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import { Socket as EioClient } from 'engine.io-client'
import {
  Manager,
  type ManagerOptions,
  type Socket as ClientSocket,
  type SocketOptions,
} from 'socket.io-client'
import { ClientInbox } from '../../engineio/helpers/engine.js'
import type { DisconnectReason } from '../../../src/socketio/disconnect-reason.js'
import type { Namespace } from '../../../src/socketio/namespace.js'
import type { SocketIOServerOptions } from '../../../src/socketio/options.js'
import { SocketIOServer } from '../../../src/socketio/server.js'
import type { Socket } from '../../../src/socketio/socket.js'
import type { DefaultEventsMap, EventsMap } from '../../../src/socketio/typed-events.js'

/** A running Socket.IO server on a free port, closed after the test. */
export interface RunningIo<L extends EventsMap = DefaultEventsMap, E extends EventsMap = L> {
  io: SocketIOServer<L, E>
  http: Server
  /** `http://127.0.0.1:port` */
  origin: string
  port: number
}

/** Starts a Socket.IO server on an HTTP server whose other requests get 404. */
export async function startIo<L extends EventsMap = DefaultEventsMap, E extends EventsMap = L>(
  t: TestContext,
  options: SocketIOServerOptions = {},
): Promise<RunningIo<L, E>> {
  const http = createServer((_request, response) => {
    response.writeHead(404)
    response.end()
  })
  const io = new SocketIOServer<L, E>(http, options)
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  const { port } = http.address() as AddressInfo
  t.after(async () => {
    await io.close()
    http.closeAllConnections()
    await new Promise((resolve) => http.close(resolve))
  })
  return { io, http, port, origin: `http://127.0.0.1:${port}` }
}

/** Client options for tests: a Manager of its own, no reconnection unless asked, quick reconnection if asked. */
export type ClientOptions = Partial<ManagerOptions & SocketOptions>

/** Makes a Manager (one Engine.IO session, several namespaces); closed after the test. */
/** Where a client connects: the server's origin (the path is the default, /socket.io/). */
export interface Endpoint {
  origin: string
}

export function makeManager(t: TestContext, running: Endpoint, options: ClientOptions = {}): Manager {
  const manager = new Manager(running.origin, {
    reconnection: false,
    reconnectionDelay: 10,
    reconnectionDelayMax: 20,
    randomizationFactor: 0,
    ...options,
  })
  t.after(() => {
    manager.reconnection(false)
    // Closing the engine ends every socket of the manager.
    manager.engine?.close()
  })
  return manager
}

/** Opens a client socket on a namespace and waits for `connect`; closed after the test. */
export async function connectClient(
  t: TestContext,
  running: Endpoint,
  namespace = '/',
  options: ClientOptions = {},
): Promise<ClientSocket> {
  const socket = openClient(t, running, namespace, options)
  await clientEvent(socket, 'connect')
  return socket
}

/** Opens a client socket without waiting; closed after the test. */
export function openClient(
  t: TestContext,
  running: Endpoint,
  namespace = '/',
  options: ClientOptions = {},
): ClientSocket {
  const socket = makeManager(t, running, options).socket(namespace, { auth: options.auth ?? {} })
  t.after(() => socket.disconnect())
  socket.connect()
  return socket
}

/** The first emission of `event` on a client socket (or any emitter with `once`), as its arguments. */
export function clientEvent(
  emitter: { once(event: string, listener: (...args: never[]) => void): unknown },
  event: string,
): Promise<unknown[]> {
  return new Promise((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args)))
}

/** The next socket that joins a namespace. */
export function nextSocket<L extends EventsMap, E extends EventsMap, D>(namespace: {
  once(event: 'connection', listener: (socket: Socket<L, E, D>) => void): unknown
}): Promise<Socket<L, E, D>> {
  return new Promise((resolve) => namespace.once('connection', resolve))
}

/** The reason a server-side socket gives for disconnecting. */
export function serverDisconnect<L extends EventsMap, E extends EventsMap, D>(
  socket: Socket<L, E, D>,
): Promise<DisconnectReason> {
  return new Promise((resolve) => socket.once('disconnect', (reason) => resolve(reason)))
}

/** Connects a client and returns both ends. */
export async function connectPair<L extends EventsMap, E extends EventsMap>(
  t: TestContext,
  running: RunningIo<L, E>,
  namespace: Namespace<L, E, unknown> = running.io.sockets,
  options: ClientOptions = {},
): Promise<{ client: ClientSocket; server: Socket<L, E, unknown> }> {
  const server = nextSocket(namespace)
  const client = await connectClient(t, running, namespace.name, options)
  return { client, server: await server }
}

/** A raw engine.io-client session at the server's path; closed after the test. */
export async function openEngineClient(
  t: TestContext,
  running: Endpoint,
  transports: ('polling' | 'websocket')[] = ['websocket'],
): Promise<{ engine: EioClient; messages: ClientInbox }> {
  const engine = new EioClient(running.origin, { path: '/socket.io/', transports })
  const messages = new ClientInbox(engine)
  t.after(() => engine.close())
  await clientEvent(engine, 'open')
  return { engine, messages }
}

/** Bytes of a Buffer, Uint8Array or ArrayBuffer as a Buffer, to compare what the client got. */
export function bytesOf(value: unknown): Buffer {
  if (value instanceof ArrayBuffer) return Buffer.from(value)
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  throw new TypeError(`not bytes: ${Object.prototype.toString.call(value)}`)
}
