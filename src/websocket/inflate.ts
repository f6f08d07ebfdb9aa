// permessage-deflate on the Node side (RFC 7692 §7.2): zlib streams per connection, off the event loop
// (zlib's thread pool), with the inflated size bounded so a small frame cannot become a huge message.
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib'
import { CloseCode } from './codec/close-code.js'
import { WebSocketProtocolError } from './codec/protocol-error.js'
import type { Utf8Validator } from './codec/utf8.js'

// §7.2.1: the sender strips this empty stored block from every message and the receiver puts it back.
const tail = Buffer.from([0x00, 0x00, 0xff, 0xff])

/** Decompresses the messages of one connection, in order. */
export class MessageInflater {
  // zlib's state is tens of KiB, so it is made for the first compressed message, not the connection.
  #stream: InflateRaw | null = null
  readonly #noContextTakeover: boolean
  #busy = false

  constructor(noContextTakeover: boolean) {
    this.#noContextTakeover = noContextTakeover
  }

  /**
   * Inflates one message from its compressed fragments. Fails with 1009 past `maxBytes`, and with 1007
   * as soon as text stops being UTF-8 when a `utf8` validator is given.
   */
  inflate(
    fragments: readonly Uint8Array[],
    maxBytes: number,
    utf8: Utf8Validator | null,
  ): Promise<Buffer | WebSocketProtocolError> {
    if (this.#busy) throw new Error('inflate called while another message is being inflated')
    this.#busy = true
    // Inflating with the largest window is always safe whatever window the peer compressed with.
    this.#stream ??= createInflateRaw({ windowBits: 15 })
    const zlib = this.#stream
    return new Promise((resolve) => {
      const out: Buffer[] = []
      let total = 0
      let failure: WebSocketProtocolError | null = null
      const onData = (chunk: Buffer) => {
        if (failure) return
        total += chunk.length
        if (total > maxBytes) {
          failure = new WebSocketProtocolError(
            'ws-message-too-big',
            CloseCode.MessageTooBig,
            `a message inflating past ${maxBytes} bytes`,
          )
          // Stop inflating at once: the rest of a bomb is never produced.
          zlib.pause()
          finish()
          return
        }
        if (utf8 && !utf8.push(chunk)) {
          failure = new WebSocketProtocolError(
            'ws-invalid-utf8',
            CloseCode.InvalidPayload,
            'a compressed text message that is not UTF-8',
          )
        }
        out.push(chunk)
      }
      const onError = (error: Error) => {
        failure ??= new WebSocketProtocolError(
          'ws-inflate-failed',
          CloseCode.InvalidPayload,
          `inflate failed: ${error.message}`,
        )
        finish()
      }
      let finished = false
      const finish = () => {
        if (finished) return
        finished = true
        zlib.off('data', onData)
        zlib.off('error', onError)
        this.#busy = false
        if (failure) return resolve(failure)
        if (this.#noContextTakeover) zlib.reset()
        resolve(out.length === 1 ? out[0] : Buffer.concat(out, total))
      }
      zlib.on('data', onData)
      zlib.on('error', onError)
      for (const fragment of fragments) zlib.write(fragment)
      zlib.write(tail)
      zlib.flush(constants.Z_SYNC_FLUSH, finish)
    })
  }

  /** Frees zlib's memory. */
  close(): void {
    this.#stream?.close()
  }
}

/** Compresses the messages of one connection, in order. */
export class MessageDeflater {
  #stream: DeflateRaw | null = null
  readonly #windowBits: number
  readonly #level: number
  readonly #noContextTakeover: boolean

  constructor(windowBits: number, noContextTakeover: boolean, level: number) {
    this.#windowBits = windowBits
    this.#level = level
    this.#noContextTakeover = noContextTakeover
  }

  /** Compresses one whole message; the caller sends it in a frame with RSV1 set. */
  deflate(data: Uint8Array): Promise<Buffer> {
    this.#stream ??= createDeflateRaw({ windowBits: this.#windowBits, level: this.#level, memLevel: 8 })
    const zlib = this.#stream
    return new Promise((resolve, reject) => {
      const out: Buffer[] = []
      const onData = (chunk: Buffer) => out.push(chunk)
      zlib.on('data', onData)
      zlib.once('error', reject)
      zlib.write(data)
      zlib.flush(constants.Z_SYNC_FLUSH, () => {
        zlib.off('data', onData)
        zlib.off('error', reject)
        let result = out.length === 1 ? out[0] : Buffer.concat(out)
        if (result.length >= 4 && result.subarray(-4).equals(tail)) result = result.subarray(0, -4)
        if (this.#noContextTakeover) zlib.reset()
        resolve(result)
      })
    })
  }

  /** Frees zlib's memory. */
  close(): void {
    this.#stream?.close()
  }
}
