// The Unix domain socket line transport: `nc -U ./switchboard.sock` joins the hub's lobby. The socket file
// is removed on close; one left by a crash is replaced; one a live server accepts on is never taken over.
import { lstat, unlink } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { SwitchboardError } from '../errors.js'
import type { Hub } from '../hub/hub.js'
import type { ConnectionGate } from './connection-gate.js'
import type { Listener } from './listener.js'
import type { LineOptions } from './line-options.js'
import { LineServer, lineListener, listen } from './line-server.js'

/** Where the Unix transport listens. */
export interface UnixSettings {
  /** Path of the socket file, relative to the working directory or absolute. @default './switchboard.sock' */
  path: string
}

/** The Unix transport's defaults. */
export const unixDefaults: UnixSettings = { path: './switchboard.sock' }

/** How `startUnix` is set up: where, the line settings, and the gate shared with other transports. */
export type UnixOptions = Partial<UnixSettings & LineOptions> & { gate?: ConnectionGate }

let peerCount = 0

/**
 * Starts the Unix socket line transport; resolves once listening, with the URL to print
 * (`unix://./switchboard.sock`). Fails with `unix-socket-in-use` when a server answers on `path`, and
 * with `unix-path-not-socket` when `path` is some other kind of file.
 */
export async function startUnix(hub: Hub, options: UnixOptions = {}): Promise<Listener> {
  const { path = unixDefaults.path, gate, ...lineOptions } = options
  const lines = new LineServer(hub, { transport: 'unix', options: lineOptions, gate })
  await removeStaleSocket(path)
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    // A Unix peer has no address: the file's permissions decide who connects, and only the total is limited.
    lines.accept(socket, 'unix', `unix#${++peerCount}`)
  })
  await listen(server, { path })
  const { ino } = await lstat(path)
  return lineListener(server, lines, `unix://${path}`, () => removeOwnSocket(path, ino))
}

/** Unlinks a socket file nobody accepts on (a crash left it); refuses to touch a live one or a non-socket. */
async function removeStaleSocket(path: string): Promise<void> {
  const stats = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null
    throw error
  })
  if (stats === null) return
  if (!stats.isSocket()) {
    throw new SwitchboardError('unix-path-not-socket', `${path} exists and is not a socket; not replacing it`)
  }
  if (await isAnswering(path)) {
    throw new SwitchboardError(
      'unix-socket-in-use',
      `a server is already listening on ${path}; stop it or choose another path`,
    )
  }
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error
  })
}

/** Whether someone accepts connections on the socket file: refused means stale; a full backlog means live. */
function isAnswering(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = connect(path)
    probe.once('connect', () => {
      probe.destroy()
      resolve(true)
    })
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolve(false)
      else if (error.code === 'EAGAIN') resolve(true)
      else reject(error)
    })
  })
}

/** Removes the socket file if it is still the one we made (libuv usually has already). */
async function removeOwnSocket(path: string, ino: number): Promise<void> {
  const stats = await lstat(path).catch(() => null)
  if (stats === null || stats.ino !== ino) return
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error
  })
}
