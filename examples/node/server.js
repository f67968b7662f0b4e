'use strict'
// A small shop backend on Node's `http`: it receives Shopify and WooCommerce order
// webhooks, checks their signatures through ordersmith's channels crate, imports the
// orders idempotently (a redelivered webhook is the same order), serves each channel's
// stock-update batches, and answers "where is my order". SQLite by default.
//
//   npm install && npm start            (from examples/node, after building bindings-node)
//
// Environment: PORT (8787), HOST (127.0.0.1), ORDERSMITH_DB (./ordersmith-example.db),
// SHOPIFY_LOCATION_ID, SHOPIFY_WEBHOOK_SECRET, WOO_WEBHOOK_SECRET (each a comma-separated list: current
// secret first, the previous one during a rotation).
//
// Routes:
//   POST /webhooks/shopify            Shopify order webhook (X-Shopify-Hmac-Sha256)
//   POST /webhooks/woocommerce        WooCommerce order webhook (X-WC-Webhook-Signature)
//   GET  /stock-updates/:target       the next stock-update requests for a channel API
//                                     (shopify_inventory, woo_commerce_batch, ...)
//   POST /stock-updates/:target/:id/ack   {"failed_keys": [...]} once a request was sent
//   GET  /orders/:id/where?locale=tr  the order's timeline ("where is my order")
//   GET  /orders/:id                  the order

const http = require('node:http')
const {
  Engine,
  ChannelIntake,
  StockPushPlanner,
  verifyHmacWebhook,
  OrdersmithError,
  WebhookError,
  ChannelError,
} = require('ordersmith')

const MAX_BODY_BYTES = 2 * 1024 * 1024

/** Channel accounts stock pushes go to (Shopify sets levels per location). */
const ACCOUNTS = {
  shopify_inventory: { locationId: process.env.SHOPIFY_LOCATION_ID ?? '61000000001' },
}

/** The shop's catalogue as the example seeds it: SKUs, stock, channel listings. */
const CATALOGUE = [
  { variant: 'MUG', units: 30, shopify: { sku: 'MUG-RED', inventoryItemId: '43000000001' } },
  { variant: 'TEE', units: 12, shopify: { variantId: '40000000000000002', inventoryItemId: '43000000002' } },
  { variant: 'TEA', units: 40, woo_commerce: { sku: 'TEA-500', variantId: '93' } },
  { variant: 'CUP', units: 25, woo_commerce: { variantId: '23', inventoryItemId: '22' } },
]

/** Opens (or creates) the shop: engine on SQLite, stock seeded once, listings set. */
async function openShop(dbPath) {
  const engine = await Engine.open(dbPath)
  if (engine.stockPosition().length === 0) {
    await engine.stockBatch([
      { command: 'add_location', location: { id: 'IST', name: 'Istanbul DC', priority: 1, region: 'TR-34', kind: 'warehouse' } },
      ...CATALOGUE.flatMap(({ variant, units }) => [
        { command: 'register_variant', variant, policy: 'deny' },
        { command: 'receive', variant, location: 'IST', quantity: units, reference: 'PO-1' },
      ]),
      ...['shopify', 'woo_commerce'].map((channel) => ({
        command: 'set_channel_rule',
        channel,
        rule: { share_percent: 100, buffer: 0, locations: null },
      })),
    ])
  }
  const intake = new ChannelIntake(engine)
  for (const item of CATALOGUE) {
    for (const channel of ['shopify', 'woo_commerce']) {
      if (item[channel]) intake.setListing(channel, item.variant, item[channel])
    }
  }
  const planners = new Map()
  return { engine, intake, planners }
}

function send(res, status, body) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(Object.assign(new Error('body too large'), { status: 413 }))
        req.destroy()
      } else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** The HTTP status an ordersmith error answers with. */
function statusOf(err) {
  if (err instanceof WebhookError) return 401
  if (err instanceof ChannelError) return 422
  if (!(err instanceof OrdersmithError)) return err.status ?? 500
  return { invalid_input: 422, not_found: 404, conflict: 409, rejected: 409, unavailable: 503 }[err.kind] ?? 500
}

/** The request handler: `secrets` maps channel → list of webhook secrets. */
function handler(shop, secrets) {
  const { engine, intake, planners } = shop
  const webhook = async (channel, req, res) => {
    const body = await readBody(req)
    // Authenticate before parsing: a tampered or unsigned body never reaches the parser.
    const verdict = verifyHmacWebhook(channel, req.headers, body, secrets[channel] ?? [])
    if (verdict === 'ping') return send(res, 200, { ok: true, ping: true })
    const report = await intake.importPayload(channel, body)
    send(res, 200, {
      outcome: report.outcome,
      order_id: report.order ? report.order.id : null,
      status: report.order ? report.order.status : null,
      applied: report.applied,
    })
  }
  const planner = (target) => {
    if (!planners.has(target)) planners.set(target, new StockPushPlanner(target, ACCOUNTS[target]))
    return planners.get(target)
  }
  return async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost')
      const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)
      if (req.method === 'POST' && parts[0] === 'webhooks' && parts[1] === 'shopify' && parts.length === 2) {
        return await webhook('shopify', req, res)
      }
      if (req.method === 'POST' && parts[0] === 'webhooks' && parts[1] === 'woocommerce' && parts.length === 2) {
        return await webhook('woo_commerce', req, res)
      }
      if (req.method === 'GET' && parts[0] === 'stock-updates' && parts.length === 2) {
        return send(res, 200, intake.planStockPush(planner(parts[1]), new Date().toISOString()))
      }
      if (req.method === 'POST' && parts[0] === 'stock-updates' && parts[3] === 'ack' && parts.length === 4) {
        const body = await readBody(req)
        const failed = body.length ? JSON.parse(body.toString('utf8')).failed_keys ?? [] : []
        return send(res, 200, await intake.acknowledgeStockPush(planner(parts[1]), parts[2], failed))
      }
      if (req.method === 'GET' && parts[0] === 'orders' && parts.length === 3 && parts[2] === 'where') {
        return send(res, 200, engine.timeline(parts[1], url.searchParams.get('locale') ?? 'en'))
      }
      if (req.method === 'GET' && parts[0] === 'orders' && parts.length === 2) {
        return send(res, 200, engine.order(parts[1]))
      }
      send(res, 404, { error: 'no such route' })
    } catch (err) {
      const status = statusOf(err)
      send(res, status, { error: err.message, code: err.code ?? null })
    }
  }
}

/** Starts the server; resolves with `{server, shop, url}`. */
async function start({ port = 8787, host = '127.0.0.1', db = 'ordersmith-example.db', secrets } = {}) {
  const shop = await openShop(db)
  const server = http.createServer(handler(shop, secrets))
  await new Promise((resolve) => server.listen(port, host, resolve))
  const address = server.address()
  return { server, shop, url: `http://${host}:${address.port}` }
}

module.exports = { start, openShop, handler }

if (require.main === module) {
  const list = (v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : [])
  const secrets = {
    shopify: list(process.env.SHOPIFY_WEBHOOK_SECRET),
    woo_commerce: list(process.env.WOO_WEBHOOK_SECRET),
  }
  if (!secrets.shopify.length || !secrets.woo_commerce.length) {
    console.warn('SHOPIFY_WEBHOOK_SECRET / WOO_WEBHOOK_SECRET not set: every webhook will be refused (401)')
  }
  start({
    port: Number(process.env.PORT ?? 8787),
    host: process.env.HOST ?? '127.0.0.1',
    db: process.env.ORDERSMITH_DB ?? 'ordersmith-example.db',
    secrets,
  }).then(({ url }) => console.log(`ordersmith example listening on ${url}`))
}
