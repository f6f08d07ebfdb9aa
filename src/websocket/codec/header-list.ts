// The list syntax of Sec-WebSocket-Extensions (RFC 6455 §9.1, RFC 7230 §3.2.6): tokens, parameters
// and quoted strings.

/** One list element: a name and its `key[=value]` parameters in order (`true` for a bare key). */
export interface HeaderListItem {
  name: string
  params: Array<[string, string | true]>
}

const tokenPattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** True for an RFC 7230 token. */
export function isToken(value: string): boolean {
  return tokenPattern.test(value)
}

/** Splits `a; x=1, b` into items; null when any part is not a token or a well-formed quoted string. */
export function parseHeaderList(header: string): HeaderListItem[] | null {
  const items: HeaderListItem[] = []
  for (const element of splitOutsideQuotes(header, ',')) {
    if (element === null) return null
    if (element.trim() === '') continue
    const [first, ...rest] = splitOutsideQuotes(element, ';') as string[]
    const name = first.trim()
    if (!isToken(name)) return null
    const params: Array<[string, string | true]> = []
    for (const part of rest) {
      const eq = part.indexOf('=')
      const key = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase()
      if (!isToken(key)) return null
      if (eq === -1) {
        params.push([key, true])
        continue
      }
      let value = part.slice(eq + 1).trim()
      if (value.startsWith('"')) {
        if (value.length < 2 || !value.endsWith('"')) return null
        value = value.slice(1, -1).replace(/\\(.)/g, '$1')
      }
      // RFC 6455 §9.1: a quoted value must still be a token once unquoted.
      if (!isToken(value)) return null
      params.push([key, value])
    }
    items.push({ name, params })
  }
  return items
}

function splitOutsideQuotes(text: string, separator: string): Array<string | null> {
  const parts: Array<string | null> = []
  let start = 0
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted && c === '\\') i++
    else if (c === '"') quoted = !quoted
    else if (!quoted && c === separator) {
      parts.push(text.slice(start, i))
      start = i + 1
    }
  }
  parts.push(quoted ? null : text.slice(start))
  return parts
}
