// The Unix domain socket line transport with real peers (nc -U, socat UNIX-CONNECT, node:net), and the
// socket file's life: removed on close, a stale one replaced, a live one left alone.
import assert from 'node:assert/strict'
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { MemoryAdapter } from '../../src/cluster/memory-adapter.js'
import { Disconnect } from '../../src/hub/disconnect.js'
import { MemoryHistory } from '../../src/hub/history.js'
import { Hub } from '../../src/hub/hub.js'
import { ConnectionGate } from '../../src/transports/connection-gate.js'
import { startTcp } from '../../src/transports/tcp.js'
import { startUnix, type UnixOptions } from '../../src/transports/unix.js'
import { LineReader } from '../helpers/line-reader.js'

/** A fresh directory for socket files, removed after the test (paths stay well under the 108-byte limit). */
function socketDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'sb-unix-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A hub on memory history with a Unix listener at `path`, both gone after the test. */
async function serve(t: TestContext, path: string, options: Omit<UnixOptions, 'path'> = {}) {
  const hub = new Hub({ adapter: new MemoryAdapter(new MemoryHistory()) })
  const listener = await startUnix(hub, { path, closeTimeoutMs: 200, ...options })
  t.after(() => listener.close(Disconnect.ServerStopping))
  return { hub, listener }
}

/** `nc`, `socat` or another line tool talking to the server through its stdin and stdout. */
function spawnPeer(t: TestContext, command: string, args: string[]) {
  const child: ChildProcessWithoutNullStreams = spawn(command, args)
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const reader = new LineReader(child.stdout)
  return { child, reader, send: (line: string) => child.stdin.write(`${line}\n`) }
}

/** Feeds `input` to `nc -U -N` and resolves with everything the server said. */
async function ncSession(t: TestContext, path: string, input: string | Uint8Array): Promise<string[]> {
  const { child, reader } = spawnPeer(t, 'nc', ['-U', '-N', path])
  child.stdin.end(input)
  return reader.rest()
}

/** The nickname in a WELCOME line. */
function nickOf(welcome: string): string {
  const nick = /^WELCOME (\S+) key \S+ room lobby /.exec(welcome)?.[1]
  assert.ok(nick, welcome)
  return nick
}

/** A process that listens on `path` and is killed with SIGKILL, as a crash leaves it: the file stays. */
async function leaveStaleSocket(t: TestContext, path: string): Promise<void> {
  const program = `require('node:net').createServer().listen(process.argv[1], () => console.log('up'))`
  const { child, reader } = spawnPeer(t, process.execPath, ['-e', program, path])
  assert.equal(await reader.next(), 'up')
  child.kill('SIGKILL')
  await once(child, 'exit')
  assert.ok(lstatSync(path).isSocket())
}

describe('Unix listener', () => {
  it('listens on the socket file and names it in a unix:// url', async (t) => {
    const path = join(socketDir(t), 'sb.sock')
    const { listener } = await serve(t, path)
    assert.equal(listener.url, `unix://${path}`)
    assert.ok(lstatSync(path).isSocket())
  })

  it('removes the socket file on close', async (t) => {
    const path = join(socketDir(t), 'sb.sock')
    const { listener } = await serve(t, path)
    await listener.close(Disconnect.ServerStopping)
    assert.equal(existsSync(path), false)
  })

  it('replaces a stale socket file left by a crash', async (t) => {
    const path = join(socketDir(t), 'sb.sock')
    await leaveStaleSocket(t, path)
    await serve(t, path)
    const lines = await ncSession(t, path, '/ping\n')
    assert.match(lines[0], /^WELCOME /)
    assert.equal(lines.at(-2), 'PONG')
  })

  it('never takes over a socket file a live server accepts on', async (t) => {
    const path = join(socketDir(t), 'sb.sock')
    const other = createServer((socket) => {
      // The probe hangs up at once, which this server sees as a reset: nothing to do about it.
      socket.on('error', () => {})
      socket.end('other\n')
    })
    await new Promise<void>((resolve) => other.listen(path, resolve))
    t.after(() => other.close())
    const hub = new Hub({ adapter: new MemoryAdapter(new MemoryHistory()) })
    await assert.rejects(startUnix(hub, { path }), {
      code: 'unix-socket-in-use',
      message: `a server is already listening on ${path}; stop it or choose another path`,
    })
    assert.deepStrictEqual(await ncSession(t, path, ''), ['other'])
  })

  it('refuses a path that is some other kind of file, and leaves it alone', async (t) => {
    const path = join(socketDir(t), 'notes.txt')
    writeFileSync(path, 'keep me')
    const hub = new Hub({ adapter: new MemoryAdapter(new MemoryHistory()) })
    await assert.rejects(startUnix(hub, { path }), { code: 'unix-path-not-socket' })
    assert.ok(lstatSync(path).isFile())
  })
})

describe('Unix line protocol', () => {
  it('carries a conversation between nc -U and socat, and a TCP client in the same hub', async (t) => {
    const path = join(socketDir(t), 'sb.sock')
    const { hub } = await serve(t, path)
    const tcp = await startTcp(hub, { port: 0, closeTimeoutMs: 200 })
    t.after(() => tcp.close(Disconnect.ServerStopping))
    const ann = spawnPeer(t, 'nc', ['-U', path])
    const annNick = nickOf(await ann.reader.next())
    const bob = spawnPeer(t, 'socat', ['-t0.05', '-', `UNIX-CONNECT:${path}`])
    const bobNick = nickOf(await bob.reader.next())
    const carol = spawnPeer(t, 'nc', ['-N', '127.0.0.1', String(/:(\d+)$/.exec(tcp.url)?.[1])])
    const carolNick = nickOf(await carol.reader.next())
    ann.send('hello from a unix socket')
    assert.equal(await bob.reader.until(/^\[lobby\]/), `[lobby] ${annNick}: hello from a unix socket`)
    assert.equal(await carol.reader.until(/^\[lobby\]/), `[lobby] ${annNick}: hello from a unix socket`)
    carol.send('/me waves over TCP')
    assert.equal(await ann.reader.until(/^\[lobby\]/), `[lobby] * ${carolNick} waves over TCP`)
    bob.send(`/msg ${carolNick} psst`)
    assert.equal(await carol.reader.until(/^\[dm\]/), `[dm] ${bobNick}: psst`)
  })

  it('answers invalid UTF-8 with an ERR line and carries on', async (t) => {
    const path = join(socketDir(t), 'sb.sock')
    await serve(t, path)
    // "ok" C3 28 LF: C3 wants a continuation byte, 28 is "("
    const lines = await ncSession(t, path, Buffer.from('6f6bc3280a2f70696e670a', 'hex'))
    assert.deepStrictEqual(lines.slice(-3), [
      'ERR 400 invalid-utf8 the line is not valid UTF-8; it was discarded',
      'PONG',
      'BYE 4000 bye',
    ])
  })

  it('speaks JSON lines on a JSON listener', async (t) => {
    const path = join(socketDir(t), 'sb.sock')
    await serve(t, path, { mode: 'json' })
    const requests = [
      { op: 'nick', id: 1, name: 'robot' },
      { op: 'publish', id: 2, room: 'lobby', data: 'beep' },
      { op: 'history', id: 3, room: 'lobby', last: 5 },
    ]
    const lines = await ncSession(t, path, requests.map((request) => `${JSON.stringify(request)}\n`).join(''))
    const values = lines.map((line) => JSON.parse(line))
    assert.equal(values[0].type, 'welcome')
    const history = values.find((value) => value.id === 3)
    assert.deepStrictEqual(
      history.history.messages.map((message: { from: string; data: string }) => [message.from, message.data]),
      [['robot', 'beep']],
    )
    assert.deepStrictEqual(values.at(-1), { type: 'bye', code: 4000, reason: 'bye', reconnect: false })
  })

  it('limits Unix connections in total but not per address, since they have none', async (t) => {
    const path = join(socketDir(t), 'sb.sock')
    const gate = new ConnectionGate({ maxConnections: 2, maxConnectionsPerIp: 1 })
    await serve(t, path, { gate })
    for (let i = 0; i < 2; i++) {
      const socket = connect(path)
      t.after(() => socket.destroy())
      const reader = new LineReader(socket)
      assert.match(await reader.next(), /^WELCOME /)
    }
    assert.deepStrictEqual(await ncSession(t, path, ''), [
      'ERR 503 too-many-connections the server has all the connections it can take; try again later',
    ])
  })

  it('cuts a client that stays silent past the idle timeout with BYE 4002', async (t) => {
    const path = join(socketDir(t), 'sb.sock')
    await serve(t, path, { idleTimeoutMs: 200 })
    const idle = connect(path)
    t.after(() => idle.destroy())
    const lines = await new LineReader(idle).rest()
    assert.match(lines[0], /^WELCOME /)
    assert.equal(lines.at(-1), 'BYE 4002 idle timeout')
  })

  it('says BYE 4001 to socat on close and stops listening', async (t) => {
    const path = join(socketDir(t), 'sb.sock')
    const { listener } = await serve(t, path)
    const talker = spawnPeer(t, 'socat', ['-t0.05', '-', `UNIX-CONNECT:${path}`])
    await talker.reader.next()
    await listener.close(Disconnect.ServerStopping)
    assert.equal((await talker.reader.rest()).at(-1), 'BYE 4001 server stopping')
    const refused = connect(path)
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException]
    assert.equal(error.code, 'ENOENT')
  })
})
