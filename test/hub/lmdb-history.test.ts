// LmdbHistory: the HistoryStore contract in both durabilities, and what a disk adds: epochs and offsets
// that continue after a restart, retention applied to what a restart finds, a new epoch per new directory.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { LmdbHistory, type LmdbHistoryOptions } from '../../src/hub/lmdb-history.js'
import { historyContract } from './history-contract.js'

const t0 = Date.UTC(2025, 0, 1)

/**
 * A fresh data directory; after the test, every store opened on it is closed, then it is removed. Stores
 * read a clock fixed at `t0` unless given another, so messages stamped `t0` never age out.
 */
function dataDir(t: TestContext) {
  const path = mkdtempSync(join(tmpdir(), 'switchboard-history-'))
  const stores: LmdbHistory[] = []
  t.after(async () => {
    for (const store of stores) await store.close()
    rmSync(path, { recursive: true, force: true })
  })
  return {
    path,
    open(options: Omit<LmdbHistoryOptions, 'path'> = {}): LmdbHistory {
      const store = new LmdbHistory({ path, now: () => t0, ...options })
      stores.push(store)
      return store
    },
  }
}

historyContract('LmdbHistory', async (t, options) => dataDir(t).open(options))
historyContract('LmdbHistory with fsync durability', async (t, options) =>
  dataDir(t).open({ ...options, durability: 'fsync' }),
)

describe('LmdbHistory across restarts', () => {
  it('keeps each room’s epoch and messages, and continues its offsets, after a restart', async (t) => {
    const dir = dataDir(t)
    const before = dir.open()
    const lobby = await before.append('lobby', { from: 'ann', data: 'one', ts: t0 })
    await before.append('lobby', { from: 'bob', data: Uint8Array.of(1, 2), ts: t0 + 1 })
    const dev = await before.append('dev', { from: 'cy', data: 'three', ts: t0 + 2 })
    await before.close()

    const after = dir.open()
    const page = await after.last('lobby', 10)
    assert.deepEqual([page.epoch, page.lastOffset], [lobby.epoch, 2])
    assert.deepEqual(
      page.messages.map(({ offset, from, data, ts }) => ({ offset, from, data, ts })),
      [
        { offset: 1, from: 'ann', data: 'one', ts: t0 },
        { offset: 2, from: 'bob', data: Uint8Array.of(1, 2), ts: t0 + 1 },
      ],
    )
    const next = await after.append('lobby', { from: 'ann', data: 'four', ts: t0 + 3 })
    assert.deepEqual([next.offset, next.epoch], [3, lobby.epoch])
    const nextDev = await after.append('dev', { from: 'cy', data: 'five', ts: t0 + 4 })
    assert.deepEqual([nextDev.offset, nextDev.epoch], [2, dev.epoch])
  })

  it('resumes a client from before the restart with no gap', async (t) => {
    const dir = dataDir(t)
    const before = dir.open()
    const { epoch } = await before.append('lobby', { from: 'ann', data: 'seen', ts: t0 })
    await before.append('lobby', { from: 'ann', data: 'missed', ts: t0 })
    await before.close()
    const page = await dir.open().after('lobby', { offset: 1, epoch }, 10)
    assert.deepEqual([page.messages.map((message) => message.data), page.gap], [['missed'], null])
  })

  it('keeps the epoch of a room that was only read, never written, before the restart', async (t) => {
    const dir = dataDir(t)
    const before = dir.open()
    const { epoch } = await before.last('quiet', 10)
    await before.close()
    const ack = await dir.open().append('quiet', { from: 'ann', data: 'hi', ts: t0 })
    assert.deepEqual([ack.offset, ack.epoch], [1, epoch])
  })

  it('gives a room a new epoch in a new data directory', async (t) => {
    const first = await dataDir(t).open().append('lobby', { from: 'ann', data: 'hi', ts: t0 })
    const second = await dataDir(t).open().append('lobby', { from: 'ann', data: 'hi', ts: t0 })
    assert.deepEqual([first.offset, second.offset], [1, 1])
    assert.notEqual(first.epoch, second.epoch)
  })

  it('continues offsets after a restart when age retention had emptied the room', async (t) => {
    const dir = dataDir(t)
    let now = t0
    const options = { retention: { maxAgeMs: 1000 }, now: () => now }
    const before = dir.open(options)
    const { epoch } = await before.append('lobby', { from: 'ann', data: 'old', ts: t0 })
    await before.append('lobby', { from: 'ann', data: 'old', ts: t0 })
    now = t0 + 5000
    assert.deepEqual((await before.last('lobby', 10)).messages, [])
    await before.close()
    const ack = await dir.open(options).append('lobby', { from: 'ann', data: 'new', ts: now })
    assert.deepEqual([ack.offset, ack.epoch], [3, epoch])
  })

  it('applies a smaller retention to what it finds on disk at restart', async (t) => {
    const dir = dataDir(t)
    const before = dir.open()
    for (let i = 1; i <= 5; i++) await before.append('lobby', { from: 'ann', data: `m${i}`, ts: t0 })
    const { epoch } = await before.last('lobby', 0)
    await before.close()
    const after = dir.open({ retention: { maxMessages: 2 } })
    const page = await after.after('lobby', { offset: 1, epoch }, 10)
    assert.deepEqual(page.gap, { reason: 'truncated', firstOffset: 4 })
    assert.deepEqual(
      page.messages.map((message) => message.data),
      ['m4', 'm5'],
    )
  })

  it('reopens a directory written in os durability with fsync, and back', async (t) => {
    const dir = dataDir(t)
    const os = dir.open()
    const { epoch } = await os.append('lobby', { from: 'ann', data: 'a', ts: t0 })
    await os.close()
    const fsync = dir.open({ durability: 'fsync' })
    assert.equal((await fsync.append('lobby', { from: 'ann', data: 'b', ts: t0 })).offset, 2)
    await fsync.close()
    const page = await dir.open().last('lobby', 10)
    assert.deepEqual([page.epoch, page.messages.map((message) => message.data)], [epoch, ['a', 'b']])
  })
})

describe('LmdbHistory setup and teardown', () => {
  it('creates a missing data directory and its parents', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'switchboard-history-'))
    const store = new LmdbHistory({ path: join(root, 'nested', 'data') })
    t.after(async () => {
      await store.close()
      rmSync(root, { recursive: true, force: true })
    })
    assert.equal((await store.append('lobby', { from: 'ann', data: 'hi', ts: t0 })).offset, 1)
  })

  it('refuses to append or read once closed, with the code history-closed', async (t) => {
    const store = dataDir(t).open()
    await store.append('lobby', { from: 'ann', data: 'hi', ts: t0 })
    await store.close()
    await assert.rejects(store.append('lobby', { from: 'ann', data: 'late', ts: t0 }), {
      code: 'history-closed',
    })
    await assert.rejects(store.last('lobby', 1), { code: 'history-closed' })
  })
})
