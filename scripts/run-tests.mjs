// Runs every compiled test file through Node's own runner; Node 20 does not expand globs in `--test` arguments.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'helpers' ? [] : findTests(path)
    // A compiled test whose source was deleted stays in dist/ (tsc never removes outputs): skip it.
    return entry.name.endsWith('.test.js') && existsSync(sourceOf(path)) ? [path] : []
  })
}

function sourceOf(compiled) {
  return compiled.replace(/^dist[\\/]/, '').replace(/\.js$/, '.ts')
}

const filter = process.argv.slice(2)
const files = findTests('dist/test')
  .filter((f) => filter.length === 0 || filter.some((part) => f.includes(part)))
  .sort()
if (files.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}
const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...files], {
  stdio: 'inherit',
})
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)))
