// Messages between the npm `ws` package (v8) and our server and client, in all four directions: every size
// class intact, fragments, order, and compression on the wire. Expected data is built here, never by our encoder.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, it, type TestContext } from 'node:test'
import {
  type Inbox,
  KiB,
  MiB,
  ourClientToWsServer,
  pattern,
  textOf,
  wsClientToOurServer,
  wsClosed,
} from '../helpers/ws-peer.js'

/** Per-frame options: `binary: false` sends text whatever the data's type; `fin: false` leaves the message open. */
interface FrameOptions {
  fin: boolean
  binary: boolean
}

/** One direction of one connection: who sends, who receives, and the bytes it took on the wire. */
interface Link {
  send(data: Buffer | string, options?: FrameOptions): void
  ping(payload: string): void
  inbox: Inbox
  wireBytes(): number
}

/** Opens a link; with deflate, messages of `threshold` bytes or more are compressed. */
type OpenLink = (t: TestContext, deflate: boolean, threshold?: number) => Promise<Link>

const directions: Record<string, OpenLink> = {
  'from a ws client to our server': async (t, deflate, threshold = 0) => {
    const { ws, serverInbox, wire } = await wsClientToOurServer(
      t,
      { perMessageDeflate: deflate && { thresholdBytes: threshold } },
      { perMessageDeflate: deflate && { threshold } },
    )
    return {
      send: (data, options) => ws.send(data, options ?? {}),
      ping: (payload) => ws.ping(payload),
      inbox: serverInbox,
      wireBytes: () => wire.bytesRead,
    }
  },
  'from our server to a ws client': async (t, deflate, threshold = 0) => {
    const { connection, inbox, wire } = await wsClientToOurServer(
      t,
      { perMessageDeflate: deflate && { thresholdBytes: threshold } },
      { perMessageDeflate: deflate && { threshold } },
    )
    return {
      send: (data, options) => connection.send(data, options),
      ping: (payload) => connection.ping(payload),
      inbox,
      wireBytes: () => wire.bytesWritten,
    }
  },
  'from our client to a ws server': async (t, deflate, threshold = 0) => {
    const { client, serverInbox, wire } = await ourClientToWsServer(
      t,
      { perMessageDeflate: deflate && { threshold } },
      { perMessageDeflate: deflate && { thresholdBytes: threshold } },
    )
    return {
      // Fragments need the connection underneath; whole messages go through the WHATWG API.
      send: (data, options) => (options ? client.connection!.send(data, options) : client.send(data)),
      ping: (payload) => client.ping(payload),
      inbox: serverInbox,
      wireBytes: () => wire.bytesRead,
    }
  },
  'from a ws server to our client': async (t, deflate, threshold = 0) => {
    const { socket, inbox, wire } = await ourClientToWsServer(
      t,
      { perMessageDeflate: deflate && { threshold } },
      { perMessageDeflate: deflate && { thresholdBytes: threshold } },
    )
    return {
      send: (data, options) => socket.send(data, options ?? {}),
      ping: (payload) => socket.ping(payload),
      inbox,
      wireBytes: () => wire.bytesWritten,
    }
  },
}

const sizes = [0, 1, 125, 126, 65535, 65536, MiB]
// 16 MiB costs a second or so per run, so it crosses once each way: into our inflater, out of our masker.
const hugeRuns = new Set([
  'from a ws client to our server, deflate on',
  'from our client to a ws server, deflate off',
])

for (const [direction, link] of Object.entries(directions)) {
  for (const deflate of [false, true]) {
    const mode = `deflate ${deflate ? 'on' : 'off'}`
    describe(`messages ${direction}, ${mode}`, () => {
      const binarySizes = hugeRuns.has(`${direction}, ${mode}`) ? [...sizes, 16 * MiB] : sizes
      for (const size of binarySizes) {
        it(`delivers a binary message of ${size} bytes intact ${direction} (${mode})`, async (t) => {
          const { send, inbox } = await link(t, deflate)
          const payload = pattern(size)
          send(payload)
          const [data, isBinary] = await inbox.next()
          assert.equal(isBinary, true)
          assert.equal(data.length, size)
          assert.ok(data.equals(payload), 'the bytes differ')
        })
      }

      for (const size of [0, 1, 125, 126, 65536, MiB]) {
        it(`delivers ${size} bytes of multi-byte UTF-8 text intact ${direction} (${mode})`, async (t) => {
          const { send, inbox } = await link(t, deflate)
          const text = textOf(size)
          send(text)
          const [data, isBinary] = await inbox.next()
          assert.equal(isBinary, false)
          assert.equal(data.toString('utf8'), text)
        })
      }

      it(`delivers 'héllo wörld — 日本語 🎉' as text ${direction} (${mode})`, async (t) => {
        const { send, inbox } = await link(t, deflate)
        send('héllo wörld — 日本語 🎉')
        const [data, isBinary] = await inbox.next()
        assert.equal(isBinary, false)
        // 'héllo wörld — 日本語 🎉' in UTF-8.
        const expected = Buffer.from(
          '68c3a96c6c6f2077c3b6726c6420e2809420e697a5e69cace8aa9e20f09f8e89',
          'hex',
        )
        assert.deepEqual(data, expected)
      })

      it(`sends a compressible 1 MiB message ${deflate ? 'compressed' : 'uncompressed'} ${direction}`, async (t) => {
        const { send, inbox, wireBytes } = await link(t, deflate)
        const before = wireBytes()
        send(pattern(MiB))
        await inbox.next()
        const onWire = wireBytes() - before
        if (deflate) assert.ok(onWire < 64 * KiB, `${onWire} bytes on the wire`)
        else assert.ok(onWire >= MiB, `${onWire} bytes on the wire`)
      })

      it(`keeps 1000 messages of mixed sizes in order ${direction} (${mode})`, async (t) => {
        // Every third message passes the 1024-byte threshold: compressed ones wait for zlib, and the small
        // uncompressed ones behind them must not overtake.
        const { send, inbox } = await link(t, deflate, 1024)
        const expected = Array.from(
          { length: 1000 },
          (_, i) => `${i}:` + 'x'.repeat(i % 3 === 0 ? 3000 : i % 7),
        )
        for (const message of expected) send(message)
        const received = await inbox.take(1000)
        assert.deepEqual(
          received.map(([data]) => data.toString()),
          expected,
        )
      })
    })
  }
}

describe('fragmented messages', () => {
  for (const [direction, link] of Object.entries(directions)) {
    for (const deflate of [false, true]) {
      const mode = `deflate ${deflate ? 'on' : 'off'}`
      it(`assembles text and binary sent in fragments, with a ping between, ${direction} (${mode})`, async (t) => {
        const { send, ping, inbox } = await link(t, deflate)
        send('frag', { fin: false, binary: false })
        ping('between')
        // '🎉' is f0 9f 8e 89, split here across two fragments.
        send(Buffer.from([0x6d, 0xc3, 0xa9, 0x6e, 0x74, 0x20, 0xf0, 0x9f]), { fin: false, binary: false })
        send(Buffer.from([0x8e, 0x89]), { fin: true, binary: false })
        const whole = pattern(3 * 64 * KiB)
        send(whole.subarray(0, 64 * KiB), { fin: false, binary: true })
        send(whole.subarray(64 * KiB, 128 * KiB), { fin: false, binary: true })
        send(whole.subarray(128 * KiB), { fin: true, binary: true })
        const [[text, textIsBinary], [bytes, bytesIsBinary]] = await inbox.take(2)
        assert.equal(textIsBinary, false)
        assert.equal(text.toString(), 'fragmént 🎉')
        assert.equal(bytesIsBinary, true)
        assert.ok(bytes.equals(whole), 'the bytes differ')
      })
    }
  }

  it('our server answers a ping that arrives between the fragments of a ws client message', async (t) => {
    const { ws, serverInbox } = await wsClientToOurServer(t)
    const pong = once(ws, 'pong')
    ws.send('one', { fin: false })
    ws.ping('between')
    const [payload] = (await pong) as [Buffer]
    assert.equal(payload.toString(), 'between')
    ws.send(' message', { fin: true })
    assert.equal((await serverInbox.next())[0].toString(), 'one message')
  })
})

describe('regressions', () => {
  it('a ping sent while frames wait in our queue reaches a ws client between frames, not inside one (#3)', async (t) => {
    const { ws, connection, inbox, wire } = await wsClientToOurServer(t)
    ws.on('error', () => {}) // A corrupted stream makes ws fail the connection; `closed` below reports it.
    const closed = wsClosed(ws).then(({ code }) => {
      throw new Error(`ws closed with ${code} before all messages arrived`)
    })
    // 12 MiB backs the socket up, so what follows waits in our own queue.
    connection.send(Buffer.alloc(12 * MiB, 1))
    // Sends go to the socket at the end of the turn.
    await new Promise((resolve) => setImmediate(resolve))
    assert.ok(wire.writableLength > 0, 'precondition: the socket is backed up')
    // 17 frames of 4 + 3851 bytes make 65535: the header after them crosses the 64 KiB socket budget.
    for (let i = 0; i < 17; i++) connection.send(Buffer.alloc(3851, 2))
    connection.send(Buffer.alloc(100 * KiB, 3))
    // The connection listens for 'drain' from the start, so this ping is written just after its flush.
    wire.once('drain', () => connection.ping('x'))
    const received = await Promise.race([inbox.take(19), closed])
    assert.ok(received[18][0].equals(Buffer.alloc(100 * KiB, 3)), 'the last message is corrupted')
  })
})
