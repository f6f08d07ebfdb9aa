// Exact accounting: for every room and every connection, published = delivered + queued + dropped, with
// members that deliver, queue (slow readers) and drop, and with the events a join holds back.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Hub } from '../../src/hub/hub.js'
import type { DeliveryCounts } from '../../src/hub/tally.js'
import {
  type Connected,
  type FakeMember,
  accepted,
  assertRefused,
  connectFake,
  makeHub,
  nextTurn,
} from '../helpers/fake-member.js'

/** What a fake member's log says about the room events it was handed (direct messages are not counted). */
function countsFromLog(member: FakeMember, room?: string): DeliveryCounts {
  const counts = { published: 0, delivered: 0, queued: 0, dropped: 0 }
  for (const { event, answer } of member.log) {
    if (event.type === 'direct' || (room !== undefined && event.room !== room)) continue
    counts.published++
    counts[answer]++
  }
  return counts
}

function sum(all: DeliveryCounts[]): DeliveryCounts {
  const total = { published: 0, delivered: 0, queued: 0, dropped: 0 }
  for (const counts of all)
    for (const key of Object.keys(total) as Array<keyof DeliveryCounts>) total[key] += counts[key]
  return total
}

function assertBalanced(counts: DeliveryCounts, label: string): void {
  assert.equal(
    counts.published,
    counts.delivered + counts.queued + counts.dropped,
    `${label}: ${JSON.stringify(counts)}`,
  )
}

function roomCounts(hub: Hub, room: string): DeliveryCounts & { messages: number } {
  const counts = hub.stats().rooms.get(room)
  assert.ok(counts, `no counts for ${room}`)
  return counts
}

describe('exact accounting', () => {
  it('matches what members that deliver, queue and drop were handed, per connection and per room', async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['x', 'lobby'] })
    const slow = await connectFake(hub, { nick: 'slow', rooms: ['x'], answer: 'queued' })
    const full = await connectFake(hub, { nick: 'full', rooms: ['x', 'lobby'], answer: 'dropped' })
    const bob = await connectFake(hub, { nick: 'bob', rooms: ['x'] })
    const everyone: Connected[] = [ann, slow, full, bob]
    await nextTurn()
    for (let i = 0; i < 10; i++) accepted(await ann.session.publish('x', `a${i}`))
    for (let i = 0; i < 5; i++) accepted(await bob.session.publish('x', `b${i}`, { echo: false }))
    for (let i = 0; i < 3; i++) accepted(await ann.session.publish('lobby', `l${i}`))
    for (const { member, session } of everyone) {
      assert.deepEqual({ ...session.counts }, countsFromLog(member), member.id)
      assertBalanced(session.counts, session.nick)
    }
    for (const room of ['x', 'lobby']) {
      const { messages, ...counts } = roomCounts(hub, room)
      assert.deepEqual(counts, sum(everyone.map(({ member }) => countsFromLog(member, room))), room)
      assertBalanced(counts, room)
    }
    assert.equal(roomCounts(hub, 'x').messages, 15)
    assert.equal(roomCounts(hub, 'lobby').messages, 3)
    // One per recipient: full saw its own join and bob's, then all 15 messages (bob's echo went only to bob).
    assert.deepEqual(countsFromLog(full.member, 'x'), { published: 17, delivered: 0, queued: 0, dropped: 17 })
    assert.equal(countsFromLog(bob.member, 'x').published, 1 + 10)
  })

  it("counts a join's held events as queued until released, then as delivered", async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const bob = await connectFake(hub, { nick: 'bob', rooms: [] })
    await nextTurn()
    // Offset 1 is stored before bob's history is read, so the join's answer carries it and it is not sent again.
    const joining = bob.session.join('x')
    const first = ann.session.publish('x', 'in the answer')
    const joined = accepted(await joining)
    accepted(await first)
    accepted(await ann.session.publish('x', 'after the answer'))
    assert.deepEqual(
      joined.history.messages.map((message) => message.offset),
      [1],
    )
    // Held: bob's own presence join, offset 1 and offset 2.
    assert.deepEqual({ ...bob.session.counts }, { published: 3, delivered: 0, queued: 3, dropped: 0 })
    assert.deepEqual(roomCounts(hub, 'x'), { published: 7, delivered: 4, queued: 3, dropped: 0, messages: 2 })
    await nextTurn()
    assert.deepEqual({ ...bob.session.counts }, { published: 3, delivered: 3, queued: 0, dropped: 0 })
    assert.deepEqual(roomCounts(hub, 'x'), { published: 7, delivered: 7, queued: 0, dropped: 0, messages: 2 })
    assert.deepEqual(bob.member.offsets('x'), [2])
  })

  it("settles a join's held events as the member answers when released: dropped or queued", async (t) => {
    for (const answer of ['dropped', 'queued'] as const) {
      const hub = makeHub(t)
      const ann = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
      const bob = await connectFake(hub, { nick: 'bob', rooms: [] })
      await nextTurn()
      bob.member.answer = answer
      const joining = bob.session.join('x')
      accepted(await ann.session.publish('x', 'one'))
      accepted(await joining)
      accepted(await ann.session.publish('x', 'two'))
      await nextTurn()
      // The message the answer carried counts as delivered; the presence join and offset 2 as answered.
      const expected = { published: 3, delivered: 1, queued: 0, dropped: 0, [answer]: 2 }
      assert.deepEqual({ ...bob.session.counts }, expected, answer)
      assertBalanced(roomCounts(hub, 'x'), `room x, bob ${answer}`)
      assert.equal(roomCounts(hub, 'x')[answer], 2)
    }
  })

  it("settles a join's held events as dropped when the connection detaches before they go out", async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const bob = await connectFake(hub, { nick: 'bob', rooms: [] })
    await nextTurn()
    const joining = bob.session.join('x')
    accepted(await ann.session.publish('x', 'one'))
    accepted(await joining)
    accepted(await ann.session.publish('x', 'two'))
    await bob.session.detach()
    await nextTurn()
    assert.deepEqual({ ...bob.session.counts }, { published: 3, delivered: 0, queued: 0, dropped: 3 })
    assert.deepEqual(bob.member.log, [])
    const x = roomCounts(hub, 'x')
    assertBalanced(x, 'room x')
    assert.equal(x.queued, 0)
  })

  it("settles a join's held events as dropped when the connection leaves the room before they go out (#4)", async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const bob = await connectFake(hub, { nick: 'bob', rooms: [] })
    await nextTurn()
    accepted(await bob.session.join('x'))
    accepted(await ann.session.publish('x', 'held'))
    accepted(await bob.session.leave('x'))
    await nextTurn()
    assert.deepEqual({ ...bob.session.counts }, { published: 2, delivered: 0, queued: 0, dropped: 2 })
    assert.equal(roomCounts(hub, 'x').queued, 0)
  })

  it('stays balanced for every room and connection while members join during a publishing loop', async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const joiners = [
      await connectFake(hub, { nick: 'fast', rooms: [] }),
      await connectFake(hub, { nick: 'slow', rooms: [], answer: 'queued' }),
      await connectFake(hub, { nick: 'full', rooms: [], answer: 'dropped' }),
    ]
    await nextTurn()
    const publishing = (async () => {
      for (let i = 0; i < 30; i++) accepted(await ann.session.publish('x', `m${i}`))
    })()
    const joins = []
    for (const { session } of joiners) {
      for (let i = 0; i < 10; i++) await Promise.resolve()
      joins.push(session.join('x'))
    }
    await publishing
    for (const join of joins) accepted(await join)
    await nextTurn()
    for (const { session } of [ann, ...joiners]) {
      assertBalanced(session.counts, session.nick)
      assert.equal(
        session.counts.queued,
        session.nick === 'slow' ? countsFromLog(joiners[1].member).queued : 0,
      )
    }
    const x = roomCounts(hub, 'x')
    assertBalanced(x, 'room x')
    assert.deepEqual(x, { ...sum([ann, ...joiners].map(({ session }) => session.counts)), messages: 30 })
  })

  it('counts connections by transport and publishes refused by the rate limit by reason', async (t) => {
    const hub = makeHub(t, { limits: { messageBurst: 1, messagesPerSecond: 0.001 } })
    const { session } = await connectFake(hub, { transport: 'unix' })
    await connectFake(hub, { transport: 'udp' })
    accepted(await session.publish('lobby', 'one'))
    assertRefused(await session.publish('lobby', 'two'), 'rate-limited', 429)
    const stats = hub.stats()
    assert.deepEqual(stats.connections, { tcp: 0, unix: 1, udp: 1, websocket: 0, socketio: 0 })
    assert.deepEqual([...stats.dropped], [['rate-limited', 1]])
  })
})
