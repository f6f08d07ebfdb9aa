// Rooms and broadcasts with real socket.io-clients: to/in, except, broadcasts from a socket leaving it out,
// each socket reached once, the socket operations (fetch, join, leave, disconnect), broadcast acks, and
// volatile events dropped while the transport cannot take them.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, it, type TestContext } from 'node:test'
import type { Socket as ClientSocket } from 'socket.io-client'
import { LocalRooms } from '../../src/socketio/rooms.js'
import type { Socket } from '../../src/socketio/socket.js'
import {
  type ClientOptions,
  clientEvent,
  connectPair,
  type RunningIo,
  serverDisconnect,
  startIo,
} from './helpers/socketio.js'

interface Peer {
  client: ClientSocket
  server: Socket
  /** Every `news` event this client got, as its first argument. */
  got: unknown[]
}

// Connects `count` clients, each recording its `news` events.
async function peers(
  t: TestContext,
  running: RunningIo,
  count: number,
  options: ClientOptions = {},
): Promise<Peer[]> {
  const list: Peer[] = []
  for (let i = 0; i < count; i++) {
    const { client, server } = await connectPair(t, running, running.io.sockets, options)
    const got: unknown[] = []
    client.on('news', (value: unknown) => got.push(value))
    list.push({ client, server, got })
  }
  return list
}

// Every client answers `flush` after the events sent before it, so all of them have arrived.
async function settle(list: readonly Peer[]): Promise<void> {
  await Promise.all(
    list.map(
      ({ client, server }) =>
        new Promise<void>((resolve) => {
          client.once('flush', () => resolve())
          server.emit('flush')
        }),
    ),
  )
}

describe('rooms', () => {
  it('sends io.to(room) to the members of the room only, and io.in the same', async (t) => {
    const running = await startIo(t)
    const [a, b, c] = await peers(t, running, 3)
    a.server.join('red')
    b.server.join(['red', 'blue'])
    running.io.to('red').emit('news', 'to red')
    running.io.in('blue').emit('news', 'in blue')
    await settle([a, b, c])
    assert.deepEqual(a.got, ['to red'])
    assert.deepEqual(b.got, ['to red', 'in blue'])
    assert.deepEqual(c.got, [])
  })

  it('reaches a socket in several of the targeted rooms once', async (t) => {
    const running = await startIo(t)
    const [a] = await peers(t, running, 1)
    a.server.join(['x', 'y'])
    running.io.to('x').to('y').emit('news', 'once')
    running.io.to(['x', 'y']).emit('news', 'once more')
    await settle([a])
    assert.deepEqual(a.got, ['once', 'once more'])
  })

  it('leaves the sender out of socket.to(room) and socket.broadcast', async (t) => {
    const running = await startIo(t)
    const [a, b, c] = await peers(t, running, 3)
    for (const peer of [a, b]) peer.server.join('room')
    a.server.to('room').emit('news', 'from a to room')
    a.server.broadcast.emit('news', 'from a to all')
    await settle([a, b, c])
    assert.deepEqual(a.got, [])
    assert.deepEqual(b.got, ['from a to room', 'from a to all'])
    assert.deepEqual(c.got, ['from a to all'])
  })

  it('leaves out the sockets of except(room), also when combined with to(room)', async (t) => {
    const running = await startIo(t)
    const [a, b, c] = await peers(t, running, 3)
    a.server.join(['team', 'muted'])
    b.server.join('team')
    running.io.except('muted').emit('news', 'all but muted')
    running.io.to('team').except('muted').emit('news', 'team but muted')
    c.server.except('team').emit('news', 'from c, not to team')
    await settle([a, b, c])
    assert.deepEqual(a.got, [])
    assert.deepEqual(b.got, ['all but muted', 'team but muted'])
    assert.deepEqual(c.got, ['all but muted'])
  })

  it('stops sending to a room a socket left, and forgets empty rooms', async (t) => {
    const running = await startIo(t)
    const [a] = await peers(t, running, 1)
    a.server.join('temp')
    assert.deepEqual([...a.server.rooms].sort(), [a.server.id, 'temp'].sort())
    a.server.leave('temp')
    running.io.to('temp').emit('news', 'nobody')
    await settle([a])
    assert.deepEqual(a.got, [])
    assert.equal(running.io.sockets.adapter.rooms.has('temp'), false)
  })

  it('leaves the room registry alone when a disconnected socket calls join or leave', async (t) => {
    // A registry that records what reaches it after the socket is gone.
    const late: string[] = []
    let gone = false
    class RecordingRooms extends LocalRooms {
      override addAll(id: string, rooms: Iterable<string>): void {
        if (gone) late.push(`join ${[...rooms].join(',')}`)
        super.addAll(id, rooms)
      }
      override del(id: string, room: string): void {
        if (gone) late.push(`leave ${room}`)
        super.del(id, room)
      }
    }
    const running = await startIo(t, { adapter: () => new RecordingRooms() })
    const [a] = await peers(t, running, 1)
    a.server.join('r1')
    const left = new Promise<void>((resolve) =>
      a.server.on('disconnect', () => {
        gone = true
        // The cleanup users write: it must not re-enter the registry for a socket it already forgot.
        a.server.leave('r1')
        a.server.join('r2')
        resolve()
      }),
    )
    a.client.disconnect()
    await left
    assert.deepEqual(late, [])
    assert.equal(running.io.sockets.adapter.rooms.has('r2'), false)
  })

  it('takes a disconnected socket out of every room, after its disconnecting listeners saw them', async (t) => {
    const running = await startIo(t)
    const [a] = await peers(t, running, 1)
    a.server.join('r1')
    const seen = new Promise<string[]>((resolve) =>
      a.server.on('disconnecting', () => resolve([...a.server.rooms])),
    )
    const gone = serverDisconnect(a.server)
    a.client.disconnect()
    assert.deepEqual((await seen).sort(), [a.server.id, 'r1'].sort())
    await gone
    assert.equal(running.io.sockets.adapter.rooms.has('r1'), false)
    assert.equal(running.io.sockets.sockets.has(a.server.id), false)
  })
})

describe('socket operations on a selection', () => {
  it('fetches, joins, leaves and disconnects the matching sockets', async (t) => {
    const running = await startIo(t)
    const [a, b, c] = await peers(t, running, 3)
    a.server.join('g')
    b.server.join('g')
    const inG = await running.io.in('g').fetchSockets()
    assert.deepEqual(inG.map((s) => s.id).sort(), [a.server.id, b.server.id].sort())
    running.io.in('g').socketsJoin('h')
    assert.equal(running.io.sockets.adapter.rooms.get('h')?.size, 2)
    running.io.socketsLeave('g')
    assert.equal(running.io.sockets.adapter.rooms.has('g'), false)
    const reasons = Promise.all([clientEvent(a.client, 'disconnect'), clientEvent(b.client, 'disconnect')])
    running.io.in('h').disconnectSockets()
    assert.deepEqual(
      (await reasons).map(([reason]) => reason),
      ['io server disconnect', 'io server disconnect'],
    )
    assert.deepEqual([...running.io.sockets.sockets.keys()], [c.server.id])
  })

  it('collects one ack per socket with io.timeout(ms).emitWithAck, and rejects with the replies so far', async (t) => {
    const running = await startIo(t)
    const [a, b, c] = await peers(t, running, 3)
    a.client.on('count', (ack: (n: number) => void) => ack(1))
    b.client.on('count', (ack: (n: number) => void) => ack(2))
    c.client.on('count', () => undefined)
    a.server.join('answering')
    b.server.join('answering')
    const replies = await running.io.to('answering').timeout(1000).emitWithAck('count')
    assert.deepEqual((replies as number[]).sort(), [1, 2])
    const error = await running.io
      .timeout(30)
      .emitWithAck('count')
      .then(
        () => assert.fail('resolved'),
        (e: Error & { replies: unknown[] }) => e,
      )
    assert.equal(error.message, 'operation has timed out')
    assert.deepEqual((error.replies as number[]).sort(), [1, 2])
    assert.deepEqual(await running.io.to('empty room').timeout(10).emitWithAck('count'), [])
  })
})

describe('volatile events', () => {
  it('delivers volatile events to sockets whose transport is writable', async (t) => {
    const running = await startIo(t)
    // WebSocket only: a session still upgrading from polling would drop them, as the next test shows.
    const [a, b] = await peers(t, running, 2, { transports: ['websocket'] })
    running.io.volatile.emit('news', 'volatile broadcast')
    a.server.volatile.emit('news', 'volatile to a')
    await settle([a, b])
    assert.deepEqual(a.got, ['volatile broadcast', 'volatile to a'])
    assert.deepEqual(b.got, ['volatile broadcast'])
  })

  it('drops volatile events while the session is between transports, and keeps the others', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running, running.io.sockets, {
      transports: ['polling', 'websocket'],
      upgrade: false,
    })
    const got: string[] = []
    client.on('news', (value: string) => got.push(value))
    // Start the upgrade by hand, as the client would, and stop after the probe: the session is `upgrading`.
    const { WebSocket } = await import('ws')
    const ws = new WebSocket(
      `ws://127.0.0.1:${running.port}/socket.io/?EIO=4&transport=websocket&sid=${server.conn.id}`,
    )
    t.after(() => ws.terminate())
    await once(ws, 'open')
    ws.send('2probe')
    const [probeAnswer] = await once(ws, 'message')
    assert.equal(String(probeAnswer), '3probe')
    assert.equal(server.conn.state, 'upgrading')
    assert.equal(server.volatile.emit('news', 'volatile, dropped'), false)
    running.io.volatile.emit('news', 'volatile broadcast, dropped')
    server.emit('news', 'kept')
    const messages: string[] = []
    ws.on('message', (data) => messages.push(String(data)))
    ws.send('5')
    await once(server.conn, 'upgrade')
    // The kept event went out on the WebSocket right after the upgrade.
    while (messages.length === 0) await once(ws, 'message')
    assert.deepEqual(messages, ['42["news","kept"]'])
    assert.deepEqual(got, [])
  })
})
