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

test('PostgreSQL: reservations and confirmations decided without a read never oversell', { skip: pgUrl ? false : 'ORDERSMITH_PG_URL is not set (scripts/test --node sets it)' }, async () => {
  // A reservation by hand and a new order placed and confirmed skip the stock read
  // while the engine's reads are quiet; the commit checks them.
  const schema = `node_unread_${process.pid}_${Date.now()}`
  const a = await ordersmith.Engine.connect(pgUrl, { schema, poolSize: 2 })
  const stale = await ordersmith.Engine.connect(pgUrl, { schema, poolSize: 2 })
  await a.stockBatch([
    { command: 'add_location', location: { id: 'IST', name: 'Istanbul', priority: 1, region: 'TR-34', kind: 'warehouse' } },
    { command: 'register_variant', variant: 'MUG', policy: 'deny' },
    { command: 'receive', variant: 'MUG', location: 'IST', quantity: 10 },
  ])
  const reserve = (engine, id, quantity) =>
    engine.stock({ command: 'reserve', request: { id, variant: 'MUG', location: 'IST', quantity } })
  await reserve(stale, 's-1', 1)
  await reserve(stale, 's-2', 1) // its read found nothing new
  await reserve(a, 'a-1', 7)
  // The stale engine last saw eight free: its commit is refused, it reads, and two of
  // the one left are refused.
  await assert.rejects(reserve(stale, 's-3', 2), (err) => {
    assert.ok(err instanceof ordersmith.StockError)
    assert.equal(err.code, 'STOCK_INSUFFICIENT')
    assert.equal(err.details.available, 1)
    return true
  })
  await reserve(stale, 's-3', 1)
  assert.equal(a.level('MUG', 'IST').reserved, 10)
  // Sold out as the stale engine saw it; the other engine frees seven.
  await a.stock({ command: 'release', reservation: 'a-1' })
  const { order, created } = await stale.placeOrderThen(orderInput({ quantity: 6 }), [{ command: 'confirm' }])
  assert.ok(created)
  assert.equal(order.status, 'confirmed')
  assert.equal(a.level('MUG', 'IST').reserved, 9)
  a.close()
  stale.close()
})

test('an unreachable PostgreSQL server is a StoreError, not a crash', async () => {
  await assert.rejects(
    ordersmith.Engine.connect('host=127.0.0.1 port=1 user=nobody dbname=none connect_timeout=2'),
    (err) => err instanceof ordersmith.StoreError && err.kind === 'unavailable',
  )
})
