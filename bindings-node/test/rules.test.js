'use strict'
// Automation rules from Node: loading with every problem named (RulesError), the
// shipped rule sets and the schema, a dry run that changes nothing, live rules that
// act through the engine and are recorded on the order, shadow mode and its report,
// and the ship-by-at-risk sweep.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { ordersmith, orderInput } = require('./helpers.js')

const EXAMPLES = path.join(__dirname, '..', '..', 'examples', 'rules')

const ROUTE_MUGS = JSON.stringify({
  rules: [
    {
      name: 'mugs-from-main',
      trigger: 'order_placed',
      when: { field: 'sku', op: '==', value: 'MUG' },
      actions: [{ type: 'route_to_location', location: 'ist-main' }, { type: 'tag', add: ['routed'] }],
    },
  ],
})

/** Mugs at an Ankara store (first by priority) and at the Istanbul main warehouse. */
async function shop(options) {
  const engine = ordersmith.Engine.inMemory(options)
  await engine.stockBatch([
    { command: 'add_location', location: { id: 'ank-store', name: 'Ankara store', priority: 1, region: 'TR-06', kind: 'store' } },
    { command: 'add_location', location: { id: 'ist-main', name: 'Istanbul main', priority: 2, region: 'TR-34', kind: 'warehouse' } },
    { command: 'register_variant', variant: 'MUG', policy: 'deny' },
    { command: 'receive', variant: 'MUG', location: 'ank-store', quantity: 10 },
    { command: 'receive', variant: 'MUG', location: 'ist-main', quantity: 10 },
  ])
  return engine
}

test('loading and validating report every problem with its rule and JSON path', () => {
  const bad = JSON.stringify({
    rules: [
      { name: 'a', trigger: 'order_placed', priorty: 1, actions: [{ type: 'tag', add: ['x'] }] },
      {
        name: 'b',
        trigger: 'order_confirmed',
        when: { field: 'country', op: '>', value: 'TR' },
        actions: [{ type: 'route_to_location', location: 'nowhere' }],
      },
    ],
  })
  const problems = ordersmith.validateRules(bad, { locations: ['ist-main'] })
  assert.deepEqual(
    problems.map((p) => [p.rule, p.path, p.code]),
    [
      ['a', '$.rules[0].priorty', 'RULES_UNKNOWN_FIELD'],
      ['b', '$.rules[1].when.op', 'RULES_IMPOSSIBLE_COMPARISON'],
      ['b', '$.rules[1].actions[0].type', 'RULES_ACTION_NOT_ALLOWED'],
      ['b', '$.rules[1].actions[0].location', 'RULES_UNKNOWN_LOCATION'],
    ],
  )
  assert.equal(problems[1].message, 'operator ">" does not apply to country (a text field); use one of: ==, !=, in, not_in')
  const err = (() => {
    try {
      ordersmith.loadRules(bad, { locations: ['ist-main'] })
    } catch (e) {
      return e
    }
  })()
  assert.ok(err instanceof ordersmith.RulesError)
  assert.equal(err.code, 'RULES_INVALID')
  assert.equal(err.kind, 'invalid_input')
  assert.deepEqual(err.details.problems, problems)
  assert.ok(err.message.startsWith('4 problem(s) in the rules; the first: rule "a" at $.rules[0].priorty'))
  assert.throws(() => ordersmith.validateRules('{not json'), (e) => e instanceof ordersmith.RulesError && e.code === 'RULES_MALFORMED_JSON')
  assert.throws(() => ordersmith.loadRules('{"rules": []}', { currencies: ['XYZ'] }), ordersmith.MoneyError)
  assert.throws(() => ordersmith.loadRules('{"rules": []}', { carrierServices: ['ups-express'] }), { code: 'ENGINE_INVALID_INPUT' })
  assert.throws(() => ordersmith.loadRules('{"rules": []}', { colour: 'red' }), { code: 'ENGINE_INVALID_INPUT' })
  assert.deepEqual(ordersmith.validateRules(ROUTE_MUGS), [])
})

test('the shipped rule sets load and round-trip; the JSON Schema is published', () => {
  for (const name of ['fraud_review.json', 'bulky_to_main_warehouse.json', 'express_for_promise.json']) {
    const rules = ordersmith.loadRules(fs.readFileSync(path.join(EXAMPLES, name), 'utf8'), { currencies: ['TRY', 'EUR'] })
    assert.ok(rules instanceof ordersmith.RuleSet)
    assert.ok(rules.length >= 1, name)
    assert.equal(rules.names.length, rules.length)
    assert.deepEqual(ordersmith.validateRules(rules.toJson()), [], name)
  }
  const schema = JSON.parse(ordersmith.rulesJsonSchema())
  assert.equal(schema.title, 'RuleSet')
  assert.ok('Action' in schema.$defs)
})

test('a dry run changes nothing; live rules then act through the engine and say why', async () => {
  const engine = await shop()
  assert.deepEqual(engine.ruleContext(), { locations: ['ank-store', 'ist-main'], currencies: null, carrierServices: null })
  assert.throws(
    () => engine.loadRules(ROUTE_MUGS.replace('ist-main', 'izmir')),
    (e) => e instanceof ordersmith.RulesError && e.details.problems[0].code === 'RULES_UNKNOWN_LOCATION',
  )
  const order = await engine.placeOrder(orderInput({ quantity: 1 }))
  const rules = engine.loadRules(ROUTE_MUGS)
  assert.deepEqual(rules.names, ['mugs-from-main'])
  const before = engine.orderHistory(order.id)
  const pending = engine.dryRunRules(rules)
  assert.ok(pending instanceof Promise)
  const report = await pending
  assert.deepEqual(engine.orderHistory(order.id), before, 'a dry run writes nothing')
  assert.equal(report.orders_evaluated, 1)
  assert.deepEqual(report.counts, { 'mugs-from-main': 1 })
  assert.equal(report.orders[0].order_id, order.id)
  assert.deepEqual(report.orders[0].changes, ['tag +routed', 'route all lines -> ist-main'])
  assert.equal(report.orders[0].firings[0].because, 'sku ([MUG]) == MUG')
  assert.equal((await engine.dryRunRules(rules, { channel: 'trendyol' })).orders_evaluated, 0)

  engine.setRules(rules)
  const live = await engine.placeOrder(orderInput({ quantity: 2, ref: 'LIVE-1' }))
  assert.ok(live.tags.includes('routed'))
  assert.deepEqual(live.automation.routes, [{ location: 'ist-main' }])
  await engine.confirmOrder(live.id)
  assert.equal(engine.level('MUG', 'ist-main').reserved, 2, 'the route beats the store\'s priority')
  assert.equal(engine.level('MUG', 'ank-store').reserved, 0)
  const byRule = engine.orderHistory(live.id).filter((r) => r.actor === 'rule:mugs-from-main')
  assert.deepEqual(byRule.map((r) => r.event.type), ['rule_applied', 'tagged'])
  assert.equal(byRule[0].event.actions[0].result, 'applied')

  engine.setRules(null)
  const plain = await engine.placeOrder(orderInput({ quantity: 1, ref: 'PLAIN-1' }))
  assert.deepEqual(plain.tags, [])
})

test('shadow rules only record; the shadow report compares them with the live ones', async () => {
  const engine = await shop()
  const candidate = engine.loadRules(
    JSON.stringify({
      rules: [{ name: 'hold-big', trigger: 'order_placed', when: { field: 'line_count', op: '>=', value: 1 }, actions: [{ type: 'hold', reason: 'fraud_review' }] }],
    }),
  )
  engine.setRules(engine.loadRules('{"rules": []}'), candidate)
  const order = await engine.placeOrder(orderInput({ quantity: 1 }))
  assert.equal(order.status, 'pending', 'the shadow set holds nothing')
  const report = await engine.shadowReport()
  assert.equal(report.orders_compared, 1)
  assert.equal(report.orders_differing, 1)
  assert.deepEqual(report.per_rule, { 'hold-big': { live_only: 0, candidate_only: 1 } })
  assert.equal(report.differences[0].candidate[0].rule, 'hold-big')
  assert.equal((await engine.shadowReport({ status: 'cancelled' })).orders_compared, 0)
  await assert.rejects(engine.shadowReport({ status: 'lost' }), { code: 'ENGINE_INVALID_INPUT' })
})

test('the ship-by-at-risk sweep fires once per order on the shipping calendar', async () => {
  const engine = await shop({ shippingCalendar: { tz: 'Europe/Istanbul', cutoff: '14:00:00', handling_days: 1 } })
  const rules = engine.loadRules(fs.readFileSync(path.join(EXAMPLES, 'express_for_promise.json'), 'utf8'))
  assert.deepEqual(await engine.runShipByRiskRules(120), [], 'no live rules: nothing fires')
  engine.setRules(rules)
  // Placed and confirmed on 2026-11-20: its ship-by is long past by now.
  const order = await engine.confirmOrder((await engine.placeOrder(orderInput({ quantity: 1 }))).id)
  assert.equal(order.automation?.carrier, undefined, 'nothing chosen before the sweep')
  assert.deepEqual(await engine.runShipByRiskRules(120), [order.id])
  const after = engine.order(order.id)
  assert.deepEqual([after.automation.carrier.carrier, after.automation.carrier.service], ['ups', 'express'])
  assert.equal(after.automation.priority, 100)
  assert.ok(after.tags.includes('expedited'))
  assert.deepEqual(await engine.runShipByRiskRules(120), [], 'once per order')
  await assert.rejects(engine.runShipByRiskRules(-1), { code: 'ENGINE_INVALID_INPUT' })
})

test('a live rule counts the customer\'s earlier orders, by e-mail in any case', async () => {
  const engine = await shop()
  engine.setRules(
    engine.loadRules(
      JSON.stringify({
        rules: [{ name: 'welcome', trigger: 'order_placed', when: { field: 'customer_order_count', op: '==', value: 0 }, actions: [{ type: 'tag', add: ['first-order'] }] }],
      }),
    ),
  )
  const withCustomer = (email) => ({ ...orderInput({ quantity: 1 }), customer: { name: 'Ayşe Yılmaz', email } })
  const first = await engine.placeOrder(withCustomer('Ayse@Example.com'))
  const second = await engine.placeOrder(withCustomer('ayse@example.com'))
  const other = await engine.placeOrder(withCustomer('can@example.com'))
  assert.deepEqual([first, second, other].map((o) => o.tags.includes('first-order')), [true, false, true])
})

test('rule facts reach the rules; bad ones throw and change nothing', async () => {
  const engine = await shop()
  const heavy = JSON.stringify({
    rules: [
      {
        name: 'heavy',
        trigger: 'order_placed',
        when: { field: 'weight_grams', op: '>=', value: 5000 },
        actions: [{ type: 'tag', add: ['heavy'] }],
      },
    ],
  })
  engine.setRuleFacts({ weightsGrams: { MUG: 2000 }, currencies: ['TRY'], carrierServices: ['yurtici/standard'] })
  engine.setRules(engine.loadRules(heavy))
  // Three mugs weigh 6 kg, two 4 kg: the weights given here are what the rule reads.
  assert.ok((await engine.placeOrder(orderInput({ quantity: 3 }))).tags.includes('heavy'))
  assert.ok(!(await engine.placeOrder(orderInput({ quantity: 2 }))).tags.includes('heavy'))
  assert.deepEqual(engine.ruleContext(), {
    locations: ['ank-store', 'ist-main'],
    currencies: ['TRY'],
    carrierServices: ['yurtici/standard'],
  })
  // Only what is given changes.
  engine.setRuleFacts({ maxChainDepth: 3 })
  assert.deepEqual(engine.ruleContext().currencies, ['TRY'])
  for (const facts of [
    { weightsGrams: { MUG: -1 } },
    { weightsGrams: { ' ': 1 } },
    { carrierServices: ['yurtici'] },
    { maxChainDepth: 0 },
    { weights: {} },
  ]) {
    assert.throws(() => engine.setRuleFacts(facts), { code: 'ENGINE_INVALID_INPUT' }, JSON.stringify(facts))
  }
  assert.throws(() => engine.setRuleFacts({ currencies: ['XYZ'] }), (e) => e.code.startsWith('MONEY_'))
  assert.deepEqual(engine.ruleContext().carrierServices, ['yurtici/standard'], 'nothing changed')
})
