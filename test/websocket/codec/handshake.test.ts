// The opening handshake's checks (RFC 6455 §4.1–4.2.2) and the HTTP answer that refuses one.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { type AddressInfo, createServer } from 'node:net'
import { describe, test } from 'node:test'
import {
  type ClientHandshake,
  formatRejection,
  HandshakeError,
  type HandshakeViolation,
  parseUpgradeRequest,
  type UpgradeRequestHead,
} from '../../../src/websocket/codec/index.js'

type Headers = UpgradeRequestHead['headers']

// RFC 6455 §1.3's sample key; its accept value is s3pPLMBiTxaQ9kYGzzhZRbK+xOo=.
const sampleKey = 'dGhlIHNhbXBsZSBub25jZQ=='

/** A valid handshake as Node hands it over (lower-case header names), with `headers` changed or removed. */
function upgradeRequest(
  changes: { method?: string; httpVersion?: string; headers?: Headers } = {},
): UpgradeRequestHead {
  const headers: Headers = {
    host: 'server.example.com',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': sampleKey,
    'sec-websocket-version': '13',
    ...changes.headers,
  }
  return { method: changes.method ?? 'GET', httpVersion: changes.httpVersion ?? '1.1', headers }
}

function accepted(request: UpgradeRequestHead): ClientHandshake {
  const result = parseUpgradeRequest(request)
  assert.ok(!(result instanceof HandshakeError), result instanceof HandshakeError ? result.code : '')
  return result
}

interface Refusal {
  /** Completes the title "refuses with <status> (<code>) when …". */
  when: string
  request: UpgradeRequestHead
  httpStatus: number
  code: HandshakeViolation
  headers?: Record<string, string>
}

const refusals: Refusal[] = [
  {
    when: 'the method is POST',
    request: upgradeRequest({ method: 'POST' }),
    httpStatus: 405,
    code: 'ws-handshake-method',
    headers: { Allow: 'GET' },
  },
  {
    when: 'the request is HTTP/1.0',
    request: upgradeRequest({ httpVersion: '1.0' }),
    httpStatus: 400,
    code: 'ws-handshake-http-version',
  },
  {
    when: 'the Upgrade header is missing',
    request: upgradeRequest({ headers: { upgrade: undefined } }),
    httpStatus: 400,
    code: 'ws-handshake-upgrade',
  },
  {
    when: 'the Upgrade header names another protocol',
    request: upgradeRequest({ headers: { upgrade: 'h2c' } }),
    httpStatus: 400,
    code: 'ws-handshake-upgrade',
  },
  {
    when: 'the Connection header is missing',
    request: upgradeRequest({ headers: { connection: undefined } }),
    httpStatus: 400,
    code: 'ws-handshake-connection',
  },
  {
    when: 'the Connection header lacks the upgrade token',
    request: upgradeRequest({ headers: { connection: 'keep-alive' } }),
    httpStatus: 400,
    code: 'ws-handshake-connection',
  },
  {
    when: 'the Connection header only contains upgrade inside a longer token',
    request: upgradeRequest({ headers: { connection: 'keep-alive, upgraded' } }),
    httpStatus: 400,
    code: 'ws-handshake-connection',
  },
  {
    when: 'Sec-WebSocket-Version is 8',
    request: upgradeRequest({ headers: { 'sec-websocket-version': '8' } }),
    httpStatus: 426,
    code: 'ws-handshake-version',
    headers: { 'Sec-WebSocket-Version': '13' },
  },
  {
    when: 'Sec-WebSocket-Version is missing',
    request: upgradeRequest({ headers: { 'sec-websocket-version': undefined } }),
    httpStatus: 426,
    code: 'ws-handshake-version',
    headers: { 'Sec-WebSocket-Version': '13' },
  },
  {
    when: 'Sec-WebSocket-Key is missing',
    request: upgradeRequest({ headers: { 'sec-websocket-key': undefined } }),
    httpStatus: 400,
    code: 'ws-handshake-key',
  },
  {
    when: 'Sec-WebSocket-Key is too short (10 bytes)',
    request: upgradeRequest({ headers: { 'sec-websocket-key': 'AAECAwQFBgcICQ==' } }),
    httpStatus: 400,
    code: 'ws-handshake-key',
  },
  {
    when: 'Sec-WebSocket-Key is not base64',
    request: upgradeRequest({ headers: { 'sec-websocket-key': 'dGhlIHNhbXBs!SBub25jZQ==' } }),
    httpStatus: 400,
    code: 'ws-handshake-key',
  },
  {
    when: 'Sec-WebSocket-Key decodes to 15 bytes',
    request: upgradeRequest({ headers: { 'sec-websocket-key': 'AAECAwQFBgcICQoLDA0O' } }),
    httpStatus: 400,
    code: 'ws-handshake-key',
  },
  {
    when: 'Sec-WebSocket-Key decodes to 17 bytes',
    request: upgradeRequest({ headers: { 'sec-websocket-key': 'AAECAwQFBgcICQoLDA0ODxA=' } }),
    httpStatus: 400,
    code: 'ws-handshake-key',
  },
  {
    when: 'Sec-WebSocket-Key is sent twice',
    request: upgradeRequest({ headers: { 'sec-websocket-key': [sampleKey, sampleKey] } }),
    httpStatus: 400,
    code: 'ws-handshake-key',
  },
  {
    when: 'a subprotocol is offered twice',
    request: upgradeRequest({ headers: { 'sec-websocket-protocol': 'chat, superchat, chat' } }),
    httpStatus: 400,
    code: 'ws-handshake-protocol',
  },
  {
    when: 'a subprotocol is not a token',
    request: upgradeRequest({ headers: { 'sec-websocket-protocol': 'chat, super chat' } }),
    httpStatus: 400,
    code: 'ws-handshake-protocol',
  },
]

describe('parseUpgradeRequest refusals', () => {
  for (const { when, request, httpStatus, code, headers } of refusals) {
    test(`refuses with ${httpStatus} (${code}) when ${when}`, () => {
      const result = parseUpgradeRequest(request)
      assert.ok(result instanceof HandshakeError)
      assert.equal(result.httpStatus, httpStatus)
      assert.equal(result.code, code)
      assert.deepStrictEqual(result.headers, headers ?? {})
    })
  }
})

describe('parseUpgradeRequest acceptance', () => {
  test('accepts the RFC 6455 §1.3 sample handshake with its key, origin and subprotocols', () => {
    const handshake = accepted(
      upgradeRequest({
        headers: { origin: 'http://example.com', 'sec-websocket-protocol': 'chat, superchat' },
      }),
    )
    assert.deepStrictEqual(handshake, {
      key: sampleKey,
      protocols: ['chat', 'superchat'],
      extensions: '',
      origin: 'http://example.com',
    })
  })

  test('accepts Connection: keep-alive, Upgrade as Firefox sends it', () => {
    assert.equal(accepted(upgradeRequest({ headers: { connection: 'keep-alive, Upgrade' } })).key, sampleKey)
  })

  test('compares the Connection and Upgrade tokens case-insensitively', () => {
    accepted(upgradeRequest({ headers: { connection: 'UPGRADE', upgrade: 'WebSocket' } }))
    accepted(upgradeRequest({ headers: { connection: 'keep-alive,upgrade' } }))
  })

  test('accepts a Connection header given as repeated lines', () => {
    accepted(upgradeRequest({ headers: { connection: ['keep-alive', 'Upgrade'] } }))
  })

  test('lists no subprotocols when Sec-WebSocket-Protocol is absent', () => {
    assert.deepStrictEqual(accepted(upgradeRequest()).protocols, [])
  })

  test('keeps the client order of subprotocols, with or without spaces and across repeated lines', () => {
    assert.deepStrictEqual(
      accepted(upgradeRequest({ headers: { 'sec-websocket-protocol': 'superchat,chat' } })).protocols,
      ['superchat', 'chat'],
    )
    assert.deepStrictEqual(
      accepted(upgradeRequest({ headers: { 'sec-websocket-protocol': ['chat', 'v2.chat.example'] } }))
        .protocols,
      ['chat', 'v2.chat.example'],
    )
  })

  test('passes Sec-WebSocket-Extensions through unparsed', () => {
    const extensions = 'permessage-deflate; client_max_window_bits'
    assert.equal(
      accepted(upgradeRequest({ headers: { 'sec-websocket-extensions': extensions } })).extensions,
      extensions,
    )
  })
})

/** Splits an HTTP/1.1 response written as text into its status line, headers (lower-case names) and body. */
function splitResponse(text: string): { statusLine: string; headers: Map<string, string>; body: string } {
  const end = text.indexOf('\r\n\r\n')
  assert.notEqual(end, -1, 'the head ends with an empty line')
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n')
  const headers = new Map<string, string>()
  for (const line of lines) {
    const match = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+): (.*)$/.exec(line)
    assert.ok(match, `header line ${JSON.stringify(line)}`)
    headers.set(match[1].toLowerCase(), match[2])
  }
  return { statusLine, headers, body: text.slice(end + 4) }
}

describe('formatRejection', () => {
  test('writes a status line, the error headers, and a JSON body {code, message} of the declared length', () => {
    const error = parseUpgradeRequest(upgradeRequest({ method: 'POST' }))
    assert.ok(error instanceof HandshakeError)
    const { statusLine, headers, body } = splitResponse(formatRejection(error))
    assert.equal(statusLine, 'HTTP/1.1 405 Method Not Allowed')
    assert.equal(headers.get('allow'), 'GET')
    assert.equal(headers.get('content-type'), 'application/json')
    assert.equal(headers.get('connection'), 'close')
    assert.equal(Number(headers.get('content-length')), Buffer.byteLength(body))
    assert.deepStrictEqual(JSON.parse(body), { code: 'ws-handshake-method', message: error.message })
  })

  test('counts Content-Length in bytes when the message is not ASCII', () => {
    const error = new HandshakeError('ws-handshake-refused', 403, 'Zutritt verweigert – für alle 🚫')
    const { statusLine, headers, body } = splitResponse(formatRejection(error))
    assert.equal(statusLine, 'HTTP/1.1 403 Forbidden')
    assert.equal(Number(headers.get('content-length')), Buffer.byteLength(body))
    assert.deepStrictEqual(JSON.parse(body), { code: 'ws-handshake-refused', message: error.message })
  })

  test('is parsed by a real HTTP client into the status, headers and JSON body', async (t) => {
    const error = parseUpgradeRequest(upgradeRequest({ headers: { 'sec-websocket-version': '8' } }))
    assert.ok(error instanceof HandshakeError)
    const server = createServer((socket) => {
      socket.on('error', () => {}) // the client may reset once it has the response; nothing to do
      socket.once('data', () => socket.end(formatRejection(error)))
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    t.after(() => server.close())
    const { port } = server.address() as AddressInfo
    const response = await fetch(`http://127.0.0.1:${port}/chat`)
    assert.equal(response.status, 426)
    assert.equal(response.statusText, 'Upgrade Required')
    assert.equal(response.headers.get('sec-websocket-version'), '13')
    assert.equal(response.headers.get('content-type'), 'application/json')
    assert.deepStrictEqual(await response.json(), { code: 'ws-handshake-version', message: error.message })
  })
})
