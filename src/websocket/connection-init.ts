// What a connection is built from: the negotiated parameters, and the factories that turn them into the
// receiving and sending halves once each is first needed.
import { isUtf8 } from 'node:buffer'
import type { Socket } from 'node:net'
import { typeError } from '../errors.js'
import type { DeflateParams } from './codec/deflate-offer.js'
import { Inbound, type InboundHandler } from './inbound.js'
import { MessageDeflater, MessageInflater } from './inflate.js'
import type { ConnectionSettings } from './options.js'
import { Outbound, type OutboundHandler } from './outbound.js'
import { type MaskSource, SendQueue } from './send-queue.js'
import { unmaskInPlace } from './simd-unmask.js'

/** How a connection was negotiated; connections negotiated alike may share one (the server caches them). */
export interface ConnectionInit<T = unknown> {
  role: 'server' | 'client'
  settings: ConnectionSettings
  protocol: string
  extensions: string
  deflate: { params: DeflateParams; thresholdBytes: number; level: number } | null
  nextMask: MaskSource | null
  /** A set the connection leaves when it closes (the server's `clients`). */
  registry?: Set<T>
}

/** The receiving half, with an inflater when permessage-deflate was negotiated. */
export function createInbound<T>(owner: T, handler: InboundHandler<T>, init: ConnectionInit<T>): Inbound<T> {
  const { role, settings, deflate } = init
  const decoder = {
    role,
    maxPayloadBytes: settings.maxPayloadBytes,
    maxFragments: settings.maxFragments,
    compression: deflate !== null,
    utf8Check: isUtf8,
    allocate: Buffer.allocUnsafe,
    unmask: unmaskInPlace,
  }
  // We inflate what the other side compressed, so its context-takeover setting applies.
  const theirs = role === 'server' ? 'client' : 'server'
  const inflater = deflate && new MessageInflater(deflate.params[`${theirs}NoContextTakeover`])
  return new Inbound(owner, handler, decoder, inflater)
}

/** The sending half, with a deflater when permessage-deflate was negotiated. */
export function createOutbound<T>(
  owner: T,
  handler: OutboundHandler<T>,
  init: ConnectionInit<T>,
  socket: Socket,
): Outbound<T> {
  const { role, settings, deflate, nextMask } = init
  const ours = role === 'server' ? 'server' : 'client'
  const deflater =
    deflate &&
    new MessageDeflater(
      deflate.params[`${ours}MaxWindowBits`],
      deflate.params[`${ours}NoContextTakeover`],
      deflate.level,
    )
  const outboundDeflate = deflater && { deflater, thresholdBytes: deflate?.thresholdBytes ?? 0 }
  return new Outbound(owner, handler, new SendQueue(socket, nextMask), outboundDeflate, settings)
}

/** The bytes of what `send` was given: strings as UTF-8, binary data as a view without copying. */
export function toPayload(data: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data)
  if (data instanceof Uint8Array) return data
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) {
    const view = data as ArrayBufferView
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
  }
  throw typeError('ws-send-type', 'send takes a string, an ArrayBuffer or a typed array')
}
