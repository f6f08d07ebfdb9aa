// Publishing and direct messages, and the limits on them: message size, the per-member rate (with an
// injected clock), rooms per member and room names.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { hubDefaults } from '../../src/hub/limits.js'
import type { DirectMessage } from '../../src/hub/member.js'
import { accepted, assertRefused, connectFake, makeHub } from '../helpers/fake-member.js'

/** A clock the test moves by hand. */
function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start
  return {
    now: () => time,
    advance: (ms) => {
      time += ms
    },
  }
}

describe('Session.publish', () => {
  it('delivers a message to everyone in the room, the sender included', async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const bob = await connectFake(hub, { nick: 'bob', rooms: ['x'] })
    accepted(await ann.session.publish('x', 'hello'))
    for (const { member } of [ann, bob]) {
      const message = await member.until((event) => event.type === 'message')
      assert.equal(message.type === 'message' && `${message.from}: ${message.data}`, 'ann: hello')
    }
  })

  it('leaves the sending connection out when echo is false, but not its other connections', async (t) => {
    const hub = makeHub(t)
    const tab1 = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const tab2 = await connectFake(hub, { nick: 'ann', nickKey: tab1.session.nickKey, rooms: ['x'] })
    const bob = await connectFake(hub, { nick: 'bob', rooms: ['x'] })
    accepted(await tab1.session.publish('x', 'one', { echo: false }))
    accepted(await tab1.session.publish('x', 'two', { echo: true }))
    await bob.member.until((event) => event.type === 'message' && event.offset === 2)
    await tab2.member.until((event) => event.type === 'message' && event.offset === 2)
    assert.deepEqual(bob.member.offsets('x'), [1, 2])
    assert.deepEqual(tab2.member.offsets('x'), [1, 2])
    assert.deepEqual(tab1.member.offsets('x'), [2])
  })

  it("acks each message with the room's next offset, 1, 2, 3, and the room's epoch", async (t) => {
    const clock = manualClock()
    const hub = makeHub(t, { now: clock.now })
    const { session } = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const acks = []
    for (const text of ['a', 'b', 'c']) acks.push(accepted(await session.publish('x', text)))
    assert.deepEqual(
      acks.map((ack) => [ack.offset, ack.data, ack.from, ack.room, ack.ts]),
      [
        [1, 'a', 'ann', 'x', clock.now()],
        [2, 'b', 'ann', 'x', clock.now()],
        [3, 'c', 'ann', 'x', clock.now()],
      ],
    )
    assert.match(acks[0].epoch, /^[a-z0-9]+$/)
    assert.equal(new Set(acks.map((ack) => ack.epoch)).size, 1)
    const history = accepted(await session.history('x', { last: 1 }))
    assert.equal(history.epoch, acks[0].epoch)
  })

  it('numbers each room on its own, with its own epoch', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub, { rooms: ['x', 'y'] })
    const offsets = []
    for (const room of ['x', 'x', 'y', 'x', 'y'])
      offsets.push(accepted(await session.publish(room, room)).offset)
    assert.deepEqual(offsets, [1, 2, 1, 3, 2])
    const x = accepted(await session.publish('x', 'x'))
    const y = accepted(await session.publish('y', 'y'))
    assert.notEqual(x.epoch, y.epoch)
  })

  it('delivers nothing to members of other rooms', async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const bob = await connectFake(hub, { nick: 'bob', rooms: ['y'] })
    accepted(await ann.session.publish('x', 'for x'))
    accepted(await bob.session.publish('y', 'for y'))
    await ann.member.until((event) => event.type === 'message')
    await bob.member.until((event) => event.type === 'message')
    assert.deepEqual(
      ann.member.messages().map((message) => message.data),
      ['for x'],
    )
    assert.deepEqual(
      bob.member.messages().map((message) => message.data),
      ['for y'],
    )
  })

  it('carries binary data as the same bytes', async (t) => {
    const hub = makeHub(t)
    const { member, session } = await connectFake(hub, { rooms: ['x'] })
    accepted(await session.publish('x', new Uint8Array([0, 0xff, 0x80, 0x0a])))
    const message = await member.until((event) => event.type === 'message')
    assert.deepEqual(message.type === 'message' && [...(message.data as Uint8Array)], [0, 0xff, 0x80, 0x0a])
  })

  it('refuses to publish to a room the connection is not in with 403 not-in-room', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub)
    assertRefused(await session.publish('x', 'hi'), 'not-in-room', 403)
    assert.equal(accepted(await session.history('x', { last: 10 })).lastOffset, 0)
  })
})

describe('Session.direct', () => {
  it('reaches every connection of the nickname and nobody else', async (t) => {
    const hub = makeHub(t)
    const tab1 = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const tab2 = await connectFake(hub, { nick: 'ann', nickKey: tab1.session.nickKey, rooms: ['y'] })
    const bob = await connectFake(hub, { nick: 'bob' })
    const carl = await connectFake(hub, { nick: 'carl' })
    const sent = accepted(await bob.session.direct('ann', 'psst'))
    assert.deepEqual([sent.type, sent.from, sent.to, sent.data], ['direct', 'bob', 'ann', 'psst'])
    for (const { member } of [tab1, tab2]) {
      const directs = member.events.filter((event): event is DirectMessage => event.type === 'direct')
      assert.deepEqual(directs, [sent])
    }
    assert.equal(carl.member.events.filter((event) => event.type === 'direct').length, 0)
    assert.equal(bob.member.events.filter((event) => event.type === 'direct').length, 0)
  })

  it('answers 404 no-such-member for a nickname nobody holds', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub, { nick: 'bob' })
    assertRefused(await session.direct('nobody', 'hi'), 'no-such-member', 404)
  })
})

describe('message size limit', () => {
  it(`accepts text of exactly ${hubDefaults.maxMessageBytes} UTF-8 bytes by default and refuses one more with 413`, async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub, { nick: 'ann' })
    accepted(await session.publish('lobby', 'a'.repeat(hubDefaults.maxMessageBytes)))
    const refused = await session.publish('lobby', 'a'.repeat(hubDefaults.maxMessageBytes + 1))
    assertRefused(refused, 'message-too-big', 413)
  })

  it('counts text in UTF-8 bytes, not characters', async (t) => {
    const hub = makeHub(t, { limits: { maxMessageBytes: 16 } })
    const { session } = await connectFake(hub, { nick: 'ann' })
    accepted(await session.publish('lobby', 'é'.repeat(8))) // 16 bytes
    assertRefused(await session.publish('lobby', 'é'.repeat(8) + '!'), 'message-too-big', 413)
    assertRefused(await session.publish('lobby', '🎉'.repeat(5)), 'message-too-big', 413) // 20 bytes, 10 units
  })

  it('applies the same limit to binary messages and direct messages', async (t) => {
    const hub = makeHub(t, { limits: { maxMessageBytes: 16 } })
    const { session } = await connectFake(hub, { nick: 'ann' })
    accepted(await session.publish('lobby', new Uint8Array(16)))
    assertRefused(await session.publish('lobby', new Uint8Array(17)), 'message-too-big', 413)
    accepted(await session.direct('ann', 'x'.repeat(16)))
    assertRefused(await session.direct('ann', 'x'.repeat(17)), 'message-too-big', 413)
  })

  it('stores and delivers nothing of a refused message', async (t) => {
    const hub = makeHub(t, { limits: { maxMessageBytes: 4 } })
    const { member, session } = await connectFake(hub, { nick: 'ann' })
    assertRefused(await session.publish('lobby', 'too big'), 'message-too-big', 413)
    assert.equal(accepted(await session.publish('lobby', 'ok')).offset, 1)
    await member.until((event) => event.type === 'message')
    assert.deepEqual(member.offsets('lobby'), [1])
  })
})

describe('rate limit', () => {
  it('allows a burst, then refuses with 429 rate-limited until the clock gives a token back', async (t) => {
    const clock = manualClock()
    const hub = makeHub(t, { now: clock.now, limits: { messagesPerSecond: 50, messageBurst: 5 } })
    const { session } = await connectFake(hub, { nick: 'ann' })
    for (let i = 0; i < 5; i++) accepted(await session.publish('lobby', `burst ${i}`))
    assertRefused(await session.publish('lobby', 'one too many'), 'rate-limited', 429)
    clock.advance(19) // 0.95 of a token at 50/s
    assertRefused(await session.publish('lobby', 'still too soon'), 'rate-limited', 429)
    clock.advance(1)
    accepted(await session.publish('lobby', 'one token back'))
    assertRefused(await session.publish('lobby', 'and gone again'), 'rate-limited', 429)
    assert.equal(hub.stats().dropped.get('rate-limited'), 3)
  })

  it('holds a steady rate of messagesPerSecond after the burst', async (t) => {
    const clock = manualClock()
    const hub = makeHub(t, { now: clock.now, limits: { messagesPerSecond: 50, messageBurst: 5 } })
    const { session } = await connectFake(hub, { nick: 'ann' })
    let sent = 0
    // Two seconds of trying every 5 ms (four times the allowed rate) on top of the initial burst.
    for (let ms = 0; ms < 2000; ms += 5) {
      const result = await session.publish('lobby', 'x')
      if ('offset' in result) sent++
      else assertRefused(result, 'rate-limited', 429)
      clock.advance(5)
    }
    assert.equal(sent, 5 + 100 - 1) // the burst, then 50/s for the 1995 ms between the first and last try
  })

  it('refills no further than the burst after a long silence', async (t) => {
    const clock = manualClock()
    const hub = makeHub(t, { now: clock.now, limits: { messagesPerSecond: 50, messageBurst: 5 } })
    const { session } = await connectFake(hub, { nick: 'ann' })
    clock.advance(60_000)
    for (let i = 0; i < 5; i++) accepted(await session.publish('lobby', `burst ${i}`))
    assertRefused(await session.publish('lobby', 'sixth'), 'rate-limited', 429)
  })

  it('counts direct messages against the same budget, but not messages refused as too big', async (t) => {
    const clock = manualClock()
    const limits = { messagesPerSecond: 1, messageBurst: 2, maxMessageBytes: 4 }
    const hub = makeHub(t, { now: clock.now, limits })
    const { session } = await connectFake(hub, { nick: 'ann' })
    assertRefused(await session.publish('lobby', 'too big'), 'message-too-big', 413)
    accepted(await session.direct('ann', 'one'))
    accepted(await session.publish('lobby', 'two'))
    assertRefused(await session.publish('lobby', 'tre'), 'rate-limited', 429)
    assertRefused(await session.direct('ann', 'tre'), 'rate-limited', 429)
  })

  it('gives each connection its own budget', async (t) => {
    const clock = manualClock()
    const hub = makeHub(t, { now: clock.now, limits: { messagesPerSecond: 1, messageBurst: 1 } })
    const ann = await connectFake(hub, { nick: 'ann' })
    const bob = await connectFake(hub, { nick: 'bob' })
    accepted(await ann.session.publish('lobby', 'a'))
    assertRefused(await ann.session.publish('lobby', 'a'), 'rate-limited', 429)
    accepted(await bob.session.publish('lobby', 'b'))
  })
})

describe('rooms', () => {
  it('accepts room names of 1 to 64 letters, digits, _ - . and #, and refuses others with 400', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub)
    for (const room of ['a', '#general', 'r'.repeat(64), 'x_y-z.0']) accepted(await session.join(room))
    for (const room of ['', 'r'.repeat(65), 'a b', 'café', 'a/b', 'a\n']) {
      assertRefused(await session.join(room), 'bad-room', 400)
    }
  })

  it(`lets a connection be in ${hubDefaults.maxRoomsPerMember} rooms by default and refuses one more with 403`, async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub)
    for (let i = 1; i < hubDefaults.maxRoomsPerMember; i++) accepted(await session.join(`room-${i}`))
    assert.equal(session.rooms.size, hubDefaults.maxRoomsPerMember)
    assertRefused(await session.join('one-more'), 'too-many-rooms', 403)
  })

  it('counts the lobby toward maxRoomsPerMember and frees a place on leave', async (t) => {
    const hub = makeHub(t, { limits: { maxRoomsPerMember: 3 } })
    const { session } = await connectFake(hub)
    accepted(await session.join('a'))
    accepted(await session.join('b'))
    assertRefused(await session.join('c'), 'too-many-rooms', 403)
    accepted(await session.join('a')) // joining a room it is in takes no new place
    accepted(await session.leave('lobby'))
    accepted(await session.join('c'))
    assert.deepEqual([...session.rooms].sort(), ['a', 'b', 'c'])
  })

  it('answers 403 not-in-room when leaving a room the connection is not in', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub)
    assertRefused(await session.leave('x'), 'not-in-room', 403)
  })

  it('stops delivering a room once the connection has left it', async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const bob = await connectFake(hub, { nick: 'bob', rooms: ['x'] })
    accepted(await bob.session.leave('x'))
    accepted(await ann.session.publish('x', 'gone'))
    await ann.member.until((event) => event.type === 'message')
    assert.deepEqual(bob.member.messages('x'), [])
    assert.deepEqual(ann.member.presence('x'), ['join ann', 'join bob', 'leave bob'])
  })
})
