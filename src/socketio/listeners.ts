// The listeners of a socket's events, and how they are called. Not an EventEmitter: event names come from
// clients, and none of them (not even "error") may make Node throw for want of a listener; nor may a listener
// that throws take the server down.

/** A listener as stored; the typed `on` overloads check the real signatures. */
export type StoredListener = (...args: unknown[]) => unknown

/** Listeners by event name, plus catch-all listeners that get the name first. */
export class ListenerMap {
  readonly #byEvent = new Map<string, StoredListener[]>()
  #any: StoredListener[] = []

  add(event: string, listener: StoredListener): void {
    const list = this.#byEvent.get(event)
    // Copy on write: a listener that removes itself (`once`) does not disturb the loop calling it.
    this.#byEvent.set(event, list ? [...list, listener] : [listener])
  }

  remove(event: string, listener?: StoredListener): void {
    const list = this.#byEvent.get(event)
    if (!list) return
    if (listener === undefined) {
      this.#byEvent.delete(event)
      return
    }
    const index = list.findIndex((l) => l === listener || (l as Wrapped).original === listener)
    if (index === -1) return
    const next = list.filter((_, i) => i !== index)
    if (next.length === 0) this.#byEvent.delete(event)
    else this.#byEvent.set(event, next)
  }

  /** Adds a listener that removes itself before its first call. */
  addOnce(event: string, listener: StoredListener): void {
    const wrapped: Wrapped = Object.assign(
      (...args: unknown[]) => {
        this.remove(event, wrapped)
        return listener(...args)
      },
      { original: listener },
    )
    this.add(event, wrapped)
  }

  addAny(listener: StoredListener): void {
    this.#any = [...this.#any, listener]
  }

  removeAny(listener?: StoredListener): void {
    this.#any = listener === undefined ? [] : this.#any.filter((l) => l !== listener)
  }

  /** The listeners of `event`, as a snapshot. */
  get(event: string): readonly StoredListener[] {
    return this.#byEvent.get(event) ?? []
  }

  /** The catch-all listeners, as a snapshot. */
  get any(): readonly StoredListener[] {
    return this.#any
  }

  count(event: string): number {
    return this.#byEvent.get(event)?.length ?? 0
  }

  /**
   * Calls the catch-all listeners (with the name first), then, unless `catchAllOnly`, the event's own. With an
   * `ack`, a listener that returns a value (or a promise of one) other than undefined answers with it, unless
   * the ack function was called already.
   */
  dispatch(
    thisArg: object,
    event: string,
    args: unknown[],
    ack: ((...reply: unknown[]) => void) | undefined,
    catchAllOnly = false,
  ): void {
    for (const listener of this.#any) this.#call(thisArg, listener, [event, ...args], ack)
    if (catchAllOnly) return
    for (const listener of this.get(event)) this.#call(thisArg, listener, args, ack)
  }

  /** Calls the listeners of one of our own events (`disconnect`, `disconnecting`). */
  emitOwn(thisArg: object, event: string, args: unknown[]): void {
    for (const listener of this.get(event)) this.#call(thisArg, listener, args, undefined)
  }

  #call(
    thisArg: object,
    listener: StoredListener,
    args: unknown[],
    ack: ((...reply: unknown[]) => void) | undefined,
  ): void {
    let result: unknown
    try {
      result = listener.apply(thisArg, args)
    } catch (error) {
      return this.#report(thisArg, error)
    }
    if (isThenable(result)) {
      result.then(
        (value) => value !== undefined && ack?.(value),
        (error: unknown) => this.#report(thisArg, error),
      )
    } else if (result !== undefined) ack?.(result)
  }

  // A listener's failure goes to the `error` listeners, or to a process warning when there are none.
  #report(thisArg: object, error: unknown): void {
    const listeners = this.get('error')
    if (listeners.length === 0) {
      const message = error instanceof Error ? error.message : String(error)
      process.emitWarning(`a Socket.IO listener failed: ${message}`, { code: 'SWITCHBOARD_SIO_LISTENER' })
      return
    }
    for (const listener of listeners) {
      try {
        listener.call(thisArg, error)
      } catch {
        // An error listener that throws has nobody left to tell.
      }
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

type Wrapped = StoredListener & { original: StoredListener }
