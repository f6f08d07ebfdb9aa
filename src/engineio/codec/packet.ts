// Engine.IO packets (Engine.IO protocol v4 §Protocol, §Packet encoding/WebSocket): a type digit and its data,
// one packet per WebSocket message; binary data travels as the bare bytes of a binary message.
import { badPacket, type EngineIOProtocolError } from './protocol-error.js'

/** The packet types of the protocol, by their digit on the wire. */
export const PacketType = { Open: 0, Close: 1, Ping: 2, Pong: 3, Message: 4, Upgrade: 5, Noop: 6 } as const
export type PacketType = (typeof PacketType)[keyof typeof PacketType]

/** A packet with text data ('' when it carries none). */
export interface TextPacket {
  type: PacketType
  data: string
}

/** A message packet carrying bytes. */
export interface BinaryPacket {
  type: typeof PacketType.Message
  data: Uint8Array
}

/** One Engine.IO packet; only a message may carry bytes. */
export type Packet = TextPacket | BinaryPacket

/** What the server announces in its open packet (§Handshake); times in milliseconds, sizes in bytes. */
export interface Handshake {
  sid: string
  upgrades: string[]
  pingInterval: number
  pingTimeout: number
  maxPayload: number
}

const digitZero = 0x30

/** Whether a packet carries bytes rather than text. */
export function isBinaryPacket(packet: Packet): packet is BinaryPacket {
  return typeof packet.data !== 'string'
}

/** The open packet: `0` followed by the handshake as JSON, keys in the protocol's order. */
export function openPacket(handshake: Handshake): TextPacket {
  const { sid, upgrades, pingInterval, pingTimeout, maxPayload } = handshake
  return {
    type: PacketType.Open,
    data: JSON.stringify({ sid, upgrades, pingInterval, pingTimeout, maxPayload }),
  }
}

/**
 * Decodes a packet from text: a type digit 0–6, then any data. The grammar (`<packet type>[<data>]`) allows
 * data after every type, so `1x` is a close packet with data `x`; whether a type is welcome is the session's call.
 */
export function decodeTextPacket(text: string): TextPacket | EngineIOProtocolError {
  if (text.length === 0) return badPacket('eio-empty-packet', 'an empty packet has no type')
  const type = text.charCodeAt(0) - digitZero
  if (!isPacketType(type)) {
    return badPacket('eio-unknown-packet-type', `packet type ${JSON.stringify(text[0])} is not one of 0–6`)
  }
  return { type, data: text.slice(1) }
}

/** Decodes one WebSocket message: text is a typed packet, bytes are a message packet as they are. */
export function decodePacket(data: string | Uint8Array): Packet | EngineIOProtocolError {
  if (typeof data === 'string') return decodeTextPacket(data)
  return { type: PacketType.Message, data }
}

/** Encodes a packet for one WebSocket message: the type digit and text, or a message's bytes unchanged. */
export function encodePacket(packet: Packet): string | Uint8Array {
  if (isBinaryPacket(packet)) return packet.data
  return String.fromCharCode(digitZero + packet.type) + packet.data
}

function isPacketType(value: number): value is PacketType {
  return value >= PacketType.Open && value <= PacketType.Noop
}
