'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { ordersmith, orderInput, stocked } = require('./helpers.js')

test('an order goes from placed to shipped, with stock reserved and committed', async () => {
  const engine = await stocked()
  const placed = await engine.placeOrder(orderInput({ ref: 'W-1' }))
  assert.equal(placed.status, 'pending')
  assert.equal(placed.totals.total.amount, '453.60')
  assert.deepEqual(placed.totals.total, { amount: '453.60', currency: 'TRY' })
  const confirmed = await engine.confirmOrder(placed.id, { actor: 'user:ayse', idempotencyKey: 'c-1' })
  assert.equal(confirmed.status, 'confirmed')
  assert.equal(engine.level('MUG', 'IST').reserved, 2)
  const paid = await engine.markPaid(placed.id)
  assert.equal(paid.payment_status, 'paid')
  const shipped = await engine.recordShipment(placed.id, { L1: 2 })
  assert.equal(shipped.status, 'processing')
  assert.equal(engine.level('MUG', 'IST').on_hand, 3)
  const history = engine.orderHistory(placed.id)
  assert.equal(history[1].actor, 'user:ayse')
  // The fields index.d.ts names are the ones that come back.
  assert.equal(history[0].order_id, placed.id)
  assert.match(history[0].recorded_at, /^\d{4}-\d{2}-\d{2}T/)
  const timeline = engine.timeline(placed.id, 'en')
  assert.equal(typeof timeline.order_ref, 'string')
  assert.equal(timeline.steps[0].stage, 'received')
  assert.ok(engine.pendingEffects(10).length > 0)
})

test('the same channel order twice is one order; an idempotency key repeats the first result', async () => {
  const engine = ordersmith.Engine.inMemory()
  const a = await engine.placeOrder(orderInput({ ref: 'SHOP-7' }))
  const b = await engine.placeOrder(orderInput({ ref: 'SHOP-7' }))
  assert.equal(a.id, b.id)
  await engine.holdOrder(a.id, 'address_check', 'call the customer', { idempotencyKey: 'h1' })
  const again = await engine.holdOrder(a.id, 'address_check', 'call the customer', { idempotencyKey: 'h1' })
  assert.equal(again.version, 2)
  await assert.rejects(engine.holdOrder(a.id, 'fraud_review', null, { idempotencyKey: 'h1' }), {
    code: 'ENGINE_IDEMPOTENCY_MISMATCH',
  })
})

test('bulk import reports bad orders by index and places the rest', async () => {
  const engine = ordersmith.Engine.inMemory()
  const good = orderInput()
  const result = await engine.placeOrders([good, { ...good, currency: 'try' }, orderInput({ price: 12.5 })])
  assert.equal(result.orders.length, 1)
  assert.deepEqual(result.errors.map((e) => e.index), [1, 2])
  assert.ok(result.errors[0].error instanceof ordersmith.EngineError)
  assert.equal(result.errors[0].error.details.field, 'orders[1].currency')
  assert.equal(result.errors[1].error.code, 'ENGINE_INVALID_INPUT')
  assert.equal(result.errors[1].error.details.field, 'orders[2].lines[0].unit_price')
})

test('listing: pages with a cursor reach every order; the iterator and listAllOrders agree', async () => {
  const engine = ordersmith.Engine.inMemory()
  const inputs = Array.from({ length: 7 }, (_, i) => orderInput({ ref: `R-${i}` }))
  await engine.placeOrders(inputs)
  const seen = []
  let after
  for (;;) {
    const page = engine.listOrdersPage({ limit: 3, after })
    seen.push(...page.orders.map((o) => o.id))
    if (!page.next_cursor) break
    after = page.next_cursor
  }
  assert.equal(seen.length, 7)
  const all = await engine.listAllOrders({ channel: 'web' })
  assert.deepEqual(all.map((o) => o.id), seen)
  const it = engine.iterOrders({ limit: 2 })
  const walked = []
  for (let o = it.next(); o !== null; o = it.next()) walked.push(o.id)
  assert.deepEqual(walked, seen)
  assert.throws(() => engine.listOrdersPage({ limit: 10001 }), { code: 'ENGINE_INVALID_INPUT' })
})

test('payments through a provider, refund quotes and returns', async () => {
  const engine = ordersmith.Engine.inMemory()
  const order = await engine.placeOrder(orderInput())
  await engine.confirmOrder(order.id)
  let o = await engine.pay(order.id, { step: 'authorise', provider: 'iyzico', method: 'card', amount: '453.60' })
  const payment = 'P1'
  o = await engine.pay(order.id, { step: 'confirm_authorisation', payment, provider_ref: 'auth-1', amount: '453.60' })
  assert.equal(o.payment_status, 'authorised')
  o = await engine.pay(order.id, { step: 'capture', payment, amount: { amount: '453.60', currency: 'TRY' } })
  o = await engine.pay(order.id, { step: 'confirm_capture', payment, provider_ref: 'cap-1', amount: '453.60' })
  assert.equal(o.payment_status, 'paid')
  await engine.recordShipment(order.id, { L1: 2 })
  await engine.recordDelivery(order.id, { L1: 2 })
  const quote = engine.refundQuote(order.id, { L1: 1 }, { restockingFeeRate: '0.10' })
  assert.equal(quote.total.amount, '207.90')
  assert.throws(() => engine.refundQuote(order.id, { L1: 1 }, { restockingFeeRate: 0.1 }), {
    code: 'ENGINE_INVALID_INPUT',
  })
  o = await engine.recordReturn(order.id, { L1: 1 })
  assert.equal(o.fulfilment_status, 'partially_returned')
  assert.equal(engine.inOrderCurrency(order.id, '5').amount, '5.00')
})

/** A confirmed order of 453.60 whose payment P1 is authorised for all of it. */
async function authorised(engine) {
  const order = await engine.placeOrder(orderInput())
  await engine.confirmOrder(order.id)
  await engine.pay(order.id, { step: 'authorise', provider: 'iyzico', amount: '453.60' })
  await engine.pay(order.id, { step: 'confirm_authorisation', payment: 'P1', provider_ref: 'auth-1', amount: '453.60' })
  return order
}

test('money is given back once and taken in once, whichever path asks', async () => {
  const engine = ordersmith.Engine.inMemory()
  const order = await authorised(engine)
  const total = '453.60'
  const payment = 'P1'
  await engine.pay(order.id, { step: 'capture', payment, amount: total })
  await engine.pay(order.id, { step: 'confirm_capture', payment, provider_ref: 'cap-1', amount: total })
  await engine.recordRefundAmount(order.id, total)
  const before = engine.order(order.id)
  await assert.rejects(engine.pay(order.id, { step: 'refund', payment, amount: total }), {
    code: 'ORDER_REFUND_EXCEEDS_PAID',
  })
  assert.deepEqual(engine.order(order.id), before)
  const other = await engine.placeOrder(orderInput())
  await engine.confirmOrder(other.id)
  for (const p of ['P1', 'P2']) {
    await engine.pay(other.id, { step: 'authorise', provider: 'iyzico', amount: total })
    await engine.pay(other.id, { step: 'confirm_authorisation', payment: p, provider_ref: `auth-${p}`, amount: total })
  }
  await engine.pay(other.id, { step: 'capture', payment: 'P1', amount: total })
  await assert.rejects(engine.pay(other.id, { step: 'capture', payment: 'P2', amount: total }), {
    code: 'ORDER_OVERPAYMENT',
  })
})

test('a refused capture or refund releases what was pending', async () => {
  const engine = ordersmith.Engine.inMemory()
  const order = await authorised(engine)
  const total = '453.60'
  const payment = 'P1'
  await assert.rejects(engine.pay(order.id, { step: 'fail_refund', payment, reason: 'card closed' }), {
    code: 'PAYMENT_INVALID_STATE',
  })
  await engine.pay(order.id, { step: 'capture', payment, amount: total })
  let o = await engine.pay(order.id, { step: 'fail_capture', payment, reason: 'issuer unavailable' })
  assert.equal(o.payments[0].capture_pending.amount, '0.00')
  assert.equal(o.payment_status, 'authorised')
  await engine.pay(order.id, { step: 'capture', payment, amount: total })
  await engine.pay(order.id, { step: 'confirm_capture', payment, provider_ref: 'cap-1', amount: total })
  await engine.pay(order.id, { step: 'refund', payment, amount: '30' })
  await engine.pay(order.id, { step: 'confirm_refund', payment, provider_ref: 'ref-1', amount: '10' })
  await assert.rejects(engine.recordRefundAmount(order.id, '443.60'), { code: 'ORDER_REFUND_EXCEEDS_PAID' })
  o = await engine.pay(order.id, { step: 'fail_refund', payment, reason: 'card closed' })
  assert.equal(o.payments[0].refund_pending.amount, '0.00')
  o = await engine.recordRefundAmount(order.id, '443.60')
  assert.equal(o.amount_refunded.amount, total)
  const topics = engine.pendingEffects(1000).map((e) => e.topic)
  assert.ok(topics.includes('payment.capture_failed') && topics.includes('payment.refund_failed'))
})

test('warehouse flow: pick, pack, label, hand over, tracking; timeline in Turkish', async () => {
  const engine = await stocked()
  const order = await engine.placeOrder(orderInput())
  await engine.confirmOrder(order.id)
  const [fo] = engine.fulfilmentOrders(order.id)
  assert.equal(engine.pickList(order.id, fo.id)[0].quantity, 2)
  await engine.fulfil(order.id, { step: 'pick', fulfilment: fo.id, picked: [{ line_id: 'L1', quantity: 2 }] })
  let o = await engine.fulfil(order.id, {
    step: 'pack',
    fulfilment: fo.id,
    units: [{ line_id: 'L1', quantity: 2 }],
    size: { weight_grams: 800, length_mm: 200, width_mm: 150, height_mm: 100 },
  })
  const parcel = o.fulfilments[0].parcels[0].id
  await engine.fulfil(order.id, { step: 'record_label', fulfilment: fo.id, parcel, label: { carrier: 'ups', service: 'standard', tracking_number: '1Z999AA10123456784' } })
  await engine.fulfil(order.id, { step: 'hand_over', fulfilment: fo.id, parcel })
  o = await engine.recordTrackingEvent(order.id, fo.id, parcel, { occurred_at: '2026-11-22T10:00:00Z', raw_code: 'D' })
  assert.equal(o.fulfilment_status, 'fulfilled')
  const tl = engine.timeline(order.id, 'tr')
  assert.equal(tl.locale, 'tr')
  // Without a shipping calendar no order has a ship-by, so none is ever due.
  assert.equal(engine.shipBy(order.id), null)
  assert.deepEqual(engine.fulfilmentsDue(60), [])
})

test('stock reads: levels, position, journal, reservations, forecast, channel quantities', async () => {
  const engine = await stocked()
  const order = await engine.placeOrder(orderInput({ quantity: 1 }))
  const plan = engine.sourcingPlan(order.id)
  assert.deepEqual(plan.assignments, [{ line: 'L1', location: 'IST', quantity: 1 }])
  assert.deepEqual(plan.unfilled, [])
  await engine.confirmOrder(order.id)
  assert.equal(engine.levels('MUG').reserved, 1)
  assert.equal(engine.stockPosition().length, 1)
  assert.ok(engine.journal().length >= 2)
  assert.equal(engine.reservations({ order: order.id }).length, 1)
  // Nothing shipped yet: no velocity; one of five reserved leaves four to sell.
  assert.equal(engine.salesVelocity('MUG'), '0')
  const forecast = engine.forecast('MUG', { window_days: 7 })
  assert.equal(forecast.velocity_per_day, '0')
  assert.equal(forecast.sellable, 4)
  assert.equal(forecast.reorder_now, false)
  await engine.stock({ command: 'set_channel_rule', channel: 'web', rule: { share_percent: 50, buffer: 0, locations: null } })
  assert.equal(engine.channelQuantities('web').MUG, 2)
  assert.equal(engine.changedSinceLastPush('web').MUG, 2)
  await assert.rejects(
    engine.stock({ command: 'release', reservation: engine.reservations()[0].id }),
    { code: 'ENGINE_RESERVATION_OWNED_BY_ORDER' },
  )
  const sweep = await engine.sweepExpiredReservations()
  assert.deepEqual(sweep.released, [])
  assert.deepEqual((await engine.expireReservations()).events, [])
})

test('helpers without an engine: allocate, carriers, notifications', () => {
  assert.deepEqual(ordersmith.allocate('10.00', ['1', '1', '1'], 'TRY'), ['3.34', '3.33', '3.33'])
  assert.throws(() => ordersmith.allocate(10, ['1'], 'TRY'), ordersmith.EngineError)
  const choice = ordersmith.chooseCarrier(
    [
      { carrier: 'ups', service: 'x', price: '90.00', currency: 'TRY', transit_days_min: 1, transit_days_max: 2 },
      { carrier: 'ptt', service: 'y', price: '40.00', currency: 'TRY', transit_days_min: 2, transit_days_max: 3 },
    ],
    { policy: 'cheapest_meeting_promise', max_transit_days: 3 },
  )
  assert.equal(choice.quote.carrier, 'ptt')
})

test('close releases the engine; later calls are ENGINE_CLOSED', async () => {
  const engine = ordersmith.Engine.inMemory()
  engine.close()
  assert.equal(engine.closed, true)
  assert.throws(() => engine.order('order-1'), { code: 'ENGINE_CLOSED' })
  await assert.rejects(engine.placeOrder(orderInput()), ordersmith.EngineError)
})

test('placeOrderThen places and runs follow-ups once; a planner can be throttled', async () => {
  const engine = ordersmith.Engine.inMemory()
  const first = await engine.placeOrderThen(orderInput({ ref: 'T-1' }), [{ command: 'mark_paid' }])
  assert.equal(first.created, true)
  assert.equal(first.order.payment_status, 'paid')
  const again = await engine.placeOrderThen(orderInput({ ref: 'T-1' }), [{ command: 'mark_paid' }])
  assert.equal(again.created, false)
  assert.equal(again.order.version, first.order.version)
  await assert.rejects(engine.placeOrderThen(orderInput({ ref: 'T-2' }), [{ command: 'place' }]), { code: 'ENGINE_INVALID_INPUT' })
  const planner = new ordersmith.StockPushPlanner('woo_commerce_batch')
  planner.throttled('2026-11-30T12:00:00Z')
  assert.ok(planner.nextAllowed('2026-11-30T11:00:00Z') >= '2026-11-30T12:00:00')
  assert.throws(() => planner.nextAllowed('2026-11-30T11:00:00'), { code: 'ENGINE_INVALID_INPUT' })
})

test('bulk confirmation confirms each order on its own and reports refusals by index', async () => {
  const engine = await stocked() // 5 mugs
  const placed = await engine.placeOrders([1, 2, 3].map((i) => orderInput({ ref: `B-${i}` })))
  const [a, b, c] = placed.orders.map((o) => o.id)
  const result = await engine.confirmOrders([a, '', b, 'order-999999', c])
  assert.deepEqual(result.orders.map((o) => [o.id, o.status]), [[a, 'confirmed'], [b, 'confirmed']])
  assert.deepEqual(
    result.errors.map((e) => [e.index, e.error.code]),
    [[1, 'ID_EMPTY'], [3, 'ORDER_NOT_FOUND'], [4, 'STOCK_INSUFFICIENT']],
  )
  assert.ok(result.errors[2].error instanceof ordersmith.StockError)
  assert.equal(engine.order(c).status, 'pending')
})

test('any commands in bulk: each item on its own, refusals and unreadable items by index', async () => {
  const engine = await stocked() // 5 mugs
  const placed = await engine.placeOrders([1, 2, 3].map((i) => orderInput({ ref: `X-${i}`, quantity: 1 })))
  const [a, b, c] = placed.orders.map((o) => o.id)
  const ship = { command: 'record_shipment', lines: [{ line_id: 'L1', quantity: 1 }] }
  const result = await engine.executeMany(
    [
      { orderId: a, command: { command: 'confirm' } },
      { orderId: a, command: { command: 'mark_paid' } },
      { orderId: a, command: ship },
      { orderId: b, command: ship },
      { orderId: c, command: { command: 'hold', reason: 'fraud_review' } },
      { orderId: c, command: { command: 'fly' } },
      { orderId: '', command: { command: 'confirm' } },
      { order: b, command: { command: 'confirm' } },
      { orderId: b, command: { command: 'record_payment', amount: 1.5 } },
      { orderId: b, command: { command: 'cancel', reason: 'customer' } },
    ],
    { actor: 'user:ops' },
  )
  assert.deepEqual(
    result.errors.map((e) => [e.index, e.error.code]),
    [
      [3, 'ORDER_INVALID_TRANSITION'],
      [5, 'ENGINE_INVALID_INPUT'],
      [6, 'ID_EMPTY'],
      [7, 'ENGINE_INVALID_INPUT'],
      [8, 'ENGINE_INVALID_INPUT'],
    ],
  )
  assert.ok(result.errors[1].error.details.field.startsWith('items[5].command'))
  assert.equal(result.errors[3].error.details.field, 'items[7].order')
  assert.ok(result.errors[4].error.details.field.startsWith('items[8].command'))
  assert.deepEqual(
    result.orders.map((o) => [o.id, o.status]),
    [[a, 'confirmed'], [a, 'confirmed'], [a, 'processing'], [c, 'on_hold'], [b, 'cancelled']],
  )
  assert.equal(result.orders[2].fulfilment_status, 'fulfilled')
  assert.deepEqual(engine.order(a).amount_paid, engine.order(a).totals.total)
  assert.equal(engine.orderHistory(a).at(-1).actor, 'user:ops')
})

test('a reservation made by hand keeps the reference it was given, and the order its own', async () => {
  const engine = await stocked()
  const order = await engine.placeOrder(orderInput({ quantity: 1 }))
  await engine.confirmOrder(order.id)
  await engine.stock({
    command: 'reserve',
    request: { id: 'hand-1', variant: 'MUG', location: 'IST', quantity: 2, expires_at: null, reference: 'counter sale' },
  })
  const byId = Object.fromEntries(engine.reservations().map((r) => [r.id, r]))
  assert.equal(byId['hand-1'].reference, 'counter sale')
  assert.equal(byId['hand-1'].quantity, 2)
  const own = engine.reservations({ order: order.id })
  assert.equal(own.length, 1)
  assert.equal(own[0].reference, `order ${order.id} line L1`)
  assert.equal(engine.levels('MUG').reserved, 3)
})

test('a hold made by hand gets more time, or none; an order\'s hold is refused', async () => {
  const engine = await stocked()
  const soon = new Date(Date.now() + 10 * 60_000).toISOString()
  const later = new Date(Date.now() + 70 * 60_000).toISOString()
  await engine.stock({
    command: 'reserve',
    request: { id: 'hand-1', variant: 'MUG', location: 'IST', quantity: 1, expires_at: soon },
  })
  await engine.stock({ command: 'set_reservation_expiry', reservation: 'hand-1', expires_at: later })
  const held = () => engine.reservations().find((r) => r.id === 'hand-1')
  assert.equal(new Date(held().expires_at).toISOString(), later)
  await engine.stock({ command: 'set_reservation_expiry', reservation: 'hand-1', expires_at: null })
  assert.equal(held().expires_at ?? null, null)
  const before = held()
  await assert.rejects(
    engine.stock({ command: 'set_reservation_expiry', reservation: 'hand-9', expires_at: later }),
    (e) => e instanceof ordersmith.StockError && e.code === 'STOCK_UNKNOWN_RESERVATION',
  )
  await assert.rejects(
    engine.stock({
      command: 'set_reservation_expiry',
      reservation: 'hand-1',
      expires_at: new Date(Date.now() - 60_000).toISOString(),
    }),
    (e) => e.code === 'STOCK_INVALID_EXPIRY',
  )
  const order = await engine.placeOrder(orderInput({ quantity: 1 }))
  await engine.confirmOrder(order.id)
  const [own] = engine.reservations({ order: order.id })
  await assert.rejects(
    engine.stock({ command: 'set_reservation_expiry', reservation: own.id, expires_at: later }),
    (e) => e.code === 'ENGINE_RESERVATION_OWNED_BY_ORDER',
  )
  assert.deepEqual(held(), before)
})
