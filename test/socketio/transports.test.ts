// The npm socket.io-client (4.x) against our server on each transport: polling only, WebSocket only, and
// polling upgraded to WebSocket; the CONNECT answer, events both ways, and the ids each side sees.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { clientEvent, connectPair, startIo } from './helpers/socketio.js'

const cases = [
  { name: 'polling only', transports: ['polling'], expected: 'polling' },
  { name: 'WebSocket only', transports: ['websocket'], expected: 'websocket' },
] as const

for (const { name, transports, expected } of cases) {
  describe(`socket.io-client, ${name}`, () => {
    it(`joins the main namespace on ${expected} with a socket id that is not the Engine.IO id`, async (t) => {
      const running = await startIo(t)
      const { client, server } = await connectPair(t, running, running.io.sockets, {
        transports: [...transports],
      })
      assert.equal(server.conn.transport, expected)
      assert.equal(client.io.engine.transport.name, expected)
      assert.equal(client.id, server.id)
      assert.match(server.id, /^[\w-]{20}$/)
      assert.notEqual(server.id, server.conn.id)
      assert.equal(server.connected, true)
      assert.equal(server.recovered, false)
    })

    it(`carries events both ways on ${expected}, in order`, async (t) => {
      const running = await startIo(t)
      const { client, server } = await connectPair(t, running, running.io.sockets, {
        transports: [...transports],
      })
      const got: unknown[][] = []
      const all = new Promise<void>((resolve) =>
        server.on('note', (...args) => {
          got.push(args)
          if (got.length === 3) resolve()
        }),
      )
      client.emit('note', 1)
      client.emit('note', 'two', { three: [3] })
      client.emit('note', null, true, 'é€😀')
      await all
      assert.deepEqual(got, [[1], ['two', { three: [3] }], [null, true, 'é€😀']])
      const welcome = clientEvent(client, 'welcome')
      server.emit('welcome', { to: server.id }, [1, 2])
      assert.deepEqual(await welcome, [{ to: server.id }, [1, 2]])
    })
  })
}

describe('socket.io-client, polling upgraded to WebSocket', () => {
  it('keeps the socket across the upgrade and carries events on the WebSocket afterwards', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running, running.io.sockets, {
      transports: ['polling', 'websocket'],
    })
    if (server.conn.transport !== 'websocket') await once(server.conn, 'upgrade')
    assert.equal(server.conn.transport, 'websocket')
    const echoed = new Promise<unknown[]>((resolve) => server.on('echo', (...args) => resolve(args)))
    client.emit('echo', 'after upgrade')
    assert.deepEqual(await echoed, ['after upgrade'])
    assert.equal(client.io.engine.transport.name, 'websocket')
    const back = clientEvent(client, 'back')
    server.emit('back', 42)
    assert.deepEqual(await back, [42])
  })

  it('delivers events sent while the upgrade is under way, in order', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running, running.io.sockets, {
      transports: ['polling', 'websocket'],
    })
    const received: number[] = []
    const done = new Promise<void>((resolve) =>
      client.on('n', (n: number) => {
        received.push(n)
        if (received.length === 50) resolve()
      }),
    )
    // From the start of the upgrade to its end, one event per turn of the event loop.
    let n = 0
    const tick = () => {
      server.emit('n', n++)
      if (n < 50) setImmediate(tick)
    }
    tick()
    await done
    assert.deepEqual(
      received,
      Array.from({ length: 50 }, (_, i) => i),
    )
  })
})
