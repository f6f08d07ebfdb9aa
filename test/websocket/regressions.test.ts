// Regressions found while writing the WebSocket behaviour tests: frames sent with the upgrade request,
// control frames inside a queued frame, and Blob ordering on the client.
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { WebSocketConnection } from '../../src/websocket/connection.js'
import { WebSocket } from '../../src/websocket/client.js'
import { WebSocketServer } from '../../src/websocket/server.js'
import { masked, RawSocket, type UpgradeRequest, type WireFrame } from '../helpers/raw-socket.js'

async function connect(t: TestContext, request?: UpgradeRequest) {
  const server = new WebSocketServer()
  const { port } = await server.listen()
  const messages: string[] = []
  const accepted = new Promise<WebSocketConnection>((resolve) =>
    server.once('connection', (connection) => {
      connection.on('message', (data) => messages.push(data.toString()))
      resolve(connection)
    }),
  )
  const raw = await RawSocket.connect(port, request)
  t.after(async () => {
    raw.destroy()
    await server.close()
  })
  return { raw, connection: await accepted, messages }
}

/** The next frame, or a failure after `ms`: a corrupted stream can leave the parser waiting forever. */
function nextFrameWithin(raw: RawSocket, ms: number): Promise<WireFrame> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no complete frame within ${ms} ms`)), ms)
  })
  return Promise.race([raw.nextFrame(), deadline]).finally(() => clearTimeout(timer))
}

describe('server regressions', () => {
  it('delivers a message the client sent in the same TCP write as its upgrade request (#3)', async (t) => {
    const { raw, messages } = await connect(t, { followedBy: masked(0x81, 'early') })
    raw.write(masked(0x81, 'later'))
    // The server echoes nothing, so wait for the second message by pinging behind it.
    raw.write(masked(0x89, 'sync'))
    await raw.nextFrame()
    assert.deepEqual(messages, ['early', 'later'])
  })

  it('never writes a pong between the header and the payload of a queued data frame (#3)', async (t) => {
    const { raw, connection } = await connect(t)
    // 65530 bytes: a 4-byte header, and header + payload + next header just crosses the 64 KiB socket budget.
    const size = 65530
    const count = 200
    raw.pause()
    for (let i = 0; i < count; i++) connection.send(Buffer.alloc(size, i & 0xff))
    raw.resume()
    let data = 0
    while (data < count) {
      const frame = await nextFrameWithin(raw, 5000)
      if (frame.opcode === 0xa) continue
      assert.equal(frame.opcode, 0x2, `frame ${data} has opcode ${frame.opcode}`)
      assert.ok(frame.payload.equals(Buffer.alloc(size, data & 0xff)), `frame ${data} is corrupted`)
      data++
      // Pings at many points of the transfer, so some arrive while a frame is half written.
      if (data % 3 === 0) raw.write(masked(0x89, 'p'))
    }
  })
})

describe('client regressions', () => {
  it('sends a Blob and a string in the order send() was called (#3)', async (t) => {
    const server = new WebSocketServer()
    const { port } = await server.listen()
    const received: string[] = []
    const both = new Promise<void>((resolve) =>
      server.once('connection', (connection) =>
        connection.on('message', (data) => {
          if (received.push(data.toString()) === 2) resolve()
        }),
      ),
    )
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`)
    t.after(async () => {
      ws.terminate()
      for (const client of server.clients) client.terminate()
      await server.close()
    })
    await new Promise((resolve) => ws.addEventListener('open', resolve))
    ws.send(new Blob(['first']))
    ws.send('second')
    await both
    assert.deepEqual(received, ['first', 'second'])
  })
})
