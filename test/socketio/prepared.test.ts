// Events encoded once by `nsp.prepare` and sent with `socket.emitPrepared` to sockets picked one by one (the
// hub's fan-out): every transport gets the same event as `emit` would send, binary attachments included.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { bytesOf, clientEvent, connectPair, startIo } from './helpers/socketio.js'

describe('prepared events', () => {
  it('reach a WebSocket and a polling client alike, with binary attachments', async (t) => {
    const running = await startIo(t)
    const ws = await connectPair(t, running, running.io.sockets, { transports: ['websocket'] })
    const polling = await connectPair(t, running, running.io.sockets, { transports: ['polling'] })
    const prepared = running.io.sockets.prepare('news', { text: 'héllo', bytes: Buffer.from([0, 255]) }, 7)
    const got = [clientEvent(ws.client, 'news'), clientEvent(polling.client, 'news')]
    assert.equal(ws.server.emitPrepared(prepared), true)
    assert.equal(polling.server.emitPrepared(prepared), true)
    for (const [payload, seven] of (await Promise.all(got)) as [{ text: string; bytes: unknown }, number][]) {
      assert.equal(payload.text, 'héllo')
      assert.deepEqual(bytesOf(payload.bytes), Buffer.from([0, 255]))
      assert.equal(seven, 7)
    }
  })

  it('refuses an event prepared for another namespace, and reserved names as emit does', async (t) => {
    const running = await startIo(t)
    const { server } = await connectPair(t, running)
    const elsewhere = running.io.of('/other').prepare('news', 1)
    assert.throws(() => server.emitPrepared(elsewhere), { code: 'sio-prepared-namespace' })
    assert.throws(() => running.io.sockets.prepare('disconnect'), { code: 'sio-reserved-event-name' })
  })

  it('is dropped, as emit is, once the socket is gone', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running)
    const gone = new Promise((resolve) => server.once('disconnect', resolve))
    client.disconnect()
    await gone
    assert.equal(server.emitPrepared(running.io.sockets.prepare('news', 1)), false)
  })
})

describe('shared frames and permessage-deflate', () => {
  it('compresses broadcasts and prepared events for a session that negotiated permessage-deflate', async (t) => {
    const running = await startIo(t, { perMessageDeflate: true })
    const { WebSocket } = await import('ws')
    const ws = new WebSocket(`ws://127.0.0.1:${running.port}/socket.io/?EIO=4&transport=websocket`, {
      perMessageDeflate: true,
    })
    t.after(() => ws.terminate())
    const messages: string[] = []
    const waiters: (() => void)[] = []
    ws.on('message', (data) => {
      messages.push(String(data))
      waiters.shift()?.()
    })
    const next = async () => {
      while (messages.length === 0) await new Promise<void>((resolve) => waiters.push(resolve))
      return messages.shift() ?? ''
    }
    assert.match(await next(), /^0\{/)
    ws.send('40')
    assert.match(await next(), /^40\{/)
    assert.equal(ws.extensions, 'permessage-deflate')
    const big = 'lorem ipsum '.repeat(20_000)
    const socket = ws as unknown as { _socket: { bytesRead: number } }
    for (const send of [
      () => running.io.emit('news', big),
      () => {
        const [server] = running.io.sockets.sockets.values()
        server?.emitPrepared(running.io.sockets.prepare('news', big))
      },
    ]) {
      const before = socket._socket.bytesRead
      send()
      assert.equal(await next(), `42["news","${big}"]`)
      const read = socket._socket.bytesRead - before
      assert.ok(read < 10_000, `${read} bytes on the wire for a ${big.length}-character event`)
    }
  })
})
