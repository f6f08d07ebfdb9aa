// The contract every HistoryStore keeps (memory, LMDB, Redis later): offsets and epochs per room, the
// explicit gaps, retention by count and by age, page limits, text and bytes, rooms kept apart.
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { HistoryPage, HistoryStore, Retention } from '../../src/hub/history.js'
import type { MessageData } from '../../src/hub/member.js'

/** What a test may ask of a store it makes: its retention and the clock age retention reads. */
export interface HistoryStoreOptions {
  retention?: Partial<Retention>
  now?: () => number
}

/** Makes a fresh, empty store and registers its cleanup (close, then remove any files) on `t`. */
export type MakeHistoryStore = (t: TestContext, options: HistoryStoreOptions) => Promise<HistoryStore>

const t0 = Date.UTC(2025, 0, 1)

function offsetsOf(page: HistoryPage): number[] {
  return page.messages.map((message) => message.offset)
}

/** Appends `m1` … `mN` (numbered from `first`) with a timestamp each, one after the other. */
async function appendMany(store: HistoryStore, room: string, count: number, first = 1, ts = t0) {
  const acks = []
  for (let i = first; i < first + count; i++)
    acks.push(await store.append(room, { from: 'ann', data: `m${i}`, ts }))
  return acks
}

/** Runs the contract suite against the stores `makeStore` makes. */
export function historyContract(name: string, makeStore: MakeHistoryStore): void {
  // Messages carry fixed timestamps, so the clock is fixed too unless a test moves it.
  const open = (t: TestContext, options: HistoryStoreOptions = {}) =>
    makeStore(t, { now: () => t0, ...options })
  describe(`${name} keeps the HistoryStore contract`, () => {
    describe('offsets and epochs', () => {
      it('numbers a room 1, 2, 3 … under one epoch and acknowledges what it stored', async (t) => {
        const store = await open(t)
        const acks = await appendMany(store, 'lobby', 3)
        assert.deepEqual(
          acks.map(({ offset, room, from, data, ts, type }) => ({ offset, room, from, data, ts, type })),
          [1, 2, 3].map((offset) => ({
            offset,
            room: 'lobby',
            from: 'ann',
            data: `m${offset}`,
            ts: t0,
            type: 'message',
          })),
        )
        assert.equal(new Set(acks.map((ack) => ack.epoch)).size, 1)
        assert.match(acks[0].epoch, /^[A-Za-z0-9_-]+$/)
      })

      it('resolves appends in call order when many are in flight', async (t) => {
        const store = await open(t)
        const resolved: string[] = []
        const calls = Array.from({ length: 40 }, (_, i) => {
          const room = i % 3 === 0 ? 'b' : 'a'
          return store
            .append(room, { from: 'ann', data: `m${i}`, ts: t0 })
            .then((ack) => resolved.push(`${ack.room}:${ack.offset}:${ack.data}`))
        })
        await Promise.all(calls)
        const expected = []
        const next = { a: 1, b: 1 }
        for (let i = 0; i < 40; i++) {
          const room = i % 3 === 0 ? 'b' : 'a'
          expected.push(`${room}:${next[room]++}:m${i}`)
        }
        assert.deepEqual(resolved, expected)
      })

      it('gives an empty room no messages, lastOffset 0 and the epoch its first message gets', async (t) => {
        const store = await open(t)
        const empty = await store.last('lobby', 10)
        assert.deepEqual([empty.messages, empty.lastOffset, empty.gap, empty.room], [[], 0, null, 'lobby'])
        const ack = await store.append('lobby', { from: 'ann', data: 'hi', ts: t0 })
        assert.equal(ack.epoch, empty.epoch)
        const resumed = await store.after('lobby', { offset: 0, epoch: empty.epoch }, 10)
        assert.deepEqual([offsetsOf(resumed), resumed.gap], [[1], null])
      })

      it('keeps rooms apart, even when one name starts another', async (t) => {
        const store = await open(t, { retention: { maxMessages: 2 } })
        await appendMany(store, 'a', 3)
        await store.append('ab', { from: 'bob', data: 'x1', ts: t0 })
        await store.append('a#', { from: 'cy', data: 'y1', ts: t0 })
        const [a, ab, hash] = await Promise.all(['a', 'ab', 'a#'].map((room) => store.last(room, 10)))
        assert.deepEqual(
          [a, ab, hash].map((page) =>
            page.messages.map(({ room, offset, data }) => `${room}:${offset}:${data}`),
          ),
          [['a:2:m2', 'a:3:m3'], ['ab:1:x1'], ['a#:1:y1']],
        )
        assert.deepEqual([a.lastOffset, ab.lastOffset, hash.lastOffset], [3, 1, 1])
        assert.equal(new Set([a.epoch, ab.epoch, hash.epoch]).size, 3)
      })
    })

    describe('last and after', () => {
      it('returns the newest N messages oldest first, all when fewer, none for 0', async (t) => {
        const store = await open(t)
        await appendMany(store, 'lobby', 5)
        const [three, all, none] = await Promise.all([3, 10, 0].map((n) => store.last('lobby', n)))
        assert.deepEqual(offsetsOf(three), [3, 4, 5])
        assert.deepEqual(
          three.messages.map((message) => message.data),
          ['m3', 'm4', 'm5'],
        )
        assert.deepEqual(offsetsOf(all), [1, 2, 3, 4, 5])
        assert.deepEqual(offsetsOf(none), [])
        for (const page of [three, all, none]) assert.deepEqual([page.lastOffset, page.gap], [5, null])
      })

      it('returns at most limit messages after an offset, and lastOffset to show there are more', async (t) => {
        const store = await open(t)
        const [{ epoch }] = await appendMany(store, 'lobby', 5)
        const page = await store.after('lobby', { offset: 1, epoch }, 2)
        assert.deepEqual([offsetsOf(page), page.lastOffset, page.gap, page.epoch], [[2, 3], 5, null, epoch])
        const rest = await store.after('lobby', { offset: 3, epoch }, 10)
        assert.deepEqual(offsetsOf(rest), [4, 5])
      })

      it('returns nothing and no gap to a client that has everything', async (t) => {
        const store = await open(t)
        const [{ epoch }] = await appendMany(store, 'lobby', 2)
        const page = await store.after('lobby', { offset: 2, epoch }, 10)
        assert.deepEqual([page.messages, page.lastOffset, page.gap], [[], 2, null])
      })

      it('reports epoch-changed, with the oldest messages, for a resume point from another epoch', async (t) => {
        const store = await open(t, { retention: { maxMessages: 3 } })
        await appendMany(store, 'lobby', 5)
        const page = await store.after('lobby', { offset: 5, epoch: 'another-epoch' }, 2)
        assert.deepEqual(page.gap, { reason: 'epoch-changed', firstOffset: 3 })
        assert.deepEqual([offsetsOf(page), page.lastOffset], [[3, 4], 5])
      })

      it('reports truncated when retention dropped messages the client has not seen', async (t) => {
        const store = await open(t, { retention: { maxMessages: 3 } })
        const [{ epoch }] = await appendMany(store, 'lobby', 6)
        const behind = await store.after('lobby', { offset: 2, epoch }, 10)
        assert.deepEqual(behind.gap, { reason: 'truncated', firstOffset: 4 })
        assert.deepEqual(offsetsOf(behind), [4, 5, 6])
        const justInTime = await store.after('lobby', { offset: 3, epoch }, 10)
        assert.deepEqual([offsetsOf(justInTime), justInTime.gap], [[4, 5, 6], null])
      })
    })

    describe('retention', () => {
      it('keeps at most maxMessages per room and carries on numbering', async (t) => {
        const store = await open(t, { retention: { maxMessages: 3 } })
        await appendMany(store, 'lobby', 7)
        assert.deepEqual(offsetsOf(await store.last('lobby', 10)), [5, 6, 7])
        const [next] = await appendMany(store, 'lobby', 1, 8)
        assert.equal(next.offset, 8)
        assert.deepEqual(offsetsOf(await store.last('lobby', 10)), [6, 7, 8])
      })

      it('keeps messages exactly maxAgeMs old and drops older ones, by the clock it was given', async (t) => {
        let now = t0
        const store = await open(t, { retention: { maxAgeMs: 1000 }, now: () => now })
        await store.append('lobby', { from: 'ann', data: 'old', ts: t0 })
        const { epoch } = await store.append('lobby', { from: 'ann', data: 'young', ts: t0 + 1 })
        now = t0 + 1000
        assert.deepEqual(offsetsOf(await store.last('lobby', 10)), [1, 2])
        now = t0 + 1001
        const page = await store.last('lobby', 10)
        assert.deepEqual([offsetsOf(page), page.lastOffset], [[2], 2])
        const resumed = await store.after('lobby', { offset: 0, epoch }, 10)
        assert.deepEqual([offsetsOf(resumed), resumed.gap], [[2], { reason: 'truncated', firstOffset: 2 }])
      })

      it('carries on numbering after age has emptied a room', async (t) => {
        let now = t0
        const store = await open(t, { retention: { maxAgeMs: 1000 }, now: () => now })
        const [{ epoch }] = await appendMany(store, 'lobby', 3)
        now = t0 + 5000
        const empty = await store.last('lobby', 10)
        assert.deepEqual([empty.messages, empty.lastOffset, empty.epoch], [[], 3, epoch])
        const gone = await store.after('lobby', { offset: 1, epoch }, 10)
        assert.deepEqual(gone.gap, { reason: 'truncated', firstOffset: 4 })
        const next = await store.append('lobby', { from: 'ann', data: 'again', ts: now })
        assert.deepEqual([next.offset, next.epoch], [4, epoch])
      })
    })

    describe('data', () => {
      it('gives text back as text and bytes back as bytes, with sender and timestamp', async (t) => {
        const store = await open(t)
        const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i)
        const sent: MessageData[] = ['héllo ✓ 🎉', everyByte, '', new Uint8Array(0), '\u0000 and newline\n']
        for (const [i, data] of sent.entries())
          await store.append('lobby', { from: `n${i}`, data, ts: t0 + i })
        const page = await store.last('lobby', 10)
        assert.deepEqual(
          page.messages.map(({ from, data, ts }) => ({ from, data, ts })),
          sent.map((data, i) => ({ from: `n${i}`, data, ts: t0 + i })),
        )
      })
    })
  })
}
