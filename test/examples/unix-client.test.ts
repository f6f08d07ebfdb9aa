// examples/unix-client.ts against a switchboard hub's Unix socket, started here with startUnix, next to `nc -U`.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { MemoryAdapter } from '../../src/cluster/index.js'
import { Disconnect, Hub, MemoryHistory } from '../../src/hub/index.js'
import { startUnix } from '../../src/transports/unix.js'
import { finish, runExample, spawnProgram } from './program.js'

/** A hub with a Unix listener on a fresh socket file; all gone after the test. */
async function startHub(t: TestContext): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-example-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'switchboard.sock')
  const hub = new Hub({ adapter: new MemoryAdapter(new MemoryHistory()) })
  const listener = await startUnix(hub, { path, closeTimeoutMs: 200 })
  t.after(() => listener.close(Disconnect.ServerStopping))
  return path
}

/** The nickname a WELCOME line gives, as the client prints it. */
function nickOf(line: string): string {
  const nick = /^(?:< )?WELCOME (guest-\d+) key \S+ room lobby /.exec(line)?.[1]
  assert.ok(nick, line)
  return nick
}

describe('examples/unix-client', () => {
  it('reads the welcome, says hello, asks /who, and prints every answer until the hub says BYE', async (t) => {
    const path = await startHub(t)
    const client = runExample(t, 'unix-client', ['--path', path])
    const { code, lines } = await finish(client)
    assert.equal(code, 0, client.stderr())
    const nick = nickOf(lines[0])
    assert.deepStrictEqual(lines.slice(1, 3), ['> hello from a Unix socket', '> /who'])
    // The hub's presence line for our own arrival comes a turn after the welcome, so among the answers.
    assert.deepStrictEqual(
      lines.slice(3).sort(),
      [`< * ${nick} joined lobby`, `< OK who lobby: ${nick}`, '< BYE 4000 bye', 'connection closed'].sort(),
    )
    assert.deepStrictEqual(lines.slice(-2), ['< BYE 4000 bye', 'connection closed'])
  })

  it('says its message in the lobby, where an nc -U peer reads it', async (t) => {
    const path = await startHub(t)
    const nc = spawnProgram(t, 'nc', ['-U', path])
    const ncNick = nickOf(await nc.stdout.next())
    const client = runExample(t, 'unix-client', ['--path', path, 'hi from the example', '/rooms'])
    const { code, lines } = await finish(client)
    assert.equal(code, 0, client.stderr())
    const nick = nickOf(lines[0])
    assert.ok(lines.includes('< OK rooms lobby (2)'), lines.join('\n'))
    assert.equal(await nc.stdout.until(/^\[lobby\]/), `[lobby] ${nick}: hi from the example`)
    assert.notEqual(nick, ncNick)
  })

  it('says no hub is running and exits 1 when the socket file is missing', async (t) => {
    const client = runExample(t, 'unix-client', ['--path', join(tmpdir(), 'no-such-switchboard.sock')])
    assert.deepStrictEqual(await finish(client), { code: 1, lines: [] })
    assert.match(
      client.stderr(),
      /^cannot talk to .*no-such-switchboard\.sock: no socket file there: is the hub running\?/,
    )
  })
})
