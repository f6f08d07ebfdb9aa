// The hub over Socket.IO as `switchboard serve` runs it in-process: the npm socket.io-client in the same room
// as a node:net TCP client, and the acks and events of docs/protocol.md ("Socket.IO events").
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import {
  nextEvent,
  openSocketIO as openClient,
  openTcp,
  type Served,
  serve,
  socketIOClient,
  type TcpClient,
} from './helpers/socketio-served.js'

/** A TCP client named tom, in room news. */
async function tomInNews(t: TestContext, served: Served): Promise<TcpClient> {
  const tcp = await openTcp(t, served, 'tom')
  tcp.send('/join news')
  await tcp.lines.until(/^\* tom joined news$/)
  return tcp
}

describe('Socket.IO transport under switchboard serve', () => {
  it('answers nick, join and who through acks, with the join carrying recent history', async (t) => {
    const served = await serve(t)
    const ann = await openClient(t, served)
    assert.deepEqual(await ann.emitWithAck('message', 'lobby', 'too early'), {
      ok: false,
      error: { code: 'not-in-room', status: 403, message: 'join lobby before publishing to it' },
    })
    const nick = await ann.emitWithAck('nick', 'ann')
    assert.equal(nick.ok, true)
    assert.equal(nick.nick, 'ann')
    assert.equal(typeof nick.key, 'string')
    const joined = await ann.emitWithAck('join', 'lobby')
    assert.equal(joined.ok, true)
    assert.deepEqual(joined.members, ['ann'])
    assert.deepEqual(joined.history.messages, [])
    const sent = await ann.emitWithAck('message', 'lobby', 'first')
    assert.equal(sent.ok, true)
    assert.equal(sent.offset, 1)
    assert.equal(typeof sent.epoch, 'string')
    assert.deepEqual(await ann.emitWithAck('who', 'lobby'), { ok: true, room: 'lobby', members: ['ann'] })

    const bob = await openClient(t, served)
    await bob.emitWithAck('nick', 'bob')
    const later = await bob.emitWithAck('join', 'lobby')
    assert.deepEqual(later.members.sort(), ['ann', 'bob'])
    assert.deepEqual(
      later.history.messages.map((message: { from: string; data: string; offset: number }) => [
        message.from,
        message.data,
        message.offset,
      ]),
      [['ann', 'first', 1]],
    )
    assert.deepEqual(await bob.emitWithAck('leave', 'lobby'), { ok: true, room: 'lobby' })
    assert.deepEqual(await ann.emitWithAck('who', 'lobby'), { ok: true, room: 'lobby', members: ['ann'] })
  })

  it('refuses a bad nickname and a non-string room with code, status and message', async (t) => {
    const served = await serve(t)
    const ann = await openClient(t, served)
    const bad = await ann.emitWithAck('nick', 'no spaces allowed')
    assert.equal(bad.ok, false)
    assert.equal(bad.error.code, 'bad-nick')
    assert.equal(bad.error.status, 400)
    const noRoom = await ann.emitWithAck('join', 42)
    assert.deepEqual(noRoom, {
      ok: false,
      error: { code: 'bad-request', status: 400, message: 'join takes a string first' },
    })
  })

  it('shows a Socket.IO client and a TCP client in lobby each other’s messages and presence', async (t) => {
    const served = await serve(t)
    const tcp = await openTcp(t, served, 'tom')
    const ann = await openClient(t, served)
    await ann.emitWithAck('nick', 'ann')
    const joinedSelf = nextEvent(ann, 'presence', (payload) => payload.member === 'ann')
    const joined = await ann.emitWithAck('join', 'lobby')
    assert.deepEqual(joined.members.sort(), ['ann', 'tom'])
    assert.deepEqual(await joinedSelf, { room: 'lobby', event: 'join', member: 'ann' })
    await tcp.lines.until(/ann/)

    const seen = nextEvent(ann, 'message')
    tcp.send('hello from tcp')
    const message = await seen
    assert.equal(message.room, 'lobby')
    assert.equal(message.from, 'tom')
    assert.equal(message.data, 'hello from tcp')
    assert.equal(typeof message.offset, 'number')
    assert.equal(typeof message.ts, 'number')

    const sent = await ann.emitWithAck('message', 'lobby', 'hello from socket.io')
    assert.equal(sent.ok, true)
    assert.equal(sent.offset, (message.offset as number) + 1)
    assert.equal(await tcp.lines.until(/^\[lobby\] ann: /), '[lobby] ann: hello from socket.io')

    const left = nextEvent(ann, 'presence', (payload) => payload.event === 'leave')
    tcp.send('/quit')
    assert.deepEqual(await left, { room: 'lobby', event: 'leave', member: 'tom' })
  })

  it('makes socket.join and socket.leave of server code hub joins, seen by a TCP member of the room', async (t) => {
    const served = await serve(t)
    const io = served.server.socketio
    assert.ok(io)
    const tcp = await tomInNews(t, served)
    const sam = await openClient(t, served)
    assert.equal((await sam.emitWithAck('nick', 'sam')).ok, true)
    const socket = io.of('/').sockets.get(sam.id ?? '')
    assert.ok(socket, 'the server-side socket of the client')

    await socket.join('news')
    assert.ok(socket.rooms.has('news'))
    assert.equal(await tcp.lines.until(/^\* sam /), '* sam joined news')
    assert.deepEqual(await sam.emitWithAck('who', 'news'), {
      ok: true,
      room: 'news',
      members: ['sam', 'tom'],
    })
    const seen = nextEvent(sam, 'message')
    tcp.send('hello news')
    const message = await seen
    assert.equal(message.room, 'news')
    assert.equal(message.from, 'tom')
    assert.equal(message.data, 'hello news')
    const notice = new Promise((resolve) => sam.once('notice', resolve))
    io.to('news').emit('notice', 'to the Socket.IO sockets of news')
    assert.equal(await notice, 'to the Socket.IO sockets of news')

    await socket.leave('news')
    assert.equal(socket.rooms.has('news'), false)
    assert.equal(await tcp.lines.until(/^\* sam /), '* sam left news')
  })

  it('carries out socket.join of the namespace’s middleware once the socket is a hub member', async (t) => {
    const served = await serve(t)
    const io = served.server.socketio
    assert.ok(io)
    const tcp = await tomInNews(t, served)
    io.use(async (socket) => {
      if (socket.handshake.auth.refuse) {
        socket.join('news')
        return new Error('refused after joining')
      }
      // Awaited, as socket.io users do: it must not wait for the connection the middleware holds up.
      await socket.join('news')
      await socket.join('no spaces allowed')
    })
    let roomsAtConnection: string[] = []
    io.on('connection', (socket) => {
      roomsAtConnection = [...socket.rooms]
    })

    const refused = socketIOClient(t, served, { auth: { refuse: true } })
    const error = await new Promise<Error>((resolve) => refused.once('connect_error', resolve))
    assert.equal(error.message, 'refused after joining')
    const sam = await openClient(t, served)
    assert.ok(roomsAtConnection.includes('news'), `rooms at connection: ${roomsAtConnection}`)
    // The refused socket never became a member: the first join tom sees is sam's.
    const joinLine = await tcp.lines.until(/^\* \S+ joined news$/)
    const socket = io.of('/').sockets.get(sam.id ?? '')
    assert.ok(socket)
    assert.deepEqual(await sam.emitWithAck('who', 'news'), {
      ok: true,
      room: 'news',
      members: [joinLine.split(' ')[1], 'tom'].sort(),
    })
    // The hub refused the room with a space in its name: it left socket.rooms when the hub said so.
    assert.deepEqual([...socket.rooms].sort(), [socket.id, 'news'].sort())
    const seen = nextEvent(sam, 'message')
    tcp.send('hello news')
    assert.equal((await seen).data, 'hello news')
  })

  it('shows a join of the client’s own in socket.rooms, and takes back a server-code join the hub refuses', async (t) => {
    const served = await serve(t)
    const io = served.server.socketio
    assert.ok(io)
    const ann = await openClient(t, served)
    const socket = io.of('/').sockets.get(ann.id ?? '')
    assert.ok(socket)
    assert.equal((await ann.emitWithAck('join', 'dev')).ok, true)
    assert.ok(socket.rooms.has('dev'))
    const notice = new Promise((resolve) => ann.once('notice', resolve))
    io.to('dev').emit('notice', 'dev only')
    assert.equal(await notice, 'dev only')
    assert.deepEqual(await ann.emitWithAck('leave', 'dev'), { ok: true, room: 'dev' })
    assert.equal(socket.rooms.has('dev'), false)

    await socket.join('no spaces allowed')
    assert.equal(socket.rooms.has('no spaces allowed'), false)
    assert.deepEqual([...socket.rooms], [socket.id])
  })

  it('never puts a client in another socket’s own room when it joins a hub room named like that id', async (t) => {
    const served = await serve(t)
    const io = served.server.socketio
    assert.ok(io)
    const victim = await openClient(t, served)
    const other = await openClient(t, served)
    // A hub room like any other: the hub takes it.
    assert.equal((await other.emitWithAck('join', victim.id)).ok, true)
    const got: unknown[] = []
    other.on('secret', (value: unknown) => got.push(value))
    const arrived = new Promise((resolve) => victim.once('secret', resolve))
    io.to(victim.id ?? '').emit('secret', 'for the victim only')
    assert.equal(await arrived, 'for the victim only')
    // Sent after the secret on the same connection: had the secret gone to `other`, it would be there first.
    const marker = new Promise((resolve) => other.once('marker', resolve))
    io.to(other.id ?? '').emit('marker', 1)
    await marker
    assert.deepEqual(got, [])
  })

  it('carries out the client’s room requests and server-code moves in the order they were asked', async (t) => {
    const served = await serve(t)
    const io = served.server.socketio
    assert.ok(io)
    const ann = await openClient(t, served)
    assert.equal((await ann.emitWithAck('nick', 'ann')).ok, true)
    const socket = io.of('/').sockets.get(ann.id ?? '')
    assert.ok(socket)
    assert.equal((await ann.emitWithAck('join', 'r1')).ok, true)

    // The transport's own listener queues the client's request first; this one then asks the opposite.
    let joining: unknown
    socket.once('leave', () => {
      joining = socket.join('r1')
    })
    assert.deepEqual(await ann.emitWithAck('leave', 'r1'), { ok: true, room: 'r1' })
    await joining
    assert.ok(socket.rooms.has('r1'))
    assert.deepEqual((await ann.emitWithAck('who', 'r1')).members, ['ann'])

    let leaving: unknown
    socket.once('join', () => {
      leaving = socket.leave('r2')
    })
    assert.equal((await ann.emitWithAck('join', 'r2')).ok, true)
    await leaving
    assert.equal(socket.rooms.has('r2'), false)
    assert.deepEqual((await ann.emitWithAck('who', 'r2')).members, [])
  })

  it('counts Socket.IO connections in /metrics under its own listener', async (t) => {
    const served = await serve(t)
    await openClient(t, served)
    const response = await fetch(new URL('/metrics', served.http))
    const text = await response.text()
    assert.match(text, /^switchboard_connections\{transport="socketio"\} 1$/m)
    assert.match(text, /^switchboard_messages_in_total\{transport="socketio"\} 0$/m)
  })
})
