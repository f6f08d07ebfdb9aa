// Headless Chromium's native WebSocket against our server: the page is served by the same node:http server
// our WebSocketServers attach to, one endpoint without permessage-deflate and one with it.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it, type TestContext } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import type { WebSocketConnection } from '../../src/websocket/connection.js'
import { WebSocketServer } from '../../src/websocket/server.js'
import { launchChromium } from '../helpers/chromium.js'
import { connectionClosed, Inbox, KiB, MiB, pattern } from '../helpers/ws-peer.js'

// The page keeps its sockets in a list and hands messages to the test as text or base64. Its `pattern` uses
// the same formula as the one the test imports, so both sides build the same bytes.
const html = `<!doctype html>
<meta charset="utf-8">
<title>switchboard browser test</title>
<script>
'use strict'
const sockets = []
function pattern(size) {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = (i % 251) ^ ((i >>> 12) & 0xff)
  return bytes
}
function toBase64(buffer) {
  const bytes = new Uint8Array(buffer)
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}
globalThis.harness = {
  open(path) {
    return new Promise((resolve, reject) => {
      const url = new URL(path, location.href)
      url.protocol = 'ws:'
      const ws = new WebSocket(url)
      ws.binaryType = 'arraybuffer'
      const entry = { ws, messages: [], waiters: [] }
      entry.closed = new Promise((done) => {
        ws.onclose = (e) => done({ code: e.code, reason: e.reason, wasClean: e.wasClean })
      })
      ws.onmessage = (e) => {
        const message = typeof e.data === 'string' ? { text: e.data } : { base64: toBase64(e.data) }
        const waiter = entry.waiters.shift()
        if (waiter) waiter(message)
        else entry.messages.push(message)
      }
      ws.onopen = () => resolve({ id: sockets.push(entry) - 1, extensions: ws.extensions })
      ws.onerror = () => reject(new Error('the WebSocket failed'))
    })
  },
  next(id) {
    const entry = sockets[id]
    return entry.messages.length > 0 ? entry.messages.shift() : new Promise((r) => entry.waiters.push(r))
  },
  sendText(id, text) { sockets[id].ws.send(text) },
  sendBytes(id, bytes) { sockets[id].ws.send(new Uint8Array(bytes).buffer) },
  sendPattern(id, size) { sockets[id].ws.send(pattern(size).buffer) },
  close(id, code, reason) { sockets[id].ws.close(code, reason) },
  closed(id) { return sockets[id].closed },
}
</script>
`

/** What the page script above exposes; its functions run in the page, not here. */
interface Harness {
  open(path: string): Promise<{ id: number; extensions: string }>
  next(id: number): Promise<PageMessage>
  sendText(id: number, text: string): void
  sendBytes(id: number, bytes: number[]): void
  sendPattern(id: number, size: number): void
  close(id: number, code: number, reason: string): void
  closed(id: number): Promise<{ code: number; reason: string; wasClean: boolean }>
}

/** A message as the page saw it: text, or binary in base64. */
interface PageMessage {
  text?: string
  base64?: string
}

function pageBytes(message: PageMessage): Buffer {
  assert.equal(typeof message.base64, 'string', 'the page got text instead of binary')
  return Buffer.from(message.base64!, 'base64')
}

type Endpoint = '/plain' | '/deflate'

describe("Chromium's native WebSocket against our server", () => {
  let browser: Browser
  let page: Page
  let http: Server
  let endpoints: Record<Endpoint, WebSocketServer>

  before(async () => {
    http = createServer((request, response) => {
      if (request.url !== '/') return void response.writeHead(404).end()
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(html)
    })
    endpoints = {
      '/plain': new WebSocketServer({ server: http, path: '/plain' }),
      '/deflate': new WebSocketServer({ server: http, path: '/deflate', perMessageDeflate: true }),
    }
    http.listen(0, '127.0.0.1')
    await once(http, 'listening')
    browser = await launchChromium()
    page = await browser.newPage()
    await page.goto(`http://127.0.0.1:${(http.address() as AddressInfo).port}/`)
  })

  after(async () => {
    await browser?.close()
    if (endpoints) await Promise.all(Object.values(endpoints).map((endpoint) => endpoint.close()))
    http.closeAllConnections()
    await new Promise((resolve) => http.close(resolve))
  })

  /** Calls a function of the page's harness; the arguments and result cross as JSON. */
  function inPage<K extends keyof Harness>(
    name: K,
    ...args: Parameters<Harness[K]>
  ): Promise<Awaited<ReturnType<Harness[K]>>> {
    return page.evaluate(
      ([n, a]) => {
        // This runs in the page, where `globalThis` is the window the script above filled in.
        const functions = (globalThis as unknown as { harness: Record<string, (...a: unknown[]) => unknown> })
          .harness
        return functions[n](...a)
      },
      [name, args] as [string, unknown[]],
    ) as Promise<Awaited<ReturnType<Harness[K]>>>
  }

  /** Opens a socket in the page and returns both ends. */
  async function openInPage(t: TestContext, path: Endpoint) {
    const accepted = once(endpoints[path], 'connection') as Promise<[WebSocketConnection, IncomingMessage]>
    const { id, extensions } = await inPage('open', path)
    const [connection, request] = await accepted
    t.after(() => connection.terminate())
    const inbox = new Inbox()
    connection.on('message', inbox.push)
    return {
      id,
      connection,
      request,
      pageExtensions: extensions,
      nextAtServer: () => inbox.next(),
      nextInPage: () => inPage('next', id),
    }
  }

  it('declines the permessage-deflate offer Chromium makes, on the endpoint without deflate', async (t) => {
    const { connection, request, pageExtensions } = await openInPage(t, '/plain')
    assert.match(request.headers['sec-websocket-extensions'] ?? '', /^permessage-deflate\b/)
    assert.equal(connection.extensions, '')
    assert.equal(pageExtensions, '')
  })

  it('accepts the permessage-deflate offer Chromium makes, and Chromium reports it', async (t) => {
    const { connection, request, pageExtensions } = await openInPage(t, '/deflate')
    assert.equal(request.headers['sec-websocket-extensions'], 'permessage-deflate; client_max_window_bits')
    assert.equal(connection.extensions, 'permessage-deflate')
    assert.equal(pageExtensions, 'permessage-deflate')
  })

  for (const path of ['/plain', '/deflate'] as const) {
    const mode = path === '/deflate' ? 'deflate on' : 'deflate off'

    it(`echoes multi-byte text from the page and back (${mode})`, async (t) => {
      const { id, connection, nextAtServer, nextInPage } = await openInPage(t, path)
      await inPage('sendText', id, 'héllo wörld — 日本語 🎉')
      const [data, isBinary] = await nextAtServer()
      assert.equal(isBinary, false)
      // 'héllo wörld — 日本語 🎉' in UTF-8.
      assert.equal(data.toString('hex'), '68c3a96c6c6f2077c3b6726c6420e2809420e697a5e69cace8aa9e20f09f8e89')
      connection.send(data, { binary: false })
      assert.deepEqual(await nextInPage(), { text: 'héllo wörld — 日本語 🎉' })
    })

    it(`echoes an ArrayBuffer from the page and back as binary (${mode})`, async (t) => {
      const { id, connection, nextAtServer, nextInPage } = await openInPage(t, path)
      const bytes = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff]
      await inPage('sendBytes', id, bytes)
      const [data, isBinary] = await nextAtServer()
      assert.equal(isBinary, true)
      assert.deepEqual([...data], bytes)
      connection.send(data)
      assert.deepEqual([...pageBytes(await nextInPage())], bytes)
    })

    it(`carries a 1 MiB binary message each way, ${path === '/deflate' ? 'compressed' : 'uncompressed'} on the wire`, async (t) => {
      const { id, connection, request, nextAtServer, nextInPage } = await openInPage(t, path)
      const expected = pattern(MiB)
      const readBefore = request.socket.bytesRead
      await inPage('sendPattern', id, MiB)
      const [data, isBinary] = await nextAtServer()
      const read = request.socket.bytesRead - readBefore
      assert.equal(isBinary, true)
      assert.ok(data.equals(expected), 'the bytes from the page differ')
      const writtenBefore = request.socket.bytesWritten
      connection.send(expected)
      assert.ok(pageBytes(await nextInPage()).equals(expected), 'the bytes the page got differ')
      const written = request.socket.bytesWritten - writtenBefore
      for (const [direction, bytes] of [
        ['from the page', read],
        ['to the page', written],
      ] as const) {
        if (path === '/deflate') assert.ok(bytes < 64 * KiB, `${bytes} bytes on the wire ${direction}`)
        else assert.ok(bytes > MiB, `${bytes} bytes on the wire ${direction}`)
      }
    })

    it(`the page sees code 4000 and reason 'bye' when our server closes (${mode})`, async (t) => {
      const { id, connection } = await openInPage(t, path)
      const serverClosed = connectionClosed(connection)
      connection.close(4000, 'bye')
      assert.deepEqual(await inPage('closed', id), { code: 4000, reason: 'bye', wasClean: true })
      const [code, , wasClean] = await serverClosed
      assert.equal(code, 4000)
      assert.equal(wasClean, true)
    })

    it(`our server sees the code and reason the page closes with (${mode})`, async (t) => {
      const { id, connection } = await openInPage(t, path)
      const serverClosed = connectionClosed(connection)
      await inPage('close', id, 4001, 'page leaving ✓')
      assert.deepEqual(await serverClosed, [4001, 'page leaving ✓', true])
      const { code, wasClean } = await inPage('closed', id)
      assert.equal(code, 4001)
      assert.equal(wasClean, true)
    })
  }
})
