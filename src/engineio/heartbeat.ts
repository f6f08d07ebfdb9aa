// The server-driven heartbeat of one Engine.IO session (Engine.IO protocol v4 §Heartbeat): a ping every
// pingInterval, and the session's end when the pong is not back within pingTimeout.
import type { EngineLimits } from './options.js'

/** What a heartbeat asks of its session. @internal */
export interface HeartbeatOwner {
  /** Whether the session is closing or closed: no ping goes out then. */
  readonly ending: boolean
  /** Sends a ping packet. */
  sendPing(): void
  /** The pong did not come in time: the session ends with `ping timeout`. */
  onPingTimeout(): void
}

/** Pings a session on a timer and watches for its pongs; it starts when made. @internal */
export class Heartbeat {
  readonly #owner: HeartbeatOwner
  readonly #limits: EngineLimits
  // One timer serves both halves of the heartbeat: until the next ping, then until its pong is due.
  #timer: NodeJS.Timeout
  // When the pending ping is due: a ping that goes out late does not move the pong's deadline later.
  #pingDueAt = 0
  #awaitingPong = false

  constructor(limits: EngineLimits, owner: HeartbeatOwner) {
    this.#owner = owner
    this.#limits = limits
    this.#timer = this.#schedulePing()
  }

  /** A pong arrived: the next ping is due pingInterval from now. */
  onPong(): void {
    // A pong nobody asked for is ignored: it must not push the next ping further away.
    if (!this.#awaitingPong) return
    this.#awaitingPong = false
    clearTimeout(this.#timer)
    this.#timer = this.#schedulePing()
  }

  /** Stops for good: the session is ending. */
  stop(): void {
    clearTimeout(this.#timer)
    this.#awaitingPong = false
  }

  readonly #onTimer = (): void => {
    if (this.#owner.ending) return
    if (this.#awaitingPong) return this.#owner.onPingTimeout()
    this.#awaitingPong = true
    this.#owner.sendPing()
    // The deadline is pingTimeout after the ping was due (pingInterval + pingTimeout after the last pong), however
    // late a busy event loop ran this timer.
    const late = Math.max(0, performance.now() - this.#pingDueAt)
    this.#timer = setTimeout(this.#onTimer, Math.max(0, this.#limits.pingTimeoutMs - late)).unref()
  }

  #schedulePing(): NodeJS.Timeout {
    const interval = this.#limits.pingIntervalMs
    this.#pingDueAt = performance.now() + interval
    return setTimeout(this.#onTimer, interval).unref()
  }
}
