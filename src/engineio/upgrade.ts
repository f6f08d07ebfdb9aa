// The upgrade from polling to WebSocket (Engine.IO protocol v4 §Upgrade): on the new WebSocket the client
// sends the probe `2probe`, we answer `3probe`, and its upgrade packet `5` makes the WebSocket the transport.
import { CloseCode } from '../websocket/codec/close-code.js'
import type { WebSocketConnection } from '../websocket/connection.js'
import { encodePacket, type Packet } from './codec/packet.js'

/** What a probe asks of its session. */
export interface ProbeHandler {
  /** The client probed: pause polling. False when the session can no longer be upgraded. */
  onProbe(): boolean
  /** The client sent `5`: the connection is the session's transport from now on. */
  onUpgrade(connection: WebSocketConnection): boolean
  /** The probe failed or timed out; polling goes on. */
  onAbort(): void
}

const probePing = '2probe'
const probePong = '3probe'
const upgradePacket = '5'

/**
 * Runs the probe on a freshly opened WebSocket of a polling session. Anything other than the probe and then
 * the upgrade packet, or no upgrade packet within `timeoutMs` of the connection, drops the WebSocket.
 */
export class UpgradeProbe {
  readonly #connection: WebSocketConnection
  readonly #handler: ProbeHandler
  readonly #timer: NodeJS.Timeout
  #probed = false
  #done = false

  constructor(connection: WebSocketConnection, timeoutMs: number, handler: ProbeHandler) {
    this.#connection = connection
    this.#handler = handler
    this.#timer = setTimeout(() => this.#fail(CloseCode.Normal, 'upgrade timeout'), timeoutMs)
    connection.on('message', this.#onMessage)
    connection.on('close', this.#onClose)
  }

  /**
   * Drops the probing WebSocket, e.g. because the session closed, after sending it `last` (the close packet of
   * a session closed mid-upgrade: polling is paused then, so this WebSocket is the only way to the client).
   */
  cancel(last: readonly Packet[] = []): void {
    if (this.#done) return
    if (this.#connection.state === 'open') {
      for (const packet of last) {
        const wire = encodePacket(packet)
        this.#connection.send(wire, { binary: typeof wire !== 'string' })
      }
    }
    this.#fail(CloseCode.GoingAway, 'session closed', false)
  }

  readonly #onMessage = (data: Buffer, isBinary: boolean): void => {
    const text = isBinary ? null : data.toString('utf8')
    if (text === probePing && !this.#probed) {
      if (!this.#handler.onProbe())
        return this.#fail(CloseCode.PolicyViolation, 'session not upgradable', false)
      this.#probed = true
      this.#connection.send(probePong)
      return
    }
    if (text === upgradePacket && this.#probed) {
      this.#finish()
      if (!this.#handler.onUpgrade(this.#connection)) this.#connection.close(CloseCode.PolicyViolation)
      return
    }
    this.#fail(CloseCode.ProtocolError, 'expected the probe, then the upgrade packet')
  }

  readonly #onClose = (): void => {
    if (this.#done) return
    this.#finish()
    this.#handler.onAbort()
  }

  #finish(): void {
    this.#done = true
    clearTimeout(this.#timer)
    this.#connection.off('message', this.#onMessage)
    this.#connection.off('close', this.#onClose)
  }

  #fail(code: number, reason: string, tellSession = true): void {
    if (this.#done) return
    this.#finish()
    if (this.#connection.state === 'open') this.#connection.close(code, reason)
    if (tellSession) this.#handler.onAbort()
  }
}
