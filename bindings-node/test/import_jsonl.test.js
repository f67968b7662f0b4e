'use strict'
// Bulk import from JSON lines: `engine.importOrdersJsonl(data)`, the text read by the core.
const test = require('node:test')
const assert = require('node:assert/strict')
const { ordersmith, orderInput, stocked } = require('./helpers.js')

const line = (ref, over = {}) => JSON.stringify({ ...orderInput({ ref }), ...over })

test('importOrdersJsonl places good lines and refuses each bad line with its line number', async () => {
  const engine = await stocked()
  const bad = orderInput({ ref: 'W-2' })
  bad.lines[0].unit_price = 1.5
  const data = [
    line('W-1'), // 1
    '', // 2: blank
    JSON.stringify(bad), // 3: a number as a price
    '{not json}', // 4
    line('W-3'), // 5
    line('W-4', { chanel: 'web' }), // 6: unknown field
  ].join('\r\n')
  const result = await engine.importOrdersJsonl(Buffer.from(data), { actor: 'channel:web' })
  assert.deepEqual(result.orders.map((o) => o.external_ref), ['W-1', 'W-3'])
  assert.deepEqual(result.errors.map((e) => e.line), [3, 4, 6])
  assert.deepEqual(result.errors.map((e) => e.error.code), [
    'ORDER_JSONL_INVALID_FIELD',
    'ORDER_JSONL_SYNTAX',
    'ORDER_JSONL_INVALID_FIELD',
  ])
  const first = result.errors[0].error
  assert.ok(first instanceof ordersmith.OrderError)
  assert.equal(first.kind, 'invalid_input')
  assert.equal(first.details.line, 3)
  assert.equal(first.details.path, 'lines[0].unit_price')
  assert.match(first.message, /^line 3, lines\[0\]\.unit_price: expected a decimal/)
  const confirmed = await engine.confirmOrder(result.orders[0].id)
  assert.equal(confirmed.status, 'confirmed')
  assert.equal(engine.level('MUG', 'IST').reserved, 2)
})

test('importOrdersJsonl takes a string, and reports bad UTF-8 and a cut-off last line', async () => {
  const engine = ordersmith.Engine.inMemory()
  const text = `${line('S-1')}\n${line('S-2')}\n`
  const fromText = await engine.importOrdersJsonl(text)
  assert.deepEqual(fromText.orders.map((o) => o.external_ref), ['S-1', 'S-2'])
  assert.deepEqual(fromText.errors, [])
  const full = line('S-3')
  const data = Buffer.concat([
    Buffer.from(`${line('S-4')}\n`),
    Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d, 0x0a]), // {"\xff"}
    Buffer.from(full.slice(0, full.length / 2)),
  ])
  const result = await engine.importOrdersJsonl(data)
  assert.deepEqual(result.orders.map((o) => o.external_ref), ['S-4'])
  assert.deepEqual(
    result.errors.map((e) => [e.line, e.error.code]),
    [
      [2, 'ORDER_JSONL_INVALID_ENCODING'],
      [3, 'ORDER_JSONL_TRUNCATED'],
    ],
  )
})

test('importOrdersJsonlIds places what importOrdersJsonl places and reports ids', async () => {
  const data = [
    line('I-1'), // 1
    '{not json}', // 2
    line('I-2'), // 3
    line('I-1'), // 4: line 1 again, the same order
    JSON.stringify({ ...orderInput({ ref: 'I-2' }), note: 'other content' }), // 5
    '', // 6: blank
    line('I-3'), // 7
  ].join('\n')
  const withOrders = ordersmith.Engine.inMemory()
  const withIds = ordersmith.Engine.inMemory()
  const orders = await withOrders.importOrdersJsonl(data)
  const ids = await withIds.importOrdersJsonlIds(Buffer.from(data), { actor: 'user:migration' })
  assert.deepEqual(ids.placed.map((p) => p.line), [1, 3, 4, 7])
  assert.deepEqual(ids.placed.map((p) => p.orderId), orders.orders.map((o) => o.id))
  assert.equal(ids.placed[0].orderId, ids.placed[2].orderId)
  assert.deepEqual(
    ids.errors.map((e) => [e.line, e.error.code]),
    orders.errors.map((e) => [e.line, e.error.code]),
  )
  assert.deepEqual(ids.errors.map((e) => e.line), [2, 5])
  assert.ok(ids.errors[0].error instanceof ordersmith.OrderError)
  assert.equal(ids.errors[1].error.code, 'ENGINE_DUPLICATE_EXTERNAL_REF')
  for (const { orderId } of ids.placed) assert.equal(withIds.order(orderId).id, orderId)
  const fromText = await ordersmith.Engine.inMemory().importOrdersJsonlIds(data)
  assert.deepEqual(fromText.placed, ids.placed)
  await assert.rejects(async () => withIds.importOrdersJsonlIds(42))
})
