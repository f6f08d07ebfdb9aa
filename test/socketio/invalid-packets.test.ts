// Packets the protocol forbids, sent by hand over a raw engine.io-client: each closes its session (every
// socket on it ends with "parse error"), what came before is delivered, and the server goes on serving others.
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { SocketIOServerOptions } from '../../src/socketio/options.js'
import {
  clientEvent,
  connectPair,
  nextSocket,
  openEngineClient,
  type RunningIo,
  serverDisconnect,
  startIo,
} from './helpers/socketio.js'

// Socket.IO packets as text (the Engine.IO message type `4` is added by the client).
const hostile: [title: string, packet: string][] = [
  ['an unknown packet type', '9'],
  ['an event whose JSON is cut short', '2["chat",'],
  ['an ack id with letters in it', '2abc["chat"]'],
  ['an ack id past 2^53 - 1', '29007199254740993["chat"]'],
  ['an event whose payload is an object, not an array', '2{"chat":1}'],
  ['an event with an empty array', '2[]'],
  ['an event named by a number', '2[1,"x"]'],
  ['an event with a reserved name', '2["disconnect"]'],
  ['an ACK without an id', '3["x"]'],
  ['an ACK whose payload is not an array', '31{"x":1}'],
  ['a CONNECT_ERROR, which only servers send', '4{"message":"no"}'],
  ['an event for a namespace the session never joined', '2/elsewhere,["chat"]'],
  [
    'a binary event whose placeholder points past its attachments',
    '51-["chat",{"_placeholder":true,"num":1}]',
  ],
  ['a text packet where an attachment is due', '51-["chat",{"_placeholder":true,"num":0}]\n2["chat"]'],
]

// Opens a raw session that joins `/`, and returns it with the server's socket.
async function joinedRawSession(t: TestContext, running: RunningIo, transport: 'websocket' | 'polling') {
  const joined = nextSocket(running.io.sockets)
  const raw = await openEngineClient(t, running, [transport])
  raw.engine.send('0')
  assert.match(String(await raw.messages.next()), /^0\{"sid":/)
  return { ...raw, socket: await joined }
}

async function assertServes(t: TestContext, running: RunningIo): Promise<void> {
  const { client, server } = await connectPair(t, running, running.io.sockets, { transports: ['websocket'] })
  const echoed = clientEvent(client, 'echo')
  server.on('echo', (value) => server.emit('echo', value))
  client.emit('echo', 'still serving')
  assert.deepEqual(await echoed, ['still serving'])
}

async function startWith(t: TestContext, options: SocketIOServerOptions = {}): Promise<RunningIo> {
  return startIo(t, { pingIntervalMs: 5000, ...options })
}

describe('hostile packets', () => {
  for (const [title, text] of hostile) {
    it(`closes the session on ${title} and serves others`, async (t) => {
      const running = await startWith(t)
      const { engine, socket } = await joinedRawSession(t, running, 'websocket')
      const delivered = new Promise<unknown>((resolve) => socket.on('chat', resolve))
      engine.send('2["chat","accepted first"]')
      assert.equal(await delivered, 'accepted first')
      const reason = serverDisconnect(socket)
      const closed = clientEvent(engine, 'close')
      for (const part of text.split('\n')) engine.send(part)
      assert.equal(await reason, 'parse error')
      await closed
      await assertServes(t, running)
    })
  }

  it('closes a polling session on a hostile packet in a POST', async (t) => {
    const running = await startWith(t)
    const { engine, socket } = await joinedRawSession(t, running, 'polling')
    const reason = serverDisconnect(socket)
    const closed = clientEvent(engine, 'close')
    engine.send('2{"not":"an array"}')
    assert.equal(await reason, 'parse error')
    await closed
    await assertServes(t, running)
  })

  it('closes the session on an attachment that follows no binary packet', async (t) => {
    const running = await startWith(t)
    const { engine, socket } = await joinedRawSession(t, running, 'websocket')
    const reason = serverDisconnect(socket)
    engine.send(Buffer.from([1, 2, 3]))
    assert.equal(await reason, 'parse error')
    await assertServes(t, running)
  })

  it('ignores a second CONNECT to a namespace the session has joined', async (t) => {
    const running = await startWith(t)
    const { engine, messages, socket } = await joinedRawSession(t, running, 'websocket')
    engine.send('0')
    const pong = new Promise<unknown>((resolve) => socket.on('ping', resolve))
    engine.send('2["ping","one socket"]')
    assert.equal(await pong, 'one socket')
    assert.equal(running.io.sockets.sockets.size, 1)
    assert.equal(socket.connected, true)
    const next = await Promise.race([messages.next(), Promise.resolve('nothing more')])
    assert.equal(next, 'nothing more')
  })

  it('ignores a late event for a namespace the session has just left', async (t) => {
    const running = await startWith(t)
    running.io.of('/chat')
    const { engine, messages, socket } = await joinedRawSession(t, running, 'websocket')
    engine.send('0/chat,')
    assert.match(String(await messages.next()), /^0\/chat,\{"sid":/)
    const chatSocket = [...running.io.of('/chat').sockets.values()][0]
    const left = serverDisconnect(chatSocket)
    chatSocket.disconnect()
    assert.equal(await left, 'server namespace disconnect')
    engine.send('2/chat,["crossed the disconnect"]')
    const pong = new Promise<unknown>((resolve) => socket.on('ping', (value) => resolve(value)))
    engine.send('2["ping","main lives"]')
    assert.equal(await pong, 'main lives')
    assert.equal(socket.connected, true)
  })
})

describe('limits on incoming packets', () => {
  const placeholders = (count: number) =>
    Array.from({ length: count }, (_, num) => `{"_placeholder":true,"num":${num}}`).join(',')

  it('accepts maxAttachments attachments and closes the session on one more', async (t) => {
    const running = await startWith(t, { maxAttachments: 2 })
    const { engine, socket } = await joinedRawSession(t, running, 'websocket')
    const got = new Promise<unknown[]>((resolve) => socket.on('files', (...args) => resolve(args)))
    engine.send(`52-["files",${placeholders(2)}]`)
    engine.send(Buffer.from([1]))
    engine.send(Buffer.from([2]))
    assert.deepEqual(await got, [Buffer.from([1]), Buffer.from([2])])
    const reason = serverDisconnect(socket)
    engine.send(`53-["files",${placeholders(3)}]`)
    assert.equal(await reason, 'parse error')
  })

  it('accepts arguments nested maxDepth deep and closes the session one level deeper', async (t) => {
    const running = await startWith(t, { maxDepth: 4 })
    const { engine, socket } = await joinedRawSession(t, running, 'websocket')
    const got = new Promise<unknown>((resolve) => socket.on('deep', resolve))
    // The event array is level 1: three more levels fit.
    engine.send('2["deep",[[["ok"]]]]')
    assert.deepEqual(await got, [[['ok']]])
    const reason = serverDisconnect(socket)
    engine.send('2["deep",[[[["too deep"]]]]]')
    assert.equal(await reason, 'parse error')
  })

  it('closes a polling session whose POST is over maxPayloadBytes with "transport error"', async (t) => {
    const running = await startWith(t, { maxPayloadBytes: 500 })
    const { engine, socket } = await joinedRawSession(t, running, 'polling')
    const reason = serverDisconnect(socket)
    engine.send(`2["big","${'x'.repeat(600)}"]`)
    assert.equal(await reason, 'transport error')
    await assertServes(t, running)
  })
})
