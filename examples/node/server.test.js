'use strict'
// Starts the example on loopback (SQLite in a temp dir) and posts signed, tampered,
// unsigned and duplicate webhooks to it, then reads stock batches and a timeline.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { start } = require('./server.js')

const SECRETS = { shopify: ['shpss_new', 'shpss_old'], woo_commerce: ['woo-secret'] }
const fixture = (name) => fs.readFileSync(path.join(__dirname, 'fixtures', name))
const sign = (secret, body) => crypto.createHmac('sha256', secret).update(body).digest('base64')

async function post(url, body, headers) {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } })
  return { status: res.status, body: await res.json() }
}

test('webhooks in, stock batches out, where is my order', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ordersmith-example-'))
  const { server, shop, url } = await start({ port: 0, db: path.join(dir, 'shop.db'), secrets: SECRETS })
  t.after(() => {
    server.close()
    shop.engine.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const shopify = fixture('shopify-order.json')
  const shopifyHeaders = (body, secret = 'shpss_new') => ({
    'x-shopify-hmac-sha256': sign(secret, body),
    'x-shopify-topic': 'orders/create',
  })

  // Signed: imported.
  const first = await post(`${url}/webhooks/shopify`, shopify, shopifyHeaders(shopify))
  assert.equal(first.status, 200, JSON.stringify(first.body))
  assert.ok(first.body.order_id)

  // Duplicate delivery (signed with the previous secret, during a rotation): the same order.
  const again = await post(`${url}/webhooks/shopify`, shopify, shopifyHeaders(shopify, 'shpss_old'))
  assert.equal(again.status, 200)
  assert.equal(again.body.order_id, first.body.order_id)
  assert.notEqual(again.body.outcome, first.body.outcome)
  assert.equal(shop.engine.listOrders().length, 1)

  // Tampered body with the original signature: refused before parsing, nothing imported.
  const tampered = Buffer.from(shopify.toString('utf8').replace('"quantity": 2', '"quantity": 20'))
  assert.notDeepEqual(tampered, shopify)
  const bad = await post(`${url}/webhooks/shopify`, tampered, shopifyHeaders(shopify))
  assert.equal(bad.status, 401)
  assert.match(bad.body.code, /^WEBHOOK_/)
  // Unsigned and wrongly signed.
  assert.equal((await post(`${url}/webhooks/shopify`, shopify, {})).status, 401)
  assert.equal((await post(`${url}/webhooks/shopify`, shopify, shopifyHeaders(shopify, 'guess'))).status, 401)
  assert.equal(shop.engine.listOrders().length, 1)

  // WooCommerce: signed, then a duplicate; a ping on webhook creation is answered.
  const woo = fixture('woo-order.json')
  const wooHeaders = { 'x-wc-webhook-signature': sign('woo-secret', woo), 'x-wc-webhook-topic': 'order.updated' }
  const w1 = await post(`${url}/webhooks/woocommerce`, woo, wooHeaders)
  assert.equal(w1.status, 200, JSON.stringify(w1.body))
  const w2 = await post(`${url}/webhooks/woocommerce`, woo, wooHeaders)
  assert.equal(w2.body.order_id, w1.body.order_id)
  const wooBad = await post(`${url}/webhooks/woocommerce`, woo, { 'x-wc-webhook-signature': sign('other', woo) })
  assert.equal(wooBad.status, 401)
  const ping = await post(`${url}/webhooks/woocommerce`, 'webhook_id=12', { 'content-type': 'application/x-www-form-urlencoded' })
  assert.equal(ping.status, 200)
  assert.equal(shop.engine.listOrders().length, 2)

  // Stock-update batches per channel; acknowledging one marks it pushed.
  const plan = await (await fetch(`${url}/stock-updates/shopify_inventory`)).json()
  assert.ok(plan.requests.length >= 1, JSON.stringify(plan))
  const request = plan.requests[0]
  const ack = await post(`${url}/stock-updates/shopify_inventory/${encodeURIComponent(request.id)}/ack`, '{"failed_keys": []}')
  assert.equal(ack.status, 200, JSON.stringify(ack.body))
  assert.ok(Object.keys(ack.body.pushed).length >= 1)
  const after = await (await fetch(`${url}/stock-updates/shopify_inventory`)).json()
  assert.equal(after.requests.length, 0, 'nothing changed since the acknowledged push')
  const wooPlan = await (await fetch(`${url}/stock-updates/woo_commerce_batch`)).json()
  assert.ok(wooPlan.requests.length >= 1)

  // Where is my order, in Turkish; an unknown order is a 404.
  const where = await fetch(`${url}/orders/${first.body.order_id}/where?locale=tr`)
  assert.equal(where.status, 200)
  const timeline = await where.json()
  assert.equal(timeline.locale, 'tr')
  assert.ok(timeline.steps.length >= 1)
  assert.equal((await fetch(`${url}/orders/order-999999/where`)).status, 404)
})
