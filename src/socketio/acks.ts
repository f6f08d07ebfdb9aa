// The acknowledgements a socket waits for (Socket.IO protocol v5 §Acknowledgement): each event sent with a
// callback gets the next id; the client's ACK with that id calls it once; a timeout or the socket's end fails it.

/** A callback as `emit` takes it: without a timeout it gets the reply alone. */
export type AckCallback = (...reply: unknown[]) => void

/** A callback as `timeout(ms).emit` takes it: an error first, null when the reply came in time. */
export type ErrorFirstAckCallback = (error: Error | null, ...reply: unknown[]) => void

interface Pending {
  callback: AckCallback | ErrorFirstAckCallback
  errorFirst: boolean
  timer: NodeJS.Timeout | undefined
}

/** The acks one socket waits for. */
export class AckRegistry {
  #nextId = 0
  // Made on the first ack: most sockets never wait for one, and an empty Map still costs its table.
  #pending: Map<number, Pending> | null = null

  /** How many acks are awaited. */
  get size(): number {
    return this.#pending?.size ?? 0
  }

  /**
   * Registers a callback and returns the id for the event packet. With `timeoutMs`, the callback takes an
   * error first and gets `Error('operation has timed out')` when no ACK comes in time; `errorFirst` asks for
   * that form without a timeout.
   */
  register(
    callback: AckCallback | ErrorFirstAckCallback,
    timeoutMs: number | undefined,
    errorFirst = timeoutMs !== undefined,
  ): number {
    const id = this.#nextId
    // Ids wrap well before they could leave the protocol's range (2^53 - 1).
    this.#nextId = this.#nextId >= 0x7fffffff ? 0 : this.#nextId + 1
    const pending: Pending = { callback, errorFirst, timer: undefined }
    this.#pending ??= new Map()
    const all = this.#pending
    if (timeoutMs !== undefined) {
      pending.timer = setTimeout(() => {
        all.delete(id)
        ;(callback as ErrorFirstAckCallback)(timeoutError())
      }, timeoutMs)
    }
    all.set(id, pending)
    return id
  }

  /** Calls the callback of `id` with the reply; an unknown id (late or never sent) is ignored, as Socket.IO does. */
  settle(id: number, reply: unknown[]): void {
    const pending = this.#pending?.get(id)
    if (!pending) return
    this.#pending?.delete(id)
    clearTimeout(pending.timer)
    if (pending.errorFirst) (pending.callback as ErrorFirstAckCallback)(null, ...reply)
    else (pending.callback as AckCallback)(...reply)
  }

  /** Forgets an id whose event could not be sent after all; its callback is never called. */
  forget(id: number): void {
    clearTimeout(this.#pending?.get(id)?.timer)
    this.#pending?.delete(id)
  }

  /**
   * Fails every awaited ack because the socket is gone: error-first callbacks get
   * `Error('socket has been disconnected')`; the others are dropped, as Socket.IO drops them.
   */
  failAll(): void {
    if (this.#pending === null) return
    const pending = [...this.#pending.values()]
    this.#pending = null
    for (const { callback, errorFirst, timer } of pending) {
      clearTimeout(timer)
      if (errorFirst) (callback as ErrorFirstAckCallback)(new Error('socket has been disconnected'))
    }
  }
}

function timeoutError(): Error {
  return Object.assign(new Error('operation has timed out'), { code: 'sio-ack-timeout' })
}
