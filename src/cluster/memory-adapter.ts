// The adapter for a single node: envelopes loop straight back, presence lives in maps.
import type { Envelope, HubAdapter, PresenceStore } from '../hub/adapter.js'
import type { HistoryStore } from '../hub/history.js'

/** Presence in this process's memory. */
export class MemoryPresence implements PresenceStore {
  // room → nick → connection ids
  readonly #rooms = new Map<string, Map<string, Set<string>>>()
  // nick → its key and the connections holding it
  readonly #nicks = new Map<string, { key: string; holders: Set<string> }>()

  async add(room: string, nick: string, connectionId: string): Promise<boolean> {
    let nicks = this.#rooms.get(room)
    if (!nicks) {
      nicks = new Map()
      this.#rooms.set(room, nicks)
    }
    let ids = nicks.get(nick)
    const joined = ids === undefined
    if (!ids) {
      ids = new Set()
      nicks.set(nick, ids)
    }
    ids.add(connectionId)
    return joined
  }

  async remove(room: string, nick: string, connectionId: string): Promise<boolean> {
    const nicks = this.#rooms.get(room)
    const ids = nicks?.get(nick)
    if (!nicks || !ids?.delete(connectionId)) return false
    if (ids.size > 0) return false
    nicks.delete(nick)
    if (nicks.size === 0) this.#rooms.delete(room)
    return true
  }

  async members(room: string): Promise<string[]> {
    return [...(this.#rooms.get(room)?.keys() ?? [])].sort()
  }

  async connections(room: string): Promise<Array<{ nick: string; connectionId: string }>> {
    const out: Array<{ nick: string; connectionId: string }> = []
    for (const [nick, ids] of this.#rooms.get(room) ?? [])
      for (const connectionId of ids) out.push({ nick, connectionId })
    return out
  }

  async rooms(): Promise<Array<{ room: string; members: number }>> {
    return [...this.#rooms]
      .map(([room, nicks]) => ({ room, members: nicks.size }))
      .sort((a, b) => a.room.localeCompare(b.room))
  }

  async claimNick(nick: string, key: string, connectionId: string): Promise<'claimed' | 'joined' | 'taken'> {
    const held = this.#nicks.get(nick)
    if (!held) {
      this.#nicks.set(nick, { key, holders: new Set([connectionId]) })
      return 'claimed'
    }
    if (held.key !== key) return 'taken'
    held.holders.add(connectionId)
    return 'joined'
  }

  async releaseNick(nick: string, connectionId: string): Promise<void> {
    const held = this.#nicks.get(nick)
    if (!held) return
    held.holders.delete(connectionId)
    if (held.holders.size === 0) this.#nicks.delete(nick)
  }

  async hasNick(nick: string): Promise<boolean> {
    return this.#nicks.has(nick)
  }
}

/** One node: broadcasts are delivered locally at once. */
export class MemoryAdapter implements HubAdapter {
  readonly presence: PresenceStore
  readonly history: HistoryStore
  #handler: ((envelope: Envelope) => void) | null = null

  constructor(history: HistoryStore, presence: PresenceStore = new MemoryPresence()) {
    this.history = history
    this.presence = presence
  }

  broadcast(envelope: Envelope): void {
    this.#handler?.(envelope)
  }

  onEnvelope(handler: (envelope: Envelope) => void): void {
    this.#handler = handler
  }

  async close(): Promise<void> {
    await this.history.close()
  }
}
