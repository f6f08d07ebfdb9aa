// Volatile events (Socket.IO's `volatile` flag) are dropped, never queued, while the transport cannot take
// them at once: on polling when no GET waits for packets, on WebSocket while the send buffer is over its
// high-water mark. Other events wait and arrive.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { clientEvent, connectPair, startIo } from './helpers/socketio.js'

describe('volatile events and the transport’s state', () => {
  it('are dropped on polling while no GET is waiting, and the next GET carries the kept ones', async (t) => {
    const running = await startIo(t)
    const base = `${running.origin}/socket.io/?EIO=4&transport=polling`
    const open = await (await fetch(base)).text()
    const sid = (JSON.parse(open.slice(1)) as { sid: string }).sid
    const session = `${base}&sid=${sid}`
    assert.equal(await (await fetch(session, { method: 'POST', body: '40' })).text(), 'ok')
    assert.match(await (await fetch(session)).text(), /^40\{"sid":"[\w-]+"\}$/)
    const [server] = running.io.sockets.sockets.values()
    assert.ok(server?.connected)

    assert.equal(server.volatile.emit('news', 'dropped'), false)
    assert.equal(server.emit('news', 'kept'), true)
    assert.equal(await (await fetch(session)).text(), '42["news","kept"]')

    // With a GET waiting, a volatile event goes out on it.
    // The engine takes the GET in its own `request` listener, which runs before this later one.
    const arrived = once(running.http, 'request')
    const waiting = fetch(session).then((response) => response.text())
    await arrived
    assert.equal(server.conn.writable, true)
    assert.equal(server.volatile.emit('news', 'volatile, sent'), true)
    assert.equal(await waiting, '42["news","volatile, sent"]')
  })

  it('are dropped on WebSocket while the send buffer is over its high-water mark', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running, running.io.sockets, {
      transports: ['websocket'],
    })
    const big = 'x'.repeat(2 * 1024 * 1024)
    const got: string[] = []
    client.on('news', (value: string) => got.push(value.length > 100 ? `${value.length} chars` : value))
    const bigArrived = clientEvent(client, 'news')
    assert.equal(server.emit('news', big), true)
    assert.equal(server.volatile.emit('news', 'over the mark, dropped'), false)
    await bigArrived
    assert.equal(server.volatile.emit('news', 'under the mark, sent'), true)
    const last = clientEvent(client, 'news')
    await last
    assert.deepEqual(got, [`${big.length} chars`, 'under the mark, sent'])
  })
})
