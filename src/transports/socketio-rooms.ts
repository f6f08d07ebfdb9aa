// The room registry of the main namespace under `switchboard serve`: Socket.IO rooms that are hub rooms.
// Server code that calls `socket.join(room)` joins the socket's hub member to that room, so TCP, UDP and
// WebSocket members see it arrive in presence and it receives the room's messages as `message` events; a join
// made with the client's own `join` event shows in `socket.rooms`. Lookups (`io.to(room)`) answer at once from a
// mirror kept here, as Socket.IO's in-memory adapter does.
import { LocalRooms, type Room, type RoomAdapter, type SocketId } from '../socketio/rooms.js'

/**
 * How the registry moves a socket's hub member. Each move runs after the socket's earlier requests, in order,
 * and resolves with whether the member is in the room afterwards, or null when the socket has no hub member
 * (not yet, or no longer). Never rejects.
 */
export interface HubRoomMoves {
  join(id: SocketId, room: Room): Promise<boolean | null>
  leave(id: SocketId, room: Room): Promise<boolean | null>
  /** Whether the socket has a hub member; before it has one, its moves wait for it. */
  isMember(id: SocketId): boolean
  /** The socket is gone: moves still waiting for its hub member resolve with null. */
  forget(id: SocketId): void
}

export class HubRooms implements RoomAdapter {
  readonly #mirror = new LocalRooms()
  readonly #moves: HubRoomMoves

  constructor(moves: HubRoomMoves) {
    this.#moves = moves
  }

  get rooms(): ReadonlyMap<Room, ReadonlySet<SocketId>> {
    return this.#mirror.rooms
  }

  addAll(id: SocketId, rooms: Iterable<Room>): void | Promise<void> {
    const joining: Promise<void>[] = []
    for (const room of rooms) {
      // The room named by the socket's id is Socket.IO's own; the hub never hears of it.
      if (room === id) {
        this.#mirror.addAll(id, [room])
        continue
      }
      // In the mirror at once, so `socket.join(room); io.to(room).emit(…)` reaches the socket, as with Socket.IO;
      // then whatever the hub decided, in the order of the socket's requests. A socket that is not a hub member
      // yet (in the namespace's middleware) is not in its own room yet either, so #record would not add it.
      const member = this.#moves.isMember(id)
      if (member) this.#record(id, room, true)
      else if (!this.#isAnotherSocket(id, room)) this.#mirror.addAll(id, [room])
      const joined = this.#moves.join(id, room).then((inRoom) => this.#record(id, room, inRoom === true))
      // Before it is a member the join waits for the connection, which waits for the middleware: nobody may
      // await it there.
      if (member) joining.push(joined)
    }
    if (joining.length > 0) return Promise.all(joining).then(() => undefined)
  }

  del(id: SocketId, room: Room): void | Promise<void> {
    this.#mirror.del(id, room)
    if (room === id) return
    const member = this.#moves.isMember(id)
    const left = this.#moves.leave(id, room).then((inRoom) => this.#record(id, room, inRoom === true))
    // Before the socket is a hub member nobody may await the move, as in addAll.
    if (member) return left
  }

  // The socket is gone; its hub session leaves every room as it detaches.
  delAll(id: SocketId): void {
    this.#mirror.delAll(id)
    this.#moves.forget(id)
  }

  roomsOf(id: SocketId): ReadonlySet<Room> {
    return this.#mirror.roomsOf(id)
  }

  socketsIn(rooms: ReadonlySet<Room>, except: ReadonlySet<Room>): Set<SocketId> {
    return this.#mirror.socketsIn(rooms, except)
  }

  /** Records a hub join the client made itself with its `join` event. */
  joined(id: SocketId, room: Room): void {
    this.#record(id, room, true)
  }

  /** Records a hub leave the client made itself with its `leave` event. */
  left(id: SocketId, room: Room): void {
    this.#record(id, room, false)
  }

  #record(id: SocketId, room: Room, inRoom: boolean): void {
    // A hub room may be named like another socket's id; it never joins that socket's own Socket.IO room, or
    // `io.to(otherId)` would reach this socket too.
    if (inRoom && !this.#isAnotherSocket(id, room) && this.#mirror.roomsOf(id).has(id)) {
      this.#mirror.addAll(id, [room])
    } else {
      this.#mirror.del(id, room)
    }
  }

  // Every live socket is in the room named by its id.
  #isAnotherSocket(id: SocketId, room: Room): boolean {
    return room !== id && this.#mirror.roomsOf(room).has(room)
  }
}
