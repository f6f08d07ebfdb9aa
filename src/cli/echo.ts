// The echo servers of `switchboard echo`: WebSocket echo on any path, and the classic TCP upper-case server.
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net'
import { StringDecoder } from 'node:string_decoder'
import type { WebSocketConnection } from '../websocket/connection.js'
import { WebSocketServer } from '../websocket/server.js'
import { formatAddress } from '../transports/address.js'

/** What `switchboard echo` serves. */
export interface EchoOptions {
  host: string
  /** WebSocket (HTTP) port; 0 picks a free one. */
  port: number
  /** Plain TCP port answering in upper case; undefined for none. */
  tcpPort: number | undefined
  /** Upper-case text messages on the WebSocket too. */
  upper: boolean
  /** Offer permessage-deflate. */
  deflate: boolean
}

/** A running echo server: the URLs it listens on and how to stop it. */
export interface RunningEcho {
  urls: string[]
  close(): Promise<void>
}

/** Starts the echo listeners and resolves once all of them listen. */
export async function startEcho(options: EchoOptions): Promise<RunningEcho> {
  // The engine's own listener: no node:http in the way, so idle connections cost least (bench: idle memory).
  const wss = new WebSocketServer({ perMessageDeflate: options.deflate })
  // One shared listener for every connection (`this` is the connection): no closure per connection.
  const onMessage = options.upper ? echoUpper : echo
  wss.on('connection', (connection) => connection.on('message', onMessage))
  const address = await wss.listen(options.port, options.host)
  const urls = [`listening ${formatAddress('ws', address)}/`]
  let tcp: TcpServer | null = null
  if (options.tcpPort !== undefined) {
    tcp = createTcpServer((socket) => {
      const decoder = new StringDecoder('utf8')
      socket.on('data', (chunk) => socket.write(decoder.write(chunk).toUpperCase()))
      socket.on('error', () => socket.destroy())
    })
    await listen(tcp, options.tcpPort, options.host)
    urls.push(`listening ${formatAddress('tcp', tcp.address())}`)
  }
  return {
    urls,
    async close() {
      tcp?.close()
      await wss.close()
    },
  }
}

function echo(this: WebSocketConnection, data: Buffer, isBinary: boolean): void {
  this.send(data, { binary: isBinary })
}

function echoUpper(this: WebSocketConnection, data: Buffer, isBinary: boolean): void {
  if (isBinary) this.send(data, { binary: true })
  else this.send(data.toString().toUpperCase())
}

function listen(server: TcpServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}
