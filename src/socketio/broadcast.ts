// The broadcast operators of Socket.IO's API: `to`/`in` choose rooms, `except` leaves rooms out, `volatile`
// drops the event for sockets that cannot take it now, `timeout` bounds the wait for acks. Each call returns
// a new operator, so a half-built one can be kept and reused.
import { rangeError } from '../errors.js'
import type { EventArguments } from './codec/index.js'
import { isReservedEventName } from './codec/index.js'
import type { Room } from './rooms.js'
import type { AllButLast, AnyFunction, EventNames, EventParams, EventsMap, Last } from './typed-events.js'

/** Who a broadcast is for and how it goes. */
export interface BroadcastOptions {
  /** Sockets in any of these rooms; every socket of the namespace when empty. */
  rooms: ReadonlySet<Room>
  /** Sockets in any of these rooms are left out. */
  except: ReadonlySet<Room>
  /** Drop the event for a socket whose transport cannot take it right now; never stored for recovery. */
  volatile: boolean
}

/** What an operator needs of its namespace. */
export interface BroadcastHost<Target> {
  /** Sends an event to the matching sockets, encoded once. */
  broadcast(args: EventArguments, options: BroadcastOptions): void
  /** Sends an event with an ack to each matching socket; `done` gets the first failure and every reply. */
  broadcastWithAck(
    args: EventArguments,
    options: BroadcastOptions,
    timeoutMs: number | undefined,
    done: (error: Error | null, replies: unknown[]) => void,
  ): void
  /** The connected sockets that match. */
  matching(options: BroadcastOptions): Target[]
}

/** What the operators can ask of each matching socket. */
export interface BroadcastTarget {
  join(rooms: Room | readonly Room[]): unknown
  leave(room: Room): unknown
  disconnect(close?: boolean): void
}

/** The arguments of a broadcast `emit`: an ack callback, when the event has one, gets an error and all replies. */
export type BroadcastEmitParams<Map extends EventsMap, Event extends EventNames<Map>> =
  Last<EventParams<Map, Event>> extends (reply: infer Reply, ...rest: never[]) => unknown
    ? [...AllButLast<EventParams<Map, Event>>, (error: Error | null, replies: Reply[]) => void]
    : EventParams<Map, Event>

/** The arguments of a broadcast `emitWithAck`: the event's without its ack callback. */
export type BroadcastAckParams<Map extends EventsMap, Event extends EventNames<Map>> =
  Last<EventParams<Map, Event>> extends AnyFunction
    ? AllButLast<EventParams<Map, Event>>
    : EventParams<Map, Event>

/** What a broadcast `emitWithAck` resolves with: the first argument of each socket's ack. */
export type BroadcastAckResult<Map extends EventsMap, Event extends EventNames<Map>> =
  Last<EventParams<Map, Event>> extends (reply: infer Reply, ...rest: never[]) => unknown
    ? Reply[]
    : unknown[]

const none: ReadonlySet<Room> = new Set()

/** A broadcast being built: rooms, exclusions and flags, then `emit` or one of the socket operations. */
export class BroadcastOperator<EmitEvents extends EventsMap, Target extends BroadcastTarget> {
  readonly #host: BroadcastHost<Target>
  readonly #options: BroadcastOptions
  readonly #timeoutMs: number | undefined

  constructor(
    host: BroadcastHost<Target>,
    options: BroadcastOptions = { rooms: none, except: none, volatile: false },
    timeoutMs?: number,
  ) {
    this.#host = host
    this.#options = options
    this.#timeoutMs = timeoutMs
  }

  /** Targets the sockets in these rooms too (a socket in several gets the event once). */
  to(room: Room | readonly Room[]): BroadcastOperator<EmitEvents, Target> {
    const rooms = new Set(this.#options.rooms)
    for (const r of toList(room)) rooms.add(r)
    return this.#with({ rooms })
  }

  /** The same as `to`. */
  in(room: Room | readonly Room[]): BroadcastOperator<EmitEvents, Target> {
    return this.to(room)
  }

  /** Leaves out the sockets in these rooms. */
  except(room: Room | readonly Room[]): BroadcastOperator<EmitEvents, Target> {
    const except = new Set(this.#options.except)
    for (const r of toList(room)) except.add(r)
    return this.#with({ except })
  }

  /** Drops the event for each socket whose transport cannot take it right now. */
  get volatile(): BroadcastOperator<EmitEvents, Target> {
    return this.#with({ volatile: true })
  }

  /** This server has one node: the same operator. */
  get local(): BroadcastOperator<EmitEvents, Target> {
    return this
  }

  /** Bounds the wait for acks, in ms: past it the ack callback gets an error and the replies so far. */
  timeout(timeoutMs: number): BroadcastOperator<EmitEvents, Target> {
    checkTimeout(timeoutMs)
    return new BroadcastOperator(this.#host, this.#options, timeoutMs)
  }

  /**
   * Sends an event to every matching socket. A function as the last argument asks each socket for an ack and
   * is called once with `(error, replies)`. Returns true.
   */
  emit<Event extends EventNames<EmitEvents>>(
    event: Event,
    ...args: BroadcastEmitParams<EmitEvents, Event>
  ): true {
    checkEventName(event)
    const list: unknown[] = [...args]
    const last = list[list.length - 1]
    if (typeof last !== 'function') {
      this.#host.broadcast([event, ...list], this.#options)
      return true
    }
    list.pop()
    const done = last as (error: Error | null, replies: unknown[]) => void
    this.#host.broadcastWithAck([event, ...list], this.#options, this.#timeoutMs, done)
    return true
  }

  /** Sends an event to every matching socket and resolves with each one's reply; rejects on a timeout. */
  emitWithAck<Event extends EventNames<EmitEvents>>(
    event: Event,
    ...args: BroadcastAckParams<EmitEvents, Event>
  ): Promise<BroadcastAckResult<EmitEvents, Event>> {
    checkEventName(event)
    return new Promise((resolve, reject) => {
      this.#host.broadcastWithAck([event, ...args], this.#options, this.#timeoutMs, (error, replies) => {
        if (error) reject(Object.assign(error, { replies }))
        else resolve(replies as BroadcastAckResult<EmitEvents, Event>)
      })
    })
  }

  /** The matching sockets of this server (a promise, as a cluster would need one). */
  fetchSockets(): Promise<Target[]> {
    return Promise.resolve(this.#host.matching(this.#options))
  }

  /** Makes every matching socket join these rooms. */
  socketsJoin(room: Room | readonly Room[]): void {
    for (const socket of this.#host.matching(this.#options)) socket.join(room)
  }

  /** Makes every matching socket leave these rooms. */
  socketsLeave(room: Room | readonly Room[]): void {
    for (const socket of this.#host.matching(this.#options)) for (const r of toList(room)) socket.leave(r)
  }

  /** Disconnects every matching socket; with `close`, their whole Engine.IO sessions too. */
  disconnectSockets(close = false): void {
    for (const socket of this.#host.matching(this.#options)) socket.disconnect(close)
  }

  #with(change: Partial<BroadcastOptions>): BroadcastOperator<EmitEvents, Target> {
    return new BroadcastOperator(this.#host, { ...this.#options, ...change }, this.#timeoutMs)
  }
}

function toList(room: Room | readonly Room[]): readonly Room[] {
  return typeof room === 'string' ? [room] : room
}

/** Refuses names the Socket.IO libraries keep for themselves, and non-strings (`TypeError`, `RangeError`). */
export function checkEventName(event: unknown): asserts event is string {
  if (typeof event !== 'string') {
    throw Object.assign(new TypeError(`an event name is a string, not ${typeof event}`), {
      code: 'sio-invalid-event-name',
    })
  }
  if (isReservedEventName(event))
    throw rangeError('sio-reserved-event-name', `"${event}" is a reserved event name`)
}

/** Refuses a timeout that is not a whole number of ms >= 0 (`RangeError`). */
export function checkTimeout(timeoutMs: number): void {
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 0) {
    throw rangeError('sio-invalid-timeout', `a timeout is a whole number of ms >= 0, not ${timeoutMs}`)
  }
}
