// A TypeScript program using the package as an app would; checked with
// `tsc --noEmit --strict` (never run): the generated index.d.ts must type it.
import {
  Engine,
  ChannelIntake,
  StockPushPlanner,
  OrdersmithError,
  OrderError,
  verifyHmacWebhook,
  errorCodes,
  type Order,
  type OrderStatus,
  type ImportResult,
  type StockCommand,
} from 'ordersmith'

async function main(): Promise<void> {
  const engine: Engine = await Engine.open('shop.db', { onShortage: 'hold', synchronous: 'normal' })
  const setup: StockCommand[] = [
    { command: 'add_location', location: { id: 'IST', name: 'Istanbul', priority: 1, region: 'TR-34', kind: 'warehouse' } },
    { command: 'receive', variant: 'MUG', location: 'IST', quantity: 5 },
  ]
  await engine.stockBatch(setup)
  const order: Order = await engine.placeOrder({
    channel: 'web',
    placed_at: new Date().toISOString(),
    currency: 'TRY',
    lines: [{ variant: 'MUG', quantity: 2, unit_price: '189.00' }],
  })
  const status: OrderStatus = order.status
  const total: string = order.totals.total.amount
  const result: ImportResult = await engine.placeOrders([], { actor: 'channel:shopify' })
  for (const { index, error } of result.errors) {
    const code: string = error.code
    void index
    void code
  }
  try {
    engine.order('order-404')
  } catch (err) {
    if (err instanceof OrderError) {
      const details: Record<string, unknown> = err.details
      void details
    } else if (err instanceof OrdersmithError) {
      const kind: 'invalid_input' | 'not_found' | 'conflict' | 'rejected' | 'unavailable' | 'internal' = err.kind
      void kind
    }
  }
  const verdict: 'event' | 'ping' = verifyHmacWebhook('shopify', { 'x-shopify-hmac-sha256': 'x' }, Buffer.from('{}'), ['s'])
  const intake = new ChannelIntake(engine, { importTestOrders: false })
  const report = await intake.importPayload('shopify', Buffer.from('{}'))
  const planner = new StockPushPlanner('shopify_inventory', { locationId: '1' })
  const plan = intake.planStockPush(planner, new Date().toISOString())
  const tl = engine.timeline(order.id, 'tr')
  const level = engine.level('MUG', 'IST')
  const n: number = level.on_hand + errorCodes().length
  void [status, total, verdict, report.outcome, plan.requests, tl.steps, n]
  // @ts-expect-error money is a decimal string, never a number
  await engine.recordPaymentAmount(order.id, 10)
  // @ts-expect-error statuses are string unions
  const wrong: OrderStatus = 'shipped'
  void wrong
  engine.close()
}

void main
