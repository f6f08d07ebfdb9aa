// Close status codes and the close frame's body (RFC 6455 §5.5.1, §7.4).
import { WebSocketProtocolError } from './protocol-error.js'
import { validateUtf8 } from './utf8.js'

/** Registered close codes (RFC 6455 §7.4.1 and the IANA registry). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  NoStatus: 1005,
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
  TlsHandshake: 1015,
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

/** The longest close reason in bytes: a control frame carries at most 125 bytes, two of them the code. */
export const maxCloseReasonBytes = 123

/**
 * Whether a code may appear in a close frame on the wire (§7.4.1–7.4.2): the registered codes that are
 * not reserved for local use (1004, 1005, 1006, 1015), and the 3000–4999 ranges for libraries and apps.
 */
export function isValidWireCloseCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
}

/** A decoded close frame body; an empty body yields 1005 (§7.1.5) with an empty reason. */
export interface CloseBody {
  code: number
  reason: string
}

const strictDecoder = new TextDecoder('utf-8', { fatal: true })

/** Parses a close frame payload: 0 bytes, or a valid code followed by a UTF-8 reason. */
export function parseCloseBody(payload: Uint8Array): CloseBody | WebSocketProtocolError {
  if (payload.length === 0) return { code: CloseCode.NoStatus, reason: '' }
  if (payload.length === 1) {
    return new WebSocketProtocolError(
      'ws-close-body-too-short',
      CloseCode.ProtocolError,
      'a close body of 1 byte',
    )
  }
  const code = (payload[0] << 8) | payload[1]
  if (!isValidWireCloseCode(code)) {
    return new WebSocketProtocolError('ws-invalid-close-code', CloseCode.ProtocolError, `close code ${code}`)
  }
  const reasonBytes = payload.subarray(2)
  if (!validateUtf8(reasonBytes)) {
    return new WebSocketProtocolError(
      'ws-invalid-utf8',
      CloseCode.InvalidPayload,
      'close reason is not UTF-8',
    )
  }
  return { code, reason: strictDecoder.decode(reasonBytes) }
}

const encoder = new TextEncoder()

/** Encodes a close body; the caller has already checked the code and the reason's length. */
export function encodeCloseBody(code: number | undefined, reason: string | Uint8Array = ''): Uint8Array {
  if (code === undefined) return new Uint8Array(0)
  const reasonBytes = typeof reason === 'string' ? encoder.encode(reason) : reason
  const body = new Uint8Array(2 + reasonBytes.length)
  body[0] = code >> 8
  body[1] = code & 0xff
  body.set(reasonBytes, 2)
  return body
}
