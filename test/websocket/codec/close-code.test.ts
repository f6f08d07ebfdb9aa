// Close codes and close bodies (RFC 6455 §5.5.1, §7.4), checked against the RFC's rules written out here.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  encodeCloseBody,
  isValidWireCloseCode,
  parseCloseBody,
  WebSocketProtocolError,
} from '../../../src/websocket/codec/index.js'
import { hex } from '../../helpers/bytes.js'

// §7.4.1 and the IANA registry: codes an endpoint may send. 1004 is reserved; 1005, 1006 and 1015 are only
// ever reported locally and must not appear in a close frame.
const registeredWireCodes = new Set([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014])

/** §7.4.2's ranges, independently of the implementation. */
function rfcAllowsOnWire(code: number): boolean {
  if (code <= 999) return false // not used
  if (code <= 2999) return registeredWireCodes.has(code) // the protocol's own, by registration only
  if (code <= 3999) return true // libraries and frameworks, registered with IANA
  if (code <= 4999) return true // private use
  return false // not defined
}

describe('isValidWireCloseCode', () => {
  test('agrees with the RFC 6455 §7.4 ranges on every code from 0 to 65535', () => {
    const disagreements: number[] = []
    for (let code = 0; code <= 0xffff; code++) {
      if (isValidWireCloseCode(code) !== rfcAllowsOnWire(code)) disagreements.push(code)
    }
    assert.deepStrictEqual(disagreements, [])
  })
})

describe('parseCloseBody', () => {
  test('reads an empty body as 1005 with no reason', () => {
    assert.deepStrictEqual(parseCloseBody(new Uint8Array(0)), { code: 1005, reason: '' })
  })

  test('reads a code with no reason', () => {
    // 03 E8 = 1000
    assert.deepStrictEqual(parseCloseBody(hex('03 e8')), { code: 1000, reason: '' })
  })

  test('reads a code and an ASCII reason', () => {
    // 03 E9 = 1001, "bye"
    assert.deepStrictEqual(parseCloseBody(hex('03 e9 62 79 65')), { code: 1001, reason: 'bye' })
  })

  test('reads a private code and a multi-byte UTF-8 reason', () => {
    // 0F A0 = 4000, "ü€" = C3 BC E2 82 AC
    assert.deepStrictEqual(parseCloseBody(hex('0f a0 c3 bc e2 82 ac')), { code: 4000, reason: 'ü€' })
  })

  test('reads a reason of the longest length, 123 bytes', () => {
    const body = new Uint8Array(125).fill(0x7a)
    body.set(hex('03 e8'))
    assert.deepStrictEqual(parseCloseBody(body), { code: 1000, reason: 'z'.repeat(123) })
  })

  test('fails with 1002 ws-close-body-too-short on a 1-byte body', () => {
    const error = parseCloseBody(hex('03'))
    assert.ok(error instanceof WebSocketProtocolError)
    assert.equal(error.closeCode, 1002)
    assert.equal(error.code, 'ws-close-body-too-short')
  })

  test('fails with 1002 ws-invalid-close-code on a code that may not be sent', () => {
    // 03 ED = 1005, which only ever means "no code was received"
    const error = parseCloseBody(hex('03 ed 62 79 65'))
    assert.ok(error instanceof WebSocketProtocolError)
    assert.equal(error.closeCode, 1002)
    assert.equal(error.code, 'ws-invalid-close-code')
  })

  test('fails with 1007 ws-invalid-utf8 on a reason that is not UTF-8', () => {
    // 03 E8 = 1000, then FF
    const error = parseCloseBody(hex('03 e8 ff'))
    assert.ok(error instanceof WebSocketProtocolError)
    assert.equal(error.closeCode, 1007)
    assert.equal(error.code, 'ws-invalid-utf8')
  })

  test('fails with 1007 ws-invalid-utf8 on a reason cut inside a character', () => {
    // 03 E8 = 1000, then E2 82: two of the three bytes of "€"
    const error = parseCloseBody(hex('03 e8 e2 82'))
    assert.ok(error instanceof WebSocketProtocolError)
    assert.equal(error.code, 'ws-invalid-utf8')
  })
})

describe('encodeCloseBody', () => {
  test('encodes no code as an empty body', () => {
    assert.deepStrictEqual(encodeCloseBody(undefined), new Uint8Array(0))
  })

  test('encodes a code alone in network byte order', () => {
    assert.deepStrictEqual(encodeCloseBody(1000), hex('03 e8'))
    assert.deepStrictEqual(encodeCloseBody(4999), hex('13 87'))
  })

  test('encodes a string reason as UTF-8 after the code', () => {
    assert.deepStrictEqual(encodeCloseBody(1001, 'bye'), hex('03 e9 62 79 65'))
    assert.deepStrictEqual(encodeCloseBody(4000, 'ü€'), hex('0f a0 c3 bc e2 82 ac'))
  })

  test('copies a byte reason after the code', () => {
    assert.deepStrictEqual(encodeCloseBody(3000, hex('01 02')), hex('0b b8 01 02'))
  })
})
