// The broadcast fan-out tables and notes, as Markdown: bench/fanout.ts's (divided by ws) and the Socket.IO
// benchmark's broadcast (divided by socket.io).
import type { FanoutRow } from './fanout-case.js'
import { quietShare, quietWaitS } from './proc-stats.js'
import { type Baseline, count, formatPercent, formatRatio, table } from './report.js'

/** The baseline server's row with `subs` subscribers, which the last columns divide by. */
export function fanoutBaselineRow(
  rows: readonly FanoutRow[],
  baseline: Baseline,
  subs: number,
): FanoutRow | undefined {
  return rows.find((r) => r.server === baseline.id && r.subs === subs)
}

/** Deliveries/s per K; the last column divides by the baseline's row with the same S and K. */
export function formatFanoutThroughputTable(rows: readonly FanoutRow[], baseline: Baseline): string {
  const head = ['server', 'subscribers', 'in flight', 'deliveries/s', 'loadgen CPU %', 'server CPU %']
  head.push(`vs ${baseline.label}`)
  const body = rows.flatMap((row) => {
    if (row.throughput.length === 0) return [[row.label, count.format(row.subs), '', 'failed', '', '', '']]
    return row.throughput.map((w) => {
      const base = fanoutBaselineRow(rows, baseline, row.subs)?.throughput.find(
        (b) => b.inflight === w.inflight,
      )
      return [
        row.label,
        count.format(row.subs),
        String(w.inflight),
        count.format(w.deliveries_per_s),
        formatPercent(w.work_share),
        formatPercent(w.serverCpuShare),
        formatRatio(w.deliveries_per_s, base?.deliveries_per_s),
      ]
    })
  })
  return table(head, body)
}

/** Publish-to-receive latency at a fixed offered rate; the last column divides p99 by the baseline's. */
export function formatFanoutLatencyTable(rows: readonly FanoutRow[], baseline: Baseline): string {
  const head = ['server', 'subscribers', 'offered deliveries/s', 'achieved', 'p50 µs', 'p99 µs']
  head.push('loadgen CPU %', 'server CPU %', `p99 vs ${baseline.label}`)
  const body = rows.map((row) => {
    const l = row.latency
    if (l === undefined) return [row.label, count.format(row.subs), 'failed', '', '', '', '', '', '']
    return [
      row.label,
      count.format(row.subs),
      count.format(l.offered_per_s),
      count.format(l.achieved_per_s),
      count.format(l.p50_us),
      count.format(l.p99_us),
      formatPercent(l.work_share),
      formatPercent(l.serverCpuShare),
      formatRatio(l.p99_us, fanoutBaselineRow(rows, baseline, row.subs)?.latency?.p99_us),
    ]
  })
  return table(head, body)
}

/** A case in one line, as each harness prints it when the case ends: the rate per K and the p99, or the error. */
export function summarizeFanoutRow(row: FanoutRow): string {
  const rates = row.throughput.map((w) => `K=${w.inflight} ${count.format(w.deliveries_per_s)}/s`)
  const p99 = row.latency ? `, p99 ${count.format(row.latency.p99_us)} µs` : ''
  return row.error ?? `${rates.join(', ')}${p99}`
}

/**
 * What the tables alone do not show: failures, neighbours' load, a saturated load generator, lost copies.
 * `connectErrors` adds the connect phase's errors to the line that says how long subscribers took to connect.
 */
export function fanoutNotes(rows: readonly FanoutRow[], { connectErrors = false } = {}): string[] {
  const out: string[] = []
  for (const row of rows) {
    const name = `${row.label} × ${count.format(row.subs)}`
    if (row.error !== undefined) out.push(`${name}: ${row.error}`)
    if (!row.quiet) out.push(`${name}: the machine stayed busy for ${quietWaitS} s before the case`)
    if (row.connectS !== undefined) {
      const errors = connectErrors ? `, ${row.connectErrors ?? 0} errors` : ''
      out.push(`${name}: subscribers connected in ${row.connectS.toFixed(1)} s${errors}`)
    }
    out.push(...windowNotes(name, row))
  }
  return out
}

function windowNotes(name: string, row: FanoutRow): string[] {
  const out: string[] = []
  const l = row.latency
  const windows = [
    ...(l ? [['latency', l] as const] : []),
    ...row.throughput.map((w) => [`K=${w.inflight}`, w] as const),
  ]
  for (const [what, w] of windows) {
    if (w.otherCpuShare > quietShare)
      out.push(`${name}, ${what}: others used ${formatPercent(w.otherCpuShare)}% of a core: noisy`)
    if (w.work_share > 0.9)
      out.push(`${name}, ${what}: the load generator needed ${formatPercent(w.work_share)}% of its core`)
  }
  for (const w of row.throughput) {
    if (w.lag_blocked_share > 0.05)
      out.push(
        `${name}, K=${w.inflight}: the publisher waited for slow readers ${formatPercent(w.lag_blocked_share)}% of the window`,
      )
    if (w.errors > 0)
      out.push(`${name}, K=${w.inflight}: ${w.errors} connection errors, ${w.open} subscribers open`)
  }
  if (l !== undefined && l.received < l.expected)
    out.push(
      `${name}, latency: ${count.format(l.expected - l.received)} of ${count.format(l.expected)} copies never arrived`,
    )
  return out
}
