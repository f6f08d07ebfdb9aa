// examples/udp-receiver.ts receiving from node:dgram and socat.
import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { describe, it, type TestContext } from 'node:test'
import { finish, listeningPort, runExample, spawnProgram } from './program.js'

/** Starts the receiver on a free port with `args`, and resolves with it once it is bound. */
async function startReceiver(t: TestContext, args: string[] = []) {
  const receiver = runExample(t, 'udp-receiver', ['--port', '0', ...args])
  return { receiver, port: await listeningPort(receiver, 'udp') }
}

describe('examples/udp-receiver', () => {
  it('prints each datagram with the address and port it came from', async (t) => {
    const { receiver, port } = await startReceiver(t, ['--count', '2'])
    const sender = createSocket('udp4')
    t.after(() => sender.close())
    await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', resolve))
    const from = sender.address().port
    sender.send('hello', port, '127.0.0.1')
    // One datagram per send: UDP keeps the boundaries, unlike a TCP stream.
    sender.send('and goodbye', port, '127.0.0.1')
    assert.deepStrictEqual(await finish(receiver), {
      code: 0,
      lines: [
        `127.0.0.1:${from} sent 5 bytes: "hello"`,
        `127.0.0.1:${from} sent 11 bytes: "and goodbye"`,
        'stopping after 2 datagrams',
      ],
    })
  })

  it('shows what socat sends exactly, its newline included', async (t) => {
    const { receiver, port } = await startReceiver(t, ['--count', '1'])
    const socat = spawnProgram(t, 'socat', ['-u', '-', `UDP-SENDTO:127.0.0.1:${port}`])
    socat.child.stdin.end('hi\tthere\n')
    assert.equal((await finish(socat)).code, 0)
    const { code, lines } = await finish(receiver)
    assert.equal(code, 0)
    assert.match(lines[0], /^127\.0\.0\.1:\d+ sent 9 bytes: "hi\\tthere\\n"$/)
  })

  it('stops on SIGTERM and exits 0', async (t) => {
    const { receiver } = await startReceiver(t)
    receiver.child.kill('SIGTERM')
    assert.deepStrictEqual(await finish(receiver), { code: 0, lines: ['stopping after 0 datagrams'] })
  })
})
