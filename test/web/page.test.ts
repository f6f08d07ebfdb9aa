// The chat page in headless Chromium against `serve` started in-process, with node:net line clients in the
// same rooms: what a person sees, what a nc user sees of it, and how the page comes back after a disconnect.
import assert from 'node:assert/strict'
import { EventEmitter, once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it, type TestContext } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { loadConfig, type ServeConfig } from '../../src/cli/config.js'
import { type RunningServer, startServer } from '../../src/cli/serve.js'
import { Disconnect } from '../../src/hub/disconnect.js'
import { launchChromium } from '../helpers/chromium.js'

interface Served {
  server: RunningServer
  httpPort: number
  tcpPort: number
  url: string
  /** Stops the server; the test's cleanup does not stop it a second time. */
  close(): Promise<void>
}

/** `serve` on memory history with HTTP and TCP on free ports (or `httpPort`), closed after the test. */
async function serve(t: TestContext, httpPort = 0, change: Partial<ServeConfig> = {}): Promise<Served> {
  const config = loadConfig({ flags: { http: httpPort, tcp: 0, udp: false, unix: false, memory: true } })
  const server = await startServer({ ...config, ...change })
  let closing: Promise<void> | null = null
  const close = () => {
    closing ??= server.close()
    return closing
  }
  t.after(close)
  const port = (scheme: string) =>
    Number(
      server.lines
        .find((line) => line.includes(scheme))
        ?.split(':')
        .at(-1),
    )
  const http = port('http://')
  return { server, httpPort: http, tcpPort: port('tcp://'), url: `http://127.0.0.1:${http}/`, close }
}

/** Cuts the page's WebSocket from the server side as a slow consumer (4008), which tells it to come back. */
function cutWebSocket(server: RunningServer): void {
  const session = [...server.hub.sessions()].find((s) => s.member.transport === 'websocket')
  assert.ok(session, 'the page has a WebSocket session')
  session.member.close(Disconnect.SlowConsumer)
}

/** The texts of the visible room's messages, oldest first. */
function messageTexts(page: Page): Promise<string[]> {
  return page.locator('.log:not([hidden]) .message .text').allTextContents()
}

/** A line-protocol client on node:net, as `nc 127.0.0.1 PORT` would be. */
class LineClient {
  readonly lines: string[] = []
  readonly socket: Socket
  readonly #events = new EventEmitter()
  #read = 0

  constructor(socket: Socket) {
    this.socket = socket
    let rest = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n')
      rest = parts.pop() ?? ''
      this.lines.push(...parts.map((line) => line.replace(/\r$/, '')))
      this.#events.emit('line')
    })
  }

  /** Skips lines up to the first that matches, and returns it. */
  async until(pattern: RegExp): Promise<string> {
    for (;;) {
      while (this.#read >= this.lines.length) await once(this.#events, 'line')
      const line = this.lines[this.#read++]
      if (pattern.test(line)) return line
    }
  }

  send(line: string): void {
    this.socket.write(`${line}\n`)
  }
}

async function connectLine(t: TestContext, port: number): Promise<LineClient> {
  const socket = connect(port, '127.0.0.1')
  t.after(() => socket.destroy())
  await once(socket, 'connect')
  const client = new LineClient(socket)
  await client.until(/^WELCOME /)
  return client
}

let browser: Browser

before(async () => {
  browser = await launchChromium()
})

after(() => browser?.close())

/** A browser profile of its own (its own localStorage), closed after the test. */
async function newContext(t: TestContext): Promise<BrowserContext> {
  const context = await browser.newContext()
  t.after(() => context.close())
  return context
}

/** Opens the page and waits until the hub has welcomed it and its room's join is answered. */
async function openPage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage()
  await page.goto(url)
  await page.locator('body[data-connection="open"]').waitFor()
  return page
}

async function setName(page: Page, name: string): Promise<void> {
  await page.getByLabel('Your name').fill(name)
  await page.getByRole('button', { name: 'Set name' }).click()
  await page
    .getByRole('status')
    .filter({ hasText: `Connected as ${name}` })
    .waitFor()
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text)
  await page.getByLabel('Message', { exact: true }).press('Enter')
}

/** The visible log's lines as the person reads them. */
function logLines(page: Page): Promise<string[]> {
  return page.locator('.log:not([hidden]) > li').evaluateAll((items) =>
    items.map((item) => {
      const time = item.querySelector('time')?.textContent ?? ''
      return (item.textContent ?? '').slice(time.length)
    }),
  )
}

describe('the chat page', () => {
  it('serves index.html, app.js and style.css with their types and ETag revalidation, /api as JSON', async (t) => {
    const { url } = await serve(t)
    const types = { '': 'text/html', 'app.js': 'text/javascript', 'style.css': 'text/css' }
    for (const [path, type] of Object.entries(types)) {
      const response = await fetch(url + path)
      assert.equal(response.status, 200)
      assert.equal(response.headers.get('content-type'), `${type}; charset=utf-8`)
      assert.equal(response.headers.get('cache-control'), 'no-cache')
      const etag = response.headers.get('etag')
      assert.match(etag ?? '', /^"[\w-]+"$/)
      assert.ok((await response.text()).length > 100)
      const again = await fetch(url + path, { headers: { 'If-None-Match': etag! } })
      assert.equal(again.status, 304)
      assert.equal(await again.text(), '')
    }
    const page = await fetch(url)
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/)
    const head = await fetch(url + 'app.js', { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(await head.text(), '')
    const api = await fetch(url + 'api')
    assert.equal(((await api.json()) as { name: string }).name, 'switchboard')
    const missing = await fetch(url + 'index.html')
    assert.equal(missing.status, 404)
    assert.deepEqual(await missing.json(), { code: 'not-found', message: 'nothing at /index.html' })
  })

  it('carries a message from the page to a TCP client and back, bytes shown as [binary N bytes]', async (t) => {
    const { url, tcpPort } = await serve(t)
    const page = await openPage(await newContext(t), url)
    await setName(page, 'ann')
    const nc = await connectLine(t, tcpPort)
    await page.locator('.people-list li', { hasText: /^guest-\d+$/ }).waitFor()

    await say(page, 'hello from the browser')
    await nc.until(/^\[lobby\] ann: hello from the browser$/)
    assert.equal(await page.getByLabel('Message', { exact: true }).inputValue(), '')

    nc.send('hi from nc <b>not bold</b>')
    const fromNc = page.locator('.message', { hasText: 'hi from nc' })
    await fromNc.waitFor()
    assert.match((await fromNc.locator('.nick').textContent()) ?? '', /^guest-\d+$/)
    assert.equal(await fromNc.locator('.text').textContent(), 'hi from nc <b>not bold</b>')
    assert.equal(await page.locator('.log b').count(), 0)
    assert.match((await fromNc.locator('time').getAttribute('datetime')) ?? '', /^\d{4}-\d\d-\d\dT/)

    nc.send('/json')
    await nc.until(/"op":"json"/)
    nc.send(JSON.stringify({ op: 'publish', room: 'lobby', data: { base64: 'AAH+/w==' } }))
    await page.locator('.message .text', { hasText: '[binary 4 bytes]' }).waitFor()

    const screenshot = join(tmpdir(), 'switchboard-page.png') // overwritten by each run, for a look
    await page.screenshot({ path: screenshot })
    t.diagnostic(`screenshot: ${screenshot}`)
  })

  it('counts two tabs with the same stored nickname and key once, and renames both when one is renamed', async (t) => {
    const { url, tcpPort } = await serve(t)
    const context = await newContext(t)
    const first = await openPage(context, url)
    await setName(first, 'ann')
    const second = await openPage(context, url)
    await second.getByRole('status').filter({ hasText: 'Connected as ann' }).waitFor()

    const nc = await connectLine(t, tcpPort)
    const guest = /^WELCOME (guest-\d+) /.exec(nc.lines[0])?.[1]
    nc.send('/who lobby')
    const who = (await nc.until(/^OK who /)).replace('OK who lobby: ', '').split(', ')
    assert.deepEqual(who.sort(), ['ann', guest])
    // A message after the second tab's arrival, so every presence event before it has reached the page.
    nc.send('are you both here?')
    await first.locator('.message', { hasText: 'are you both here?' }).waitFor()
    const joins = (await logLines(first)).filter((line) => line === 'ann joined')
    assert.deepEqual(joins, ['ann joined'])
    for (const page of [first, second]) {
      const people = await page.locator('.people-list li').allTextContents()
      assert.deepEqual(people.sort(), ['ann (you)', guest])
    }

    // The tabs share one stored name: a new one chosen in either is taken by the other, with its key.
    await setName(second, 'cleo')
    await first.getByRole('status').filter({ hasText: 'Connected as cleo' }).waitFor()
    assert.equal(await first.getByLabel('Your name').inputValue(), 'cleo')
    nc.send('/who lobby')
    const renamed = (await nc.until(/^OK who /)).replace('OK who lobby: ', '').split(', ')
    assert.deepEqual(renamed.sort(), ['cleo', guest])
  })

  it('comes back as a guest and says so when its stored name is held by someone else (4409)', async (t) => {
    const { url, tcpPort } = await serve(t)
    const nc = await connectLine(t, tcpPort)
    nc.send('/nick ann')
    await nc.until(/^OK nick ann /)
    const page = await (await newContext(t)).newPage()
    const identity = JSON.stringify({ nick: 'ann', key: 'not-the-key' })
    await page.addInitScript({
      content: `localStorage.setItem('switchboard.identity', ${JSON.stringify(identity)})`,
    })
    await page.goto(url)
    await page
      .getByRole('status')
      .filter({ hasText: /^Connected as guest-\d+$/ })
      .waitFor()
    const notes = await page.locator('.note.error').allTextContents()
    assert.equal(notes.length, 1)
    assert.match(notes[0], /^The name ann is not yours any more \(ann is taken.*\); pick another name\.$/)
    assert.equal(await page.evaluate("localStorage.getItem('switchboard.identity')"), null)
  })

  it("shows the room's recent history after a reload, oldest first", async (t) => {
    const { url, tcpPort } = await serve(t)
    const page = await openPage(await newContext(t), url)
    await setName(page, 'ann')
    const nc = await connectLine(t, tcpPort)
    await say(page, 'first')
    await nc.until(/ann: first$/)
    nc.send('second')
    await page.locator('.message', { hasText: 'second' }).waitFor()

    await page.reload()
    await page.locator('.message', { hasText: 'second' }).waitFor()
    assert.deepEqual(await messageTexts(page), ['first', 'second'])
    assert.equal(await page.locator('.log:not([hidden]) > li').first().textContent(), 'Recent messages')
    assert.deepEqual(await page.locator('.message .nick').allTextContents(), [
      'ann',
      /guest-\d+/.exec(nc.lines[0])?.[0],
    ])
  })

  it('joins another room, keeps its messages apart and counts the unread ones', async (t) => {
    const { url, tcpPort } = await serve(t)
    const page = await openPage(await newContext(t), url)
    await page.getByLabel('Join or create a room').fill('cafe')
    await page.getByRole('button', { name: 'Join', exact: true }).click()
    await page.getByRole('heading', { name: 'cafe' }).waitFor()
    const nc = await connectLine(t, tcpPort)
    nc.send('/join cafe')
    await page.locator('.people-list li', { hasText: /^guest-\d+$/ }).waitFor()
    await say(page, 'in the cafe')
    await nc.until(/^\[cafe\] guest-\d+: in the cafe$/)

    await page.getByRole('button', { name: 'lobby', exact: true }).click()
    nc.send('while you look at the lobby')
    await page.getByRole('button', { name: 'cafe 1', exact: true }).click()
    assert.deepEqual(await messageTexts(page), ['in the cafe', 'while you look at the lobby'])
    await page.getByRole('button', { name: 'cafe', exact: true }).waitFor()
    await page.getByRole('button', { name: 'lobby', exact: true }).click()
    assert.deepEqual(await messageTexts(page), [])
  })

  it('resumes from its last offset after a disconnect and shows each missed message once (4008)', async (t) => {
    const { url, tcpPort, server } = await serve(t)
    const page = await openPage(await newContext(t), url)
    const resumes: unknown[] = []
    page.on('websocket', (ws) =>
      ws.on('framesent', ({ payload }) => {
        const request = JSON.parse(String(payload))
        if (request.op === 'join') resumes.push(request.resume ?? null)
      }),
    )
    const nc = await connectLine(t, tcpPort)
    nc.send('/json')
    await nc.until(/"op":"json"/)
    nc.send(JSON.stringify({ op: 'publish', room: 'lobby', data: 'before' }))
    await page.locator('.message', { hasText: 'before' }).waitFor()

    // The page waits at least 375 ms before it reconnects: the publish is in long before.
    cutWebSocket(server)
    nc.send(JSON.stringify({ id: 1, op: 'publish', room: 'lobby', data: 'while you were away' }))
    const ack = JSON.parse(await nc.until(/"id":1/))
    await page.locator('body[data-connection="closed"]').waitFor()
    await page.locator('.message', { hasText: 'while you were away' }).waitFor()

    assert.deepEqual(resumes, [{ offset: 1, epoch: ack.epoch }])
    const messages = await page.locator('.message').all()
    const offsets = await Promise.all(messages.map((message) => message.getAttribute('data-offset')))
    assert.deepEqual(offsets, ['1', '2'])
    assert.equal(await page.locator('.note.gap').count(), 0)
    const lines = await logLines(page)
    assert.ok(lines.includes('Connection lost.'))
    assert.ok(lines.some((line) => /^Reconnected as guest-\d+\.$/.test(line)))
  })

  it('says how many missed messages retention dropped when it resumes', async (t) => {
    const { url, tcpPort, server } = await serve(t, 0, { retention: { maxMessages: 2, maxAgeMs: 60_000 } })
    const page = await openPage(await newContext(t), url)
    const nc = await connectLine(t, tcpPort)
    nc.send('/json')
    await nc.until(/"op":"json"/)
    nc.send(JSON.stringify({ op: 'publish', room: 'lobby', data: 'seen' }))
    await page.locator('.message', { hasText: 'seen' }).waitFor()

    cutWebSocket(server)
    for (const id of [1, 2, 3, 4]) {
      nc.send(JSON.stringify({ id, op: 'publish', room: 'lobby', data: `missed ${id}` }))
    }
    await nc.until(/"id":4/)
    await page.locator('.message', { hasText: 'missed 4' }).waitFor()

    assert.deepEqual(await page.locator('.note.gap').allTextContents(), [
      'History gap: 2 messages you missed are no longer kept by the server.',
    ])
    assert.deepEqual(await messageTexts(page), ['seen', 'missed 3', 'missed 4'])
  })

  it('shows an explicit gap when a restarted server lost the history it was resuming', async (t) => {
    const first = await serve(t)
    const page = await openPage(await newContext(t), first.url)
    await say(page, 'before the restart')
    await page.locator('.message', { hasText: 'before the restart' }).waitFor()

    await first.close()
    await page.locator('body[data-connection="closed"]').waitFor()
    await serve(t, first.httpPort)
    await page.locator('.note.gap').waitFor()
    assert.match(
      (await page.locator('.note.gap').textContent()) ?? '',
      /server lost what was said here before/,
    )
    await page.locator('body[data-connection="open"]').waitFor()
  })
})
