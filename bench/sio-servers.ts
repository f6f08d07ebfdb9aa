// The two Socket.IO servers bench/socketio.ts compares, and the commands that start them.
import { join } from 'node:path'
import type { ServerUnderTest } from './server-process.js'
import type { SioServerId } from './sio-options.js'

/** One Socket.IO server under test. */
export type SioServer = ServerUnderTest<SioServerId>

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
