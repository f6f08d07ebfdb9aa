// permessage-deflate negotiation (RFC 7692 §5, §7.1): choosing among a client's offers, our own offer, and
// checking a server's answer. Headers are written out as they appear on the wire.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  acceptDeflateOffer,
  acceptDeflateResponse,
  type DeflateNegotiation,
  type DeflateParams,
  type ExtensionOffer,
  formatDeflateOffer,
  parseExtensions,
} from '../../../src/websocket/codec/index.js'

function offers(header: string): ExtensionOffer[] {
  const parsed = parseExtensions(header)
  assert.ok(parsed !== null, `well-formed: ${header}`)
  return parsed
}

function params(changes: Partial<DeflateParams> = {}): DeflateParams {
  return {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
    ...changes,
  }
}

interface Agreement {
  /** Completes the title "accepts …". */
  what: string
  header: string
  ours?: DeflateNegotiation
  response: string
  params: DeflateParams
}

const agreements: Agreement[] = [
  {
    what: 'the plain RFC 7692 §7.1.3 offer with the same plain answer',
    header: 'permessage-deflate',
    response: 'permessage-deflate',
    params: params(),
  },
  {
    what: 'an offer with a bare client_max_window_bits without naming it back',
    header: 'permessage-deflate; client_max_window_bits',
    response: 'permessage-deflate',
    params: params(),
  },
  {
    what: 'a bare client_max_window_bits by naming our limit for the client',
    header: 'permessage-deflate; client_max_window_bits',
    ours: { clientMaxWindowBits: 10 },
    response: 'permessage-deflate; client_max_window_bits=10',
    params: params({ clientMaxWindowBits: 10 }),
  },
  {
    what: 'a client_max_window_bits value by echoing it',
    header: 'permessage-deflate; client_max_window_bits=12',
    response: 'permessage-deflate; client_max_window_bits=12',
    params: params({ clientMaxWindowBits: 12 }),
  },
  {
    what: 'the RFC 7692 §7.1.3 offer of server_max_window_bits=10 with that window',
    header: 'permessage-deflate; client_max_window_bits; server_max_window_bits=10',
    response: 'permessage-deflate; server_max_window_bits=10',
    params: params({ serverMaxWindowBits: 10 }),
  },
  {
    what: 'a quoted window size as its token',
    header: 'permessage-deflate; server_max_window_bits="10"',
    response: 'permessage-deflate; server_max_window_bits=10',
    params: params({ serverMaxWindowBits: 10 }),
  },
  {
    what: 'server_max_window_bits=9, the smallest window zlib can compress with',
    header: 'permessage-deflate; server_max_window_bits=9',
    response: 'permessage-deflate; server_max_window_bits=9',
    params: params({ serverMaxWindowBits: 9 }),
  },
  {
    what: 'a plain offer with our own smaller server window',
    header: 'permessage-deflate',
    ours: { serverMaxWindowBits: 12 },
    response: 'permessage-deflate; server_max_window_bits=12',
    params: params({ serverMaxWindowBits: 12 }),
  },
  {
    what: 'both no_context_takeover parameters',
    header: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    response: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    params: params({ serverNoContextTakeover: true, clientNoContextTakeover: true }),
  },
  {
    what: 'a plain offer with our own no_context_takeover wishes added',
    header: 'permessage-deflate',
    ours: { serverNoContextTakeover: true, clientNoContextTakeover: true },
    response: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    params: params({ serverNoContextTakeover: true, clientNoContextTakeover: true }),
  },
  {
    what: 'the later offer when the first has a window too large for zlib to honour',
    header: 'permessage-deflate; server_max_window_bits=8, permessage-deflate; client_max_window_bits',
    response: 'permessage-deflate',
    params: params(),
  },
  {
    what: 'the later offer when the first repeats a parameter',
    header: 'permessage-deflate; server_no_context_takeover; server_no_context_takeover, permessage-deflate',
    response: 'permessage-deflate',
    params: params(),
  },
  {
    what: 'the later offer when the first has an unknown parameter',
    header: 'permessage-deflate; x_window=2, permessage-deflate; server_max_window_bits=11',
    response: 'permessage-deflate; server_max_window_bits=11',
    params: params({ serverMaxWindowBits: 11 }),
  },
  {
    what: 'permessage-deflate after an extension we do not know',
    header: 'x-webkit-deflate-frame, permessage-deflate',
    response: 'permessage-deflate',
    params: params(),
  },
]

describe('acceptDeflateOffer agreements', () => {
  for (const { what, header, ours, response, params: agreed } of agreements) {
    test(`accepts ${what}`, () => {
      assert.deepStrictEqual(acceptDeflateOffer(offers(header), ours), { response, params: agreed })
    })
  }
})

// Each declined alone; RFC 7692 §5: a server declines an offer it cannot or must not accept.
const declined: Array<{ why: string; header: string; ours?: DeflateNegotiation }> = [
  {
    why: 'a parameter is repeated',
    header: 'permessage-deflate; client_max_window_bits; client_max_window_bits',
  },
  { why: 'a parameter is unknown', header: 'permessage-deflate; mux' },
  { why: 'server_max_window_bits is 7', header: 'permessage-deflate; server_max_window_bits=7' },
  { why: 'server_max_window_bits is 16', header: 'permessage-deflate; server_max_window_bits=16' },
  { why: 'server_max_window_bits is written 08', header: 'permessage-deflate; server_max_window_bits=08' },
  { why: 'server_max_window_bits has no value', header: 'permessage-deflate; server_max_window_bits' },
  { why: 'client_max_window_bits is 7', header: 'permessage-deflate; client_max_window_bits=7' },
  { why: 'client_max_window_bits is 16', header: 'permessage-deflate; client_max_window_bits=16' },
  { why: 'client_max_window_bits is written 08', header: 'permessage-deflate; client_max_window_bits=08' },
  {
    why: 'server_no_context_takeover has a value',
    header: 'permessage-deflate; server_no_context_takeover=1',
  },
  {
    why: 'client_no_context_takeover has a value',
    header: 'permessage-deflate; client_no_context_takeover=true',
  },
  // zlib widens an 8-bit raw compression window to 9 bits, so the promise could not be kept.
  {
    why: 'server_max_window_bits is 8, which zlib cannot honour',
    header: 'permessage-deflate; server_max_window_bits=8',
  },
  { why: 'our own server window is 8 bits', header: 'permessage-deflate', ours: { serverMaxWindowBits: 8 } },
  { why: 'no offer is permessage-deflate', header: 'x-webkit-deflate-frame; no_context_takeover' },
]

describe('acceptDeflateOffer declines', () => {
  for (const { why, header, ours } of declined) {
    test(`declines an offer when ${why}`, () => {
      assert.equal(acceptDeflateOffer(offers(header), ours), null)
    })
  }

  test('declines an empty list of offers', () => {
    assert.equal(acceptDeflateOffer([]), null)
  })
})

describe('parseExtensions', () => {
  test('reads names, bare parameters and unquoted values, lower-casing names and keys', () => {
    const [first, second] = offers(
      'permessage-deflate; Client_Max_Window_Bits; server_max_window_bits="10", x-foo',
    )
    assert.equal(first.name, 'permessage-deflate')
    assert.deepStrictEqual(
      [...first.params],
      [
        ['client_max_window_bits', true],
        ['server_max_window_bits', '10'],
      ],
    )
    assert.equal(first.unique, true)
    assert.deepStrictEqual(second, { name: 'x-foo', params: new Map(), unique: true })
  })

  test('marks an offer with a repeated parameter as not unique', () => {
    assert.equal(
      offers('permessage-deflate; server_no_context_takeover; server_no_context_takeover')[0].unique,
      false,
    )
  })

  test('rejects an unterminated quoted string', () => {
    assert.equal(parseExtensions('permessage-deflate; server_max_window_bits="10'), null)
  })

  test('rejects a quoted value that is not a token once unquoted', () => {
    assert.equal(parseExtensions('permessage-deflate; server_max_window_bits="1 0"'), null)
  })
})

describe('formatDeflateOffer', () => {
  test('offers plain permessage-deflate that lets the server limit our window', () => {
    assert.equal(formatDeflateOffer(), 'permessage-deflate; client_max_window_bits')
  })

  test('names every wish that differs from the defaults', () => {
    assert.equal(
      formatDeflateOffer({
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 10,
        clientMaxWindowBits: 12,
      }),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12',
    )
  })

  test('leaves out window sizes of 15, the default', () => {
    assert.equal(
      formatDeflateOffer({ serverMaxWindowBits: 15, clientMaxWindowBits: 15 }),
      'permessage-deflate; client_max_window_bits',
    )
  })
})

describe('acceptDeflateResponse', () => {
  test('reads no header, or an empty one, as compression declined', () => {
    assert.equal(acceptDeflateResponse(undefined), null)
    assert.equal(acceptDeflateResponse(''), null)
  })

  test('accepts a plain answer with default windows', () => {
    assert.deepStrictEqual(acceptDeflateResponse('permessage-deflate'), params())
  })

  test('accepts an answer that limits both windows and asks for server_no_context_takeover', () => {
    assert.deepStrictEqual(
      acceptDeflateResponse(
        'permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12',
      ),
      params({ serverNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12 }),
    )
  })

  test('accepts an answer that asks the client to drop its context', () => {
    assert.deepStrictEqual(
      acceptDeflateResponse('permessage-deflate; client_no_context_takeover'),
      params({ clientNoContextTakeover: true }),
    )
  })

  test('keeps our own client window and no_context_takeover when the answer does not mention them', () => {
    assert.deepStrictEqual(
      acceptDeflateResponse('permessage-deflate; server_no_context_takeover', {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        clientMaxWindowBits: 11,
      }),
      params({ serverNoContextTakeover: true, clientNoContextTakeover: true, clientMaxWindowBits: 11 }),
    )
  })

  test('accepts a server window no larger than the one we asked for', () => {
    assert.deepStrictEqual(
      acceptDeflateResponse('permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 10 }),
      params({ serverMaxWindowBits: 9 }),
    )
  })

  const invalidAnswers: Array<{ why: string; header: string; ours?: DeflateNegotiation }> = [
    { why: 'has an unknown parameter', header: 'permessage-deflate; mux' },
    {
      why: 'repeats a parameter',
      header: 'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10',
    },
    { why: 'gives server_max_window_bits 16', header: 'permessage-deflate; server_max_window_bits=16' },
    { why: 'gives server_max_window_bits 7', header: 'permessage-deflate; server_max_window_bits=7' },
    { why: 'gives server_max_window_bits as 08', header: 'permessage-deflate; server_max_window_bits=08' },
    {
      why: 'gives a server window larger than we asked for',
      header: 'permessage-deflate; server_max_window_bits=12',
      ours: { serverMaxWindowBits: 10 },
    },
    {
      why: 'omits the server_max_window_bits we asked for',
      header: 'permessage-deflate',
      ours: { serverMaxWindowBits: 10 },
    },
    {
      why: 'gives client_max_window_bits without a value',
      header: 'permessage-deflate; client_max_window_bits',
    },
    { why: 'gives client_max_window_bits 16', header: 'permessage-deflate; client_max_window_bits=16' },
    {
      why: 'gives a client window larger than we offered',
      header: 'permessage-deflate; client_max_window_bits=12',
      ours: { clientMaxWindowBits: 10 },
    },
    {
      why: 'gives a client window of 8 bits, which zlib cannot honour',
      header: 'permessage-deflate; client_max_window_bits=8',
    },
    {
      why: 'gives server_no_context_takeover a value',
      header: 'permessage-deflate; server_no_context_takeover=1',
    },
    {
      why: 'drops the server_no_context_takeover we asked for',
      header: 'permessage-deflate',
      ours: { serverNoContextTakeover: true },
    },
    { why: 'accepts an extension we did not offer', header: 'x-webkit-deflate-frame' },
    { why: 'accepts permessage-deflate twice', header: 'permessage-deflate, permessage-deflate' },
    { why: 'is malformed', header: 'permessage-deflate; server_max_window_bits="10' },
  ]

  for (const { why, header, ours } of invalidAnswers) {
    test(`fails an answer that ${why}`, () => {
      const result = acceptDeflateResponse(header, ours)
      assert.ok(result !== null && 'invalid' in result, JSON.stringify(result))
      assert.equal(typeof result.invalid, 'string')
    })
  }
})
