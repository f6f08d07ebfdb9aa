// The value hub operations return for a request that cannot be carried out.
import { SwitchboardError } from '../errors.js'

/** Stable codes of refused hub operations; transports show them as they are. */
export type HubViolation =
  | 'bad-nick'
  | 'nick-taken'
  | 'bad-room'
  | 'not-in-room'
  | 'too-many-rooms'
  | 'no-such-member'
  | 'message-too-big'
  | 'rate-limited'
  | 'bad-request'
  | 'history-unavailable'
  | 'closed'

/**
 * A refused operation. `status` is the HTTP-like status a line client sees in its `ERR` reply and JSON
 * clients in the error object (400 bad input, 403 forbidden, 404 unknown, 409 conflict, 413, 429).
 */
export class HubError extends SwitchboardError {
  declare readonly code: HubViolation
  readonly status: number

  constructor(code: HubViolation, status: number, detail: string) {
    super(code, detail)
    this.status = status
  }
}
