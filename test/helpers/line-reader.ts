// Reads a stream line by line for tests of the line protocol (TCP, Unix) and of the example programs.
import { EventEmitter, once } from 'node:events'
import type { Readable } from 'node:stream'

/** Splits what a stream carries into lines and hands them out in order; `describe` says what ran, for failures. */
export class LineReader {
  readonly lines: string[] = []
  #read = 0
  #ended = false
  readonly #events = new EventEmitter()
  readonly #describe: (() => string) | undefined

  constructor(stream: Readable, describe?: () => string) {
    this.#describe = describe
    let rest = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n')
      rest = parts.pop() ?? ''
      this.lines.push(...parts)
      this.#events.emit('change')
    })
    stream.on('close', () => {
      // A last line without its newline is still a line the peer sent.
      if (rest !== '') this.lines.push(rest)
      this.#ended = true
      this.#events.emit('change')
    })
  }

  /** The next line not handed out yet. */
  async next(): Promise<string> {
    while (this.#read >= this.lines.length) {
      if (this.#ended) {
        const what = this.#describe?.() ?? `the last lines: ${JSON.stringify(this.lines.slice(-5))}`
        throw new Error(`output ended before the line wanted\n${what}`)
      }
      await once(this.#events, 'change')
    }
    return this.lines[this.#read++]
  }

  /** Skips lines up to the first that matches. */
  async until(pattern: RegExp): Promise<string> {
    for (;;) {
      const line = await this.next()
      if (pattern.test(line)) return line
    }
  }

  /** Every line left, once the stream has closed. */
  async rest(): Promise<string[]> {
    while (!this.#ended) await once(this.#events, 'change')
    const rest = this.lines.slice(this.#read)
    this.#read = this.lines.length
    return rest
  }
}
