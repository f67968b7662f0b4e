'use strict'
// Channel intake from Node: the identifier map and the intake log live in the engine's
// own store (so on SQLite they survive reopening, like the orders), and stock pushes
// honour a listing's eBay offer ids and leave marketplace-fulfilled listings alone.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { ordersmith } = require('./helpers.js')

const FIXTURES = path.join(__dirname, '..', '..', 'channels', 'tests', 'fixtures')
const fixture = (name) => fs.readFileSync(path.join(FIXTURES, name))

function mapped(engine) {
  const intake = new ordersmith.ChannelIntake(engine)
  intake.setListing('trendyol', 'TEA', { sku: 'TEA-500', barcode: '8690000000011' })
  intake.setListing('trendyol', 'CUP', { sku: 'CUP', barcode: '8690000000028' })
  return intake
}

test('the identifier map and the intake log persist in the SQLite file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ordersmith-intake-'))
  const file = path.join(dir, 'shop.db')
  try {
    const first = await ordersmith.Engine.open(file)
    const intake = mapped(first)
    const created = await intake.importPayload('trendyol', fixture('trendyol/new_names.json'))
    assert.equal(created.outcome, 'created')
    assert.deepEqual(created.unmapped, [])
    assert.equal((await intake.importPayload('trendyol', fixture('trendyol/split_packages.json'))).outcome, 'updated')
    first.close()

    // No listing given this time: the map is in the file, and so is the intake log that
    // knows the created-status delivery is older than what was applied.
    const again = await ordersmith.Engine.open(file)
    const reopened = new ordersmith.ChannelIntake(again)
    assert.ok(reopened.mappingJson().includes('TEA-500'))
    const late = await reopened.importPayload('trendyol', fixture('trendyol/new_names.json'))
    assert.equal(late.outcome, 'stale')
    assert.equal(late.order.id, created.order.id)
    assert.equal(again.listOrdersPage({}).orders.length, 1)
    again.close()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('an unmapped SKU holds the order; intakes on one engine share its map', async () => {
  const engine = ordersmith.Engine.inMemory()
  const report = await new ordersmith.ChannelIntake(engine).importPayload('trendyol', fixture('trendyol/new_names.json'))
  assert.deepEqual(report.unmapped, ['TEA-500', 'CUP'])
  assert.equal(report.order.hold.reason, 'unmapped_sku')
  // Two intakes on one engine share its store: a listing set through one resolves in the other.
  mapped(engine)
  assert.ok(new ordersmith.ChannelIntake(engine).mappingJson().includes('8690000000028'))
})

test('pushes set eBay offers and leave marketplace-fulfilled listings alone', async () => {
  const engine = ordersmith.Engine.inMemory()
  const setup = [{ command: 'add_location', location: { id: 'WH', name: 'Warehouse', priority: 1, region: 'TR-34', kind: 'warehouse' } }]
  for (const sku of ['TEA', 'CUP']) {
    setup.push({ command: 'register_variant', variant: sku, policy: 'deny' })
    setup.push({ command: 'receive', variant: sku, location: 'WH', quantity: 10 })
  }
  setup.push({ command: 'set_channel_rule', channel: 'ebay', rule: { share_percent: 100, buffer: 0, locations: null } })
  await engine.stockBatch(setup)
  const intake = new ordersmith.ChannelIntake(engine)
  intake.setListing('ebay', 'TEA', { sku: 'TEA-500', offerIds: ['OFFER-1'] })
  intake.setListing('ebay', 'CUP', { sku: 'CUP', fulfilledByMarketplace: true })
  const planner = new ordersmith.StockPushPlanner('ebay_bulk_price_quantity')
  const plan = intake.planStockPush(planner, '2026-11-20T10:00:00Z')
  assert.deepEqual(plan.marketplace_fulfilled, ['CUP'])
  assert.equal(plan.requests.length, 1)
  const [item] = plan.requests[0].body.requests
  assert.equal(item.sku, 'TEA-500')
  assert.deepEqual(item.offers, [{ offerId: 'OFFER-1', availableQuantity: 10 }])
  assert.throws(() => intake.setListing('ebay', 'TEA', { offerIds: 'OFFER-1' }), { code: 'ENGINE_INVALID_INPUT' })
})

test('a marketplace claim on a delivered order becomes an RMA, once', async () => {
  const engine = ordersmith.Engine.inMemory()
  const setup = [{ command: 'add_location', location: { id: 'WH', name: 'Warehouse', priority: 1, region: 'TR-34', kind: 'warehouse' } }]
  for (const sku of ['TEA', 'CUP']) {
    setup.push({ command: 'register_variant', variant: sku, policy: 'deny' })
    setup.push({ command: 'receive', variant: sku, location: 'WH', quantity: 10 })
  }
  await engine.stockBatch(setup)
  const intake = mapped(engine)
  const claims = fixture('claims/trendyol_claims.json')
  const early = await intake.importEvents('trendyol', claims)
  assert.equal(early[0].order_id, null, 'before the order is imported: reported, with no order')
  const { order } = await intake.importPayload('trendyol', fixture('trendyol/new_names.json'))
  await engine.recordShipment(order.id, { L1: 2 })
  await engine.recordDelivery(order.id, { L1: 2 })
  const [first] = await intake.importEvents('trendyol', claims)
  assert.equal(first.rma, 'R1', JSON.stringify(first.rma_failed))
  const rma = engine.order(order.id).rmas[0]
  assert.deepEqual([rma.status, rma.lines[0].line_id, rma.lines[0].quantity, rma.lines[0].reason], ['approved', 'L1', 1, 'damaged'])
  const [again] = await intake.importEvents('trendyol', claims)
  assert.equal(again.new, false)
  assert.equal(again.rma ?? null, null)
  assert.equal(engine.order(order.id).rmas.length, 1)
})

test('channel line edits are applied and reported; Trendyol discount readings are named', async () => {
  const engine = ordersmith.Engine.inMemory()
  const intake = new ordersmith.ChannelIntake(engine)
  intake.setListing('shopify', 'MUG', { sku: 'MUG-RED' })
  const shopify = (quantity, updated) => Buffer.from(JSON.stringify({
    id: 7100, name: '#7100', created_at: '2026-11-20T09:00:00Z', updated_at: `2026-11-20T${updated}:00Z`,
    currency: 'USD', taxes_included: false, test: false, financial_status: 'paid', fulfillment_status: null,
    total_price: `${10 * quantity}.00`,
    line_items: [{ id: 1, sku: 'MUG-RED', quantity, price: '10.00', discount_allocations: [], tax_lines: [] }]
  }))
  assert.equal((await intake.importPayload('shopify', shopify(3, '09:00'))).outcome, 'created')
  const edited = await intake.importPayload('shopify', shopify(1, '09:30'))
  assert.deepEqual(edited.applied, ['cancel units (channel edit) L1x2'])
  assert.deepEqual(edited.line_changes, [{
    kind: 'quantity_reduced', external_line_id: '1', line_id: 'L1', from: 3, to: 1, applied: true, blocked: null
  }])
  const again = await intake.importPayload('shopify', shopify(1, '09:30'))
  assert.equal(again.outcome, 'unchanged')
  assert.deepEqual(again.line_changes, [])
  const report = await mapped(engine).importPayload('trendyol', fixture('trendyol/discount_details_per_unit.json'))
  assert.equal(report.discount_basis, 'per_unit')
  assert.deepEqual(report.mismatches, [])
})
