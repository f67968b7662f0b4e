'use strict'
// Returns from Node: the RMA workflow (the policy check naming the failed rule,
// override, label, transit, receipt, inspection into the ledger, refund, store credit,
// exchange), refunds to the minor unit, any step as the core's JSON, and typed errors
// (ReturnsError) that change nothing.
const test = require('node:test')
const assert = require('node:assert/strict')
const { ordersmith } = require('./helpers.js')

async function shop() {
  const engine = ordersmith.Engine.inMemory({
    returns: { window_days: 30, restocking_fee_rate: '0.10', non_returnable: ['GIFT'] },
    notifications: { channels: ['email'] },
  })
  const setup = [
    { command: 'add_location', location: { id: 'IST', name: 'Istanbul DC', priority: 1, region: 'TR-34', kind: 'warehouse' } },
  ]
  for (const sku of ['TEE', 'TEE-L', 'GIFT']) {
    setup.push({ command: 'register_variant', variant: sku, policy: 'deny' })
    setup.push({ command: 'receive', variant: sku, location: 'IST', quantity: 10 })
  }
  await engine.stockBatch(setup)
  return engine
}

/** 3 tees at 10.00 with 10.00 off the line (20.00 paid for three), and a gift card; delivered. */
async function delivered(engine) {
  const placed = await engine.placeOrder({
    channel: 'web',
    placed_at: '2026-11-20T09:30:00Z',
    currency: 'TRY',
    lines: [
      { variant: 'TEE', quantity: 3, unit_price: '10.00', discounts: [{ code: null, amount: '10.00' }] },
      { variant: 'GIFT', quantity: 1, unit_price: '5.00' },
    ],
    customer: { id: 'cust-1', name: 'Ayşe', email: 'ayse@example.com', locale: 'tr' },
  })
  await engine.confirmOrder(placed.id)
  await engine.markPaid(placed.id)
  await engine.recordShipment(placed.id, { L1: 3, L2: 1 })
  return engine.recordDelivery(placed.id, { L1: 3, L2: 1 })
}

const ask = (line, quantity, reason) => [{ line_id: line, quantity, reason }]

async function failure(call) {
  try {
    await call()
  } catch (err) {
    return err
  }
  assert.fail(`expected a failure: ${call}`)
}

test('three RMAs refund to the minor unit; label, transit, inspection and close on the way', async () => {
  const engine = await shop()
  let order = await delivered(engine)
  const paid = []
  for (let n = 0; n < 3; n++) {
    order = await engine.requestReturn(order.id, ask('L1', 1, 'defective'), { note: 'broken seam' })
    const rma = order.rmas.at(-1)
    assert.deepEqual([rma.id, rma.status], [`R${n + 1}`, 'approved'])
    if (n === 0) {
      await engine.requestReturnLabel(order.id, 'R1', 'standard')
      order = await engine.recordReturnLabel(order.id, 'R1', 'yurtici', 'YK1')
      assert.equal(order.rmas[0].status, 'label_ready')
      order = await engine.markReturnInTransit(order.id, 'R1')
      assert.equal(order.rmas[0].status, 'in_transit')
    }
    await engine.receiveReturn(order.id, rma.id, 'IST', { L1: 1 })
    await engine.inspectReturn(order.id, rma.id, [{ line_id: 'L1', outcome: 'resellable' }])
    const value = engine.returnValue(order.id, rma.id)
    order = await engine.resolveReturn(order.id, rma.id, 'refund')
    const breakdown = order.rmas.at(-1).resolution.breakdown
    assert.deepEqual(breakdown, value)
    paid.push(breakdown.lines[0].paid.amount)
  }
  assert.deepEqual(paid, ['6.67', '6.67', '6.66'])
  assert.deepEqual(order.amount_refunded, { amount: '20.00', currency: 'TRY' })
  assert.equal(order.payment_status, 'partially_refunded')
  // Three resellable tees went back on the shelf.
  assert.equal(engine.level('TEE', 'IST').on_hand, 10)
  order = await engine.closeReturn(order.id, 'R1')
  assert.equal(order.rmas[0].status, 'closed')
  assert.ok(engine.pendingEffects(1000).some((e) => e.topic === 'return.label_requested'))
  assert.equal(engine.timeline(order.id, 'tr').returns[0].status, 'Kapatıldı')
})

test('a rejection names the rule; a person may override or reject; steps run as core JSON too', async () => {
  const engine = await shop()
  let order = await delivered(engine)
  order = await engine.requestReturn(order.id, ask('L2', 1, 'changed_mind'))
  const rma = order.rmas.at(-1)
  assert.equal(rma.status, 'rejected')
  assert.equal(rma.policy_failure.rule, 'non_returnable')
  order = await engine.overrideReturn(order.id, rma.id, 'goodwill', { actor: 'user:mehmet' })
  assert.equal(order.rmas.at(-1).status, 'approved')
  assert.equal(order.rmas.at(-1).override_reason, 'goodwill')
  order = await engine.rejectReturn(order.id, rma.id, 'changed our mind')
  assert.equal(order.rmas.at(-1).status, 'rejected')
  const history = engine.orderHistory(order.id)
  assert.ok(history.some((r) => r.actor === 'user:mehmet'))

  // The same workflow through executeReturn, with an idempotency key.
  const keyed = { idempotencyKey: 'ret-2' }
  const command = { command: 'request', lines: ask('L1', 1, 'damaged') }
  const first = await engine.executeReturn(order.id, command, keyed)
  const again = await engine.executeReturn(order.id, command, keyed)
  assert.equal(again.version, first.version, 'the same key repeats the first result')
  assert.equal(first.rmas.length, 2)
  const closed = await engine.executeReturn(order.id, { command: 'close', rma: 'R2' })
  assert.equal(closed.rmas[1].status, 'closed')
  const unknown = await failure(() => engine.executeReturn(order.id, { command: 'teleport', rma: 'R2' }))
  assert.equal(unknown.code, 'ENGINE_INVALID_INPUT')
})

test('store credit is spent on a later order and never goes below zero', async () => {
  const engine = await shop()
  let order = await delivered(engine)
  order = await engine.requestReturn(order.id, ask('L1', 1, 'changed_mind'))
  await engine.receiveReturn(order.id, 'R1', 'IST', { L1: 1 })
  await engine.inspectReturn(order.id, 'R1', [{ line_id: 'L1', outcome: 'quarantine', quantity: 1 }])
  order = await engine.resolveReturn(order.id, 'R1', 'store_credit')
  // 6.67 paid, minus 10 % of the line's goods (20.00 → 2.00 over three units: 0.67).
  assert.deepEqual(engine.storeCredit('cust-1').balance, { amount: '6.00', currency: 'TRY' })
  assert.equal(engine.storeCredit('nobody'), null)
  const later = await engine.placeOrder({
    channel: 'web',
    placed_at: '2026-11-25T09:30:00Z',
    currency: 'TRY',
    lines: [{ variant: 'TEE', quantity: 1, unit_price: '10.00' }],
    customer: { id: 'cust-1' },
  })
  const short = await failure(() => engine.spendStoreCredit(later.id, '6.01'))
  assert.ok(short instanceof ordersmith.ReturnsError)
  assert.equal(short.code, 'RETURNS_CREDIT_INSUFFICIENT')
  assert.equal(engine.order(later.id).version, later.version)
  const float = await failure(() => engine.spendStoreCredit(later.id, 6))
  assert.equal(float.code, 'ENGINE_INVALID_INPUT')
  const spent = await engine.spendStoreCredit(later.id, '6.00')
  assert.deepEqual(spent.amount_paid, { amount: '6.00', currency: 'TRY' })
  assert.equal(engine.storeCredit('cust-1').balance.amount, '0.00')
})

test('an exchange places a linked replacement order', async () => {
  const engine = await shop()
  let order = await delivered(engine)
  order = await engine.requestReturn(order.id, ask('L1', 1, 'wrong_size'), {
    exchange: [{ variant: 'TEE-L', quantity: 1, unit_price: '8.00' }],
  })
  await engine.receiveReturn(order.id, 'R1', 'IST', { L1: 1 })
  await engine.inspectReturn(order.id, 'R1', [{ line_id: 'L1', outcome: 'resellable' }])
  order = await engine.resolveReturn(order.id, 'R1', 'exchange')
  const resolution = order.rmas[0].resolution
  assert.equal(resolution.kind, 'exchange')
  const replacement = engine.order(resolution.replacement_order)
  assert.ok(replacement.tags.includes('exchange'))
  // Worth 6.67 − 0.67 fee = 6.00 against 8.00: 2.00 left to pay on the replacement.
  assert.equal(resolution.to_charge.amount, '2.00')
  assert.equal(replacement.amount_paid.amount, '6.00')
  assert.equal(replacement.balance_due.amount, '2.00')
  assert.equal(replacement.payment_status, 'partially_paid')
})

test('bad input is a typed error and changes nothing', async () => {
  const engine = await shop()
  const order = await delivered(engine)
  const tooMany = await failure(() => engine.requestReturn(order.id, ask('L1', 4, 'defective')))
  assert.ok(tooMany instanceof ordersmith.ReturnsError)
  assert.equal(tooMany.code, 'RETURNS_NOT_RETURNABLE')
  assert.equal(tooMany.kind, 'invalid_input')
  const noRma = await failure(() => engine.receiveReturn(order.id, 'R9', 'IST', { L1: 1 }))
  assert.ok(noRma instanceof ordersmith.ReturnsError)
  assert.equal(noRma.kind, 'not_found')
  const reason = await failure(() => engine.requestReturn(order.id, ask('L1', 1, 'because')))
  assert.equal(reason.code, 'ENGINE_INVALID_INPUT')
  assert.match(reason.details.field, /^lines\[0\]/)
  const priceAsNumber = await failure(() =>
    engine.requestReturn(order.id, ask('L1', 1, 'wrong_size'), { exchange: [{ variant: 'TEE-L', quantity: 1, unit_price: 8 }] }),
  )
  assert.equal(priceAsNumber.code, 'ENGINE_INVALID_INPUT')
  assert.equal(priceAsNumber.details.field, 'extra.exchange[0].unit_price')
  const requested = await engine.requestReturn(order.id, ask('L1', 1, 'defective'))
  const barter = await failure(() => engine.resolveReturn(order.id, 'R1', 'barter'))
  assert.equal(barter.code, 'ENGINE_INVALID_INPUT')
  const state = await failure(() => engine.resolveReturn(order.id, 'R1', 'refund'))
  assert.ok(state instanceof ordersmith.ReturnsError)
  assert.equal(state.code, 'RETURNS_INVALID_STATE')
  assert.equal(engine.order(order.id).version, requested.version)
  for (const returns of [{ window_days: 0 }, { restocking_fee_rate: '1.5' }]) {
    assert.throws(() => ordersmith.Engine.inMemory({ returns }), (e) => e instanceof ordersmith.ReturnsError && e.code === 'RETURNS_INVALID_POLICY')
  }
  assert.throws(() => ordersmith.Engine.inMemory({ returns: { restocking_fee_rate: 0.1 } }), { code: 'ENGINE_INVALID_INPUT' })
})

test('an RMA refund on an invoiced order issues its credit note; switching invoicing on keeps the policy', async () => {
  const engine = await shop()
  engine.configureInvoicing({
    seller: { name: 'Tee Shop A.Ş.', vat_id: 'TR1234567890', city: 'İstanbul', postal_code: '34728', country: 'TR' },
    time_zone: 'Europe/Istanbul',
  })
  let order = await delivered(engine)
  const invoice = await engine.issueInvoice(order.id)
  // The engine built by configureInvoicing still has the return policy it was opened with.
  order = await engine.requestReturn(order.id, ask('L2', 1, 'changed_mind'))
  assert.equal(order.rmas.at(-1).policy_failure.rule, 'non_returnable')
  order = await engine.requestReturn(order.id, ask('L1', 1, 'defective'))
  const rma = order.rmas.at(-1).id
  await engine.receiveReturn(order.id, rma, 'IST', { L1: 1 })
  await engine.inspectReturn(order.id, rma, [{ line_id: 'L1', outcome: 'resellable' }])
  await engine.resolveReturn(order.id, rma, 'refund')
  const docs = engine.orderDocuments(order.id)
  assert.deepEqual(docs.map((d) => d.kind), ['invoice', 'credit_note'])
  assert.equal(docs[1].corrects.number, invoice.number)
  assert.deepEqual(docs[1].totals.grand_total, { amount: '6.67', currency: 'TRY' })
})
