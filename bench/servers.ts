// The servers the echo benchmark compares, and the commands that start them.
import { existsSync } from 'node:fs'
import { join } from 'node:path'

/** One server under test, in one compression setting. */
export interface ServerSpec {
  /** `ours`, `ours-deflate`, `ws`, `ws-deflate` or `net`; `--only` takes ids or families. */
  id: string
  family: 'ours' | 'ws' | 'net'
  label: string
  deflate: boolean
  /** The load generator's wire format: WebSocket, or 4-byte length prefixes. */
  mode: 'ws' | 'raw'
  /** Arguments for `node`. */
  args: string[]
}

/** Where our CLI lands after `npm run build`, relative to the repository root. */
export const oursEntry = 'dist/src/cli/main.js'

/** Every server, in table order; `root` is the repository root. */
export function listServers(root: string): ServerSpec[] {
  const ours = join(root, oursEntry)
  const wsEcho = join(root, 'dist/bench/peers/ws-echo.js')
  const netEcho = join(root, 'dist/bench/peers/net-echo.js')
  const echo = ['echo', '--port', '0']
  return [
    { id: 'ours', family: 'ours', label: 'ours', deflate: false, mode: 'ws', args: [ours, ...echo] },
    {
      id: 'ours-deflate',
      family: 'ours',
      label: 'ours+deflate',
      deflate: true,
      mode: 'ws',
      args: [ours, ...echo, '--deflate'],
    },
    { id: 'ws', family: 'ws', label: 'ws', deflate: false, mode: 'ws', args: [wsEcho] },
    {
      id: 'ws-deflate',
      family: 'ws',
      label: 'ws+deflate',
      deflate: true,
      mode: 'ws',
      args: [wsEcho, '--deflate'],
    },
    { id: 'net', family: 'net', label: 'net (raw)', deflate: false, mode: 'raw', args: [netEcho] },
  ]
}

/** True when `--only` names the server or its family (no filter selects everything). */
export function isSelected(server: ServerSpec, only: readonly string[]): boolean {
  return only.length === 0 || only.includes(server.id) || only.includes(server.family)
}

/** True when `npm run build` produced our CLI; until it exists, the benchmark runs the peers alone. */
export function hasOurs(root: string): boolean {
  return existsSync(join(root, oursEntry))
}
