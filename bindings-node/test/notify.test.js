'use strict'
// Engine options from Node (shipping calendar, SSCC numbering, notifications) reach the
// core: parcels get SSCCs, customers are told at each stage, messages render in
// Turkish, and a template naming an unknown variable is a NotifyError.
const test = require('node:test')
const assert = require('node:assert/strict')
const { ordersmith, orderInput } = require('./helpers.js')

test('notifications, SSCC and the shipping calendar, configured from Node', async () => {
  const engine = ordersmith.Engine.inMemory({
    sscc: { extensionDigit: 0, companyPrefix: '8691234', serialFrom: 1, serialTo: 999999 },
    shippingCalendar: { tz: 'Europe/Istanbul', cutoff: '14:00:00', handling_days: 1, non_working: ['sunday'] },
    transitDays: [1, 2],
    notifications: { channels: ['email'], tracking_url: 'https://track.example/{carrier}/{tracking_number}' },
  })
  await engine.stockBatch([
    { command: 'add_location', location: { id: 'IST', name: 'Istanbul', priority: 1, region: 'TR-34', kind: 'warehouse' } },
    { command: 'register_variant', variant: 'MUG', policy: 'deny' },
    { command: 'receive', variant: 'MUG', location: 'IST', quantity: 5 },
  ])
  const input = { ...orderInput({ quantity: 1, ref: 'TY-77' }), customer: { name: 'Ayşe Yılmaz', email: 'ayse@example.com', locale: 'tr-TR' } }
  const order = await engine.confirmOrder((await engine.placeOrder(input)).id)
  assert.match(engine.shipBy(order.id), /^2026-11-2\dT/)
  const fo = order.fulfilments[0].id
  await engine.fulfil(order.id, { step: 'pick', fulfilment: fo, picked: [{ line_id: 'L1', quantity: 1 }] })
  const packed = await engine.fulfil(order.id, {
    step: 'pack',
    fulfilment: fo,
    units: [{ line_id: 'L1', quantity: 1 }],
    size: { weight_grams: 500, length_mm: 100, width_mm: 100, height_mm: 100 },
  })
  const parcel = packed.fulfilments[0].parcels[0]
  assert.ok(parcel.sscc.startsWith('08691234') && parcel.sscc.length === 18)
  const label = { carrier: 'ups', service: 'standard', tracking_number: '1Z999AA10123456785' }
  await assert.rejects(engine.fulfil(order.id, { step: 'record_label', fulfilment: fo, parcel: parcel.id, label }), ordersmith.FulfilmentError)
  label.tracking_number = '1Z999AA10123456784'
  await engine.fulfil(order.id, { step: 'record_label', fulfilment: fo, parcel: parcel.id, label })
  await engine.recordTrackingEvent(order.id, fo, parcel.id, { occurred_at: '2026-11-21T09:00:00Z', raw_code: 'P', location: 'Istanbul' })
  const shipped = engine
    .pendingEffects(1000)
    .filter((e) => e.topic === 'notification.requested')
    .map((e) => e.payload.event.notification)
    .find((n) => n.key === 'order_shipped')
  assert.ok(shipped)
  const message = ordersmith.renderNotification(shipped)
  assert.equal(message.locale, 'tr')
  assert.ok(message.body.includes('1Z999AA10123456784'))
  const bad = '[{"key": "order_shipped", "locale": "tr", "channel": "sms", "body": "{kargo_firmasi}"}]'
  assert.throws(() => ordersmith.renderNotification(shipped, bad), (err) => err instanceof ordersmith.NotifyError && err.kind === 'invalid_input')
  const tl = engine.timeline(order.id, 'tr')
  assert.equal(tl.order_ref, 'TY-77')
  assert.equal(tl.steps[0].label, 'Sipariş alındı')
})
