// What one socket sends (Socket.IO protocol v5 §Exchange protocol, §Acknowledgement): the CONNECT answer or
// refusal, its events with or without an ack, and packets encoded once for many sockets.
import type { AckCallback, AckRegistry, ErrorFirstAckCallback } from './acks.js'
import { checkEventName } from './broadcast.js'
import { type EncodedPacket, type EventArguments, encodePacket, PacketType } from './codec/index.js'
import type { OutgoingPacket, SocketIOConnection } from './connection.js'
import type { SocketHost, SocketState } from './socket-types.js'

/** How an event goes out: `socket.volatile` and `socket.timeout(ms)` set these. @internal */
export interface EmitFlags {
  volatile: boolean
  timeoutMs: number | undefined
}

/** The flags of a plain `emit`. @internal */
export const plain: EmitFlags = { volatile: false, timeoutMs: undefined }

interface EarlyPacket {
  encoded: OutgoingPacket
  seq: number | undefined
}

const noEarlyPackets: readonly EarlyPacket[] = []

/**
 * The sending half of one socket, driven by `Socket`. The socket keeps its state and passes it with each
 * call: one state machine, in one place, and no callback to read it. @internal
 */
export class SocketOutbox {
  readonly #id: string
  readonly #host: SocketHost<unknown>
  readonly #connection: SocketIOConnection
  // Shared with the socket, which settles and fails the acks registered here.
  readonly #acks: AckRegistry
  // Packets emitted while the middleware runs go out after the CONNECT answer; made on first use.
  #early: EarlyPacket[] | null = null
  #replayFrom: number | null

  constructor(
    id: string,
    host: SocketHost<unknown>,
    connection: SocketIOConnection,
    acks: AckRegistry,
    replayFrom: number | null,
  ) {
    this.#id = id
    this.#host = host
    this.#connection = connection
    this.#acks = acks
    this.#replayFrom = replayFrom
  }

  /**
   * Where a replay for this socket starts (`emptyOffsetSeq`): what its restored session said, or just before
   * the first stored event it was sent; null while neither is known.
   */
  get replayFrom(): number | null {
    return this.#replayFrom
  }

  /** Sends an event; a function as the last argument asks for an ack. False when the event was dropped. */
  emit(event: string, args: readonly unknown[], flags: EmitFlags, state: SocketState): boolean {
    const list = [event, ...args] as EventArguments
    const last = list[list.length - 1]
    if (typeof last !== 'function') return this.emitEvent(list, flags, undefined, false, state)
    list.pop()
    return this.emitEvent(list, flags, last as AckCallback, flags.timeoutMs !== undefined, state)
  }

  /** Sends an event and resolves with the first argument of its ack, or rejects. */
  emitWithAck<Result>(
    event: string,
    args: readonly unknown[],
    flags: EmitFlags,
    state: SocketState,
  ): Promise<Result> {
    return new Promise((resolve, reject) => {
      const callback: ErrorFirstAckCallback = (error, reply) =>
        error ? reject(error) : resolve(reply as Result)
      this.emitEvent([event, ...args] as EventArguments, flags, callback, true, state)
    })
  }

  /** Sends an event whose ack, if any, is split off already; `errorFirst` gives the ack an error first. */
  emitEvent(
    args: EventArguments,
    flags: EmitFlags,
    ack: AckCallback | ErrorFirstAckCallback | undefined,
    errorFirst: boolean,
    state: SocketState,
  ): boolean {
    checkEventName(args[0])
    if (state === 'disconnected') {
      if (ack && errorFirst) queueMicrotask(() => (ack as ErrorFirstAckCallback)(disconnectedError()))
      return false
    }
    const namespace = this.#host.name
    if (ack === undefined && !flags.volatile && this.#host.recovery && state === 'connected') {
      // Stored with an offset like any broadcast, so that the client can get it back after a reconnection.
      this.#host.broadcast(args, { rooms: new Set([this.#id]), except: new Set(), volatile: false })
      return true
    }
    if (!ack)
      return this.send(
        encodePacket({ type: PacketType.Event, namespace, data: args }),
        flags.volatile,
        undefined,
        state,
      )
    const id = this.#acks.register(ack, flags.timeoutMs, errorFirst)
    let encoded: EncodedPacket
    try {
      encoded = encodePacket({ type: PacketType.Event, namespace, data: args, id })
    } catch (error) {
      // Arguments JSON cannot carry: the caller hears of it now, and no ack waits for an event never sent.
      this.#acks.forget(id)
      throw error
    }
    return this.send(encoded, flags.volatile, undefined, state)
  }

  /** Sends an encoded packet; `seq` is its recovery number. False when it was dropped. */
  send(encoded: OutgoingPacket, volatile: boolean, seq: number | undefined, state: SocketState): boolean {
    if (volatile && !(state === 'connected' && this.#connection.writable)) return false
    if (state === 'disconnected') return false
    if (state === 'connecting') {
      this.#early ??= []
      this.#early.push({ encoded, seq })
      return true
    }
    if (seq !== undefined && this.#replayFrom === null) this.#replayFrom = seq - 1
    return this.#connection.send(encoded)
  }

  /**
   * Answers CONNECT and sends the events a recovered socket missed; then hands over what was emitted while
   * the middleware ran, for the socket to send now that it is connected.
   */
  connect(pid: string | undefined, missed: readonly unknown[][]): readonly EarlyPacket[] {
    const namespace = this.#host.name
    const data = pid === undefined ? { sid: this.#id } : { sid: this.#id, pid }
    this.#connection.sendPacket({ type: PacketType.Connect, namespace, data })
    // The CONNECT answer leaves now, in a write of its own, before the `connection` handlers run, and what
    // they emit follows a moment later in another: the client hears it without waiting for them, and a client
    // that takes one message per wake-up (the official protocol test suite's does) does not lose theirs.
    this.#connection.flush()
    for (const args of missed) {
      this.#connection.sendPacket({ type: PacketType.Event, namespace, data: args as EventArguments })
    }
    const early = this.#early ?? noEarlyPackets
    this.#early = null
    return early
  }

  /** Answers CONNECT_ERROR; what was emitted while the middleware ran is dropped. */
  refuse(error: { message: string; data?: unknown }): void {
    const data =
      error.data === undefined ? { message: error.message } : { message: error.message, data: error.data }
    this.#connection.sendPacket({ type: PacketType.ConnectError, namespace: this.#host.name, data })
    this.dropEarly()
  }

  /** Drops what was emitted while the middleware ran: the socket ended before it connected. */
  dropEarly(): void {
    this.#early = null
  }
}

function disconnectedError(): Error {
  return new Error('socket has been disconnected')
}
