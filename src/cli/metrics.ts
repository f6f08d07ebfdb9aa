// /metrics in Prometheus format: read from the hub's tally and every listener's counters at scrape time.
import { Counter, Gauge, Registry } from 'prom-client'
import type { Hub } from '../hub/hub.js'
import type { Listener } from '../transports/listener.js'

/** The registry that /metrics serves for one running server. */
export function createMetrics(hub: Hub, listeners: () => ReadonlyMap<string, Listener>): Registry {
  const registry = new Registry()
  // Every metric is filled at scrape time: the counts already live in the hub and the transports.
  type Collect = (set: (labels: Record<string, string>, value: number) => void) => void
  const gauge = (name: string, help: string, labelNames: string[], collect: Collect) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset()
        collect((labels, value) => this.set(labels, value))
      },
    })
  const counter = (name: string, help: string, labelNames: string[], collect: Collect) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset()
        collect((labels, value) => this.inc(labels, value))
      },
    })

  gauge('switchboard_connections', 'Open connections by transport', ['transport'], (set) => {
    for (const [transport, count] of Object.entries(hub.stats().connections)) set({ transport }, count)
  })
  gauge('switchboard_rooms', 'Rooms with members on this node', [], (set) => {
    set({}, hub.stats().activeRooms)
  })
  for (const [metric, field, help] of [
    ['switchboard_messages_in_total', 'messagesIn', 'Messages received, by transport'],
    ['switchboard_messages_out_total', 'messagesOut', 'Messages sent, by transport'],
    ['switchboard_bytes_in_total', 'bytesIn', 'Bytes received, by transport'],
    ['switchboard_bytes_out_total', 'bytesOut', 'Bytes sent, by transport'],
  ] as const) {
    counter(metric, help, ['transport'], (set) => {
      for (const [transport, listener] of listeners()) set({ transport }, listener.counters[field])
    })
  }
  gauge(
    'switchboard_queued_bytes',
    'Bytes accepted for sending and not yet written, by transport',
    ['transport'],
    (set) => {
      for (const [transport, listener] of listeners()) set({ transport }, listener.counters.queuedBytes)
    },
  )
  counter(
    'switchboard_refused_total',
    'Connections and messages refused, by transport and reason',
    ['transport', 'reason'],
    (set) => {
      for (const [transport, listener] of listeners()) {
        for (const [reason, count] of listener.counters.refused) set({ transport, reason }, count)
      }
    },
  )
  counter(
    'switchboard_dropped_total',
    'Messages the hub refused or could not deliver, by reason',
    ['reason'],
    (set) => {
      for (const [reason, count] of hub.stats().dropped) set({ reason }, count)
    },
  )
  counter(
    'switchboard_room_deliveries_total',
    'Deliveries per room (one per recipient of each message) by outcome; published = delivered + queued + dropped',
    ['room', 'outcome'],
    (set) => {
      for (const [room, counts] of hub.stats().rooms) {
        for (const outcome of ['published', 'delivered', 'dropped'] as const)
          set({ room, outcome }, counts[outcome])
      }
    },
  )
  gauge('switchboard_room_queued', 'Deliveries per room held and not yet sent', ['room'], (set) => {
    for (const [room, counts] of hub.stats().rooms) set({ room }, counts.queued)
  })
  counter('switchboard_room_messages_total', 'Messages published per room', ['room'], (set) => {
    for (const [room, counts] of hub.stats().rooms) set({ room }, counts.messages)
  })
  return registry
}
