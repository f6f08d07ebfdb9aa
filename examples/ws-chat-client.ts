// A tiny client for ws-chat-server.ts on switchboard's browser-style WebSocket client: each line typed is said in
// the room, and every message of the room is printed.
import { createInterface, type Interface } from 'node:readline'
import { WebSocket } from '../src/websocket/index.js'
import { formatHostPort, readCommandLine, readInteger } from './command-line.js'

const usage = `usage: node dist/examples/ws-chat-client.js [--port 8080] [--host 127.0.0.1] [--path /]

Connects to ws://HOST:PORT/PATH, says each line typed, and prints every message that arrives.
Ctrl-D (the end of the input) leaves with close code 1000.`

const { values } = readCommandLine(usage, {
  port: '8080',
  host: '127.0.0.1',
  path: '/',
})
const port = readInteger(usage, 'port', values.port, 1, 65535)
const url = `ws://${formatHostPort(values.host, port)}${values.path}`
let input: Interface | null = null

const ws = new WebSocket(url)

ws.onopen = () => {
  console.log(`connected to ${url}; type a line to say it, Ctrl-D to leave`)
  // Read only once open: send() throws while connecting, and what was typed meanwhile waits in stdin.
  input = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })
  input.on('line', (line) => ws.send(line))
  input.on('close', () => ws.close(1000, 'bye'))
}

ws.onmessage = (event) => {
  const data: unknown = event.data
  if (typeof data === 'string') console.log(data)
  else if (Buffer.isBuffer(data)) console.log(`[binary message, ${data.length} bytes]`)
}

ws.onerror = (event) => console.error(`${url}: ${event.message}`)

ws.onclose = (event) => {
  console.log(`closed with ${event.code}${event.reason ? ` (${event.reason})` : ''}`)
  // Stops reading stdin, so the program can end even when the server was the one to close.
  input?.close()
  if (!event.wasClean) process.exitCode = 1
}
