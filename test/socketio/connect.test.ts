// Joining a namespace (Socket.IO protocol v5 §Connection to a namespace) with the real socket.io-client: the
// auth payload and handshake, middleware that admits or refuses (connect_error with message and data),
// named namespaces on one session, dynamic namespaces by pattern or function, and unknown namespaces.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ParentNamespace } from '../../src/socketio/parent-namespace.js'
import type { Socket } from '../../src/socketio/socket.js'
import {
  clientEvent,
  connectClient,
  connectPair,
  makeManager,
  nextSocket,
  openClient,
  openEngineClient,
  serverDisconnect,
  startIo,
} from './helpers/socketio.js'

describe('the handshake', () => {
  it('gives the server the client auth, query, headers and address', async (t) => {
    const running = await startIo(t)
    const { server } = await connectPair(t, running, running.io.sockets, {
      auth: { token: 'abc', n: 1 },
      query: { room: 'lobby' },
      extraHeaders: { 'x-test': 'yes' },
      transports: ['polling'],
    })
    assert.deepEqual(server.handshake.auth, { token: 'abc', n: 1 })
    assert.equal(server.handshake.query.room, 'lobby')
    assert.equal(server.handshake.query.EIO, '4')
    assert.equal(server.handshake.headers['x-test'], 'yes')
    assert.equal(server.handshake.address, '127.0.0.1')
    assert.equal(server.handshake.secure, false)
    assert.ok(Math.abs(server.handshake.issued - Date.now()) < 5000)
  })

  it('puts each socket in the room named by its id', async (t) => {
    const running = await startIo(t)
    const { server } = await connectPair(t, running)
    assert.deepEqual([...server.rooms], [server.id])
  })
})

describe('middleware', () => {
  it('refuses with the thrown error: the client gets connect_error with its message and data', async (t) => {
    const running = await startIo(t)
    running.io.use((socket) => {
      if (socket.handshake.auth.token !== 'good') {
        throw Object.assign(new Error('not authorized'), { data: { retry: false, code: 401 } })
      }
    })
    const refused = openClient(t, running, '/', { auth: { token: 'bad' } })
    const [error] = (await clientEvent(refused, 'connect_error')) as [Error & { data: unknown }]
    assert.equal(error.message, 'not authorized')
    assert.deepEqual(error.data, { retry: false, code: 401 })
    assert.equal(refused.connected, false)
    assert.equal(running.io.sockets.sockets.size, 0)
    const admitted = await connectClient(t, running, '/', { auth: { token: 'good' } })
    assert.equal(admitted.connected, true)
  })

  it('refuses with a returned Error, a returned {message, data} and a rejected promise alike', async (t) => {
    const running = await startIo(t)
    running.io.use((socket) => (socket.handshake.auth.way === 'return' ? new Error('returned') : undefined))
    running.io.use((socket) =>
      socket.handshake.auth.way === 'object' ? { message: 'as object', data: [1, 2] } : undefined,
    )
    running.io.use(async (socket) => {
      await Promise.resolve()
      if (socket.handshake.auth.way === 'reject') throw new Error('rejected')
    })
    const seen: [string, unknown][] = []
    for (const way of ['return', 'object', 'reject']) {
      const client = openClient(t, running, '/', { auth: { way } })
      const [error] = (await clientEvent(client, 'connect_error')) as [Error & { data?: unknown }]
      seen.push([error.message, error.data])
    }
    assert.deepEqual(seen, [
      ['returned', undefined],
      ['as object', [1, 2]],
      ['rejected', undefined],
    ])
  })

  it('runs in order, each after the previous one admitted, and may set data before the connection event', async (t) => {
    const running = await startIo<Record<string, never>, Record<string, never>>(t)
    const order: string[] = []
    running.io.use(async (socket) => {
      order.push('first')
      await new Promise((resolve) => setImmediate(resolve))
      ;(socket.data as { user?: string }).user = String(socket.handshake.auth.user)
    })
    running.io.use((socket) => {
      order.push(`second sees ${(socket.data as { user?: string }).user}`)
    })
    const connected = nextSocket(running.io.sockets)
    await connectClient(t, running, '/', { auth: { user: 'ann' } })
    const socket = await connected
    assert.deepEqual(order, ['first', 'second sees ann'])
    assert.deepEqual(socket.data, { user: 'ann' })
  })

  it('lets a socket emit from its middleware: the event reaches the client after its connect', async (t) => {
    const running = await startIo(t)
    running.io.use((socket) => {
      socket.emit('early', 'hello')
    })
    const client = openClient(t, running)
    const events: string[] = []
    client.on('connect', () => events.push('connect'))
    const early = new Promise<void>((resolve) =>
      client.on('early', (word: string) => {
        events.push(word)
        resolve()
      }),
    )
    await early
    assert.deepEqual(events, ['connect', 'hello'])
  })
})

describe('connection listeners', () => {
  it('calls every listener even when one throws, and turns the error into a process warning', async (t) => {
    const running = await startIo(t)
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve))
    running.io.on('connection', () => {
      throw new Error('listener bug')
    })
    const second = nextSocket(running.io.sockets)
    const client = await connectClient(t, running)
    const socket = await second
    const warning = await warned
    assert.match(warning.message, /listener bug/)
    assert.equal((warning as Error & { code?: string }).code, 'SWITCHBOARD_SIO_LISTENER')
    const echoed = new Promise<unknown>((resolve) => socket.on('still', resolve))
    client.emit('still', 'working')
    assert.equal(await echoed, 'working')
  })
})

describe('namespaces', () => {
  it('keeps named namespaces apart on one Engine.IO session', async (t) => {
    const running = await startIo(t)
    const chat = running.io.of('/chat')
    const manager = makeManager(t, running)
    const inMain = nextSocket(running.io.sockets)
    const inChat = nextSocket(chat)
    const main = manager.socket('/')
    const chatClient = manager.socket('/chat')
    main.connect()
    chatClient.connect()
    const [mainSocket, chatSocket] = await Promise.all([inMain, inChat])
    assert.equal(mainSocket.conn, chatSocket.conn)
    assert.equal(chatSocket.nsp, chat)
    assert.notEqual(mainSocket.id, chatSocket.id)
    const chatGot = clientEvent(chatClient, 'news')
    const mainGot: unknown[] = []
    main.on('news', (...args: unknown[]) => mainGot.push(args))
    chat.emit('news', 'only chat')
    assert.deepEqual(await chatGot, ['only chat'])
    const roundTrip = clientEvent(main, 'pong')
    mainSocket.emit('pong')
    await roundTrip
    assert.deepEqual(mainGot, [])
  })

  it('answers CONNECT to a namespace nobody made with connect_error "Invalid namespace"', async (t) => {
    const running = await startIo(t)
    const client = openClient(t, running, '/nowhere')
    const [error] = (await clientEvent(client, 'connect_error')) as [Error]
    assert.equal(error.message, 'Invalid namespace')
  })

  it('makes a child namespace for each name a RegExp matches, with the parent middleware and listeners', async (t) => {
    const running = await startIo(t)
    const rooms: ParentNamespace = running.io.of(/^\/room-\d+$/)
    const passed: string[] = []
    rooms.use((socket) => {
      passed.push(socket.nsp.name)
    })
    const connections: Socket[] = []
    rooms.on('connection', (socket) => connections.push(socket))
    const a = await connectClient(t, running, '/room-1')
    const b = await connectClient(t, running, '/room-22')
    assert.deepEqual(passed, ['/room-1', '/room-22'])
    assert.deepEqual(
      connections.map((socket) => socket.nsp.name),
      ['/room-1', '/room-22'],
    )
    assert.deepEqual([...rooms.children].map((child) => child.name).sort(), ['/room-1', '/room-22'])
    const both = Promise.all([clientEvent(a, 'all'), clientEvent(b, 'all')])
    rooms.emit('all', 'children')
    assert.deepEqual(await both, [['children'], ['children']])
    const refused = openClient(t, running, '/room-x')
    const [error] = (await clientEvent(refused, 'connect_error')) as [Error]
    assert.equal(error.message, 'Invalid namespace')
  })

  it('decides a dynamic namespace with an async function of the name and the auth', async (t) => {
    const running = await startIo(t)
    const parent = running.io.of(async (name, auth) => name.startsWith('/team-') && auth.member === true)
    const joined = nextSocket(parent)
    await connectClient(t, running, '/team-blue', { auth: { member: true } })
    assert.equal((await joined).nsp.name, '/team-blue')
    const refused = openClient(t, running, '/team-red', { auth: { member: false } })
    const [error] = (await clientEvent(refused, 'connect_error')) as [Error]
    assert.equal(error.message, 'Invalid namespace')
  })

  it('removes a child namespace when its last socket leaves', async (t) => {
    const running = await startIo(t)
    const parent = running.io.of(/^\/tmp-/)
    const joined = nextSocket(parent)
    const client = await connectClient(t, running, '/tmp-1')
    const socket = await joined
    assert.equal(parent.children.size, 1)
    const left = serverDisconnect(socket)
    client.disconnect()
    await left
    assert.equal(parent.children.size, 0)
  })
})

describe('the connect timeout', () => {
  it('closes an Engine.IO session that joins no namespace within connectTimeoutMs', async (t) => {
    const running = await startIo(t, { connectTimeoutMs: 50 })
    // Timed from before the session opens: the server's clock starts when it opens, not when we hear of it.
    const started = performance.now()
    const { engine } = await openEngineClient(t, running)
    const [reason] = await clientEvent(engine, 'close')
    assert.equal(reason, 'transport close')
    assert.ok(performance.now() - started >= 45)
  })

  it('keeps a session that joined a namespace in time past connectTimeoutMs', async (t) => {
    const running = await startIo(t, { connectTimeoutMs: 50, pingIntervalMs: 30, pingTimeoutMs: 200 })
    const { engine, messages } = await openEngineClient(t, running)
    // The Socket.IO CONNECT packet `0` (on the wire `40`, after Engine.IO's message type).
    engine.send('0')
    assert.match(String(await messages.next()), /^0\{"sid":"[\w-]{20}"\}$/)
    // Five pings at 30 ms come after the timeout would have struck.
    for (let i = 0; i < 5; i++) await clientEvent(engine, 'ping')
    assert.equal(engine.readyState, 'open')
  })
})
