// The line codec: bytes into bounded UTF-8 lines (literal bytes, then fast-check properties), text-mode
// commands, and the lines a person reads.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import {
  type Command,
  type DecodedLine,
  escapeControls,
  formatAnswer,
  formatBye,
  formatErr,
  formatEventLine,
  formatOk,
  formatWelcome,
  LineDecoder,
  LineProtocolError,
  parseCommand,
} from '../../../src/transports/codec/line.js'
import { concatBytes, hex, splitAt } from '../../helpers/bytes.js'

const encoder = new TextEncoder()

/** A decoded line as a comparable value: the text, or `{ error: code, status }`. */
type Shown = string | { error: string; status: number }

function show(line: DecodedLine): Shown {
  return line instanceof LineProtocolError ? { error: line.code, status: line.status } : line
}

/** Pushes every chunk into a fresh decoder with `maxLineBytes`, then ends the stream. */
function decodeAll(maxLineBytes: number, chunks: readonly Uint8Array[]): Shown[] {
  const decoder = new LineDecoder(maxLineBytes)
  const out = chunks.flatMap((chunk) => decoder.push(chunk))
  return [...out, ...decoder.end()].map(show)
}

function ascii(text: string): Uint8Array {
  return encoder.encode(text)
}

// Any code point but the surrogates, which are not text; mostly ASCII. (fast-check's own 'binary' unit
// takes seconds to build its tables.)
const codePoint = fc
  .oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x10ffff }).filter((n) => n < 0xd800 || n > 0xdfff) },
  )
  .map((n) => String.fromCodePoint(n))

/** Text of up to `maxLength` code points. */
function anyText(maxLength: number, minLength = 0): fc.Arbitrary<string> {
  return fc.string({ unit: codePoint, minLength, maxLength })
}

/** Text that holds no CR or LF. */
function lineText(maxLength: number, minLength = 0): fc.Arbitrary<string> {
  return anyText(maxLength, minLength).filter((text) => !/[\r\n]/.test(text))
}

const tooLong = { error: 'line-too-long', status: 413 }
const notUtf8 = { error: 'invalid-utf8', status: 400 }

describe('LineDecoder examples', () => {
  test('splits lines ended by LF and by CR LF', () => {
    // "hi" LF "yo" CR LF
    assert.deepStrictEqual(decodeAll(100, [hex('68 69 0a 79 6f 0d 0a')]), ['hi', 'yo'])
  })

  test('holds a line until its LF arrives', () => {
    const decoder = new LineDecoder(100)
    assert.deepStrictEqual(decoder.push(ascii('ab')), [])
    assert.equal(decoder.bufferedBytes, 2)
    assert.deepStrictEqual(decoder.push(ascii('c\nd')), ['abc'])
    assert.equal(decoder.bufferedBytes, 1)
  })

  test('strips one CR before LF and keeps a CR anywhere else', () => {
    // "a" CR "b" LF, then "a" CR CR LF
    assert.deepStrictEqual(decodeAll(100, [hex('61 0d 62 0a 61 0d 0d 0a')]), ['a\rb', 'a\r'])
  })

  test('reads an empty line as an empty string', () => {
    assert.deepStrictEqual(decodeAll(100, [hex('0a 0d 0a')]), ['', ''])
  })

  test('gives the last line without its LF when the stream ends', () => {
    assert.deepStrictEqual(decodeAll(100, [ascii('one\ntwo')]), ['one', 'two'])
    assert.deepStrictEqual(decodeAll(100, [ascii('one\n')]), ['one'])
  })

  test('joins a UTF-8 character split across chunks', () => {
    // "é" = C3 A9, cut between its two bytes
    assert.deepStrictEqual(decodeAll(100, [hex('c3'), hex('a9 0a')]), ['é'])
  })

  test('refuses a line that is not UTF-8 and carries on with the next', () => {
    // FF never occurs in UTF-8; C0 AF is an overlong "/"; ED A0 80 is a UTF-16 surrogate
    const wire = hex('ff 0a 6f 6b 0a c0 af 0a ed a0 80 0a 21 0a')
    assert.deepStrictEqual(decodeAll(100, [wire]), [notUtf8, 'ok', notUtf8, notUtf8, '!'])
  })

  test('refuses a line cut in the middle of a UTF-8 character', () => {
    // E2 82 is the start of "€" (E2 82 AC) with its last byte missing
    assert.deepStrictEqual(decodeAll(100, [hex('e2 82 0a')]), [notUtf8])
  })

  test('keeps a leading byte order mark as text', () => {
    assert.deepStrictEqual(decodeAll(100, [hex('ef bb bf 61 0a')]), ['\ufeffa'])
  })

  test('takes NUL and other control characters as text (the command parser judges them)', () => {
    assert.deepStrictEqual(decodeAll(100, [hex('00 1b 0a')]), ['\u0000\u001b'])
  })

  test('refuses a maxLineBytes that is not a positive integer', () => {
    assert.throws(() => new LineDecoder(0), { name: 'RangeError', code: 'line-bad-limit' })
    assert.throws(() => new LineDecoder(1.5), { name: 'RangeError', code: 'line-bad-limit' })
  })
})

describe('LineDecoder line limit', () => {
  test('accepts a line of exactly maxLineBytes, with LF or CR LF', () => {
    assert.deepStrictEqual(decodeAll(4, [ascii('abcd\nabcd\r\n')]), ['abcd', 'abcd'])
  })

  test('refuses a line one byte past maxLineBytes, with LF or CR LF, and carries on', () => {
    assert.deepStrictEqual(decodeAll(4, [ascii('abcde\nabcde\r\nok\n')]), [tooLong, tooLong, 'ok'])
  })

  test('counts bytes, not characters', () => {
    // "éé" is 4 bytes, "ééa" 5
    assert.deepStrictEqual(decodeAll(4, [ascii('éé\nééa\n')]), ['éé', tooLong])
  })

  test('answers an overlong line as soon as it passes the limit, before its LF', () => {
    const decoder = new LineDecoder(4)
    assert.deepStrictEqual(decoder.push(ascii('abcdef')).map(show), [tooLong])
    assert.equal(decoder.bufferedBytes, 0)
    assert.deepStrictEqual(decoder.push(ascii('ghij\nok\n')).map(show), ['ok'])
  })

  test('waits on a line one byte past the limit while that byte may be the CR of CR LF', () => {
    const decoder = new LineDecoder(4)
    assert.deepStrictEqual(decoder.push(ascii('abcd\r')), [])
    assert.deepStrictEqual(decoder.push(ascii('\n')), ['abcd'])
    assert.deepStrictEqual(decoder.push(ascii('abcd\r')), [])
    assert.deepStrictEqual(decoder.push(ascii('x')).map(show), [tooLong])
  })

  test('gives an overlong last line as an error when the stream ends', () => {
    assert.deepStrictEqual(decodeAll(4, [ascii('abcde')]), [tooLong])
  })

  test('keeps at most maxLineBytes + 1 bytes of an endless line, answering it once', () => {
    const decoder = new LineDecoder(1000)
    const chunk = new Uint8Array(64 * 1024).fill(0x61)
    const out: Shown[] = []
    for (let i = 0; i < 64; i++) {
      out.push(...decoder.push(chunk).map(show))
      assert.ok(decoder.bufferedBytes <= 1001)
    }
    out.push(...decoder.push(ascii('aaa\nafter\n')).map(show))
    assert.deepStrictEqual(out, [tooLong, 'after'])
  })
})

// Bytes where line endings and UTF-8 edge cases are common.
const lineishByte = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 2, arbitrary: fc.constantFrom(0x0a, 0x0d) },
  { weight: 1, arbitrary: fc.constantFrom(0x00, 0x80, 0xbf, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed, 0xff) },
)
const lineishBytes = fc.array(lineishByte, { maxLength: 200 }).map((bytes) => Uint8Array.from(bytes))
const maxLineBytes = fc.integer({ min: 1, max: 24 })

describe('LineDecoder properties', () => {
  test('lines joined with LF or CR LF decode to themselves', () => {
    const line = lineText(30)
    const ending = fc.constantFrom('\n', '\r\n')
    fc.assert(
      fc.property(fc.array(fc.tuple(line, ending)), (lines) => {
        const wire = ascii(lines.map(([text, end]) => text + end).join(''))
        assert.deepStrictEqual(
          decodeAll(200, [wire]),
          lines.map(([text]) => text),
        )
      }),
    )
  })

  test('decoding does not depend on how the bytes are chunked', () => {
    fc.assert(
      fc.property(maxLineBytes, lineishBytes, fc.array(fc.nat()), (max, wire, cuts) => {
        assert.deepStrictEqual(decodeAll(max, splitAt(wire, cuts)), decodeAll(max, [wire]))
      }),
    )
  })

  test('any bytes give lines within the limit or errors, never an exception or more memory', () => {
    const anyBytes = fc.oneof(lineishBytes, fc.uint8Array({ maxLength: 200 }))
    fc.assert(
      fc.property(maxLineBytes, fc.array(anyBytes, { maxLength: 5 }), (max, chunks) => {
        const decoder = new LineDecoder(max)
        const out: DecodedLine[] = []
        for (const chunk of chunks) {
          out.push(...decoder.push(chunk))
          assert.ok(decoder.bufferedBytes <= max + 1)
        }
        out.push(...decoder.end())
        for (const line of out) {
          if (line instanceof LineProtocolError)
            assert.ok(line.code === 'line-too-long' || line.code === 'invalid-utf8')
          else assert.ok(!line.includes('\n') && encoder.encode(line).length <= max)
        }
      }),
    )
  })

  test('a line of n bytes passes a limit of n and fails a limit of n - 1', () => {
    fc.assert(
      fc.property(lineText(40, 1), (text) => {
        const n = encoder.encode(text).length
        const wire = concatBytes([ascii(text), hex('0d 0a')])
        assert.deepStrictEqual(decodeAll(n, [wire]), [text])
        if (n > 1) assert.deepStrictEqual(decodeAll(n - 1, [wire]), [tooLong])
      }),
    )
  })
})

describe('parseCommand', () => {
  const examples: Array<[string, Command]> = [
    ['hello there', { kind: 'say', text: 'hello there' }],
    ['  spaced out  ', { kind: 'say', text: '  spaced out  ' }],
    ['tab\tinside', { kind: 'say', text: 'tab\tinside' }],
    ['//join is just text', { kind: 'say', text: '/join is just text' }],
    ['', { kind: 'blank' }],
    [' \t ', { kind: 'blank' }],
    ['/me waves at ann', { kind: 'me', text: 'waves at ann' }],
    ['/msg bob hi  there', { kind: 'msg', to: 'bob', text: 'hi  there' }],
    ['/msg\tbob\thi', { kind: 'msg', to: 'bob', text: 'hi' }],
    ['/join dev', { kind: 'join', room: 'dev' }],
    ['/JOIN dev', { kind: 'join', room: 'dev' }],
    ['/leave', { kind: 'leave' }],
    ['/leave dev', { kind: 'leave', room: 'dev' }],
    ['/rooms', { kind: 'rooms' }],
    ['/who', { kind: 'who' }],
    ['/who dev ', { kind: 'who', room: 'dev' }],
    ['/history', { kind: 'history' }],
    ['/history 5', { kind: 'history', last: 5 }],
    ['/nick ann', { kind: 'nick', name: 'ann' }],
    ['/nick ann Zk3y', { kind: 'nick', name: 'ann', key: 'Zk3y' }],
    ['/help', { kind: 'help' }],
    ['/quit', { kind: 'quit' }],
    ['/ping', { kind: 'ping' }],
    ['/json', { kind: 'json' }],
    ['/text', { kind: 'text' }],
  ]
  for (const [line, command] of examples) {
    test(`reads ${JSON.stringify(line)} as ${command.kind}`, () => {
      assert.deepStrictEqual(parseCommand(line), command)
    })
  }

  const usages: Array<[string, string]> = [
    ['/join', 'usage: /join ROOM'],
    ['/join a b', 'usage: /join ROOM'],
    ['/msg bob', 'usage: /msg NICK TEXT'],
    ['/msg bob   ', 'usage: /msg NICK TEXT'],
    ['/me', 'usage: /me TEXT'],
    ['/history ten', 'usage: /history [N]'],
    ['/history -1', 'usage: /history [N]'],
    ['/nick', 'usage: /nick NAME [KEY]'],
    ['/nick a b c', 'usage: /nick NAME [KEY]'],
    ['/who a b', 'usage: /who [ROOM]'],
    ['/quit now', 'usage: /quit'],
  ]
  for (const [line, message] of usages) {
    test(`answers ${JSON.stringify(line)} with its usage`, () => {
      const error = parseCommand(line)
      assert.ok(error instanceof LineProtocolError)
      assert.deepStrictEqual([error.code, error.status, error.message], ['bad-command', 400, message])
    })
  }

  test('refuses an unknown command, naming it', () => {
    const error = parseCommand('/frob x')
    assert.ok(error instanceof LineProtocolError)
    assert.deepStrictEqual([error.code, error.status], ['unknown-command', 400])
    assert.match(error.message, /\/frob/)
  })

  test('refuses a line holding an escape or another control character other than tab', () => {
    for (const line of ['a\u001b[2Jb', '\u0000', 'x\u007f', '/msg bob \u0007', 'a\rb', 'c\u0085']) {
      const error = parseCommand(line)
      assert.ok(error instanceof LineProtocolError, JSON.stringify(line))
      assert.equal(error.code, 'control-character')
    }
  })

  test('answers any text with a command or a 400, never an exception', () => {
    fc.assert(
      fc.property(anyText(60), (line) => {
        const out = parseCommand(line)
        if (out instanceof LineProtocolError) assert.equal(out.status, 400)
        else assert.equal(typeof out.kind, 'string')
      }),
    )
  })
})

describe('formatting', () => {
  test('shows a room message with its room and sender', () => {
    const event = { type: 'message', room: 'lobby', from: 'ann', data: 'hello' } as const
    assert.equal(formatEventLine(event), '[lobby] ann: hello')
  })

  test('shows a /me message as an action', () => {
    const event = { type: 'message', room: 'lobby', from: 'ann', data: '/me waves' } as const
    assert.equal(formatEventLine(event), '[lobby] * ann waves')
  })

  test('shows a direct message, and a direct action', () => {
    assert.equal(formatEventLine({ type: 'direct', from: 'ann', data: 'hi' }), '[dm] ann: hi')
    assert.equal(formatEventLine({ type: 'direct', from: 'ann', data: '/me nods' }), '[dm] * ann nods')
  })

  test('shows presence', () => {
    assert.equal(
      formatEventLine({ type: 'presence', room: 'dev', event: 'join', member: 'ann' }),
      '* ann joined dev',
    )
    assert.equal(
      formatEventLine({ type: 'presence', room: 'dev', event: 'leave', member: 'ann' }),
      '* ann left dev',
    )
  })

  test('shows bytes by their size', () => {
    const event = { type: 'message', room: 'lobby', from: 'bot', data: new Uint8Array(2048) } as const
    assert.equal(formatEventLine(event), '[lobby] bot: [binary 2048 bytes]')
  })

  test('escapes control characters so a message stays on one line and cannot drive a terminal', () => {
    const event = { type: 'message', room: 'lobby', from: 'ws', data: 'a\nb\r\u001b[2J\u0085\tz' } as const
    assert.equal(formatEventLine(event), '[lobby] ws: a\\nb\\r\\x1b[2J\\x85\tz')
  })

  test('never puts a line break into a delivered line', () => {
    fc.assert(
      fc.property(anyText(40), (text) => {
        const line = formatEventLine({ type: 'message', room: 'r', from: 'f', data: text })
        assert.ok(!/[\r\n]/.test(line))
        assert.equal(escapeControls(text).length >= text.length, true)
      }),
    )
  })

  test('greets with the nick, its key and the room, pointing at /help', () => {
    assert.equal(
      formatWelcome('guest-1', 'Zk3yZk3yZk3y', 'lobby'),
      'WELCOME guest-1 key Zk3yZk3yZk3y room lobby - type to talk, /help lists commands',
    )
  })

  test('answers each command on one line', () => {
    assert.equal(formatAnswer.nick('ann', 'k'), 'OK nick ann key k')
    assert.equal(formatAnswer.join('dev', ['ann', 'bob']), 'OK join dev (2 here: ann, bob)')
    assert.equal(formatAnswer.leave('dev', 'lobby'), 'OK leave dev (talking in lobby)')
    assert.equal(formatAnswer.leave('dev', null), 'OK leave dev (in no room now: /join ROOM)')
    assert.equal(formatAnswer.rooms([]), 'OK rooms (none)')
    assert.equal(
      formatAnswer.rooms([
        { room: 'dev', members: 1 },
        { room: 'lobby', members: 3 },
      ]),
      'OK rooms dev (1), lobby (3)',
    )
    assert.equal(formatAnswer.who('dev', []), 'OK who dev: (nobody)')
    assert.equal(formatAnswer.msg('bob'), 'OK msg bob')
    assert.equal(formatAnswer.history('lobby', 1), 'OK history lobby 1 message')
    assert.equal(formatAnswer.history('lobby', 0), 'OK history lobby 0 messages')
    assert.equal(formatAnswer.ping(), 'PONG')
  })

  test('writes replies, refusals and goodbyes', () => {
    assert.equal(formatOk('who lobby: ann, bob'), 'OK who lobby: ann, bob')
    assert.equal(
      formatErr({ status: 429, code: 'rate-limited', message: 'more than 50 messages per second' }),
      'ERR 429 rate-limited more than 50 messages per second',
    )
    assert.equal(formatBye({ code: 4002, reason: 'idle timeout' }), 'BYE 4002 idle timeout')
  })
})
