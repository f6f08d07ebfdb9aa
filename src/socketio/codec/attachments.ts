// Joins a text packet to the binary messages after it: PacketDecoder, and the walk that finds each
// `{"_placeholder":true,"num":N}` and puts attachment N in its place (Socket.IO protocol v5, "Packet encoding").
import { rangeError } from '../../errors.js'
import { type Packet, type ParsedPacket, parsePacket, SocketIOProtocolError, toBytes } from './packet.js'

/** Limits of a `PacketDecoder`. */
export interface PacketDecoderOptions {
  /** Most binary attachments one packet may declare; 0 refuses binary packets. @default 10 */
  maxAttachments: number
  /** Deepest nesting of arrays and objects in a payload, the outermost counting as 1. @default 64 */
  maxDepth: number
}

/** Defaults of every `PacketDecoder` limit. */
export const packetDecoderDefaults = {
  // The official parser's default, so a client that works against socket.io works here.
  maxAttachments: 10,
  // Far deeper than any event payload we have seen; bounds the work of a hostile `[[[[…`.
  maxDepth: 64,
} as const satisfies PacketDecoderOptions

// A place in a decoded payload where attachment `num` goes once it has arrived.
interface AttachmentSlot {
  readonly holder: object
  readonly key: string
  readonly num: number
}

/*
 * Walks a decoded payload once: checks that arrays and objects nest at most `maxDepth` deep and, in a packet
 * that declared `attachments` (> 0), finds every placeholder and checks its index. A placeholder stands for
 * bytes, a leaf, so it adds no depth. The walk is iterative: a hostile `[[[[…` cannot exhaust the stack.
 */
function inspectPayload(
  payload: unknown,
  attachments: number,
  maxDepth: number,
): AttachmentSlot[] | SocketIOProtocolError {
  const slots: AttachmentSlot[] = []
  const nodes: object[] = []
  const depths: number[] = []
  // Returns a problem, or queues the child for its own visit.
  const visit = (holder: object, key: string, child: object, depth: number) => {
    if (attachments > 0 && isPlaceholder(child)) {
      const num = (child as { num?: unknown }).num
      if (typeof num !== 'number' || !Number.isInteger(num) || num < 0 || num >= attachments) {
        const detail = `placeholder num ${JSON.stringify(num) ?? 'missing'} is not an index below ${attachments}`
        return new SocketIOProtocolError('sio-invalid-placeholder', detail)
      }
      slots.push({ holder, key, num })
      return undefined
    }
    if (depth > maxDepth) {
      return new SocketIOProtocolError(
        'sio-payload-too-deep',
        `the payload nests deeper than ${maxDepth} levels`,
      )
    }
    nodes.push(child)
    depths.push(depth)
    return undefined
  }
  if (payload === null || typeof payload !== 'object') return slots
  // The outermost array or object is level 1; maxDepth is at least 1 (checked by PacketDecoder's options).
  nodes.push(payload)
  depths.push(1)
  while (nodes.length > 0) {
    const node = nodes.pop()!
    const depth = depths.pop()! + 1
    if (Array.isArray(node)) {
      for (let index = 0; index < node.length; index++) {
        const child: unknown = node[index]
        if (child === null || typeof child !== 'object') continue
        const problem = visit(node, String(index), child, depth)
        if (problem) return problem
      }
      continue
    }
    for (const key of Object.keys(node)) {
      const child = (node as Record<string, unknown>)[key]
      if (child === null || typeof child !== 'object') continue
      const problem = visit(node, key, child, depth)
      if (problem) return problem
    }
  }
  return slots
}

function isPlaceholder(value: object): boolean {
  return !Array.isArray(value) && (value as { _placeholder?: unknown })._placeholder === true
}

// Puts each attachment where its placeholders were.
function fillAttachments(slots: readonly AttachmentSlot[], attachments: readonly Uint8Array[]): void {
  for (const { holder, key, num } of slots) {
    // defineProperty, not assignment: a placeholder under the key "__proto__" must stay an own property
    // rather than replace the object's prototype.
    Object.defineProperty(holder, key, {
      value: attachments[num],
      writable: true,
      enumerable: true,
      configurable: true,
    })
  }
}

/*
 * PacketDecoder states:
 *
 *   idle ──text of a binary packet──► collecting ──last attachment──► idle (yields the packet)
 *    │ ▲                                  │
 *    └─┘ text packet (yields it)          └─ text, or any violation ──► failed (for good)
 */

interface PendingPacket {
  parsed: ParsedPacket
  slots: AttachmentSlot[]
  received: Uint8Array[]
}

/**
 * Turns the messages of one Engine.IO session into Socket.IO packets: a text packet, and after a binary
 * one exactly as many binary messages as it declared. The first violation is final: the owner closes the
 * session, as the protocol says, and every later `push` returns the same error.
 */
export class PacketDecoder {
  readonly #options: PacketDecoderOptions
  #pending: PendingPacket | undefined
  // Attachments declared by the binary packet completed last, to tell one too many from a stray one.
  #lastDeclared = 0
  #failure: SocketIOProtocolError | undefined

  constructor(options: Partial<PacketDecoderOptions> = {}) {
    const merged = { ...packetDecoderDefaults, ...options }
    if (!Number.isSafeInteger(merged.maxAttachments) || merged.maxAttachments < 0) {
      throw rangeError(
        'sio-invalid-option',
        `maxAttachments must be an integer >= 0, not ${merged.maxAttachments}`,
      )
    }
    if (!Number.isSafeInteger(merged.maxDepth) || merged.maxDepth < 1) {
      throw rangeError('sio-invalid-option', `maxDepth must be an integer >= 1, not ${merged.maxDepth}`)
    }
    this.#options = merged
  }

  /** Binary messages still due for the packet being assembled; 0 when none is pending. */
  get awaitingAttachments(): number {
    return this.#pending ? this.#pending.parsed.attachments - this.#pending.received.length : 0
  }

  /** The violation that stopped this decoder, if any. */
  get failure(): SocketIOProtocolError | undefined {
    return this.#failure
  }

  /**
   * Feeds one Engine.IO message: a string is a text packet, bytes are an attachment. Returns the completed
   * packet, `null` while attachments are still due, or the violation.
   */
  push(message: string | Uint8Array | ArrayBuffer): Packet | null | SocketIOProtocolError {
    if (this.#failure) return this.#failure
    const out = typeof message === 'string' ? this.#readText(message) : this.#readAttachment(message)
    if (out instanceof SocketIOProtocolError) {
      this.#failure = out
      this.#pending = undefined
    }
    return out
  }

  #readText(text: string): Packet | null | SocketIOProtocolError {
    if (this.#pending) {
      const { parsed, received } = this.#pending
      const detail = `a text packet came with ${received.length} of the ${parsed.attachments} attachments due`
      return new SocketIOProtocolError('sio-missing-attachments', detail)
    }
    this.#lastDeclared = 0
    const parsed = parsePacket(text, this.#options.maxAttachments)
    if (parsed instanceof SocketIOProtocolError) return parsed
    const data = 'data' in parsed.packet ? parsed.packet.data : undefined
    const slots = inspectPayload(data, parsed.attachments, this.#options.maxDepth)
    if (slots instanceof SocketIOProtocolError) return slots
    if (parsed.attachments === 0) return parsed.packet
    this.#pending = { parsed, slots, received: [] }
    return null
  }

  #readAttachment(message: Uint8Array | ArrayBuffer): Packet | null | SocketIOProtocolError {
    if (!this.#pending) {
      return this.#lastDeclared > 0
        ? new SocketIOProtocolError(
            'sio-extra-attachment',
            `an attachment after the ${this.#lastDeclared} declared`,
          )
        : new SocketIOProtocolError(
            'sio-unexpected-attachment',
            'an attachment with no binary packet before it',
          )
    }
    const { parsed, slots, received } = this.#pending
    // toBytes never fails on the two types push accepts.
    received.push(toBytes(message)!)
    if (received.length < parsed.attachments) return null
    this.#pending = undefined
    this.#lastDeclared = parsed.attachments
    fillAttachments(slots, received)
    return parsed.packet
  }
}
