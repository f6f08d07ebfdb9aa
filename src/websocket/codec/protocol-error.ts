// The value a WebSocket codec returns for hostile or broken input, carrying the close code to send.
import { SwitchboardError } from '../../errors.js'

/** Stable codes for every violation the WebSocket layer detects. */
export type WsViolation =
  | 'ws-reserved-bits'
  | 'ws-reserved-opcode'
  | 'ws-fragmented-control-frame'
  | 'ws-control-frame-too-long'
  | 'ws-unmasked-client-frame'
  | 'ws-masked-server-frame'
  | 'ws-unexpected-continuation'
  | 'ws-expected-continuation'
  | 'ws-length-too-large'
  | 'ws-message-too-big'
  | 'ws-too-many-fragments'
  | 'ws-invalid-utf8'
  | 'ws-invalid-close-code'
  | 'ws-close-body-too-short'
  | 'ws-inflate-failed'
  | 'ws-deflate-failed'
  | 'ws-send-queue-full'
  | 'ws-ping-timeout'
  | 'ws-close-timeout'

/** A protocol violation; `closeCode` goes straight onto the wire in the close frame. */
export class WebSocketProtocolError extends SwitchboardError {
  readonly closeCode: number
  declare readonly code: WsViolation

  constructor(code: WsViolation, closeCode: number, detail: string) {
    super(code, detail)
    this.closeCode = closeCode
  }
}
