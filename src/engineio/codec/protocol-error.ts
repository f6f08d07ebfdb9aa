// The errors of the Engine.IO layer (Engine.IO protocol v4): the protocol's numbered HTTP errors, sent as
// `{"code": N, "message": "..."}`, and the violations our codec finds in packets and payloads.
import { SwitchboardError } from '../../errors.js'

/** The error codes of the Engine.IO protocol, sent in the JSON body of a refused HTTP request. */
export const EngineErrorCode = {
  UnknownTransport: 0,
  UnknownSid: 1,
  BadHandshakeMethod: 2,
  BadRequest: 3,
  Forbidden: 4,
  UnsupportedProtocolVersion: 5,
} as const
export type EngineErrorCode = (typeof EngineErrorCode)[keyof typeof EngineErrorCode]

/** The message that goes with each code, word for word as Engine.IO servers send it (clients may show it). */
export const engineErrorMessages = {
  0: 'Transport unknown',
  1: 'Session ID unknown',
  2: 'Bad handshake method',
  3: 'Bad request',
  4: 'Forbidden',
  5: 'Unsupported protocol version',
} as const satisfies Record<EngineErrorCode, string>

/** Stable codes for every violation the Engine.IO layer detects. */
export type EioViolation =
  | 'eio-unknown-transport'
  | 'eio-unsupported-version'
  | 'eio-unknown-sid'
  | 'eio-bad-handshake-method'
  | 'eio-bad-method'
  | 'eio-transport-mismatch'
  | 'eio-upgrade-refused'
  | 'eio-forbidden-origin'
  | 'eio-forbidden'
  | 'eio-concurrent-poll'
  | 'eio-concurrent-post'
  | 'eio-payload-too-large'
  | 'eio-binary-body'
  | 'eio-empty-payload'
  | 'eio-empty-packet'
  | 'eio-unknown-packet-type'
  | 'eio-invalid-base64'
  | 'eio-invalid-utf8'
  | 'eio-unexpected-packet'

/**
 * A request or packet the protocol does not allow. `httpStatus` and `engineCode` go straight onto the wire
 * when the violation arrived over HTTP; over WebSocket the session is closed instead.
 */
export class EngineIOProtocolError extends SwitchboardError {
  readonly httpStatus: number
  readonly engineCode: EngineErrorCode
  declare readonly code: EioViolation

  /** @param httpStatus defaults to 403 for Forbidden and 400 for every other code, as the protocol answers. */
  constructor(code: EioViolation, engineCode: EngineErrorCode, detail: string, httpStatus?: number) {
    super(code, detail)
    this.engineCode = engineCode
    this.httpStatus = httpStatus ?? (engineCode === EngineErrorCode.Forbidden ? 403 : 400)
  }

  /** The JSON body of the HTTP answer: `{"code":N,"message":"..."}`. */
  get body(): string {
    return JSON.stringify({ code: this.engineCode, message: engineErrorMessages[this.engineCode] })
  }
}

/** A violation of the packet or payload grammar: always "Bad request" (code 3) over HTTP. */
export function badPacket(code: EioViolation, detail: string): EngineIOProtocolError {
  return new EngineIOProtocolError(code, EngineErrorCode.BadRequest, detail)
}
