// The in-memory adapter: the contract every adapter passes, and hubs in one process kept apart.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryAdapter } from '../../src/cluster/memory-adapter.js'
import { MemoryHistory } from '../../src/hub/history.js'
import { accepted, connectFake, makeHub, nextTurn } from '../helpers/fake-member.js'
import { adapterContract } from './adapter-contract.js'

adapterContract('memory', () => new MemoryAdapter(new MemoryHistory()))

describe('MemoryAdapter', () => {
  // Each MemoryAdapter is its own bus: hubs that should share rooms need a shared adapter, which the
  // Redis adapter brings. Until then, three hubs in one process must not see each other at all.
  it('keeps three hubs in one process apart, each on its own adapter', async (t) => {
    const hubs = [makeHub(t), makeHub(t), makeHub(t)]
    const anns = []
    for (const hub of hubs) anns.push(await connectFake(hub, { nick: 'ann' }))
    const bob = await connectFake(hubs[0], { nick: 'bob' })
    await nextTurn()
    const acks = []
    for (const [i, { session }] of anns.entries())
      acks.push(accepted(await session.publish('lobby', `from hub ${i}`)))
    accepted(await bob.session.direct('ann', 'only on hub 0'))
    // Every hub numbers its own lobby from 1, in a stream of its own.
    assert.deepEqual(
      acks.map((ack) => ack.offset),
      [1, 1, 1],
    )
    assert.equal(new Set(acks.map((ack) => ack.epoch)).size, 3)
    for (const [i, { member }] of anns.entries()) {
      const heard = member.events.map((event) =>
        event.type === 'presence' ? `${event.event} ${event.member}` : event.data,
      )
      assert.deepEqual(
        heard,
        i === 0 ? ['join ann', 'join bob', 'from hub 0', 'only on hub 0'] : ['join ann', `from hub ${i}`],
      )
    }
    assert.deepEqual(await Promise.all(hubs.map((hub) => hub.rooms())), [
      [{ room: 'lobby', members: 2 }],
      [{ room: 'lobby', members: 1 }],
      [{ room: 'lobby', members: 1 }],
    ])
  })

  it('uses the presence store it is given', async () => {
    const shared = new MemoryAdapter(new MemoryHistory())
    const other = new MemoryAdapter(new MemoryHistory(), shared.presence)
    assert.equal(await shared.presence.claimNick('ann', 'key', 'c1'), 'claimed')
    assert.equal(await other.presence.claimNick('ann', 'other-key', 'c2'), 'taken')
    await Promise.all([shared.close(), other.close()])
  })
})
