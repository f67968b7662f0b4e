'use strict'
// Invoices and credit notes from Node: configure, issue (Promises), a refund that issues
// its own credit note, documents as plain objects, HTML and EN 16931 CII, numbering
// that survives reopening an SQLite file, and every refusal typed (InvoiceError) and
// leaving the documents as they were.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { ordersmith, orderInput } = require('./helpers.js')

const SELLER = {
  name: 'Çay & Kahve Ticaret A.Ş.',
  tax_id: '1234567890',
  vat_id: 'TR1234567890',
  address_lines: ['Bağdat Caddesi 100'],
  city: 'İstanbul',
  postal_code: '34728',
  country: 'TR',
  email: 'fatura@example.com',
}

function invoicing(engine, extra = {}) {
  engine.configureInvoicing({ seller: SELLER, time_zone: 'Europe/Istanbul', ...extra })
  return engine
}

/** A customer's order with a product title that needs escaping in HTML and XML. */
function customerOrder(ref) {
  const input = orderInput({ ref })
  input.lines[0].title = 'Kupa <350 ml> & tabak'
  input.customer = { name: 'Ayşe Yılmaz', email: 'ayse@example.com' }
  return input
}

async function failure(call) {
  try {
    await call()
  } catch (err) {
    return err
  }
  assert.fail(`expected a failure: ${call}`)
}

test('an invoice, then a refund that issues its credit note, rendered as HTML and CII', async () => {
  const engine = ordersmith.Engine.inMemory()
  assert.equal(engine.invoicing(), null)
  invoicing(engine)
  assert.equal(engine.invoicing().time_zone, 'Europe/Istanbul')
  assert.equal(engine.invoicing().invoice_number_format, 'INV-{year}-{seq:06}')
  const order = await engine.placeOrder(customerOrder('INV-1'))
  await engine.markPaid(order.id)
  const pending = engine.issueInvoice(order.id)
  assert.ok(pending instanceof Promise)
  const invoice = await pending
  assert.equal(invoice.kind, 'invoice')
  assert.match(invoice.number, /^INV-\d{4}-000001$/)
  assert.equal(invoice.order_id, order.id)
  assert.deepEqual(invoice.totals.grand_total, order.totals.total)
  assert.equal(invoice.buyer.name, 'Ayşe Yılmaz')
  assert.deepEqual(engine.document(invoice.number), invoice)
  assert.ok(engine.pendingEffects(100).some((e) => e.topic === 'invoice.issued' && e.payload.number === invoice.number))

  const html = engine.documentHtml(invoice.number, 'tr')
  assert.ok(html.startsWith('<!DOCTYPE html>'))
  assert.match(html, /Fatura/)
  assert.ok(html.includes('Kupa &lt;350 ml&gt; &amp; tabak') && !html.includes('<350 ml>'))
  assert.match(engine.documentHtml(invoice.number), /Amount due/)
  const xml = engine.documentCii(invoice.number)
  assert.match(xml, /<ram:TypeCode>380<\/ram:TypeCode>/)
  assert.ok(xml.includes('Kupa &lt;350 ml&gt; &amp; tabak'))

  await engine.recordRefundAmount(order.id, '100.00')
  const docs = engine.orderDocuments(order.id)
  assert.deepEqual(docs.map((d) => d.kind), ['invoice', 'credit_note'])
  const credit = docs[1]
  assert.equal(credit.corrects.number, invoice.number)
  assert.deepEqual(credit.totals.grand_total, { amount: '100.00', currency: 'TRY' })
  assert.match(engine.documentCii(credit.number), /<ram:TypeCode>381<\/ram:TypeCode>/)
})

test('invoice refusals are typed and change nothing', async () => {
  const engine = ordersmith.Engine.inMemory()
  const order = await engine.placeOrder(orderInput())
  const notConfigured = await failure(() => engine.issueInvoice(order.id))
  assert.ok(notConfigured instanceof ordersmith.InvoiceError)
  assert.equal(notConfigured.code, 'INVOICE_NOT_CONFIGURED')
  const badSeller = await failure(() => engine.configureInvoicing({ seller: { ...SELLER, country: 'Turkey' } }))
  assert.ok(badSeller instanceof ordersmith.InvoiceError)
  assert.equal(badSeller.code, 'INVOICE_BAD_CONFIG')
  assert.equal(badSeller.kind, 'invalid_input')
  const badMode = await failure(() => engine.configureInvoicing({ seller: SELLER, mode: 'per_week' }))
  assert.equal(badMode.code, 'ENGINE_INVALID_INPUT')
  assert.equal(badMode.details.field, 'config.mode')
  assert.equal(engine.invoicing(), null, 'a refused configuration leaves none')

  invoicing(engine, { invoice_number_format: 'F{year}/{seq:04}' })
  const invoice = await engine.issueInvoice(order.id, { actor: 'user:ayse' })
  assert.match(invoice.number, /^F\d{4}\/0001$/)
  const again = await failure(() => engine.issueInvoice(order.id))
  assert.equal(again.code, 'INVOICE_ALREADY_ISSUED')
  const keyed = await failure(() => engine.issueInvoice(order.id, { idempotencyKey: 'k' }))
  assert.equal(keyed.code, 'ENGINE_INVALID_INPUT')

  const total = invoice.totals.grand_total.amount // 453.60
  const tooMuch = await failure(() => engine.issueCreditNote(invoice.number, '453.61', 'price correction'))
  assert.ok(tooMuch instanceof ordersmith.InvoiceError)
  assert.equal(tooMuch.code, 'INVOICE_CREDIT_EXCEEDS_INVOICE')
  assert.equal(tooMuch.details.creditable.amount, total)
  assert.deepEqual(engine.orderDocuments(order.id), [invoice])
  const zero = await failure(() => engine.issueCreditNote(invoice.number, '0', 'nothing'))
  assert.ok(zero instanceof ordersmith.InvoiceError, String(zero))
  assert.equal(zero.kind, 'invalid_input')
  const float = await failure(() => engine.issueCreditNote(invoice.number, 1.5, 'float'))
  assert.equal(float.code, 'ENGINE_INVALID_INPUT')
  assert.match(float.message, /numbers are refused/)
  const missing = await failure(() => engine.document('F2026/9999'))
  assert.ok(missing instanceof ordersmith.InvoiceError)
  assert.equal(missing.code, 'INVOICE_NOT_FOUND')
  assert.equal(missing.kind, 'not_found')
  assert.deepEqual(engine.orderDocuments(order.id), [invoice])

  const credit = await engine.issueCreditNote(invoice.number, { amount: '10.00', currency: 'TRY' }, 'goodwill')
  assert.equal(credit.kind, 'credit_note')
  assert.equal(credit.note, 'goodwill')
  assert.equal(credit.totals.due.amount, '10.00')
  const unknownOrder = await failure(() => engine.orderDocuments('order-404'))
  assert.equal(unknownOrder.code, 'ORDER_NOT_FOUND')
})

test('invoice numbers stay gapless across reopening an SQLite file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ordersmith-invoice-'))
  const file = path.join(dir, 'shop.db')
  try {
    const first = invoicing(await ordersmith.Engine.open(file))
    const a = await first.placeOrder(orderInput({ ref: 'A' }))
    assert.match((await first.issueInvoice(a.id)).number, /-000001$/)
    first.close()
    const second = invoicing(await ordersmith.Engine.open(file))
    const b = await second.placeOrder(orderInput({ ref: 'B' }))
    assert.match((await second.issueInvoice(b.id)).number, /-000002$/)
    assert.deepEqual(second.orderDocuments(a.id).map((d) => d.sequence), [1])
    second.close()
    assert.throws(() => second.configureInvoicing({ seller: SELLER }), { code: 'ENGINE_CLOSED' })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
