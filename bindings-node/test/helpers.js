'use strict'
// Shared inputs for the tests.
const ordersmith = require('..')

function orderInput({ variant = 'MUG', quantity = 2, price = '189.00', ref } = {}) {
  return {
    channel: 'web',
    placed_at: '2026-11-20T09:30:00Z',
    currency: 'TRY',
    external_ref: ref ?? null,
    lines: [{ variant, quantity, unit_price: price, tax_lines: [{ name: 'KDV', rate: '0.20' }] }],
  }
}

/** An in-memory engine with one warehouse and 5 MUGs on hand. */
async function stocked() {
  const engine = ordersmith.Engine.inMemory()
  await engine.stockBatch([
    { command: 'add_location', location: { id: 'IST', name: 'Istanbul', priority: 1, region: 'TR-34', kind: 'warehouse' } },
    { command: 'register_variant', variant: 'MUG', policy: 'deny' },
    { command: 'receive', variant: 'MUG', location: 'IST', quantity: 5 },
  ])
  return engine
}

module.exports = { ordersmith, orderInput, stocked }
