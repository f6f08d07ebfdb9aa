// LmdbHistory under kill -9: a writer process is killed mid-stream, and every append it saw acknowledged
// is on disk afterwards, under the same epoch, with offsets continuing after the last one stored.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { describe, it, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { LmdbHistory } from '../../src/hub/lmdb-history.js'
import { crashRetention, crashRoom, messageFor } from './fixtures/crash-messages.js'

const writer = fileURLToPath(new URL('./fixtures/append-until-killed.js', import.meta.url))

interface Ack {
  offset: number
  epoch: string
}

/** Runs the writer on `dir` and kill -9's it once it has printed `count` acks; answers every ack it printed. */
async function writeUntilKilled(t: TestContext, dir: string, count: number): Promise<Ack[]> {
  const child = spawn(process.execPath, [writer, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(() => child.kill('SIGKILL'))
  const exited = once(child, 'exit')
  const acks: Ack[] = []
  // Lines printed between the kill and the process's death were acknowledged too: read to the end.
  for await (const line of createInterface({ input: child.stdout })) {
    const [offset, epoch] = line.split(' ')
    acks.push({ offset: Number(offset), epoch })
    if (acks.length === count) child.kill('SIGKILL')
  }
  const [code, signal] = await exited
  assert.deepEqual([code, signal], [null, 'SIGKILL'], 'the writer died of the kill, not by itself')
  return acks
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)
}

describe('LmdbHistory killed mid-stream', () => {
  it('keeps every acknowledged message through kill -9 and continues offsets under the same epoch', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-crash-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))

    const first = await writeUntilKilled(t, dir, 2000)
    // The second writer opens what the first left, and carries on after the last stored offset.
    const second = await writeUntilKilled(t, dir, 2000)
    assert.deepEqual(
      first.map((ack) => ack.offset),
      range(1, first.length),
    )
    assert.ok(second[0].offset > first[first.length - 1].offset)
    assert.deepEqual(
      second.map((ack) => ack.offset),
      range(second[0].offset, second[0].offset + second.length - 1),
    )
    const epoch = first[0].epoch
    assert.deepEqual(new Set([...first, ...second].map((ack) => ack.epoch)), new Set([epoch]))

    const store = new LmdbHistory({ path: dir, retention: crashRetention })
    t.after(() => store.close())
    const page = await store.after(crashRoom, { offset: 0, epoch }, Number.MAX_SAFE_INTEGER)
    assert.deepEqual([page.epoch, page.gap], [epoch, null])
    // Stored: 1 … lastOffset with nothing missing, each the writer's message for its offset (some after
    // the last ack were stored but not yet acknowledged when the kill came).
    assert.deepEqual(
      page.messages.map((message) => message.offset),
      range(1, page.lastOffset),
    )
    for (const message of page.messages) assert.deepEqual(message.data, messageFor(message.offset))
    assert.ok(page.lastOffset >= second[second.length - 1].offset)

    const next = await store.append(crashRoom, { from: 'after', data: 'again', ts: Date.now() })
    assert.deepEqual([next.offset, next.epoch], [page.lastOffset + 1, epoch])
  })
})
