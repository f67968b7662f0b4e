'use strict'
// Every core and channels error code is known to Node and maps to its module's class;
// the errors of 16 modules are reached through real calls here (notify's in
// notify.test.js; catalog, sourcing, dump and intake only through the catalogue),
// arriving with code, kind and details; money given as a JS number is refused with a typed error.
const test = require('node:test')
const assert = require('node:assert/strict')
const { ordersmith, orderInput, stocked } = require('./helpers.js')

test('every code of the catalogue maps to an OrdersmithError subclass of its module', () => {
  const codes = ordersmith.errorCodes()
  assert.ok(codes.length > 100)
  const modules = new Set()
  for (const info of codes) {
    const cls = ordersmith.errorClass(info.code)
    assert.ok(cls.prototype instanceof ordersmith.OrdersmithError, info.code)
    assert.notEqual(cls, ordersmith.OrdersmithError, `${info.code}: module ${info.module} has no Node class`)
    assert.equal(cls.name.toLowerCase(), `${info.module}error`, info.code)
    assert.ok(['invalid_input', 'not_found', 'conflict', 'rejected', 'unavailable'].includes(info.kind), info.code)
    modules.add(info.module)
  }
  assert.equal(ordersmith.errorClass(ordersmith.INTERNAL_PANIC), ordersmith.InternalError)
  assert.equal(ordersmith.errorClass('NO_SUCH_CODE'), ordersmith.OrdersmithError)
  // Each class is exported under its name, for `instanceof` and `catch` by class.
  for (const module of modules) {
    const cls = ordersmith.errorClass(ordersmith.errorCodes().find((c) => c.module === module).code)
    assert.equal(ordersmith[cls.name], cls)
  }
})

/** Runs `call` and returns the error it throws or rejects with. */
async function failure(call) {
  try {
    await call()
  } catch (err) {
    return err
  }
  assert.fail(`expected a failure: ${call}`)
}

test('errors of every module reach JavaScript through real calls, with code, kind and details', async () => {
  const engine = await stocked()
  const order = await engine.placeOrder(orderInput({ quantity: 1 }))
  const sig = { 'x-shopify-hmac-sha256': 'bad', 'x-shopify-topic': 'orders/create' }
  const cases = {
    money: () => ordersmith.allocate('1.00', ['1'], 'XYZ'),
    id: () => engine.order(''),
    order: () => engine.order('order-404'),
    stock: () => engine.level('NOPE', 'IST'),
    engine: () => engine.placeOrder(orderInput({ price: 10 })),
    fulfilment: () => engine.pickList(order.id, 'F-404'),
    payment: () => engine.pay(order.id, { step: 'capture', payment: 'P9', amount: '1.00' }),
    returns: () => engine.refundQuote(order.id, { L1: 5 }),
    channel: () => ordersmith.parseChannelOrder('shopify', '{}'),
    webhook: () => ordersmith.verifyHmacWebhook('shopify', sig, '{}', ['secret']),
    push: () => new ordersmith.StockPushPlanner('amazon_listings_patch'),
    mapping: () => new ordersmith.ChannelIntake(engine, { mappingJson: 'not json' }),
    store: () => ordersmith.Engine.open('/proc/no/such/dir/shop.db'),
    invoice: () => engine.issueInvoice(order.id),
    kpi: () => engine.kpiTables('Mars/Olympus'),
    rules: () => ordersmith.loadRules('{"rules": [{"name": "x"}]}'),
  }
  for (const [module, call] of Object.entries(cases)) {
    const err = await failure(call)
    assert.ok(err instanceof ordersmith.OrdersmithError, `${module}: ${err}`)
    assert.ok(err instanceof Error)
    const expected = ordersmith.errorCodes().find((c) => c.code === err.code)
    assert.ok(expected, `${module}: ${err.code} is in the catalogue`)
    assert.equal(expected.kind, err.kind)
    assert.equal(typeof err.details, 'object')
    assert.ok(err instanceof ordersmith.errorClass(err.code), `${module}: ${err.code}`)
    if (module !== 'engine') assert.equal(expected.module, module, `${module}: got ${err.code}`)
  }
})

test('not found carries the core fields; a rejection names what was short', async () => {
  const engine = await stocked()
  const err = await failure(() => engine.order('order-404'))
  assert.equal(err.code, 'ORDER_NOT_FOUND')
  assert.equal(err.kind, 'not_found')
  assert.deepEqual(err.details, { order_id: 'order-404' })
  const order = await engine.placeOrder(orderInput({ quantity: 9 }))
  const short = await failure(() => engine.confirmOrder(order.id))
  assert.ok(short instanceof ordersmith.StockError)
  assert.equal(short.code, 'STOCK_INSUFFICIENT')
  assert.equal(short.kind, 'rejected')
  assert.equal(short.details.variant, 'MUG')
  assert.equal(engine.order(order.id).status, 'pending', 'a refused call changes nothing')
})

test('money as a JS number is refused with a typed error naming the field', async () => {
  const engine = ordersmith.Engine.inMemory()
  for (const price of [189, 189.5]) {
    const err = await failure(() => engine.placeOrder(orderInput({ price })))
    assert.ok(err instanceof ordersmith.EngineError)
    assert.equal(err.code, 'ENGINE_INVALID_INPUT')
    assert.equal(err.details.field, 'order.lines[0].unit_price')
    assert.match(err.message, /numbers are refused/)
  }
  const order = await engine.placeOrder(orderInput())
  for (const call of [
    () => engine.recordPaymentAmount(order.id, 10),
    () => engine.recordPayment(order.id, { amount: 10, currency: 'TRY' }),
    () => engine.pay(order.id, { step: 'authorise', provider: 'x', amount: 10 }),
    () => engine.inOrderCurrency(order.id, 10),
  ]) {
    const err = await failure(call)
    assert.equal(err.code, 'ENGINE_INVALID_INPUT', String(call))
  }
  assert.equal(engine.order(order.id).version, 1)
})

test('times need an offset; unknown option names are refused', async () => {
  const engine = ordersmith.Engine.inMemory()
  const naive = await failure(() => engine.placeOrder({ ...orderInput(), placed_at: '2026-11-20T09:30:00' }))
  assert.equal(naive.code, 'ENGINE_INVALID_INPUT')
  assert.match(naive.message, /naive time refused/)
  assert.throws(() => ordersmith.Engine.inMemory({ reserveOnConfirn: true }), { code: 'ENGINE_INVALID_INPUT' })
  // A transit range that ends before it begins.
  assert.throws(() => ordersmith.Engine.inMemory({ transitDays: [5, 2] }), (e) => e.code === 'ENGINE_INVALID_INPUT' && /transit_days/.test(e.message))
  ordersmith.Engine.inMemory({ transitDays: [2, 2] })
  // A reservation time-to-live past the core's 30 days, as Python and Kotlin refuse it.
  assert.throws(() => ordersmith.Engine.inMemory({ reservationTtlMinutes: 31 * 24 * 60 }), (e) => e.code === 'ENGINE_INVALID_INPUT' && /reservation_ttl/.test(e.message))
  assert.throws(() => ordersmith.Engine.inMemory({ reservationTtlMinutesByChannel: { web: 31 * 24 * 60 } }), { code: 'ENGINE_INVALID_INPUT' })
  ordersmith.Engine.inMemory({ reservationTtlMinutes: 30 * 24 * 60 })
  await assert.rejects(engine.confirmOrder('order-1', { idempotency_key: 'x' }), { code: 'ENGINE_INVALID_INPUT' })
})
