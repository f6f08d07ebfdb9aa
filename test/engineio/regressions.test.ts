// Regressions of the Engine.IO server found in issue #5: a close in the middle of an upgrade, and the peer's
// address read after the opening request's socket closed.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { get } from 'node:http'
import { describe, it } from 'node:test'
import { clientEvent, nextSession, openClient, parseOpen, startEngine } from './helpers/engine.js'

describe('Engine.IO regressions', () => {
  it('ends a session closed while upgrading at once, not after pingTimeout (#5)', async (t) => {
    const pingTimeoutMs = 3000
    const running = await startEngine(t, { pingTimeoutMs })
    const opened = nextSession(running.engine)
    const { client } = await openClient(t, running)
    const session = await opened
    assert.equal(session.transport, 'polling')
    // The client tells of the upgrade once the server answered its probe, before it sends the upgrade packet.
    await new Promise((resolve) => client.once('upgrading', resolve))
    assert.equal(session.state, 'upgrading')
    const started = performance.now()
    const closed = once(session, 'close')
    const clientClosed = clientEvent(client, 'close')
    session.close()
    const [reason] = await closed
    assert.equal(reason, 'forced close')
    assert.equal(session.state, 'closed')
    await clientClosed
    assert.ok(performance.now() - started < pingTimeoutMs / 3, 'the close waited for a GET that never comes')
    assert.equal(running.engine.sessions.size, 0)
  })

  it('keeps the remote address after the opening request’s socket closed (#5)', async (t) => {
    const running = await startEngine(t)
    const opened = nextSession(running.engine)
    // No keep-alive agent: the socket of the opening GET closes once it is answered.
    const request = get(running.url(), { agent: false })
    const [response] = await once(request, 'response')
    let body = ''
    for await (const chunk of response) body += chunk
    const session = await opened
    assert.equal(parseOpen(body).sid, session.id)
    if (!session.request.socket.destroyed) await once(session.request.socket, 'close')
    assert.equal(session.remoteAddress, '127.0.0.1')
  })
})
