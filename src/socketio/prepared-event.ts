// An event encoded once for sockets the caller picks one by one, as the hub's fan-out hands each member its
// events: the Socket.IO side of WebSocket's `prepareMessage`. Room broadcasts share their encoding on their own.
import { SharedMessage } from '../engineio/shared-message.js'
import { checkEventName } from './broadcast.js'
import { type EventArguments, encodePacket, PacketType } from './codec/index.js'

/** An event of one namespace, encoded, for `socket.emitPrepared`. */
export interface PreparedEvent {
  readonly namespace: string
  readonly args: EventArguments
  readonly parts: readonly SharedMessage[]
}

/** Encodes an event once; throws as `emit` does for a reserved name or arguments JSON cannot carry. */
export function prepareEvent(namespace: string, args: EventArguments): PreparedEvent {
  checkEventName(args[0])
  const encoded = encodePacket({ type: PacketType.Event, namespace, data: args })
  return { namespace, args, parts: encoded.map((part) => new SharedMessage(part)) }
}
