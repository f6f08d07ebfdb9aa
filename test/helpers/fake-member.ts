// A Member that records what the hub hands it: the transport side's test double, for tests whose unit is
// the hub itself. It can play a slow reader (answers 'queued') or one whose queue is full ('dropped').
import assert from 'node:assert/strict'
import { EventEmitter, once } from 'node:events'
import type { TestContext } from 'node:test'
import { MemoryAdapter } from '../../src/cluster/memory-adapter.js'
import { MemoryHistory, type Retention } from '../../src/hub/history.js'
import { type ConnectOptions, Hub } from '../../src/hub/hub.js'
import { HubError } from '../../src/hub/hub-error.js'
import type { HubLimits } from '../../src/hub/limits.js'
import type {
  Delivery,
  HubEvent,
  Member,
  PresenceEvent,
  RoomMessage,
  TransportKind,
} from '../../src/hub/member.js'
import type { Session } from '../../src/hub/session.js'
import type { DisconnectInfo } from '../../src/hub/disconnect.js'

/** How a fake member presents itself and what it answers. */
export interface FakeMemberOptions {
  /** @default a fresh `fake-N` */
  id?: string
  /** @default 'tcp' */
  transport?: TransportKind
  /** What `deliver` answers: 'queued' plays a slow reader, 'dropped' one that cannot take more. @default 'delivered' */
  answer?: Delivery
}

/** One call of `deliver`: the event and what the member answered. */
export interface LoggedDelivery {
  event: HubEvent
  answer: Delivery
}

let nextId = 0

/** A `Member` that logs every event it is handed and every `close`. */
export class FakeMember implements Member {
  readonly id: string
  readonly transport: TransportKind
  readonly remoteAddress = '127.0.0.1'
  /** What the next `deliver` answers; tests may change it at any time. */
  answer: Delivery
  /** Every `deliver` call, in order. */
  readonly log: LoggedDelivery[] = []
  /** Every reason `close` was called with, in order. */
  readonly closes: DisconnectInfo[] = []
  readonly #emitter = new EventEmitter<{ event: [HubEvent, Delivery]; close: [DisconnectInfo] }>()

  constructor(options: FakeMemberOptions = {}) {
    this.id = options.id ?? `fake-${++nextId}`
    this.transport = options.transport ?? 'tcp'
    this.answer = options.answer ?? 'delivered'
  }

  deliver(event: HubEvent): Delivery {
    const answer = this.answer
    this.log.push({ event, answer })
    this.#emitter.emit('event', event, answer)
    return answer
  }

  close(reason: DisconnectInfo): void {
    this.closes.push(reason)
    this.#emitter.emit('close', reason)
  }

  /** Events the member kept (answered 'delivered' or 'queued'), in order. */
  get events(): HubEvent[] {
    return this.log.filter((entry) => entry.answer !== 'dropped').map((entry) => entry.event)
  }

  /** Room messages kept, optionally of one room. */
  messages(room?: string): RoomMessage[] {
    return this.events.filter(
      (event): event is RoomMessage =>
        event.type === 'message' && (room === undefined || event.room === room),
    )
  }

  /** Offsets of the room messages kept in `room`, in arrival order. */
  offsets(room: string): number[] {
    return this.messages(room).map((message) => message.offset)
  }

  /** Presence events kept in `room`, as `'join ann'` / `'leave ann'`, in order. */
  presence(room: string): string[] {
    return this.events
      .filter((event): event is PresenceEvent => event.type === 'presence' && event.room === room)
      .map((event) => `${event.event} ${event.member}`)
  }

  /** The first kept event matching `predicate`, already received or still to come. */
  until(predicate: (event: HubEvent) => boolean): Promise<HubEvent> {
    const seen = this.events.find(predicate)
    if (seen) return Promise.resolve(seen)
    // A listener rather than a loop of once(): several events may arrive in one synchronous burst.
    return new Promise((resolve) => {
      const onEvent = (event: HubEvent, answer: Delivery): void => {
        if (answer === 'dropped' || !predicate(event)) return
        this.#emitter.off('event', onEvent)
        resolve(event)
      }
      this.#emitter.on('event', onEvent)
    })
  }

  /** Resolves with the reason of the first `close`. */
  async closed(): Promise<DisconnectInfo> {
    if (this.closes.length > 0) return this.closes[0]
    const [reason] = await once(this.#emitter, 'close')
    return reason
  }
}

/** How a test hub is built: a memory adapter with optional retention, limits and clock. */
export interface TestHubOptions {
  limits?: Partial<HubLimits>
  retention?: Partial<Retention>
  now?: () => number
}

/** A hub on a fresh `MemoryAdapter`, closed after the test. */
export function makeHub(t: TestContext, options: TestHubOptions = {}): Hub {
  const adapter = new MemoryAdapter(new MemoryHistory(options.retention, options.now))
  const hub = new Hub({ adapter, limits: options.limits, now: options.now })
  t.after(async () => {
    await hub.close()
    await adapter.close()
  })
  return hub
}

/** A connected fake member and its session. */
export interface Connected {
  member: FakeMember
  session: Session
}

/** Connects a fresh `FakeMember`; fails the test when the hub refuses it. */
export async function connectFake(
  hub: Hub,
  options: ConnectOptions & FakeMemberOptions = {},
): Promise<Connected> {
  const member = new FakeMember(options)
  const session = await hub.connect(member, options)
  return { member, session: accepted(session) }
}

/** Asserts that a hub operation was refused with `code` and `status`, and returns the error. */
export function assertRefused(result: unknown, code: string, status: number): HubError {
  assert.ok(result instanceof HubError, `expected ${code}, got ${JSON.stringify(result)}`)
  assert.equal(result.code, code)
  assert.equal(result.status, status)
  return result
}

/** Asserts that a hub operation succeeded and narrows its result. */
export function accepted<T>(result: T | HubError): T {
  if (result instanceof HubError)
    assert.fail(`refused with ${result.code} ${result.status}: ${result.message}`)
  return result
}

/**
 * Waits one event-loop turn. The hub releases events it held during a join a turn after the join's answer
 * (`setImmediate`), so after this they have gone out.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
