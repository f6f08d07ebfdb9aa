// The Socket.IO settings: their defaults in one object, and settings that cannot work refused at once.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { resolveSocketIOSettings, socketIODefaults } from '../../src/socketio/options.js'
import { SocketIOServer } from '../../src/socketio/server.js'

describe('settings', () => {
  it('fills every setting from socketIODefaults, with recovery off unless asked for', () => {
    assert.deepEqual(resolveSocketIOSettings({}), {
      connectTimeoutMs: socketIODefaults.connectTimeoutMs,
      maxAttachments: socketIODefaults.maxAttachments,
      maxDepth: socketIODefaults.maxDepth,
      cleanupEmptyChildNamespaces: true,
      recovery: null,
    })
    assert.deepEqual(resolveSocketIOSettings({ connectionStateRecovery: { maxStoredPackets: 5 } }).recovery, {
      ...socketIODefaults.recovery,
      maxStoredPackets: 5,
    })
  })

  it('serves at /socket.io/ by default, and at the path given', async (t) => {
    const io = new SocketIOServer()
    const custom = new SocketIOServer(undefined, { path: '/rt' })
    t.after(() => Promise.all([io.close(), custom.close()]))
    assert.equal(io.path, '/socket.io/')
    assert.equal(custom.path, '/rt/')
  })

  it('refuses settings that cannot work with a RangeError that has a code', () => {
    for (const options of [
      { connectTimeoutMs: 0 },
      { maxDepth: 0 },
      { maxAttachments: -1 },
      { maxAttachments: 1.5 },
      { connectionStateRecovery: { maxDisconnectionDurationMs: 0 } },
      { connectionStateRecovery: { maxStoredPackets: Number.NaN } },
    ]) {
      assert.throws(() => resolveSocketIOSettings(options), {
        name: 'RangeError',
        code: 'sio-invalid-setting',
      })
    }
  })

  it('refuses a namespace name with a comma, and adds the leading slash to one without', async (t) => {
    const io = new SocketIOServer()
    t.after(() => io.close())
    assert.throws(() => io.of('/a,b'), { name: 'RangeError', code: 'sio-invalid-namespace' })
    assert.equal(io.of('plain').name, '/plain')
    assert.equal(io.of('/plain'), io.of('plain'))
  })

  it('refuses a negative or fractional ack timeout', async (t) => {
    const io = new SocketIOServer()
    t.after(() => io.close())
    assert.throws(() => io.timeout(-1), { name: 'RangeError', code: 'sio-invalid-timeout' })
    assert.throws(() => io.timeout(1.5), { name: 'RangeError', code: 'sio-invalid-timeout' })
  })
})
