// `switchboard serve` settings as users give them: flags, SWITCHBOARD_* variables and a JSON config file (flags
// win over variables, which win over the file), the `listening` lines they lead to, the errors that name a bad
// key, and the limits they set, seen through nc, socat and the `ws` client. Every test has its own processes,
// free ports and temp dir, so each suite runs its tests side by side (most of their time is Node starting up).
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import {
  connectNc,
  connectSocatUnix,
  everyListener,
  makeTempDir,
  openWs,
  parseJson,
  refusedUpgrade,
  runServe,
  type Scheme,
  startProgram,
  startServe,
  startSocatUdp,
} from '../helpers/serve-process.js'

/** Writes `settings` as JSON to `name` in `dir` and returns its path. */
function writeConfig(dir: string, name: string, settings: unknown): string {
  const path = join(dir, name)
  writeFileSync(path, JSON.stringify(settings))
  return path
}

/** The `listening` lines a server printed, in order. */
function listeningLines(lines: string[]): string[] {
  return lines.filter((line) => line.startsWith('listening '))
}

describe('switchboard serve: listening lines', { concurrency: true }, () => {
  it('prints one listening line per listener: http://, tcp://, udp:// with their ports and unix://PATH', async (t) => {
    const dir = makeTempDir(t)
    const server = await startServe(
      t,
      ['--http', '0', '--tcp', '0', '--udp', '0', '--unix', 'chat.sock', '--memory'],
      {
        cwd: dir,
      },
    )
    const lines = listeningLines(server.stdout.seen)
    assert.equal(lines.length, 4)
    assert.match(lines[0], /^listening http:\/\/127\.0\.0\.1:[1-9]\d*$/)
    assert.match(lines[1], /^listening tcp:\/\/127\.0\.0\.1:[1-9]\d*$/)
    assert.match(lines[2], /^listening udp:\/\/127\.0\.0\.1:[1-9]\d*$/)
    assert.equal(
      lines[3],
      'listening unix://chat.sock',
      'the path as given, relative to the working directory',
    )
    assert.ok(existsSync(join(dir, 'chat.sock')))
    // The ports printed are the ones served.
    assert.ok(server.tcp && server.udp)
    await connectNc(t, server.tcp)
    await connectSocatUnix(t, join(dir, 'chat.sock'))
    const udp = startSocatUdp(t, server.udp)
    udp.send('/ping')
    assert.equal(await udp.lines.next(), 'PONG')
    assert.equal((await fetch(`${server.http}/healthz`)).status, 200)
  })

  it('turns a listener off with off, and makes no socket file when the Unix one is off', async (t) => {
    const dir = makeTempDir(t)
    const args = ['--http', '0', '--tcp', 'off', '--udp', 'off', '--unix', 'off', '--memory']
    const server = await startServe(t, args, { cwd: dir })
    assert.deepEqual(
      listeningLines(server.stdout.seen).map((line) => line.split('://')[0]),
      ['listening http'],
    )
    assert.deepEqual(readdirSync(dir), [], 'no ./switchboard.sock and, with --memory, no ./switchboard-data')
  })

  it('listens on IPv6 with --host ::1, printing the address in brackets', async (t) => {
    const server = await startServe(t, ['--host', '::1', ...everyListener(makeTempDir(t))])
    const lines = listeningLines(server.stdout.seen)
    assert.match(lines[0], /^listening http:\/\/\[::1\]:\d+$/)
    assert.match(lines[1], /^listening tcp:\/\/\[::1\]:\d+$/)
    assert.match(lines[2], /^listening udp:\/\/\[::1\]:\d+$/)
    assert.ok(server.tcp && server.udp && server.http)

    const tcp = await connectNc(t, server.tcp)
    const udp = startSocatUdp(t, server.udp)
    udp.send('/nick six')
    await udp.lines.waitFor((line) => line.startsWith('OK nick six '), 'OK nick over UDP/IPv6')
    const ws = await openWs(t, `${server.http.replace('http', 'ws')}/ws?nick=ws-six`)
    ws.ws.send('hello over IPv6')
    await tcp.lines.waitFor((line) => line === '[lobby] ws-six: hello over IPv6', 'the message over TCP/IPv6')
  })

  it('exits 1 with EADDRINUSE and the address when a port is taken, leaving no socket file', async (t) => {
    const taken = createServer()
    taken.listen(0, '127.0.0.1')
    await once(taken, 'listening')
    t.after(() => taken.close())
    const address = taken.address()
    assert.ok(address !== null && typeof address === 'object')
    const dir = makeTempDir(t)
    const result = await runServe(
      t,
      ['--http', '0', '--tcp', String(address.port), '--udp', '0', '--unix', 'sb.sock', '--memory'],
      { cwd: dir },
    )
    assert.equal(result.code, 1)
    assert.match(result.stderr, /^switchboard: .*EADDRINUSE/)
    assert.ok(result.stderr.includes(`127.0.0.1:${address.port}`), result.stderr)
    assert.deepEqual(listeningLines(result.stdout), [])
    assert.ok(!existsSync(join(dir, 'sb.sock')))
  })
})

describe('switchboard serve: where settings come from', { concurrency: true }, () => {
  it('reads a JSON --config file', async (t) => {
    const dir = makeTempDir(t)
    const config = writeConfig(dir, 'switchboard.json', {
      http: 0,
      tcp: false,
      udp: 0,
      unix: 'from-file.sock',
      memory: true,
      retention: { maxMessages: 2 },
    })
    const server = await startServe(t, ['--config', config], { cwd: dir, expect: ['http', 'udp', 'unix'] })
    assert.deepEqual(listeningLines(server.stdout.seen).slice(1), [
      `listening udp://127.0.0.1:${server.udp?.port}`,
      'listening unix://from-file.sock',
    ])
    // retention.maxMessages: 2 keeps the last two of three messages.
    const json = await openWs(t, `${server.http?.replace('http', 'ws')}/ws`, ['switchboard.v1'])
    for (const data of ['one', 'two', 'three'])
      json.ws.send(JSON.stringify({ op: 'publish', room: 'lobby', data }))
    json.ws.send(JSON.stringify({ op: 'history', id: 'h', room: 'lobby', last: 10 }))
    const reply = parseJson(
      await json.messages.waitFor((line) => parseJson(line).id === 'h', 'the history reply'),
    )
    const history = reply.history as { messages: Array<{ data: string }>; lastOffset: number; gap: unknown }
    assert.deepEqual(
      history.messages.map((message) => message.data),
      ['two', 'three'],
    )
    assert.equal(history.lastOffset, 3)
  })

  it('reads SWITCHBOARD_* variables, and the config file SWITCHBOARD_CONFIG names', async (t) => {
    const dir = makeTempDir(t)
    writeConfig(dir, 'env.json', { tcp: 0 })
    const env = {
      SWITCHBOARD_CONFIG: 'env.json',
      SWITCHBOARD_HOST: '127.0.0.1',
      SWITCHBOARD_HTTP: '0',
      SWITCHBOARD_UDP: 'off',
      SWITCHBOARD_UNIX: 'from-env.sock',
      SWITCHBOARD_MEMORY: 'true',
    }
    const server = await startServe(t, [], { cwd: dir, env, expect: ['http', 'tcp', 'unix'] })
    const lines = listeningLines(server.stdout.seen)
    assert.equal(lines.length, 3)
    assert.equal(lines[2], 'listening unix://from-env.sock')
    assert.ok(!existsSync(join(dir, 'switchboard-data')), 'SWITCHBOARD_MEMORY keeps history off the disk')
  })

  it('lets flags win over variables, and variables over the file', async (t) => {
    const dir = makeTempDir(t)
    const config = writeConfig(dir, 'c.json', {
      http: false,
      tcp: 0,
      udp: false,
      unix: 'file.sock',
      memory: true,
    })
    const env = { SWITCHBOARD_UNIX: 'env.sock', SWITCHBOARD_HTTP: '0' }
    const linesOf = async (flags: string[], expect: Scheme[]) => {
      const server = await startServe(t, ['--config', config, ...flags], { cwd: dir, env, expect })
      return listeningLines(server.stdout.seen).map((line) => line.replace(/:\d+$/, ':N'))
    }
    // The file alone is the test above; here a variable overrides it, and a flag overrides the variable.
    const [variables, flags] = await Promise.all([
      linesOf([], ['http', 'tcp', 'unix']),
      linesOf(['--unix', 'flag.sock', '--udp', '0', '--http', 'off'], ['tcp', 'udp', 'unix']),
    ])
    assert.deepEqual(variables, [
      'listening http://127.0.0.1:N',
      'listening tcp://127.0.0.1:N',
      'listening unix://env.sock',
    ])
    assert.deepEqual(flags, [
      'listening tcp://127.0.0.1:N',
      'listening udp://127.0.0.1:N',
      'listening unix://flag.sock',
    ])
  })
})

describe('switchboard serve: a bad setting or config file exits 1 and says which', {
  concurrency: true,
}, () => {
  /** Runs serve with `settings` in a config file (when given) and asserts it refused before listening. */
  async function refused(
    t: TestContext,
    settings: unknown,
    args: string[] = [],
    env: Record<string, string> = {},
  ) {
    const dir = makeTempDir(t)
    const fileArgs = settings === undefined ? [] : ['--config', writeConfig(dir, 'bad.json', settings)]
    const result = await runServe(
      t,
      ['--http', '0', '--tcp', '0', '--udp', '0', '--unix', 'sb.sock', ...fileArgs, ...args],
      {
        cwd: dir,
        env,
      },
    )
    assert.equal(result.code, 1, result.stderr)
    assert.deepEqual(listeningLines(result.stdout), [])
    assert.deepEqual(
      readdirSync(dir).sort(),
      settings === undefined ? [] : ['bad.json'],
      'nothing was started',
    )
    const lines = result.stderr.trimEnd().split('\n')
    assert.equal(lines.length, 1, `one line of error: ${result.stderr}`)
    return lines[0]
  }

  it('a value of the wrong type in the file: limits.maxLineBytes', async (t) => {
    assert.match(
      await refused(t, { limits: { maxLineBytes: 'big' } }),
      /^switchboard: invalid setting limits\.maxLineBytes: Invalid input: expected number/,
    )
  })

  it('an unknown key in the file: limits.bogus', async (t) => {
    assert.equal(
      await refused(t, { limits: { bogus: 1 } }),
      'switchboard: invalid setting limits.bogus: unknown setting',
    )
  })

  it('a port that is not a number in SWITCHBOARD_UDP', async (t) => {
    const line = await refused(t, undefined, ['--memory'], { SWITCHBOARD_UDP: 'ninety' })
    // The flag --udp 0 would win, but a bad variable is still an error: it names the variable.
    assert.match(
      line,
      /^switchboard: invalid setting udp \(SWITCHBOARD_UDP\): a port 0-65535 or off, not ninety$/,
    )
  })

  it('a port past 65535 in a flag', async (t) => {
    const line = await refused(t, undefined, ['--memory', '--tcp', '70000'])
    assert.match(line, /^switchboard: invalid setting tcp \(--tcp\): a port 0-65535 or off, not 70000$/)
  })

  async function refusedFile(t: TestContext, path: string, dir: string): Promise<string> {
    const result = await runServe(
      t,
      ['--config', path, '--http', '0', '--tcp', '0', '--udp', '0', '--memory'],
      {
        cwd: dir,
      },
    )
    assert.equal(result.code, 1)
    assert.deepEqual(listeningLines(result.stdout), [])
    return result.stderr
  }

  it('a config file that does not exist', async (t) => {
    const dir = makeTempDir(t)
    const stderr = await refusedFile(t, join(dir, 'missing.json'), dir)
    assert.match(stderr, /cannot read config file .*missing\.json: ENOENT/)
  })

  it('a config file that is not JSON', async (t) => {
    const dir = makeTempDir(t)
    writeFileSync(join(dir, 'c.json'), '{ http: 8080 }')
    assert.match(await refusedFile(t, join(dir, 'c.json'), dir), /config file .*c\.json is not a JSON object/)
  })
})

describe('switchboard serve: limits from the config file', { concurrency: true }, () => {
  it('limits.maxLineBytes: a line of exactly that many bytes is said, one more gets ERR 413 line-too-long', async (t) => {
    const dir = makeTempDir(t)
    const config = writeConfig(dir, 'c.json', { limits: { maxLineBytes: 64 } })
    const server = await startServe(t, ['--config', config, ...everyListener(dir)])
    assert.ok(server.tcp)
    const speaker = await connectNc(t, server.tcp)
    const listener = await connectNc(t, server.tcp)
    speaker.send('a'.repeat(64))
    speaker.send('b'.repeat(65))
    speaker.send('still here')
    const err = await speaker.lines.waitFor((line) => line.startsWith('ERR '), 'the refusal')
    assert.match(err, /^ERR 413 line-too-long /)
    const said = await listener.lines.waitForSeen(
      2,
      (line) => line.startsWith('[lobby] guest-'),
      'the lines said',
    )
    assert.deepEqual(
      said.map((line) => line.replace(/^\[lobby\] guest-\d+: /, '')),
      ['a'.repeat(64), 'still here'],
      'the long line was dropped and the connection carried on',
    )
  })

  it('limits.maxConnectionsPerIp: a second TCP connection gets ERR 503, a WebSocket upgrade 503, Unix is let in', async (t) => {
    const dir = makeTempDir(t)
    const config = writeConfig(dir, 'c.json', { limits: { maxConnectionsPerIp: 1 } })
    const server = await startServe(t, ['--config', config, ...everyListener(dir)])
    assert.ok(server.tcp && server.unix && server.http)
    await connectNc(t, server.tcp)
    const second = startProgram(t, 'nc', ['-N', server.tcp.host, String(server.tcp.port)])
    assert.match(await second.lines.next(), /^ERR 503 too-many-from-address /)
    const upgrade = await refusedUpgrade(`${server.http.replace('http', 'ws')}/ws`)
    assert.equal(upgrade.status, 503)
    assert.equal(upgrade.body.code, 'ws-handshake-refused')
    // Unix peers have no address: only the total applies to them.
    await connectSocatUnix(t, server.unix)
    const metrics = await (await fetch(`${server.http}/metrics`)).text()
    assert.match(metrics, /^switchboard_refused_total\{transport="tcp",reason="too-many-from-address"\} 1$/m)
  })

  it('limits.maxConnections counts every transport together', async (t) => {
    const dir = makeTempDir(t)
    const config = writeConfig(dir, 'c.json', { limits: { maxConnections: 2 } })
    const server = await startServe(t, ['--config', config, ...everyListener(dir)])
    assert.ok(server.tcp && server.unix && server.http && server.udp)
    await connectNc(t, server.tcp)
    await openWs(t, `${server.http.replace('http', 'ws')}/ws`)
    const unix = startProgram(t, 'socat', ['-', `UNIX-CONNECT:${server.unix}`])
    assert.match(await unix.lines.next(), /^ERR 503 too-many-connections /)
    const udp = startSocatUdp(t, server.udp)
    udp.send('/nick late')
    assert.match(await udp.lines.next(), /^ERR 503 too-many-connections/)
  })
})
