// `switchboard serve` in-process for tests of its Socket.IO side: the server on free ports, the npm
// socket.io-client, a node:net line client and a `ws` switchboard.v1 client, all closed after the test.
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import type { TestContext } from 'node:test'
import { io, type ManagerOptions, type Socket as ClientSocket, type SocketOptions } from 'socket.io-client'
import { loadConfig } from '../../../src/cli/config.js'
import { type RunningServer, startServer } from '../../../src/cli/serve.js'
import { LineReader } from '../../helpers/line-reader.js'
import { connectWs, type Inbox } from '../../helpers/ws-peer.js'

/** A server started for one test. */
export interface Served {
  server: RunningServer
  /** `http://127.0.0.1:port`, where /socket.io/, /ws and /metrics are. */
  http: string
  tcpPort: number
  /** Stops the server; safe to call again (the test's cleanup does). */
  close(): Promise<void>
}

/** Settings under `limits` in the config, e.g. `{ maxConnections: 1 }`. */
export type Limits = Record<string, number>

/** Starts HTTP and TCP listeners on free ports with in-memory history, stopped after the test. */
export async function serve(t: TestContext, limits: Limits = {}): Promise<Served> {
  const server = await startServer(
    loadConfig({ flags: { http: 0, tcp: 0, udp: false, unix: false, memory: true, limits } }),
  )
  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= server.close()
    return closing
  }
  t.after(close)
  const http = server.lines.find((line) => line.startsWith('listening http://'))?.slice('listening '.length)
  const tcp = server.lines.find((line) => line.startsWith('listening tcp://'))
  assert.ok(http && tcp, `http and tcp listeners in ${JSON.stringify(server.lines)}`)
  return { server, http, tcpPort: Number(tcp.slice(tcp.lastIndexOf(':') + 1)), close }
}

/** socket.io-client options: never reconnecting, WebSocket only unless the test says otherwise. */
export type ClientOptions = Partial<ManagerOptions & SocketOptions>

/** A socket.io-client socket, connecting but not yet connected, disconnected after the test. */
export function socketIOClient(t: TestContext, served: Served, options: ClientOptions = {}): ClientSocket {
  const client = io(served.http, {
    forceNew: true,
    reconnection: false,
    transports: ['websocket'],
    ...options,
  })
  t.after(() => client.disconnect())
  return client
}

/** A connected socket.io-client socket. */
export async function openSocketIO(
  t: TestContext,
  served: Served,
  options: ClientOptions = {},
): Promise<ClientSocket> {
  const client = socketIOClient(t, served, options)
  await new Promise<void>((resolve, reject) => {
    client.once('connect', resolve)
    client.once('connect_error', reject)
  })
  return client
}

/** What an ack of docs/protocol.md carries: `{ok: true, …}` or `{ok: false, error}`. */
export type Answer = Record<string, unknown>

/** Emits `event` with `args` and an ack, and resolves with what the ack got. */
export async function ask(client: ClientSocket, event: string, ...args: unknown[]): Promise<Answer> {
  const answer: unknown = await client.emitWithAck(event, ...args)
  assert.ok(typeof answer === 'object' && answer !== null, `${event} answered ${String(answer)}`)
  return answer as Answer
}

/** Claims `nick` and joins `room`, failing the test if either is refused. */
export async function enter(client: ClientSocket, nick: string, room: string): Promise<void> {
  assert.equal((await ask(client, 'nick', nick)).ok, true, `nick ${nick}`)
  assert.equal((await ask(client, 'join', room)).ok, true, `join ${room}`)
}

/** The first `event` the client gets whose payload passes `test`. */
export function nextEvent(
  client: ClientSocket,
  event: string,
  test: (payload: Record<string, unknown>) => boolean = () => true,
): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const listener = (payload: Record<string, unknown>) => {
      if (!test(payload)) return
      client.off(event, listener)
      resolve(payload)
    }
    client.on(event, listener)
  })
}

/** A TCP client of the line protocol (docs/line-protocol.md). */
export interface TcpClient {
  lines: LineReader
  send(line: string): void
}

/** Connects to the TCP listener and reads its WELCOME line; with `nick`, claims that nickname too. */
export async function openTcp(t: TestContext, served: Served, nick?: string): Promise<TcpClient> {
  const socket = connect(served.tcpPort, '127.0.0.1')
  t.after(() => socket.destroy())
  const lines = new LineReader(socket)
  assert.match(await lines.next(), /^WELCOME guest-\d+ /)
  const client: TcpClient = { lines, send: (line) => socket.write(`${line}\n`) }
  if (nick !== undefined) {
    client.send(`/nick ${nick}`)
    await lines.until(new RegExp(`^OK nick ${nick} `))
  }
  return client
}

/** Connects a `ws` client with the switchboard.v1 subprotocol to /ws and reads its welcome. */
export async function openJsonWs(t: TestContext, served: Served, query: string): Promise<Inbox> {
  const url = `${served.http.replace(/^http/, 'ws')}/ws?${query}`
  const { ws, inbox } = await connectWs(t, url, ['switchboard.v1'])
  assert.equal(ws.protocol, 'switchboard.v1')
  assert.equal((await nextJson(inbox, () => true)).type, 'welcome')
  return inbox
}

/** Skips JSON text messages up to the first that passes `test`, and returns it parsed. */
export async function nextJson(
  inbox: Inbox,
  test: (value: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  for (;;) {
    const [data, isBinary] = await inbox.next()
    assert.equal(isBinary, false, 'switchboard.v1 sends text messages only')
    const value = JSON.parse(data.toString()) as Record<string, unknown>
    if (test(value)) return value
  }
}

/** The /metrics text. */
export async function scrapeMetrics(served: Served): Promise<string> {
  const response = await fetch(new URL('/metrics', served.http))
  assert.equal(response.status, 200)
  return response.text()
}
