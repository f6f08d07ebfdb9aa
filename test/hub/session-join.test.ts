// A join racing live traffic: events for the room being joined are held until the join's answer is out and
// released a turn later, so nothing is lost, nothing comes twice, and nothing overtakes the answer.
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { JoinResult } from '../../src/hub/session.js'
import { accepted, connectFake, makeHub, nextTurn } from '../helpers/fake-member.js'

/** Messages Ann publishes in the loop that every join races. */
const loopLength = 40

interface Race {
  joined: JoinResult
  /** Offsets the joiner got live, after the answer. */
  live: number[]
  /** Events for the room the joiner got before the join's answer settled. */
  early: number
  /** Held messages the answer's history already carried, so not sent again. */
  skipped: number
}

/**
 * Ann publishes `before` messages to `x`, then `loopLength` more in a loop; after `ticks` microtasks Bob
 * joins `x`, resuming from offset `before` when it is not 0. Varying `ticks` lands the join at every point
 * of the loop.
 */
async function race(t: TestContext, ticks: number, before = 0): Promise<Race> {
  const hub = makeHub(t)
  const ann = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
  const bob = await connectFake(hub, { nick: 'bob' })
  let epoch = ''
  for (let i = 0; i < before; i++) epoch = accepted(await ann.session.publish('x', `before ${i}`)).epoch
  await nextTurn()
  const publishing = (async () => {
    for (let i = 0; i < loopLength; i++) accepted(await ann.session.publish('x', `m${i}`))
  })()
  for (let i = 0; i < ticks; i++) await Promise.resolve()
  let early = -1
  const resume = before > 0 ? { offset: before, epoch } : undefined
  const joining = bob.session.join('x', resume).then((answer) => {
    early = bob.member.log.filter((entry) => 'room' in entry.event && entry.event.room === 'x').length
    return answer
  })
  await publishing
  const joined = accepted(await joining)
  await nextTurn()
  const kept = bob.member.log.filter((entry) => entry.answer === 'delivered').length
  return { joined, live: bob.member.offsets('x'), early, skipped: bob.session.counts.delivered - kept }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)
}

describe('a join while another member publishes', () => {
  it('sees every offset exactly once across the join history and live delivery, wherever it lands', async (t) => {
    let racedWithHistory = 0
    for (let ticks = 0; ticks <= 2 * loopLength + 4; ticks += 2) {
      const { joined, live, early, skipped } = await race(t, ticks)
      const fromHistory = joined.history.messages.map((message) => message.offset)
      const seen = [...fromHistory, ...live]
      assert.ok(seen.length > 0, `ticks=${ticks}: saw nothing`)
      assert.deepEqual(
        seen,
        range(seen[0], loopLength),
        `ticks=${ticks}: history ${fromHistory} then live ${live}`,
      )
      assert.equal(early, 0, `ticks=${ticks}: ${early} events overtook the join's answer`)
      assert.equal(joined.history.lastOffset + live.length, loopLength, `ticks=${ticks}`)
      if (skipped > 0 && live.length > 0) racedWithHistory++
    }
    // The holding path must have been exercised: some joins held messages their own history also carried.
    assert.ok(racedWithHistory > 0, 'no join landed inside the publishing loop')
  })

  it('with resume sees exactly the offsets after the resume point, wherever it lands', async (t) => {
    const before = 3
    for (let ticks = 0; ticks <= 2 * loopLength + 4; ticks += 2) {
      const { joined, live, early } = await race(t, ticks, before)
      const seen = [...joined.history.messages.map((message) => message.offset), ...live]
      assert.deepEqual(seen, range(before + 1, before + loopLength), `ticks=${ticks}`)
      assert.equal(joined.history.gap, null)
      assert.equal(early, 0, `ticks=${ticks}`)
    }
  })

  it("delivers the joiner's own presence join after the answer, and presence of others in order", async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann' })
    const joining = ann.session.join('x')
    const bob = await connectFake(hub, { nick: 'bob', rooms: ['x'] })
    const joined = accepted(await joining)
    assert.deepEqual(joined.members, ['ann'])
    assert.deepEqual(ann.member.presence('x'), [])
    await nextTurn()
    assert.deepEqual(ann.member.presence('x'), ['join ann', 'join bob'])
    assert.deepEqual(bob.member.presence('x'), ['join bob'])
  })

  it('holds only the room being joined: other rooms and direct messages flow on', async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann' })
    const bob = await connectFake(hub, { nick: 'bob' })
    await nextTurn()
    const joining = ann.session.join('x')
    accepted(await bob.session.publish('lobby', 'in the lobby'))
    accepted(await bob.session.direct('ann', 'direct'))
    assert.deepEqual(
      ann.member.events.filter((event) => event.type !== 'presence').map((event) => event.data),
      ['in the lobby', 'direct'],
    )
    accepted(await joining)
  })

  it('sends no message twice when a connection leaves and rejoins a room within one turn (#4)', async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const bob = await connectFake(hub, { nick: 'bob', rooms: [] })
    await nextTurn()
    accepted(await bob.session.join('x'))
    accepted(await bob.session.leave('x'))
    accepted(await ann.session.publish('x', 'm1'))
    const rejoining = bob.session.join('x')
    const second = ann.session.publish('x', 'm2')
    const joined = accepted(await rejoining)
    accepted(await second)
    await nextTurn()
    const seen = [...joined.history.messages.map((message) => message.offset), ...bob.member.offsets('x')]
    assert.deepEqual(seen, [1, 2])
  })
})
