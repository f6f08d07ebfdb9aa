// The pure Socket.IO v5 codec, shared with the browser client: packet.ts encodes packets (and holds the
// packet types and errors); attachments.ts holds PacketDecoder, which joins text packets to their attachments.
export { type PacketDecoderOptions, PacketDecoder, packetDecoderDefaults } from './attachments.js'
export {
  type AckPacket,
  type ConnectErrorPacket,
  type ConnectPacket,
  type DisconnectPacket,
  type EncodedPacket,
  type EventArguments,
  type EventPacket,
  encodePacket,
  isReservedEventName,
  type Packet,
  PacketType,
  SocketIOProtocolError,
  type SocketIOViolation,
} from './packet.js'
