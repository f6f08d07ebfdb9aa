// The hub's UDP transport: one datagram is one message or command, a peer (address:port) is a member while
// it keeps sending within the keepalive timeout (docs/udp.md).
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { EventEmitter, once } from 'node:events'
import { debuglog } from 'node:util'
import { rangeError } from '../errors.js'
import { Disconnect, type DisconnectInfo } from '../hub/disconnect.js'
import type { Hub } from '../hub/hub.js'
import { HubError } from '../hub/hub-error.js'
import type { Delivery, HubEvent, Member } from '../hub/member.js'
import type { Session } from '../hub/session.js'
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
import {
  actionPrefix,
  type Command,
  commandHelp,
  formatBye,
  formatErr,
  formatEventLine,
  formatOk,
  LineProtocolError,
} from './codec/line.js'
import { ConnectionGate } from './connection-gate.js'
import { runRequest } from './json-requests.js'
import { countRefused, type Listener, newCounters, type TransportCounters } from './listener.js'

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

// Ids must be unique among every server of a cluster, so a random prefix names this process.
const processTag = Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString('hex')
let peerCount = 0

/** One address:port that joined. Its datagrams are handled one at a time, in order of arrival. */
class UdpPeer implements Member {
  readonly id = `udp-${processTag}-${++peerCount}`
  readonly transport = 'udp'
  readonly remoteAddress: string
  /** Where its datagrams go: `remoteAddress` and `port`. */
  readonly address: string
  readonly port: number
  session: Session | null = null
  /** Where plain text goes: the room joined last. */
  room: string | null = null
  /** Whether events go out as JSON: from its first JSON request or /json, until /text. */
  json = false
  gone = false
  pending = 0
  chain: Promise<void> = Promise.resolve()
  readonly timer: NodeJS.Timeout
  readonly #transport: UdpTransport

  constructor(transport: UdpTransport, from: RemoteInfo, timeoutMs: number) {
    this.#transport = transport
    this.remoteAddress = from.address
    this.address = from.address
    this.port = from.port
    this.timer = setTimeout(() => transport.drop(this, Disconnect.IdleTimeout), timeoutMs).unref()
  }

  deliver(event: HubEvent): Delivery {
    return this.#transport.deliver(this, event)
  }

  close(reason: DisconnectInfo): void {
    this.#transport.drop(this, reason)
  }
}

class UdpTransport implements Listener {
  readonly counters: TransportCounters = newCounters()
  readonly #hub: Hub
  readonly #socket: Socket
  readonly #settings: UdpOptions
  readonly #peers = new Map<string, UdpPeer>()
  readonly #detaching = new Set<Promise<void>>()
  readonly #sends = new EventEmitter<{ idle: [] }>()
  #inFlight = 0
  #closing: Promise<void> | null = null
  #socketClosed = false

  constructor(hub: Hub, socket: Socket, settings: UdpOptions) {
    this.#hub = hub
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
    const { address, port } = this.#socket.address()
    return `udp://${address.includes(':') ? `[${address}]` : address}:${port}`
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
    const datagram = encode(peer.json ? formatEvent({ ...event }) : formatEventLine(event))
    if (datagram.byteLength <= this.#settings.maxDatagramBytes) {
      this.#send(peer, datagram)
      return 'delivered'
    }
    countRefused(this.counters, 'too-big-for-datagram')
    if (event.type !== 'presence')
      this.#send(peer, encode(peer.json ? formatTooBigJson({ ...event }) : formatTooBigLine(event)))
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
      if (request.op === 'ping') return this.#send(from, encode(formatReply('pong', request.id)))
      return this.#refuse(from, true, notJoined(), request.id)
    }
    const { command } = datagram
    if (command.kind === 'nick')
      return this.#admit(from, bytes, { json: false, nick: command.name, key: command.key })
    if (command.kind === 'join') return this.#admit(from, bytes, { json: false })
    if (command.kind === 'ping') return this.#send(from, encode('PONG'))
    this.#refuse(from, false, notJoined())
  }

  #admit(from: RemoteInfo, bytes: Buffer, first: FirstDatagram): void {
    const verdict = this.#settings.gate.admit(from.address)
    if (verdict !== 'ok') {
      const detail =
        verdict === 'too-many-connections' ? 'the server is full' : `too many peers from ${from.address}`
      return this.#refuse(from, first.json, { status: 503, code: verdict, message: detail })
    }
    const peer = new UdpPeer(this, from, this.#settings.keepaliveTimeoutMs)
    peer.json = first.json
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
    const session = await this.#hub.connect(peer, options)
    if (session instanceof HubError) {
      this.drop(peer, null)
      return this.#refuse(peer, first.json, session, first.json ? requestId(bytes) : undefined)
    }
    peer.session = session
    if (nick !== undefined) peer.room = 'lobby'
    if (peer.gone) return this.#track(session.detach())
    await this.#onPeerDatagram(peer, bytes)
    if (session.rooms.size === 0) this.drop(peer, null)
  }

  // A JSON request is answered in JSON and turns the peer's events to JSON; text is answered in text.
  async #onPeerDatagram(peer: UdpPeer, bytes: Buffer): Promise<void> {
    const datagram = decodeDatagram(bytes)
    if (datagram instanceof LineProtocolError) return this.#refuse(peer, false, datagram)
    if (datagram.kind === 'json') return this.#onRequest(peer, datagram.text)
    for (const reply of await this.#runCommand(peer, datagram.command)) this.#reply(peer, reply)
  }

  async #onRequest(peer: UdpPeer, text: string): Promise<void> {
    peer.json = true
    const request = parseRequest(text)
    if (request instanceof JsonProtocolError) return this.#refuse(peer, true, request, request.requestId)
    const { reply, quit } = await runRequest(this.#hub, peer.session!, request)
    const refused = refusalCode(reply)
    if (refused !== null) countRefused(this.counters, refused)
    const fitted = fitJsonReply(reply, this.#settings.maxDatagramBytes - 1)
    if (fitted === null)
      this.#refuse(peer, true, replyTooBig(reply, this.#settings.maxDatagramBytes), request.id)
    else this.#send(peer, encode(fitted))
    if (quit) this.drop(peer, null)
  }

  // A text command's answers, in order, one datagram each; a refusal is an ERR line.
  async #runCommand(peer: UdpPeer, command: Command): Promise<string[]> {
    const result = await this.#perform(peer, peer.session!, command)
    if (!(result instanceof HubError)) return typeof result === 'string' ? [result] : result
    countRefused(this.counters, result.code)
    return [formatErr(result)]
  }

  async #perform(peer: UdpPeer, session: Session, command: Command): Promise<string | string[] | HubError> {
    switch (command.kind) {
      case 'blank':
        return []
      case 'ping':
        return 'PONG'
      case 'help':
        return [formatOk('help'), ...commandHelp.map((text) => `  ${text}`)]
      case 'json':
      case 'text':
        peer.json = command.kind === 'json'
        return peer.json ? JSON.stringify({ ok: true, op: 'json' }) : formatOk('text')
      case 'quit':
        this.drop(peer, Disconnect.Quit)
        return []
      case 'say':
      case 'me':
        return this.#say(peer, session, command.kind === 'me' ? actionPrefix + command.text : command.text)
      case 'msg':
        return this.#direct(session, command.to, command.text)
      case 'join':
        return this.#join(peer, session, command.room)
      case 'leave':
        return this.#leave(peer, session, command.room ?? peer.room)
      case 'nick':
        return this.#nick(session, command.name, command.key)
      case 'who':
        return this.#who(session, command.room ?? peer.room)
      case 'rooms':
        return this.#rooms()
      case 'history':
        return this.#history(session, peer.room, command.last ?? this.#hub.limits.recentOnJoin)
    }
  }

  // Deviation from the line transports: plain text is published with echo on, since over UDP the peer's own
  // line coming back is the only sign that its datagram arrived.
  async #say(peer: UdpPeer, session: Session, text: string): Promise<string[] | HubError> {
    if (peer.room === null) return notInRoom()
    const sent = await session.publish(peer.room, text)
    return sent instanceof HubError ? sent : []
  }

  async #direct(session: Session, to: string, text: string): Promise<string | HubError> {
    const sent = await session.direct(to, text)
    return sent instanceof HubError ? sent : formatOk(`msg ${to}`)
  }

  async #join(peer: UdpPeer, session: Session, room: string): Promise<string | HubError> {
    const joined = await session.join(room)
    if (joined instanceof HubError) return joined
    peer.room = joined.room
    const { members, history } = joined
    // Deviation from the line transports: the join brings no history, so that its answer is one datagram
    // (and a forged /join cannot make us send a room's history to someone else).
    const here = `${members.length} here: ${members.join(', ')}`
    const earlier = history.lastOffset > 0 ? `; /history N shows the last N of ${history.lastOffset}` : ''
    return formatOk(`join ${joined.room} (${here}${earlier})`)
  }

  async #leave(peer: UdpPeer, session: Session, room: string | null): Promise<string | HubError> {
    if (room === null) return notInRoom()
    const left = await session.leave(room)
    if (left instanceof HubError) return left
    if (peer.room === room) peer.room = [...session.rooms].at(-1) ?? null
    return formatOk(
      `leave ${room} (${peer.room === null ? 'in no room now: /join ROOM' : `talking in ${peer.room}`})`,
    )
  }

  async #nick(session: Session, name: string, key: string | undefined): Promise<string | HubError> {
    const claim = await session.setNick(name, key)
    return claim instanceof HubError ? claim : formatOk(`nick ${claim.nick} key ${claim.key}`)
  }

  async #who(session: Session, room: string | null): Promise<string | HubError> {
    if (room === null) return notInRoom()
    const members = await session.who(room)
    if (members instanceof HubError) return members
    return formatOk(`who ${room}: ${members.length === 0 ? '(nobody)' : members.join(', ')}`)
  }

  async #rooms(): Promise<string> {
    const rooms = await this.#hub.rooms()
    return formatOk(
      `rooms ${rooms.map((entry) => `${entry.room} (${entry.members})`).join(', ') || '(none)'}`,
    )
  }

  // `OK history ROOM N`, then each message as a datagram; one too big for a datagram becomes its notice.
  async #history(session: Session, room: string | null, last: number): Promise<string[] | HubError> {
    if (room === null) return notInRoom()
    const page = await session.history(room, { last })
    if (page instanceof HubError) return page
    const lines = page.messages.map((message) => {
      const line = formatEventLine(message)
      if (encode(line).byteLength <= this.#settings.maxDatagramBytes) return line
      countRefused(this.counters, 'too-big-for-datagram')
      return formatTooBigLine(message)
    })
    const count = page.messages.length
    return [formatOk(`history ${room} ${count} message${count === 1 ? '' : 's'}`), ...lines]
  }

  // A text answer too big for one datagram (a /who of a crowded room) is refused rather than cut.
  #reply(peer: UdpPeer, text: string): void {
    const datagram = encode(text)
    if (datagram.byteLength <= this.#settings.maxDatagramBytes) return this.#send(peer, datagram)
    this.#refuse(peer, false, replyTooBig(text, this.#settings.maxDatagramBytes))
  }

  #refuse(
    to: Destination,
    json: boolean,
    error: { status: number; code: string; message: string },
    id?: string | number,
  ): void {
    countRefused(this.counters, error.code)
    this.#send(to, encode(json ? formatError(id, error) : formatErr(error)))
  }

  #sendBye(peer: UdpPeer, reason: DisconnectInfo): void {
    this.#send(peer, encode(peer.json ? formatEvent({ type: 'bye', ...reason }) : formatBye(reason)))
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

// Every datagram we send ends with a newline, so nc and socat show one line each.
function encode(text: string): Buffer {
  return Buffer.from(`${text}\n`)
}

function notJoined(): { status: number; code: string; message: string } {
  return { status: 403, code: 'not-joined', message: howToJoin }
}

function notInRoom(): HubError {
  return new HubError('not-in-room', 403, 'join a room first: /join ROOM')
}

function replyTooBig(reply: string, maxBytes: number): { status: number; code: string; message: string } {
  const bytes = Buffer.byteLength(reply)
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
