import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import WsClient from 'ws'
import { WebSocket } from '../../src/websocket/client.js'
import { WebSocketServer } from '../../src/websocket/server.js'
import { makeCertificate } from '../helpers/tls.js'

async function startTlsEcho(t: { after: (fn: () => Promise<void> | void) => void }) {
  const certificate = makeCertificate()
  const https = createServer({ key: certificate.key, cert: certificate.cert })
  const wss = new WebSocketServer({ server: https, perMessageDeflate: true })
  wss.on('connection', (connection) => {
    connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }))
  })
  https.listen(0, '127.0.0.1')
  await once(https, 'listening')
  t.after(async () => {
    await wss.close()
    https.close()
  })
  return { port: (https.address() as AddressInfo).port, ca: certificate.cert }
}

test('our client speaks wss:// to a server attached to https, trusting the given CA', async (t) => {
  const { port, ca } = await startTlsEcho(t)
  const client = new WebSocket(`wss://localhost:${port}/`, [], { tls: { ca } })
  await once(client, 'open')
  client.send('över tls')
  const [event] = (await once(client, 'message')) as [MessageEvent]
  assert.equal(event.data, 'över tls')
  client.close(1000)
  const [closed] = (await once(client, 'close')) as [{ code: number; wasClean: boolean }]
  assert.equal(closed.code, 1000)
  assert.equal(closed.wasClean, true)
})

test('our client refuses a wss:// server whose certificate it does not trust', async (t) => {
  const { port } = await startTlsEcho(t)
  const client = new WebSocket(`wss://localhost:${port}/`)
  const errored = once(client, 'error')
  const closing = once(client, 'close')
  const [error] = (await errored) as [{ message: string }]
  assert.match(error.message, /certificate/i)
  const [closed] = (await closing) as [{ code: number }]
  assert.equal(closed.code, 1006)
})

test('the ws client reaches our server over wss:// with compression', async (t) => {
  const { port, ca } = await startTlsEcho(t)
  const client = new WsClient(`wss://localhost:${port}/`, { ca, perMessageDeflate: true })
  await once(client, 'open')
  assert.match(client.extensions, /permessage-deflate/)
  const text = 'compressible '.repeat(1000)
  client.send(text)
  const [data, isBinary] = (await once(client, 'message')) as [Buffer, boolean]
  assert.equal(isBinary, false)
  assert.equal(data.toString(), text)
  client.close()
  await once(client, 'close')
})
