// The keepalive of one connection: ping a peer that has been silent for an interval, and give up on one
// that stays silent for the timeout after that, so a half-open peer is cut within interval + timeout.

/** One timer per connection, re-armed from timestamps instead of being reset on every chunk read. */
export class Keepalive {
  readonly #intervalMs: number
  readonly #timeoutMs: number
  readonly #ping: () => void
  readonly #onTimeout: (silentMs: number) => void
  #lastHeardAt = Date.now()
  #pingSentAt = 0
  #timer: NodeJS.Timeout | null = null

  /**
   * @param intervalMs silence before a ping; 0 turns the keepalive off
   * @param timeoutMs further silence after the ping before `onTimeout`
   */
  constructor(
    intervalMs: number,
    timeoutMs: number,
    ping: () => void,
    onTimeout: (silentMs: number) => void,
  ) {
    this.#intervalMs = intervalMs
    this.#timeoutMs = timeoutMs
    this.#ping = ping
    this.#onTimeout = onTimeout
    this.#schedule(intervalMs)
  }

  /** Records that the peer sent something: any frame proves it is alive, not only a pong. */
  heard(now: number): void {
    this.#lastHeardAt = now
  }

  /** Stops the timer for good. */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
  }

  #schedule(delayMs: number): void {
    if (this.#intervalMs <= 0) return
    this.#timer = setTimeout(this.#onTimer, delayMs)
    // A keepalive alone must not keep the process running.
    this.#timer.unref()
  }

  #onTimer = (): void => {
    const now = Date.now()
    if (this.#pingSentAt > 0 && this.#lastHeardAt < this.#pingSentAt) {
      const waited = now - this.#pingSentAt
      if (waited < this.#timeoutMs) return this.#schedule(this.#timeoutMs - waited)
      this.#timer = null
      return this.#onTimeout(now - this.#lastHeardAt)
    }
    this.#pingSentAt = 0
    const idle = now - this.#lastHeardAt
    if (idle < this.#intervalMs) return this.#schedule(this.#intervalMs - idle)
    this.#pingSentAt = now
    this.#ping()
    this.#schedule(this.#timeoutMs)
  }
}
