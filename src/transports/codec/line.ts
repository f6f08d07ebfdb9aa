// The line protocol of the TCP and Unix transports: bytes into bounded UTF-8 lines, lines into commands, and
// hub events and replies back into lines a person reads in `nc`. Pure. See docs/line-protocol.md.
import { SwitchboardError } from '../../errors.js'

/** Stable codes of the line protocol's own refusals (hub refusals keep the hub's codes). */
export type LineViolation =
  | 'line-too-long'
  | 'invalid-utf8'
  | 'control-character'
  | 'unknown-command'
  | 'bad-command'

/** A line the protocol refuses; `status` goes straight into the `ERR <status> <code> <message>` reply. */
export class LineProtocolError extends SwitchboardError {
  declare readonly code: LineViolation
  readonly status: number

  constructor(code: LineViolation, status: number, detail: string) {
    super(code, detail)
    this.status = status
  }
}

/** One decoded line: its text, or why it was refused (the connection carries on either way). */
export type DecodedLine = string | LineProtocolError

const LF = 0x0a
const CR = 0x0d
// Fatal: a line that is not UTF-8 is refused, never repaired. ignoreBOM keeps a leading U+FEFF as text.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

type Step = 'reading' | 'discarding'

/**
 * Splits a byte stream into lines ended by LF or CR LF. A line's length, without its ending, is at most
 * `maxLineBytes`; a longer one is answered with one `line-too-long` error as soon as it passes the limit,
 * and its bytes are dropped up to the next LF, so memory stays below `maxLineBytes + 2` whatever arrives.
 */
export class LineDecoder {
  readonly #maxLineBytes: number
  #step: Step = 'reading'
  // The unfinished line: copies of its pieces, and their total length.
  #pending: Uint8Array[] = []
  #pendingBytes = 0

  /** @param maxLineBytes longest line accepted, in bytes, not counting CR LF or LF */
  constructor(maxLineBytes: number) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) {
      throw Object.assign(new RangeError(`maxLineBytes must be a positive integer, not ${maxLineBytes}`), {
        code: 'line-bad-limit',
      })
    }
    this.#maxLineBytes = maxLineBytes
  }

  /** Bytes held for a line not yet ended. */
  get bufferedBytes(): number {
    return this.#pendingBytes
  }

  /** Feeds bytes; returns every line they complete, in order. Never throws. */
  push(chunk: Uint8Array): DecodedLine[] {
    const out: DecodedLine[] = []
    let at = 0
    while (at < chunk.length) {
      switch (this.#step) {
        case 'reading':
          at = this.#readLine(chunk, at, out)
          break
        case 'discarding':
          at = this.#skipLine(chunk, at)
          break
      }
    }
    return out
  }

  /** The end of the stream: a last line without its LF still counts. */
  end(): DecodedLine[] {
    const discarding = this.#step === 'discarding'
    this.#step = 'reading'
    if (discarding || this.#pendingBytes === 0) return []
    return [this.#finish(new Uint8Array(0))]
  }

  #readLine(chunk: Uint8Array, at: number, out: DecodedLine[]): number {
    const lf = chunk.indexOf(LF, at)
    if (lf !== -1) {
      out.push(this.#finish(chunk.subarray(at, lf)))
      return lf + 1
    }
    const piece = chunk.subarray(at)
    // One byte past the limit may still be the CR of a CR LF; two cannot.
    if (this.#pendingBytes + piece.length > this.#maxLineBytes + 1) {
      out.push(this.#tooLong())
      this.#clear()
      this.#step = 'discarding'
    } else {
      this.#pending.push(piece.slice())
      this.#pendingBytes += piece.length
    }
    return chunk.length
  }

  #skipLine(chunk: Uint8Array, at: number): number {
    const lf = chunk.indexOf(LF, at)
    if (lf === -1) return chunk.length
    this.#step = 'reading'
    return lf + 1
  }

  /** Ends the pending line with `tail` (the bytes before its LF). */
  #finish(tail: Uint8Array): DecodedLine {
    let bytes = tail
    if (this.#pendingBytes > 0) {
      this.#pending.push(tail)
      bytes = concat(this.#pending, this.#pendingBytes + tail.length)
      this.#clear()
    }
    const length = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length
    if (length > this.#maxLineBytes) return this.#tooLong()
    try {
      return utf8.decode(bytes.subarray(0, length))
    } catch {
      // The only way a fatal TextDecoder fails is bytes that are not UTF-8.
      return new LineProtocolError('invalid-utf8', 400, 'the line is not valid UTF-8; it was discarded')
    }
  }

  #tooLong(): LineProtocolError {
    return new LineProtocolError(
      'line-too-long',
      413,
      `a line is at most ${this.#maxLineBytes} bytes; the rest of it was discarded`,
    )
  }

  #clear(): void {
    this.#pending = []
    this.#pendingBytes = 0
  }
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** What a text-mode line asks for. */
export type Command =
  | { kind: 'blank' }
  | { kind: 'say'; text: string }
  | { kind: 'me'; text: string }
  | { kind: 'nick'; name: string; key?: string }
  | { kind: 'join'; room: string }
  | { kind: 'leave'; room?: string }
  | { kind: 'rooms' }
  | { kind: 'who'; room?: string }
  | { kind: 'msg'; to: string; text: string }
  | { kind: 'history'; last?: number }
  | { kind: 'help' }
  | { kind: 'quit' }
  | { kind: 'ping' }
  | { kind: 'json' }
  | { kind: 'text' }

/** Every command with its arguments, as `/help` shows them. */
export const commandHelp: readonly string[] = [
  'TEXT               say TEXT in the current room (start it with // to say a line beginning with /)',
  '/me TEXT           act in the current room: * you TEXT',
  '/msg NICK TEXT     say TEXT to NICK alone',
  '/join ROOM         join ROOM (created on first join) and talk there',
  '/leave [ROOM]      leave ROOM, or the current room',
  '/rooms             list rooms with how many people are in each',
  '/who [ROOM]        who is in ROOM, or in the current room',
  '/history [N]       the last N messages of the current room',
  '/nick NAME [KEY]   take a nickname; with the KEY of a connection using it, share it',
  '/ping              answered with PONG; counts as activity for the idle timeout',
  '/json              switch this connection to JSON lines (switchboard.v1); /text switches back',
  '/quit              leave (BYE) and close the connection',
]

const usage: Record<string, string> = {
  me: '/me TEXT',
  msg: '/msg NICK TEXT',
  join: '/join ROOM',
  leave: '/leave [ROOM]',
  rooms: '/rooms',
  who: '/who [ROOM]',
  history: '/history [N]',
  nick: '/nick NAME [KEY]',
  help: '/help',
  quit: '/quit',
  ping: '/ping',
  json: '/json',
  text: '/text',
}

// C0 controls except TAB, DEL, and the C1 controls: what could move a terminal's cursor or end a line.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's job
const controlCharacters = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/
const controlCharactersGlobal = new RegExp(controlCharacters.source, 'g')

/** Parses one text-mode line. Never throws. */
export function parseCommand(line: string): Command | LineProtocolError {
  if (line.trim() === '') return { kind: 'blank' }
  if (controlCharacters.test(line)) {
    return new LineProtocolError(
      'control-character',
      400,
      'a line may not hold control characters (tab is fine); use /json to send any text',
    )
  }
  if (!line.startsWith('/')) return { kind: 'say', text: line }
  // Deviation from nothing in particular, the IRC habit: a doubled slash says the line as text.
  if (line.startsWith('//')) return { kind: 'say', text: line.slice(1) }
  const space = line.search(/[ \t]/)
  const name = (space === -1 ? line.slice(1) : line.slice(1, space)).toLowerCase()
  const rest = space === -1 ? '' : line.slice(space).replace(/^[ \t]+/, '')
  const words = rest === '' ? [] : rest.split(/[ \t]+/).filter((word) => word !== '')
  const command = toCommand(name, rest, words)
  if (command !== null) return command
  if (name in usage) return new LineProtocolError('bad-command', 400, `usage: ${usage[name]}`)
  const shown = name.length > 32 ? `${name.slice(0, 32)}…` : name
  return new LineProtocolError('unknown-command', 400, `unknown command /${shown}; /help lists them`)
}

/** The command `name` with its arguments, or null when they do not fit (or there is no such command). */
function toCommand(name: string, rest: string, words: readonly string[]): Command | null {
  switch (name) {
    case 'me':
      return rest === '' ? null : { kind: 'me', text: rest }
    case 'msg': {
      const to = words[0]
      const text = to === undefined ? '' : rest.slice(to.length).replace(/^[ \t]+/, '')
      return text.trim() === '' ? null : { kind: 'msg', to, text }
    }
    case 'join':
      return words.length === 1 ? { kind: 'join', room: words[0] } : null
    case 'leave':
    case 'who':
      if (words.length > 1) return null
      return words.length === 1 ? { kind: name, room: words[0] } : { kind: name }
    case 'history':
      if (words.length === 0) return { kind: 'history' }
      return words.length === 1 && /^\d{1,9}$/.test(words[0])
        ? { kind: 'history', last: Number(words[0]) }
        : null
    case 'nick':
      if (words.length === 1) return { kind: 'nick', name: words[0] }
      return words.length === 2 ? { kind: 'nick', name: words[0], key: words[1] } : null
    case 'rooms':
    case 'help':
    case 'quit':
    case 'ping':
    case 'json':
    case 'text':
      return words.length === 0 ? { kind: name } : null
    default:
      return null
  }
}

/** Message data is text or bytes. */
export type LineData = string | Uint8Array

/** The events a line client is shown (the hub's events fit this shape). */
export type LineEvent =
  | { type: 'message'; room: string; from: string; data: LineData }
  | { type: 'direct'; from: string; data: LineData }
  | { type: 'presence'; room: string; event: 'join' | 'leave'; member: string }

/**
 * Text starting with this is an action: `/me waves` shows as `* ann waves`. The line transports publish
 * `/me` this way, so every transport can render it alike.
 */
export const actionPrefix = '/me '

/** One delivered event as a line: `[lobby] ann: hello`, `[dm] ann: hi`, `* ann joined lobby`. */
export function formatEventLine(event: LineEvent): string {
  switch (event.type) {
    case 'message':
      return `[${event.room}] ${formatSaid(event.from, event.data)}`
    case 'direct':
      return `[dm] ${formatSaid(event.from, event.data)}`
    case 'presence':
      return `* ${event.member} ${event.event === 'join' ? 'joined' : 'left'} ${event.room}`
  }
}

function formatSaid(from: string, data: LineData): string {
  if (typeof data === 'string' && data.startsWith(actionPrefix)) {
    return `* ${from} ${escapeControls(data.slice(actionPrefix.length))}`
  }
  return `${from}: ${formatData(data)}`
}

/** Message data as one line of text: bytes become `[binary N bytes]`, control characters escapes. */
export function formatData(data: LineData): string {
  return typeof data === 'string' ? escapeControls(data) : `[binary ${data.byteLength} bytes]`
}

/**
 * Shows control characters as `\n`, `\r` or `\xNN`, so text from other transports can never end a line early
 * or drive a terminal. Deviation: a backslash is not doubled, so the escape is for eyes only; JSON mode
 * carries the exact text.
 */
export function escapeControls(text: string): string {
  if (!controlCharacters.test(text)) return text
  return text.replace(controlCharactersGlobal, (char) => {
    if (char === '\n') return '\\n'
    if (char === '\r') return '\\r'
    return `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`
  })
}

/** The first line of a text connection: `WELCOME ann key Zk3y… room lobby - type to talk, /help lists commands`. */
export function formatWelcome(nick: string, key: string, room: string): string {
  return `WELCOME ${nick} key ${key} room ${room} - type to talk, /help lists commands`
}

/** The answers to text commands, each one line. */
export const formatAnswer = {
  nick: (nick: string, key: string) => formatOk(`nick ${nick} key ${key}`),
  join: (room: string, members: readonly string[]) =>
    formatOk(`join ${room} (${members.length} here: ${members.join(', ')})`),
  leave: (room: string, current: string | null) =>
    formatOk(`leave ${room} (${current === null ? 'in no room now: /join ROOM' : `talking in ${current}`})`),
  rooms: (rooms: ReadonlyArray<{ room: string; members: number }>) =>
    formatOk(
      `rooms ${rooms.length === 0 ? '(none)' : rooms.map((r) => `${r.room} (${r.members})`).join(', ')}`,
    ),
  who: (room: string, members: readonly string[]) =>
    formatOk(`who ${room}: ${members.length === 0 ? '(nobody)' : members.join(', ')}`),
  msg: (to: string) => formatOk(`msg ${to}`),
  history: (room: string, count: number) =>
    formatOk(`history ${room} ${count} message${count === 1 ? '' : 's'}`),
  help: () => [formatOk('help'), ...commandHelp.map((text) => `  ${text}`)],
  ping: () => 'PONG',
  text: () => formatOk('text'),
} as const

/** A successful reply: `OK join dev (2 here: ann, bob)`. */
export function formatOk(text: string): string {
  return `OK ${escapeControls(text)}`
}

/** A refusal: `ERR <status> <code> <message>`, e.g. `ERR 413 line-too-long a line is at most 8 bytes…`. */
export function formatErr(error: { status: number; code: string; message: string }): string {
  return `ERR ${error.status} ${error.code} ${escapeControls(error.message)}`
}

/** The last line of a connection the server ends: `BYE <code> <reason>`, e.g. `BYE 4002 idle timeout`. */
export function formatBye(reason: { code: number; reason: string }): string {
  return `BYE ${reason.code} ${escapeControls(reason.reason)}`
}
