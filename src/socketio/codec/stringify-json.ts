// JSON.stringify for an event's arguments, byte for byte, with a shortcut for long strings: V8's
// JSON.stringify (Node 20) escapes a string one character at a time, about 20 µs for 16 KiB, while a string
// that needs no escape can be found with native searches in about 3 µs and then only needs its quotes.

/** Strings at least this long take the shortcut; below it JSON.stringify is as fast as the searches. */
export const longStringLength = 256

// Line breaks and tabs first: they are the control characters text holds, so a string with one fails early.
const controls = [0x0a, 0x0d, 0x09, ...Array.from({ length: 0x20 }, (_, code) => code)]
  .filter((code, i, all) => all.indexOf(code) === i)
  .map((code) => String.fromCharCode(code))

// String.prototype.isWellFormed (ES2024) is in Node 20 and current browsers; without it, no shortcut.
const isWellFormed: ((s: string) => boolean) | undefined =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (s) => (s as string & { isWellFormed(): boolean }).isWellFormed()
    : undefined

/**
 * Whether `JSON.stringify(s)` is `s` between quotes: no quote, backslash or control character to escape,
 * and no lone surrogate (which JSON.stringify writes as `\udXXX`).
 */
export function isPlainJsonString(s: string): boolean {
  if (isWellFormed === undefined || s.indexOf('"') !== -1 || s.indexOf('\\') !== -1) return false
  for (const control of controls) if (s.indexOf(control) !== -1) return false
  return isWellFormed(s)
}

/**
 * `JSON.stringify(value)`, the same text, quicker when `value` holds long strings. Only for acyclic values
 * with no `toJSON` anywhere (the encoder's scan has checked), as the walk neither calls one nor tracks cycles.
 */
export function stringifyJson(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value.length >= longStringLength && isPlainJsonString(value)
        ? `"${value}"`
        : JSON.stringify(value)
    case 'object': {
      if (value === null) return 'null'
      if (Array.isArray(value)) return stringifyArray(value)
      // Only plain objects are walked; anything else (a boxed primitive from any realm, a class instance, a
      // Map, JSON.rawJSON's output) goes to JSON.stringify, which knows its rules.
      const prototype = Object.getPrototypeOf(value)
      if (prototype !== Object.prototype && prototype !== null) return JSON.stringify(value)
      return stringifyObject(value as Record<string, unknown>)
    }
    default:
      // Numbers, booleans; undefined, functions and symbols give undefined; a BigInt throws, as it should.
      return JSON.stringify(value)
  }
}

function stringifyArray(values: readonly unknown[]): string {
  let json = '['
  for (let i = 0; i < values.length; i++) {
    if (i > 0) json += ','
    // An array writes null where JSON.stringify alone gives undefined (undefined, functions, symbols).
    json += stringifyJson(values[i]) ?? 'null'
  }
  return `${json}]`
}

function stringifyObject(object: Record<string, unknown>): string {
  let json = '{'
  // Object.keys lists what JSON.stringify writes (own enumerable string keys), in the same order.
  for (const key of Object.keys(object)) {
    const item = stringifyJson(object[key])
    if (item === undefined) continue
    if (json.length > 1) json += ','
    json += `${JSON.stringify(key)}:${item}`
  }
  return `${json}}`
}
