// JSON.stringify for an event's arguments, byte for byte, with a shortcut for long strings: V8's
// JSON.stringify (Node 20) escapes a string one character at a time, about 20 µs for 16 KiB, while a string
// that needs no escape can be found with native searches in about 3 µs and then only needs its quotes.

// Below this length JSON.stringify is as fast as the searches.
const longString = 256

const controls = Array.from({ length: 0x20 }, (_, code) => String.fromCharCode(code))

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
 * `JSON.stringify(values)` for an array that holds no bytes, the same text, quicker when it holds long
 * strings. Elements with a `toJSON` send the whole array through JSON.stringify, since their key would
 * differ.
 */
export function stringifyArray(values: readonly unknown[]): string {
  let long = false
  for (const value of values) {
    if (typeof value === 'string') {
      if (value.length >= longString) long = true
    } else if (typeof value === 'object' && value !== null && 'toJSON' in value) {
      return JSON.stringify(values)
    }
  }
  if (!long) return JSON.stringify(values)
  let json = '['
  for (let i = 0; i < values.length; i++) {
    if (i > 0) json += ','
    json += stringifyElement(values[i])
  }
  return `${json}]`
}

function stringifyElement(value: unknown): string {
  if (typeof value === 'string' && value.length >= longString && isPlainJsonString(value)) {
    return `"${value}"`
  }
  // An array writes null where JSON.stringify alone gives undefined (undefined, functions, symbols).
  return JSON.stringify(value) ?? 'null'
}
