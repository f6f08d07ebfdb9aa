// A WebSocket peer made of a bare TCP socket, for tests that must see the wire itself: it sends a literal
// upgrade request, writes frame bytes the test spells out, and parses whatever comes back.
import { connect, type Socket } from 'node:net'

/** The Sec-WebSocket-Key of RFC 6455 §1.3, and the Sec-WebSocket-Accept the RFC gives for it. */
export const rfcKey = 'dGhlIHNhbXBsZSBub25jZQ=='
export const rfcAccept = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='

/** The masking key of the RFC 6455 §5.7 examples. */
const rfcMask = [0x37, 0xfa, 0x21, 0x3d]

/** An HTTP answer to the upgrade request; header names are lower-cased. */
export interface HttpAnswer {
  status: number
  headers: Record<string, string>
  body: string
}

/** A frame as it arrived, with the byte offset (after the HTTP answer) at which it began. */
export interface WireFrame {
  fin: boolean
  rsv1: boolean
  opcode: number
  masked: boolean
  payload: Buffer
  offset: number
}

/** What to put in the upgrade request; a header set to null is left out. */
export interface UpgradeRequest {
  method?: string
  path?: string
  headers?: Record<string, string | null>
  /** Bytes sent in the same TCP write as the request, right after it. */
  followedBy?: Uint8Array
}

/**
 * A frame built by hand, as a client sends it: `firstByte` is the literal FIN/RSV/opcode byte, then the
 * MASK bit with the length (7, 16 or 64 bits), the key, and the payload XORed with the key (§5.2, §5.3).
 */
export function masked(firstByte: number, payload: Uint8Array | string = '', key = rfcMask): Buffer {
  const body = Buffer.from(payload)
  const out = Buffer.concat([lengthHeader(firstByte, body.length, 0x80), Buffer.from(key), body])
  const start = out.length - body.length
  for (let i = 0; i < body.length; i++) out[start + i] ^= key[i % 4]
  return out
}

/** A frame built by hand without a mask, as a server sends it. */
export function unmasked(firstByte: number, payload: Uint8Array | string = ''): Buffer {
  const body = Buffer.from(payload)
  return Buffer.concat([lengthHeader(firstByte, body.length, 0), body])
}

function lengthHeader(firstByte: number, length: number, maskBit: number): Buffer {
  if (length < 126) return Buffer.from([firstByte, maskBit | length])
  if (length < 0x10000) return Buffer.from([firstByte, maskBit | 126, length >> 8, length & 0xff])
  const header = Buffer.alloc(10)
  header[0] = firstByte
  header[1] = maskBit | 127
  header.writeBigUInt64BE(BigInt(length), 2)
  return header
}

/** A close frame's payload as a code and a reason; code 1005 for an empty body. */
export function closeBody(frame: WireFrame): { code: number; reason: string } {
  if (frame.payload.length < 2) return { code: 1005, reason: '' }
  return { code: frame.payload.readUInt16BE(0), reason: frame.payload.subarray(2).toString() }
}

/** The text of an upgrade request to 127.0.0.1:`port` with the RFC's key and version 13. */
export function formatUpgradeRequest(port: number, request: UpgradeRequest = {}): string {
  const headers: Record<string, string | null> = {
    Host: `127.0.0.1:${port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': rfcKey,
    'Sec-WebSocket-Version': '13',
    ...request.headers,
  }
  let text = `${request.method ?? 'GET'} ${request.path ?? '/'} HTTP/1.1\r\n`
  for (const [name, value] of Object.entries(headers)) if (value !== null) text += `${name}: ${value}\r\n`
  return `${text}\r\n`
}

type Waiter = { resolve: (frame: WireFrame) => void; reject: (error: Error) => void }

/** One raw connection; `answer` holds the server's HTTP answer, and after a 101 the socket carries frames. */
export class RawSocket {
  readonly socket: Socket
  answer: HttpAnswer = { status: 0, headers: {}, body: '' }
  /** Bytes of frames received so far (everything after the HTTP answer). */
  bytesReceived = 0
  /** The socket error, if there was one (a reset, usually). */
  error: Error | null = null
  #chunks: Buffer[] = []
  #chunkBytes = 0
  #frameOffset = 0
  #frames: WireFrame[] = []
  #waiters: Waiter[] = []
  #ended: Promise<void>
  #closed: Promise<void>
  #isClosed = false

  private constructor(socket: Socket) {
    this.socket = socket
    socket.on('error', (error) => {
      this.error = error
    })
    this.#ended = new Promise((resolve) => socket.once('end', resolve))
    this.#closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#isClosed = true
        for (const waiter of this.#waiters.splice(0)) {
          waiter.reject(new Error('the connection closed before another frame arrived'))
        }
        resolve()
      }),
    )
  }

  /** Connects, sends the upgrade request and resolves once the HTTP answer (head and body) is in. */
  static async connect(port: number, request: UpgradeRequest = {}): Promise<RawSocket> {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true })
    const raw = new RawSocket(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const text = Buffer.from(formatUpgradeRequest(port, request))
    socket.write(request.followedBy ? Buffer.concat([text, request.followedBy]) : text)
    try {
      await raw.#readAnswer()
    } catch (error) {
      socket.destroy()
      throw error
    }
    return raw
  }

  /** Writes bytes exactly as given. */
  write(bytes: Uint8Array): void {
    this.socket.write(bytes)
  }

  /** The next frame from the server; rejects if TCP closes first. */
  nextFrame(): Promise<WireFrame> {
    const frame = this.#frames.shift()
    if (frame) return Promise.resolve(frame)
    if (this.#isClosed) return Promise.reject(new Error('the connection is closed'))
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  /** The next frame that is not a ping or pong (the server's keepalive may come in between). */
  async nextDataOrClose(): Promise<WireFrame> {
    for (;;) {
      const frame = await this.nextFrame()
      if (frame.opcode !== 0x9 && frame.opcode !== 0xa) return frame
    }
  }

  /** Frames already received and not yet taken, without waiting. */
  takeReceived(): WireFrame[] {
    return this.#frames.splice(0)
  }

  /** Resolves when the server has ended its side (its TCP FIN arrived). */
  ended(): Promise<void> {
    return this.#ended
  }

  /** Resolves when the TCP connection is closed in both directions. */
  closed(): Promise<void> {
    return this.#closed
  }

  /** Stops reading, so the server's writes back up in the kernel and then in its own queue. */
  pause(): void {
    this.socket.pause()
  }

  /** Reads again after `pause`. */
  resume(): void {
    this.socket.resume()
  }

  /** Drops the TCP connection at once. */
  destroy(): void {
    this.socket.destroy()
  }

  async #readAnswer(): Promise<void> {
    const socket = this.socket
    let head = Buffer.alloc(0)
    let end = -1
    while (end === -1) {
      const chunk = await nextChunk(socket)
      if (chunk === null) throw new Error('the connection closed before an HTTP answer')
      head = Buffer.concat([head, chunk])
      end = head.indexOf('\r\n\r\n')
    }
    const [statusLine, ...lines] = head.subarray(0, end).toString('latin1').split('\r\n')
    this.answer.status = Number(statusLine.split(' ')[1])
    for (const line of lines) {
      const colon = line.indexOf(':')
      this.answer.headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    let rest = head.subarray(end + 4)
    if (this.answer.status === 101) {
      socket.on('data', (chunk: Buffer) => this.#onData(chunk))
      if (rest.length > 0) this.#onData(rest)
      return
    }
    const chunked = this.answer.headers['transfer-encoding'] === 'chunked'
    const length = Number(this.answer.headers['content-length'] ?? Number.POSITIVE_INFINITY)
    while (chunked ? !rest.toString('latin1').endsWith('0\r\n\r\n') : rest.length < length) {
      const chunk = await nextChunk(socket)
      if (chunk === null) break
      rest = Buffer.concat([rest, chunk])
    }
    this.answer.body = chunked ? decodeChunked(rest) : rest.toString()
    socket.resume()
  }

  #onData(chunk: Buffer): void {
    this.#chunks.push(chunk)
    this.#chunkBytes += chunk.length
    this.bytesReceived += chunk.length
    for (let frame = this.#parseFrame(); frame !== null; frame = this.#parseFrame()) {
      const waiter = this.#waiters.shift()
      if (waiter) waiter.resolve(frame)
      else this.#frames.push(frame)
    }
  }

  #parseFrame(): WireFrame | null {
    if (this.#chunkBytes < 2) return null
    const start = this.#peek(Math.min(this.#chunkBytes, 14))
    const length7 = start[1] & 0x7f
    const isMasked = (start[1] & 0x80) !== 0
    const headerBytes = 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (isMasked ? 4 : 0)
    if (start.length < headerBytes) return null
    const length =
      length7 === 126 ? start.readUInt16BE(2) : length7 === 127 ? Number(start.readBigUInt64BE(2)) : length7
    if (this.#chunkBytes < headerBytes + length) return null
    const bytes = this.#take(headerBytes + length)
    const payload = Buffer.from(bytes.subarray(headerBytes))
    if (isMasked) {
      const key = bytes.subarray(headerBytes - 4, headerBytes)
      for (let i = 0; i < payload.length; i++) payload[i] ^= key[i % 4]
    }
    const offset = this.#frameOffset
    this.#frameOffset += bytes.length
    return {
      fin: (start[0] & 0x80) !== 0,
      rsv1: (start[0] & 0x40) !== 0,
      opcode: start[0] & 0x0f,
      masked: isMasked,
      payload,
      offset,
    }
  }

  #peek(count: number): Buffer {
    if (this.#chunks[0].length >= count) return this.#chunks[0].subarray(0, count)
    return Buffer.concat(this.#chunks).subarray(0, count)
  }

  #take(count: number): Buffer {
    const parts: Buffer[] = []
    let need = count
    while (need > 0) {
      const first = this.#chunks[0]
      if (first.length <= need) {
        parts.push(first)
        this.#chunks.shift()
        need -= first.length
      } else {
        parts.push(first.subarray(0, need))
        this.#chunks[0] = first.subarray(need)
        need = 0
      }
    }
    this.#chunkBytes -= count
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, count)
  }
}

// The next chunk read from a paused socket, or null at its end.
function nextChunk(socket: Socket): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const onReadable = () => {
      const chunk: Buffer | null = socket.read()
      if (chunk === null) return
      cleanup()
      resolve(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve(null)
    }
    const cleanup = () => {
      socket.off('readable', onReadable)
      socket.off('end', onEnd)
      socket.off('close', onEnd)
    }
    socket.on('readable', onReadable)
    socket.once('end', onEnd)
    socket.once('close', onEnd)
    onReadable()
  })
}

// A chunked HTTP body (RFC 9112 §7.1) joined back together; chunk extensions and trailers are not expected.
function decodeChunked(bytes: Buffer): string {
  const parts: Buffer[] = []
  let pos = 0
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', pos)
    const size = Number.parseInt(bytes.subarray(pos, lineEnd).toString('latin1'), 16)
    if (!(size > 0)) return Buffer.concat(parts).toString()
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size))
    pos = lineEnd + 2 + size + 2
  }
}
