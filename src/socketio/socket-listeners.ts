// The listening half of a socket's API (`on`, `once`, `off`, `onAny`, `offAny`), typed by the events the
// client sends and the socket's own reserved events; `Socket` dispatches to the listeners kept here.
import { ListenerMap, type StoredListener } from './listeners.js'
import type { SocketReservedEvents } from './socket-types.js'
import type { EventListener, EventNames, EventsMap } from './typed-events.js'

export class SocketListeners<ListenEvents extends EventsMap> {
  /** @internal The listeners, for the socket's dispatch. */
  protected readonly listenerMap = new ListenerMap()

  /** Listens to a reserved event or to an event from the client. */
  on<Event extends keyof SocketReservedEvents>(event: Event, listener: SocketReservedEvents[Event]): this
  on<Event extends EventNames<ListenEvents>>(event: Event, listener: EventListener<ListenEvents, Event>): this
  on(event: string, listener: (...args: never[]) => unknown): this {
    this.listenerMap.add(event, listener as StoredListener)
    return this
  }

  /** Listens once. */
  once<Event extends keyof SocketReservedEvents>(event: Event, listener: SocketReservedEvents[Event]): this
  once<Event extends EventNames<ListenEvents>>(
    event: Event,
    listener: EventListener<ListenEvents, Event>,
  ): this
  once(event: string, listener: (...args: never[]) => unknown): this {
    this.listenerMap.addOnce(event, listener as StoredListener)
    return this
  }

  /** Removes a listener, or every listener of the event. */
  off(event: string, listener?: (...args: never[]) => unknown): this {
    this.listenerMap.remove(event, listener as StoredListener | undefined)
    return this
  }

  /** Listens to every event from the client: the listener gets the name first. */
  onAny(listener: (event: string, ...args: unknown[]) => unknown): this {
    this.listenerMap.addAny(listener as StoredListener)
    return this
  }

  /** Removes a catch-all listener, or all of them. */
  offAny(listener?: (event: string, ...args: unknown[]) => unknown): this {
    this.listenerMap.removeAny(listener as StoredListener | undefined)
    return this
  }
}
