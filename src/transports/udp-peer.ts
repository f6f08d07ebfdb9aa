// One UDP peer, an address:port that joined, as a hub member (docs/udp.md), with the text-command context
// its lines run in: the line protocol's commands, as UDP departs from them.
import type { RemoteInfo } from 'node:dgram'
import { Disconnect, type DisconnectInfo } from '../hub/disconnect.js'
import type { Hub } from '../hub/hub.js'
import type { Delivery, HubEvent, Member, RoomMessage } from '../hub/member.js'
import type { Session } from '../hub/session.js'
import type { TextCommandContext, TextCommandOptions } from './text-commands.js'
import { newMemberId } from './member-id.js'

/** What a peer needs from the transport that owns it. */
export interface UdpPeerOwner {
  readonly hub: Hub
  /** Sends `event` to `peer` as one datagram, or a notice when it does not fit. */
  deliver(peer: UdpPeer, event: HubEvent): Delivery
  /** Ends `peer`, saying why unless `reason` is null. */
  drop(peer: UdpPeer, reason: DisconnectInfo | null): void
  /** The datagram of a room's message in a `/history` answer: its line, or its notice when too big. */
  encodeMessage(message: RoomMessage): Buffer
}

/** How UDP departs from the text commands of TCP and Unix. */
const udpTextCommands: TextCommandOptions = {
  // Deviation from the line transports: plain text is published with echo on, since over UDP the peer's
  // own line coming back is the only sign that its datagram arrived.
  echo: true,
  // Deviation from the line transports: the join brings no history, so that its answer is one datagram
  // (and a forged /join cannot make us send a room's history to someone else).
  joinHistory: 'count',
  notInRoomMessage: 'join a room first: /join ROOM',
}

/** One address:port that joined. Its datagrams are handled one at a time, in order of arrival. */
export class UdpPeer implements Member {
  readonly id = newMemberId('udp')
  readonly transport = 'udp'
  readonly remoteAddress: string
  /** Where its datagrams go: `remoteAddress` and `port`. */
  readonly address: string
  readonly port: number
  session: Session | null = null
  /** Whether events go out as JSON: from its first JSON request or /json, until /text. */
  json: boolean
  gone = false
  pending = 0
  chain: Promise<void> = Promise.resolve()
  readonly timer: NodeJS.Timeout
  /** What its text commands need from it. */
  readonly commands: TextCommandContext
  readonly #owner: UdpPeerOwner
  // Where plain text goes: the room joined last.
  #room: string | null = null

  constructor(owner: UdpPeerOwner, from: RemoteInfo, json: boolean, keepaliveTimeoutMs: number) {
    this.#owner = owner
    this.remoteAddress = from.address
    this.address = from.address
    this.port = from.port
    this.json = json
    this.timer = setTimeout(() => owner.drop(this, Disconnect.IdleTimeout), keepaliveTimeoutMs).unref()
    this.commands = {
      hub: owner.hub,
      currentRoom: () => this.#currentRoom(),
      enterRoom: (room) => {
        this.#room = room
      },
      useJson: () => {
        this.json = true
      },
      useText: () => {
        this.json = false
      },
      quit: () => owner.drop(this, Disconnect.Quit),
      encodeMessage: (message) => owner.encodeMessage(message),
      options: udpTextCommands,
    }
  }

  deliver(event: HubEvent): Delivery {
    return this.#owner.deliver(this, event)
  }

  close(reason: DisconnectInfo): void {
    this.#owner.drop(this, reason)
  }

  // The room plain text goes to: the one joined last, or after leaving it (or on joining with /nick, in
  // lobby) the newest of the peer's rooms.
  #currentRoom(): string | null {
    const rooms = this.session?.rooms ?? new Set<string>()
    if (this.#room === null || !rooms.has(this.#room)) this.#room = [...rooms].at(-1) ?? null
    return this.#room
  }
}
