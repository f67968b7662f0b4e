'use strict'
// KPIs from Node: every call recomputes from the stored history off the event loop
// (a Promise); tables are rows of plain objects in column order with exact decimals;
// CSV and JSON exports, insights, the HTML report, and bad queries as KpiError.
const test = require('node:test')
const assert = require('node:assert/strict')
const { ordersmith, orderInput } = require('./helpers.js')

const TZ = 'Europe/Istanbul'

/**
 * 2026-11-20 (12:30 in Istanbul): a web order of 2 mugs at 189.00 + 20 % KDV shipped,
 * delivered, one mug returned and 226.80 refunded; a trendyol order cancelled for
 * fraud. 2026-11-21: one more web order, kept.
 */
async function shop() {
  const engine = ordersmith.Engine.inMemory()
  const kept = await engine.placeOrder(orderInput())
  await engine.confirmOrder(kept.id)
  await engine.recordPaymentAmount(kept.id, '453.60')
  await engine.recordShipment(kept.id, { L1: 2 })
  await engine.recordDelivery(kept.id, { L1: 2 })
  await engine.recordReturn(kept.id, { L1: 1 })
  await engine.recordRefundAmount(kept.id, '226.80')
  const gone = await engine.placeOrder({ ...orderInput(), channel: 'trendyol' })
  await engine.cancelOrder(gone.id, 'fraud')
  await engine.placeOrder({ ...orderInput(), placed_at: '2026-11-21T09:30:00Z' })
  return engine
}

test('tables are rows in column order with exact decimals, computed off the event loop', async () => {
  const engine = await shop()
  const pending = engine.kpiTables(TZ)
  assert.ok(pending instanceof Promise)
  const tables = await pending
  assert.deepEqual(Object.keys(tables), [
    'summary', 'revenue', 'cancellations', 'returns_by_reason', 'returns_by_sku', 'returns_by_channel',
    'channel_mix', 'skus', 'stock', 'count_accuracy', 'notifications', 'late_shipments', 'segments',
  ])
  const [day1, day2] = tables.summary
  assert.deepEqual(Object.keys(day1).slice(0, 6), ['period', 'period_start', 'orders', 'orders_confirmed', 'orders_cancelled', 'cancellation_rate'])
  assert.equal(day1.period, '2026-11-20')
  assert.deepEqual([day1.orders, day1.orders_cancelled, day1.cancellation_rate], [2, 1, '0.5'])
  assert.deepEqual([day1.units_shipped, day1.units_returned, day1.return_rate_units], [2, 1, '0.5'])
  assert.equal(day1.on_time_ship_rate, null, 'an undefined rate is null, not 0')
  assert.deepEqual([day2.period, day2.orders, day2.orders_cancelled], ['2026-11-21', 1, 0])
  // Money is exact text: 2 × 189.00 before tax, 226.80 refunded.
  const revenue = tables.revenue[0]
  assert.deepEqual([revenue.currency, revenue.gross, revenue.refunds, revenue.net], ['TRY', '378.00', '226.80', '151.20'])
  assert.equal(tables.cancellations[0].reason, 'fraud')
  assert.deepEqual(tables.channel_mix.filter((r) => r.period === '2026-11-20').map((r) => r.channel).sort(), ['trendyol', 'web'])
})

test('filters, grains and the CSV / JSON exports', async () => {
  const engine = await shop()
  const month = (await engine.kpiTables(TZ, { grain: 'month', channels: ['web'] })).summary
  assert.deepEqual([month.length, month[0].period, month[0].orders], [1, '2026-11', 2])
  assert.deepEqual((await engine.kpiTables(TZ, { from: '2026-12-01', to: '2026-12-31' })).summary, [])
  const csv = (await engine.kpiCsv('revenue', TZ, { to: '2026-11-20' })).split('\n')
  assert.equal(csv[0], 'period,period_start,currency,orders,gross,discounts,refunds,net,aov')
  assert.equal(csv[1], '2026-11-20,2026-11-20,TRY,1,378.00,0.00,226.80,151.20,378.00')
  const doc = JSON.parse(await engine.kpiJson(TZ))
  assert.equal(doc.time_zone, TZ)
  assert.equal(doc.grain, 'day')
  assert.equal(doc.tables[1].name, 'revenue')
  assert.equal(doc.tables[1].rows[0].net, '151.20')
})

test('insights compare the last two periods; the report is one self-contained page', async () => {
  const engine = await shop()
  const insights = await engine.kpiInsights(TZ, { grain: 'day' })
  const cancellation = insights.find((i) => i.kpi === 'cancellation_rate')
  assert.ok(cancellation, JSON.stringify(insights.map((i) => i.kpi)))
  assert.deepEqual([cancellation.previous_period, cancellation.current_period], ['2026-11-20', '2026-11-21'])
  assert.deepEqual([cancellation.previous, cancellation.current], [0.5, 0])
  assert.equal(typeof cancellation.sentence, 'string')
  assert.deepEqual(await engine.kpiInsights(TZ, { grain: 'day' }, 1000), [], 'nothing moves by 100,000 %')
  const html = await engine.kpiReportHtml(TZ, { title: 'Mugs & more', insightGrain: 'day' })
  assert.ok(html.startsWith('<!DOCTYPE html>'))
  assert.ok(html.includes('Mugs &amp; more') && html.includes('<svg'))
  assert.ok(!html.includes('<script'))
  assert.ok(!html.replace('http-equiv', '').includes('http'), 'nothing is fetched')
})

test('bad queries are KpiErrors (or EngineErrors for unreadable input) and reject the Promise', async () => {
  const engine = await shop()
  const cases = [
    [() => engine.kpiTables('Mars/Olympus'), ordersmith.KpiError, 'KPI_UNKNOWN_TIME_ZONE', 'invalid_input'],
    [() => engine.kpiCsv('nope', TZ), ordersmith.KpiError, 'KPI_UNKNOWN_TABLE', 'not_found'],
    [() => engine.kpiTables(TZ, { from: '2026-12-01', to: '2026-11-01' }), ordersmith.KpiError, 'KPI_INVALID_RANGE', 'invalid_input'],
    [() => engine.kpiInsights(TZ, {}, -1), ordersmith.KpiError, 'KPI_INVALID_THRESHOLD', 'invalid_input'],
    [() => engine.kpiReportHtml(TZ, { threshold: -1 }), ordersmith.KpiError, 'KPI_INVALID_THRESHOLD', 'invalid_input'],
    [() => engine.kpiTables(TZ, { grain: 'fortnight' }), ordersmith.EngineError, 'ENGINE_INVALID_INPUT', 'invalid_input'],
    [() => engine.kpiTables(TZ, { colour: 'red' }), ordersmith.EngineError, 'ENGINE_INVALID_INPUT', 'invalid_input'],
    [() => engine.kpiReportHtml(TZ, { insightGrain: 'year' }), ordersmith.EngineError, 'ENGINE_INVALID_INPUT', 'invalid_input'],
  ]
  for (const [call, cls, code, kind] of cases) {
    await assert.rejects(call(), (err) => {
      assert.ok(err instanceof cls, `${code}: ${err}`)
      assert.equal(err.code, code)
      assert.equal(err.kind, kind)
      return true
    })
  }
})
