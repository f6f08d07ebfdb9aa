// examples/tcp-upper-client.ts against the example server, against `switchboard echo --tcp`, and against nothing.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { finish, listeningPort, runExample, spawnProgram, unusedTcpPort } from './program.js'

// This file runs as dist/test/examples/; the CLI is dist/src/cli/main.js.
const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))

describe('examples/tcp-upper-client', () => {
  it('sends its words as one line to the example server and prints the upper-case answer', async (t) => {
    const server = runExample(t, 'tcp-upper-server', ['--port', '0'])
    const port = await listeningPort(server, 'tcp')
    const client = runExample(t, 'tcp-upper-client', ['--port', String(port), 'hello', 'world'])
    const { code, lines } = await finish(client)
    assert.equal(code, 0, client.stderr())
    assert.match(lines[0], new RegExp(`^connected to 127\\.0\\.0\\.1:${port} from 127\\.0\\.0\\.1:\\d+$`))
    assert.deepStrictEqual(lines.slice(1), [
      'sending "hello world"',
      'received "HELLO WORLD"',
      'connection closed',
    ])
  })

  it('gets the same answer from switchboard echo --tcp', async (t) => {
    const echo = spawnProgram(t, process.execPath, [cli, 'echo', '--port', '0', '--tcp', '0'])
    await echo.stdout.until(/^listening ws:/)
    const port = await listeningPort(echo, 'tcp')
    const { code, lines } = await finish(runExample(t, 'tcp-upper-client', ['--port', String(port)]))
    assert.equal(code, 0)
    assert.deepStrictEqual(lines.slice(1), [
      'sending "hello, server"',
      'received "HELLO, SERVER"',
      'connection closed',
    ])
  })

  it('says the connection was refused and exits 1 when no server listens', async (t) => {
    const port = await unusedTcpPort()
    const client = runExample(t, 'tcp-upper-client', ['--port', String(port)])
    assert.deepStrictEqual(await finish(client), { code: 1, lines: [] })
    assert.match(
      client.stderr(),
      new RegExp(`^cannot talk to 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*is the server running`),
    )
  })
})
