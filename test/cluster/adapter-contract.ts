// The contract every HubAdapter passes: broadcast reaches this node's handler, presence keyed by nickname with
// connections counted under it, nickname claims, the room list, and history through the adapter's store.
// Names are unique per test, so adapters that share a server (Redis) can run it side by side.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import type { Envelope, HubAdapter } from '../../src/hub/adapter.js'
import type { HubEvent, MessageData, RoomMessage } from '../../src/hub/member.js'

/** Builds a fresh adapter, ready to broadcast (subscribed) once the promise resolves. */
export type MakeAdapter = () => HubAdapter | Promise<HubAdapter>

/** A name no other test uses: `prefix-` and 12 random characters. */
function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 12)}`
}

async function open(t: TestContext, makeAdapter: MakeAdapter): Promise<HubAdapter> {
  const adapter = await makeAdapter()
  t.after(() => adapter.close())
  return adapter
}

/** Envelopes the node's handler received, in order; `next` waits for one not taken yet. */
function receive(adapter: HubAdapter): { next: () => Promise<Envelope> } {
  const items: Envelope[] = []
  const waiters: Array<(envelope: Envelope) => void> = []
  adapter.onEnvelope((envelope) => {
    const waiter = waiters.shift()
    if (waiter) waiter(envelope)
    else items.push(envelope)
  })
  return {
    next: () => {
      const item = items.shift()
      return item ? Promise.resolve(item) : new Promise((resolve) => waiters.push(resolve))
    },
  }
}

/** Bytes as a plain array, so a Buffer and a Uint8Array with the same bytes compare equal. */
function plain(data: MessageData): string | number[] {
  return typeof data === 'string' ? data : [...data]
}

function plainEvent(event: HubEvent): unknown {
  return 'data' in event ? { ...event, data: plain(event.data) } : event
}

function message(room: string, offset: number, data: MessageData): RoomMessage {
  return { type: 'message', room, from: 'ann', data, offset, epoch: 'e1', ts: 1_700_000_000_000 + offset }
}

function byConnection(a: { connectionId: string }, b: { connectionId: string }): number {
  return a.connectionId.localeCompare(b.connectionId)
}

/** Registers the contract's tests for one adapter. */
export function adapterContract(name: string, makeAdapter: MakeAdapter): void {
  describe(`${name} adapter: broadcast`, () => {
    it("hands a room envelope to this node's handler with every field intact", async (t) => {
      const adapter = await open(t, makeAdapter)
      const inbox = receive(adapter)
      const room = unique('room')
      const sent: Envelope = { kind: 'room', room, event: message(room, 1, 'hello'), except: 'conn-1' }
      adapter.broadcast(sent)
      assert.deepEqual(await inbox.next(), sent)
    })

    it("hands a nickname envelope to this node's handler", async (t) => {
      const adapter = await open(t, makeAdapter)
      const inbox = receive(adapter)
      const nick = unique('nick')
      const event: HubEvent = { type: 'direct', from: 'bob', to: nick, data: 'psst', ts: 1 }
      adapter.broadcast({ kind: 'nick', nick, event })
      assert.deepEqual(await inbox.next(), { kind: 'nick', nick, event })
    })

    it('carries binary data as the same bytes, every byte value included', async (t) => {
      const adapter = await open(t, makeAdapter)
      const inbox = receive(adapter)
      const room = unique('room')
      const bytes = Uint8Array.from({ length: 256 }, (_, i) => i)
      adapter.broadcast({ kind: 'room', room, event: message(room, 1, bytes) })
      const got = await inbox.next()
      assert.ok(got.kind === 'room' && got.event.type === 'message')
      assert.ok(got.event.data instanceof Uint8Array)
      assert.deepEqual(plainEvent(got.event), plainEvent(message(room, 1, bytes)))
    })

    it('hands envelopes over in the order they were broadcast', async (t) => {
      const adapter = await open(t, makeAdapter)
      const inbox = receive(adapter)
      const room = unique('room')
      for (let offset = 1; offset <= 100; offset++) {
        adapter.broadcast({ kind: 'room', room, event: message(room, offset, `m${offset}`) })
      }
      const offsets = []
      for (let i = 0; i < 100; i++) {
        const got = await inbox.next()
        assert.ok(got.kind === 'room' && got.event.type === 'message')
        offsets.push(got.event.offset)
      }
      assert.deepEqual(
        offsets,
        Array.from({ length: 100 }, (_, i) => i + 1),
      )
    })
  })

  describe(`${name} adapter: presence`, () => {
    it("reports a join for a nickname's first connection in a room only", async (t) => {
      const { presence } = await open(t, makeAdapter)
      const [room, ann] = [unique('room'), unique('ann')]
      assert.equal(await presence.add(room, ann, 'c1'), true)
      assert.equal(await presence.add(room, ann, 'c2'), false)
      assert.equal(await presence.add(room, ann, 'c2'), false)
    })

    it("reports a leave only when the nickname's last connection in the room goes", async (t) => {
      const { presence } = await open(t, makeAdapter)
      const [room, ann] = [unique('room'), unique('ann')]
      await presence.add(room, ann, 'c1')
      await presence.add(room, ann, 'c2')
      assert.equal(await presence.remove(room, ann, 'c1'), false)
      assert.deepEqual(await presence.members(room), [ann])
      assert.equal(await presence.remove(room, ann, 'c2'), true)
      assert.deepEqual(await presence.members(room), [])
    })

    it('ignores the removal of a connection that is not there', async (t) => {
      const { presence } = await open(t, makeAdapter)
      const [room, ann] = [unique('room'), unique('ann')]
      assert.equal(await presence.remove(room, ann, 'c1'), false)
      await presence.add(room, ann, 'c1')
      assert.equal(await presence.remove(room, ann, 'c9'), false)
      assert.equal(await presence.remove(room, unique('bob'), 'c1'), false)
      assert.deepEqual(await presence.members(room), [ann])
    })

    it('lists each nickname in a room once, sorted', async (t) => {
      const { presence } = await open(t, makeAdapter)
      const room = unique('room')
      const [ann, bob, carl] = ['ann', 'bob', 'carl'].map((prefix) => unique(prefix))
      await presence.add(room, carl, 'c1')
      await presence.add(room, ann, 'c2')
      await presence.add(room, bob, 'c3')
      await presence.add(room, ann, 'c4')
      assert.deepEqual(await presence.members(room), [ann, bob, carl])
    })

    it('lists every connection in a room with its nickname', async (t) => {
      const { presence } = await open(t, makeAdapter)
      const [room, ann, bob] = [unique('room'), unique('ann'), unique('bob')]
      await presence.add(room, ann, 'c1')
      await presence.add(room, ann, 'c2')
      await presence.add(room, bob, 'c3')
      assert.deepEqual((await presence.connections(room)).sort(byConnection), [
        { nick: ann, connectionId: 'c1' },
        { nick: ann, connectionId: 'c2' },
        { nick: bob, connectionId: 'c3' },
      ])
      await presence.remove(room, ann, 'c1')
      assert.deepEqual((await presence.connections(room)).sort(byConnection), [
        { nick: ann, connectionId: 'c2' },
        { nick: bob, connectionId: 'c3' },
      ])
    })

    it('keeps rooms apart: one connection in two rooms is counted in each', async (t) => {
      const { presence } = await open(t, makeAdapter)
      const [x, y, ann] = [unique('x'), unique('y'), unique('ann')]
      assert.equal(await presence.add(x, ann, 'c1'), true)
      assert.equal(await presence.add(y, ann, 'c1'), true)
      assert.equal(await presence.remove(x, ann, 'c1'), true)
      assert.deepEqual(await presence.members(x), [])
      assert.deepEqual(await presence.members(y), [ann])
    })

    it('answers an empty list for a room nobody is in', async (t) => {
      const { presence } = await open(t, makeAdapter)
      const room = unique('room')
      assert.deepEqual(await presence.members(room), [])
      assert.deepEqual(await presence.connections(room), [])
    })
  })

  describe(`${name} adapter: rooms`, () => {
    it('lists rooms with anyone in them, sorted, with how many nicknames each has', async (t) => {
      const { presence } = await open(t, makeAdapter)
      const prefix = unique('rooms')
      const [a, b] = [`${prefix}-a`, `${prefix}-b`]
      const [ann, bob] = [unique('ann'), unique('bob')]
      await presence.add(b, ann, 'c1')
      await presence.add(a, ann, 'c1')
      await presence.add(a, ann, 'c2')
      await presence.add(a, bob, 'c3')
      // A shared server may hold other tests' rooms: look at ours only.
      const ours = async () => (await presence.rooms()).filter(({ room }) => room.startsWith(prefix))
      assert.deepEqual(await ours(), [
        { room: a, members: 2 },
        { room: b, members: 1 },
      ])
      await presence.remove(b, ann, 'c1')
      assert.deepEqual(await ours(), [{ room: a, members: 2 }])
    })
  })

  describe(`${name} adapter: nickname claims`, () => {
    it('claims a free nickname, joins it with its key, and refuses it with another key', async (t) => {
      const { presence } = await open(t, makeAdapter)
      const ann = unique('ann')
      assert.equal(await presence.hasNick(ann), false)
      assert.equal(await presence.claimNick(ann, 'key-1', 'c1'), 'claimed')
      assert.equal(await presence.hasNick(ann), true)
      assert.equal(await presence.claimNick(ann, 'key-1', 'c2'), 'joined')
      assert.equal(await presence.claimNick(ann, 'key-2', 'c3'), 'taken')
    })

    it('keeps a nickname held until its last connection releases it', async (t) => {
      const { presence } = await open(t, makeAdapter)
      const ann = unique('ann')
      await presence.claimNick(ann, 'key-1', 'c1')
      await presence.claimNick(ann, 'key-1', 'c2')
      await presence.releaseNick(ann, 'c1')
      assert.equal(await presence.hasNick(ann), true)
      assert.equal(await presence.claimNick(ann, 'key-2', 'c3'), 'taken')
      await presence.releaseNick(ann, 'c2')
      assert.equal(await presence.hasNick(ann), false)
      assert.equal(await presence.claimNick(ann, 'key-2', 'c3'), 'claimed')
      assert.equal(await presence.claimNick(ann, 'key-1', 'c4'), 'taken')
    })

    it('ignores a release by a connection that does not hold the nickname', async (t) => {
      const { presence } = await open(t, makeAdapter)
      const [ann, nobody] = [unique('ann'), unique('nobody')]
      await presence.claimNick(ann, 'key-1', 'c1')
      await presence.releaseNick(ann, 'c9')
      await presence.releaseNick(nobody, 'c1')
      assert.equal(await presence.hasNick(ann), true)
      assert.equal(await presence.hasNick(nobody), false)
    })

    it('keeps each nickname apart', async (t) => {
      const { presence } = await open(t, makeAdapter)
      const [ann, bob] = [unique('ann'), unique('bob')]
      assert.equal(await presence.claimNick(ann, 'key-1', 'c1'), 'claimed')
      assert.equal(await presence.claimNick(bob, 'key-1', 'c1'), 'claimed')
      await presence.releaseNick(ann, 'c1')
      assert.equal(await presence.hasNick(ann), false)
      assert.equal(await presence.hasNick(bob), true)
    })
  })

  // Timestamps are now: a store drops messages older than its retention age.
  describe(`${name} adapter: history`, () => {
    it("numbers a room's messages 1, 2, 3 in one epoch, each room on its own", async (t) => {
      const { history } = await open(t, makeAdapter)
      const [x, y] = [unique('x'), unique('y')]
      const ts = Date.now()
      const acks = []
      for (const room of [x, x, y, x]) acks.push(await history.append(room, { from: 'ann', data: room, ts }))
      assert.deepEqual(
        acks.map((ack) => [ack.room, ack.offset]),
        [
          [x, 1],
          [x, 2],
          [y, 1],
          [x, 3],
        ],
      )
      assert.equal(acks[0].epoch, acks[1].epoch)
      assert.equal(acks[0].epoch, acks[3].epoch)
      assert.deepEqual([acks[0].type, acks[0].from, acks[0].data, acks[0].ts], ['message', 'ann', x, ts])
    })

    it('answers the last N messages, oldest first, with the newest offset', async (t) => {
      const { history } = await open(t, makeAdapter)
      const room = unique('room')
      for (let i = 1; i <= 5; i++) await history.append(room, { from: 'ann', data: `m${i}`, ts: Date.now() })
      const page = await history.last(room, 2)
      assert.deepEqual(
        page.messages.map((m) => [m.offset, m.data]),
        [
          [4, 'm4'],
          [5, 'm5'],
        ],
      )
      assert.deepEqual([page.room, page.lastOffset, page.gap], [room, 5, null])
    })

    it('answers the messages after a point, at most `limit`, with no gap', async (t) => {
      const { history } = await open(t, makeAdapter)
      const room = unique('room')
      let epoch = ''
      for (let i = 1; i <= 5; i++)
        epoch = (await history.append(room, { from: 'ann', data: `m${i}`, ts: Date.now() })).epoch
      const page = await history.after(room, { offset: 1, epoch }, 3)
      assert.deepEqual(
        page.messages.map((m) => m.offset),
        [2, 3, 4],
      )
      assert.deepEqual([page.epoch, page.lastOffset, page.gap], [epoch, 5, null])
    })

    it('answers gap epoch-changed for a point in another epoch', async (t) => {
      const { history } = await open(t, makeAdapter)
      const room = unique('room')
      await history.append(room, { from: 'ann', data: 'one', ts: Date.now() })
      const page = await history.after(room, { offset: 1, epoch: 'not-this-epoch' }, 10)
      assert.deepEqual(page.gap, { reason: 'epoch-changed', firstOffset: 1 })
      assert.deepEqual(
        page.messages.map((m) => m.offset),
        [1],
      )
    })

    it('answers no messages and lastOffset 0 for a room never written', async (t) => {
      const { history } = await open(t, makeAdapter)
      const page = await history.last(unique('room'), 10)
      assert.deepEqual([page.messages, page.lastOffset, page.gap], [[], 0, null])
      assert.ok(page.epoch.length > 0)
    })

    it('keeps binary data as the same bytes', async (t) => {
      const { history } = await open(t, makeAdapter)
      const room = unique('room')
      const bytes = Uint8Array.from({ length: 256 }, (_, i) => 255 - i)
      await history.append(room, { from: 'ann', data: bytes, ts: Date.now() })
      const [stored] = (await history.last(room, 1)).messages
      assert.ok(stored.data instanceof Uint8Array)
      assert.deepEqual(plain(stored.data), plain(bytes))
    })
  })
}
