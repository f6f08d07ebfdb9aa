// The root of every error switchboard raises or returns: a stable machine-readable `code` beside the human detail.

/** An error with a stable `code` string that callers compare instead of the message. */
export class SwitchboardError extends Error {
  /** Stable identifier, e.g. `ws-masked-server-frame`. */
  readonly code: string

  constructor(code: string, detail: string) {
    super(detail)
    this.code = code
    this.name = new.target.name
  }
}

/** Builds a `RangeError` carrying a `code`, for misuse of our own API. */
export function rangeError(code: string, detail: string): RangeError & { code: string } {
  return Object.assign(new RangeError(detail), { code })
}

/** Builds a `TypeError` carrying a `code`, for a value of the wrong type passed to our API. */
export function typeError(code: string, detail: string): TypeError & { code: string } {
  return Object.assign(new TypeError(detail), { code })
}
