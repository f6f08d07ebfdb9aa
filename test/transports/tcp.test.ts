// The TCP line transport with real peers: netcat (openbsd) and socat as a person would use them, node:net
// where a program is clearer (pausing, floods, exact bytes).
import assert from 'node:assert/strict'
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { Duplex } from 'node:stream'
import { describe, it, type TestContext } from 'node:test'
import { MemoryAdapter } from '../../src/cluster/memory-adapter.js'
import { Disconnect } from '../../src/hub/disconnect.js'
import { MemoryHistory } from '../../src/hub/history.js'
import { Hub } from '../../src/hub/hub.js'
import type { HubLimits } from '../../src/hub/limits.js'
import type { HubEvent, Member } from '../../src/hub/member.js'
import { ConnectionGate } from '../../src/transports/connection-gate.js'
import { LineServer } from '../../src/transports/line-server.js'
import { startTcp, type TcpOptions } from '../../src/transports/tcp.js'
import { LineReader } from '../helpers/line-reader.js'

interface Peer {
  reader: LineReader
  send(line: string | Uint8Array): void
}

interface NetPeer extends Peer {
  socket: Socket
}

/** A hub on memory history with a TCP listener on a free port, both gone after the test. */
async function serve(t: TestContext, options: TcpOptions & { limits?: Partial<HubLimits> } = {}) {
  const { limits, ...tcp } = options
  const hub = new Hub({ adapter: new MemoryAdapter(new MemoryHistory()), limits })
  // An interactive nc keeps its side open after our BYE until its input ends: the close timeout ends it.
  const listener = await startTcp(hub, { port: 0, closeTimeoutMs: 200, ...tcp })
  t.after(() => listener.close(Disconnect.ServerStopping))
  const port = Number(/:(\d+)$/.exec(listener.url)?.[1])
  return { hub, listener, port }
}

/** A node:net client that has read its welcome line. */
async function connectNet(
  t: TestContext,
  port: number,
  host = '127.0.0.1',
): Promise<NetPeer & { nick: string }> {
  const socket = connect(port, host)
  t.after(() => socket.destroy())
  const reader = new LineReader(socket)
  const send = (line: string | Uint8Array) => socket.write(typeof line === 'string' ? `${line}\n` : line)
  const welcome = await reader.next()
  const nick = /^WELCOME (\S+) key \S+ room lobby /.exec(welcome)?.[1]
  assert.ok(nick, welcome)
  await reader.until(new RegExp(`^\\* ${nick} joined lobby$`))
  return { socket, reader, send, nick }
}

/** `nc`, `socat` or another line tool talking to the server through its stdin and stdout. */
function spawnPeer(
  t: TestContext,
  command: string,
  args: string[],
): Peer & { child: ChildProcessWithoutNullStreams } {
  const child = spawn(command, args)
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const reader = new LineReader(child.stdout)
  return { child, reader, send: (line) => child.stdin.write(typeof line === 'string' ? `${line}\n` : line) }
}

/** Feeds `input` to `nc -N` (which half-closes after it) and resolves with everything the server said. */
async function ncSession(t: TestContext, port: number, input: string | Uint8Array): Promise<string[]> {
  const { child, reader } = spawnPeer(t, 'nc', ['-N', '127.0.0.1', String(port)])
  child.stdin.end(input)
  return reader.rest()
}

/** Bytes that look random but are the same on every run (xorshift32). */
function noise(length: number): Buffer {
  const bytes = Buffer.alloc(length)
  let state = 0x2545f491
  for (let i = 0; i < length; i++) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    bytes[i] = state & 0xff
  }
  return bytes
}

/** The lines that are not presence announcements, whose timing depends on the event loop. */
function withoutPresence(lines: readonly string[]): string[] {
  return lines.filter((line) => !/^\* \S+ (joined|left) \S+$/.test(line))
}

describe('TCP listener', () => {
  it('listens on a free port and names it in a tcp:// url', async (t) => {
    const { listener, port } = await serve(t)
    assert.match(listener.url, /^tcp:\/\/127\.0\.0\.1:\d+$/)
    assert.ok(port > 0)
  })

  it('writes an IPv6 host in brackets and serves on it', async (t) => {
    const { listener, port } = await serve(t, { host: '::1' })
    assert.equal(listener.url, `tcp://[::1]:${port}`)
    const peer = await connectNet(t, port, '::1')
    assert.match(peer.nick, /^guest-\d+$/)
  })

  it('rejects with EADDRINUSE when the port is taken', async (t) => {
    const { port } = await serve(t)
    const hub = new Hub({ adapter: new MemoryAdapter(new MemoryHistory()) })
    await assert.rejects(startTcp(hub, { port }), { code: 'EADDRINUSE' })
  })

  it('refuses a setting out of range at once', async () => {
    const hub = new Hub({ adapter: new MemoryAdapter(new MemoryHistory()) })
    await assert.rejects(startTcp(hub, { port: 0, maxLineBytes: 0 }), { code: 'line-bad-option' })
    await assert.rejects(startTcp(hub, { port: 0, idleTimeoutMs: -1 }), { code: 'line-bad-option' })
  })
})

describe('TCP text protocol with nc and socat', () => {
  it('greets nc with nick, key and room, answers each command, and says BYE after its last line', async (t) => {
    const { port } = await serve(t)
    const lines = await ncSession(t, port, '/who\n/rooms\n/ping\n/nick ann\n/frob\n/join\n')
    assert.match(
      lines[0],
      /^WELCOME guest-\d+ key [\w-]{12} room lobby - type to talk, \/help lists commands$/,
    )
    const nick = lines[0].split(' ')[1]
    assert.deepStrictEqual(withoutPresence(lines.slice(1)), [
      `OK who lobby: ${nick}`,
      'OK rooms lobby (1)',
      'PONG',
      lines.find((line) => line.startsWith('OK nick ann key ')),
      'ERR 400 unknown-command unknown command /frob; /help lists them',
      'ERR 400 bad-command usage: /join ROOM',
      'BYE 4000 bye',
    ])
  })

  it('lists every command on /help', async (t) => {
    const { port } = await serve(t)
    const lines = withoutPresence(await ncSession(t, port, '/help\r\n'))
    assert.equal(lines[1], 'OK help')
    for (const command of [
      '/me',
      '/msg',
      '/join',
      '/leave',
      '/rooms',
      '/who',
      '/history',
      '/nick',
      '/ping',
      '/json',
      '/quit',
    ])
      assert.ok(
        lines.some((line) => line.trimStart().startsWith(command)),
        command,
      )
  })

  it('carries a conversation between nc and socat in one room, /me included', async (t) => {
    const { port } = await serve(t)
    const ann = spawnPeer(t, 'nc', ['127.0.0.1', String(port)])
    await ann.reader.until(/^WELCOME /)
    ann.send('/nick ann')
    await ann.reader.until(/^OK nick ann /)
    const bob = spawnPeer(t, 'socat', ['-t0.05', '-', `TCP:127.0.0.1:${port}`])
    await bob.reader.until(/^WELCOME /)
    bob.send('/nick bob')
    await ann.reader.until(/^\* bob joined lobby$/)
    ann.send('hello bob')
    assert.equal(await bob.reader.until(/^\[lobby\]/), '[lobby] ann: hello bob')
    bob.send('/me waves')
    assert.equal(await ann.reader.until(/^\[lobby\]/), '[lobby] * bob waves')
    bob.send('/quit')
    assert.equal(await bob.reader.until(/^BYE/), 'BYE 4000 bye')
    assert.equal(await ann.reader.next(), '* bob left lobby')
  })

  it('delivers /msg to the named member only', async (t) => {
    const { port } = await serve(t)
    const ann = await connectNet(t, port)
    const bob = await connectNet(t, port)
    const carol = await connectNet(t, port)
    ann.send(`/msg ${bob.nick} psst, just you`)
    assert.equal(await ann.reader.until(/^OK msg/), `OK msg ${bob.nick}`)
    assert.equal(await bob.reader.until(/^\[dm\]/), `[dm] ${ann.nick}: psst, just you`)
    ann.send('now everyone')
    assert.equal(await carol.reader.until(/^\[/), `[lobby] ${ann.nick}: now everyone`)
    ann.send('/msg nobody hi')
    assert.equal(await ann.reader.until(/^ERR/), 'ERR 404 no-such-member nobody is called nobody')
  })

  it('shows recent messages on arrival and the last N on /history', async (t) => {
    const { port } = await serve(t)
    const ann = await connectNet(t, port)
    for (const text of ['one', 'two', 'three']) ann.send(text)
    ann.send('/ping')
    await ann.reader.until(/^PONG$/)
    const lines = withoutPresence(await ncSession(t, port, '/history 2\n'))
    const said = (text: string) => `[lobby] ${ann.nick}: ${text}`
    assert.deepStrictEqual(lines.slice(1), [
      said('one'),
      said('two'),
      said('three'),
      'OK history lobby 2 messages',
      said('two'),
      said('three'),
      'BYE 4000 bye',
    ])
  })

  it('shows who is in the room as members come and go', async (t) => {
    const { port } = await serve(t)
    const ann = await connectNet(t, port)
    ann.send('/nick ann')
    await ann.reader.until(/^OK nick ann/)
    const bob = await connectNet(t, port)
    await ann.reader.until(new RegExp(`^\\* ${bob.nick} joined lobby$`))
    ann.send('/who')
    assert.equal(await ann.reader.until(/^OK who/), `OK who lobby: ann, ${bob.nick}`)
    bob.socket.end()
    assert.equal(await ann.reader.next(), `* ${bob.nick} left lobby`)
    ann.send('/who lobby')
    assert.equal(await ann.reader.next(), 'OK who lobby: ann')
  })

  it('moves plain lines to the room joined last and back after /leave', async (t) => {
    const { port } = await serve(t)
    const ann = await connectNet(t, port)
    const bob = await connectNet(t, port)
    bob.send('/join dev')
    assert.equal(await bob.reader.until(/^OK join/), `OK join dev (1 here: ${bob.nick})`)
    ann.send('/join dev')
    assert.equal(await ann.reader.until(/^OK join/), `OK join dev (2 here: ${ann.nick}, ${bob.nick})`)
    ann.send('in dev')
    assert.equal(await bob.reader.until(/^\[/), `[dev] ${ann.nick}: in dev`)
    ann.send('/leave')
    assert.equal(await ann.reader.until(/^OK leave/), 'OK leave dev (talking in lobby)')
    ann.send('/leave')
    assert.equal(await ann.reader.until(/^OK leave/), 'OK leave lobby (in no room now: /join ROOM)')
    ann.send('anyone?')
    assert.equal(await ann.reader.until(/^ERR/), 'ERR 403 not-in-room you are in no room; /join ROOM first')
  })

  it('lets a second connection share a nickname with its key and refuses it without', async (t) => {
    const { port } = await serve(t)
    const first = await connectNet(t, port)
    first.send('/nick ann')
    const key = (await first.reader.until(/^OK nick ann key /)).split(' ').pop()
    const second = await connectNet(t, port)
    second.send('/nick ann wrong-key')
    assert.match(await second.reader.until(/^ERR/), /^ERR 409 nick-taken ann is taken/)
    second.send(`/nick ann ${key}`)
    assert.equal(await second.reader.until(/^OK nick/), `OK nick ann key ${key}`)
    second.send('/who')
    assert.equal(await second.reader.until(/^OK who/), 'OK who lobby: ann')
  })
})

describe('TCP JSON lines', () => {
  it('speaks switchboard.v1 after /json and text again after /text', async (t) => {
    const { port } = await serve(t)
    const bot = await connectNet(t, port)
    const ann = await connectNet(t, port)
    bot.send('/json')
    assert.deepStrictEqual(JSON.parse(await bot.reader.until(/^\{/)), { ok: true, op: 'json' })
    bot.send(JSON.stringify({ op: 'publish', id: 1, room: 'lobby', data: 'beep', echo: false }))
    const ack = JSON.parse(await bot.reader.next())
    assert.deepStrictEqual([ack.id, ack.ok, ack.op, ack.room, ack.offset], [1, true, 'publish', 'lobby', 1])
    assert.equal(await ann.reader.until(/^\[/), `[lobby] ${bot.nick}: beep`)
    bot.send(JSON.stringify({ op: 'publish', id: 2, room: 'lobby', data: { base64: 'AAEC' } }))
    assert.equal(await ann.reader.until(/^\[/), `[lobby] ${bot.nick}: [binary 3 bytes]`)
    ann.send('hi bot')
    const event = JSON.parse(await bot.reader.until(/"data":"hi bot"/))
    assert.deepStrictEqual([event.type, event.from, event.data], ['message', ann.nick, 'hi bot'])
    bot.send('{"op":"publish"')
    const refusal = JSON.parse(await bot.reader.until(/"ok":false/))
    assert.deepStrictEqual(refusal.error, { code: 'bad-request', status: 400, message: 'not valid JSON' })
    bot.send('/text')
    assert.equal(await bot.reader.until(/^OK/), 'OK text')
    bot.send('/ping')
    assert.equal(await bot.reader.next(), 'PONG')
  })

  it('greets with a JSON welcome on a JSON listener and ends with a JSON bye', async (t) => {
    const { port, listener } = await serve(t, { mode: 'json' })
    const peer = spawnPeer(t, 'socat', ['-t0.05', '-', `TCP:127.0.0.1:${port}`])
    const welcome = JSON.parse(await peer.reader.next())
    assert.deepStrictEqual([welcome.type, welcome.rooms], ['welcome', ['lobby']])
    assert.match(welcome.nick, /^guest-\d+$/)
    peer.send(JSON.stringify({ op: 'who', id: 'w', room: 'lobby' }))
    const who = JSON.parse(await peer.reader.until(/"id":"w"/))
    assert.deepStrictEqual(who.members, [welcome.nick])
    await listener.close(Disconnect.ServerStopping)
    const bye = JSON.parse((await peer.reader.rest()).at(-1) ?? '')
    assert.deepStrictEqual(bye, { type: 'bye', code: 4001, reason: 'server stopping', reconnect: true })
  })
})

describe('TCP hostile input', () => {
  it('answers binary garbage and invalid UTF-8 with ERR lines and carries on', async (t) => {
    const { port } = await serve(t)
    const watcher = await connectNet(t, port)
    // FF FE: not UTF-8; 00 01 1B: control characters; then 4 KiB of noise and a line that is fine.
    const garbage = Buffer.concat([
      Buffer.from('fffe0a00011b0a', 'hex'),
      noise(4096),
      Buffer.from('\nstill here\n/ping\n'),
    ])
    const lines = withoutPresence(await ncSession(t, port, garbage))
    assert.equal(lines[1], 'ERR 400 invalid-utf8 the line is not valid UTF-8; it was discarded')
    assert.match(lines[2], /^ERR 400 control-character /)
    assert.ok(lines.slice(3, -2).every((line) => line.startsWith('ERR 400 ')))
    assert.deepStrictEqual(lines.slice(-2), ['PONG', 'BYE 4000 bye'])
    assert.equal(await watcher.reader.until(/still here$/), `[lobby] ${lines[0].split(' ')[1]}: still here`)
  })

  it('answers an endless line with one ERR 413 while it still streams in, then carries on', async (t) => {
    const { port, listener } = await serve(t, { maxLineBytes: 1024 })
    const peer = await connectNet(t, port)
    const chunk = Buffer.alloc(64 * 1024, 'a')
    let sent = 0
    const refused = peer.reader.next()
    // 8 MiB with no LF: the answer must come long before the end, or the server would be buffering it.
    let answered = false
    void refused.then(() => {
      answered = true
    })
    while (sent < 8 * 1024 * 1024 && !answered) {
      if (!peer.socket.write(chunk)) await once(peer.socket, 'drain')
      sent += chunk.length
    }
    assert.equal(
      await refused,
      'ERR 413 line-too-long a line is at most 1024 bytes; the rest of it was discarded',
    )
    peer.send('\n/ping')
    assert.equal(await peer.reader.next(), 'PONG')
    assert.equal(listener.counters.refused.get('line-too-long'), 1)
  })

  it('meets a flood with ERR 429 past the rate limit and delivers what it allows', async (t) => {
    const { port } = await serve(t, { limits: { messagesPerSecond: 0.01, messageBurst: 5 } })
    const watcher = await connectNet(t, port)
    const flood = Array.from({ length: 20 }, (_, i) => `flood ${i}\n`).join('')
    const lines = withoutPresence(await ncSession(t, port, `${flood}/ping\n`))
    const limited = lines.filter((line) => line.startsWith('ERR 429 rate-limited '))
    assert.equal(limited.length, 15)
    assert.deepStrictEqual(lines.slice(-2), ['PONG', 'BYE 4000 bye'])
    const received: string[] = []
    for (let i = 0; i < 5; i++) received.push((await watcher.reader.until(/^\[lobby\]/)).replace(/^.*: /, ''))
    assert.deepStrictEqual(received, ['flood 0', 'flood 1', 'flood 2', 'flood 3', 'flood 4'])
  })

  it('cuts a client that stays silent past the idle timeout, and /ping keeps another alive', async (t) => {
    const { port } = await serve(t, { idleTimeoutMs: 500 })
    const pinger = await connectNet(t, port)
    const silent = await connectNet(t, port)
    const keepalive = setInterval(() => pinger.send('/ping'), 100)
    t.after(() => clearInterval(keepalive))
    assert.deepStrictEqual(await silent.reader.rest(), ['BYE 4002 idle timeout'])
    assert.equal(await pinger.reader.until(/left lobby$/), `* ${silent.nick} left lobby`)
    clearInterval(keepalive)
    pinger.send('/who')
    assert.equal(await pinger.reader.until(/^OK who/), `OK who lobby: ${pinger.nick}`)
  })

  it('disconnects a reader that stops reading with BYE 4008 while another receives everything', async (t) => {
    const limits = { messagesPerSecond: 1e6, messageBurst: 1e6 }
    const { port, listener } = await serve(t, { maxQueuedBytes: 64 * 1024, closeTimeoutMs: 5000, limits })
    const slow = await connectNet(t, port)
    const good = await connectNet(t, port)
    const publisher = await connectNet(t, port)
    slow.socket.pause()
    const text = (n: number) => `${String(n).padStart(6, '0')} ${'x'.repeat(16 * 1024)}`
    let published = 0
    const slowGone = () => good.reader.lines.includes(`* ${slow.nick} left lobby`)
    // Batches of 512 KiB until the server gives up on the slow reader; the kernel's buffers hold a few MiB.
    while (!slowGone() && published < 2048) {
      for (let i = 0; i < 32; i++) publisher.send(text(published++))
      await good.reader.until(
        new RegExp(`^\\[lobby\\] ${publisher.nick}: ${String(published - 1).padStart(6, '0')} `),
      )
    }
    assert.ok(slowGone(), 'the slow reader was never disconnected')
    const goodLines = good.reader.lines.filter((line) => line.startsWith('[lobby]'))
    assert.deepStrictEqual(
      goodLines.map((line) => Number(line.split(' ')[2])),
      Array.from({ length: published }, (_, n) => n),
    )
    slow.socket.resume()
    const rest = await slow.reader.rest()
    assert.equal(rest.at(-1), 'BYE 4008 send queue full')
    const seen = rest.filter((line) => line.startsWith('[lobby]')).map((line) => Number(line.split(' ')[2]))
    assert.deepStrictEqual(
      seen,
      Array.from({ length: seen.length }, (_, n) => n),
    )
    assert.ok(seen.length < published)
    assert.equal(listener.counters.refused.get('slow-consumer'), 1)
  })
})

describe('TCP connection limits and shutdown', () => {
  it('refuses a connection past the total limit with ERR 503 too-many-connections', async (t) => {
    const gate = new ConnectionGate({ maxConnections: 2 })
    const { port, listener } = await serve(t, { gate })
    await connectNet(t, port)
    const second = await connectNet(t, port)
    const lines = await ncSession(t, port, '')
    assert.deepStrictEqual(lines, [
      'ERR 503 too-many-connections the server has all the connections it can take; try again later',
    ])
    assert.equal(listener.counters.refused.get('too-many-connections'), 1)
    second.socket.end()
    await second.reader.rest()
    // The server's side of the socket closes a moment after ours; a turn at a time, no timers.
    while (listener.connections > 1) await new Promise(setImmediate)
    await connectNet(t, port)
  })

  it('refuses a connection past the per-address limit with ERR 503 too-many-from-address', async (t) => {
    const gate = new ConnectionGate({ maxConnectionsPerIp: 1 })
    const { port } = await serve(t, { gate })
    await connectNet(t, port)
    const lines = await ncSession(t, port, '')
    assert.deepStrictEqual(lines, [
      'ERR 503 too-many-from-address too many connections from 127.0.0.1; try again later',
    ])
  })

  it('says BYE 4001 to every connection on close, after what was queued, and stops listening', async (t) => {
    const { port, listener } = await serve(t)
    const ann = await connectNet(t, port)
    const bob = await connectNet(t, port)
    ann.send('last words')
    await bob.reader.until(/last words$/)
    await listener.close(Disconnect.ServerStopping)
    assert.deepStrictEqual(withoutPresence(await bob.reader.rest()), ['BYE 4001 server stopping'])
    assert.deepStrictEqual(withoutPresence(await ann.reader.rest()), ['BYE 4001 server stopping'])
    assert.equal(listener.connections, 0)
    const refused = connect(port, '127.0.0.1')
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException]
    assert.equal(error.code, 'ECONNREFUSED')
  })

  it('counts bytes and lines both ways and refusals by reason', async (t) => {
    const { port, listener } = await serve(t)
    // "/ping" LF, then FF LF: not UTF-8
    const input = Buffer.from('2f70696e670aff0a', 'hex')
    const lines = await ncSession(t, port, input)
    const { counters } = listener
    assert.equal(counters.bytesIn, input.length)
    assert.equal(counters.messagesIn, 2)
    assert.equal(counters.messagesOut, lines.length)
    assert.equal(counters.bytesOut, Buffer.byteLength(lines.map((line) => `${line}\n`).join('')))
    assert.equal(counters.queuedBytes, 0)
    assert.deepStrictEqual([...counters.refused], [['invalid-utf8', 1]])
  })
})

/** A stream whose peer never reads: everything written stays queued, so `writableLength` is exact. */
function stuckStream(): Duplex & { welcomed: Promise<unknown> } {
  const stream = new Duplex({
    read() {},
    write(_chunk, _encoding, _callback) {
      stream.emit('wrote')
    },
  })
  return Object.assign(stream, { welcomed: once(stream, 'wrote') })
}

describe('the queue limit of one connection, exactly', () => {
  async function setup(t: TestContext, maxQueuedBytes: number) {
    const hub = new Hub({ adapter: new MemoryAdapter(new MemoryHistory()) })
    const events: HubEvent[] = []
    const member: Member = {
      id: 'publisher',
      transport: 'websocket',
      remoteAddress: 'test',
      deliver: (event) => {
        events.push(event)
        return 'delivered'
      },
      close: () => {},
    }
    const publisher = await hub.connect(member, { nick: 'pub' })
    assert.ok(!(publisher instanceof Error))
    const lines = new LineServer(hub, { transport: 'tcp', options: { maxQueuedBytes, closeTimeoutMs: 10 } })
    t.after(() => lines.close(Disconnect.ServerStopping))
    const stream = stuckStream()
    lines.accept(stream, 'memory')
    await stream.welcomed
    // The join's presence event follows the welcome a turn later.
    await new Promise(setImmediate)
    return { lines, stream, publisher, events }
  }

  // "[lobby] pub: " + text + LF
  const overhead = '[lobby] pub: \n'.length

  it('keeps a connection whose queue reaches maxQueuedBytes exactly', async (t) => {
    const { lines, stream, publisher } = await setup(t, 4096)
    await publisher.publish('lobby', 'x'.repeat(4096 - stream.writableLength - overhead))
    assert.equal(stream.writableLength, 4096)
    assert.equal(lines.connections, 1)
    assert.equal(lines.counters.refused.size, 0)
  })

  it('disconnects a connection one byte past maxQueuedBytes as a slow consumer', async (t) => {
    const { lines, stream, publisher, events } = await setup(t, 4096)
    await publisher.publish('lobby', 'x'.repeat(4096 - stream.writableLength - overhead + 1))
    assert.equal(lines.counters.refused.get('slow-consumer'), 1)
    while (lines.connections > 0) await once(stream, 'close')
    assert.ok(events.some((event) => event.type === 'presence' && event.event === 'leave'))
  })
})
