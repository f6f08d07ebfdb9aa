// examples/ws-chat-server.ts with npm `ws` clients chatting through it.
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { connectWs, type Inbox, wsClosed } from '../helpers/ws-peer.js'
import { finish, listeningPort, runExample } from './program.js'

/** Starts the chat server on a free port and resolves with its URL once it listens. */
async function startChat(t: TestContext) {
  const server = runExample(t, 'ws-chat-server', ['--port', '0'])
  return { server, url: `ws://127.0.0.1:${await listeningPort(server, 'ws')}/` }
}

/** The next message of `inbox`, which must be text. */
async function nextText(inbox: Inbox): Promise<string> {
  const [data, isBinary] = await inbox.next()
  assert.equal(isBinary, false)
  return data.toString()
}

describe('examples/ws-chat-server', () => {
  it("sends every message to every client, the sender included, after the speaker's name", async (t) => {
    const { server, url } = await startChat(t)
    const ann = await connectWs(t, url)
    assert.equal(await nextText(ann.inbox), '* guest-1 joined')
    const bob = await connectWs(t, url)
    assert.equal(await nextText(ann.inbox), '* guest-2 joined')
    assert.equal(await nextText(bob.inbox), '* guest-2 joined')
    ann.ws.send('hello everyone')
    assert.equal(await nextText(ann.inbox), 'guest-1: hello everyone')
    assert.equal(await nextText(bob.inbox), 'guest-1: hello everyone')
    bob.ws.send('hi ann')
    assert.equal(await nextText(bob.inbox), 'guest-2: hi ann')
    assert.equal(await nextText(ann.inbox), 'guest-2: hi ann')
    bob.ws.close(1000)
    assert.equal(await nextText(ann.inbox), '* guest-2 left (close code 1000)')
    assert.match(await server.stdout.next(), /^guest-1 connected from 127\.0\.0\.1$/)
    assert.equal(await server.stdout.until(/^guest-1:/), 'guest-1: hello everyone')
  })

  it('passes binary messages on unchanged', async (t) => {
    const { url } = await startChat(t)
    const ann = await connectWs(t, url)
    const bob = await connectWs(t, url)
    const bytes = Buffer.from('00ff10fe', 'hex')
    ann.ws.send(bytes)
    await bob.inbox.take(1) // * guest-2 joined
    assert.deepStrictEqual(await bob.inbox.next(), [bytes, true])
  })

  it('closes every client with 1001 on SIGTERM and exits 0', async (t) => {
    const { server, url } = await startChat(t)
    const ann = await connectWs(t, url)
    const closed = wsClosed(ann.ws)
    server.child.kill('SIGTERM')
    assert.deepStrictEqual(await closed, { code: 1001, reason: 'server stopping', wasClean: true })
    const { code, lines } = await finish(server)
    assert.equal(code, 0)
    assert.deepStrictEqual(lines.slice(-2), ['* guest-1 left (close code 1001)', 'stopped'])
  })
})
