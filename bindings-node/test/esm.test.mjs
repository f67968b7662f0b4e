// The ES module entry exports the same objects as the CommonJS one.
import test from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import ordersmith, { Engine, OrderError, errorCodes } from '../index.mjs'

const require = createRequire(import.meta.url)

test('import and require give the same package', async () => {
  const cjs = require('../index.js')
  assert.equal(Engine, cjs.Engine)
  assert.equal(ordersmith, cjs)
  assert.equal(errorCodes().length, cjs.errorCodes().length)
  for (const name of Object.keys(cjs)) {
    const mod = await import('../index.mjs')
    assert.ok(name in mod, `${name} is exported by index.mjs`)
  }
  assert.throws(() => Engine.inMemory().order('order-9'), OrderError)
})
