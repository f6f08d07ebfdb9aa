// The hub's UDP transport: one datagram is one message or command, a peer (address:port) is a member while
// it keeps sending within the keepalive timeout (docs/udp.md).
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { EventEmitter, once } from 'node:events'
import { debuglog } from 'node:util'
import { rangeError } from '../errors.js'
import type { DisconnectInfo } from '../hub/disconnect.js'
import type { Hub } from '../hub/hub.js'
import { HubError } from '../hub/hub-error.js'
import type { Delivery, HubEvent, RoomMessage } from '../hub/member.js'
import {
  decodeDatagram,
  fitJsonReply,
  formatTooBigJson,
  formatTooBigLine,
  howToJoin,
} from './codec/datagram.js'
import {
  formatError,
  formatEvent,
  formatReply,
  JsonProtocolError,
  parseRequest,
} from './codec/json-protocol.js'
import { formatBye, formatErr, LineProtocolError } from './codec/line.js'
import { ConnectionGate } from './connection-gate.js'
import { runRequest } from './json-requests.js'
import { countRefused, type Listener, newCounters, type TransportCounters } from './listener.js'
import { runTextCommand } from './text-commands.js'
import { UdpPeer, type UdpPeerOwner } from './udp-peer.js'
import { formatAddress } from './address.js'
import { encodeEvent, lineBytes } from './line-bytes.js'

const log = debuglog('switchboard:transport')

/** Where the UDP transport listens and what it allows. */
export interface UdpOptions {
  /** Port to bind; 0 picks a free one. @default 9090 */
  port: number
  /** Address to bind; `::` takes every interface, IPv4 included. @default '127.0.0.1' */
  host: string
  /**
   * Largest datagram we send, in bytes of UDP payload, from 512 to 65507. A message that does not fit is
   * replaced by a notice. @default 1200 (fits the IPv6 minimum MTU of 1280 with room for tunnels: no
   * IP fragmentation, whose loss of one fragment loses the whole datagram)
   */
  maxDatagramBytes: number
  /** A joined peer that sends nothing for this long is detached (presence leave). @default 60000 */
  keepaliveTimeoutMs: number
  /** Datagrams of one peer waiting for the hub; more are refused with `ERR 429`. @default 64 */
  maxPendingDatagrams: number
  /** The connection limits shared with every other transport. @default a gate of its own */
  gate: ConnectionGate
}

/** The defaults of the UDP transport. */
export const udpDefaults = {
  port: 9090,
  host: '127.0.0.1',
  maxDatagramBytes: 1200,
  keepaliveTimeoutMs: 60_000,
  maxPendingDatagrams: 64,
} as const satisfies Omit<UdpOptions, 'gate'>

/** Binds a UDP socket and serves the hub on it; resolves once bound. */
export async function startUdp(hub: Hub, options: Partial<UdpOptions> = {}): Promise<Listener> {
  const settings = { ...udpDefaults, gate: new ConnectionGate(), ...options }
  checkSettings(settings)
  const socket = createSocket({ type: settings.host.includes(':') ? 'udp6' : 'udp4' })
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (error) => {
      socket.close()
      reject(error)
    })
    socket.bind(settings.port, settings.host, () => {
      socket.removeAllListeners('error')
      resolve()
    })
  })
  return new UdpTransport(hub, socket, settings)
}

// 512 leaves room for the longest notice (a 64-byte room, a 32-byte nick); 65507 is UDP over IPv4's limit;
// timers take at most 2^31 - 1 ms.
const ranges = {
  maxDatagramBytes: [512, 65_507],
  keepaliveTimeoutMs: [1, 2 ** 31 - 1],
  maxPendingDatagrams: [1, 2 ** 31 - 1],
} as const

function checkSettings(settings: UdpOptions): void {
  for (const [name, [min, max]] of Object.entries(ranges)) {
    const value = settings[name as keyof typeof ranges]
    if (!Number.isInteger(value) || value < min || value > max)
      throw rangeError('udp-bad-setting', `${name} is a whole number from ${min} to ${max}, not ${value}`)
  }
}

class UdpTransport implements Listener, UdpPeerOwner {
  readonly counters: TransportCounters = newCounters()
  /** The hub its peers join. */
  readonly hub: Hub
  readonly #socket: Socket
  readonly #settings: UdpOptions
  readonly #peers = new Map<string, UdpPeer>()
  readonly #detaching = new Set<Promise<void>>()
  readonly #sends = new EventEmitter<{ idle: [] }>()
  #inFlight = 0
  #closing: Promise<void> | null = null
  #socketClosed = false

  constructor(hub: Hub, socket: Socket, settings: UdpOptions) {
    this.hub = hub
    this.#socket = socket
    this.#settings = settings
    // Datagrams the kernel would not take yet wait in libuv's queue, shared by every peer.
    Object.defineProperty(this.counters, 'queuedBytes', {
      enumerable: true,
      get: () => socket.getSendQueueSize(),
    })
    socket.on('message', (bytes, from) => this.#onDatagram(bytes, from))
    socket.on('error', (error) => log('udp socket error: %s', error))
  }

  get url(): string {
    return formatAddress('udp', this.#socket.address())
  }

  get connections(): number {
    return this.#peers.size
  }

  close(reason: DisconnectInfo): Promise<void> {
    this.#closing ??= this.#close(reason)
    return this.#closing
  }

  async #close(reason: DisconnectInfo): Promise<void> {
    for (const peer of [...this.#peers.values()]) this.drop(peer, reason)
    await Promise.all(this.#detaching)
    // Closing the socket cancels what libuv still holds, so the BYEs go out first.
    if (this.#inFlight > 0) await once(this.#sends, 'idle')
    const closed = once(this.#socket, 'close')
    this.#socketClosed = true
    this.#socket.close()
    await closed
  }

  /** Hands a hub event to a peer as one datagram, or a notice when it does not fit (counted as dropped). */
  deliver(peer: UdpPeer, event: HubEvent): Delivery {
    if (peer.gone) return 'dropped'
    // Shared with every peer and line connection in the mode: formatted and encoded once per event.
    const datagram = encodeEvent(event, peer.json ? 'json' : 'text')
    if (datagram.byteLength <= this.#settings.maxDatagramBytes) {
      this.#send(peer, datagram)
      return 'delivered'
    }
    countRefused(this.counters, 'too-big-for-datagram')
    if (event.type !== 'presence')
      this.#send(peer, lineBytes(peer.json ? formatTooBigJson({ ...event }) : formatTooBigLine(event)))
    return 'dropped'
  }

  /** Ends a peer: tells it why (unless `reason` is null), frees its gate slot, detaches it from the hub. */
  drop(peer: UdpPeer, reason: DisconnectInfo | null): void {
    if (peer.gone) return
    peer.gone = true
    clearTimeout(peer.timer)
    this.#peers.delete(keyOf(peer.remoteAddress, peer.port))
    this.#settings.gate.release(peer.remoteAddress)
    if (reason !== null) this.#sendBye(peer, reason)
    if (peer.session) this.#track(peer.session.detach())
  }

  #onDatagram(bytes: Buffer, from: RemoteInfo): void {
    this.counters.messagesIn++
    this.counters.bytesIn += bytes.byteLength
    if (this.#closing) return
    const peer = this.#peers.get(keyOf(from.address, from.port))
    if (peer) this.#enqueue(peer, from, bytes)
    else this.#onStranger(from, bytes)
  }

  // Any datagram is a keepalive; the work waits behind the peer's earlier datagrams.
  #enqueue(peer: UdpPeer, from: RemoteInfo, bytes: Buffer): void {
    peer.timer.refresh()
    if (peer.pending >= this.#settings.maxPendingDatagrams) {
      const detail = `more than ${this.#settings.maxPendingDatagrams} datagrams waiting; slow down`
      return this.#refuse(from, false, { status: 429, code: 'too-many-pending', message: detail })
    }
    peer.pending++
    peer.chain = peer.chain
      .then(() => (peer.gone ? this.#onStranger(from, bytes) : this.#onPeerDatagram(peer, bytes)))
      .catch((error: unknown) => this.#onFailure(peer, error))
      .finally(() => peer.pending--)
  }

  // Someone who has not joined: a join starts a peer, /ping is answered, the rest learns how to join. Nothing
  // is kept for a stranger, whose address may be forged, until it joins.
  #onStranger(from: RemoteInfo, bytes: Buffer): void {
    const datagram = decodeDatagram(bytes)
    if (datagram instanceof LineProtocolError) return this.#refuse(from, false, datagram)
    if (datagram.kind === 'json') {
      const request = parseRequest(datagram.text)
      if (request instanceof JsonProtocolError) return this.#refuse(from, true, request, request.requestId)
      if (request.op === 'nick')
        return this.#admit(from, bytes, { json: true, nick: request.name, key: request.key })
      if (request.op === 'join') return this.#admit(from, bytes, { json: true })
      if (request.op === 'ping') return this.#send(from, lineBytes(formatReply('pong', request.id)))
      return this.#refuse(from, true, notJoined(), request.id)
    }
    const { command } = datagram
    if (command.kind === 'nick')
      return this.#admit(from, bytes, { json: false, nick: command.name, key: command.key })
    if (command.kind === 'join') return this.#admit(from, bytes, { json: false })
    if (command.kind === 'ping') return this.#send(from, lineBytes('PONG'))
    this.#refuse(from, false, notJoined())
  }

  #admit(from: RemoteInfo, bytes: Buffer, first: FirstDatagram): void {
    const verdict = this.#settings.gate.admit(from.address)
    if (verdict !== 'ok') {
      const detail =
        verdict === 'too-many-connections' ? 'the server is full' : `too many peers from ${from.address}`
      return this.#refuse(from, first.json, { status: 503, code: verdict, message: detail })
    }
    const peer = new UdpPeer(this, from, first.json, this.#settings.keepaliveTimeoutMs)
    this.#peers.set(keyOf(from.address, from.port), peer)
    peer.pending++
    peer.chain = this.#connect(peer, bytes, first)
      .catch((error: unknown) => this.#onFailure(peer, error))
      .finally(() => peer.pending--)
  }

  // A first /nick connects with that nickname and the lobby; a first /join with a guest name and no room, and
  // its handling then joins the room. A peer whose first join failed is not kept.
  async #connect(peer: UdpPeer, bytes: Buffer, first: FirstDatagram): Promise<void> {
    const { nick, key } = first
    const options = nick === undefined ? { rooms: [] } : { nick, nickKey: key, rooms: ['lobby'] }
    const session = await this.hub.connect(peer, options)
    if (session instanceof HubError) {
      this.drop(peer, null)
      return this.#refuse(peer, first.json, session, first.json ? requestId(bytes) : undefined)
    }
    peer.session = session
    if (peer.gone) return this.#track(session.detach())
    await this.#onPeerDatagram(peer, bytes)
    if (session.rooms.size === 0) this.drop(peer, null)
  }

  // A JSON request is answered in JSON and turns the peer's events to JSON; text is answered in text.
  async #onPeerDatagram(peer: UdpPeer, bytes: Buffer): Promise<void> {
    const datagram = decodeDatagram(bytes)
    if (datagram instanceof LineProtocolError) return this.#refuse(peer, false, datagram)
    if (datagram.kind === 'json') return this.#onRequest(peer, datagram.text)
    // A text command's answers go out in order, one datagram each; a refusal is an ERR line.
    const answer = await runTextCommand(peer.commands, peer.session!, datagram.command)
    if (answer instanceof HubError) {
      countRefused(this.counters, answer.code)
      return this.#reply(peer, formatErr(answer))
    }
    for (const line of answer) this.#reply(peer, line)
  }

  async #onRequest(peer: UdpPeer, text: string): Promise<void> {
    peer.json = true
    const request = parseRequest(text)
    if (request instanceof JsonProtocolError) return this.#refuse(peer, true, request, request.requestId)
    const { reply, quit } = await runRequest(this.hub, peer.session!, request)
    const refused = refusalCode(reply)
    if (refused !== null) countRefused(this.counters, refused)
    const fitted = fitJsonReply(reply, this.#settings.maxDatagramBytes - 1)
    if (fitted === null)
      this.#refuse(
        peer,
        true,
        replyTooBig(Buffer.byteLength(reply), this.#settings.maxDatagramBytes),
        request.id,
      )
    else this.#send(peer, lineBytes(fitted))
    if (quit) this.drop(peer, null)
  }

  /** A room's message in a `/history` answer: its line, or its notice when too big for a datagram. */
  encodeMessage(message: RoomMessage): Buffer {
    const datagram = encodeEvent(message, 'text')
    if (datagram.byteLength <= this.#settings.maxDatagramBytes) return datagram
    countRefused(this.counters, 'too-big-for-datagram')
    return lineBytes(formatTooBigLine(message))
  }

  // A text answer too big for one datagram (a /who of a crowded room) is refused rather than cut.
  #reply(peer: UdpPeer, line: string | Buffer): void {
    const datagram = typeof line === 'string' ? lineBytes(line) : line
    if (datagram.byteLength <= this.#settings.maxDatagramBytes) return this.#send(peer, datagram)
    this.#refuse(peer, false, replyTooBig(datagram.byteLength - 1, this.#settings.maxDatagramBytes))
  }

  #refuse(
    to: Destination,
    json: boolean,
    error: { status: number; code: string; message: string },
    id?: string | number,
  ): void {
    countRefused(this.counters, error.code)
    this.#send(to, lineBytes(json ? formatError(id, error) : formatErr(error)))
  }

  #sendBye(peer: UdpPeer, reason: DisconnectInfo): void {
    this.#send(peer, lineBytes(peer.json ? formatEvent({ type: 'bye', ...reason }) : formatBye(reason)))
  }

  #send(to: Destination, datagram: Buffer): void {
    // A peer's work that finishes after close() has nowhere to send its answer.
    if (this.#socketClosed) return
    this.counters.messagesOut++
    this.counters.bytesOut += datagram.byteLength
    this.#inFlight++
    this.#socket.send(datagram, to.port, to.address, (error) => {
      if (error) {
        countRefused(this.counters, 'send-failed')
        log('udp send to %s:%d failed: %s', to.address, to.port, error)
      }
      if (--this.#inFlight === 0) this.#sends.emit('idle')
    })
  }

  // A store that throws (a disk failure): the peer is told and dropped, never left hanging.
  #onFailure(peer: UdpPeer, error: unknown): void {
    log('udp peer %s failed: %s', peer.id, error)
    this.#refuse(peer, peer.json, { status: 500, code: 'internal-error', message: 'internal error' })
    this.drop(peer, null)
  }

  #track(detaching: Promise<void>): void {
    const tracked = detaching
      .catch((error: unknown) => log('detach failed: %s', error))
      .finally(() => this.#detaching.delete(tracked))
    this.#detaching.add(tracked)
  }
}

/** What a joining datagram asks for: JSON or text, and the nickname of a first /nick. */
interface FirstDatagram {
  json: boolean
  nick?: string
  key?: string
}

/** Where a datagram goes: a peer, or the sender of one. */
interface Destination {
  readonly address: string
  readonly port: number
}

function keyOf(address: string, port: number): string {
  return `${address}|${port}`
}

function notJoined(): { status: number; code: string; message: string } {
  return { status: 403, code: 'not-joined', message: howToJoin }
}

// `bytes` counts the answer without the newline every datagram ends with.
function replyTooBig(bytes: number, maxBytes: number): { status: number; code: string; message: string } {
  const message = `the answer of ${bytes} bytes does not fit in a datagram of ${maxBytes}; ask for less, or over TCP or WebSocket`
  return { status: 413, code: 'reply-too-big', message }
}

// The code of a refusal that runRequest formatted, for the refusal counters; null for a success.
function refusalCode(reply: string): string | null {
  const parsed = JSON.parse(reply) as { ok?: unknown; error?: { code?: unknown } }
  if (parsed.ok !== false) return null
  return typeof parsed.error?.code === 'string' ? parsed.error.code : 'unknown'
}

// The id of a JSON request, to answer a refused first request with it.
function requestId(bytes: Buffer): string | number | undefined {
  const request = parseRequest(bytes.toString())
  return request instanceof JsonProtocolError ? request.requestId : request.id
}
