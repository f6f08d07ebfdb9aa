// A transport's per-event encoding: shared by every member of one delivery pass, and kept for the latest
// event only, so the encodings of the events a room's history keeps are not kept with them.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { HubEvent } from '../../src/hub/member.js'
import { LastEventCache } from '../../src/transports/event-cache.js'

function message(offset: number): HubEvent {
  return {
    type: 'message',
    room: 'lobby',
    from: 'ann',
    data: `m${offset}`,
    offset,
    ts: 0,
    epoch: 'e',
  } as HubEvent
}

describe('LastEventCache', () => {
  it('makes one value per event for every member it is delivered to, and forgets it for the next event', () => {
    const cache = new LastEventCache<{ made: number }>()
    let made = 0
    const make = () => ({ made: ++made })
    const first = message(1)
    const second = message(2)
    const shared = cache.get(first, make)
    assert.equal(cache.get(first, make), shared)
    assert.equal(cache.get(first, make), shared)
    assert.deepEqual(cache.get(second, make), { made: 2 })
    // An event delivered again later (held while its room was joined) is encoded again, not kept all along.
    const again = cache.get(first, make)
    assert.notEqual(again, shared)
    assert.deepEqual(again, { made: 3 })
  })
})
