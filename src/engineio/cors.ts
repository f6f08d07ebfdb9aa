// Cross-origin access to the polling transport (the Fetch standard's CORS protocol): which browser origins may
// use the server, the headers that let them read our answers, and preflight (OPTIONS) answers.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { debuglog } from 'node:util'
import type { ExtraHeaders } from './http-answer.js'
import { type CorsOptions, engineDefaults } from './options.js'

const log = debuglog('switchboard:eio')

/** Decides on origins and writes the CORS headers, following `CorsOptions`. */
export class CorsPolicy {
  readonly #options: CorsOptions | undefined
  readonly #origins: ReadonlySet<string> | null

  constructor(options: CorsOptions | undefined) {
    this.#options = options
    this.#origins = Array.isArray(options?.origin) ? new Set(options.origin) : null
  }

  /** Whether a browser from `origin` may use the server; with no CORS options every origin may. Never rejects. */
  allows(origin: string, request: IncomingMessage): boolean | Promise<boolean> {
    const rule = this.#options?.origin
    if (rule === undefined || rule === '*') return true
    if (this.#origins) return this.#origins.has(origin)
    if (typeof rule !== 'function') return false
    try {
      const verdict = rule(origin, request)
      if (typeof verdict === 'boolean') return verdict
      return verdict.then(
        (allowed) => allowed === true,
        (error: unknown) => {
          log('cors origin hook failed: %s', error)
          return false
        },
      )
    } catch (error) {
      log('cors origin hook failed: %s', error)
      return false
    }
  }

  /** The headers that let a browser from an allowed `origin` read our answers; none without CORS options. */
  headersFor(origin: string): ExtraHeaders {
    if (!this.#options) return {}
    // The origin is echoed rather than '*', which browsers refuse on credentialed requests.
    const headers: Record<string, string> = { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' }
    if (this.#options.credentials) headers['Access-Control-Allow-Credentials'] = 'true'
    return headers
  }

  /** Answers a preflight with 204: the methods and requested headers allowed, and how long to cache that. */
  answerPreflight(request: IncomingMessage, response: ServerResponse, headers: ExtraHeaders): void {
    const answer: Record<string, string> = { ...headers, 'Content-Length': '0' }
    if (this.#options && headers['Access-Control-Allow-Origin'] !== undefined) {
      answer['Access-Control-Allow-Methods'] = 'GET, POST, OPTIONS'
      const requested = request.headers['access-control-request-headers']
      if (requested) answer['Access-Control-Allow-Headers'] = requested
      answer['Access-Control-Max-Age'] = String(
        this.#options.maxAgeSeconds ?? engineDefaults.corsMaxAgeSeconds,
      )
    }
    response.writeHead(204, answer)
    response.end()
  }
}
