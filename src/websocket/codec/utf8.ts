// Incremental UTF-8 validation that fails on the first byte that cannot lead to a valid sequence
// (the WHATWG decoder's bounds, which match RFC 3629: no overlongs, surrogates or code points past U+10FFFF).

/** Validates a whole sequence of bytes at once; `(bytes) => boolean`. */
export type Utf8Check = (bytes: Uint8Array) => boolean

// Below this many bytes the JavaScript loop beats the call into a native checker.
const fastPathMinBytes = 256

/**
 * Validates UTF-8 fed in arbitrary pieces. `push` returns false as soon as the bytes seen so far can no
 * longer be the start of valid UTF-8; `end` returns false if a sequence is left unfinished.
 */
export class Utf8Validator {
  #remaining = 0
  #lower = 0x80
  #upper = 0xbf
  #failed = false
  readonly #check: Utf8Check | undefined

  /** @param check an optional native whole-buffer validator (Node's `buffer.isUtf8`) for long runs */
  constructor(check?: Utf8Check) {
    this.#check = check
  }

  /** Feeds more bytes; false once the input is invalid. */
  push(bytes: Uint8Array): boolean {
    if (this.#failed) return false
    let i = 0
    const n = bytes.length
    while (this.#remaining > 0 && i < n) {
      if (!this.#step(bytes[i])) return this.#fail()
      i++
    }
    const split = this.#check && n - i >= fastPathMinBytes ? lastBoundary(bytes, i) : i
    if (split > i && !this.#check!(bytes.subarray(i, split))) return this.#fail()
    for (let j = split; j < n; j++) {
      const b = bytes[j]
      if (this.#remaining === 0 && b < 0x80) continue
      if (!this.#step(b)) return this.#fail()
    }
    return true
  }

  /** True when everything pushed formed complete, valid sequences. */
  end(): boolean {
    return !this.#failed && this.#remaining === 0
  }

  /** Forgets all state, ready for the next message. */
  reset(): void {
    this.#remaining = 0
    this.#lower = 0x80
    this.#upper = 0xbf
    this.#failed = false
  }

  #fail(): false {
    this.#failed = true
    return false
  }

  #step(b: number): boolean {
    if (this.#remaining > 0) {
      if (b < this.#lower || b > this.#upper) return false
      this.#remaining--
      this.#lower = 0x80
      this.#upper = 0xbf
      return true
    }
    if (b < 0x80) return true
    if (b >= 0xc2 && b <= 0xdf) return this.#expect(1, 0x80, 0xbf)
    if (b === 0xe0) return this.#expect(2, 0xa0, 0xbf)
    if (b === 0xed) return this.#expect(2, 0x80, 0x9f)
    if (b >= 0xe1 && b <= 0xef) return this.#expect(2, 0x80, 0xbf)
    if (b === 0xf0) return this.#expect(3, 0x90, 0xbf)
    if (b === 0xf4) return this.#expect(3, 0x80, 0x8f)
    if (b >= 0xf1 && b <= 0xf3) return this.#expect(3, 0x80, 0xbf)
    return false
  }

  #expect(remaining: number, lower: number, upper: number): true {
    this.#remaining = remaining
    this.#lower = lower
    this.#upper = upper
    return true
  }
}

// The index where the last, possibly unfinished, sequence starts; the bytes before it can be checked whole.
function lastBoundary(bytes: Uint8Array, from: number): number {
  const n = bytes.length
  let p = n - 1
  while (p > from && n - p < 4 && (bytes[p] & 0xc0) === 0x80) p--
  const lead = bytes[p]
  const length = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1
  return n - p >= length ? n : p
}

/** Validates a complete byte sequence. */
export function validateUtf8(bytes: Uint8Array, check?: Utf8Check): boolean {
  const validator = new Utf8Validator(check)
  return validator.push(bytes) && validator.end()
}
