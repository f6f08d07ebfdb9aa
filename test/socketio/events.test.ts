// Events and acks with the real socket.io-client (Socket.IO protocol v5 §Sending and receiving data,
// §Acknowledgement): JSON arguments, acks both ways with and without timeouts, acks by return value, binary
// attachments nested anywhere both ways, typed events, and listeners that fail.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { bytesOf, clientEvent, connectPair, serverDisconnect, startIo } from './helpers/socketio.js'

describe('events', () => {
  it('passes any JSON arguments unchanged, both ways', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running)
    const args = [0, -1.5, 'text', '', true, false, null, [], {}, { nested: { list: [1, { deep: ['x'] }] } }]
    const got = new Promise<unknown[]>((resolve) => server.on('all', (...received) => resolve(received)))
    client.emit('all', ...args)
    assert.deepEqual(await got, args)
    const back = clientEvent(client, 'all')
    server.emit('all', ...args)
    assert.deepEqual(await back, args)
  })

  it('sends `message` events with send(), as Socket.IO does', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running)
    const got = clientEvent(client, 'message')
    server.send('hi', 2)
    assert.deepEqual(await got, ['hi', 2])
  })

  it('refuses reserved event names and non-string names with an error that has a code', async (t) => {
    const running = await startIo(t)
    const { server } = await connectPair(t, running)
    assert.throws(() => server.emit('disconnect'), { name: 'RangeError', code: 'sio-reserved-event-name' })
    assert.throws(() => running.io.emit('connect'), { name: 'RangeError', code: 'sio-reserved-event-name' })
    assert.throws(() => server.emit(42 as unknown as string), {
      name: 'TypeError',
      code: 'sio-invalid-event-name',
    })
  })

  it('catches a listener that throws: the error goes to the socket error listeners and the socket lives on', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running)
    server.on('boom', () => {
      throw new Error('listener bug')
    })
    const failed = new Promise<unknown>((resolve) => server.on('error', resolve))
    client.emit('boom')
    assert.equal(((await failed) as Error).message, 'listener bug')
    server.on('still', (n: unknown) => n)
    assert.equal(await client.timeout(1000).emitWithAck('still', 7), 7)
  })
})

describe('acks from the client to the server', () => {
  it('hands the listener an ack function as its last argument when the client asks for one', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running)
    server.on('add', (a, b, ack) => {
      ;(ack as (sum: number, note: string) => void)((a as number) + (b as number), 'done')
    })
    const reply = await new Promise<unknown[]>((resolve) =>
      client.emit('add', 2, 3, (...r: unknown[]) => resolve(r)),
    )
    assert.deepEqual(reply, [5, 'done'])
  })

  it('answers with the value a listener returns, or the value its promise resolves to', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running)
    server.on('double', (n) => (n as number) * 2)
    server.on('later', async (word) => {
      await new Promise((resolve) => setImmediate(resolve))
      return `${word as string}!`
    })
    assert.equal(await client.emitWithAck('double', 21), 42)
    assert.equal(await client.emitWithAck('later', 'hey'), 'hey!')
  })

  it('answers once: a second call of the ack function sends nothing', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running)
    server.on('twice', (ack) => {
      ;(ack as (n: number) => void)(1)
      ;(ack as (n: number) => void)(2)
      return 3
    })
    assert.equal(await client.emitWithAck('twice'), 1)
    assert.equal(await client.emitWithAck('twice'), 1)
  })

  it("lets the client's timeout(ms).emitWithAck reject when the server never answers", async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running)
    server.on('ignored', () => undefined)
    await assert.rejects(client.timeout(30).emitWithAck('ignored'), { message: 'operation has timed out' })
  })
})

describe('acks from the server to the client', () => {
  it('resolves emitWithAck with the first argument of the client ack', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running)
    client.on('ask', (question: string, ack: (answer: string, extra: number) => void) =>
      ack(`re: ${question}`, 1),
    )
    assert.equal(await server.emitWithAck('ask', 'why'), 're: why')
  })

  it('calls an emit callback with every argument of the client ack', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running)
    client.on('ask', (ack: (...reply: unknown[]) => void) => ack('a', 2, { c: 3 }))
    const reply = await new Promise<unknown[]>((resolve) =>
      server.emit('ask', (...r: unknown[]) => resolve(r)),
    )
    assert.deepEqual(reply, ['a', 2, { c: 3 }])
  })

  it('rejects timeout(ms).emitWithAck with "operation has timed out" when the client does not answer', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running)
    client.on('silent', () => undefined)
    const started = performance.now()
    await assert.rejects(server.timeout(40).emitWithAck('silent'), {
      message: 'operation has timed out',
      code: 'sio-ack-timeout',
    })
    assert.ok(performance.now() - started >= 30)
  })

  it('calls a timeout(ms).emit callback with null and the reply in time, or with the error after', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running)
    client.on('fast', (ack: (n: number) => void) => ack(1))
    client.on('slow', () => undefined)
    const fast = await new Promise<unknown[]>((resolve) =>
      server.timeout(1000).emit('fast', (...r: unknown[]) => resolve(r)),
    )
    assert.deepEqual(fast, [null, 1])
    const slow = await new Promise<unknown[]>((resolve) =>
      server.timeout(20).emit('slow', (...r: unknown[]) => resolve(r)),
    )
    assert.equal((slow[0] as Error).message, 'operation has timed out')
  })

  it('rejects a pending emitWithAck when the socket disconnects, and refuses one on a disconnected socket', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running)
    client.on('never', () => undefined)
    const pending = server.emitWithAck('never')
    const gone = serverDisconnect(server)
    client.disconnect()
    await gone
    await assert.rejects(pending, { message: 'socket has been disconnected' })
    await assert.rejects(server.emitWithAck('never'), { message: 'socket has been disconnected' })
    assert.equal(server.emit('never'), false)
  })
})

describe('binary attachments', () => {
  for (const transports of [['websocket'], ['polling']] as const) {
    it(`carries bytes nested in objects and arrays from the client to the server over ${transports[0]}`, async (t) => {
      const running = await startIo(t)
      const { client, server } = await connectPair(t, running, running.io.sockets, {
        transports: [...transports],
      })
      const got = new Promise<unknown[]>((resolve) => server.on('upload', (...args) => resolve(args)))
      client.emit('upload', 'name.bin', {
        file: Buffer.from([0, 1, 2, 255]),
        parts: [new Uint8Array([7, 8]), { again: Buffer.from('€') }],
      })
      const [name, payload] = (await got) as [string, { file: Buffer; parts: [Buffer, { again: Buffer }] }]
      assert.equal(name, 'name.bin')
      assert.ok(Buffer.isBuffer(payload.file))
      assert.deepEqual(payload.file, Buffer.from([0, 1, 2, 255]))
      assert.deepEqual(payload.parts[0], Buffer.from([7, 8]))
      assert.deepEqual(payload.parts[1].again, Buffer.from('€'))
    })

    it(`carries bytes nested in objects and arrays from the server to the client over ${transports[0]}`, async (t) => {
      const running = await startIo(t)
      const { client, server } = await connectPair(t, running, running.io.sockets, {
        transports: [...transports],
      })
      const got = clientEvent(client, 'download')
      server.emit('download', [Buffer.from([1]), 'text'], { blob: new Uint8Array([2, 3]).buffer, n: 4 })
      const [list, object] = (await got) as [[unknown, string], { blob: unknown; n: number }]
      assert.deepEqual(bytesOf(list[0]), Buffer.from([1]))
      assert.equal(list[1], 'text')
      assert.deepEqual(bytesOf(object.blob), Buffer.from([2, 3]))
      assert.equal(object.n, 4)
    })
  }

  it('carries bytes in acks both ways', async (t) => {
    const running = await startIo(t)
    const { client, server } = await connectPair(t, running)
    server.on('reverse', (bytes) => Buffer.from(bytes as Buffer).reverse())
    const reversed = await client.emitWithAck('reverse', Buffer.from([1, 2, 3]))
    assert.deepEqual(bytesOf(reversed), Buffer.from([3, 2, 1]))
    client.on('wrap', (bytes: ArrayBuffer, ack: (wrapped: unknown) => void) => ack({ inner: [bytes] }))
    const wrapped = (await server.emitWithAck('wrap', Buffer.from([9]))) as { inner: [Buffer] }
    assert.ok(Buffer.isBuffer(wrapped.inner[0]))
    assert.deepEqual(wrapped.inner[0], Buffer.from([9]))
  })
})

describe('typed events', () => {
  interface ClientToServer {
    chat: (text: string, ack: (id: number) => void) => void
  }
  interface ServerToClient {
    chat: (from: string, text: string) => void
    ping: (ack: (pong: 'pong') => void) => void
  }

  it('checks names, arguments and ack replies at compile time and carries them at run time', async (t) => {
    const running = await startIo<ClientToServer, ServerToClient>(t)
    const { client, server } = await connectPair(t, running)
    let nextId = 1
    server.on('chat', (text, ack) => {
      running.io.emit('chat', server.id, text)
      ack(nextId++)
    })
    client.on('ping', (ack: (pong: string) => void) => ack('pong'))
    const echoed = clientEvent(client, 'chat')
    assert.equal(await client.emitWithAck('chat', 'hello'), 1)
    assert.deepEqual(await echoed, [server.id, 'hello'])
    const pong: 'pong' = await server.timeout(1000).emitWithAck('ping')
    assert.equal(pong, 'pong')
    const mistakes = () => {
      // @ts-expect-error the map has no event "chta": a typo fails to compile
      server.emit('chta', 'x', 'y')
      // @ts-expect-error chat's first argument is a string
      server.emit('chat', 1, 'x')
    }
    assert.equal(typeof mistakes, 'function')
  })
})
