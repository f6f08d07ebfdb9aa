// `switchboard serve` stopping and starting again as users do it: SIGTERM/SIGINT with members on every
// transport, the shutdown bound, and history that survives a kill -9 (LMDB) or does not (--memory). The shutdown
// tests time the process, so they run one at a time; the restart tests run side by side.
import assert from 'node:assert/strict'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import {
  connectNc,
  connectSocatUnix,
  everyListener,
  makeTempDir,
  openWs,
  parseJson,
  runServe,
  type ServeProcess,
  startServe,
  startSocatUdp,
  type WsPeer,
} from '../helpers/serve-process.js'

const v1 = 'switchboard.v1'

function wsUrl(server: ServeProcess, query = ''): string {
  assert.ok(server.http)
  return `${server.http.replace(/^http/, 'ws')}/ws${query}`
}

/** Sends a switchboard.v1 request with `id` and resolves with its reply. */
async function request(peer: WsPeer, id: string, fields: Record<string, unknown>) {
  peer.ws.send(JSON.stringify({ id, ...fields }))
  const reply = parseJson(
    await peer.messages.waitFor((line) => parseJson(line).id === id, `the reply to ${id}`),
  )
  assert.equal(reply.ok, true, JSON.stringify(reply))
  return reply
}

/** The part of a history page these tests compare. */
interface Page {
  epoch: string
  lastOffset: number
  gap: { reason: string; firstOffset: number } | null
  messages: Array<{ data: string; offset: number; epoch: string }>
}

/** Publishes `texts` to `room` one by one; resolves with the acks' offsets and their one epoch. */
async function publishAll(peer: WsPeer, room: string, texts: string[]) {
  const offsets: number[] = []
  const epochs = new Set<string>()
  for (const [i, data] of texts.entries()) {
    const ack = await request(peer, `p${i}`, { op: 'publish', room, data })
    offsets.push(Number(ack.offset))
    epochs.add(String(ack.epoch))
  }
  assert.equal(epochs.size, 1, 'one epoch for the room')
  return { offsets, epoch: [...epochs][0] }
}

/** A v1 client joins `room` resuming after `offset` of `epoch`; resolves with the reply's history page. */
async function resume(t: TestContext, server: ServeProcess, room: string, offset: number, epoch: string) {
  const peer = await openWs(t, wsUrl(server), [v1])
  const reply = await request(peer, 'resume', { op: 'join', room, resume: { offset, epoch } })
  return { peer, page: reply.history as Page }
}

describe('switchboard serve: graceful shutdown', () => {
  it('on SIGTERM tells every member goodbye in its own way, removes the socket file and exits 0 at once', async (t) => {
    const dir = makeTempDir(t)
    // On the disk store, as `npm start` runs: shutdown closes it too.
    const args = everyListener(dir).filter((arg) => arg !== '--memory')
    const server = await startServe(t, [...args, '--data', join(dir, 'data')])
    assert.ok(server.tcp && server.udp && server.unix)
    const tcp = await connectNc(t, server.tcp)
    const unix = await connectSocatUnix(t, server.unix)
    const udp = startSocatUdp(t, server.udp)
    udp.send('/join lobby')
    await udp.lines.waitFor((line) => line.startsWith('OK join lobby'), 'the UDP join')
    const plain = await openWs(t, wsUrl(server))
    const json = await openWs(t, wsUrl(server), [v1])
    await json.messages.waitFor((line) => parseJson(line).type === 'welcome', 'the v1 welcome')
    // A person at nc reads the BYE and presses Ctrl-D (nc -N then ends its side); socat ends its own.
    const tcpBye = tcp.lines.waitFor((line) => line.startsWith('BYE '), 'the TCP goodbye')
    void tcpBye.then(
      () => tcp.child.stdin.end(),
      () => tcp.child.stdin.end(),
    )

    const exit = await server.stop('SIGTERM')
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null })
    // Well within limits.shutdownTimeoutMs (10 s), and before the 5 s a line client gets to close its side.
    assert.ok(exit.elapsedMs < 3000, `exited after ${exit.elapsedMs} ms`)
    assert.deepEqual(await plain.closed, { code: 1001, reason: 'server stopping' })
    assert.deepEqual(await json.closed, { code: 1001, reason: 'server stopping' })
    assert.equal(await tcpBye, 'BYE 4001 server stopping')
    assert.equal(
      await unix.lines.waitFor((line) => line.startsWith('BYE '), 'the Unix goodbye'),
      'BYE 4001 server stopping',
    )
    assert.equal(
      await udp.lines.waitFor((line) => line.startsWith('BYE '), 'the UDP goodbye'),
      'BYE 4001 server stopping',
    )
    assert.ok(!existsSync(join(dir, 'sb.sock')), 'the socket file is removed')
    assert.equal((await tcp.exited).code, 0)
    assert.equal((await unix.exited).code, 0)
  })

  it('on SIGINT closes WebSockets with 1001 and exits 0, and a JSON line client gets a bye event', async (t) => {
    const dir = makeTempDir(t)
    const server = await startServe(t, everyListener(dir))
    assert.ok(server.unix)
    const unix = await connectSocatUnix(t, server.unix)
    unix.send('/json')
    await unix.lines.waitFor((line) => line === '{"ok":true,"op":"json"}', 'JSON mode')
    const plain = await openWs(t, wsUrl(server))
    const exit = await server.stop('SIGINT')
    assert.equal(exit.code, 0)
    assert.equal((await plain.closed).code, 1001)
    const bye = await unix.lines.waitFor((line) => line.includes('"bye"'), 'the JSON goodbye')
    assert.deepEqual(parseJson(bye), { type: 'bye', code: 4001, reason: 'server stopping', reconnect: true })
    assert.ok(!existsSync(join(dir, 'sb.sock')))
  })

  it('exits within limits.shutdownTimeoutMs when a client never closes its side', async (t) => {
    const dir = makeTempDir(t)
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ limits: { shutdownTimeoutMs: 300 } }))
    const server = await startServe(t, ['--config', join(dir, 'c.json'), ...everyListener(dir)])
    assert.ok(server.tcp)
    // nc keeps its side open while its input is open: the server would wait 5 s (closeTimeoutMs) for it.
    const stubborn = await connectNc(t, server.tcp)
    const exit = await server.stop('SIGTERM')
    assert.equal(
      await stubborn.lines.waitFor((line) => line.startsWith('BYE '), 'the goodbye'),
      'BYE 4001 server stopping',
    )
    assert.ok(exit.elapsedMs >= 300, `waited for the client for ${exit.elapsedMs} ms`)
    assert.ok(exit.elapsedMs < 2500, `gave up on it after ${exit.elapsedMs} ms, not 5 s`)
  })
})

describe('switchboard serve: history across a restart', { concurrency: true }, () => {
  it('with --data, a kill -9 loses nothing acked: a resume gets exactly what followed, offsets continue', async (t) => {
    const dir = makeTempDir(t)
    const args = [
      '--http',
      '0',
      '--tcp',
      '0',
      '--udp',
      'off',
      '--unix',
      join(dir, 'sb.sock'),
      '--data',
      join(dir, 'data'),
    ]
    const first = await startServe(t, args)
    const writer = await openWs(t, wsUrl(first), [v1])
    await request(writer, 'j', { op: 'join', room: 'news' })
    const texts = ['one', 'two', 'three', 'four', 'five']
    const { offsets, epoch } = await publishAll(writer, 'news', texts)
    assert.deepEqual(offsets, [1, 2, 3, 4, 5])

    const killed = await first.stop('SIGKILL')
    assert.equal(killed.signal, 'SIGKILL')
    assert.ok(existsSync(join(dir, 'sb.sock')), 'the crash left its socket file')

    // The stale socket file is replaced, and the same data directory opened again, now fsyncing every ack.
    const second = await startServe(t, [...args, '--durability', 'fsync'])
    assert.equal(second.unix, join(dir, 'sb.sock'))
    const { peer, page } = await resume(t, second, 'news', 2, epoch)
    assert.equal(page.gap, null)
    assert.equal(page.epoch, epoch)
    assert.equal(page.lastOffset, 5)
    assert.deepEqual(
      page.messages.map(({ data, offset }) => `${offset} ${data}`),
      ['3 three', '4 four', '5 five'],
    )
    const next = await publishAll(peer, 'news', ['six'])
    assert.deepEqual(next, { offsets: [6], epoch })

    // A line client sees the same history.
    assert.ok(second.tcp)
    const tcp = await connectNc(t, second.tcp)
    tcp.send('/join news')
    await tcp.lines.waitFor((line) => line.startsWith('OK join news'), 'OK join news')
    tcp.send('/history 2')
    await tcp.lines.waitFor((line) => line === 'OK history news 2 messages', 'the history answer')
    assert.match(await tcp.lines.next(), /^\[news\] guest-\d+: five$/)
    assert.match(await tcp.lines.next(), /^\[news\] guest-\d+: six$/)
  })

  it('with --memory, a restart starts a new epoch and a resume reports the gap epoch-changed', async (t) => {
    const dir = makeTempDir(t)
    const first = await startServe(t, everyListener(dir))
    const writer = await openWs(t, wsUrl(first), [v1])
    await request(writer, 'j', { op: 'join', room: 'news' })
    const { epoch } = await publishAll(writer, 'news', ['before'])
    await first.stop('SIGTERM')

    const second = await startServe(t, everyListener(dir))
    const again = await openWs(t, wsUrl(second), [v1])
    await request(again, 'j', { op: 'join', room: 'news' })
    const after = await publishAll(again, 'news', ['after'])
    assert.notEqual(after.epoch, epoch)
    assert.deepEqual(after.offsets, [1], 'the new stream starts again at 1')

    const { page } = await resume(t, second, 'news', 1, epoch)
    assert.deepEqual(page.gap, { reason: 'epoch-changed', firstOffset: 1 })
    assert.equal(page.epoch, after.epoch)
    assert.deepEqual(
      page.messages.map(({ data, offset }) => `${offset} ${data}`),
      ['1 after'],
    )
  })

  it('refuses to start on a Unix socket another server is live on, and that server carries on', async (t) => {
    const dir = makeTempDir(t)
    const live = await startServe(t, everyListener(dir))
    assert.ok(live.unix)
    const result = await runServe(t, [
      '--http',
      '0',
      '--tcp',
      '0',
      '--udp',
      '0',
      '--unix',
      live.unix,
      '--memory',
    ])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /^switchboard: a server is already listening on .*sb\.sock/)
    await connectSocatUnix(t, live.unix)
  })
})
