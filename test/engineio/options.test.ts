// The settings of the Engine.IO server: their defaults in one exported object, and settings that cannot work
// refused at once with a coded error.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { engineDefaults, resolveEngineSettings } from '../../src/engineio/options.js'
import { EngineServer } from '../../src/engineio/server.js'

describe('engine settings', () => {
  it('defaults to the protocol’s usual values: 25 s interval, 20 s timeout, 1 MB payload, 10 s upgrade', () => {
    assert.deepEqual(resolveEngineSettings(), {
      path: '/engine.io/',
      transports: ['polling', 'websocket'],
      pingIntervalMs: 25_000,
      pingTimeoutMs: 20_000,
      maxPayloadBytes: 1_000_000,
      upgradeTimeoutMs: 10_000,
    })
    assert.equal(engineDefaults.corsMaxAgeSeconds, 600)
  })

  for (const key of ['pingIntervalMs', 'pingTimeoutMs', 'maxPayloadBytes', 'upgradeTimeoutMs'] as const) {
    it(`refuses ${key} of 0 or 1.5 with a RangeError coded eio-invalid-setting`, () => {
      for (const value of [0, 1.5]) {
        assert.throws(() => new EngineServer({ [key]: value }), {
          name: 'RangeError',
          code: 'eio-invalid-setting',
        })
      }
    })
  }

  it('refuses a path without a leading slash and an empty transport list with a TypeError', () => {
    assert.throws(() => resolveEngineSettings({ path: 'engine.io' }), {
      name: 'TypeError',
      code: 'eio-invalid-setting',
    })
    assert.throws(() => resolveEngineSettings({ transports: [] }), {
      name: 'TypeError',
      code: 'eio-invalid-setting',
    })
  })
})
