// The UDP transport with real peers: socat and nc (OpenBSD netcat) from Debian in child processes, and
// node:dgram where a program is clearer, against a hub whose other members are direct hub sessions.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createSocket, type Socket } from 'node:dgram'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { describe, it, type TestContext } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { MemoryAdapter } from '../../src/cluster/memory-adapter.js'
import { Disconnect } from '../../src/hub/disconnect.js'
import { type HistoryStore, MemoryHistory } from '../../src/hub/history.js'
import { Hub } from '../../src/hub/hub.js'
import type { HubEvent, RoomMessage } from '../../src/hub/member.js'
import { textBytes } from '../../src/transports/codec/datagram.js'
import { ConnectionGate } from '../../src/transports/connection-gate.js'
import type { Listener } from '../../src/transports/listener.js'
import { startTcp } from '../../src/transports/tcp.js'
import { startUdp, type UdpOptions, udpDefaults } from '../../src/transports/udp.js'
import { connectFake, makeHub, type TestHubOptions } from '../helpers/fake-member.js'

/** Datagrams (or lines) a peer received, read in order by `until`. */
class Inbox {
  readonly all: string[] = []
  #read = 0
  #wake: (() => void) | null = null

  push(text: string): void {
    this.all.push(text)
    this.#wake?.()
  }

  /** The next unread text matching `predicate`; unread texts before it are passed over. */
  async until(predicate: (text: string) => boolean): Promise<string> {
    for (;;) {
      while (this.#read < this.all.length) {
        const text = this.all[this.#read++]
        if (predicate(text)) return text
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve
      })
      this.#wake = null
    }
  }

  /** The next unread text starting with `prefix`. */
  starting(prefix: string): Promise<string> {
    return this.until((text) => text.startsWith(prefix))
  }

  /** The next unread text, whatever it is. */
  next(): Promise<string> {
    return this.until(() => true)
  }
}

/** A node:dgram peer; each datagram is kept as text without its trailing newline. */
class DgramPeer {
  readonly inbox = new Inbox()
  readonly socket: Socket
  /** Bytes of every datagram received, newlines included. */
  bytesIn = 0
  readonly #port: number
  readonly #host: string

  constructor(socket: Socket, port: number, host: string) {
    this.socket = socket
    this.#port = port
    this.#host = host
    socket.on('message', (bytes) => {
      this.bytesIn += bytes.byteLength
      this.inbox.push(bytes.toString().replace(/\n$/, ''))
    })
  }

  /** A socket on a free port of `host`, talking to the server at `host`:`port`. */
  static async open(t: TestContext, port: number, host = '127.0.0.1'): Promise<DgramPeer> {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4')
    socket.bind(0, host)
    await once(socket, 'listening')
    t.after(() => socket.close())
    return new DgramPeer(socket, port, host)
  }

  send(datagram: string | Uint8Array): void {
    this.socket.send(typeof datagram === 'string' ? Buffer.from(datagram) : datagram, this.#port, this.#host)
  }

  /** Sends `datagram` and resolves with the next datagram starting with `prefix`. */
  ask(datagram: string, prefix: string): Promise<string> {
    this.send(datagram)
    return this.inbox.starting(prefix)
  }
}

/** socat or nc in a child process: lines typed on its stdin go out one datagram each, what comes back is read. */
class ToolPeer {
  readonly inbox = new Inbox()
  readonly #stdin: NodeJS.WritableStream

  constructor(t: TestContext, command: string, args: string[]) {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] })
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill()
    })
    this.#stdin = child.stdin
    createInterface({ input: child.stdout }).on('line', (line) => this.inbox.push(line))
  }

  /** Types `line` (one datagram) and resolves with the next line back starting with `prefix`. */
  ask(line: string, prefix: string): Promise<string> {
    this.type(line)
    return this.inbox.starting(prefix)
  }

  type(line: string): void {
    this.#stdin.write(`${line}\n`)
  }
}

function socat(t: TestContext, port: number): ToolPeer {
  return new ToolPeer(t, 'socat', ['-', `UDP:127.0.0.1:${port}`])
}

function netcat(t: TestContext, port: number): ToolPeer {
  return new ToolPeer(t, 'nc', ['-u', '127.0.0.1', String(port)])
}

interface Served {
  hub: Hub
  listener: Listener
  port: number
}

async function serve(
  t: TestContext,
  options: Partial<UdpOptions> = {},
  hub?: TestHubOptions,
): Promise<Served> {
  return serveHub(t, makeHub(t, hub), options)
}

async function serveHub(t: TestContext, hub: Hub, options: Partial<UdpOptions> = {}): Promise<Served> {
  const listener = await startUdp(hub, { port: 0, ...options })
  t.after(() => listener.close(Disconnect.ServerStopping))
  return { hub, listener, port: Number(new URL(listener.url).port) }
}

function isPresence(room: string, event: 'join' | 'leave', member: string): (event: HubEvent) => boolean {
  return (e) => e.type === 'presence' && e.room === room && e.event === event && e.member === member
}

function isMessageFrom(from: string): (event: HubEvent) => event is RoomMessage {
  return (event): event is RoomMessage => event.type === 'message' && event.from === from
}

const joinHint = 'ERR 403 not-joined send /join ROOM or /nick NAME [KEY] to join'

describe('UDP transport', { timeout: 10_000 }, () => {
  it('prints its address as udp://HOST:PORT, with an IPv6 host in brackets, and serves IPv6 peers', async (t) => {
    const v4 = await serve(t)
    assert.match(v4.listener.url, /^udp:\/\/127\.0\.0\.1:\d+$/)
    assert.notEqual(v4.port, 0)
    const v6 = await serveHub(t, v4.hub, { host: '::1' })
    assert.match(v6.listener.url, /^udp:\/\/\[::1\]:\d+$/)
    const peer = await DgramPeer.open(t, v6.port, '::1')
    assert.equal(await peer.ask('/join six', 'OK join'), 'OK join six (1 here: guest-1)')
  })

  it('tells a peer that has not joined how to join, and answers its /ping', async (t) => {
    const { listener, port } = await serve(t)
    const nc = netcat(t, port)
    assert.ok((await nc.ask('hello', 'ERR')).startsWith(joinHint))
    assert.equal(await nc.ask('/ping', 'PONG'), 'PONG')
    assert.ok((await nc.ask('/who', 'ERR')).startsWith(joinHint))
    assert.equal(listener.counters.refused.get('not-joined'), 2)
    assert.equal(listener.connections, 0)
  })

  it('carries messages between two socat peers in one room', async (t) => {
    const { port } = await serve(t)
    const ann = socat(t, port)
    const bob = socat(t, port)
    assert.match(await ann.ask('/nick ann', 'OK nick'), /^OK nick ann key \S+$/)
    assert.equal(await ann.ask('/join dev', 'OK join'), 'OK join dev (1 here: ann)')
    await bob.ask('/nick bob', 'OK nick')
    assert.equal(await bob.ask('/join dev', 'OK join'), 'OK join dev (2 here: ann, bob)')
    await ann.inbox.starting('* bob joined dev')
    bob.type('hi ann')
    assert.equal(await ann.inbox.starting('[dev]'), '[dev] bob: hi ann')
    assert.equal(await bob.inbox.starting('[dev]'), '[dev] bob: hi ann', 'the sender gets its own line back')
    ann.type('/me waves')
    assert.equal(await bob.inbox.starting('[dev]'), '[dev] * ann waves')
  })

  it('carries room and direct messages both ways between a UDP peer and a hub session', async (t) => {
    const { hub, port } = await serve(t)
    const carol = await connectFake(hub, { nick: 'carol' })
    const nc = netcat(t, port)
    await nc.ask('/nick dan', 'OK nick dan')
    await carol.member.until(isPresence('lobby', 'join', 'dan'))
    await carol.session.publish('lobby', 'hello dan')
    assert.equal(await nc.inbox.starting('[lobby] carol'), '[lobby] carol: hello dan')
    nc.type('hi carol')
    const heard = await carol.member.until(isMessageFrom('dan'))
    assert.equal(heard.type === 'message' && heard.data, 'hi carol')
    await carol.session.direct('dan', 'psst')
    assert.equal(await nc.inbox.starting('[dm]'), '[dm] carol: psst')
    assert.equal(await nc.ask('/msg carol and you', 'OK msg'), 'OK msg carol')
    const direct = await carol.member.until((event) => event.type === 'direct')
    assert.equal(direct.type === 'direct' && direct.data, 'and you')
    await carol.session.publish('lobby', new Uint8Array([1, 2, 3]))
    assert.equal(await nc.inbox.starting('[lobby] carol'), '[lobby] carol: [binary 3 bytes]')
  })

  it('carries messages both ways between a UDP peer (socat) and a TCP peer (nc)', async (t) => {
    const { hub, port } = await serve(t)
    // nc never closes its end, so the BYE at cleanup need not wait the default 5 s for it.
    const tcp = await startTcp(hub, { port: 0, closeTimeoutMs: 50 })
    t.after(() => tcp.close(Disconnect.ServerStopping))
    const tom = new ToolPeer(t, 'nc', ['127.0.0.1', new URL(tcp.url).port])
    await tom.ask('/nick tom', 'OK nick tom')
    const uma = socat(t, port)
    await uma.ask('/nick uma', 'OK nick uma')
    await tom.inbox.starting('* uma joined lobby')
    tom.type('hello over UDP')
    assert.equal(await uma.inbox.starting('[lobby] tom'), '[lobby] tom: hello over UDP')
    uma.type('hello over TCP')
    assert.equal(await tom.inbox.starting('[lobby] uma'), '[lobby] uma: hello over TCP')
  })

  it('answers /who, /rooms, /history and /leave in text', async (t) => {
    const { hub, port } = await serve(t)
    const eve = await connectFake(hub, { nick: 'eve' })
    for (const text of ['one', 'two', 'three']) await eve.session.publish('lobby', text)
    const peer = await DgramPeer.open(t, port)
    await peer.ask('/nick fay', 'OK nick')
    assert.equal(await peer.ask('/who', 'OK who'), 'OK who lobby: eve, fay')
    assert.equal(await peer.ask('/rooms', 'OK rooms'), 'OK rooms lobby (2)')
    assert.equal(await peer.ask('/history 2', 'OK history'), 'OK history lobby 2 messages')
    assert.deepEqual(
      [await peer.inbox.next(), await peer.inbox.next()],
      ['[lobby] eve: two', '[lobby] eve: three'],
    )
    assert.equal(await peer.ask('/join dev', 'OK join'), 'OK join dev (1 here: fay)')
    assert.equal(await peer.ask('/leave', 'OK leave'), 'OK leave dev (talking in lobby)')
    assert.equal(await peer.ask('/leave lobby', 'OK leave'), 'OK leave lobby (in no room now: /join ROOM)')
    assert.equal(await peer.ask('hello?', 'ERR'), 'ERR 403 not-in-room join a room first: /join ROOM')
  })

  it('answers bad commands and bad bytes with ERR datagrams', async (t) => {
    const { listener, port } = await serve(t)
    const peer = await DgramPeer.open(t, port)
    await peer.ask('/join dev', 'OK join')
    assert.equal(
      await peer.ask('/fly', 'ERR'),
      'ERR 400 unknown-command unknown command /fly; /help lists them',
    )
    assert.equal(await peer.ask('/join', 'ERR'), 'ERR 400 bad-command usage: /join ROOM')
    assert.match(await peer.ask('/join no/slash', 'ERR'), /^ERR 400 bad-room /)
    assert.match(await peer.ask('/msg nobody hi', 'ERR'), /^ERR 404 no-such-member /)
    peer.send(new Uint8Array([0x68, 0xff, 0x69])) // "h", a byte never valid in UTF-8, "i"
    assert.match(await peer.inbox.starting('ERR'), /^ERR 400 invalid-utf8 /)
    assert.equal(listener.counters.refused.get('invalid-utf8'), 1)
    assert.equal(listener.counters.refused.get('unknown-command'), 1)
  })

  it('forgets a peer whose first /join fails', async (t) => {
    const { listener, port } = await serve(t)
    const peer = await DgramPeer.open(t, port)
    assert.match(await peer.ask('/join no/slash', 'ERR'), /^ERR 400 bad-room /)
    assert.ok((await peer.ask('hello', 'ERR')).startsWith(joinHint))
    assert.equal(listener.connections, 0)
  })

  it('detaches a peer silent past keepaliveTimeoutMs: it hears BYE 4002 and leaves presence', async (t) => {
    const { hub, listener, port } = await serve(t, { keepaliveTimeoutMs: 150 })
    const watcher = await connectFake(hub, { nick: 'watcher' })
    const peer = await DgramPeer.open(t, port)
    await peer.ask('/nick quiet', 'OK nick')
    await watcher.member.until(isPresence('lobby', 'join', 'quiet'))
    assert.equal(await peer.inbox.starting('BYE'), 'BYE 4002 idle timeout')
    await watcher.member.until(isPresence('lobby', 'leave', 'quiet'))
    assert.equal(listener.connections, 0)
    assert.ok((await peer.ask('back', 'ERR')).startsWith(joinHint), 'it must join again')
  })

  it('keeps a peer that sends anything within keepaliveTimeoutMs', async (t) => {
    const { hub, port } = await serve(t, { keepaliveTimeoutMs: 400 })
    const peer = await DgramPeer.open(t, port)
    await peer.ask('/nick busy', 'OK nick')
    // Six empty datagrams 100 ms apart outlast the timeout; an empty datagram needs no answer.
    for (let i = 0; i < 6; i++) {
      await delay(100)
      peer.send('')
    }
    assert.equal(await peer.ask('/ping', 'PONG'), 'PONG')
    assert.deepEqual(await hub.adapter.presence.members('lobby'), ['busy'])
    assert.ok(!peer.inbox.all.some((text) => text.startsWith('BYE')))
  })

  it('delivers a message that fills maxDatagramBytes exactly', async (t) => {
    const { hub, port } = await serve(t)
    const ann = await connectFake(hub, { nick: 'ann' })
    const peer = await DgramPeer.open(t, port)
    await peer.ask('/nick pat', 'OK nick')
    // '[lobby] ann: ' (13 bytes) + text + '\n' is one full datagram of 1200 bytes.
    const text = 'x'.repeat(udpDefaults.maxDatagramBytes - 13 - 1)
    await ann.session.publish('lobby', text)
    assert.equal(await peer.inbox.starting('[lobby] ann'), `[lobby] ann: ${text}`)
    assert.equal(hub.stats().rooms.get('lobby')?.dropped, 0)
  })

  it('sends a notice for a message one byte too big for a datagram, counted as dropped', async (t) => {
    const { hub, listener, port } = await serve(t)
    const ann = await connectFake(hub, { nick: 'ann' })
    const peer = await DgramPeer.open(t, port)
    await peer.ask('/nick pat', 'OK nick')
    const sent = await ann.session.publish('lobby', 'x'.repeat(udpDefaults.maxDatagramBytes - 13))
    assert.equal(
      await peer.inbox.starting('[lobby] ann'),
      `[lobby] ann: [message of 1187 bytes too big for UDP; /history over TCP or WebSocket to read offset ${'offset' in sent && sent.offset}]`,
    )
    const lobby = hub.stats().rooms.get('lobby')
    assert.equal(lobby?.dropped, 1)
    assert.equal(lobby?.published, (lobby?.delivered ?? 0) + (lobby?.queued ?? 0) + (lobby?.dropped ?? 0))
    assert.equal(listener.counters.refused.get('too-big-for-datagram'), 1)
  })

  it('applies a smaller maxDatagramBytes setting, at the limit and one past', async (t) => {
    const { hub, port } = await serve(t, { maxDatagramBytes: 600 })
    const ann = await connectFake(hub, { nick: 'ann' })
    const peer = await DgramPeer.open(t, port)
    await peer.ask('/nick pat', 'OK nick')
    await ann.session.publish('lobby', 'a'.repeat(600 - 14))
    await ann.session.publish('lobby', 'b'.repeat(600 - 13))
    assert.equal(await peer.inbox.starting('[lobby] ann'), `[lobby] ann: ${'a'.repeat(586)}`)
    assert.match(await peer.inbox.starting('[lobby] ann'), /^\[lobby\] ann: \[message of 587 bytes too big/)
  })

  it('refuses settings out of range with a RangeError', async (t) => {
    const hub = makeHub(t)
    for (const bad of [{ maxDatagramBytes: 511 }, { maxDatagramBytes: 65_508 }, { keepaliveTimeoutMs: 0 }]) {
      await assert.rejects(startUdp(hub, { port: 0, ...bad }), {
        name: 'RangeError',
        code: 'udp-bad-setting',
      })
    }
    await serveHub(t, hub, { maxDatagramBytes: 512 })
  })

  it('carries out switchboard.v1 JSON requests and then sends events as JSON', async (t) => {
    const { hub, port } = await serve(t)
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['dev'] })
    const peer = await DgramPeer.open(t, port)
    const joined = JSON.parse(await peer.ask('{"op":"join","room":"dev","id":1}', '{"id":1'))
    assert.equal(joined.ok, true)
    assert.equal(joined.op, 'join')
    assert.equal(joined.members.length, 2)
    const published = JSON.parse(
      await peer.ask('{"op":"publish","room":"dev","data":"hi","id":2}', '{"id":2'),
    )
    assert.deepEqual([published.ok, published.offset], [true, 1])
    await ann.session.publish('dev', new Uint8Array([0xff]))
    const event = JSON.parse(await peer.inbox.until((text) => text.includes('"from":"ann"')))
    assert.deepEqual([event.type, event.data, event.offset], ['message', { base64: '/w==' }, 2])
    const bad = JSON.parse(await peer.ask('{"op":"fly","id":3}', '{"id":3'))
    assert.deepEqual(bad.error, { code: 'bad-request', status: 400, message: 'unknown op "fly"' })
    assert.equal(await peer.ask('{"op":"quit","id":4}', '{"id":4'), '{"id":4,"ok":true,"op":"quit"}')
    await ann.member.until((e) => e.type === 'presence' && e.event === 'leave')
  })
  it('answers a JSON request before joining in JSON, with its id', async (t) => {
    const { port } = await serve(t)
    const peer = await DgramPeer.open(t, port)
    const refused = JSON.parse(await peer.ask('{"op":"who","room":"lobby","id":"w"}', '{"id":"w"'))
    assert.deepEqual([refused.ok, refused.error.code, refused.error.status], [false, 'not-joined', 403])
    const unparsable = JSON.parse(await peer.ask('{"op":', '{'))
    assert.deepEqual(unparsable.error, { code: 'bad-request', status: 400, message: 'not valid JSON' })
    assert.equal(await peer.ask('{"op":"ping","id":5}', '{"id":5'), '{"id":5,"ok":true,"op":"pong"}')
    const named = JSON.parse(await peer.ask('{"op":"nick","name":"jo","id":6}', '{"id":6'))
    assert.deepEqual([named.ok, named.nick], [true, 'jo'])
    const presence = JSON.parse(await peer.inbox.starting('{"type":"presence"'))
    assert.deepEqual([presence.room, presence.event, presence.member], ['lobby', 'join', 'jo'])
    const other = await DgramPeer.open(t, port)
    const taken = JSON.parse(await other.ask('{"op":"nick","name":"jo","id":7}', '{"id":7'))
    assert.deepEqual([taken.ok, taken.error.code, taken.error.status], [false, 'nick-taken', 409])
  })

  it('sends events as JSON after /json and as text again after /text', async (t) => {
    const { hub, port } = await serve(t)
    const ann = await connectFake(hub, { nick: 'ann' })
    const peer = await DgramPeer.open(t, port)
    await peer.ask('/nick kim', 'OK nick')
    assert.equal(await peer.ask('/json', '{'), '{"ok":true,"op":"json"}')
    await ann.session.publish('lobby', 'as json')
    assert.equal(JSON.parse(await peer.inbox.starting('{"type":"message"')).data, 'as json')
    assert.equal(await peer.ask('/text', 'OK'), 'OK text')
    await ann.session.publish('lobby', 'as text')
    assert.equal(await peer.inbox.starting('[lobby]'), '[lobby] ann: as text')
  })

  it('cuts a JSON history page to what fits in one datagram, oldest first', async (t) => {
    const { hub, port } = await serve(t)
    const ann = await connectFake(hub, { nick: 'ann' })
    for (let i = 1; i <= 30; i++) await ann.session.publish('lobby', `message ${i} ${'.'.repeat(80)}`)
    const peer = await DgramPeer.open(t, port)
    peer.send('{"op":"join","room":"lobby","id":1}')
    const datagram = await peer.inbox.starting('{"id":1')
    assert.ok(textBytes(datagram) + 1 <= udpDefaults.maxDatagramBytes)
    const { history } = JSON.parse(datagram)
    const offsets: number[] = history.messages.map((message: { offset: number }) => message.offset)
    assert.ok(offsets.length > 0 && offsets.length < 20, `${offsets.length} messages`)
    assert.equal(offsets[0], 11, 'the page starts where the last 20 start')
    assert.equal(history.lastOffset, 30, 'the client sees there is more after its last offset')
  })

  it('sends a JSON peer a too-big event in place of a message that does not fit', async (t) => {
    const { hub, port } = await serve(t)
    const ann = await connectFake(hub, { nick: 'ann' })
    const peer = await DgramPeer.open(t, port)
    await peer.ask('{"op":"nick","name":"jo"}', '{"ok":true')
    await ann.session.publish('lobby', 'y'.repeat(2000))
    const notice = JSON.parse(await peer.inbox.starting('{"type":"too-big"'))
    assert.deepEqual(
      [notice.event, notice.room, notice.from, notice.offset, notice.bytes],
      ['message', 'lobby', 'ann', 1, 2000],
    )
  })

  it('meets a flood from one peer with ERR 429 and lets another peer through', async (t) => {
    const start = Date.now()
    const { hub, listener, port } = await serve(
      t,
      {},
      {
        limits: { messagesPerSecond: 1, messageBurst: 5 },
        now: () => start,
      },
    )
    const watcher = await connectFake(hub, { nick: 'watcher' })
    const flooder = await DgramPeer.open(t, port)
    const calm = await DgramPeer.open(t, port)
    await flooder.ask('/nick flood', 'OK nick')
    await calm.ask('/nick calm', 'OK nick')
    for (let i = 1; i <= 20; i++) flooder.send(`spam ${i}`)
    calm.send('still here')
    await watcher.member.until((event) => isMessageFrom('calm')(event) && event.data === 'still here')
    const refusals: string[] = []
    for (let i = 0; i < 15; i++) refusals.push(await flooder.inbox.starting('ERR'))
    assert.deepEqual(new Set(refusals), new Set(['ERR 429 rate-limited more than 1 messages per second']))
    assert.deepEqual(
      watcher.member
        .messages('lobby')
        .filter((message) => message.from === 'flood')
        .map((message) => message.data),
      ['spam 1', 'spam 2', 'spam 3', 'spam 4', 'spam 5'],
    )
    assert.equal(listener.counters.refused.get('rate-limited'), 15)
  })

  it('limits peers per address through the connection gate, at the limit and one past', async (t) => {
    const gate = new ConnectionGate({ maxConnectionsPerIp: 2 })
    const { listener, port } = await serve(t, { gate })
    const [first, second, third] = await Promise.all([1, 2, 3].map(() => DgramPeer.open(t, port)))
    await first.ask('/join dev', 'OK join')
    await second.ask('/join dev', 'OK join')
    assert.equal(
      await third.ask('/join dev', 'ERR'),
      'ERR 503 too-many-from-address too many peers from 127.0.0.1',
    )
    assert.equal(listener.counters.refused.get('too-many-from-address'), 1)
    assert.equal(await first.ask('/quit', 'BYE'), 'BYE 4000 bye')
    assert.match(await third.ask('/join dev', 'OK join'), /^OK join dev \(2 here/)
    assert.equal(gate.total, 2)
  })

  it('refuses a datagram past maxPendingDatagrams with ERR 429 and keeps the ones before it', async (t) => {
    let release: () => void = () => {}
    const slow = new SlowHistory()
    const hub = new Hub({ adapter: new MemoryAdapter(slow) })
    t.after(() => hub.close())
    const { listener, port } = await serveHub(t, hub, { maxPendingDatagrams: 3 })
    const peer = await DgramPeer.open(t, port)
    await peer.ask('/nick slowpoke', 'OK nick')
    slow.paused = new Promise<void>((resolve) => {
      release = resolve
    })
    for (const text of ['one', 'two', 'three', 'four']) peer.send(text)
    assert.equal(
      await peer.inbox.starting('ERR'),
      'ERR 429 too-many-pending more than 3 datagrams waiting; slow down',
    )
    release()
    const echoes = [await peer.inbox.next(), await peer.inbox.next(), await peer.inbox.next()]
    assert.deepEqual(echoes, ['[lobby] slowpoke: one', '[lobby] slowpoke: two', '[lobby] slowpoke: three'])
    assert.equal(listener.counters.refused.get('too-many-pending'), 1)
  })

  it('says BYE to every peer on close, detaches them and frees the port', async (t) => {
    const hub = makeHub(t)
    const watcher = await connectFake(hub, { nick: 'watcher' })
    const listener = await startUdp(hub, { port: 0 })
    const port = Number(new URL(listener.url).port)
    const text = await DgramPeer.open(t, port)
    const json = await DgramPeer.open(t, port)
    await text.ask('/nick tex', 'OK nick')
    await json.ask('{"op":"nick","name":"jay"}', '{"ok":true')
    await listener.close(Disconnect.ServerStopping)
    assert.equal(await text.inbox.starting('BYE'), 'BYE 4001 server stopping')
    assert.deepEqual(JSON.parse(await json.inbox.starting('{"type":"bye"')), {
      type: 'bye',
      code: 4001,
      reason: 'server stopping',
      reconnect: true,
    })
    await watcher.member.until(isPresence('lobby', 'leave', 'tex'))
    await watcher.member.until(isPresence('lobby', 'leave', 'jay'))
    assert.deepEqual(await hub.adapter.presence.members('lobby'), ['watcher'])
    assert.equal(listener.connections, 0)
    const again = await startUdp(hub, { port })
    await again.close(Disconnect.ServerStopping)
  })

  it('counts the bytes and datagrams that come in and go out', async (t) => {
    const { listener, port } = await serve(t)
    const peer = await DgramPeer.open(t, port)
    await peer.ask('/nick cat', 'OK nick')
    await peer.ask('meow', '[lobby] cat: meow')
    await peer.ask('/ping', 'PONG')
    const { counters } = listener
    assert.deepEqual(
      [counters.messagesIn, counters.bytesIn],
      [3, '/nick cat'.length + 'meow'.length + '/ping'.length],
    )
    assert.equal(counters.messagesOut, peer.inbox.all.length)
    assert.equal(counters.bytesOut, peer.bytesIn)
    assert.equal(counters.queuedBytes, 0)
  })
})

/** History whose appends wait while `paused` is pending, so that a peer's datagrams pile up behind one. */
class SlowHistory extends MemoryHistory implements HistoryStore {
  paused: Promise<void> = Promise.resolve()

  override async append(...args: Parameters<MemoryHistory['append']>): ReturnType<MemoryHistory['append']> {
    await this.paused
    return super.append(...args)
  }
}
