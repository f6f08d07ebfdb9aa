// Who is in which room of one namespace. The namespace asks only through `RoomAdapter`, so another registry
// (the hub's rooms, shared with TCP and WebSocket members) can take this one's place without touching it.

/** A socket's id, which is also the name of the room only that socket is in. */
export type SocketId = string

/** A room name. */
export type Room = string

/**
 * The room registry of one namespace. Every socket is in the room named by its id from connection to
 * disconnection. Methods may not throw (nor reject); an unknown socket or room is simply nothing to do.
 * Changes may finish later (a registry shared with the hub stores them), so they may return a promise, which
 * `socket.join` and `socket.leave` hand back; the lookups answer at once from what the registry holds here.
 */
export interface RoomAdapter {
  /** Puts a socket in rooms. */
  addAll(id: SocketId, rooms: Iterable<Room>): void | Promise<void>
  /** Takes a socket out of one room. */
  del(id: SocketId, room: Room): void | Promise<void>
  /** Takes a socket out of every room, when it disconnects. */
  delAll(id: SocketId): void | Promise<void>
  /** The rooms of a socket (empty for an unknown one). */
  roomsOf(id: SocketId): ReadonlySet<Room>
  /**
   * The sockets in any of `rooms` (every socket known, when `rooms` is empty) that are in none of `except`,
   * each once.
   */
  socketsIn(rooms: ReadonlySet<Room>, except: ReadonlySet<Room>): Set<SocketId>
  /** Every room with its members. */
  readonly rooms: ReadonlyMap<Room, ReadonlySet<SocketId>>
}

const empty: ReadonlySet<Room> = new Set()

/** The in-process registry: two maps kept as mirrors of each other. */
export class LocalRooms implements RoomAdapter {
  readonly #rooms = new Map<Room, Set<SocketId>>()
  readonly #socketRooms = new Map<SocketId, Set<Room>>()

  get rooms(): ReadonlyMap<Room, ReadonlySet<SocketId>> {
    return this.#rooms
  }

  addAll(id: SocketId, rooms: Iterable<Room>): void {
    let mine = this.#socketRooms.get(id)
    if (!mine) {
      mine = new Set()
      this.#socketRooms.set(id, mine)
    }
    for (const room of rooms) {
      mine.add(room)
      let members = this.#rooms.get(room)
      if (!members) {
        members = new Set()
        this.#rooms.set(room, members)
      }
      members.add(id)
    }
  }

  del(id: SocketId, room: Room): void {
    this.#socketRooms.get(id)?.delete(room)
    this.#removeMember(room, id)
  }

  delAll(id: SocketId): void {
    const mine = this.#socketRooms.get(id)
    if (!mine) return
    for (const room of mine) this.#removeMember(room, id)
    this.#socketRooms.delete(id)
  }

  roomsOf(id: SocketId): ReadonlySet<Room> {
    return this.#socketRooms.get(id) ?? empty
  }

  socketsIn(rooms: ReadonlySet<Room>, except: ReadonlySet<Room>): Set<SocketId> {
    const excluded = new Set<SocketId>()
    for (const room of except) for (const id of this.#rooms.get(room) ?? empty) excluded.add(id)
    const found = new Set<SocketId>()
    const candidates =
      rooms.size === 0 ? [this.#socketRooms.keys()] : [...rooms].map((room) => this.#rooms.get(room) ?? empty)
    for (const ids of candidates) for (const id of ids) if (!excluded.has(id)) found.add(id)
    return found
  }

  #removeMember(room: Room, id: SocketId): void {
    const members = this.#rooms.get(room)
    if (!members) return
    members.delete(id)
    // An empty room is forgotten, so rooms named by clients cannot pile up.
    if (members.size === 0) this.#rooms.delete(room)
  }
}
