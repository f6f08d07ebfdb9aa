// examples/retrying-client.ts started before its server (examples/tcp-upper-server.ts), and against none at all.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { finish, listeningPort, runExample, unusedTcpPort } from './program.js'

describe('examples/retrying-client', () => {
  it('retries while the connection is refused and talks to the server once it has started', async (t) => {
    const port = await unusedTcpPort()
    const client = runExample(t, 'retrying-client', ['--port', String(port), '--max-delay-ms', '400'])
    assert.equal(await client.stdout.next(), `attempt 1 of 8: connecting to 127.0.0.1:${port}`)
    assert.equal(await client.stdout.next(), 'attempt 1 failed (ECONNREFUSED); retrying in 100 ms')
    const server = runExample(t, 'tcp-upper-server', ['--port', String(port)])
    assert.equal(await listeningPort(server, 'tcp'), port)
    const { code, lines } = await finish(client)
    assert.equal(code, 0, client.stderr())
    const connected = lines.findIndex((line) => /^connected on attempt [2-8]$/.test(line))
    assert.ok(connected >= 0, lines.join('\n'))
    assert.deepStrictEqual(lines.slice(connected + 1), [
      'sending "hello, server"',
      'received "HELLO, SERVER"',
      'connection closed',
    ])
  })

  it('doubles its delay up to the cap, and gives up with exit code 1 after the last attempt', async (t) => {
    const port = await unusedTcpPort()
    const args = ['--port', String(port), '--attempts', '4', '--delay-ms', '10', '--max-delay-ms', '30']
    const client = runExample(t, 'retrying-client', args)
    assert.deepStrictEqual(await finish(client), {
      code: 1,
      lines: [
        `attempt 1 of 4: connecting to 127.0.0.1:${port}`,
        'attempt 1 failed (ECONNREFUSED); retrying in 10 ms',
        `attempt 2 of 4: connecting to 127.0.0.1:${port}`,
        'attempt 2 failed (ECONNREFUSED); retrying in 20 ms',
        `attempt 3 of 4: connecting to 127.0.0.1:${port}`,
        'attempt 3 failed (ECONNREFUSED); retrying in 30 ms',
        `attempt 4 of 4: connecting to 127.0.0.1:${port}`,
        'attempt 4 failed (ECONNREFUSED)',
      ],
    })
    assert.equal(client.stderr(), 'giving up after 4 attempts\n')
  })

  it('refuses zero attempts with its usage and exit code 2', async (t) => {
    const client = runExample(t, 'retrying-client', ['--attempts', '0'])
    assert.deepStrictEqual(await finish(client), { code: 2, lines: [] })
    assert.match(client.stderr(), /^--attempts must be a whole number from 1 to 1000, not "0"\n/)
  })
})
