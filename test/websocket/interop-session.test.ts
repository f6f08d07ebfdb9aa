// Sessions between the npm `ws` package (v8) and our server and client: permessage-deflate negotiation,
// subprotocols, closing, our client's data types, pings and keepalive, prepared messages and limits.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, it, type TestContext } from 'node:test'
import { WebSocket as WsClient } from 'ws'
import { WebSocket } from '../../src/websocket/client.js'
import { prepareMessage } from '../../src/websocket/prepared-message.js'
import type { WebSocketServerOptions } from '../../src/websocket/server.js'
import {
  closed,
  connectionClosed,
  connectWs,
  type Inbox,
  KiB,
  MiB,
  ourClientToWsServer,
  pattern,
  startServer,
  startWsServer,
  textOf,
  wsClientToOurServer,
  wsClosed,
} from '../helpers/ws-peer.js'

/** Sends the same messages both ways; the two identical ones in a row exercise each compressor's context. */
async function exchange(
  client: { send(data: Buffer): void; inbox: Inbox },
  server: { send(data: Buffer): void; inbox: Inbox },
): Promise<void> {
  const messages = [
    pattern(100 * KiB),
    pattern(100 * KiB),
    Buffer.from('short'),
    Buffer.alloc(0),
    pattern(5000),
  ]
  for (const message of messages) {
    client.send(message)
    server.send(message)
  }
  const atServer = await server.inbox.take(messages.length)
  const atClient = await client.inbox.take(messages.length)
  for (const [i, message] of messages.entries()) {
    assert.ok(atServer[i][0].equals(message), `message ${i} to the server differs`)
    assert.ok(atClient[i][0].equals(message), `message ${i} to the client differs`)
  }
}

describe('permessage-deflate negotiation', () => {
  it('our server with deflate answers a default ws client offer with plain permessage-deflate', async (t) => {
    const { ws, extensions, connection } = await wsClientToOurServer(t, { perMessageDeflate: true })
    assert.equal(extensions, 'permessage-deflate')
    assert.equal(connection.extensions, 'permessage-deflate')
    assert.equal(ws.extensions, 'permessage-deflate')
  })

  it('our server without deflate declines a ws client offer', async (t) => {
    const { ws, extensions, connection } = await wsClientToOurServer(t, {}, { perMessageDeflate: true })
    assert.equal(extensions, '')
    assert.equal(connection.extensions, '')
    assert.equal(ws.extensions, '')
  })

  it('a ws client that offers no deflate gets none from our server with deflate', async (t) => {
    const { extensions, connection } = await wsClientToOurServer(
      t,
      { perMessageDeflate: true },
      {
        perMessageDeflate: false,
      },
    )
    assert.equal(extensions, '')
    assert.equal(connection.extensions, '')
  })

  it('our server grants a ws client no context takeover and window bits 10/11, and both directions inflate', async (t) => {
    const { ws, inbox, extensions, connection, serverInbox } = await wsClientToOurServer(
      t,
      { perMessageDeflate: { thresholdBytes: 0 } },
      {
        perMessageDeflate: {
          serverNoContextTakeover: true,
          clientNoContextTakeover: true,
          serverMaxWindowBits: 10,
          clientMaxWindowBits: 11,
          threshold: 0,
        },
      },
    )
    assert.equal(
      extensions,
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11',
    )
    await exchange(
      { send: (data) => ws.send(data), inbox },
      { send: (data) => connection.send(data), inbox: serverInbox },
    )
  })

  it('our server limits a ws client to client_max_window_bits=9 and inflates what it sends', async (t) => {
    const { ws, extensions, serverInbox } = await wsClientToOurServer(
      t,
      { perMessageDeflate: { clientMaxWindowBits: 9 } },
      { perMessageDeflate: { threshold: 0 } },
    )
    assert.equal(extensions, 'permessage-deflate; client_max_window_bits=9')
    const message = pattern(200 * KiB)
    ws.send(message)
    ws.send(message)
    const received = await serverInbox.take(2)
    assert.ok(received[0][0].equals(message) && received[1][0].equals(message), 'the bytes differ')
  })

  it('a ws client honours our server_max_window_bits=9 and no context takeover, which it did not ask for', async (t) => {
    const { extensions, connection, inbox } = await wsClientToOurServer(
      t,
      { perMessageDeflate: { serverMaxWindowBits: 9, serverNoContextTakeover: true, thresholdBytes: 0 } },
      { perMessageDeflate: true },
    )
    assert.equal(extensions, 'permessage-deflate; server_no_context_takeover; server_max_window_bits=9')
    const messages = [pattern(200 * KiB), pattern(200 * KiB), Buffer.from('a'), Buffer.alloc(0)]
    for (const message of messages) connection.send(message)
    const received = await inbox.take(messages.length)
    for (const [i, message] of messages.entries()) {
      assert.ok(received[i][0].equals(message), `message ${i} differs`)
    }
  })

  it('a ws server with deflate answers our default offer with plain permessage-deflate', async (t) => {
    const { client } = await ourClientToWsServer(t, { perMessageDeflate: true })
    assert.equal(client.extensions, 'permessage-deflate')
    assert.equal(client.connection?.extensions, 'permessage-deflate')
  })

  it('a ws server without deflate leaves our client uncompressed', async (t) => {
    const { client, socket } = await ourClientToWsServer(t, { perMessageDeflate: false })
    assert.equal(client.extensions, '')
    assert.equal(socket.extensions, '')
  })

  it('our client honours a ws server that limits both windows to 10 bits without context takeover', async (t) => {
    const { client, socket, inbox, serverInbox } = await ourClientToWsServer(
      t,
      {
        perMessageDeflate: {
          serverNoContextTakeover: true,
          clientNoContextTakeover: true,
          serverMaxWindowBits: 10,
          clientMaxWindowBits: 10,
          threshold: 0,
        },
      },
      { perMessageDeflate: { thresholdBytes: 0 } },
    )
    assert.equal(
      client.extensions,
      // ws writes the parameters in the order it set them.
      'permessage-deflate; client_max_window_bits=10; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10',
    )
    await exchange(
      { send: (data) => client.send(data), inbox },
      { send: (data) => socket.send(data), inbox: serverInbox },
    )
  })

  it('our client fails with 1006 when a ws server limits it to an 8-bit window, which zlib cannot honour', async (t) => {
    const { url } = await startWsServer(t, { perMessageDeflate: { clientMaxWindowBits: 8 } })
    const client = new WebSocket(url)
    t.after(() => client.terminate())
    const { code, wasClean } = await closed(client)
    assert.equal(code, 1006)
    assert.equal(wasClean, false)
  })

  it('a ws server accepts our offer of server_no_context_takeover and server_max_window_bits=10', async (t) => {
    const { client, socket, inbox } = await ourClientToWsServer(
      t,
      { perMessageDeflate: { threshold: 0 } },
      { perMessageDeflate: { serverNoContextTakeover: true, serverMaxWindowBits: 10 } },
    )
    assert.equal(
      client.extensions,
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=10',
    )
    const message = pattern(300 * KiB)
    socket.send(message)
    socket.send(message)
    const received = await inbox.take(2)
    assert.ok(received[0][0].equals(message) && received[1][0].equals(message), 'the bytes differ')
  })
})

describe('subprotocols', () => {
  it("our server picks a ws client's first choice among the protocols it speaks", async (t) => {
    const { ws, connection } = await wsClientToOurServer(t, { protocols: ['chat.v1', 'chat.v2'] }, {}, [
      'chat.v3',
      'chat.v2',
      'chat.v1',
    ])
    assert.equal(ws.protocol, 'chat.v2')
    assert.equal(connection.protocol, 'chat.v2')
  })

  it('our selectProtocol hook sees the ws client offer in order and its choice reaches the client', async (t) => {
    let seen: string[] = []
    const { ws, connection } = await wsClientToOurServer(
      t,
      {
        selectProtocol: (offered) => {
          seen = offered
          return 'b'
        },
      },
      {},
      ['a', 'b', 'c'],
    )
    assert.deepEqual(seen, ['a', 'b', 'c'])
    assert.equal(ws.protocol, 'b')
    assert.equal(connection.protocol, 'b')
  })

  it('a ws client that offers no subprotocol gets none from our server with a protocol list', async (t) => {
    const { ws, connection } = await wsClientToOurServer(t, { protocols: ['chat.v1'] })
    assert.equal(ws.protocol, '')
    assert.equal(connection.protocol, '')
  })

  it('a ws client fails the handshake when our server speaks none of its protocols', async (t) => {
    const { url } = await startServer(t, { protocols: ['chat.v1'] })
    const ws = new WsClient(url, ['chat.v9'])
    t.after(() => ws.terminate())
    const closing = wsClosed(ws)
    const [error] = await once(ws, 'error')
    assert.ok(error instanceof Error)
    const { code, wasClean } = await closing
    assert.equal(code, 1006)
    assert.equal(wasClean, false)
  })

  it("a ws server's handleProtocols choice reaches our client", async (t) => {
    let seen: string[] = []
    const { client, socket } = await ourClientToWsServer(
      t,
      {
        handleProtocols: (offered) => {
          seen = [...offered]
          return 'chat.b'
        },
      },
      {},
      ['chat.a', 'chat.b'],
    )
    assert.deepEqual(seen, ['chat.a', 'chat.b'])
    assert.equal(client.protocol, 'chat.b')
    assert.equal(socket.protocol, 'chat.b')
  })

  it('our client fails with 1006 when a ws server picks none of its protocols', async (t) => {
    const { url } = await startWsServer(t, { handleProtocols: () => false })
    const client = new WebSocket(url, ['chat.a'])
    t.after(() => client.terminate())
    let errored = false
    client.onerror = () => {
      errored = true
    }
    const { code, wasClean } = await closed(client)
    assert.equal(errored, true)
    assert.equal(code, 1006)
    assert.equal(wasClean, false)
    assert.equal(client.readyState, WebSocket.CLOSED)
  })
})

describe('closing', () => {
  it('a ws client close code and reason reach our server, and both sides close cleanly', async (t) => {
    const { ws, connection } = await wsClientToOurServer(t)
    const wsClose = wsClosed(ws)
    const ourClose = connectionClosed(connection)
    ws.close(4001, 'client leaving ✓')
    assert.deepEqual(await ourClose, [4001, 'client leaving ✓', true])
    const { code, wasClean } = await wsClose
    assert.equal(code, 4001)
    assert.equal(wasClean, true)
  })

  it('our server close code and reason reach a ws client, and both sides close cleanly', async (t) => {
    const { ws, connection } = await wsClientToOurServer(t)
    const wsClose = wsClosed(ws)
    const ourClose = connectionClosed(connection)
    connection.close(4002, 'server says bye — ü')
    assert.deepEqual(await wsClose, { code: 4002, reason: 'server says bye — ü', wasClean: true })
    const [code, , wasClean] = await ourClose
    assert.equal(code, 4002)
    assert.equal(wasClean, true)
  })

  it('a ws client close without a code reaches our server as 1005', async (t) => {
    const { ws, connection } = await wsClientToOurServer(t)
    const ourClose = connectionClosed(connection)
    ws.close()
    assert.deepEqual(await ourClose, [1005, '', true])
  })

  it('a 123-byte close reason from our server reaches a ws client intact', async (t) => {
    const { ws, connection } = await wsClientToOurServer(t)
    const wsClose = wsClosed(ws)
    const reason = textOf(123)
    connection.close(1000, reason)
    assert.deepEqual(await wsClose, { code: 1000, reason, wasClean: true })
  })

  it('stopping our server closes a ws client with 1001', async (t) => {
    const { server, ws } = await wsClientToOurServer(t)
    const wsClose = wsClosed(ws)
    await server.close()
    assert.deepEqual(await wsClose, { code: 1001, reason: 'server stopping', wasClean: true })
  })

  it('a message our server sends before closing reaches a ws client before the close', async (t) => {
    const { ws, inbox, connection } = await wsClientToOurServer(
      t,
      { perMessageDeflate: { thresholdBytes: 0 } },
      { perMessageDeflate: { threshold: 0 } },
    )
    const events: string[] = []
    ws.on('message', () => events.push('message'))
    const wsClose = wsClosed(ws).then((event) => {
      events.push('close')
      return event
    })
    const message = pattern(MiB)
    connection.send(message)
    connection.close(4005, 'after the data')
    assert.deepEqual(await wsClose, { code: 4005, reason: 'after the data', wasClean: true })
    assert.deepEqual(events, ['message', 'close'])
    assert.ok((await inbox.next())[0].equals(message), 'the bytes differ')
  })

  it('a compressed message a ws client sends right before closing reaches our server before the close', async (t) => {
    const { ws, connection } = await wsClientToOurServer(
      t,
      { perMessageDeflate: { thresholdBytes: 0 } },
      { perMessageDeflate: { threshold: 0 } },
    )
    const events: string[] = []
    const message = pattern(MiB)
    let intact = false
    connection.on('message', (data) => {
      intact = data.equals(message)
      events.push('message')
    })
    const ourClose = connectionClosed(connection)
    ws.send(message)
    ws.close(4006, 'sent everything')
    assert.deepEqual(await ourClose, [4006, 'sent everything', true])
    assert.deepEqual(events, ['message'])
    assert.ok(intact, 'the bytes differ')
  })

  it('terminating a connection on our server ends a ws client with 1006, not cleanly', async (t) => {
    const { ws, connection } = await wsClientToOurServer(t)
    const wsClose = wsClosed(ws)
    const ourClose = connectionClosed(connection)
    connection.terminate()
    const { code, wasClean } = await wsClose
    assert.equal(code, 1006)
    assert.equal(wasClean, false)
    const [ourCode, , ourClean] = await ourClose
    assert.equal(ourCode, 1006)
    assert.equal(ourClean, false)
  })

  it('our client close code and reason reach a ws server, and both sides close cleanly', async (t) => {
    const { client, socket } = await ourClientToWsServer(t)
    const wsClose = wsClosed(socket)
    const ourClose = closed(client)
    client.close(4003, 'client leaving ✓')
    assert.deepEqual(await wsClose, { code: 4003, reason: 'client leaving ✓', wasClean: true })
    const { code, wasClean } = await ourClose
    assert.equal(code, 4003)
    assert.equal(wasClean, true)
    assert.equal(client.readyState, WebSocket.CLOSED)
  })

  it('a ws server close code and reason reach our client, and both sides close cleanly', async (t) => {
    const { client, socket } = await ourClientToWsServer(t)
    const wsClose = wsClosed(socket)
    const ourClose = closed(client)
    socket.close(4004, 'server says bye — ü')
    const { code, reason, wasClean } = await ourClose
    assert.deepEqual(
      { code, reason, wasClean },
      { code: 4004, reason: 'server says bye — ü', wasClean: true },
    )
    const echoed = await wsClose
    assert.equal(echoed.code, 4004)
    assert.equal(echoed.wasClean, true)
  })

  it('our client close without a code reaches a ws server as 1005', async (t) => {
    const { client, socket } = await ourClientToWsServer(t)
    const wsClose = wsClosed(socket)
    const ourClose = closed(client)
    client.close()
    assert.deepEqual(await wsClose, { code: 1005, reason: '', wasClean: true })
    const { code, wasClean } = await ourClose
    assert.equal(code, 1005)
    assert.equal(wasClean, true)
  })

  it('a ws server close without a code reaches our client as 1005', async (t) => {
    const { client, socket } = await ourClientToWsServer(t)
    const ourClose = closed(client)
    socket.close()
    const { code, reason, wasClean } = await ourClose
    assert.deepEqual({ code, reason, wasClean }, { code: 1005, reason: '', wasClean: true })
  })

  it('a ws server that terminates the TCP connection ends our client with 1006, not cleanly', async (t) => {
    const { client, socket } = await ourClientToWsServer(t)
    const ourClose = closed(client)
    socket.terminate()
    const { code, wasClean } = await ourClose
    assert.equal(code, 1006)
    assert.equal(wasClean, false)
  })

  it('a compressed message a ws server sends right before closing reaches our client before the close', async (t) => {
    const { client, socket } = await ourClientToWsServer(
      t,
      { perMessageDeflate: { threshold: 0 } },
      { perMessageDeflate: { thresholdBytes: 0 } },
    )
    client.binaryType = 'arraybuffer'
    const events: string[] = []
    const message = pattern(MiB)
    let intact = false
    client.onmessage = (event) => {
      const data: unknown = event.data
      intact = data instanceof ArrayBuffer && Buffer.from(data).equals(message)
      events.push('message')
    }
    const ourClose = closed(client)
    socket.send(message)
    socket.close(4007, 'sent everything')
    const { code, reason, wasClean } = await ourClose
    assert.deepEqual({ code, reason, wasClean }, { code: 4007, reason: 'sent everything', wasClean: true })
    assert.deepEqual(events, ['message'])
    assert.ok(intact, 'the bytes differ')
  })

  it('a message our client sends before closing reaches a ws server before the close', async (t) => {
    const { client, socket, serverInbox } = await ourClientToWsServer(
      t,
      { perMessageDeflate: { threshold: 0 } },
      { perMessageDeflate: { thresholdBytes: 0 } },
    )
    const events: string[] = []
    socket.on('message', () => events.push('message'))
    const wsClose = wsClosed(socket).then((event) => {
      events.push('close')
      return event
    })
    const message = pattern(MiB)
    client.send(message)
    client.close(1000, 'done')
    assert.deepEqual(await wsClose, { code: 1000, reason: 'done', wasClean: true })
    assert.deepEqual(events, ['message', 'close'])
    assert.ok((await serverInbox.next())[0].equals(message), 'the bytes differ')
  })
})

describe('our client data types', () => {
  it("hands binary from a ws server over as an ArrayBuffer with binaryType 'arraybuffer'", async (t) => {
    const { client, socket } = await ourClientToWsServer(t)
    client.binaryType = 'arraybuffer'
    const message = once(client, 'message') as Promise<[MessageEvent]>
    socket.send(Buffer.from([0x00, 0x01, 0xfe, 0xff]))
    const [event] = await message
    const data: unknown = event.data
    assert.ok(data instanceof ArrayBuffer)
    assert.deepEqual([...new Uint8Array(data)], [0x00, 0x01, 0xfe, 0xff])
  })

  it("hands binary from a ws server over as a Blob with binaryType 'blob', and text still as a string", async (t) => {
    const { client, socket } = await ourClientToWsServer(t)
    client.binaryType = 'blob'
    const received = new Promise<unknown[]>((resolve) => {
      const items: unknown[] = []
      client.onmessage = (event) => {
        if (items.push(event.data) === 2) resolve(items)
      }
    })
    const payload = pattern(70 * KiB)
    socket.send(payload)
    socket.send('ünïcode')
    const [blob, text] = await received
    assert.ok(blob instanceof Blob)
    assert.equal(blob.size, 70 * KiB)
    assert.ok(Buffer.from(await blob.arrayBuffer()).equals(payload), 'the bytes differ')
    assert.equal(text, 'ünïcode')
  })

  it('sends an ArrayBuffer, a typed-array view with an offset, a Blob and a string to a ws server in call order (#3)', async (t) => {
    const { client, serverInbox } = await ourClientToWsServer(t)
    const backing = new Uint8Array([9, 9, 1, 2, 3, 4, 9, 9])
    client.send(backing.buffer.slice(2, 4))
    client.send(new Uint16Array(backing.buffer, 2, 2))
    client.send(new Blob([new Uint8Array([5, 6]), new Uint8Array([7])]))
    client.send('text')
    const received = await serverInbox.take(4)
    assert.deepEqual(
      received.map(([data, isBinary]) => [data.toString('hex'), isBinary]),
      [
        ['0102', true],
        ['01020304', true],
        ['050607', true],
        ['74657874', false], // 'text'
      ],
    )
  })

  it('delivers, after open, the messages a ws server sends along with its handshake answer', async (t) => {
    const { url, wss } = await startWsServer(t)
    wss.on('connection', (socket) => {
      socket.send('first')
      socket.send(Buffer.from([1, 2, 3]))
    })
    const client = new WebSocket(url)
    t.after(() => client.terminate())
    const events: string[] = []
    client.onopen = () => events.push('open')
    const received = new Promise<unknown[]>((resolve) => {
      const items: unknown[] = []
      client.onmessage = (event) => {
        events.push('message')
        if (items.push(event.data) === 2) resolve(items)
      }
    })
    const [text, bytes] = await received
    assert.deepEqual(events, ['open', 'message', 'message'])
    assert.equal(text, 'first')
    assert.ok(Buffer.isBuffer(bytes))
    assert.deepEqual([...bytes], [1, 2, 3])
  })
})

describe('pings and keepalive', () => {
  it("our server answers a ws client's ping with the same payload", async (t) => {
    const { ws } = await wsClientToOurServer(t)
    const pong = once(ws, 'pong')
    ws.ping(Buffer.from([0xde, 0xad, 0xbe, 0xef]))
    const [payload] = (await pong) as [Buffer]
    assert.deepEqual([...payload], [0xde, 0xad, 0xbe, 0xef])
  })

  it("a ws server answers our client's ping with the same payload", async (t) => {
    const { client } = await ourClientToWsServer(t)
    const pong = once(client.connection!, 'pong')
    client.ping('heartbeat')
    const [payload] = await pong
    assert.equal(payload.toString(), 'heartbeat')
  })

  it("a ws client answers our server's pings and our pong events carry their payload", async (t) => {
    const { connection } = await wsClientToOurServer(t)
    const pong = once(connection, 'pong')
    connection.ping('are you there?')
    assert.equal(((await pong)[0] as Buffer).toString(), 'are you there?')
  })

  it("our client answers a ws server's ping with the same payload", async (t) => {
    const { socket } = await ourClientToWsServer(t)
    const pong = once(socket, 'pong')
    socket.ping(Buffer.from([0x00, 0xff, 0x80]))
    assert.deepEqual([...((await pong)[0] as Buffer)], [0x00, 0xff, 0x80])
  })

  it('a ws client keeps answering the pings of our idle keepalive, so the connection stays open', async (t) => {
    const { connection } = await wsClientToOurServer(t, { pingIntervalMs: 20, pingTimeoutMs: 1000 })
    for (let i = 0; i < 3; i++) await once(connection, 'pong')
    assert.equal(connection.state, 'open')
  })
})

describe('prepared messages', () => {
  async function wsClients(t: TestContext, count: number, serverOptions: WebSocketServerOptions) {
    const { server, url } = await startServer(t, serverOptions)
    const clients: Inbox[] = []
    // Alternate clients with and without deflate: a prepared frame is never compressed, which both accept.
    for (let i = 0; i < count; i++) {
      const accepted = once(server, 'connection')
      clients.push((await connectWs(t, url, [], { perMessageDeflate: i % 2 === 0 })).inbox)
      await accepted
    }
    return { server, clients }
  }

  it('a prepared text message reaches five ws clients intact', async (t) => {
    const { server, clients } = await wsClients(t, 5, { perMessageDeflate: true })
    const prepared = prepareMessage('broadcast — 日本語 🎉')
    for (const connection of server.clients) assert.equal(connection.sendPrepared(prepared), true)
    for (const inbox of clients) {
      const [data, isBinary] = await inbox.next()
      assert.equal(isBinary, false)
      assert.equal(data.toString(), 'broadcast — 日本語 🎉')
    }
  })

  it('a prepared 100 KiB binary message reaches five ws clients intact', async (t) => {
    const { server, clients } = await wsClients(t, 5, { perMessageDeflate: true })
    const payload = pattern(100 * KiB)
    const prepared = prepareMessage(payload)
    for (const connection of server.clients) connection.sendPrepared(prepared)
    for (const inbox of clients) {
      const [data, isBinary] = await inbox.next()
      assert.equal(isBinary, true)
      assert.ok(data.equals(payload), 'the bytes differ')
    }
  })

  it('a prepared message keeps its place between compressed sends to a ws client', async (t) => {
    const { connection, inbox } = await wsClientToOurServer(
      t,
      { perMessageDeflate: { thresholdBytes: 0 } },
      { perMessageDeflate: true },
    )
    const big = pattern(MiB)
    connection.send(big)
    connection.sendPrepared(prepareMessage('prepared'))
    connection.send('last')
    const [[first], [second], [third]] = await inbox.take(3)
    assert.ok(first.equals(big), 'the first message differs')
    assert.equal(second.toString(), 'prepared')
    assert.equal(third.toString(), 'last')
  })
})

describe('limits and violations', () => {
  it('our server closes with 1009 when a ws client sends more than maxPayloadBytes', async (t) => {
    const { ws, connection } = await wsClientToOurServer(t, { maxPayloadBytes: 1000 })
    const wsClose = wsClosed(ws)
    const ourClose = connectionClosed(connection)
    ws.send(Buffer.alloc(1001))
    assert.equal((await wsClose).code, 1009)
    assert.equal((await ourClose)[0], 1009)
  })

  it('our server closes with 1007 when a ws client sends text that is not UTF-8', async (t) => {
    const { ws, connection } = await wsClientToOurServer(t)
    const wsClose = wsClosed(ws)
    const ourClose = connectionClosed(connection)
    // 'é' in Latin-1 (e9) followed by 'n' is not UTF-8.
    ws.send(Buffer.from([0x6d, 0xe9, 0x6e]), { binary: false })
    assert.equal((await wsClose).code, 1007)
    assert.equal((await ourClose)[0], 1007)
  })

  it("our server sees 1009 when a message passes a ws client's maxPayload", async (t) => {
    const { ws, connection } = await wsClientToOurServer(t, {}, { maxPayload: 1000 })
    ws.on('error', () => {}) // ws reports the violation as an error before closing; expected here.
    const ourClose = connectionClosed(connection)
    connection.send(Buffer.alloc(1001))
    assert.equal((await ourClose)[0], 1009)
  })

  it("our client sees 1009 when it sends more than a ws server's maxPayload", async (t) => {
    const { client, socket } = await ourClientToWsServer(t, { maxPayload: 1000 })
    socket.on('error', () => {}) // As above: ws reports its own refusal as an error.
    const ourClose = closed(client)
    client.send(Buffer.alloc(1001))
    assert.equal((await ourClose).code, 1009)
  })

  it('our server holds sends for a paused ws client and emits drain once it reads again', async (t) => {
    const { ws, inbox, connection } = await wsClientToOurServer(t)
    ws.pause()
    const chunk = pattern(64 * KiB)
    let sent = 0
    while (connection.send(chunk)) sent++
    sent++ // the send that returned false was accepted too
    const drained = once(connection, 'drain')
    ws.resume()
    await drained
    const received = await inbox.take(sent)
    assert.ok(
      received.every(([data]) => data.equals(chunk)),
      'a message differs',
    )
  })
})
