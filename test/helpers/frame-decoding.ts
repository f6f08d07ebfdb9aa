// Drives a FrameDecoder over a list of chunks through its public API only.
import {
  type Frame,
  FrameDecoder,
  type FrameDecoderOptions,
  WebSocketProtocolError,
} from '../../src/websocket/codec/index.js'

/** Options for a test decoder: a client reading a server's frames, with generous limits. */
export function decoderOptions(overrides: Partial<FrameDecoderOptions> = {}): FrameDecoderOptions {
  return { role: 'client', maxPayloadBytes: 1 << 20, maxFragments: 1024, compression: false, ...overrides }
}

/** Everything a decoder produced from a stream of chunks. */
export interface Decoded {
  frames: Frame[]
  /** The violation that ended the stream, or null when every byte was acceptable. */
  error: WebSocketProtocolError | null
}

/** Pushes each chunk in turn, stopping at the first violation, and collects the frames before it. */
export function decodeChunks(decoder: FrameDecoder, chunks: readonly Uint8Array[]): Decoded {
  const frames: Frame[] = []
  for (const chunk of chunks) {
    const out = decoder.push(chunk)
    if (out instanceof WebSocketProtocolError) return { frames, error: out }
    frames.push(...out)
    if (decoder.failure !== null) break
  }
  return { frames, error: decoder.failure }
}

/** Decodes chunks with a fresh decoder built from `decoderOptions(overrides)`. */
export function decodeWith(overrides: Partial<FrameDecoderOptions>, ...chunks: Uint8Array[]): Decoded {
  return decodeChunks(new FrameDecoder(decoderOptions(overrides)), chunks)
}
