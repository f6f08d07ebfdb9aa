// One stream socket (TCP or Unix) as a hub member speaking the line protocol, in text or JSON-lines mode.
// The protocol: docs/line-protocol.md.
//
//   greeting ──welcome──▶ open ──close(reason): BYE──▶ closing ──socket closed──▶ closed
//      │                                                  ▲
//      └──── close(reason): BYE, or the hub refuses: ERR ─┘     (any state ──socket closed──▶ closed)
import type { Duplex } from 'node:stream'
import { debuglog } from 'node:util'
import { Disconnect, type DisconnectInfo } from '../hub/disconnect.js'
import type { Hub } from '../hub/hub.js'
import { HubError } from '../hub/hub-error.js'
import type { Delivery, HubEvent, Member } from '../hub/member.js'
import type { Session } from '../hub/session.js'
import { formatError, formatEvent, JsonProtocolError, parseRequest } from './codec/json-protocol.js'
import {
  type DecodedLine,
  formatBye,
  formatErr,
  formatWelcome,
  LineDecoder,
  LineProtocolError,
  parseCommand,
} from './codec/line.js'
import { runRequest } from './json-requests.js'
import { encodeEvent, lineBytes } from './line-bytes.js'
import type { LineMode, LineOptions } from './line-options.js'
import { countRefused, type TransportCounters } from './listener.js'
import { runTextCommand, type TextCommandContext } from './text-commands.js'
import { newMemberId } from './member-id.js'

const log = debuglog('switchboard:lines')

/** A connection's state. */
export type LineConnectionState = 'greeting' | 'open' | 'closing' | 'closed'

const NEXT = {
  greeting: ['open', 'closing', 'closed'],
  open: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
} as const satisfies Record<LineConnectionState, readonly LineConnectionState[]>

/** The room every connection starts in. */
export const firstRoom = 'lobby'

// Ids are unique among every server of a cluster: a random tag names this process.

const endOfInput = Symbol('end of input')
type Inbound = DecodedLine | typeof endOfInput

/** What a connection needs from its server. */
export interface LineContext {
  hub: Hub
  transport: 'tcp' | 'unix'
  remoteAddress: string
  options: LineOptions
  counters: TransportCounters
}

/**
 * One stream socket in the hub. Lines are handled one at a time, in order; while they are, the socket is
 * paused, so a client sending faster than we answer is held back by TCP instead of growing a queue here.
 */
export class LineConnection implements Member {
  readonly id = newMemberId('line')
  readonly transport: 'tcp' | 'unix'
  readonly remoteAddress: string
  /** Settles when the socket is gone. */
  readonly closed: Promise<void>
  readonly #socket: Duplex
  readonly #hub: Hub
  readonly #options: LineOptions
  readonly #counters: TransportCounters
  readonly #decoder: LineDecoder
  readonly #commands: TextCommandContext
  #state: LineConnectionState = 'greeting'
  #mode: LineMode
  #session: Session | null = null
  // Where plain lines go in text mode.
  #room: string | null = null
  #inbound: Inbound[] = []
  #pumping = false
  // Events that arrive before the welcome is out wait here (they count toward the queue limit).
  #early: Buffer[] = []
  #earlyBytes = 0
  #lastHeardAt = Date.now()
  #idleTimer: NodeJS.Timeout | null = null
  #closeTimer: NodeJS.Timeout | null = null
  #onClosed: () => void = () => {}

  constructor(socket: Duplex, context: LineContext) {
    this.#socket = socket
    this.#hub = context.hub
    this.transport = context.transport
    this.remoteAddress = context.remoteAddress
    this.#options = context.options
    this.#counters = context.counters
    this.#mode = context.options.mode
    this.#decoder = new LineDecoder(context.options.maxLineBytes)
    this.#commands = {
      hub: context.hub,
      currentRoom: () => this.#currentRoom(),
      enterRoom: (room) => {
        this.#room = room
      },
      useJson: () => {
        this.#mode = 'json'
      },
      quit: () => this.close(Disconnect.Quit),
    }
    this.closed = new Promise((resolve) => {
      this.#onClosed = resolve
    })
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('end', () => this.#onEnd())
    socket.on('close', () => this.#onSocketClose())
    this.#armIdle(context.options.idleTimeoutMs)
    void this.#greet()
  }

  /** Where the connection is in its life. */
  get state(): LineConnectionState {
    return this.#state
  }

  /** Bytes accepted for this connection and not yet handed to the kernel. */
  get queuedBytes(): number {
    return this.#socket.writableLength + this.#earlyBytes
  }

  /** Writes one event as a line in the connection's mode; a reader that is too far behind is closed instead. */
  deliver(event: HubEvent): Delivery {
    if (this.#state === 'closing' || this.#state === 'closed') return 'dropped'
    return this.#write(encodeEvent(event, this.#mode)) ? 'delivered' : 'dropped'
  }

  /** Says BYE (`BYE <code> <reason>`, or a JSON `bye` event), flushes, ends the socket and leaves the hub. */
  close(reason: DisconnectInfo): void {
    if (this.#state === 'closing' || this.#state === 'closed') return
    this.#moveTo('closing')
    this.#inbound = []
    this.#early = []
    this.#earlyBytes = 0
    const bye = this.#mode === 'json' ? formatEvent({ type: 'bye', ...reason }) : formatBye(reason)
    this.#endWith(lineBytes(bye))
    this.#detach()
  }

  async #greet(): Promise<void> {
    const session = await this.#hub.connect(this, { rooms: [] })
    if (session instanceof HubError) {
      countRefused(this.#counters, session.code)
      if (this.#state !== 'greeting') return
      this.#moveTo('closing')
      return this.#endWith(lineBytes(this.#formatRefusal(session)))
    }
    this.#session = session
    if (this.#state !== 'greeting') return this.#detach()
    const joined = await session.join(firstRoom)
    if (this.#state !== 'greeting') return
    if (joined instanceof HubError) {
      this.#put(lineBytes(this.#formatRefusal(joined)))
      return this.close(Disconnect.ProtocolError)
    }
    this.#room = firstRoom
    // Written before the join's held events, which the hub releases a turn later.
    const { nick, nickKey } = session
    if (this.#mode === 'json') {
      this.#put(lineBytes(formatEvent({ type: 'welcome', nick, key: nickKey, rooms: [...session.rooms] })))
    } else {
      this.#put(lineBytes(formatWelcome(nick, nickKey, firstRoom)))
      for (const message of joined.history.messages) this.#put(encodeEvent(message, 'text'))
    }
    for (const line of this.#early) this.#put(line)
    this.#early = []
    this.#earlyBytes = 0
    this.#moveTo('open')
    this.#socket.resume()
    void this.#pump()
  }

  // Receiving.

  #onData(chunk: Buffer): void {
    this.#counters.bytesIn += chunk.length
    this.#lastHeardAt = Date.now()
    // While closing, what the peer sends is read and dropped: see #endWith.
    if (this.#state === 'closing' || this.#state === 'closed') return
    for (const line of this.#decoder.push(chunk)) this.#inbound.push(line)
    // Lines wait for the welcome with the socket paused, so a slow hub cannot make them pile up.
    if (this.#state === 'greeting') this.#socket.pause()
    else void this.#pump()
  }

  #onEnd(): void {
    if (this.#state === 'closing' || this.#state === 'closed') return
    // The peer is done sending (nc -N at the end of its input): answer what it sent, then say BYE.
    this.#inbound.push(...this.#decoder.end(), endOfInput)
    void this.#pump()
  }

  async #pump(): Promise<void> {
    if (this.#pumping || this.#state !== 'open' || this.#inbound.length === 0) return
    this.#pumping = true
    this.#socket.pause()
    while (this.#inbound.length > 0 && this.#state === 'open') {
      const batch = this.#inbound
      this.#inbound = []
      for (const item of batch) {
        if (this.#state !== 'open') break
        if (item === endOfInput) this.close(Disconnect.Quit)
        else await this.#onLine(item)
        // A turn of the event loop between lines: other connections get theirs, and events a join held
        // back come out before the next line's answer.
        await new Promise(setImmediate)
      }
    }
    this.#pumping = false
    if (this.#state === 'open') this.#socket.resume()
  }

  async #onLine(line: DecodedLine): Promise<void> {
    this.#counters.messagesIn++
    try {
      if (line instanceof LineProtocolError) this.#refuse(line)
      else if (this.#mode === 'text') await this.#onTextLine(line)
      else await this.#onJsonLine(line)
    } catch (error) {
      // A bug of ours must not take the connection (or the process) down: the client hears of it.
      log('%s: line failed: %O', this.id, error)
      this.#refuse({ status: 500, code: 'internal-error', message: 'the server failed on this line' })
    }
  }

  async #onTextLine(line: string): Promise<void> {
    const command = parseCommand(line)
    if (command instanceof LineProtocolError) return this.#refuse(command)
    const reply = await runTextCommand(this.#commands, this.#session!, command)
    if (reply instanceof HubError) return this.#refuse(reply)
    for (const text of reply) this.#write(typeof text === 'string' ? lineBytes(text) : text)
  }

  /** The room plain lines go to: the last one joined, or the newest left when that one is gone. */
  #currentRoom(): string | null {
    const rooms = this.#session?.rooms
    if (!rooms) return null
    if (this.#room !== null && rooms.has(this.#room)) return this.#room
    this.#room = null
    for (const room of rooms) this.#room = room
    return this.#room
  }

  async #onJsonLine(line: string): Promise<void> {
    const trimmed = line.trim()
    if (trimmed === '') return
    if (trimmed === '/text' || trimmed === '/json') {
      this.#mode = trimmed === '/text' ? 'text' : 'json'
      return this.#reply(this.#mode === 'text' ? 'OK text' : JSON.stringify({ ok: true, op: 'json' }))
    }
    const request = parseRequest(line)
    if (request instanceof JsonProtocolError) {
      countRefused(this.#counters, request.code)
      return this.#reply(formatError(request.requestId, request))
    }
    const { reply, quit } = await runRequest(this.#hub, this.#session!, request)
    // runRequest answers with text; a refusal's code is the first "code" after a top-level "ok":false
    // (an id string cannot contain that unescaped).
    const refused = /"ok":false,"error":\{"code":"([^"]*)"/.exec(reply)
    if (refused) countRefused(this.#counters, refused[1])
    this.#reply(reply)
    if (quit) this.close(Disconnect.Quit)
  }

  // Sending.

  #reply(line: string): void {
    this.#write(lineBytes(line))
  }

  #refuse(error: { status: number; code: string; message: string }): void {
    countRefused(this.#counters, error.code)
    this.#reply(this.#formatRefusal(error))
  }

  #formatRefusal(error: { status: number; code: string; message: string }): string {
    return this.#mode === 'json' ? formatError(undefined, error) : formatErr(error)
  }

  /** Queues one line unless that takes the connection past its limit, which closes it instead. */
  #write(bytes: Buffer): boolean {
    const queued = this.queuedBytes
    // A line larger than the limit still goes out whole when nothing else is waiting.
    if (queued > 0 && queued + bytes.length > this.#options.maxQueuedBytes) {
      log('%s: %d bytes queued, cannot add %d', this.id, queued, bytes.length)
      countRefused(this.#counters, 'slow-consumer')
      this.close(Disconnect.SlowConsumer)
      return false
    }
    if (this.#state === 'greeting') {
      // Counted as delivered: it goes out right after the welcome (or is dropped with the connection).
      this.#early.push(bytes)
      this.#earlyBytes += bytes.length
      return true
    }
    this.#put(bytes)
    return true
  }

  #put(bytes: Buffer): void {
    if (!this.#socket.writable) return
    this.#socket.write(bytes)
    this.#counters.bytesOut += bytes.length
    this.#counters.messagesOut++
  }

  /** Writes a last line and ends the socket, dropping it if the peer has not closed within the timeout. */
  #endWith(bytes: Buffer): void {
    this.#stopIdle()
    this.#put(bytes)
    this.#socket.end()
    // Reading on (and dropping) keeps our close a FIN: closing with unread data would send a reset, which
    // can destroy the BYE line before the peer reads it.
    this.#socket.resume()
    // Not unref'd: a shutdown waits for this bound, and no longer.
    this.#closeTimer = setTimeout(() => this.#socket.destroy(), this.#options.closeTimeoutMs)
  }

  // Lifetime.

  #armIdle(delayMs: number): void {
    if (this.#options.idleTimeoutMs === 0) return
    this.#idleTimer = setTimeout(() => this.#onIdleTimer(), delayMs)
    this.#idleTimer.unref()
  }

  // One timer per connection, re-armed only when it fires: lines arriving reset nothing (bench: line flood).
  #onIdleTimer(): void {
    const quietMs = Date.now() - this.#lastHeardAt
    if (quietMs < this.#options.idleTimeoutMs) return this.#armIdle(this.#options.idleTimeoutMs - quietMs)
    log('%s: idle for %d ms', this.id, quietMs)
    this.close(Disconnect.IdleTimeout)
  }

  #stopIdle(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer)
    this.#idleTimer = null
  }

  #onSocketClose(): void {
    this.#moveTo('closed')
    this.#stopIdle()
    if (this.#closeTimer) clearTimeout(this.#closeTimer)
    this.#detach()
    this.#onClosed()
  }

  #detach(): void {
    this.#session?.detach().catch((error: unknown) => log('%s: detach failed: %O', this.id, error))
  }

  #moveTo(state: LineConnectionState): void {
    if (state === this.#state) return
    const allowed: readonly LineConnectionState[] = NEXT[this.#state]
    if (!allowed.includes(state)) throw new Error(`illegal move ${this.#state} -> ${state}`)
    log('%s: %s -> %s', this.id, this.#state, state)
    this.#state = state
  }
}
