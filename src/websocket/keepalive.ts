// The keepalive for many connections at once: one timer per (interval, timeout) pair sweeps its members,
// so an idle connection costs a Set entry rather than a timer of its own (bench: idle memory).

/**
 * Milliseconds on a monotonic clock, as a small integer: V8 keeps it unboxed in an object's field, where a
 * `Date.now()` value would need a heap number per connection.
 */
export function nowMs(): number {
  return Math.trunc(performance.now())
}

/** Decides, for one member at time `now`, whether to ping it or cut it. */
export type KeepaliveCheck<T> = (member: T, now: number, sweep: KeepaliveSweep<T>) => void

const sweeps = new Map<string, KeepaliveSweep<never>>()

/**
 * Members are checked every `periodMs`, a tenth of the shorter setting. A member silent for
 * `pingAfterMs` is pinged, and one still silent `cutAfterMs` after the ping is cut; both thresholds are
 * one period short of the settings, so the cut comes within interval + timeout of the last byte heard.
 */
export class KeepaliveSweep<T> {
  readonly periodMs: number
  readonly pingAfterMs: number
  readonly cutAfterMs: number
  readonly #members = new Set<T>()
  readonly #check: KeepaliveCheck<T>
  readonly #key: string
  #timer: NodeJS.Timeout | null = null

  private constructor(key: string, intervalMs: number, timeoutMs: number, check: KeepaliveCheck<T>) {
    this.#key = key
    this.periodMs = Math.max(10, Math.floor(Math.min(intervalMs, timeoutMs) / 10))
    this.pingAfterMs = Math.max(0, intervalMs - this.periodMs)
    this.cutAfterMs = Math.max(0, timeoutMs - this.periodMs)
    this.#check = check
  }

  /** Adds `member` to the sweep for these settings; null when `intervalMs` is 0 (keepalive off). */
  static join<T>(
    member: T,
    intervalMs: number,
    timeoutMs: number,
    check: KeepaliveCheck<T>,
    scope: string,
  ): KeepaliveSweep<T> | null {
    if (intervalMs <= 0) return null
    const key = `${scope}/${intervalMs}/${timeoutMs}`
    let sweep = sweeps.get(key) as KeepaliveSweep<T> | undefined
    if (!sweep) {
      sweep = new KeepaliveSweep<T>(key, intervalMs, timeoutMs, check)
      sweeps.set(key, sweep as unknown as KeepaliveSweep<never>)
    }
    sweep.#add(member)
    return sweep
  }

  /** Removes a member; the timer stops when the last one leaves. */
  leave(member: T): void {
    this.#members.delete(member)
    if (this.#members.size > 0) return
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
    sweeps.delete(this.#key)
  }

  #add(member: T): void {
    this.#members.add(member)
    if (this.#timer) return
    this.#timer = setInterval(() => this.#sweep(), this.periodMs)
    // A keepalive alone must not keep the process running.
    this.#timer.unref()
  }

  #sweep(): void {
    const now = nowMs()
    for (const member of this.#members) this.#check(member, now, this)
  }
}
