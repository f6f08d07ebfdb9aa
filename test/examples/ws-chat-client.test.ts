// examples/ws-chat-client.ts chatting through examples/ws-chat-server.ts with an npm `ws` client.
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { connectWs } from '../helpers/ws-peer.js'
import { finish, listeningPort, runExample, unusedTcpPort } from './program.js'

/** The chat server on a free port, and our client connected to it as guest-1. */
async function chatWithClient(t: TestContext) {
  const server = runExample(t, 'ws-chat-server', ['--port', '0'])
  const port = await listeningPort(server, 'ws')
  const client = runExample(t, 'ws-chat-client', ['--port', String(port)])
  assert.equal(
    await client.stdout.next(),
    `connected to ws://127.0.0.1:${port}/; type a line to say it, Ctrl-D to leave`,
  )
  assert.equal(await client.stdout.next(), '* guest-1 joined')
  return { server, client, url: `ws://127.0.0.1:${port}/` }
}

describe('examples/ws-chat-client', () => {
  it('says each typed line, prints what others say, and leaves with 1000 at the end of its input', async (t) => {
    const { client, url } = await chatWithClient(t)
    const bob = await connectWs(t, url)
    assert.equal(await client.stdout.next(), '* guest-2 joined')
    client.child.stdin.write('hello from a terminal\n')
    assert.equal(await client.stdout.next(), 'guest-1: hello from a terminal')
    await bob.inbox.take(1) // * guest-2 joined
    assert.equal((await bob.inbox.next())[0].toString(), 'guest-1: hello from a terminal')
    bob.ws.send('hi terminal')
    assert.equal(await client.stdout.next(), 'guest-2: hi terminal')
    await bob.inbox.take(1) // guest-2: hi terminal
    client.child.stdin.end()
    assert.equal((await bob.inbox.next())[0].toString(), '* guest-1 left (close code 1000)')
    assert.deepStrictEqual(await finish(client), { code: 0, lines: ['closed with 1000'] })
  })

  it('exits 0 when the server stops, with the close code it gave', async (t) => {
    const { server, client } = await chatWithClient(t)
    server.child.kill('SIGTERM')
    assert.deepStrictEqual(await finish(client), { code: 0, lines: ['closed with 1001 (server stopping)'] })
  })

  it('says the connection failed and exits 1 when no server listens', async (t) => {
    const port = await unusedTcpPort()
    const client = runExample(t, 'ws-chat-client', ['--port', String(port)])
    assert.deepStrictEqual(await finish(client), { code: 1, lines: ['closed with 1006'] })
    assert.match(client.stderr(), /ECONNREFUSED/)
  })
})
