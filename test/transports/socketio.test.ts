// The hub over Socket.IO as `switchboard serve` runs it in-process: the npm socket.io-client in the same room
// as a node:net TCP client, and the acks and events of docs/protocol.md ("Socket.IO events").
import assert from 'node:assert/strict'
import { EventEmitter, once } from 'node:events'
import { connect, type Socket as NetSocket } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { io, type Socket as ClientSocket } from 'socket.io-client'
import { loadConfig } from '../../src/cli/config.js'
import { type RunningServer, startServer } from '../../src/cli/serve.js'

interface Served {
  server: RunningServer
  http: string
  tcpPort: number
}

async function serve(t: TestContext): Promise<Served> {
  const server = await startServer(
    loadConfig({ flags: { http: 0, tcp: 0, udp: false, unix: false, memory: true } }),
  )
  t.after(() => server.close())
  const http = server.lines.find((line) => line.startsWith('listening http://'))?.slice('listening '.length)
  const tcp = server.lines.find((line) => line.startsWith('listening tcp://'))
  assert.ok(http && tcp, `http and tcp listeners in ${JSON.stringify(server.lines)}`)
  return { server, http, tcpPort: Number(tcp.slice(tcp.lastIndexOf(':') + 1)) }
}

async function openClient(t: TestContext, served: Served): Promise<ClientSocket> {
  const client = io(served.http, { forceNew: true, reconnection: false, transports: ['websocket'] })
  t.after(() => client.disconnect())
  await new Promise<void>((resolve, reject) => {
    client.once('connect', resolve)
    client.once('connect_error', reject)
  })
  return client
}

/** The first `event` the client gets whose payload passes `test`. */
function nextEvent(
  client: ClientSocket,
  event: string,
  test: (payload: Record<string, unknown>) => boolean = () => true,
): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const listener = (payload: Record<string, unknown>) => {
      if (!test(payload)) return
      client.off(event, listener)
      resolve(payload)
    }
    client.on(event, listener)
  })
}

/** Lines of a TCP connection, in order. */
class TcpClient {
  readonly #socket: NetSocket
  readonly #lines: string[] = []
  readonly #events = new EventEmitter()
  #read = 0

  constructor(socket: NetSocket) {
    this.#socket = socket
    let rest = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n')
      rest = parts.pop() ?? ''
      this.#lines.push(...parts.map((line) => line.replace(/\r$/, '')))
      this.#events.emit('line')
    })
  }

  send(line: string): void {
    this.#socket.write(`${line}\n`)
  }

  /** Skips lines up to the first that matches, and returns it. */
  async until(pattern: RegExp): Promise<string> {
    for (;;) {
      while (this.#read >= this.#lines.length) await once(this.#events, 'line')
      const line = this.#lines[this.#read++]
      if (pattern.test(line)) return line
    }
  }
}

async function openTcp(t: TestContext, served: Served): Promise<TcpClient> {
  const socket = connect(served.tcpPort, '127.0.0.1')
  t.after(() => socket.destroy())
  const client = new TcpClient(socket)
  await client.until(/^WELCOME /)
  return client
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
    const tcp = await openTcp(t, served)
    tcp.send('/nick tom')
    await tcp.until(/^OK nick tom /)
    const ann = await openClient(t, served)
    await ann.emitWithAck('nick', 'ann')
    const joinedSelf = nextEvent(ann, 'presence', (payload) => payload.member === 'ann')
    const joined = await ann.emitWithAck('join', 'lobby')
    assert.deepEqual(joined.members.sort(), ['ann', 'tom'])
    assert.deepEqual(await joinedSelf, { room: 'lobby', event: 'join', member: 'ann' })
    await tcp.until(/ann/)

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
    assert.equal(await tcp.until(/^\[lobby\] ann: /), '[lobby] ann: hello from socket.io')

    const left = nextEvent(ann, 'presence', (payload) => payload.event === 'leave')
    tcp.send('/quit')
    assert.deepEqual(await left, { room: 'lobby', event: 'leave', member: 'tom' })
  })

  it('makes socket.join and socket.leave of server code hub joins, seen by a TCP member of the room', async (t) => {
    const served = await serve(t)
    const io = served.server.socketio
    assert.ok(io)
    const tcp = await openTcp(t, served)
    tcp.send('/nick tom')
    await tcp.until(/^OK nick tom /)
    tcp.send('/join news')
    await tcp.until(/^\* tom joined news$/)
    const sam = await openClient(t, served)
    assert.equal((await sam.emitWithAck('nick', 'sam')).ok, true)
    const socket = io.of('/').sockets.get(sam.id ?? '')
    assert.ok(socket, 'the server-side socket of the client')

    await socket.join('news')
    assert.ok(socket.rooms.has('news'))
    assert.equal(await tcp.until(/^\* sam /), '* sam joined news')
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
    assert.equal(await tcp.until(/^\* sam /), '* sam left news')
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

  it('counts Socket.IO connections in /metrics under its own listener', async (t) => {
    const served = await serve(t)
    await openClient(t, served)
    const response = await fetch(new URL('/metrics', served.http))
    const text = await response.text()
    assert.match(text, /^switchboard_connections\{transport="socketio"\} 1$/m)
    assert.match(text, /^switchboard_messages_in_total\{transport="socketio"\} 0$/m)
  })
})
