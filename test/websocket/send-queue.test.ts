// The send queue's writes on a real socket: frames of one event-loop turn leave in one write at its end, and
// `flushAlone` writes what the turn queued at once and holds the turn's later frames for a later write.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, createServer, type Socket } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { SendQueue } from '../../src/websocket/send-queue.js'

interface Write {
  bytes: Buffer
  at: number
}

// A connected pair whose server side records each `write` call: what the kernel is handed, call by call.
async function pair(t: TestContext): Promise<{ server: Socket; client: Socket; writes: Write[] }> {
  const listener = createServer()
  listener.listen(0, '127.0.0.1')
  await once(listener, 'listening')
  const { port } = listener.address() as { port: number }
  const client = connect(port, '127.0.0.1')
  const [server] = (await once(listener, 'connection')) as [Socket]
  t.after(() => {
    client.destroy()
    server.destroy()
    listener.close()
  })
  const writes: Write[] = []
  const write = server.write.bind(server) as (chunk: Buffer) => boolean
  server.write = ((chunk: Buffer) => {
    writes.push({ bytes: Buffer.from(chunk), at: performance.now() })
    return write(chunk)
  }) as typeof server.write
  return { server, client, writes }
}

async function receive(client: Socket, bytes: number): Promise<Buffer> {
  let got = Buffer.alloc(0)
  while (got.length < bytes) {
    const [chunk] = (await once(client, 'data')) as [Buffer]
    got = Buffer.concat([got, chunk])
  }
  return got
}

const text = (s: string) => Buffer.from([0x81, s.length, ...Buffer.from(s)])

describe('SendQueue writes', () => {
  it('joins the frames of one turn into one write at its end', async (t) => {
    const { server, client, writes } = await pair(t)
    const queue = new SendQueue(server, null)
    queue.writeFrame(true, false, 1, Buffer.from('a'))
    queue.writeFrame(true, false, 1, Buffer.from('b'))
    assert.equal(writes.length, 0)
    assert.deepEqual(await receive(client, 6), Buffer.concat([text('a'), text('b')]))
    assert.deepEqual(
      writes.map((w) => w.bytes),
      [Buffer.concat([text('a'), text('b')])],
    )
  })

  it('flushAlone writes at once, and the rest of the turn follows in a later write after a pause', async (t) => {
    const { server, client, writes } = await pair(t)
    const queue = new SendQueue(server, null)
    queue.writeFrame(true, false, 1, Buffer.from('a'))
    queue.flushAlone()
    assert.deepEqual(
      writes.map((w) => w.bytes),
      [text('a')],
    )
    queue.writeFrame(true, false, 1, Buffer.from('b'))
    queue.writeFrame(true, false, 1, Buffer.from('c'))
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(writes.length, 1, 'held past the end of the turn')
    assert.deepEqual(await receive(client, 9), Buffer.concat([text('a'), text('b'), text('c')]))
    assert.deepEqual(
      writes.map((w) => w.bytes),
      [text('a'), Buffer.concat([text('b'), text('c')])],
    )
    // A 1 ms timer, timed from the loop's clock, which may lag the write by a fraction of a millisecond.
    assert.ok(writes[1].at - writes[0].at >= 0.5, `${writes[1].at - writes[0].at} ms apart`)
  })
})
