// socket.io-client's own browser bundle in headless Chromium against `serve` started in-process, chatting with a
// node:net line client in the lobby: once over long-polling only, once upgraded to WebSocket.
import assert from 'node:assert/strict'
import { EventEmitter, once } from 'node:events'
import { createRequire } from 'node:module'
import { connect, type Socket } from 'node:net'
import { dirname, join } from 'node:path'
import { after, before, describe, it, type TestContext } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { loadConfig } from '../../src/cli/config.js'
import { startServer } from '../../src/cli/serve.js'
import { launchChromium } from '../helpers/chromium.js'

// The package exports no path to the minified bundle, so it is found next to the package's own package.json.
const bundlePath = join(
  dirname(createRequire(import.meta.url).resolve('socket.io-client/package.json')),
  'dist/socket.io.min.js',
)

/** What a `message` event carries, as docs/protocol.md "Socket.IO events" lists it. */
interface RoomEvent {
  room: string
  from: string
  data: unknown
  offset: number
  ts: number
}

/** The little of socket.io-client the page code uses; the test's tsconfig has no DOM types. */
interface ClientSocket {
  connected: boolean
  io: { engine: { transport: { name: string } } }
  on(event: string, listener: (value: never) => void): void
  emit(event: string, ...args: unknown[]): void
}

/** The globals the injected bundle and the test's page code put on `window`. */
interface PageGlobals {
  io(url: string, options: { transports?: string[] }): ClientSocket
  socket: ClientSocket
  received: RoomEvent[]
}

/** `serve` on memory history with HTTP and TCP on free ports, closed after the test. */
async function serve(t: TestContext): Promise<{ url: string; tcpPort: number }> {
  const server = await startServer(
    loadConfig({ flags: { http: 0, tcp: 0, udp: false, unix: false, memory: true } }),
  )
  t.after(() => server.close())
  const port = (scheme: string) =>
    Number(
      server.lines
        .find((line) => line.includes(scheme))
        ?.split(':')
        .at(-1),
    )
  return { url: `http://127.0.0.1:${port('http://')}`, tcpPort: port('tcp://') }
}

/** A line-protocol client on node:net, as `nc 127.0.0.1 PORT` would be; it starts in the lobby. */
class LineClient {
  readonly lines: string[] = []
  readonly #events = new EventEmitter()
  readonly #socket: Socket
  #read = 0

  constructor(socket: Socket) {
    this.#socket = socket
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
    this.#socket.write(`${line}\n`)
  }
}

async function connectLine(t: TestContext, port: number): Promise<{ client: LineClient; nick: string }> {
  const socket = connect(port, '127.0.0.1')
  t.after(() => socket.destroy())
  await once(socket, 'connect')
  const client = new LineClient(socket)
  const welcome = await client.until(/^WELCOME /)
  const nick = /^WELCOME (\S+)/.exec(welcome)?.[1]
  assert.ok(nick, `a nick in ${welcome}`)
  return { client, nick }
}

let browser: Browser

before(async () => {
  browser = await launchChromium()
})

after(() => browser?.close())

/**
 * A page on the server's own origin (its JSON /api, so the chat page's app does not join the hub too) with the
 * socket.io-client bundle injected: the Socket.IO requests are same-origin and need no CORS. The bundle goes in
 * as an inline script, which the server's Content-Security-Policy would refuse, hence `bypassCSP`.
 */
async function openBundlePage(t: TestContext, url: string): Promise<Page> {
  const context = await browser.newContext({ bypassCSP: true })
  t.after(() => context.close())
  const page = await context.newPage()
  await page.goto(`${url}/api`)
  await page.addScriptTag({ path: bundlePath })
  return page
}

/** Connects `io(url, options)` in the page, collecting `message` events; resolves with the transport in use. */
function connectPage(page: Page, url: string, transports?: string[]): Promise<string> {
  return page.evaluate(
    ({ url, transports }) =>
      new Promise<string>((resolve, reject) => {
        const g = globalThis as unknown as PageGlobals
        g.received = []
        g.socket = g.io(url, transports ? { transports } : {})
        g.socket.on('message', (event: RoomEvent) => g.received.push(event))
        g.socket.on('connect', () => resolve(g.socket.io.engine.transport.name))
        g.socket.on('connect_error', (error: Error) => reject(new Error(`connect_error: ${error.message}`)))
      }),
    { url, transports },
  )
}

/** Emits `event(...args, ack)` from the page and resolves with the ack. */
function emitWithAck(page: Page, event: string, ...args: unknown[]): Promise<Record<string, unknown>> {
  return page.evaluate(
    ({ event, args }) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const g = globalThis as unknown as PageGlobals
        g.socket.emit(event, ...args, resolve)
      }),
    { event, args },
  )
}

/** Names itself, joins the lobby, says something to the TCP client there and hears its answer. */
async function chat(page: Page, nc: LineClient, ncNick: string, name: string): Promise<void> {
  const nick = await emitWithAck(page, 'nick', name)
  assert.equal(nick.ok, true)
  assert.equal(nick.nick, name)
  const join = await emitWithAck(page, 'join', 'lobby')
  assert.equal(join.ok, true)
  assert.equal(join.room, 'lobby')
  assert.ok((join.members as string[]).includes(ncNick), `${ncNick} in ${JSON.stringify(join.members)}`)

  const sent = await emitWithAck(page, 'message', 'lobby', `hello from ${name}`)
  assert.equal(sent.ok, true)
  assert.equal(sent.room, 'lobby')
  assert.equal(typeof sent.offset, 'number')
  await nc.until(new RegExp(`^\\[lobby\\] ${name}: hello from ${name}$`))

  nc.send('hi from nc')
  await page.waitForFunction(() =>
    (globalThis as unknown as PageGlobals).received.some((event) => event.data === 'hi from nc'),
  )
  const received = await page.evaluate(() => (globalThis as unknown as PageGlobals).received)
  // The sender hears its own message too, in order, before the answer.
  assert.deepEqual(
    received.map(({ room, from, data }) => ({ room, from, data })),
    [
      { room: 'lobby', from: name, data: `hello from ${name}` },
      { room: 'lobby', from: ncNick, data: 'hi from nc' },
    ],
  )
  assert.equal(received[1].offset, received[0].offset + 1)
  assert.equal(typeof received[1].ts, 'number')
}

describe('socket.io-client in headless Chromium', () => {
  it("chats with a TCP client over long-polling only (transports: ['polling'])", async (t) => {
    const { url, tcpPort } = await serve(t)
    const { client: nc, nick: ncNick } = await connectLine(t, tcpPort)
    const page = await openBundlePage(t, url)
    const webSockets: string[] = []
    page.on('websocket', (ws) => webSockets.push(ws.url()))

    assert.equal(await connectPage(page, url, ['polling']), 'polling')
    await chat(page, nc, ncNick, 'ann')
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as PageGlobals).socket.io.engine.transport.name),
      'polling',
    )
    assert.deepEqual(webSockets, [])
  })

  it('chats with a TCP client after upgrading from polling to WebSocket by default', async (t) => {
    const { url, tcpPort } = await serve(t)
    const { client: nc, nick: ncNick } = await connectLine(t, tcpPort)
    const page = await openBundlePage(t, url)
    const webSockets: string[] = []
    page.on('websocket', (ws) => webSockets.push(ws.url()))
    const pollingHandshakes: string[] = []
    page.on('request', (request) => {
      if (/transport=polling(?!.*sid=)/.test(request.url())) pollingHandshakes.push(request.url())
    })

    // The upgrade may finish before or after the Socket.IO CONNECT: only its outcome is certain.
    await connectPage(page, url)
    await page.waitForFunction(
      () => (globalThis as unknown as PageGlobals).socket.io.engine.transport.name === 'websocket',
    )
    await chat(page, nc, ncNick, 'bob')
    assert.equal(pollingHandshakes.length, 1, 'the session opened over polling')
    assert.equal(webSockets.length, 1)
    assert.match(webSockets[0], /^ws:\/\/127\.0\.0\.1:\d+\/socket\.io\/\?EIO=4&transport=websocket&sid=/)
  })
})
