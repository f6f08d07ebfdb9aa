// History: what a join answers (members and recent messages, or everything since a resume point), the
// explicit gaps (epoch changed, retention truncated), and history queries.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { HistoryPage } from '../../src/hub/history.js'
import { hubDefaults } from '../../src/hub/limits.js'
import type { Session } from '../../src/hub/session.js'
import { accepted, assertRefused, connectFake, makeHub, nextTurn } from '../helpers/fake-member.js'

/** Publishes `count` messages `m1`, `m2` … to `room` and answers the last ack. */
async function publishMany(session: Session, room: string, count: number) {
  let last = null
  for (let i = 1; i <= count; i++) last = accepted(await session.publish(room, `m${i}`))
  assert.ok(last)
  return last
}

function offsetsOf(page: HistoryPage): number[] {
  return page.messages.map((message) => message.offset)
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)
}

describe('the answer to a join', () => {
  it('carries the members and the last recentOnJoin messages', async (t) => {
    const hub = makeHub(t, { limits: { recentOnJoin: 3 } })
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const last = await publishMany(ann.session, 'x', 5)
    const bob = await connectFake(hub, { nick: 'bob' })
    const joined = accepted(await bob.session.join('x'))
    assert.equal(joined.room, 'x')
    assert.deepEqual(joined.members, ['ann', 'bob'])
    assert.deepEqual(offsetsOf(joined.history), [3, 4, 5])
    assert.deepEqual(
      joined.history.messages.map((message) => message.data),
      ['m3', 'm4', 'm5'],
    )
    assert.deepEqual(
      [joined.history.epoch, joined.history.lastOffset, joined.history.gap],
      [last.epoch, 5, null],
    )
  })

  it(`carries all of ${hubDefaults.recentOnJoin} messages by default, and only the newest ${hubDefaults.recentOnJoin} of one more`, async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['x', 'y'] })
    await publishMany(ann.session, 'x', hubDefaults.recentOnJoin)
    await publishMany(ann.session, 'y', hubDefaults.recentOnJoin + 1)
    const bob = await connectFake(hub, { nick: 'bob' })
    assert.deepEqual(
      offsetsOf(accepted(await bob.session.join('x')).history),
      range(1, hubDefaults.recentOnJoin),
    )
    assert.deepEqual(
      offsetsOf(accepted(await bob.session.join('y')).history),
      range(2, hubDefaults.recentOnJoin + 1),
    )
  })

  it('of an empty room carries no messages and lastOffset 0', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub, { nick: 'ann' })
    const joined = accepted(await session.join('new-room'))
    assert.deepEqual(joined.members, ['ann'])
    assert.deepEqual([joined.history.messages, joined.history.lastOffset, joined.history.gap], [[], 0, null])
  })

  it('with resume carries exactly the messages missed while away, and live ones follow', async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const bob = await connectFake(hub, { nick: 'bob', rooms: ['x'] })
    const seen = await publishMany(ann.session, 'x', 3)
    await bob.member.until((event) => event.type === 'message' && event.offset === 3)
    accepted(await bob.session.leave('x'))
    await publishMany(ann.session, 'x', 3)
    const joined = accepted(await bob.session.join('x', { offset: seen.offset, epoch: seen.epoch }))
    assert.deepEqual(offsetsOf(joined.history), [4, 5, 6])
    assert.equal(joined.history.gap, null)
    accepted(await ann.session.publish('x', 'live'))
    await bob.member.until((event) => event.type === 'message' && event.offset === 7)
    assert.deepEqual(bob.member.offsets('x'), [1, 2, 3, 7])
  })

  it('with resume from a fresh connection gives the same missed messages (a reconnect)', async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const seen = await publishMany(ann.session, 'x', 2)
    await publishMany(ann.session, 'x', 2)
    const bob = await connectFake(hub, { nick: 'bob' })
    const joined = accepted(await bob.session.join('x', { offset: seen.offset, epoch: seen.epoch }))
    assert.deepEqual(offsetsOf(joined.history), [3, 4])
  })

  it('with resume from the newest offset carries no messages and no gap', async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const last = await publishMany(ann.session, 'x', 4)
    const bob = await connectFake(hub, { nick: 'bob' })
    const joined = accepted(await bob.session.join('x', { offset: last.offset, epoch: last.epoch }))
    assert.deepEqual([joined.history.messages, joined.history.lastOffset, joined.history.gap], [[], 4, null])
  })

  it('with resume from an epoch the room no longer has gives gap epoch-changed and what is kept', async (t) => {
    // A restart: a new hub on a new memory store is a new stream for every room.
    const before = makeHub(t)
    const ann = await connectFake(before, { nick: 'ann', rooms: ['x'] })
    const seen = await publishMany(ann.session, 'x', 5)
    const after = makeHub(t)
    const carl = await connectFake(after, { nick: 'carl', rooms: ['x'] })
    const now = await publishMany(carl.session, 'x', 2)
    const bob = await connectFake(after, { nick: 'bob' })
    const joined = accepted(await bob.session.join('x', { offset: seen.offset, epoch: seen.epoch }))
    assert.notEqual(now.epoch, seen.epoch)
    assert.equal(joined.history.epoch, now.epoch)
    assert.deepEqual(joined.history.gap, { reason: 'epoch-changed', firstOffset: 1 })
    assert.deepEqual(offsetsOf(joined.history), [1, 2])
  })

  it('with resume from an offset retention removed gives gap truncated and the first offset kept', async (t) => {
    const hub = makeHub(t, { retention: { maxMessages: 3 } })
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const last = await publishMany(ann.session, 'x', 10)
    const bob = await connectFake(hub, { nick: 'bob' })
    const joined = accepted(await bob.session.join('x', { offset: 2, epoch: last.epoch }))
    assert.deepEqual(joined.history.gap, { reason: 'truncated', firstOffset: 8 })
    assert.deepEqual(offsetsOf(joined.history), [8, 9, 10])
  })

  it('with resume from just before the oldest kept message has no gap, and one earlier is truncated', async (t) => {
    const hub = makeHub(t, { retention: { maxMessages: 3 } })
    const { session } = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const { epoch } = await publishMany(session, 'x', 10)
    const kept = accepted(await session.history('x', { after: { offset: 7, epoch } }))
    assert.deepEqual([offsetsOf(kept), kept.gap], [[8, 9, 10], null])
    const cut = accepted(await session.history('x', { after: { offset: 6, epoch } }))
    assert.deepEqual([offsetsOf(cut), cut.gap], [[8, 9, 10], { reason: 'truncated', firstOffset: 8 }])
  })

  it('with resume from messages older than maxAgeMs gives gap truncated', async (t) => {
    let time = 1_700_000_000_000
    const hub = makeHub(t, { now: () => time, retention: { maxAgeMs: 1000 } })
    const { session } = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const { epoch } = await publishMany(session, 'x', 2)
    time += 1001
    accepted(await session.publish('x', 'fresh'))
    const page = accepted(await session.history('x', { after: { offset: 0, epoch } }))
    assert.deepEqual([offsetsOf(page), page.gap], [[3], { reason: 'truncated', firstOffset: 3 }])
    assert.deepEqual(offsetsOf(accepted(await session.history('x', { last: 10 }))), [3])
  })

  it('with resume carries at most maxHistoryPage messages, and lastOffset says how far the room goes', async (t) => {
    const hub = makeHub(t, { limits: { maxHistoryPage: 5 } })
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const { epoch } = await publishMany(ann.session, 'x', 12)
    const bob = await connectFake(hub, { nick: 'bob' })
    const joined = accepted(await bob.session.join('x', { offset: 2, epoch }))
    assert.deepEqual([offsetsOf(joined.history), joined.history.lastOffset], [[3, 4, 5, 6, 7], 12])
    const rest = accepted(await bob.session.history('x', { after: { offset: 7, epoch } }))
    assert.deepEqual(offsetsOf(rest), [8, 9, 10, 11, 12])
  })
})

describe('Session.history', () => {
  it('answers the last N messages, oldest first', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub, { rooms: ['x'] })
    await publishMany(session, 'x', 5)
    assert.deepEqual(offsetsOf(accepted(await session.history('x', { last: 2 }))), [4, 5])
    assert.deepEqual(offsetsOf(accepted(await session.history('x', { last: 9 }))), [1, 2, 3, 4, 5])
    assert.deepEqual(offsetsOf(accepted(await session.history('x', { last: 0 }))), [])
    assert.deepEqual(offsetsOf(accepted(await session.history('x', { last: -3 }))), [])
  })

  it('answers at most maxHistoryPage messages however many are asked for', async (t) => {
    const hub = makeHub(t, { limits: { maxHistoryPage: 3 } })
    const { session } = await connectFake(hub, { rooms: ['x'] })
    const { epoch } = await publishMany(session, 'x', 5)
    assert.deepEqual(offsetsOf(accepted(await session.history('x', { last: 3 }))), [3, 4, 5])
    assert.deepEqual(offsetsOf(accepted(await session.history('x', { last: 4 }))), [3, 4, 5])
    const after = accepted(await session.history('x', { after: { offset: 0, epoch } }))
    assert.deepEqual(offsetsOf(after), [1, 2, 3])
  })

  it('answers the messages after an offset', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub, { rooms: ['x'] })
    const { epoch } = await publishMany(session, 'x', 5)
    const page = accepted(await session.history('x', { after: { offset: 2, epoch } }))
    assert.deepEqual([offsetsOf(page), page.lastOffset, page.gap], [[3, 4, 5], 5, null])
  })

  it('refuses a bad room name with 400 bad-room', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub)
    assertRefused(await session.history('a b', { last: 1 }), 'bad-room', 400)
  })

  it('keeps history when everyone has left the room', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub, { rooms: ['x'] })
    await publishMany(session, 'x', 2)
    accepted(await session.leave('x'))
    await nextTurn()
    assert.deepEqual(offsetsOf(accepted(await session.join('x')).history), [1, 2])
  })
})
