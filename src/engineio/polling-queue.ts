// A session's polling transport and the packets waiting for its next GET (Engine.IO protocol v4 §HTTP
// long-polling, §Upgrade): what one tick sends leaves in one answer; an upgrade or a close ends the GETs.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type Packet, PacketType } from './codec/packet.js'
import type { ExtraHeaders } from './http-answer.js'
import type { EngineLimits } from './options.js'
import { type PollingFailure, type PollingHandler, PollingTransport } from './polling.js'
import type { EngineCloseReason, SessionState } from './session-types.js'
import type { UpgradeProbe } from './upgrade.js'

/** What a polling queue asks of its session. @internal */
export interface PollingOwner {
  /** The session's state now. */
  readonly state: SessionState
  /** The packets of a POST, in order; false when the session is closed. */
  onPackets(packets: readonly Packet[]): boolean
  /** The polling transport failed; the session ends, unless it has moved to WebSocket. */
  onPollingFailure(reason: PollingFailure): void
  /** A GET took the close packet of the closing session, or none came in time: the session is closed now. */
  onClosingDone(): void
}

const noop: Packet = { type: PacketType.Noop, data: '' }
const closePacket: Packet = { type: PacketType.Close, data: '' }

/** The polling transport of one session with the packets waiting for its next GET. @internal */
export class PollingQueue implements PollingHandler {
  readonly name = 'polling'
  readonly #owner: PollingOwner
  readonly #limits: EngineLimits
  readonly #transport: PollingTransport
  #packets: Packet[] = []
  #flushQueued = false
  #closeTimer: NodeJS.Timeout | null = null

  constructor(owner: PollingOwner, limits: EngineLimits) {
    this.#owner = owner
    this.#limits = limits
    this.#transport = new PollingTransport(this, limits.maxPayloadBytes)
  }

  /** Whether a GET is waiting for packets. */
  get waiting(): boolean {
    return this.#transport.waiting
  }

  /** Takes a GET. */
  poll(response: ServerResponse, headers: ExtraHeaders): void {
    this.#transport.poll(response, headers)
  }

  /** Takes a POST. */
  post(request: IncomingMessage, response: ServerResponse, headers: ExtraHeaders): void {
    this.#transport.post(request, response, headers)
  }

  /** Queues a packet for the next GET. */
  push(packet: Packet): void {
    this.#packets.push(packet)
    this.flushSoon()
  }

  /**
   * Sends the queue to the waiting GET at the end of the current job, so that the packets of one tick share
   * one answer; only while the session is open and a GET waits.
   */
  flushSoon(): void {
    if (this.#flushQueued || this.#owner.state !== 'open' || !this.#transport.waiting) return
    this.#flushQueued = true
    queueMicrotask(this.#flush)
  }

  /** §Upgrade: a GET waiting now is ended with a noop, so that the client can pause polling. */
  releasePoll(): void {
    this.#transport.write([noop])
  }

  /** Empties the queue and returns what it held: the WebSocket carries it from now on. */
  take(): Packet[] {
    const packets = this.#packets
    this.#packets = []
    return packets
  }

  /**
   * Ends polling as the session ends with `reason`; true when the session is closed now. False after `close()`
   * unless a GET was waiting with nothing queued: the session is closing, the next GET takes what is queued,
   * and the one after (or the next, when nothing is) the close packet.
   */
  close(reason: EngineCloseReason, probe: UpgradeProbe | null): boolean {
    // The client closed: its waiting GET just ends (noop). Otherwise the close packet tells it why polling stops.
    const last = reason === 'transport close' ? noop : closePacket
    if (this.#owner.state === 'upgrading') {
      // Polling is paused and no GET will come to take the close packet: the probing WebSocket carries what is
      // queued and the close packet, a GET still waiting ends with a noop, and the session ends now.
      probe?.cancel(last === noop ? [] : [...this.#packets, last])
      this.#transport.write(probe ? [noop] : [...this.#packets, last])
      return true
    }
    probe?.cancel()
    if (reason !== 'forced close') {
      this.#transport.write([...this.#packets, last])
      return true
    }
    if (this.#transport.waiting && this.#answerClosing()) return true
    this.#closeTimer = setTimeout(() => this.#owner.onClosingDone(), this.#limits.pingTimeoutMs).unref()
    return false
  }

  // Answers the waiting GET of a session closing after close(): what was sent before goes first and the close
  // packet in a later answer, since socket.io-client hands a payload's packets on a tick later and drops them
  // when the same payload closes the transport. True when the close packet went out.
  #answerClosing(): boolean {
    if (this.#packets.length > 0) {
      this.#transport.write(this.take())
      return false
    }
    this.#transport.write([closePacket])
    return true
  }

  /** Drops what is queued and stops waiting: the session is closed. */
  clear(): void {
    if (this.#closeTimer) clearTimeout(this.#closeTimer)
    this.#packets = []
  }

  /** @internal A GET now waits (`PollingHandler`). */
  onPoll(): void {
    switch (this.#owner.state) {
      case 'upgrading':
        // §Upgrade: polling is paused; its GETs are ended with a noop, and what is queued waits for the WebSocket.
        this.#transport.write([noop])
        return
      case 'closing':
        if (this.#answerClosing()) this.#owner.onClosingDone()
        return
      default:
        if (this.#packets.length > 0) this.flushSoon()
    }
  }

  /** @internal The packets of a POST (`PollingHandler`). */
  onPackets(packets: Packet[]): boolean {
    return this.#owner.onPackets(packets)
  }

  /** @internal The transport failed (`PollingHandler`). */
  onFailure(reason: PollingFailure): void {
    this.#owner.onPollingFailure(reason)
  }

  readonly #flush = (): void => {
    this.#flushQueued = false
    // After an upgrade the queue stays empty: `take` handed its packets to the WebSocket.
    if (this.#owner.state !== 'open' || this.#packets.length === 0) return
    if (this.#transport.write(this.#packets)) this.#packets = []
  }
}
