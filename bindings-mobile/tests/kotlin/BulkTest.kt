// Bulk calls and helpers from a phone: a day's counter sales placed in one call (bad
// ones reported in place), a delivery note received all or nothing, an amount split
// exactly by weights, and the rule format's JSON Schema.
package dev.ordersmith.tests

import dev.ordersmith.*
import java.math.BigDecimal
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

fun bulk() = Suite("bulk and helpers").apply {
    test("many orders placed in one call; a bad one is reported at its index") {
        val engine = Engine.inMemory(FixedClock(NOON))
        val tooFine = NewLine("TEA-500G", 1u, BigDecimal("89.901"), null)
        val results = engine.placeOrders(
            listOf(newOrder("M-1", tea(1u)), newOrder("M-2", tooFine), newOrder("M-3", mug(2u)), newOrder("M-4", tea(1u)).copy(channel = "")),
            null,
        )
        assertEquals(4, results.size)
        assertEquals("M-1", assertNotNull(results[0].order).externalRef)
        assertNull(results[0].error)
        val bad = assertNotNull(results[1].error)
        assertEquals("MONEY_TOO_PRECISE" to ErrorKind.INVALID_INPUT, bad.code to bad.kind)
        assertEquals(BigDecimal("240.00"), assertNotNull(results[2].order).total.amount)
        assertEquals("ID_EMPTY", assertNotNull(results[3].error).code)
        assertEquals(listOf("M-1", "M-3"), engine.listOrders(10u, null).map { it.externalRef })
        // The same orders again: the stored ones, nothing placed twice.
        val again = engine.placeOrders(listOf(newOrder("M-1", tea(1u))), null)
        assertEquals(results[0].order, again.single().order)
        assertEquals(2, engine.listOrders(10u, null).size)
    }

    test("a delivery note is received all or nothing") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        engine.receiveMany(listOf(Receipt("TEA-500G", "IST-1", 5u, "DN-1"), Receipt("MUG-RED", "ANK-1", 2u, "DN-1")))
        assertEquals(25L, engine.stockLevels("TEA-500G").onHand)
        assertEquals(7L, engine.stockLevels("MUG-RED").onHand)
        expectError<OrdersmithException.NotFound>("STOCK_UNKNOWN_LOCATION") {
            engine.receiveMany(listOf(Receipt("TEA-500G", "IST-1", 5u, "DN-2"), Receipt("MUG-RED", "NOWHERE", 1u, "DN-2")))
        }
        expectError<OrdersmithException.InvalidInput>("ID_EMPTY") {
            engine.receiveMany(listOf(Receipt("TEA-500G", "IST-1", 5u, null), Receipt("", "IST-1", 1u, null)))
        }
        assertEquals(25L, engine.stockLevels("TEA-500G").onHand)
    }

    test("an amount split by weights adds up to the last kuruş") {
        val parts = allocate(Money(BigDecimal("100.00"), "TRY"), listOf(BigDecimal("1"), BigDecimal("1"), BigDecimal("1")))
        assertEquals(listOf("33.34", "33.33", "33.33"), parts.map { it.amount.toPlainString() })
        assertEquals(listOf("TRY"), parts.map { it.currency }.distinct())
        assertEquals(listOf(BigDecimal("75.00"), BigDecimal("25.00")), allocate(Money(BigDecimal("100.00"), "TRY"), listOf(BigDecimal("3"), BigDecimal("1"))).map { it.amount })
        expectError<OrdersmithException.InvalidInput>("MONEY_INVALID_WEIGHTS") { allocate(Money(BigDecimal("1.00"), "TRY"), emptyList()) }
        expectError<OrdersmithException.InvalidInput>("MONEY_INVALID_WEIGHTS") {
            allocate(Money(BigDecimal("1.00"), "TRY"), listOf(BigDecimal("1"), BigDecimal("-1")))
        }
        expectError<OrdersmithException.InvalidInput>("MONEY_TOO_PRECISE") { allocate(Money(BigDecimal("1.001"), "TRY"), listOf(BigDecimal("1"))) }
        expectError<OrdersmithException.InvalidInput>("MONEY_UNKNOWN_CURRENCY") { allocate(Money(BigDecimal("1.00"), "XYZ"), listOf(BigDecimal("1"))) }
    }

    test("the rule format's JSON Schema, for a rule editor") {
        val schema = rulesJsonSchema()
        assertTrue(schema.contains("\"ship_by_at_risk\""))
        assertTrue(schema.startsWith("{"))
    }
}
