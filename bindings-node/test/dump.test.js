'use strict'
// Moving a shop between stores: exportDump / importDump through files.
const test = require('node:test')
const assert = require('node:assert/strict')
const os = require('node:os')
const path = require('node:path')
const fs = require('node:fs')
const { ordersmith, orderInput } = require('./helpers.js')

/** 10 mugs at IST, three orders (two confirmed, 3 reserved each), each with a key. */
async function shop(engine) {
  await engine.stockBatch([
    { command: 'add_location', location: { id: 'IST', name: 'Istanbul', priority: 1, region: 'TR-34', kind: 'warehouse' } },
    { command: 'register_variant', variant: 'MUG', policy: 'deny' },
    { command: 'receive', variant: 'MUG', location: 'IST', quantity: 10 },
  ])
  const ids = []
  for (let n = 0; n < 3; n++) {
    const order = await engine.placeOrder(orderInput({ quantity: 3 }), { idempotencyKey: `place-${n}` })
    if (n < 2) await engine.confirmOrder(order.id)
    ids.push(order.id)
  }
  return ids
}

/** What a host reads: orders, the mug's level at IST, pending effects. */
function seen(engine) {
  const level = engine.level('MUG', 'IST')
  return {
    orders: engine.listOrders().map((o) => [o.id, o.status, o.version]),
    mug: [level.on_hand, level.reserved],
    effects: engine.pendingEffects(1000).map((e) => e.id),
  }
}

function tmpdir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ordersmith-dump-'))
}

test('memory → SQLite file → memory keeps the shop, and the moved shop keeps writing', async () => {
  const dir = tmpdir()
  const source = ordersmith.Engine.inMemory()
  const ids = await shop(source)
  const first = path.join(dir, 'first.jsonl')
  const stats = await source.exportDump(first)
  assert.deepEqual(stats, { orders: 3, idempotency: 3, stock: 5, outbox: stats.outbox, records: 0, documents: 0 })
  assert.ok(stats.outbox > 0)

  const db = path.join(dir, 'shop.db')
  const sqlite = await ordersmith.Engine.open(db)
  assert.deepEqual(await sqlite.importDump(first), stats)
  assert.deepEqual(seen(sqlite), seen(source))
  assert.deepEqual(seen(sqlite).mug, [10, 6])
  const second = path.join(dir, 'second.jsonl')
  assert.deepEqual(await sqlite.exportDump(second), stats)
  // The same state gives the same dump, whichever store wrote it.
  assert.deepEqual(fs.readFileSync(second), fs.readFileSync(first))

  const back = ordersmith.Engine.inMemory()
  assert.deepEqual(await back.importDump(second), stats)
  assert.deepEqual(seen(back), seen(source))

  // A new order gets an id of its own and its confirmation reserves on the imported
  // stock; a repeated key still gets its first answer.
  const added = await sqlite.placeOrder(orderInput({ quantity: 2 }))
  assert.ok(!ids.includes(added.id))
  await sqlite.confirmOrder(added.id)
  assert.equal(sqlite.level('MUG', 'IST').reserved, 8)
  const again = await sqlite.placeOrder(orderInput({ quantity: 3 }), { idempotencyKey: 'place-0' })
  assert.equal(again.id, ids[0])
  sqlite.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('a store with data is refused with DUMP_TARGET_NOT_EMPTY and left as it was', async () => {
  const dir = tmpdir()
  const source = ordersmith.Engine.inMemory()
  await shop(source)
  const file = path.join(dir, 'shop.jsonl')
  await source.exportDump(file)
  const target = ordersmith.Engine.inMemory()
  await target.placeOrder(orderInput())
  const before = target.listOrders().map((o) => [o.id, o.version])
  await assert.rejects(target.importDump(file), (err) => {
    assert.ok(err instanceof ordersmith.DumpError)
    assert.equal(err.code, 'DUMP_TARGET_NOT_EMPTY')
    return true
  })
  assert.deepEqual(target.listOrders().map((o) => [o.id, o.version]), before)
  fs.rmSync(dir, { recursive: true, force: true })
})

test('a truncated or malformed file is refused with DUMP_MALFORMED', async () => {
  const dir = tmpdir()
  const source = ordersmith.Engine.inMemory()
  await shop(source)
  const file = path.join(dir, 'shop.jsonl')
  await source.exportDump(file)
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n')

  const truncated = path.join(dir, 'truncated.jsonl')
  fs.writeFileSync(truncated, lines.slice(0, -1).join('\n') + '\n')
  await assert.rejects(ordersmith.Engine.inMemory().importDump(truncated), (err) => {
    assert.ok(err instanceof ordersmith.DumpError)
    assert.equal(err.code, 'DUMP_MALFORMED')
    assert.equal(err.kind, 'invalid_input')
    return true
  })
  const garbled = path.join(dir, 'garbled.jsonl')
  fs.writeFileSync(garbled, [lines[0], 'not json', ...lines.slice(1)].join('\n') + '\n')
  await assert.rejects(ordersmith.Engine.inMemory().importDump(garbled), (err) => {
    assert.equal(err.code, 'DUMP_MALFORMED')
    assert.equal(err.details.line, 2)
    return true
  })
  fs.rmSync(dir, { recursive: true, force: true })
})

test('files are never overwritten nor invented', async () => {
  const dir = tmpdir()
  const engine = ordersmith.Engine.inMemory()
  const existing = path.join(dir, 'shop.db')
  fs.writeFileSync(existing, 'precious')
  await assert.rejects(engine.exportDump(existing), { code: 'DUMP_IO' })
  assert.equal(fs.readFileSync(existing, 'utf8'), 'precious')
  await assert.rejects(engine.importDump(path.join(dir, 'missing.jsonl')), { code: 'DUMP_IO' })
  engine.close()
  await assert.rejects(engine.exportDump(path.join(dir, 'closed.jsonl')), { code: 'ENGINE_CLOSED' })
  fs.rmSync(dir, { recursive: true, force: true })
})

const pgUrl = process.env.ORDERSMITH_PG_URL
test('SQLite → PostgreSQL: a shop moves to a shared server (ORDERSMITH_PG_URL)', { skip: pgUrl ? false : 'ORDERSMITH_PG_URL is not set (scripts/test --node sets it)' }, async () => {
  const dir = tmpdir()
  const sqlite = await ordersmith.Engine.open(path.join(dir, 'shop.db'))
  const ids = await shop(sqlite)
  const file = path.join(dir, 'shop.jsonl')
  const stats = await sqlite.exportDump(file)
  const pg = await ordersmith.Engine.connect(pgUrl, { schema: `node_dump_${process.pid}_${Date.now()}`, poolSize: 2 })
  assert.deepEqual(await pg.importDump(file), stats)
  assert.deepEqual(seen(pg), seen(sqlite))
  const added = await pg.placeOrder(orderInput({ quantity: 4 }))
  assert.ok(!ids.includes(added.id))
  await pg.confirmOrder(added.id)
  assert.equal(pg.level('MUG', 'IST').reserved, 10)
  pg.close()
  sqlite.close()
  fs.rmSync(dir, { recursive: true, force: true })
})
