// What a transport encodes once per hub event for all its members. The hub hands one event object to every
// member of a room in one pass, so keeping the latest event is enough for every recipient to share its bytes.
// A map keyed by events would keep every encoding alive as long as the history keeps the event itself; an
// event delivered later (held while its room was being joined) is just encoded again.
import type { HubEvent } from '../hub/member.js'

export class LastEventCache<V> {
  #event: HubEvent | null = null
  #value: V | undefined

  /** The value for `event`, made by `make` unless `event` is the one asked for last. */
  get(event: HubEvent, make: (event: HubEvent) => V): V {
    if (event !== this.#event || this.#value === undefined) {
      this.#value = make(event)
      this.#event = event
    }
    return this.#value
  }
}
