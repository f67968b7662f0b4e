'use strict'
// Bulk and store work runs off the event loop: while a large import is in flight,
// timers and other callbacks keep running, and quick reads answer synchronously; KPI
// recomputation is a Promise the same way.
const test = require('node:test')
const assert = require('node:assert/strict')
const { ordersmith, orderInput } = require('./helpers.js')

test('the event loop keeps serving while placeOrders imports in the thread pool', async () => {
  const engine = ordersmith.Engine.inMemory()
  const orders = Array.from({ length: 20000 }, (_, i) => orderInput({ ref: `BULK-${i}` }))
  let ticks = 0
  const timer = setInterval(() => {
    ticks += 1
  }, 1)
  let servedBeforeDone = false
  let done = false
  const pending = engine.placeOrders(orders).then((r) => {
    done = true
    return r
  })
  assert.ok(pending instanceof Promise)
  // A callback scheduled after the call starts runs before the import finishes.
  await new Promise((resolve) => setImmediate(resolve))
  servedBeforeDone = !done
  const result = await pending
  clearInterval(timer)
  assert.equal(result.orders.length, 20000)
  assert.equal(result.errors.length, 0)
  assert.ok(servedBeforeDone, 'setImmediate ran while the import was still running')
  assert.ok(ticks > 0, `timers fired during the import (${ticks})`)
  // Quick reads are synchronous values, not Promises.
  const first = engine.order(result.orders[0].id)
  assert.equal(first.external_ref, 'BULK-0')

  // KPI recomputation over the 20,000 orders runs in the pool too.
  let kpiDone = false
  const kpi = engine.kpiTables('Europe/Istanbul').then((t) => {
    kpiDone = true
    return t
  })
  assert.ok(kpi instanceof Promise)
  await new Promise((resolve) => setImmediate(resolve))
  const servedDuringKpi = !kpiDone
  const tables = await kpi
  assert.equal(tables.summary[0].orders, 20000)
  assert.ok(servedDuringKpi, 'setImmediate ran while the KPIs were being recomputed')
})

test('SQLite opens off the event loop and its writes are Promises', async () => {
  const os = require('node:os')
  const path = require('node:path')
  const fs = require('node:fs')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ordersmith-node-'))
  const opening = ordersmith.Engine.open(path.join(dir, 'shop.db'))
  assert.ok(opening instanceof Promise)
  const engine = await opening
  const write = engine.placeOrder(orderInput())
  assert.ok(write instanceof Promise)
  const order = await write
  engine.close()
  fs.rmSync(dir, { recursive: true, force: true })
  assert.equal(order.status, 'pending')
})
