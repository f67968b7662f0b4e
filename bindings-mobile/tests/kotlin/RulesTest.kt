// Automation rules from Kotlin: every problem named with its rule and JSON path, a
// typed error when loading fails, and a dry run over the device's orders that changes
// nothing.
package dev.ordersmith.tests

import dev.ordersmith.*
import kotlin.test.assertEquals
import kotlin.test.assertTrue

private const val BAD_RULES = """
{"rules": [
  {"name": "a", "trigger": "order_placed", "priorty": 1, "actions": [{"type": "tag", "add": ["x"]}]},
  {"name": "b", "trigger": "order_confirmed",
   "when": {"field": "channel", "op": ">", "value": "pos"},
   "actions": [{"type": "auto_confirm"}]}
]}
"""

private const val TEA_RULES = """
{"rules": [
  {"name": "tea-from-ankara", "trigger": "order_placed",
   "when": {"field": "sku", "op": "==", "value": "TEA-500G"},
   "actions": [{"type": "route_to_location", "location": "ANK-1"}]},
  {"name": "tea-from-istanbul", "trigger": "order_placed",
   "when": {"field": "line_count", "op": ">=", "value": 1},
   "actions": [{"type": "route_to_location", "location": "IST-1"}, {"type": "set_priority", "priority": 5}]}
]}
"""

fun rules() = Suite("rules").apply {
    test("validation lists every problem with rule, path and code") {
        val problems = validateRules(BAD_RULES)
        assertEquals(
            listOf(
                Triple("a", "$.rules[0].priorty", "RULES_UNKNOWN_FIELD"),
                Triple("b", "$.rules[1].when.op", "RULES_IMPOSSIBLE_COMPARISON"),
                Triple("b", "$.rules[1].actions[0].type", "RULES_ACTION_NOT_ALLOWED"),
            ),
            problems.map { Triple(it.rule, it.path, it.code) },
        )
        assertEquals(
            "operator \">\" does not apply to channel (a text field); use one of: ==, !=, in, not_in",
            problems[1].message,
        )
        val e = expectError<OrdersmithException.InvalidInput>("RULES_INVALID") { loadRules(BAD_RULES) }
        assertTrue(e.detailsJson.contains("RULES_ACTION_NOT_ALLOWED"), e.detailsJson)
        expectError<OrdersmithException.InvalidInput>("RULES_MALFORMED_JSON") { validateRules("{") }
    }

    test("the engine checks its own locations") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        val rules = engine.loadRules(TEA_RULES)
        assertEquals(listOf("tea-from-ankara", "tea-from-istanbul"), rules.names())
        expectError<OrdersmithException.InvalidInput>("RULES_INVALID") {
            engine.loadRules(TEA_RULES.replace("ANK-1", "IZM-1"))
        }
    }

    test("a dry run reports firings, changes and conflicts and changes nothing") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        val a = engine.placeOrder(newOrder("A-1", tea(2u)), null)
        val b = engine.placeOrder(newOrder("B-1", mug(1u)), null)
        val before = engine.listOrders(100u, null)
        val report = engine.dryRunRules(engine.loadRules(TEA_RULES))
        assertEquals(before, engine.listOrders(100u, null))
        assertEquals(2uL, report.ordersEvaluated)
        assertEquals(mapOf("tea-from-ankara" to 1uL, "tea-from-istanbul" to 2uL), report.counts)
        assertEquals(1uL, report.conflicts)
        val first = report.orders.single { it.orderId == a.id }
        assertEquals(listOf("tea-from-ankara", "tea-from-istanbul"), first.rules)
        assertEquals(
            listOf("routes_differ: tea-from-ankara vs tea-from-istanbul (line L1 (TEA-500G): ANK-1 vs IST-1)"),
            first.conflicts,
        )
        assertEquals(listOf("priority -> 5", "route all lines -> IST-1"), report.orders.single { it.orderId == b.id }.changes)
        assertTrue(report.reportJson.contains("\"because\""))
    }

    test("a rule set runs live on a new engine handle, and a shadow set only reports") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        val live = engine.withRules(engine.loadRules(TAG_RULES), engine.loadRules(TAG_RULES.replace("\"vip\"", "\"gold\"")))
        val o = live.placeOrder(newOrder("C-1", tea(1u)), null)
        assertTrue(live.order(o.id).tags.contains("vip"), live.order(o.id).tags.toString())
        assertTrue(!live.order(o.id).tags.contains("gold"))
        val shadow = live.shadowReportJson()
        assertTrue(shadow.contains("\"orders_differing\":1"), shadow)
        // The original handle still runs no rules.
        val plain = engine.placeOrder(newOrder("C-2", tea(1u)), null)
        assertTrue(!engine.order(plain.id).tags.contains("vip"))
    }

    test("rule facts reach the rules; bad ones are refused and change nothing") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        val weighed = engine.withRuleFacts(
            weightsGrams = mapOf("TEA-500G" to 500u),
            currencies = listOf("TRY"),
            carrierServices = listOf("yurtici/standard"),
        )
        val live = weighed.withRules(weighed.loadRules(HEAVY_RULES), null)
        // Three packs weigh 1.5 kg, two 1 kg: the weights given here are what the rule reads.
        assertTrue(live.placeOrder(newOrder("H-1", tea(3u)), null).tags.contains("heavy"))
        assertTrue(!live.placeOrder(newOrder("H-2", tea(2u)), null).tags.contains("heavy"))
        assertEquals(listOf("yurtici/standard"), live.ruleContext().carrierServices)
        // Only what is given changes.
        assertEquals(listOf("TRY"), live.withRuleFacts(maxChainDepth = 3u).ruleContext().currencies)
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") { live.withRuleFacts(weightsGrams = mapOf(" " to 1u)) }
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") { live.withRuleFacts(carrierServices = listOf("yurtici")) }
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") { live.withRuleFacts(maxChainDepth = 0u) }
        expectError<OrdersmithException.InvalidInput>("MONEY_UNKNOWN_CURRENCY") { live.withRuleFacts(currencies = listOf("XYZ")) }
        assertEquals(listOf("yurtici/standard"), live.ruleContext().carrierServices, "nothing changed")
    }

    test("the names rules may use, and ship-by-at-risk rules fired on a schedule") {
        val calendar = """{"tz": "Europe/Istanbul", "cutoff": "14:00:00", "handling_days": 1, "non_working": ["sunday"]}"""
        val clock = FixedClock(NOON)
        val engine = Engine.inMemory(clock, EngineOptions(shippingCalendarJson = calendar))
        shop(engine)
        assertEquals(listOf("ANK-1", "IST-1"), engine.ruleContext().locations)

        // Ship-by Saturday 11:00 UTC (placed Friday before the cut-off).
        val order = engine.confirmOrder(
            engine.placeOrder(newOrder("K-1", tea(1u)).copy(placedAt = java.time.Instant.parse("2026-11-20T09:00:00Z")), null).id,
            null,
        )
        // No live rules: nothing fires.
        assertTrue(engine.runShipByRiskRules(24u * 60u).isEmpty())
        val live = engine.withRules(engine.loadRules(RISK_RULES), null)
        assertTrue(live.runShipByRiskRules(60u).isEmpty(), "Saturday 11:00 is not within an hour of Friday noon")
        assertEquals(listOf(order.id), live.runShipByRiskRules(24u * 60u))
        assertTrue(live.order(order.id).tags.contains("at-risk"))
        // Once per order.
        assertTrue(live.runShipByRiskRules(24u * 60u).isEmpty())

        val tagged = live.order(order.id)
        for (bad in listOf(0u, 43_201u)) {
            expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") { live.runShipByRiskRules(bad) }
        }
        assertEquals(tagged, live.order(order.id))
    }
}

private const val TAG_RULES = """
{"rules": [
  {"name": "tag-everything", "trigger": "order_placed",
   "actions": [{"type": "tag", "add": ["vip"]}]}
]}
"""

private const val RISK_RULES = """
{"rules": [
  {"name": "flag-late", "trigger": "ship_by_at_risk",
   "actions": [{"type": "tag", "add": ["at-risk"]}]}
]}
"""

private const val HEAVY_RULES = """
{"rules": [
  {"name": "heavy", "trigger": "order_placed",
   "when": {"field": "weight_grams", "op": ">=", "value": 1500},
   "actions": [{"type": "tag", "add": ["heavy"]}]}
]}
"""
