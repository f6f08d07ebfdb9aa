// examples/udp-sender.ts talking to examples/udp-receiver.ts, to a node:dgram peer that answers, and to nobody.
import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { describe, it, type TestContext } from 'node:test'
import { finish, listeningPort, runExample, unusedUdpPort } from './program.js'

/** A UDP peer on a free port that answers each datagram with `answer(text)`, if that gives one. */
async function startPeer(t: TestContext, answer: (text: string) => string | null) {
  const peer = createSocket('udp4')
  t.after(() => peer.close())
  peer.on('message', (data, from) => {
    const reply = answer(data.toString())
    if (reply !== null) peer.send(reply, from.port, from.address)
  })
  await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve))
  return peer.address().port
}

describe('examples/udp-sender', () => {
  it("sends each message as one datagram, which the receiver prints with the sender's port", async (t) => {
    const receiver = runExample(t, 'udp-receiver', ['--port', '0', '--count', '2'])
    const port = await listeningPort(receiver, 'udp')
    const sender = runExample(t, 'udp-sender', ['--port', String(port), 'hello', 'second datagram'])
    const sent = await finish(sender)
    assert.equal(sent.code, 0, sender.stderr())
    const from = new RegExp(`^sending from (127\\.0\\.0\\.1:\\d+) to 127\\.0\\.0\\.1:${port}$`).exec(
      sent.lines[0],
    )?.[1]
    assert.ok(from, sent.lines[0])
    assert.deepStrictEqual(sent.lines.slice(1), ['sent 5 bytes: "hello"', 'sent 15 bytes: "second datagram"'])
    assert.deepStrictEqual(await finish(receiver), {
      code: 0,
      lines: [
        `${from} sent 5 bytes: "hello"`,
        `${from} sent 15 bytes: "second datagram"`,
        'stopping after 2 datagrams',
      ],
    })
  })

  it('waits for as many replies as asked and prints them', async (t) => {
    const port = await startPeer(t, (text) => `OK ${text}`)
    const sender = runExample(t, 'udp-sender', [
      '--port',
      String(port),
      '--replies',
      '2',
      '/nick ann',
      'hello',
    ])
    const { code, lines } = await finish(sender)
    assert.equal(code, 0, sender.stderr())
    assert.deepStrictEqual(lines.slice(1), [
      'sent 9 bytes: "/nick ann"',
      'sent 5 bytes: "hello"',
      `reply from 127.0.0.1:${port}: "OK /nick ann"`,
      `reply from 127.0.0.1:${port}: "OK hello"`,
    ])
  })

  it('exits 1 when the replies asked for do not come within --timeout-ms', async (t) => {
    const port = await startPeer(t, () => null)
    const args = ['--port', String(port), '--replies', '1', '--timeout-ms', '50']
    const sender = runExample(t, 'udp-sender', args)
    assert.equal((await finish(sender)).code, 1)
    assert.match(sender.stderr(), /^0 of 1 replies within 50 ms /)
  })

  it('reports ECONNREFUSED when nothing listens on the port', async (t) => {
    const port = await unusedUdpPort()
    const sender = runExample(t, 'udp-sender', ['--port', String(port), '--replies', '1'])
    assert.equal((await finish(sender)).code, 1)
    assert.match(
      sender.stderr(),
      new RegExp(`^127\\.0\\.0\\.1:${port}: .*ECONNREFUSED \\(nothing listens on that port\\)\\n$`),
    )
  })
})
