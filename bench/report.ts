// The echo benchmarks' tables, as Markdown so a run can be pasted into bench/README.md or bench/SOCKETIO.md.
import type { EchoResult } from './loadgen-driver.js'
import type { ServerSpec } from './servers.js'

/** One server × message size of the echo table. */
export interface EchoRow {
  server: ServerSpec['id']
  label: string
  deflate: boolean
  sizeBytes: number
  /** What kind of echo beyond size and compression, where a benchmark has several (Socket.IO: `event`, `ack`). */
  variant?: string
  result?: EchoResult
  /** The server's CPU seconds per wall second over the measured window (all its threads). */
  serverCpuShare?: number
  /** Cores the rest of the machine kept busy over the window; above ~0.1 the case is not trustworthy. */
  otherCpuShare?: number
  /** With `--repeat`, every round's msgs/s; the row itself is the median round. */
  attemptsMsgsPerS?: number[]
  error?: string
}

/** One server of the idle-memory table. */
export interface IdleRow {
  server: ServerSpec['id']
  label: string
  open: number
  errors: number
  rssBeforeKiB: number
  rssAfterKiB: number
  perConnKiB: number
  error?: string
}

/** The server a table's last column divides by: its id, and its label for the heading (`vs ws`). */
export interface Baseline {
  id: string
  label: string
}

/** Whole numbers with thousands separators: `53,901`. */
export const count = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

/** `32 B`, `16 KiB`. */
export function formatSize(bytes: number): string {
  return bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} B`
}

/** A share of a core (1 = all of it) as a whole percentage; empty when unknown. */
export function formatPercent(share: number | undefined): string {
  return share === undefined ? '' : `${Math.round(share * 100)}`
}

/** value ÷ base with two decimals; empty when either is unknown. */
export function formatRatio(value: number | undefined, base: number | undefined): string {
  return value === undefined || base === undefined || base === 0 ? '' : (value / base).toFixed(2)
}

/** A Markdown table: the first column left-aligned, the others right-aligned. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  return [line(head), rule, ...rows.map(line)].join('\n')
}

/** The ws row a row is compared with: same size and compression (the raw floor against plain ws). */
function wsBaseline(rows: readonly EchoRow[], row: EchoRow): EchoRow | undefined {
  const id = row.deflate ? 'ws-deflate' : 'ws'
  return rows.find((r) => r.server === id && r.sizeBytes === row.sizeBytes)
}

/** What the echo table's last column divides by: its heading (`vs ws`) and the row each row is divided by. */
export interface EchoComparison {
  head: string
  baseline: (rows: readonly EchoRow[], row: EchoRow) => EchoRow | undefined
}

/** The echo table; its last column compares each row with `ws` unless told otherwise. */
export function formatEchoTable(
  rows: readonly EchoRow[],
  compare: EchoComparison = { head: 'vs ws', baseline: wsBaseline },
): string {
  const head = ['server', 'size', 'msgs/s', 'p50 µs', 'p99 µs', 'loadgen CPU %', 'server CPU %', compare.head]
  const body = rows.map((row) => {
    const r = row.result
    if (r === undefined) return [row.label, formatSize(row.sizeBytes), 'failed', '', '', '', '', '']
    return [
      row.label,
      formatSize(row.sizeBytes),
      count.format(r.msgs_per_s),
      count.format(r.p50_us),
      count.format(r.p99_us),
      formatPercent(r.cpu_share),
      formatPercent(row.serverCpuShare),
      formatRatio(r.msgs_per_s, compare.baseline(rows, row)?.result?.msgs_per_s),
    ]
  })
  return table(head, body)
}

/** The idle-memory table; its last column compares each row with the server `baseline` (default `ws`). */
export function formatIdleTable(
  rows: readonly IdleRow[],
  baseline: Baseline = { id: 'ws', label: 'ws' },
): string {
  const head = [
    'server',
    'connections',
    'RSS before MiB',
    'RSS after MiB',
    'KiB/connection',
    `vs ${baseline.label}`,
  ]
  const ws = rows.find((r) => r.server === baseline.id && r.error === undefined)
  const body = rows.map((row) => {
    if (row.error !== undefined) return [row.label, 'failed', '', '', '', '']
    return [
      row.label,
      count.format(row.open),
      (row.rssBeforeKiB / 1024).toFixed(1),
      (row.rssAfterKiB / 1024).toFixed(1),
      row.perConnKiB.toFixed(1),
      formatRatio(row.perConnKiB, ws?.perConnKiB),
    ]
  })
  return table(head, body)
}

/** Lines under the echo table for what the numbers alone do not show: errors, compression, saturation. */
export function echoNotes(rows: readonly EchoRow[]): string[] {
  const notes: string[] = []
  for (const row of rows) {
    const name = `${row.label} ${formatSize(row.sizeBytes)}`
    const r = row.result
    if (r === undefined) {
      notes.push(`${name}: ${row.error ?? 'failed'}`)
      continue
    }
    if (row.attemptsMsgsPerS !== undefined) {
      notes.push(`${name}: rounds gave ${row.attemptsMsgsPerS.map((n) => count.format(n)).join(', ')} msgs/s`)
    }
    if (r.errors > 0)
      notes.push(`${name}: ${r.errors} connection errors (${r.open} of the connections stayed open)`)
    if (row.deflate)
      notes.push(
        `${name}: ${Math.round((100 * r.compressed_replies) / Math.max(r.msgs, 1))}% of replies arrived compressed`,
      )
    if ((row.otherCpuShare ?? 0) > 0.1) {
      notes.push(
        `${name}: other processes used ${formatPercent(row.otherCpuShare)}% of a core meanwhile; rerun when quiet`,
      )
    }
    if (r.cpu_share > 0.9)
      notes.push(
        `${name}: the load generator used ${formatPercent(r.cpu_share)}% of its core and may be the bottleneck`,
      )
  }
  return notes
}
