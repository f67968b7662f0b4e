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
  loadRules,
  validateRules,
  RuleSet,
  InvoiceError,
  KpiError,
  RulesError,
  type InvoiceDocument,
  type KpiRow,
  type KpiInsight,
  type DryRunReport,
  type ShadowReport,
  type RuleProblem,
  type Rma,
  type CreditAccount,
  type ReturnCommand,
  type Order,
  type OrderStatus,
  type ImportResult,
  type JsonLinesImportResult,
  type JsonLinesImportIds,
  type StockCommand,
  type DumpStats,
  DumpError,
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
  const fromLines: JsonLinesImportResult = await engine.importOrdersJsonl(Buffer.from('\n'), { actor: 'channel:web' })
  const again: JsonLinesImportResult = await engine.importOrdersJsonl('{"channel": "web"}\n')
  const ids: JsonLinesImportIds = await engine.importOrdersJsonlIds(Buffer.from('\n'), { actor: 'user:migration' })
  for (const { line, orderId } of ids.placed) {
    const id: string = orderId
    void line
    void id
  }
  for (const { line, error } of [...fromLines.errors, ...again.errors, ...ids.errors]) {
    const path: unknown = error.details.path
    void line
    void path
  }
  const dumped: DumpStats = await engine.exportDump('shop.jsonl')
  try {
    const moved: DumpStats = await (await Engine.connect('host=127.0.0.1')).importDump('shop.jsonl')
    const sameOrders: boolean = moved.orders === dumped.orders
    void sameOrders
  } catch (err) {
    if (err instanceof DumpError) {
      const code: string = err.code
      void code
    }
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
  // Invoices and credit notes.
  engine.configureInvoicing({
    seller: { name: 'Shop A.Ş.', vat_id: 'TR1234567890', city: 'İstanbul', postal_code: '34728', country: 'TR' },
    mode: 'per_order',
    time_zone: 'Europe/Istanbul',
  })
  const invoice: InvoiceDocument = await engine.issueInvoice(order.id, { actor: 'user:ayse' })
  const credit: InvoiceDocument = await engine.issueCreditNote(invoice.number, '10.00', 'goodwill')
  const docs: InvoiceDocument[] = engine.orderDocuments(order.id)
  const html: string = engine.documentHtml(credit.number, 'tr') + engine.documentCii(invoice.number)
  const grand: string = engine.document(invoice.number).totals.grand_total.amount
  const configured: string | undefined = engine.invoicing()?.time_zone
  // KPIs: Promises, rows keyed by table name.
  const tables = await engine.kpiTables('Europe/Istanbul', { grain: 'month', channels: ['web'] })
  const summary: KpiRow[] = tables.summary
  const csv: string = await engine.kpiCsv('revenue', 'Europe/Istanbul', { from: '2026-11-01' })
  const insights: KpiInsight[] = await engine.kpiInsights('Europe/Istanbul', undefined, 0.2)
  const page: string = await engine.kpiReportHtml('Europe/Istanbul', { title: 'Shop', insightGrain: 'iso_week' })
  const exported: string = await engine.kpiJson('Europe/Istanbul')
  // Automation rules.
  const problems: RuleProblem[] = validateRules('{"rules": []}', { locations: ['IST'] })
  const checked: RuleSet = loadRules('{"rules": []}', { currencies: ['TRY'], carrierServices: ['ups/express'] })
  const rules: RuleSet = engine.loadRules(checked.toJson())
  engine.setRules(rules, null)
  const dry: DryRunReport = await engine.dryRunRules(rules, { status: 'pending', placedFrom: '2026-11-01T00:00:00Z' })
  const shadow: ShadowReport = await engine.shadowReport()
  const fired: string[] = await engine.runShipByRiskRules(120)
  const locations: string[] | null | undefined = engine.ruleContext().locations
  const priority: number | undefined = engine.order(order.id).automation?.priority
  try {
    loadRules('{')
  } catch (err) {
    if (err instanceof RulesError || err instanceof InvoiceError || err instanceof KpiError) void err.code
  }
  void [invoice, docs, html, grand, configured, summary, csv, insights, page, exported, problems, rules.names, rules.length, dry.counts, shadow.per_rule, fired, locations, priority]
  // Returns: the RMA workflow, store credit, and any step as the core's JSON.
  const shop: Engine = Engine.inMemory({ returns: { window_days: 30, restocking_fee_rate: '0.10', non_returnable: ['GIFT'] } })
  let returned: Order = await shop.requestReturn(order.id, [{ line_id: 'L1', quantity: 1, reason: 'wrong_size' }], {
    note: 'too small',
    exchange: [{ variant: 'MUG-L', quantity: 1, unit_price: '189.00' }],
  })
  const rma: Rma | undefined = returned.rmas?.at(-1)
  returned = await shop.receiveReturn(order.id, 'R1', 'IST', { L1: 1 }, { idempotencyKey: 'rcv-1' })
  returned = await shop.inspectReturn(order.id, 'R1', [{ line_id: 'L1', outcome: 'resellable' }])
  returned = await shop.resolveReturn(order.id, 'R1', 'store_credit')
  const step: ReturnCommand = { command: 'close', rma: 'R1' }
  returned = await shop.executeReturn(order.id, step)
  const worth: string = shop.returnValue(order.id, 'R1').total.amount
  const account: CreditAccount | null = shop.storeCredit('cust-1')
  returned = await shop.spendStoreCredit(order.id, '6.00', { actor: 'customer' })
  void [rma?.status, worth, account?.balance.amount, returned.version]
  // @ts-expect-error resolutions are a string union
  await shop.resolveReturn(order.id, 'R1', 'barter')
  // @ts-expect-error KPI tables have fixed names
  await engine.kpiCsv('nope', 'UTC')
  // @ts-expect-error money is a decimal string, never a number
  await engine.issueCreditNote(invoice.number, 10, 'x')
  // @ts-expect-error money is a decimal string, never a number
  await engine.recordPaymentAmount(order.id, 10)
  // @ts-expect-error statuses are string unions
  const wrong: OrderStatus = 'shipped'
  void wrong
  engine.close()
}

void main
