// A server-side connection against a raw client on a real socket: control frames (RFC 6455 §5.5), the
// closing handshake (§7), the keepalive, and backpressure with a peer that stops reading.
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { WebSocket as WsClient } from 'ws'
import { WebSocket } from '../../src/websocket/client.js'
import type { WebSocketConnection } from '../../src/websocket/connection.js'
import { WebSocketServer, type WebSocketServerOptions } from '../../src/websocket/server.js'
import { hex } from '../helpers/bytes.js'
import { closeBody, masked, RawSocket, type WireFrame } from '../helpers/raw-socket.js'

const KiB = 1024
const MiB = 1024 * KiB

interface Peer {
  server: WebSocketServer
  port: number
  raw: RawSocket
  connection: WebSocketConnection
  /** The server-side close event: [code, reason, wasClean]. */
  closed: Promise<[code: number, reason: string, wasClean: boolean]>
}

async function listenWs(t: TestContext, options: WebSocketServerOptions = {}) {
  const server = new WebSocketServer(options)
  const { port } = await server.listen()
  t.after(async () => {
    for (const client of server.clients) client.terminate()
    await server.close()
  })
  return { server, port }
}

function nextConnection(server: WebSocketServer): Promise<WebSocketConnection> {
  return new Promise((resolve) => server.once('connection', resolve))
}

/** A server and one raw client connected to it. */
async function connect(t: TestContext, options: WebSocketServerOptions = {}): Promise<Peer> {
  const { server, port } = await listenWs(t, options)
  const accepted = nextConnection(server)
  const raw = await RawSocket.connect(port)
  t.after(() => raw.destroy())
  const connection = await accepted
  const closed = new Promise<[number, string, boolean]>((resolve) =>
    connection.once('close', (...args) => resolve(args)),
  )
  return { server, port, raw, connection, closed }
}

/** Reads frames until one matches, returning it and every frame before it. */
async function readUntil(raw: RawSocket, match: (frame: WireFrame) => boolean): Promise<WireFrame[]> {
  const frames: WireFrame[] = []
  for (;;) {
    const frame = await raw.nextFrame()
    frames.push(frame)
    if (match(frame)) return frames
  }
}

/** Literal hex as a Buffer, to compare with a received payload. */
const bytes = (text: string): Buffer => Buffer.from(hex(text))

const isPongOf = (payload: string) => (frame: WireFrame) =>
  frame.opcode === 0xa && frame.payload.toString() === payload

describe('control frames', () => {
  it('answers a ping with an unmasked pong carrying the same payload', async (t) => {
    const { raw } = await connect(t)
    // RFC 6455 §5.7: a masked ping carrying "Hello".
    raw.write(hex('89 85 37 fa 21 3d 7f 9f 4d 51 58'))
    const pong = await raw.nextFrame()
    assert.deepEqual([pong.opcode, pong.fin, pong.masked], [0xa, true, false])
    assert.deepEqual(pong.payload, bytes('48 65 6c 6c 6f'))
  })

  it('answers an empty ping with an empty pong', async (t) => {
    const { raw } = await connect(t)
    raw.write(masked(0x89))
    const pong = await raw.nextFrame()
    assert.deepEqual([pong.opcode, pong.payload.length], [0xa, 0])
  })

  it('answers a ping between two fragments and still delivers the message whole', async (t) => {
    const { raw, connection } = await connect(t)
    const messages: string[] = []
    connection.on('message', (data) => messages.push(data.toString()))
    // "Hel" without FIN, a ping, then "lo" as the final continuation (RFC 6455 §5.4, §5.7).
    raw.write(Buffer.concat([masked(0x01, 'Hel'), masked(0x89, 'mid'), masked(0x80, 'lo')]))
    const pong = await raw.nextFrame()
    assert.equal(pong.opcode, 0xa)
    assert.equal(pong.payload.toString(), 'mid')
    raw.write(masked(0x89, 'sync'))
    await readUntil(raw, isPongOf('sync'))
    assert.deepEqual(messages, ['Hello'])
  })

  it('answers a flood of 1000 pings in one write with few pongs, the last echoing the last ping', async (t) => {
    const { raw, connection } = await connect(t)
    const pings = Array.from({ length: 1000 }, (_, i) => masked(0x89, `p${i}`))
    raw.write(Buffer.concat(pings))
    const frames = await readUntil(raw, isPongOf('p999'))
    assert.ok(frames.every((frame) => frame.opcode === 0xa))
    assert.ok(frames.length >= 1 && frames.length < 100, `${frames.length} pongs for 1000 pings`)
    const numbers = frames.map((frame) => Number(frame.payload.toString().slice(1)))
    assert.deepEqual(
      numbers,
      [...numbers].sort((a, b) => a - b),
      'pongs answer pings in order',
    )
    // Nothing more from the flood: the next frame answers the next ping.
    raw.write(masked(0x89, 'after'))
    assert.equal((await raw.nextFrame()).payload.toString(), 'after')
    assert.equal(connection.state, 'open')
  })

  it('emits ping and pong events with their payloads', async (t) => {
    const { raw, connection } = await connect(t)
    const pinged = new Promise<Buffer>((resolve) => connection.once('ping', resolve))
    const ponged = new Promise<Buffer>((resolve) => connection.once('pong', resolve))
    raw.write(Buffer.concat([masked(0x89, 'are you there'), masked(0x8a, 'unsolicited')]))
    assert.equal((await pinged).toString(), 'are you there')
    assert.equal((await ponged).toString(), 'unsolicited')
  })

  it('sends a ping from ping() and refuses a payload over 125 bytes', async (t) => {
    const { raw, connection } = await connect(t)
    connection.ping('hi')
    const ping = await raw.nextFrame()
    assert.deepEqual([ping.opcode, ping.payload.toString()], [0x9, 'hi'])
    assert.throws(() => connection.ping('x'.repeat(126)), {
      name: 'RangeError',
      code: 'ws-control-payload-too-long',
    })
  })
})

describe('closing handshake', () => {
  it('sends close(4000, "bye"), waits for the answer, and closes TCP first', async (t) => {
    const { raw, connection, closed } = await connect(t)
    connection.close(4000, 'bye')
    assert.equal(connection.state, 'closing')
    const frame = await raw.nextFrame()
    assert.equal(frame.opcode, 0x8)
    // 4000 is 0x0fa0, then "bye".
    assert.deepEqual(frame.payload, bytes('0f a0 62 79 65'))
    // The answer: 4000 again, with the reason "ok".
    raw.write(masked(0x88, hex('0f a0 6f 6b')))
    // The server's FIN arrives although this side has not ended: the server closed TCP first (§7.1.1).
    await raw.ended()
    await raw.closed()
    // §7.1.5–7.1.6: the close event reports the close frame received, so the peer's reason.
    assert.deepEqual(await closed, [4000, 'ok', true])
    assert.equal(connection.state, 'closed')
  })

  it("echoes a client's close code and closes TCP", async (t) => {
    const { raw, closed } = await connect(t)
    // Close 1000 (0x03e8) with the reason "done".
    raw.write(masked(0x88, Buffer.concat([hex('03 e8'), Buffer.from('done')])))
    const frame = await raw.nextFrame()
    assert.equal(frame.opcode, 0x8)
    assert.deepEqual(frame.payload, bytes('03 e8'))
    await raw.ended()
    assert.deepEqual(await closed, [1000, 'done', true])
  })

  it('answers a close frame without a body with an empty one and reports 1005', async (t) => {
    const { raw, closed } = await connect(t)
    raw.write(masked(0x88))
    const frame = await raw.nextFrame()
    assert.deepEqual([frame.opcode, frame.payload.length], [0x8, 0])
    await raw.closed()
    assert.deepEqual(await closed, [1005, '', true])
  })

  it('drops a peer that never answers its close after closeTimeoutMs, not cleanly', async (t) => {
    const { raw, connection, closed } = await connect(t, { closeTimeoutMs: 200 })
    const started = Date.now()
    connection.close(1000)
    assert.equal((await raw.nextFrame()).opcode, 0x8)
    const [code, , wasClean] = await closed
    const waited = Date.now() - started
    assert.equal(wasClean, false)
    assert.equal(code, 1006)
    assert.ok(waited >= 190 && waited < 2000, `dropped after ${waited} ms`)
    await raw.closed()
  })

  it('sends the messages queued before close ahead of the close frame', async (t) => {
    const { raw, connection } = await connect(t)
    connection.send('first')
    connection.send(Buffer.alloc(64 * KiB, 1))
    connection.close(1000)
    assert.equal(connection.send('too late'), false)
    const frames = [await raw.nextFrame(), await raw.nextFrame(), await raw.nextFrame()]
    assert.deepEqual(
      frames.map((frame) => [frame.opcode, frame.payload.length]),
      [
        [0x1, 5],
        [0x2, 64 * KiB],
        [0x8, 2],
      ],
    )
  })

  for (const code of [999, 1004, 1005, 1006, 1015, 5000]) {
    it(`throws a RangeError with a code for close(${code})`, async (t) => {
      const { connection } = await connect(t)
      assert.throws(() => connection.close(code), { name: 'RangeError', code: 'ws-invalid-close-code' })
      assert.equal(connection.state, 'open')
    })
  }

  it('throws a RangeError for a close reason of 124 bytes and accepts one of 123', async (t) => {
    const { raw, connection } = await connect(t)
    assert.throws(() => connection.close(1000, 'x'.repeat(124)), {
      name: 'RangeError',
      code: 'ws-close-reason-too-long',
    })
    // 62 two-byte characters are 124 bytes of UTF-8 although the string has 62 units.
    assert.throws(() => connection.close(1000, 'é'.repeat(62)), { name: 'RangeError' })
    connection.close(1000, 'x'.repeat(123))
    const frame = await raw.nextFrame()
    assert.equal(frame.payload.length, 125)
    assert.equal(closeBody(frame).reason, 'x'.repeat(123))
  })
})

describe('keepalive', () => {
  it('cuts a peer that never answers pings with 1006 after the interval and the timeout', async (t) => {
    const started = Date.now()
    const { raw, closed } = await connect(t, { pingIntervalMs: 200, pingTimeoutMs: 200 })
    const ping = await raw.nextFrame()
    const pingedAfter = Date.now() - started
    assert.equal(ping.opcode, 0x9)
    const [code, , wasClean] = await closed
    const cutAfter = Date.now() - started
    assert.equal(code, 1006)
    assert.equal(wasClean, false)
    // Timers may be coarse (a sweep), so the lower bounds allow half a setting; the upper one is the contract.
    assert.ok(pingedAfter >= 100, `pinged after ${pingedAfter} ms`)
    assert.ok(cutAfter - pingedAfter >= 100, `cut ${cutAfter - pingedAfter} ms after the ping`)
    assert.ok(cutAfter < 200 + 200 + 1000, `cut after ${cutAfter} ms`)
    await raw.closed()
  })

  it('keeps a ws client that answers pings open across several intervals', async (t) => {
    const { server, port } = await listenWs(t, { pingIntervalMs: 100, pingTimeoutMs: 100 })
    const accepted = nextConnection(server)
    const client = new WsClient(`ws://127.0.0.1:${port}/`)
    t.after(() => client.terminate())
    let pings = 0
    const thirdPing = new Promise<void>((resolve) =>
      client.on('ping', () => {
        if (++pings === 3) resolve()
      }),
    )
    const connection = await accepted
    let closedEarly = false
    connection.once('close', () => {
      closedEarly = true
    })
    await thirdPing
    assert.equal(closedEarly, false)
    assert.equal(connection.state, 'open')
    assert.equal(client.readyState, WsClient.OPEN)
  })

  it('keeps our own client open across several intervals, as it answers pings', async (t) => {
    const { server, port } = await listenWs(t, { pingIntervalMs: 100, pingTimeoutMs: 100 })
    const accepted = nextConnection(server)
    const client = new WebSocket(`ws://127.0.0.1:${port}/`)
    t.after(() => client.terminate())
    await new Promise((resolve) => client.addEventListener('open', resolve))
    let pings = 0
    const thirdPing = new Promise<void>((resolve) =>
      client.connection!.on('ping', () => {
        if (++pings === 3) resolve()
      }),
    )
    const connection = await accepted
    await thirdPing
    assert.equal(connection.state, 'open')
    assert.equal(client.readyState, WebSocket.OPEN)
  })

  it('sends no pings when pingIntervalMs is 0', async (t) => {
    const { raw, connection } = await connect(t, { pingIntervalMs: 0, pingTimeoutMs: 50 })
    // Silence is what is tested, so a fixed wait is unavoidable; 300 ms is six times the timeout.
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.deepEqual(raw.takeReceived(), [])
    assert.equal(raw.bytesReceived, 0)
    assert.equal(connection.state, 'open')
  })
})

describe('backpressure', () => {
  /** A payload of `size` bytes that starts with its sequence number, so order and loss show. */
  function numbered(index: number, size: number): Buffer {
    const payload = Buffer.alloc(size, index & 0xff)
    payload.writeUInt32BE(index, 0)
    return payload
  }

  it('returns false past highWaterMarkBytes, then emits drain and delivers everything in order', async (t) => {
    const { raw, connection } = await connect(t, {
      highWaterMarkBytes: 256 * KiB,
      maxBufferedBytes: 64 * MiB,
    })
    raw.pause()
    let sent = 0
    let accepted = true
    let previous = 0
    while (accepted && sent < 4096) {
      accepted = connection.send(numbered(sent, 16 * KiB))
      sent++
      assert.ok(connection.bufferedAmount >= previous, 'bufferedAmount only grows while nobody reads')
      previous = connection.bufferedAmount
    }
    assert.equal(accepted, false, `send still returned true after ${sent} messages`)
    assert.ok(connection.bufferedAmount >= 256 * KiB)
    const drained = new Promise<void>((resolve) => connection.once('drain', resolve))
    raw.resume()
    await drained
    assert.ok(connection.bufferedAmount < 256 * KiB)
    for (let i = 0; i < sent; i++) {
      const frame = await raw.nextFrame()
      assert.equal(frame.opcode, 0x2)
      assert.equal(frame.payload.length, 16 * KiB)
      assert.equal(frame.payload.readUInt32BE(0), i)
    }
  })

  it('fails a peer that does not read with 1008 past maxBufferedBytes, with bounded memory', async (t) => {
    const { raw, connection, closed } = await connect(t, {
      highWaterMarkBytes: 64 * KiB,
      maxBufferedBytes: 1 * MiB,
    })
    const errors: string[] = []
    connection.on('error', (error) => errors.push((error as Error & { code: string }).code))
    raw.pause()
    const chunk = Buffer.alloc(64 * KiB, 0x61)
    let sends = 0
    while (connection.state === 'open' && sends < 4096) {
      connection.send(chunk)
      sends++
    }
    assert.equal(connection.state, 'closing', `still open after ${sends} sends`)
    assert.deepEqual(errors, ['ws-send-queue-full'])
    const afterFailure = connection.bufferedAmount
    assert.ok(afterFailure <= 1 * MiB + 64 * KiB, `${afterFailure} bytes still buffered`)
    for (let i = 0; i < 100; i++) assert.equal(connection.send(chunk), false)
    assert.ok(connection.bufferedAmount <= afterFailure, 'sends after the failure are not buffered')
    raw.resume()
    const [last] = (await readUntil(raw, (frame) => frame.opcode === 0x8)).slice(-1)
    assert.equal(closeBody(last).code, 1008)
    await raw.closed()
    assert.equal((await closed)[0], 1008)
  })

  it('sends a pong ahead of megabytes of queued data', async (t) => {
    const { raw, connection } = await connect(t)
    raw.pause()
    const chunk = Buffer.alloc(64 * KiB, 0x62)
    const frameBytes = 10 + 64 * KiB
    let count = 0
    // Sends leave at the end of the turn and the kernel takes a few MiB of them, so fill again until 8 MiB
    // stay held by the server itself.
    while (connection.bufferedAmount < 8 * MiB && count < 2048) {
      while (connection.bufferedAmount < 8 * MiB && count < 2048) {
        connection.send(chunk)
        count++
      }
      await new Promise((resolve) => setImmediate(resolve))
    }
    const pinged = new Promise<void>((resolve) => connection.once('ping', () => resolve()))
    raw.write(masked(0x89, 'urgent'))
    await pinged
    // What the server still holds; everything else is in the kernel and necessarily arrives first.
    const held = connection.bufferedAmount
    assert.ok(held >= 8 * MiB)
    raw.resume()
    const frames = await readUntil(raw, isPongOf('urgent'))
    const pong = frames[frames.length - 1]
    const alreadySent = count * frameBytes - held
    assert.ok(
      pong.offset <= alreadySent + 1 * MiB,
      `pong at byte ${pong.offset}; ${alreadySent} bytes had left the queue, ${held} were held`,
    )
    let data = frames.length - 1
    while (data < count) {
      const frame = await raw.nextFrame()
      assert.equal(frame.opcode, 0x2)
      assert.equal(frame.payload.length, 64 * KiB)
      data++
    }
  })
})
