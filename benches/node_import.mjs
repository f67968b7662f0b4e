// Node binding overhead: bulk import of 100,000 orders and the cost of a small call,
// the same work as benches/python_import.py and `cargo run --release --example
// bulk_import`, so the three languages can be set side by side.
//
//   (cd bindings-node && npm ci && npm run build)     # a release build of the addon
//   node benches/node_import.mjs [N]                  # N orders, default 100000
//   node benches/node_import.mjs --lookups            # engine.order(id): memory and SQLite

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const ordersmith = require('../bindings-node/index.js')

function orders(n, prefix = 'W') {
  const out = new Array(n)
  for (let i = 0; i < n; i++) {
    out[i] = {
      channel: 'web',
      external_ref: `${prefix}-${i}`,
      placed_at: '2026-11-20T09:30:00Z',
      currency: 'TRY',
      lines: [
        { variant: 'MUG', quantity: 2, unit_price: '189.90', tax_lines: [{ name: 'KDV', rate: '0.20' }] },
        { variant: 'TEA-500G', quantity: 1, unit_price: '89.90' },
      ],
    }
  }
  return out
}

async function stocked(engine) {
  await engine.stockBatch([
    { command: 'add_location', location: { id: 'IST', name: 'Istanbul DC', priority: 1, region: 'TR-34', kind: 'warehouse' } },
    { command: 'register_variant', variant: 'MUG', policy: 'deny' },
    { command: 'receive', variant: 'MUG', location: 'IST', quantity: 1_000_000 },
  ])
  return engine
}

/** Best and median of `repeat` runs of `calls` calls, in µs per call. */
function perCall(label, fn, calls, repeat = 7) {
  const runs = []
  for (let r = 0; r < repeat; r++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < calls; i++) fn()
    runs.push(Number(process.hrtime.bigint() - start) / 1e3 / calls)
  }
  runs.sort((a, b) => a - b)
  console.log(`${label.padEnd(48)} best ${runs[0].toFixed(2).padStart(6)} µs, median ${runs[repeat >> 1].toFixed(2).padStart(6)} µs  (${repeat} x ${calls} calls)`)
}

async function lookups() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ordersmith-bench-'))
  const stores = [
    ['memory', ordersmith.Engine.inMemory()],
    ['SQLite', await ordersmith.Engine.open(path.join(dir, 'lookups.db'))],
  ]
  for (const [store, engine] of stores) {
    await engine.placeOrders(orders(10_000, 'B'))
    const small = { ...orders(1, 'S')[0] }
    small.lines = small.lines.slice(0, 1)
    const id = (await engine.placeOrder(small)).id
    perCall(`engine.order(id), ${store}, 1 line`, () => engine.order(id), 20_000)
    engine.close()
  }
  fs.rmSync(dir, { recursive: true, force: true })
}

async function main() {
  if (process.argv[2] === '--lookups') return lookups()
  const n = Number(process.argv[2] ?? 100_000)
  const engine = await stocked(ordersmith.Engine.inMemory())
  const rows = orders(n)
  let start = process.hrtime.bigint()
  const result = await engine.placeOrders(rows)
  let took = Number(process.hrtime.bigint() - start) / 1e9
  if (result.orders.length !== n || result.errors.length) throw new Error('import failed')
  console.log(`placeOrders(${n})                            ${took.toFixed(3)} s  = ${Math.round(n / took).toLocaleString('en')} orders/s, ${((took / n) * 1e6).toFixed(2)} µs/order`)

  const one = { ...orders(1)[0] }
  delete one.external_ref
  start = process.hrtime.bigint()
  for (let i = 0; i < 10_000; i++) await engine.placeOrder(one)
  took = Number(process.hrtime.bigint() - start) / 1e9
  console.log(`await placeOrder x 10000 (one call per order)   ${((took / 10_000) * 1e6).toFixed(2)} µs/order`)

  const id = result.orders[0].id
  perCall('engine.order(id)', () => engine.order(id), 20_000)
  perCall('engine.level(sku, location)', () => engine.level('MUG', 'IST'), 20_000)
  perCall('errorCodes() (no engine work)', () => ordersmith.errorCodes(), 2_000)
  start = process.hrtime.bigint()
  for (let i = 0; i < 10_000; i++) await engine.acknowledgeEffect('no-such-effect')
  took = Number(process.hrtime.bigint() - start) / 1e3 / 10_000
  console.log(`await engine.acknowledgeEffect(missing) x 10000     ${took.toFixed(2)} µs/call (AsyncTask round trip)`)
}

await main()
