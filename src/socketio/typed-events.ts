// The types that let an application name its events once and have every emit, listener and ack checked:
// a map from event name to the listener's signature, an ack being the listener's last parameter (as in Socket.IO).

/**
 * Events and their signatures, as an interface or a type, e.g.
 * `interface ClientToServer { chat: (text: string, ack: (id: number) => void) => void }`. A function as the
 * last parameter is the acknowledgement: the receiver calls it, the sender gets its arguments. (Any object
 * type is accepted, since an interface has no index signature; members that are not functions take no part.)
 */
export type EventsMap = object

/** Untyped events: any name, arguments of unknown type that a listener narrows. */
export interface DefaultEventsMap {
  [event: string]: (...args: unknown[]) => void
}

/** The event names of a map. */
export type EventNames<Map extends EventsMap> = keyof Map & string

/** The arguments of one event. */
export type EventParams<Map extends EventsMap, Event extends EventNames<Map>> = Map[Event] extends (
  ...args: infer Params
) => unknown
  ? Params
  : never

/** A listener: gets the event's arguments (with the ack function last when the sender asked for one). */
export type EventListener<Map extends EventsMap, Event extends EventNames<Map>> = (
  ...args: EventParams<Map, Event>
) => unknown

/** The last element of a tuple; `unknown` for an array of any length. */
export type Last<T extends readonly unknown[]> = T extends readonly [...unknown[], infer L] ? L : unknown

/** A tuple without its last element. */
export type AllButLast<T extends readonly unknown[]> = T extends readonly [...infer Head, unknown]
  ? Head
  : unknown[]

/** What an ack callback receives first: the reply `emitWithAck` resolves with. */
export type AckReply<Callback> = Callback extends (reply: infer Reply, ...rest: never[]) => unknown
  ? Reply
  : unknown

/** An ack callback as `timeout(ms).emit` calls it: an error first (null when answered in time). */
export type WithTimeoutError<Callback> = Callback extends (...reply: infer Reply) => unknown
  ? (error: Error | null, ...reply: Reply) => void
  : (error: Error | null, ...reply: unknown[]) => void

/** The arguments of `timeout(ms).emit`: the event's, with its ack callback taking an error first. */
export type TimedEmitParams<Map extends EventsMap, Event extends EventNames<Map>> =
  Last<EventParams<Map, Event>> extends (...args: never[]) => unknown
    ? [...AllButLast<EventParams<Map, Event>>, WithTimeoutError<Last<EventParams<Map, Event>>>]
    : EventParams<Map, Event>

/** The arguments of `emitWithAck`: the event's without the ack callback. */
export type EmitWithAckParams<Map extends EventsMap, Event extends EventNames<Map>> =
  Last<EventParams<Map, Event>> extends (...args: never[]) => unknown
    ? AllButLast<EventParams<Map, Event>>
    : EventParams<Map, Event>

/** What `emitWithAck` resolves with: the first argument of the event's ack callback. */
export type EmitWithAckResult<Map extends EventsMap, Event extends EventNames<Map>> = AckReply<
  Last<EventParams<Map, Event>>
>

/** A function found among arguments. */
export type AnyFunction = (...args: never[]) => unknown
