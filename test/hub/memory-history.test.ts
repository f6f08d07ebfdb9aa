// MemoryHistory: the HistoryStore contract, and what memory cannot do (keep an epoch past the process).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryHistory } from '../../src/hub/history.js'
import { historyContract } from './history-contract.js'

historyContract('MemoryHistory', async (t, { retention, now }) => {
  const store = new MemoryHistory(retention, now)
  t.after(() => store.close())
  return store
})

describe('MemoryHistory', () => {
  it('gives a room a new epoch in every new store, as after a restart', async () => {
    const first = await new MemoryHistory().append('lobby', { from: 'ann', data: 'hi', ts: 0 })
    const second = await new MemoryHistory().append('lobby', { from: 'ann', data: 'hi', ts: 0 })
    assert.deepEqual([first.offset, second.offset], [1, 1])
    assert.notEqual(first.epoch, second.epoch)
  })
})
