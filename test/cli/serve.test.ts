// `switchboard serve` as users run it: the compiled CLI in a child process, talked to by nc, socat and the npm
// `ws` client in one room, and its HTTP side (/healthz, /metrics, /connections, TLS, the Origin allow-list).
// Every test has its own server on free ports, so each suite runs its tests side by side.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { get as httpsGet } from 'node:https'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { WebSocket } from 'ws'
import {
  connectNc,
  connectSocatUnix,
  everyListener,
  type Lines,
  makeTempDir,
  openWs,
  parseJson,
  refusedUpgrade,
  type ServeProcess,
  startServe,
  startSocatUdp,
} from '../helpers/serve-process.js'
import { makeCertificate } from '../helpers/tls.js'

const v1 = 'switchboard.v1'

function wsBase(server: ServeProcess): string {
  assert.ok(server.http, 'the server has an HTTP listener')
  return server.http.replace(/^http/, 'ws')
}

/** A line client that took `nick`: waits for its `OK nick` answer. */
async function takeNick(lines: Lines, send: (text: string) => void, nick: string): Promise<void> {
  send(`/nick ${nick}`)
  await lines.waitFor((line) => line.startsWith(`OK nick ${nick} key `), `OK nick ${nick}`)
}

/** One room message as a member saw it. */
interface Seen {
  from: string
  text: string
}

const roomLine = /^\[lobby\] ([\w.-]+): (.*)$/
const plainLine = /^([\w.-]+): (.*)$/

function fromLine(pattern: RegExp) {
  return (line: string): Seen | null => {
    const match = pattern.exec(line)
    return match ? { from: match[1], text: match[2] } : null
  }
}

function fromV1(line: string): Seen | null {
  const event = parseJson(line)
  return event.type === 'message' && event.room === 'lobby'
    ? { from: String(event.from), text: String(event.data) }
    : null
}

/** One `name{labels} value` sample of Prometheus text. */
interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line)
    assert.ok(match, `a Prometheus sample: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[key] = value
    samples.push({ name: match[1], labels, value: Number(match[3]) })
  }
  return samples
}

/** The value of the sample `name` whose labels include `labels`, or undefined. */
function sampleValue(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  )?.value
}

async function scrape(server: ServeProcess): Promise<{ text: string; samples: Sample[] }> {
  const response = await fetch(`${server.http}/metrics`)
  assert.equal(response.status, 200)
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  const text = await response.text()
  return { text, samples: parsePrometheus(text) }
}

async function getJson(url: string, init?: RequestInit) {
  const response = await fetch(url, init)
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
  return { response, body: parseJson(await response.text()) }
}

/** A member of every kind in lobby under a nickname of its own, as the cross-transport tests need them. */
async function memberOfEveryKind(t: TestContext, server: ServeProcess) {
  assert.ok(server.tcp && server.udp && server.unix)
  const tcp = await connectNc(t, server.tcp)
  await takeNick(tcp.lines, tcp.send, 'tcp-ann')
  const unix = await connectSocatUnix(t, server.unix)
  await takeNick(unix.lines, unix.send, 'unix-bob')
  const udp = startSocatUdp(t, server.udp)
  await takeNick(udp.lines, udp.send, 'udp-cy')
  const plain = await openWs(t, `${wsBase(server)}/ws?nick=ws-dee`)
  await plain.messages.waitFor((line) => line === '* you are ws-dee in lobby', 'the plain greeting')
  const json = await openWs(t, `${wsBase(server)}/ws?nick=v1-eve`, [v1])
  await json.messages.waitFor((line) => parseJson(line).type === 'welcome', 'the v1 welcome')
  return { tcp, unix, udp, plain, json }
}

describe('switchboard serve: every socket kind in one room', { concurrency: true }, () => {
  it('TCP, UDP, Unix, plain and v1 WebSocket members each see every other member’s messages in order', async (t) => {
    const server = await startServe(t, everyListener(makeTempDir(t)))
    const { tcp, unix, udp, plain, json } = await memberOfEveryKind(t, server)
    const count = 5
    const numbered = (nick: string) => Array.from({ length: count }, (_, i) => `${nick} #${i + 1}`)

    // All at once, so the sequences interleave in the hub; UDP waits for its echo before the next datagram.
    for (const text of numbered('tcp-ann')) tcp.send(text)
    for (const text of numbered('unix-bob')) unix.send(text)
    for (const text of numbered('ws-dee')) plain.ws.send(text)
    numbered('v1-eve').forEach((data, i) => {
      json.ws.send(JSON.stringify({ op: 'publish', id: i + 1, room: 'lobby', data }))
    })
    for (const [i, text] of numbered('udp-cy').entries()) {
      udp.send(text)
      await udp.lines.waitForSeen(i + 1, (line) => line.startsWith('[lobby] udp-cy: '), 'the UDP echo')
    }

    const members = [
      { nick: 'tcp-ann', lines: tcp.lines, parse: fromLine(roomLine) },
      { nick: 'unix-bob', lines: unix.lines, parse: fromLine(roomLine) },
      { nick: 'udp-cy', lines: udp.lines, parse: fromLine(roomLine) },
      { nick: 'ws-dee', lines: plain.messages, parse: fromLine(plainLine) },
      { nick: 'v1-eve', lines: json.messages, parse: fromV1 },
    ]
    const nicks = members.map((member) => member.nick)
    for (const { nick, lines, parse } of members) {
      const isFromOthers = (line: string) => {
        const seen = parse(line)
        return seen !== null && seen.from !== nick && nicks.includes(seen.from)
      }
      const received = (await lines.waitForSeen(4 * count, isFromOthers, `messages to ${nick}`)).map(
        (line) => parse(line) as Seen,
      )
      for (const other of nicks.filter((n) => n !== nick)) {
        const texts = received.filter((seen) => seen.from === other).map((seen) => seen.text)
        assert.deepEqual(texts, numbered(other), `${nick} saw ${other}'s messages once each, in order`)
      }
    }
  })

  it('numbers the room’s messages 1, 2, 3 … and every member sees them in that order', async (t) => {
    const server = await startServe(t, everyListener(makeTempDir(t)))
    const { tcp, unix, udp, plain, json } = await memberOfEveryKind(t, server)
    tcp.send('one from tcp')
    unix.send('two from unix')
    plain.ws.send('three from ws')
    udp.send('four from udp')
    json.ws.send(JSON.stringify({ op: 'publish', id: 'p', room: 'lobby', data: 'five from v1' }))

    const events = (
      await json.messages.waitForSeen(5, (line) => fromV1(line) !== null, 'lobby messages over v1')
    ).map(parseJson)
    assert.deepEqual(
      events.map((event) => event.offset),
      [1, 2, 3, 4, 5],
    )
    assert.equal(new Set(events.map((event) => event.epoch)).size, 1, 'one epoch')
    const order = events.map((event) => String(event.data))
    for (const [what, lines, parse] of [
      ['tcp', tcp.lines, fromLine(roomLine)],
      ['unix', unix.lines, fromLine(roomLine)],
      ['udp', udp.lines, fromLine(roomLine)],
      ['plain ws', plain.messages, fromLine(plainLine)],
    ] as const) {
      // Line clients do not get their own messages back; everyone else gets all five.
      const expected = what === 'tcp' || what === 'unix' ? 4 : 5
      const texts = (
        await lines.waitForSeen(expected, (line) => parse(line) !== null, `messages to ${what}`)
      ).map((line) => (parse(line) as Seen).text)
      assert.deepEqual(
        texts,
        order.filter((text) => texts.includes(text)),
        `${what} saw the offset order`,
      )
    }
  })
})

describe('switchboard serve over HTTP', { concurrency: true }, () => {
  it('answers GET /healthz with status ok, its uptime and connections by transport', async (t) => {
    const server = await startServe(t, everyListener(makeTempDir(t)))
    await memberOfEveryKind(t, server)
    const { response, body } = await getJson(`${server.http}/healthz`)
    assert.equal(response.status, 200)
    assert.equal(body.status, 'ok')
    assert.ok(typeof body.uptimeMs === 'number' && body.uptimeMs >= 0)
    assert.deepEqual(body.connections, { tcp: 1, unix: 1, udp: 1, websocket: 2, socketio: 0 })
  })

  it('serves every documented metric in Prometheus text, with connections by transport', async (t) => {
    const server = await startServe(t, everyListener(makeTempDir(t)))
    const { tcp } = await memberOfEveryKind(t, server)
    tcp.send('hello metrics')
    const { text, samples } = await scrape(server)
    for (const [name, type] of [
      ['switchboard_connections', 'gauge'],
      ['switchboard_rooms', 'gauge'],
      ['switchboard_messages_in_total', 'counter'],
      ['switchboard_messages_out_total', 'counter'],
      ['switchboard_bytes_in_total', 'counter'],
      ['switchboard_bytes_out_total', 'counter'],
      ['switchboard_queued_bytes', 'gauge'],
      ['switchboard_refused_total', 'counter'],
      ['switchboard_dropped_total', 'counter'],
      ['switchboard_room_deliveries_total', 'counter'],
      ['switchboard_room_queued', 'gauge'],
      ['switchboard_room_messages_total', 'counter'],
    ]) {
      assert.ok(text.includes(`\n# TYPE ${name} ${type}\n`), `${name} is served as a ${type}`)
    }
    const connections = Object.fromEntries(
      ['tcp', 'unix', 'udp', 'websocket'].map((transport) => [
        transport,
        sampleValue(samples, 'switchboard_connections', { transport }),
      ]),
    )
    assert.deepEqual(connections, { tcp: 1, unix: 1, udp: 1, websocket: 2 })
    assert.equal(sampleValue(samples, 'switchboard_rooms'), 1)
    // Each line client sent its /nick and the TCP one a message; every client has been sent something.
    for (const transport of ['tcp', 'unix', 'udp']) {
      assert.ok((sampleValue(samples, 'switchboard_messages_in_total', { transport }) ?? 0) >= 1, transport)
      assert.ok((sampleValue(samples, 'switchboard_bytes_in_total', { transport }) ?? 0) > 0, transport)
    }
    for (const transport of ['tcp', 'unix', 'udp', 'websocket']) {
      assert.ok((sampleValue(samples, 'switchboard_messages_out_total', { transport }) ?? 0) >= 1, transport)
      assert.ok((sampleValue(samples, 'switchboard_bytes_out_total', { transport }) ?? 0) > 0, transport)
    }
  })

  it('keeps published = delivered + queued + dropped for every room and connection after traffic', async (t) => {
    const server = await startServe(t, everyListener(makeTempDir(t)))
    const { tcp, udp, plain, json } = await memberOfEveryKind(t, server)
    json.ws.send(JSON.stringify({ op: 'join', id: 'j', room: 'dev' }))
    await json.messages.waitFor((line) => parseJson(line).id === 'j', 'the join reply')
    tcp.send('/join dev')
    await tcp.lines.waitFor((line) => line.startsWith('OK join dev'), 'OK join dev')
    tcp.send('/join lobby')
    await tcp.lines.waitFor((line) => line.startsWith('OK join lobby'), 'OK join lobby')
    // 2000 bytes do not fit a 1200-byte datagram: the UDP member gets a notice and the delivery is dropped.
    const big = 'x'.repeat(2000)
    for (const text of ['first', 'second', big]) tcp.send(text)
    for (const [i, room] of ['lobby', 'dev', 'dev'].entries())
      json.ws.send(JSON.stringify({ op: 'publish', id: i, room, data: `v1 to ${room}` }))
    await plain.messages.waitForSeen(
      4,
      (line) => line.startsWith('tcp-ann: ') || line.startsWith('v1-eve: '),
      'lobby',
    )
    await udp.lines.waitFor((line) => line.includes('too big for UDP'), 'the too-big notice')
    await tcp.lines.waitForSeen(2, (line) => line.startsWith('[dev] v1-eve: '), 'dev messages over tcp')

    const { samples } = await scrape(server)
    const deliveries = (room: string, outcome: string) =>
      sampleValue(samples, 'switchboard_room_deliveries_total', { room, outcome }) ?? 0
    for (const room of ['lobby', 'dev']) {
      const queued = sampleValue(samples, 'switchboard_room_queued', { room }) ?? 0
      assert.equal(
        deliveries(room, 'published'),
        deliveries(room, 'delivered') + queued + deliveries(room, 'dropped'),
        `published = delivered + queued + dropped in ${room}`,
      )
    }
    // Messages alone make 3 tcp messages to the 4 others and 1 v1 message to all 5 in lobby, 2 v1 messages to
    // both members of dev; presence events are room deliveries too, so there are more.
    assert.ok(deliveries('lobby', 'published') >= 3 * 4 + 5)
    assert.ok(deliveries('dev', 'published') >= 2 * 2)
    assert.equal(deliveries('lobby', 'dropped'), 1, 'the message too big for the UDP member')
    assert.equal(sampleValue(samples, 'switchboard_room_messages_total', { room: 'lobby' }), 4)
    assert.equal(sampleValue(samples, 'switchboard_room_messages_total', { room: 'dev' }), 2)

    const { body } = await getJson(`${server.http}/connections`)
    assert.ok(Array.isArray(body.connections))
    for (const connection of body.connections as Array<Record<string, unknown>>) {
      const counts = connection.deliveries as Record<string, number>
      assert.equal(
        counts.published,
        counts.delivered + counts.queued + counts.dropped,
        String(connection.nick),
      )
    }
  })

  it('lists each connection at GET /connections with its transport, nickname and rooms', async (t) => {
    const server = await startServe(t, everyListener(makeTempDir(t)))
    await memberOfEveryKind(t, server)
    const { response, body } = await getJson(`${server.http}/connections`)
    assert.equal(response.status, 200)
    const connections = body.connections as Array<Record<string, unknown>>
    const summary = connections
      .map(({ transport, nick, rooms }) => `${transport} ${nick} ${(rooms as string[]).join(',')}`)
      .sort()
    assert.deepEqual(summary, [
      'tcp tcp-ann lobby',
      'udp udp-cy lobby',
      'unix unix-bob lobby',
      'websocket v1-eve lobby',
      'websocket ws-dee lobby',
    ])
    assert.equal(new Set(connections.map((connection) => connection.id)).size, 5, 'ids are unique')
    for (const connection of connections) assert.equal(typeof connection.connectedAt, 'number')
  })

  it('answers an unknown path with a JSON 404 and a POST with 405 naming GET and HEAD', async (t) => {
    const server = await startServe(t, [
      '--http',
      '0',
      '--tcp',
      'off',
      '--udp',
      'off',
      '--unix',
      'off',
      '--memory',
    ])
    const missing = await getJson(`${server.http}/nope?x=1`)
    assert.equal(missing.response.status, 404)
    assert.deepEqual(missing.body, { code: 'not-found', message: 'nothing at /nope' })
    const posted = await getJson(`${server.http}/healthz`, { method: 'POST', body: '{}' })
    assert.equal(posted.response.status, 405)
    assert.equal(posted.response.headers.get('allow'), 'GET, HEAD')
    assert.equal(posted.body.code, 'method-not-allowed')
  })
})

describe('switchboard serve with TLS and an Origin allow-list', { concurrency: true }, () => {
  it('serves wss:// at /ws and https:// /healthz with --tls-cert and --tls-key', async (t) => {
    const dir = makeTempDir(t)
    const { cert, key } = makeCertificate()
    writeFileSync(join(dir, 'cert.pem'), cert)
    writeFileSync(join(dir, 'key.pem'), key)
    const args = ['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')]
    const server = await startServe(t, [
      '--http',
      '0',
      '--tcp',
      'off',
      '--udp',
      'off',
      '--unix',
      'off',
      '--memory',
      ...args,
    ])
    assert.match(server.http ?? '', /^https:\/\/127\.0\.0\.1:\d+$/)
    const url = `${wsBase(server)}/ws?nick=secure-sam`
    assert.match(url, /^wss:\/\//)

    const plain = await openWs(t, url, [], { ca: cert })
    assert.equal(await plain.messages.next(), '* you are secure-sam in lobby')
    plain.ws.send('over TLS')
    await plain.messages.waitFor((line) => line === 'secure-sam: over TLS', 'the echo over wss')

    const health = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
      httpsGet(`${server.http}/healthz`, { ca: cert }, async (response) => {
        let body = ''
        for await (const chunk of response) body += chunk
        resolve({ status: response.statusCode, body })
      }).on('error', reject)
    })
    assert.equal(health.status, 200)
    assert.equal(parseJson(health.body).status, 'ok')

    const untrusting = new WebSocket(url)
    const [error] = (await once(untrusting, 'error')) as [Error & { code?: string }]
    assert.equal(
      error.code,
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'a client that does not trust the certificate fails',
    )
  })

  it('refuses an upgrade from a browser Origin outside --allowed-origin with 403, and lets others in', async (t) => {
    const server = await startServe(t, [
      '--http',
      '0',
      '--tcp',
      'off',
      '--udp',
      'off',
      '--unix',
      'off',
      '--memory',
      '--allowed-origin',
      'https://good.example',
    ])
    const url = `${wsBase(server)}/ws`
    const refused = await refusedUpgrade(url, { origin: 'https://evil.example' })
    assert.equal(refused.status, 403)
    assert.equal(refused.body.code, 'ws-handshake-origin')

    const good = await openWs(t, `${url}?nick=good-gus`, [], { origin: 'https://good.example' })
    assert.equal(await good.messages.next(), '* you are good-gus in lobby')
    // The ws client sends no Origin unless asked: a program, not a browser, and not refused.
    const program = await openWs(t, `${url}?nick=bot-bo`, [v1])
    assert.equal(parseJson(await program.messages.next()).type, 'welcome')
  })
})
