'use strict'
// SQLite and PostgreSQL are reachable from Node; what is written survives reopening.
const test = require('node:test')
const assert = require('node:assert/strict')
const os = require('node:os')
const path = require('node:path')
const fs = require('node:fs')
const { ordersmith, orderInput } = require('./helpers.js')

test('an SQLite file keeps orders and stock across engines', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ordersmith-node-'))
  const file = path.join(dir, 'shop.db')
  const a = await ordersmith.Engine.open(file, { synchronous: 'normal' })
  await a.stock({ command: 'register_variant', variant: 'MUG', policy: 'deny' })
  const order = await a.placeOrder(orderInput({ ref: 'S-1' }))
  a.close()
  const b = await ordersmith.Engine.open(file)
  assert.equal(b.order(order.id).external_ref, 'S-1')
  const again = await b.placeOrder(orderInput({ ref: 'S-1' }))
  assert.equal(again.id, order.id)
  const next = await b.placeOrder(orderInput({ ref: 'S-2' }))
  assert.notEqual(next.id, order.id)
  b.close()
  fs.rmSync(dir, { recursive: true, force: true })
  // Options are read before the Promise is made: a bad one throws at once.
  assert.throws(() => ordersmith.Engine.open(file, { synchronous: 'sometimes' }), {
    code: 'ENGINE_INVALID_INPUT',
  })
})

const pgUrl = process.env.ORDERSMITH_PG_URL
test('PostgreSQL: connect, write, reconnect and read (ORDERSMITH_PG_URL)', { skip: pgUrl ? false : 'ORDERSMITH_PG_URL is not set (scripts/test --node sets it)' }, async () => {
  const schema = `node_${process.pid}_${Date.now()}`
  const a = await ordersmith.Engine.connect(pgUrl, { schema, poolSize: 2 })
  const order = await a.placeOrder(orderInput({ ref: 'PG-1' }))
  await a.confirmOrder(order.id)
  a.close()
  const b = await ordersmith.Engine.connect(pgUrl, { schema })
  assert.equal(b.order(order.id).status, 'confirmed')
  b.close()
})

test('an unreachable PostgreSQL server is a StoreError, not a crash', async () => {
  await assert.rejects(
    ordersmith.Engine.connect('host=127.0.0.1 port=1 user=nobody dbname=none connect_timeout=2'),
    (err) => err instanceof ordersmith.StoreError && err.kind === 'unavailable',
  )
})
