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
