// Writes a run's results to bench/results/ as JSON laid out the way `biome format` lays it out, because
// biome.json lints everything under bench/ and does not read .gitignore: a stray layout would fail `npm run lint`.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

const lineWidth = 110

function isPrimitive(value: unknown): boolean {
  return value === null || typeof value !== 'object'
}

/** JSON.stringify with two spaces, except that arrays of numbers and strings stay on one line when they fit. */
export function formatJson(value: unknown, indent = '', prefixLength = 0): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null'
  const inner = `${indent}  `
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]'
    const flat = `[${value.map((item) => JSON.stringify(item) ?? 'null').join(', ')}]`
    if (value.every(isPrimitive) && prefixLength + flat.length + 1 <= lineWidth) return flat
    return `[\n${value.map((item) => inner + formatJson(item, inner, inner.length)).join(',\n')}\n${indent}]`
  }
  const entries = Object.entries(value).filter(([, item]) => item !== undefined)
  if (entries.length === 0) return '{}'
  const lines = entries.map(([key, item]) => {
    const head = `${inner}${JSON.stringify(key)}: `
    return head + formatJson(item, inner, head.length)
  })
  return `{\n${lines.join(',\n')}\n${indent}}`
}

/** Writes `results` to `path`, creating its folder. */
export function writeResults(path: string, results: unknown): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${formatJson(results)}\n`)
}
