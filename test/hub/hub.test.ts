// The hub's lifecycle: connecting (lobby, guest names, nicknames and rooms at connect), the room list,
// connection counts, a session's detach, and hub.close. Members are fakes: the hub is the unit here.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Disconnect } from '../../src/hub/disconnect.js'
import {
  FakeMember,
  accepted,
  assertRefused,
  connectFake,
  makeHub,
  nextTurn,
} from '../helpers/fake-member.js'

describe('Hub.connect', () => {
  it('puts every new member in the lobby and tells it so', async (t) => {
    const hub = makeHub(t)
    const { member, session } = await connectFake(hub)
    assert.deepEqual([...session.rooms], ['lobby'])
    assert.deepEqual(await session.who('lobby'), [session.nick])
    await nextTurn()
    assert.deepEqual(member.presence('lobby'), [`join ${session.nick}`])
  })

  it('gives each member without a nickname its own guest-N name', async (t) => {
    const hub = makeHub(t)
    const nicks = []
    for (let i = 0; i < 3; i++) nicks.push((await connectFake(hub)).session.nick)
    for (const nick of nicks) assert.match(nick, /^guest-\d+$/)
    assert.equal(new Set(nicks).size, 3)
  })

  it('claims the nickname asked for at connect and hands back its key', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub, { nick: 'ann' })
    assert.equal(session.nick, 'ann')
    assert.match(session.nickKey, /^[A-Za-z0-9_-]{12}$/)
    assert.equal(await hub.adapter.presence.hasNick('ann'), true)
  })

  it('refuses a connection whose nickname is taken with 409 nick-taken and keeps nothing of it', async (t) => {
    const hub = makeHub(t)
    await connectFake(hub, { nick: 'ann' })
    const refused = await hub.connect(new FakeMember(), { nick: 'ann' })
    assertRefused(refused, 'nick-taken', 409)
    assert.equal(hub.stats().connections.tcp, 1)
    assert.deepEqual(await hub.rooms(), [{ room: 'lobby', members: 1 }])
  })

  it('refuses a nickname that breaks the rules at connect with 400 bad-nick', async (t) => {
    const hub = makeHub(t)
    assertRefused(await hub.connect(new FakeMember(), { nick: 'no spaces' }), 'bad-nick', 400)
    assert.equal(hub.stats().connections.tcp, 0)
  })

  it('joins the rooms given at connect instead of the lobby', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub, { rooms: ['a', 'b'] })
    assert.deepEqual([...session.rooms], ['a', 'b'])
    assert.deepEqual(await hub.rooms(), [
      { room: 'a', members: 1 },
      { room: 'b', members: 1 },
    ])
  })

  it('refuses a bad room at connect with 400 bad-room and releases the nickname it claimed', async (t) => {
    const hub = makeHub(t)
    const refused = await hub.connect(new FakeMember(), { nick: 'ann', rooms: ['lobby', 'no spaces'] })
    assertRefused(refused, 'bad-room', 400)
    assert.equal(await hub.adapter.presence.hasNick('ann'), false)
    assert.deepEqual(await hub.rooms(), [])
    assert.equal(hub.stats().connections.tcp, 0)
  })

  it('finds a local session by its connection id', async (t) => {
    const hub = makeHub(t)
    const { member, session } = await connectFake(hub, { id: 'conn-7' })
    assert.equal(member.id, 'conn-7')
    assert.equal(hub.session('conn-7'), session)
    assert.deepEqual([...hub.sessions()], [session])
  })

  it('counts connections by transport and forgets them when they detach', async (t) => {
    const hub = makeHub(t)
    await connectFake(hub, { transport: 'tcp' })
    await connectFake(hub, { transport: 'tcp' })
    const { session } = await connectFake(hub, { transport: 'websocket' })
    assert.deepEqual(hub.stats().connections, { tcp: 2, unix: 0, udp: 0, websocket: 1, socketio: 0 })
    await session.detach()
    assert.equal(hub.stats().connections.websocket, 0)
    assert.equal(hub.session(session.member.id), undefined)
  })
})

describe('Hub.rooms', () => {
  it('lists each room with anyone in it once, with how many nicknames are there', async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['lobby', 'x'] })
    await connectFake(hub, { nick: 'ann', nickKey: ann.session.nickKey, rooms: ['x'] })
    await connectFake(hub, { nick: 'bob', rooms: ['x'] })
    assert.deepEqual(await hub.rooms(), [
      { room: 'lobby', members: 1 },
      { room: 'x', members: 2 },
    ])
  })

  it('drops a room from the list once its last member leaves', async (t) => {
    const hub = makeHub(t)
    const { session } = await connectFake(hub, { rooms: ['lobby', 'x'] })
    accepted(await session.leave('x'))
    assert.deepEqual(await hub.rooms(), [{ room: 'lobby', members: 1 }])
  })
})

describe('Session.detach', () => {
  it('leaves every room with a presence leave the others see, and frees the nickname', async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann', rooms: ['lobby', 'x'] })
    const bob = await connectFake(hub, { nick: 'bob', rooms: ['lobby', 'x'] })
    await ann.session.detach()
    await nextTurn()
    assert.deepEqual(bob.member.presence('lobby'), ['join bob', 'leave ann'])
    assert.deepEqual(bob.member.presence('x'), ['join bob', 'leave ann'])
    assert.deepEqual(await hub.rooms(), [
      { room: 'lobby', members: 1 },
      { room: 'x', members: 1 },
    ])
    const again = await connectFake(hub, { nick: 'ann' })
    assert.equal(again.session.nick, 'ann')
  })

  it('announces the leave only once when called twice', async (t) => {
    const hub = makeHub(t)
    const ann = await connectFake(hub, { nick: 'ann' })
    const bob = await connectFake(hub, { nick: 'bob' })
    await Promise.all([ann.session.detach(), ann.session.detach()])
    await ann.session.detach()
    await nextTurn()
    assert.deepEqual(bob.member.presence('lobby'), ['join bob', 'leave ann'])
  })

  it('refuses every operation afterwards with 410 closed', async (t) => {
    const hub = makeHub(t)
    await connectFake(hub, { nick: 'bob' })
    const { session } = await connectFake(hub, { nick: 'ann' })
    await session.detach()
    assertRefused(await session.join('x'), 'closed', 410)
    assertRefused(await session.publish('lobby', 'hi'), 'closed', 410)
    assertRefused(await session.direct('bob', 'hi'), 'closed', 410)
  })
})

describe('Hub.close', () => {
  it('closes every member with the reason given', async (t) => {
    const hub = makeHub(t)
    const members = []
    for (let i = 0; i < 3; i++) members.push((await connectFake(hub)).member)
    await hub.close(Disconnect.Kicked)
    for (const member of members) assert.deepEqual(member.closes, [Disconnect.Kicked])
  })

  it('closes with server stopping when no reason is given', async (t) => {
    const hub = makeHub(t)
    const { member } = await connectFake(hub)
    await hub.close()
    assert.deepEqual(await member.closed(), Disconnect.ServerStopping)
  })

  it('empties presence, frees every nickname and forgets every session', async (t) => {
    const hub = makeHub(t)
    await connectFake(hub, { nick: 'ann', rooms: ['lobby', 'x'] })
    await connectFake(hub, { nick: 'bob' })
    await hub.close()
    assert.deepEqual(await hub.rooms(), [])
    assert.equal(await hub.adapter.presence.hasNick('ann'), false)
    assert.equal(await hub.adapter.presence.hasNick('bob'), false)
    assert.deepEqual([...hub.sessions()], [])
    assert.equal(hub.stats().connections.tcp, 0)
  })

  it('refuses new connections with 503 closed once closing', async (t) => {
    const hub = makeHub(t)
    await hub.close()
    assertRefused(await hub.connect(new FakeMember()), 'closed', 503)
  })

  it('frees the nickname of a connection still being set up when it closes (#4)', async (t) => {
    const hub = makeHub(t)
    const connecting = hub.connect(new FakeMember(), { nick: 'ann' })
    await hub.close()
    assertRefused(await connecting, 'closed', 410)
    assert.equal(await hub.adapter.presence.hasNick('ann'), false)
  })
})
