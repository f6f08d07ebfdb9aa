// The HTTP long-polling transport of one session (Engine.IO protocol v4 §HTTP long-polling): a GET waits until
// there are packets to carry, a POST brings packets and is answered `ok`; at most one of each at a time.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Packet } from './codec/packet.js'
import { decodePayloadBytes, encodePayload } from './codec/payload.js'
import { EngineErrorCode, EngineIOProtocolError } from './codec/protocol-error.js'
import { answerError, answerText, type ExtraHeaders } from './http-answer.js'

/** Why the transport failed, in the words of the session's close reasons. */
export type PollingFailure = 'transport error' | 'transport close' | 'parse error'

/** What the transport tells its session. */
export interface PollingHandler {
  /** A GET now waits for packets. */
  onPoll(): void
  /** The packets of a POST, in order; false when the session is gone (the POST is answered 400, code 1). */
  onPackets(packets: Packet[]): boolean
  /** The transport failed, and the request at fault is answered already; the session must close. */
  onFailure(reason: PollingFailure, error: EngineIOProtocolError | null): void
}

interface WaitingPoll {
  response: ServerResponse
  headers: ExtraHeaders
}

/** The polling side of a session: holds the waiting GET and reads POST bodies up to `maxPayloadBytes`. */
export class PollingTransport {
  readonly name = 'polling'
  readonly #handler: PollingHandler
  readonly #maxPayloadBytes: number
  #waiting: WaitingPoll | null = null
  #posting = false

  constructor(handler: PollingHandler, maxPayloadBytes: number) {
    this.#handler = handler
    this.#maxPayloadBytes = maxPayloadBytes
  }

  /** Whether a GET is waiting for packets. */
  get waiting(): boolean {
    return this.#waiting !== null
  }

  /** Takes a GET: it waits until `write`, unless one is waiting already, which ends the session. */
  poll(response: ServerResponse, headers: ExtraHeaders): void {
    if (this.#waiting) {
      // §Receiving data: more than one active GET → HTTP 400 and the session is closed.
      return this.#fail(
        response,
        headers,
        'transport error',
        new EngineIOProtocolError(
          'eio-concurrent-poll',
          EngineErrorCode.BadRequest,
          'a GET while another waits',
        ),
      )
    }
    // The client may have given up while an async hook decided on its request.
    if (response.destroyed) return this.#handler.onFailure('transport close', null)
    const waiting: WaitingPoll = { response, headers }
    this.#waiting = waiting
    // A GET that goes away before it is answered is a client that left (or a proxy that gave up on it).
    response.once('close', () => {
      if (this.#waiting !== waiting) return
      this.#waiting = null
      this.#handler.onFailure('transport close', null)
    })
    this.#handler.onPoll()
  }

  /**
   * Answers the waiting GET with these packets; false when no GET waits, or when its connection is gone and
   * its `close` event, which ends the session, is still to come: the packets are not lost silently.
   */
  write(packets: readonly Packet[]): boolean {
    const waiting = this.#waiting
    if (!waiting || waiting.response.destroyed) return false
    this.#waiting = null
    answerText(waiting.response, 200, encodePayload(packets), waiting.headers)
    return true
  }

  /** Takes a POST: reads its body, hands its packets to the session and answers `ok`. */
  post(request: IncomingMessage, response: ServerResponse, headers: ExtraHeaders): void {
    if (this.#posting) {
      // §Sending data: more than one active POST → HTTP 400 and the session is closed.
      const error = new EngineIOProtocolError(
        'eio-concurrent-post',
        EngineErrorCode.BadRequest,
        'a POST while another is being read',
      )
      return this.#fail(response, headers, 'transport error', error, true)
    }
    // Payloads of v4 are always text (binary goes as base64), so a binary body is a v3 client or a mistake.
    if (request.headers['content-type'] === 'application/octet-stream') {
      const error = new EngineIOProtocolError(
        'eio-binary-body',
        EngineErrorCode.BadRequest,
        'protocol v4 payloads are text; binary packets go as base64',
      )
      return this.#fail(response, headers, 'parse error', error, true)
    }
    const declared = Number(request.headers['content-length'])
    if (declared > this.#maxPayloadBytes) return this.#tooLarge(response, headers, declared)
    this.#posting = true
    readBody(request, this.#maxPayloadBytes, (body) => {
      this.#posting = false
      if (body === 'aborted') return this.#handler.onFailure('transport close', null)
      if (body === 'too-large') return this.#tooLarge(response, headers, undefined)
      this.#deliver(body, response, headers)
    })
  }

  #deliver(body: Uint8Array, response: ServerResponse, headers: ExtraHeaders): void {
    const packets = decodePayloadBytes(body)
    if (packets instanceof EngineIOProtocolError) return this.#fail(response, headers, 'parse error', packets)
    if (!this.#handler.onPackets(packets)) {
      const gone = new EngineIOProtocolError(
        'eio-unknown-sid',
        EngineErrorCode.UnknownSid,
        'the session closed',
      )
      return answerError(response, gone, headers)
    }
    answerText(response, 200, 'ok', headers)
  }

  #tooLarge(response: ServerResponse, headers: ExtraHeaders, declared: number | undefined): void {
    const size = declared === undefined ? 'more' : `${declared} bytes`
    const error = new EngineIOProtocolError(
      'eio-payload-too-large',
      EngineErrorCode.BadRequest,
      `a POST body of ${size} than maxPayload (${this.#maxPayloadBytes} bytes)`,
      413,
    )
    // What was sent is lost, so the session cannot go on as if nothing happened.
    this.#fail(response, headers, 'transport error', error, true)
  }

  #fail(
    response: ServerResponse,
    headers: ExtraHeaders,
    reason: PollingFailure,
    error: EngineIOProtocolError,
    unreadBody = false,
  ): void {
    answerError(response, error, headers, unreadBody)
    this.#handler.onFailure(reason, error)
  }
}

type BodyResult = Uint8Array | 'too-large' | 'aborted'

// Reads a request body, stopping as soon as it grows past `maxBytes`: a huge body is never held in memory.
function readBody(request: IncomingMessage, maxBytes: number, done: (result: BodyResult) => void): void {
  const chunks: Buffer[] = []
  let length = 0
  let finished = false
  const finish = (result: BodyResult) => {
    if (finished) return
    finished = true
    request.off('data', onData)
    done(result)
  }
  const onData = (chunk: Buffer) => {
    length += chunk.length
    if (length > maxBytes) {
      chunks.length = 0
      return finish('too-large')
    }
    chunks.push(chunk)
  }
  request.on('data', onData)
  request.once('end', () => finish(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length)))
  request.once('close', () => finish('aborted'))
  request.once('error', () => finish('aborted'))
}
