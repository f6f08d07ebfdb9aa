// Nicknames: the rules, clashes, one person on several connections (two tabs) sharing a nickname through
// its key, presence keyed by nickname, and the per-connection view.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  FakeMember,
  accepted,
  assertRefused,
  connectFake,
  makeHub,
  nextTurn,
} from '../helpers/fake-member.js'

describe('nickname rules', () => {
  it('accepts a nickname of 32 characters and refuses one of 33 with 400 bad-nick', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub)
    assert.equal(accepted(await session.setNick('a'.repeat(32))).nick, 'a'.repeat(32))
    assertRefused(await session.setNick('b'.repeat(33)), 'bad-nick', 400)
    assert.equal(session.nick, 'a'.repeat(32))
  })

  it('accepts letters, digits, underscore, dash and dot', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub)
    for (const nick of ['A', '7', 'ann_B-2.0', '.-_'])
      assert.equal(accepted(await session.setNick(nick)).nick, nick)
  })

  it('refuses an empty nickname and any other character with 400 bad-nick', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub, { nick: 'ann' })
    for (const nick of ['', 'a b', 'ann!', 'josé', 'ann\n', 'a/b', '#room']) {
      assertRefused(await session.setNick(nick), 'bad-nick', 400)
    }
    assert.equal(session.nick, 'ann')
  })

  it('refuses a chosen nickname starting with guest- with 400 bad-nick', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub)
    assertRefused(await session.setNick('guest-99'), 'bad-nick', 400)
    assertRefused(await session.setNick('guest-'), 'bad-nick', 400)
    assertRefused(await hub.connect(new FakeMember(), { nick: 'guest-1' }), 'bad-nick', 400)
  })

  it('lets a guest pick a real nickname and frees its guest name', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub)
    const guest = session.nick
    accepted(await session.setNick('ann'))
    assert.equal(await hub.adapter.presence.hasNick(guest), false)
    assert.deepEqual(await session.who('lobby'), ['ann'])
  })
})

describe('nickname clashes', () => {
  it('refuses a nickname another connection holds with 409 nick-taken', async (t) => {
    const hub = makeHub(t)
    await connectFake(hub, { nick: 'ann' })
    const { session } = await connectFake(hub, { nick: 'bob' })
    assertRefused(await session.setNick('ann'), 'nick-taken', 409)
    assert.equal(session.nick, 'bob')
  })

  it('refuses a held nickname presented with the wrong key with 409 nick-taken', async (t) => {
    const hub = makeHub(t)
    await connectFake(hub, { nick: 'ann' })
    const refused = await hub.connect(new FakeMember(), { nick: 'ann', nickKey: 'not-the-key' })
    assertRefused(refused, 'nick-taken', 409)
  })

  it('answers the same key when a connection sets the nickname it already has', async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann' })
    const bob = await connectFake(hub, { nick: 'bob' })
    assert.deepEqual(await ann.session.setNick('ann'), { nick: 'ann', key: ann.session.nickKey })
    await nextTurn()
    assert.deepEqual(bob.member.presence('lobby'), ['join bob'])
  })
})

describe('a nickname shared by several connections (two tabs)', () => {
  it('joins presence once however many connections share the nickname', async (t) => {
    const hub = makeHub(t)
    const carl = await connectFake(hub, { nick: 'carl' })
    const tab1 = await connectFake(hub, { nick: 'ann' })
    const tab2 = await connectFake(hub, { nick: 'ann', nickKey: tab1.session.nickKey })
    assert.equal(tab2.session.nickKey, tab1.session.nickKey)
    await nextTurn()
    assert.deepEqual(carl.member.presence('lobby'), ['join carl', 'join ann'])
    assert.deepEqual(await carl.session.who('lobby'), ['ann', 'carl'])
  })

  it('leaves presence only when the last connection of the nickname goes', async (t) => {
    const hub = makeHub(t)
    const carl = await connectFake(hub, { nick: 'carl' })
    const tab1 = await connectFake(hub, { nick: 'ann' })
    const tab2 = await connectFake(hub, { nick: 'ann', nickKey: tab1.session.nickKey })
    await tab1.session.detach()
    await nextTurn()
    assert.deepEqual(carl.member.presence('lobby'), ['join carl', 'join ann'])
    assert.deepEqual(await carl.session.who('lobby'), ['ann', 'carl'])
    await tab2.session.detach()
    assert.deepEqual(carl.member.presence('lobby'), ['join carl', 'join ann', 'leave ann'])
    assert.deepEqual(await carl.session.who('lobby'), ['carl'])
  })

  it('keeps the nickname held until its last connection lets go', async (t) => {
    const hub = makeHub(t)
    const tab1 = await connectFake(hub, { nick: 'ann' })
    const tab2 = await connectFake(hub, { nick: 'ann', nickKey: tab1.session.nickKey })
    await tab1.session.detach()
    assertRefused(await hub.connect(new FakeMember(), { nick: 'ann' }), 'nick-taken', 409)
    await tab2.session.detach()
    const stranger = await connectFake(hub, { nick: 'ann' })
    assert.notEqual(stranger.session.nickKey, tab1.session.nickKey)
  })

  it('leaves a room in presence only when the last connection there leaves it', async (t) => {
    const hub = makeHub(t)
    const carl = await connectFake(hub, { nick: 'carl', rooms: ['x'] })
    const tab1 = await connectFake(hub, { nick: 'ann', rooms: ['x'] })
    const tab2 = await connectFake(hub, { nick: 'ann', nickKey: tab1.session.nickKey, rooms: ['x'] })
    accepted(await tab2.session.leave('x'))
    await nextTurn()
    assert.deepEqual(carl.member.presence('x'), ['join carl', 'join ann'])
    accepted(await tab1.session.leave('x'))
    assert.deepEqual(carl.member.presence('x'), ['join carl', 'join ann', 'leave ann'])
  })

  it('shows every connection with its nickname in the per-connection view', async (t) => {
    const hub = makeHub(t)
    const tab1 = await connectFake(hub, { nick: 'ann', id: 'c1' })
    await connectFake(hub, { nick: 'ann', nickKey: tab1.session.nickKey, id: 'c2' })
    await connectFake(hub, { nick: 'bob', id: 'c3' })
    const connections = accepted(await tab1.session.whoConnections('lobby'))
    const byId = (a: { connectionId: string }, b: { connectionId: string }) =>
      a.connectionId.localeCompare(b.connectionId)
    assert.deepEqual(connections.sort(byId), [
      { nick: 'ann', connectionId: 'c1' },
      { nick: 'ann', connectionId: 'c2' },
      { nick: 'bob', connectionId: 'c3' },
    ])
  })

  it('refuses who and whoConnections for a bad room name with 400 bad-room', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub)
    assertRefused(await session.who('no spaces'), 'bad-room', 400)
    assertRefused(await session.whoConnections('x'.repeat(65)), 'bad-room', 400)
  })
})

describe('renaming', () => {
  it('announces the new nickname joining and the old one leaving in every room', async (t) => {
    const hub = makeHub(t)
    const carl = await connectFake(hub, { nick: 'carl', rooms: ['lobby', 'x'] })
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['lobby', 'x'] })
    accepted(await ann.session.setNick('anna'))
    await nextTurn()
    for (const room of ['lobby', 'x']) {
      assert.deepEqual(carl.member.presence(room), ['join carl', 'join ann', 'join anna', 'leave ann'])
    }
    assert.equal(await hub.adapter.presence.hasNick('ann'), false)
  })

  it('keeps the old nickname present while another connection still holds it', async (t) => {
    const hub = makeHub(t)
    const carl = await connectFake(hub, { nick: 'carl' })
    const tab1 = await connectFake(hub, { nick: 'ann' })
    await connectFake(hub, { nick: 'ann', nickKey: tab1.session.nickKey })
    accepted(await tab1.session.setNick('anna'))
    await nextTurn()
    assert.deepEqual(carl.member.presence('lobby'), ['join carl', 'join ann', 'join anna'])
    assert.deepEqual(await carl.session.who('lobby'), ['ann', 'anna', 'carl'])
  })

  it('delivers direct messages under the new nickname only', async (t) => {
    const hub = makeHub(t)
    const carl = await connectFake(hub, { nick: 'carl' })
    const ann = await connectFake(hub, { nick: 'ann' })
    accepted(await ann.session.setNick('anna'))
    assertRefused(await carl.session.direct('ann', 'hi'), 'no-such-member', 404)
    accepted(await carl.session.direct('anna', 'hi'))
    assert.deepEqual(
      ann.member.events.filter((event) => event.type === 'direct').map((event) => event.to),
      ['anna'],
    )
  })
})
