// The two Socket.IO servers bench/socketio.ts compares, the commands that start them, and where each process runs.
import { join } from 'node:path'
import type { SioServerId } from './sio-options.js'

/** One Socket.IO server under test. */
export interface SioServer {
  id: SioServerId
  label: string
  /** Arguments for `node`. */
  args: string[]
}

/** The cores the server and the load generator are pinned to; null when pinning is unavailable. */
export interface Cores {
  server: number | null
  loadgen: number | null
}

/** Both servers, in table order, the baseline last; `root` is the repository root. */
export function listSioServers(root: string): SioServer[] {
  const peer = (file: string) => join(root, 'dist/bench/sio-peers', file)
  return [
    { id: 'ours', label: 'ours', args: [peer('ours-sio.js')] },
    { id: 'socketio', label: 'socket.io', args: [peer('socketio-sio.js')] },
  ]
}

/** The server every ratio divides by. */
export const baseline = { id: 'socketio', label: 'socket.io' } as const satisfies {
  id: SioServerId
  label: string
}
