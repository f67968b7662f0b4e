// Errors: every core code reaches Kotlin as the case of its kind, carrying the code.
package dev.ordersmith.tests

import dev.ordersmith.*
import java.math.BigDecimal
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

fun errors() = Suite("errors").apply {
    test("every code in the core's catalog maps to the case of its kind") {
        val catalog = errorCatalog()
        assertTrue(catalog.size > 100, "only ${catalog.size} codes")
        assertEquals(catalog.size, catalog.map { it.code }.toSet().size, "codes repeat")
        for (info in catalog) {
            val e = assertFailsWith<OrdersmithException> { raiseErrorForCode(info.code) }
            assertEquals(info.code, codeOf(e))
            assertEquals(info.kind, kindOf(e), info.code)
            assertEquals(info.module, info.code.substringBefore('_').lowercase())
        }
        // Every kind has at least one code, so every case is reachable.
        assertEquals(ErrorKind.values().toSet(), catalog.map { it.kind }.toSet())
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") { raiseErrorForCode("NO_SUCH_CODE") }
    }

    test("errors raised by real calls carry code, reason and details") {
        val engine = Engine.inMemory(null)
        shop(engine)
        val missing = expectError<OrdersmithException.NotFound>("ORDER_NOT_FOUND") { engine.order("order-999") }
        assertTrue(missing.detailsJson.contains("order-999"), missing.detailsJson)
        assertTrue(missing.reason.isNotBlank())
        expectError<OrdersmithException.InvalidInput>("ID_EMPTY") { engine.order("") }
        expectError<OrdersmithException.InvalidInput>("MONEY_UNKNOWN_CURRENCY") {
            engine.placeOrder(newOrder("E1", tea(1u)).copy(currency = "XYZ"), null)
        }
        expectError<OrdersmithException.InvalidInput>("ORDER_NO_LINES") { engine.placeOrder(newOrder("E2"), null) }
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") {
            engine.placeOrder(newOrder("E3", tea(1u)), CallContext(actor = "robot"))
        }
        val big = engine.placeOrder(newOrder("E4", mug(50u)), null)
        expectError<OrdersmithException.Rejected>("STOCK_INSUFFICIENT") { engine.confirmOrder(big.id, null) }
        val order = engine.placeOrder(newOrder("E5", tea(1u)), null)
        engine.cancelOrder(order.id, CancelReason.STAFF, null)
        expectError<OrdersmithException.Rejected>("ORDER_INVALID_TRANSITION") { engine.confirmOrder(order.id, null) }
        expectError<OrdersmithException.Conflict>("ENGINE_DUPLICATE_EXTERNAL_REF") {
            engine.placeOrder(newOrder("E5", tea(2u)), null)
        }
        engine.placeOrder(newOrder("E6", tea(1u)), CallContext(idempotencyKey = "k1"))
        expectError<OrdersmithException.Conflict>("ENGINE_IDEMPOTENCY_MISMATCH") {
            engine.placeOrder(newOrder("E7", tea(1u)), CallContext(idempotencyKey = "k1"))
        }
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") { engine.pendingEffects(0u) }
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") { engine.placeOrderJson("{", null) }
        val json = """{"channel": "web", "placed_at": "2026-11-20T12:00:00+03:00", "currency": "TRY",
            "lines": [{"variant": "TEA-500G", "quantity": 1, "unit_price": 89.9}]}"""
        val bad = expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") { engine.placeOrderJson(json, null) }
        assertTrue(bad.reason.startsWith("lines[0].unit_price"), bad.reason)
        val good = engine.placeOrderJson(json.replace("89.9", "\"89.90\""), null)
        assertEquals(BigDecimal("89.90"), good.total.amount)
    }

    test("warehouse errors carry the fulfilment codes") {
        val engine = Engine.inMemory(null)
        shop(engine)
        val order = engine.confirmOrder(engine.placeOrder(newOrder("W1", tea(2u)), null).id, null)
        val fo = order.fulfilments.single().id
        expectError<OrdersmithException.NotFound>("FULFILMENT_UNKNOWN") { engine.pickList(order.id, "F9") }
        expectError<OrdersmithException.InvalidInput>("FULFILMENT_PICK_EXCEEDS_ASSIGNED") {
            engine.pick(order.id, fo, listOf(LineUnits("L1", 3u)), emptyList(), null)
        }
        expectError<OrdersmithException.InvalidInput>("ORDER_UNKNOWN_LINE") {
            engine.pick(order.id, fo, listOf(LineUnits("L7", 1u)), emptyList(), null)
        }
        expectError<OrdersmithException.InvalidInput>("FULFILMENT_PACK_EXCEEDS_PICKED") {
            engine.pack(order.id, fo, listOf(LineUnits("L1", 1u)), ParcelSize(500u, 200u, 150u, 100u), null)
        }
        expectError<OrdersmithException.NotFound>("FULFILMENT_UNKNOWN_PARCEL") {
            engine.handOver(order.id, fo, "F1-P9", null)
        }
    }

    test("a host port that throws is refused, and the effect stays pending") {
        val engine = Engine.inMemory(null)
        engine.placeOrder(newOrder("H1", tea(1u)), null)
        val throwing = object : EffectSink {
            override fun deliver(effect: Effect): Boolean = throw IllegalStateException("printer on fire")
        }
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") { engine.drainEffects(throwing) }
        assertEquals(1, engine.pendingEffects(10u).size)
        val badClock = object : HostClock {
            override fun now(): java.time.Instant = throw IllegalStateException("no time")
        }
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") { Engine.inMemory(badClock) }
    }

    test("a database that cannot be opened is unavailable") {
        val e = assertFailsWith<OrdersmithException> { Engine.open("/proc/no/such/dir/shop.db", null) }
        assertEquals(ErrorKind.UNAVAILABLE, kindOf(e), e.toString())
        assertTrue(codeOf(e).startsWith("STORE_"), codeOf(e))
    }

    test("money errors name the amount") {
        val engine = Engine.inMemory(null)
        val e = expectError<OrdersmithException.InvalidInput>("MONEY_TOO_PRECISE") {
            engine.placeOrder(newOrder("M1", NewLine("TEA-500G", 1u, BigDecimal("1.001"), null)), null)
        }
        assertTrue(e.detailsJson.contains("1.001"), e.detailsJson)
    }
}
