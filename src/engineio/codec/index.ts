// The Engine.IO v4 codec: packets, polling payloads and the layer's errors, pure and shareable with a browser.
export { decodeBase64, encodeBase64 } from './base64.js'
export * from './packet.js'
export * from './payload.js'
export * from './protocol-error.js'
