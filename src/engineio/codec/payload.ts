// Polling payloads (Engine.IO protocol v4 §Packet encoding/HTTP long-polling): packets joined by the record
// separator \x1e, binary messages as `b` and base64. The whole body is UTF-8 text.
import { decodeBase64, encodeBase64 } from './base64.js'
import { decodeTextPacket, encodePacket, isBinaryPacket, type Packet, PacketType } from './packet.js'
import { badPacket, EngineIOProtocolError } from './protocol-error.js'

/** The character between two packets of a payload. */
export const recordSeparator = '\x1e'
const binaryPrefix = 'b'
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Joins packets into one payload. The protocol assumes no text packet contains the record separator (JSON
 * never does: it escapes every control character); one that does reaches the peer as two packets.
 */
export function encodePayload(packets: readonly Packet[]): string {
  let body = ''
  for (let i = 0; i < packets.length; i++) {
    const packet = packets[i]
    if (i > 0) body += recordSeparator
    body += isBinaryPacket(packet)
      ? binaryPrefix + encodeBase64(packet.data)
      : (encodePacket(packet) as string)
  }
  return body
}

/** Splits a payload into its packets, or returns the first violation; never throws. */
export function decodePayload(body: string): Packet[] | EngineIOProtocolError {
  if (body.length === 0) return badPacket('eio-empty-payload', 'an empty payload holds no packet')
  const packets: Packet[] = []
  for (const part of body.split(recordSeparator)) {
    const packet = part.startsWith(binaryPrefix) ? decodeBinary(part) : decodeTextPacket(part)
    if (packet instanceof EngineIOProtocolError) return packet
    packets.push(packet)
  }
  return packets
}

/** Decodes a payload from the bytes of an HTTP body, which must be UTF-8. */
export function decodePayloadBytes(body: Uint8Array): Packet[] | EngineIOProtocolError {
  let text: string
  try {
    text = utf8.decode(body)
  } catch {
    // TextDecoder's only failure in fatal mode is bytes that are not UTF-8.
    return badPacket('eio-invalid-utf8', 'the payload is not UTF-8')
  }
  return decodePayload(text)
}

function decodeBinary(part: string): Packet | EngineIOProtocolError {
  const data = decodeBase64(part.slice(1))
  if (data === null) return badPacket('eio-invalid-base64', 'a binary packet is not base64 after its "b"')
  return { type: PacketType.Message, data }
}
