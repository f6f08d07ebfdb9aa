// The room registry of the main namespace under `switchboard serve`: Socket.IO rooms that are hub rooms.
// Server code that calls `socket.join(room)` joins the socket's hub member to that room, so TCP, UDP and
// WebSocket members see it arrive in presence and it receives the room's messages as `message` events; a join
// made with the client's own `join` event shows in `socket.rooms`. Lookups (`io.to(room)`) answer at once from a
// mirror kept here, as Socket.IO's in-memory adapter does.
import { LocalRooms, type Room, type RoomAdapter, type SocketId } from '../socketio/rooms.js'

/** How the registry moves a socket's hub member; both run after the socket's earlier requests, in order. */
export interface HubRoomMoves {
  /** Joins the hub room; resolves false when the hub refused (a bad name, a limit). Never rejects. */
  join(id: SocketId, room: Room): Promise<boolean>
  /** Leaves the hub room. Never rejects. */
  leave(id: SocketId, room: Room): Promise<void>
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
      if (room === id || this.#mirror.roomsOf(id).has(room)) {
        this.#mirror.addAll(id, [room])
        continue
      }
      // In the mirror at once, so `socket.join(room); io.to(room).emit(…)` reaches the socket, as with Socket.IO;
      // taken back out if the hub refuses.
      this.#mirror.addAll(id, [room])
      joining.push(
        this.#moves.join(id, room).then((joined) => {
          if (!joined) this.#mirror.del(id, room)
        }),
      )
    }
    if (joining.length > 0) return Promise.all(joining).then(() => undefined)
  }

  del(id: SocketId, room: Room): void | Promise<void> {
    if (!this.#mirror.roomsOf(id).has(room)) return
    this.#mirror.del(id, room)
    if (room !== id) return this.#moves.leave(id, room)
  }

  // The socket is gone; its hub session leaves every room as it detaches.
  delAll(id: SocketId): void {
    this.#mirror.delAll(id)
  }

  roomsOf(id: SocketId): ReadonlySet<Room> {
    return this.#mirror.roomsOf(id)
  }

  socketsIn(rooms: ReadonlySet<Room>, except: ReadonlySet<Room>): Set<SocketId> {
    return this.#mirror.socketsIn(rooms, except)
  }

  /** Records a hub join the client made itself with its `join` event. */
  joined(id: SocketId, room: Room): void {
    this.#mirror.addAll(id, [room])
  }

  /** Records a hub leave the client made itself with its `leave` event. */
  left(id: SocketId, room: Room): void {
    this.#mirror.del(id, room)
  }
}
