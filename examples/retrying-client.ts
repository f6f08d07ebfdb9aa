// A TCP client that retries `connect` while the server refuses it (not started yet, restarting), waiting longer
// after each failure (exponential backoff, capped), then talks to the upper-case server (tcp-upper-server.ts).
import { connect, type Socket } from 'node:net'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { formatHostPort, readCommandLine, readInteger } from './command-line.js'

const usage = `usage: node dist/examples/retrying-client.js [--port 9090] [--host 127.0.0.1] [--attempts 8]
         [--delay-ms 100] [--max-delay-ms 2000] [--timeout-ms 3000] [words...]

Connects to the upper-case server, retrying while the connection is refused: it waits --delay-ms after the
first failure, twice as long after each next one up to --max-delay-ms, and gives up after --attempts tries.
Then it sends the words as one line (default "hello, server") and prints the answer.`

const { values, positionals } = readCommandLine(usage, {
  port: '9090',
  host: '127.0.0.1',
  attempts: '8',
  'delay-ms': '100',
  'max-delay-ms': '2000',
  'timeout-ms': '3000',
})
const port = readInteger(usage, 'port', values.port, 1, 65535)
const attempts = readInteger(usage, 'attempts', values.attempts, 1, 1000)
const firstDelayMs = readInteger(usage, 'delay-ms', values['delay-ms'], 0, 3_600_000)
const maxDelayMs = readInteger(usage, 'max-delay-ms', values['max-delay-ms'], 0, 3_600_000)
const timeoutMs = readInteger(usage, 'timeout-ms', values['timeout-ms'], 1, 3_600_000)
const line = positionals.join(' ') || 'hello, server'
const target = formatHostPort(values.host, port)

// Worth another try: nobody listening yet (refused), dropped mid-handshake (reset), no answer at all (timed out).
// Anything else, such as a host name that does not resolve, will not fix itself by waiting.
const retriable = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT'])

/** One attempt: the connected socket, or the error it failed with. */
function tryConnect(): Promise<Socket | NodeJS.ErrnoException> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: values.host, timeout: timeoutMs })
    const fail = (error: NodeJS.ErrnoException) => {
      socket.destroy()
      resolve(error)
    }
    socket.once('error', fail)
    socket.once('timeout', () =>
      fail(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
    )
    socket.once('connect', () => {
      socket.off('error', fail)
      socket.removeAllListeners('timeout')
      resolve(socket)
    })
  })
}

/** Tries up to `attempts` times, sleeping between tries; null when it gave up. */
async function connectWithRetry(): Promise<Socket | null> {
  let delayMs = Math.min(firstDelayMs, maxDelayMs)
  for (let attempt = 1; attempt <= attempts; attempt++) {
    console.log(`attempt ${attempt} of ${attempts}: connecting to ${target}`)
    const result = await tryConnect()
    if (!(result instanceof Error)) {
      console.log(`connected on attempt ${attempt}`)
      return result
    }
    if (!retriable.has(result.code ?? '')) {
      console.error(`cannot connect to ${target}: ${result.message}`)
      return null
    }
    if (attempt === attempts) {
      console.log(`attempt ${attempt} failed (${result.code})`)
      break
    }
    // Real clients add random jitter to the delay, so that many clients cut off together do not all come back
    // in the same millisecond; this one keeps exact delays so that what it prints is predictable.
    console.log(`attempt ${attempt} failed (${result.code}); retrying in ${delayMs} ms`)
    await sleep(delayMs)
    delayMs = Math.min(delayMs * 2, maxDelayMs)
  }
  console.error(`giving up after ${attempts} attempts`)
  return null
}

const socket = await connectWithRetry()
if (socket === null) {
  process.exitCode = 1
} else {
  socket.setTimeout(timeoutMs, () => {
    console.error(`no answer within ${timeoutMs} ms`)
    process.exitCode = 1
    socket.destroy()
  })
  const lines = createInterface({ input: socket, crlfDelay: Number.POSITIVE_INFINITY })
  lines.on('line', (answer) => console.log(`received ${JSON.stringify(answer)}`))
  // readline passes the socket's errors on to the interface, so that is where they are caught.
  lines.on('error', (error) => {
    console.error(`connection to ${target} failed: ${error.message}`)
    process.exitCode = 1
  })
  console.log(`sending ${JSON.stringify(line)}`)
  socket.on('close', () => console.log('connection closed'))
  socket.end(`${line}\n`)
}
