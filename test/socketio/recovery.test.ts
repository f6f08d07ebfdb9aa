// Connection state recovery: the store on its own with a fake clock (offsets, the window, the packet limit),
// then the real socket.io-client reconnecting after the server dropped it: same id, rooms and data back, and the
// events it missed delivered in order.
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { Socket as ClientSocket } from 'socket.io-client'
import type { SocketIOServerOptions } from '../../src/socketio/options.js'
import { RecoveryStore } from '../../src/socketio/recovery.js'
import type { Socket } from '../../src/socketio/socket.js'
import {
  clientEvent,
  connectPair,
  nextSocket,
  type RunningIo,
  serverDisconnect,
  startIo,
} from './helpers/socketio.js'

function makeStore(t: TestContext, settings: Partial<ConstructorParameters<typeof RecoveryStore>[0]> = {}) {
  const clock = { now: 1_000_000 }
  const store = new RecoveryStore(
    { maxDisconnectionDurationMs: 1000, skipMiddlewares: true, maxStoredPackets: 100, ...settings },
    () => clock.now,
  )
  t.after(() => store.close())
  // Stores an event for `rooms` and returns its offset, as the client would read it.
  const send = (rooms: string[], name: string, except: string[] = [], namespace = '/') => {
    const data = [name, store.nextOffset]
    store.store(namespace, new Set(rooms), new Set(except), data)
    return data[1]
  }
  const persist = (pid: string, rooms: string[], emptyOffsetSeq = store.lastSeq) =>
    store.persist({ namespace: '/', id: `id-${pid}`, pid, rooms, data: { pid }, emptyOffsetSeq })
  return { store, clock, send, persist }
}

const names = (missed: unknown[][] | undefined) => missed?.map((data) => data[0])

describe('the recovery store', () => {
  it('replays what came after the offset for the session rooms, namespace and exclusions, in order', (t) => {
    const { store, send, persist } = makeStore(t)
    const seen = send(['a'], 'seen')
    persist('p1', ['id-p1', 'a'])
    send(['a'], 'to a')
    send([], 'to all')
    send(['b'], 'to b')
    send([], 'all but a', ['a'])
    send(['id-p1'], 'to its id')
    send([], 'other namespace', [], '/other')
    const restored = store.restore('/', 'p1', seen)
    assert.deepEqual(names(restored?.missed), ['to a', 'to all', 'to its id'])
    assert.equal(restored?.id, 'id-p1')
    assert.deepEqual(restored?.rooms, ['id-p1', 'a'])
    assert.deepEqual(restored?.data, { pid: 'p1' })
  })

  it('gives a session back once, and never for another namespace, an unknown pid or a forged offset', (t) => {
    const { store, send, persist } = makeStore(t)
    const seen = send([], 'seen')
    persist('p1', [])
    assert.equal(store.restore('/other', 'p1', seen), null)
    persist('p1', [])
    assert.equal(store.restore('/', 'nope', seen), null)
    assert.equal(store.restore('/', 'p1', 'not-an-offset'), null)
    persist('p2', [])
    assert.equal(store.restore('/', 'p2', `${seen.slice(0, -1)}zz`), null, 'an offset from the future')
    persist('p3', [])
    assert.notEqual(store.restore('/', 'p3', seen), null)
    assert.equal(store.restore('/', 'p3', seen), null)
  })

  it('replays from where the session first had an event sent when the client presents no offset', (t) => {
    const { store, send, persist } = makeStore(t)
    send([], 'before the session')
    persist('p1', ['r'])
    send(['r'], 'missed')
    assert.deepEqual(names(store.restore('/', 'p1', undefined)?.missed), ['missed'])
  })

  it('recovers exactly maxDisconnectionDurationMs after the disconnection, and not 1 ms later', (t) => {
    const { store, clock, send, persist } = makeStore(t, { maxDisconnectionDurationMs: 1000 })
    const seen = send([], 'seen')
    persist('p1', [])
    persist('p2', [])
    clock.now += 1000
    assert.notEqual(store.restore('/', 'p1', seen), null)
    clock.now += 1
    assert.equal(store.restore('/', 'p2', seen), null)
  })

  it('keeps maxStoredPackets events: a client that missed that many recovers, one that missed one more does not', (t) => {
    const { store, send, persist } = makeStore(t, { maxStoredPackets: 3 })
    const seen = send([], 'seen')
    persist('p1', [])
    persist('p2', [])
    for (const name of ['m1', 'm2', 'm3']) send([], name)
    assert.equal(store.size, 3)
    assert.deepEqual(names(store.restore('/', 'p1', seen)?.missed), ['m1', 'm2', 'm3'])
    send([], 'm4')
    assert.equal(store.size, 3)
    assert.equal(store.restore('/', 'p2', seen), null)
  })

  it('drops events older than the window, so a client that missed one of them starts afresh', (t) => {
    const { store, clock, send, persist } = makeStore(t, { maxDisconnectionDurationMs: 1000 })
    const seen = send([], 'seen')
    send([], 'old')
    clock.now += 600
    persist('p1', [])
    clock.now += 500
    send([], 'new')
    assert.equal(store.size, 1)
    assert.equal(store.restore('/', 'p1', seen), null)
  })
})

// A server with recovery where each new socket joins `room` and keeps `{ user }` in its data.
async function startRecovering(t: TestContext, options: SocketIOServerOptions = {}): Promise<RunningIo> {
  const running = await startIo(t, { connectionStateRecovery: {}, ...options })
  running.io.on('connection', (socket) => {
    if (socket.recovered) return
    socket.join('room')
    socket.data = { user: socket.handshake.auth.user }
  })
  return running
}

// Collects every `news` event of a client, without the offset that recovery appends.
function collect(client: ClientSocket): unknown[] {
  const got: unknown[] = []
  client.on('news', (value: unknown) => got.push(value))
  return got
}

// Drops the connection from the server side, sends `during` while the client is away, and waits for it back.
async function dropAndReturn(
  running: RunningIo,
  client: ClientSocket,
  server: Socket,
  during: (oldId: string) => void,
): Promise<Socket> {
  const reconnected = clientEvent(client, 'connect')
  const back = nextSocket(running.io.sockets)
  const gone = serverDisconnect(server)
  server.conn.close()
  assert.equal(await gone, 'forced close')
  during(server.id)
  await reconnected
  return back
}

for (const transport of ['websocket', 'polling'] as const) {
  describe(`recovery with socket.io-client over ${transport}`, () => {
    it('gives the same id, rooms and data back and delivers the events missed, in order', async (t) => {
      const running = await startRecovering(t)
      const { client, server } = await connectPair(t, running, running.io.sockets, {
        reconnection: true,
        transports: [transport],
        auth: { user: 'ann' },
      })
      const got = collect(client)
      const before = clientEvent(client, 'news')
      server.emit('news', 'before')
      await before
      const again = await dropAndReturn(running, client, server, (oldId) => {
        running.io.to('room').emit('news', 'to room')
        running.io.emit('news', 'to all')
        running.io.to('elsewhere').emit('news', 'not for it')
        running.io.to(oldId).emit('news', 'to its id')
      })
      assert.equal(again.recovered, true)
      assert.equal(client.recovered, true)
      assert.equal(again.id, server.id)
      assert.equal(client.id, server.id)
      assert.deepEqual([...again.rooms].sort(), [server.id, 'room'].sort())
      assert.deepEqual(again.data, { user: 'ann' })
      const after = clientEvent(client, 'news')
      again.emit('news', 'after')
      await after
      assert.deepEqual(got, ['before', 'to room', 'to all', 'to its id', 'after'])
    })
  })
}

describe('recovery rules', () => {
  it('recovers a client that had received no event before the drop (socket.io#4888)', async (t) => {
    const running = await startRecovering(t)
    const { client, server } = await connectPair(t, running, running.io.sockets, {
      reconnection: true,
      transports: ['websocket'],
    })
    const got = collect(client)
    const again = await dropAndReturn(running, client, server, () =>
      running.io.to('room').emit('news', 'missed'),
    )
    assert.equal(again.recovered, true)
    assert.equal(again.id, server.id)
    const flush = clientEvent(client, 'flush')
    again.emit('flush')
    await flush
    assert.deepEqual(got, ['missed'])
  })

  it('appends an offset to stored events only: not to volatile ones, nor to ones that wait for an ack', async (t) => {
    const running = await startRecovering(t)
    const { client, server } = await connectPair(t, running, running.io.sockets, {
      transports: ['websocket'],
    })
    const args: unknown[][] = []
    client.on('e', (...received: unknown[]) => {
      const last = received[received.length - 1]
      if (typeof last === 'function') (last as () => void)()
      args.push(received.filter((value) => typeof value !== 'function'))
    })
    server.emit('e', 'stored')
    server.volatile.emit('e', 'volatile')
    await server.emitWithAck('e', 'acked')
    assert.equal(args[0][0], 'stored')
    assert.match(String(args[0][1]), /^[\w-]{8}\.1$/)
    assert.deepEqual(args.slice(1), [['volatile'], ['acked']])
  })

  it('does not recover after "server namespace disconnect": the client gets a new session', async (t) => {
    const running = await startRecovering(t)
    const { client, server } = await connectPair(t, running, running.io.sockets, {
      transports: ['websocket'],
    })
    const first = clientEvent(client, 'news')
    server.emit('news', 'seen')
    await first
    const left = clientEvent(client, 'disconnect')
    server.disconnect()
    await left
    const back = nextSocket(running.io.sockets)
    client.connect()
    const again = await back
    assert.equal(again.recovered, false)
    assert.notEqual(again.id, server.id)
  })

  it('skips the middleware for a recovered socket by default, and runs it with skipMiddlewares: false', async (t) => {
    for (const skipMiddlewares of [true, false]) {
      const running = await startIo(t, { connectionStateRecovery: { skipMiddlewares } })
      let runs = 0
      running.io.use(() => {
        runs++
      })
      const { client, server } = await connectPair(t, running, running.io.sockets, {
        reconnection: true,
        transports: ['websocket'],
      })
      const again = await dropAndReturn(running, client, server, () => undefined)
      assert.equal(again.recovered, true)
      assert.equal(runs, skipMiddlewares ? 1 : 2, `skipMiddlewares: ${skipMiddlewares}`)
    }
  })

  it('gives a new session to a client that comes back after maxDisconnectionDurationMs', async (t) => {
    // The client waits 10 ms before reconnecting: ten times the window.
    const running = await startRecovering(t, { connectionStateRecovery: { maxDisconnectionDurationMs: 1 } })
    const { client, server } = await connectPair(t, running, running.io.sockets, {
      reconnection: true,
      transports: ['websocket'],
    })
    const first = clientEvent(client, 'news')
    server.emit('news', 'seen')
    await first
    const again = await dropAndReturn(running, client, server, () => undefined)
    assert.equal(again.recovered, false)
    assert.equal(client.recovered, false)
    assert.notEqual(again.id, server.id)
  })

  it('gives a new session rather than a stream with a hole when more than maxStoredPackets were missed', async (t) => {
    const running = await startRecovering(t, { connectionStateRecovery: { maxStoredPackets: 2 } })
    const { client, server } = await connectPair(t, running, running.io.sockets, {
      reconnection: true,
      transports: ['websocket'],
    })
    const first = clientEvent(client, 'news')
    server.emit('news', 'seen')
    await first
    const atLimit = await dropAndReturn(running, client, server, () => {
      running.io.emit('news', 'm1')
      running.io.emit('news', 'm2')
    })
    assert.equal(atLimit.recovered, true)
    const caughtUp = clientEvent(client, 'flush')
    atLimit.emit('flush')
    await caughtUp
    const pastLimit = await dropAndReturn(running, client, atLimit, () => {
      for (const name of ['m3', 'm4', 'm5']) running.io.emit('news', name)
    })
    assert.equal(pastLimit.recovered, false)
  })
})
