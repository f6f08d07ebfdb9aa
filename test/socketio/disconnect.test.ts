// How sockets end, with the reason each side reports (Socket.IO's names), and the real client's automatic
// reconnection after the server drops its connection.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { WebSocket } from 'ws'
import {
  clientEvent,
  connectClient,
  connectPair,
  makeManager,
  nextSocket,
  serverDisconnect,
  startIo,
} from './helpers/socketio.js'

describe('disconnect reasons', () => {
  it('reports "server namespace disconnect" on the server and "io server disconnect" on the client, which stays away', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running, running.io.sockets, { reconnection: true })
    const serverReason = serverDisconnect(server)
    const clientReason = clientEvent(client, 'disconnect')
    server.disconnect()
    assert.equal(await serverReason, 'server namespace disconnect')
    assert.deepEqual((await clientReason)[0], 'io server disconnect')
    assert.equal(client.active, false)
    assert.equal(server.disconnected, true)
  })

  it('reports "client namespace disconnect" when the client leaves the namespace', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running)
    const reason = serverDisconnect(server)
    client.disconnect()
    assert.equal(await reason, 'client namespace disconnect')
  })

  it('reports "transport close" when the client closes its connection', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running, running.io.sockets, {
      transports: ['websocket'],
    })
    const reason = serverDisconnect(server)
    client.io.engine.close()
    assert.equal(await reason, 'transport close')
  })

  it('ends every namespace of the session with disconnect(true)', async (t) => {
    const running = await startIo(t)
    const manager = makeManager(t, running, { transports: ['websocket'] })
    const inMain = nextSocket(running.io.sockets)
    const inChat = nextSocket(running.io.of('/chat'))
    const main = manager.socket('/').connect()
    const chat = manager.socket('/chat').connect()
    const [mainSocket, chatSocket] = await Promise.all([inMain, inChat])
    const reasons = Promise.all([serverDisconnect(mainSocket), serverDisconnect(chatSocket)])
    const clientReasons = Promise.all([clientEvent(main, 'disconnect'), clientEvent(chat, 'disconnect')])
    const closed = once(mainSocket.conn, 'close')
    mainSocket.disconnect(true)
    assert.deepEqual(await reasons, ['server namespace disconnect', 'server namespace disconnect'])
    assert.deepEqual(
      (await clientReasons).map(([reason]) => reason),
      ['io server disconnect', 'io server disconnect'],
    )
    await closed
  })

  for (const transport of ['polling', 'websocket'] as const) {
    it(`delivers what was emitted just before disconnect(true) over ${transport}`, async (t) => {
      const running = await startIo(t)
      const { client, server } = await connectPair(t, running, running.io.sockets, {
        transports: [transport],
      })
      const seen: string[] = []
      client.on('last', (value: string) => seen.push(`last ${value}`))
      const gone = clientEvent(client, 'disconnect')
      server.emit('last', 'words')
      server.disconnect(true)
      seen.push(`disconnect ${(await gone)[0]}`)
      assert.deepEqual(seen, ['last words', 'disconnect io server disconnect'])
    })
  }

  it('reports "server shutting down" when the server closes, and the client sees its transport close', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running, running.io.sockets, {
      transports: ['websocket'],
    })
    const reason = serverDisconnect(server)
    const clientReason = clientEvent(client, 'disconnect')
    await running.io.close()
    assert.equal(await reason, 'server shutting down')
    assert.equal((await clientReason)[0], 'transport close')
  })

  it('reports "ping timeout" for a client that stops answering pings', async (t) => {
    const running = await startIo(t, { pingIntervalMs: 20, pingTimeoutMs: 30 })
    const joined = nextSocket(running.io.sockets)
    // A bare WebSocket that joins `/` and then never answers the server's pings.
    const ws = new WebSocket(`ws://127.0.0.1:${running.port}/socket.io/?EIO=4&transport=websocket`)
    t.after(() => ws.terminate())
    await once(ws, 'message')
    ws.send('40')
    const socket = await joined
    assert.equal(await serverDisconnect(socket), 'ping timeout')
  })

  it('reports "transport error" for a message over maxPayloadBytes', async (t) => {
    const running = await startIo(t, { maxPayloadBytes: 1000 })
    const { client, server } = await connectPair(t, running, running.io.sockets, {
      transports: ['websocket'],
    })
    const reason = serverDisconnect(server)
    client.emit('big', 'x'.repeat(2000))
    assert.equal(await reason, 'transport error')
  })

  it('accepts a message of exactly maxPayloadBytes', async (t) => {
    const running = await startIo(t, { maxPayloadBytes: 1000 })
    const { client, server } = await connectPair(t, running, running.io.sockets, {
      transports: ['websocket'],
    })
    // `42["big","…"]` with the Engine.IO type in front: 11 bytes around the text.
    const text = 'x'.repeat(1000 - '42["big",""]'.length)
    const got = new Promise<unknown>((resolve) => server.on('big', resolve))
    client.emit('big', text)
    assert.equal(await got, text)
  })
})

describe('reconnection', () => {
  for (const transport of ['polling', 'websocket'] as const) {
    it(`lets the client reconnect by itself after the server drops its ${transport} connection, with a new id`, async (t) => {
      const running = await startIo(t)
      const { client, server } = await connectPair(t, running, running.io.sockets, {
        reconnection: true,
        transports: [transport],
      })
      const firstId = client.id
      const reason = serverDisconnect(server)
      const clientReason = clientEvent(client, 'disconnect')
      const again = nextSocket(running.io.sockets)
      const reconnected = clientEvent(client, 'connect')
      server.conn.close()
      assert.equal(await reason, 'forced close')
      assert.equal((await clientReason)[0], 'transport close')
      const second = await again
      await reconnected
      assert.equal(client.id, second.id)
      assert.notEqual(second.id, firstId)
      assert.equal(second.recovered, false)
      const echoed = new Promise<unknown>((resolve) => second.on('hello', resolve))
      client.emit('hello', 'again')
      assert.equal(await echoed, 'again')
    })
  }

  it('lets a client join again after its middleware refusal, when the reason is gone', async (t) => {
    const running = await startIo(t)
    let open = false
    running.io.use(() => (open ? undefined : new Error('closed for now')))
    const manager = makeManager(t, running)
    const client = manager.socket('/')
    client.connect()
    await clientEvent(client, 'connect_error')
    open = true
    client.connect()
    await clientEvent(client, 'connect')
    assert.equal(client.connected, true)
    const other = await connectClient(t, running)
    assert.equal(other.connected, true)
  })
})
