// `switchboard echo` as users run it: the compiled CLI in a child process, talked to by the `ws` client,
// node:net and netcat.
import assert from 'node:assert/strict'
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { once } from 'node:events'
import { accessSync, constants } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { delimiter, join } from 'node:path'
import { createInterface } from 'node:readline'
import { describe, it, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { WebSocket as WsClient } from 'ws'

// This file runs as dist/test/cli/echo.test.js; the repository root is three levels up.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const cli = 'dist/src/cli/main.js'

interface RunningEcho {
  child: ChildProcessWithoutNullStreams
  wsUrl: string
  tcpPort: number | undefined
}

/** Starts `switchboard echo --port 0 …` and resolves once it has printed every `listening` line. */
async function startEcho(t: TestContext, ...args: string[]): Promise<RunningEcho> {
  const child = spawn(process.execPath, [cli, 'echo', '--port', '0', ...args], { cwd: repoRoot })
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const expectTcp = args.includes('--tcp')
  let wsUrl: string | undefined
  let tcpPort: number | undefined
  const lines = createInterface({ input: child.stdout })
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`switchboard echo exited with ${code} before listening: ${stderr}`)
  })
  const listening = (async () => {
    for await (const line of lines) {
      const ws = /^listening (ws:\/\/127\.0\.0\.1:\d+\/)$/.exec(line)
      const tcp = /^listening tcp:\/\/127\.0\.0\.1:(\d+)$/.exec(line)
      if (ws) wsUrl = ws[1]
      if (tcp) tcpPort = Number(tcp[1])
      if (wsUrl && (tcpPort || !expectTcp)) return { child, wsUrl, tcpPort }
    }
    throw new Error(`switchboard echo closed its output without listening: ${stderr}`)
  })()
  return Promise.race([listening, exited])
}

async function connectWs(t: TestContext, url: string) {
  const ws = new WsClient(url)
  t.after(() => ws.terminate())
  let upgrade: IncomingMessage | undefined
  ws.once('upgrade', (response: IncomingMessage) => {
    upgrade = response
  })
  await once(ws, 'open')
  assert.ok(upgrade)
  return { ws, extensions: upgrade.headers['sec-websocket-extensions'] ?? '', socket: upgrade.socket }
}

async function roundTrip(ws: WsClient, data: string | Buffer): Promise<[Buffer, boolean]> {
  const reply = once(ws, 'message') as Promise<[Buffer, boolean]>
  ws.send(data)
  return reply
}

/** Reads from a TCP socket until `bytes` bytes have arrived, as UTF-8. */
async function readTcp(socket: ReturnType<typeof connect>, bytes: number): Promise<string> {
  const chunks: Buffer[] = []
  let length = 0
  while (length < bytes) {
    const [chunk] = (await once(socket, 'data')) as [Buffer]
    chunks.push(chunk)
    length += chunk.length
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** The executable `name` on PATH, like `which`; undefined when there is none. */
function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    try {
      accessSync(join(dir, name), constants.X_OK)
      return join(dir, name)
    } catch {
      // Not in this directory; try the next one.
    }
  }
  return undefined
}

describe('switchboard echo', () => {
  it('prints a ws:// and a tcp:// listening line with the ports it picked', async (t) => {
    const { wsUrl, tcpPort } = await startEcho(t, '--tcp', '0')
    const wsPort = Number(new URL(wsUrl).port)
    assert.ok(wsPort > 0)
    assert.ok(tcpPort !== undefined && tcpPort > 0)
    assert.notEqual(wsPort, tcpPort)
  })

  it('echoes text and binary unchanged to a ws client, without compression by default', async (t) => {
    const { wsUrl } = await startEcho(t)
    const { ws, extensions } = await connectWs(t, wsUrl)
    assert.equal(extensions, '')
    const [text, textIsBinary] = await roundTrip(ws, 'héllo wörld — 日本語 🎉')
    assert.equal(textIsBinary, false)
    assert.equal(text.toString(), 'héllo wörld — 日本語 🎉')
    const [bytes, bytesIsBinary] = await roundTrip(ws, Buffer.from([0x00, 0x61, 0xff]))
    assert.equal(bytesIsBinary, true)
    assert.deepEqual([...bytes], [0x00, 0x61, 0xff])
  })

  it('--upper upper-cases text messages and leaves binary ones alone', async (t) => {
    const { wsUrl } = await startEcho(t, '--upper')
    const { ws } = await connectWs(t, wsUrl)
    const [text, textIsBinary] = await roundTrip(ws, 'héllo wörld')
    assert.equal(textIsBinary, false)
    assert.equal(text.toString(), 'HÉLLO WÖRLD')
    // 'ab' as bytes stays 'ab'.
    const [bytes, bytesIsBinary] = await roundTrip(ws, Buffer.from([0x61, 0x62]))
    assert.equal(bytesIsBinary, true)
    assert.deepEqual([...bytes], [0x61, 0x62])
  })

  it('--deflate negotiates permessage-deflate and compresses what it echoes', async (t) => {
    const { wsUrl } = await startEcho(t, '--deflate')
    const { ws, extensions, socket } = await connectWs(t, wsUrl)
    assert.equal(extensions, 'permessage-deflate')
    const message = Buffer.alloc(1024 * 1024, 'switchboard ')
    const readBefore = socket.bytesRead
    const [echoed] = await roundTrip(ws, message)
    assert.ok(echoed.equals(message), 'the echo differs')
    const read = socket.bytesRead - readBefore
    assert.ok(read < 64 * 1024, `${read} bytes on the wire for a 1 MiB echo`)
  })

  it('the TCP port answers in upper case over node:net, UTF-8 split across writes included', async (t) => {
    const { tcpPort } = await startEcho(t, '--tcp', '0')
    const socket = connect(tcpPort!, '127.0.0.1')
    t.after(() => socket.destroy())
    await once(socket, 'connect')
    socket.write('hello tcp\n')
    assert.equal(await readTcp(socket, 10), 'HELLO TCP\n')
    // 'ü' is c3 bc: send 'a' and the first byte, and only after the answer the second.
    socket.write(Buffer.from([0x61, 0xc3]))
    assert.equal(await readTcp(socket, 1), 'A')
    socket.write(Buffer.from([0xbc, 0x0a]))
    assert.equal(await readTcp(socket, 3), 'Ü\n')
  })

  it('the TCP port answers nc (netcat-openbsd) in upper case', async (t) => {
    const nc = findOnPath('nc')
    assert.ok(nc, 'nc is not on PATH: install netcat-openbsd (apt-get install netcat-openbsd)')
    const { tcpPort } = await startEcho(t, '--tcp', '0')
    // -N: shut the connection down after stdin ends, so the server hangs up once it has answered.
    const child = spawn(nc, ['-N', '-w', '5', '127.0.0.1', String(tcpPort)])
    t.after(() => child.kill())
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stdin.end('hello from nc, straße\n')
    const [code] = await once(child, 'exit')
    assert.equal(code, 0)
    assert.equal(stdout, 'HELLO FROM NC, STRASSE\n')
  })

  it('closes ws clients with 1001 and exits 0 on SIGTERM', async (t) => {
    const { child, wsUrl } = await startEcho(t, '--tcp', '0')
    const { ws } = await connectWs(t, wsUrl)
    const wsClosed = once(ws, 'close') as Promise<[number, Buffer]>
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    const [code] = await wsClosed
    assert.equal(code, 1001)
    assert.deepEqual(await exited, [0, null])
  })
})
