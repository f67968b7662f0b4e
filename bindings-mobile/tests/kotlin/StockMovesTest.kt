// A warehouse phone's stock moves beyond receiving: expected goods, adjustments,
// transfers, returns to the shelf, quarantine, write-offs, cycle counts, safety stock.
// Each bad move is a typed error with the core's code and leaves the balances as they
// were.
package dev.ordersmith.tests

import dev.ordersmith.*
import java.math.BigDecimal
import java.time.Instant
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** The variant's balance at [location]. */
fun balance(engine: Engine, variant: String, location: String): StockBalance =
    engine.stockLevels(variant).locations.single { it.location == location }

fun stockMoves() = Suite("stock moves").apply {
    test("expected goods count as incoming until cancelled") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        engine.expectIncoming("MUG-RED", "IST-1", 10u, "PO-7")
        assertEquals(10L, balance(engine, "MUG-RED", "IST-1").incoming)
        engine.cancelIncoming("MUG-RED", "IST-1", 4u, "PO-7")
        assertEquals(6L, balance(engine, "MUG-RED", "IST-1").incoming)
        expectError<OrdersmithException.Rejected>("STOCK_NOT_ENOUGH") {
            engine.cancelIncoming("MUG-RED", "IST-1", 7u, null)
        }
        expectError<OrdersmithException.NotFound>("STOCK_UNKNOWN_LOCATION") {
            engine.expectIncoming("MUG-RED", "IZM-1", 1u, null)
        }
        expectError<OrdersmithException.InvalidInput>("ID_EMPTY") {
            engine.expectIncoming("", "IST-1", 1u, null)
        }
        assertEquals(6L, balance(engine, "MUG-RED", "IST-1").incoming)
    }

    test("adjustments move on hand the way their reason says") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        engine.adjust("TEA-500G", "IST-1", -2, AdjustmentReason.DAMAGE, "broken bags")
        engine.adjust("TEA-500G", "IST-1", 1, AdjustmentReason.FOUND, null)
        engine.adjust("TEA-500G", "IST-1", -1, AdjustmentReason.CORRECTION, null)
        assertEquals(18L, engine.stockLevels("TEA-500G").onHand)

        expectError<OrdersmithException.InvalidInput>("STOCK_ADJUSTMENT_DIRECTION") {
            engine.adjust("TEA-500G", "IST-1", 3, AdjustmentReason.DAMAGE, null)
        }
        expectError<OrdersmithException.NotFound>("STOCK_UNKNOWN_VARIANT") {
            engine.adjust("TEA-1KG", "IST-1", -1, AdjustmentReason.LOSS, null)
        }
        expectError<OrdersmithException.InvalidInput>("ID_INVALID_CHARACTERS") {
            engine.adjust("TEA-500G", " IST-1", -1, AdjustmentReason.LOSS, null)
        }
        assertEquals(18L, engine.stockLevels("TEA-500G").onHand)
    }

    test("a transfer is in transit until received at its destination") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        engine.transfer("TR-1", "TEA-500G", "IST-1", "ANK-1", 5u)
        assertEquals(15L, balance(engine, "TEA-500G", "IST-1").onHand)
        assertEquals(5L, engine.stockLevels("TEA-500G").locations.sumOf { it.inTransit })
        // The same transfer again (a retry) changes nothing.
        engine.transfer("TR-1", "TEA-500G", "IST-1", "ANK-1", 5u)
        assertEquals(15L, balance(engine, "TEA-500G", "IST-1").onHand)
        engine.receiveTransfer("TR-1")
        assertEquals(5L, balance(engine, "TEA-500G", "ANK-1").onHand)
        assertEquals(0L, engine.stockLevels("TEA-500G").locations.sumOf { it.inTransit })
        assertEquals(20L, engine.stockLevels("TEA-500G").onHand)
    }

    test("bad transfers are typed errors and move nothing") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        engine.transfer("TR-2", "MUG-RED", "IST-1", "ANK-1", 1u)
        expectError<OrdersmithException.Conflict>("STOCK_TRANSFER_CONFLICT") {
            engine.transfer("TR-2", "MUG-RED", "IST-1", "ANK-1", 2u)
        }
        expectError<OrdersmithException.InvalidInput>("STOCK_SAME_LOCATION") {
            engine.transfer("TR-3", "MUG-RED", "IST-1", "IST-1", 1u)
        }
        expectError<OrdersmithException.Rejected>("STOCK_NOT_ENOUGH") {
            engine.transfer("TR-4", "MUG-RED", "IST-1", "ANK-1", 50u)
        }
        expectError<OrdersmithException.NotFound>("STOCK_UNKNOWN_TRANSFER") { engine.receiveTransfer("TR-9") }
        expectError<OrdersmithException.InvalidInput>("ID_EMPTY") { engine.receiveTransfer("") }
        assertEquals(4L, balance(engine, "MUG-RED", "IST-1").onHand)
        assertEquals(1L, engine.stockLevels("MUG-RED").locations.sumOf { it.inTransit })
    }

    test("returns restocked or quarantined, released or written off") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        engine.restockReturn("MUG-RED", "IST-1", 1u, "RMA-1")
        assertEquals(6L, balance(engine, "MUG-RED", "IST-1").onHand)
        engine.quarantine("MUG-RED", "IST-1", 3u, "RMA-2")
        assertEquals(3L, balance(engine, "MUG-RED", "IST-1").quarantined)
        engine.releaseQuarantine("MUG-RED", "IST-1", 1u, null)
        engine.writeOff("MUG-RED", "IST-1", 2u, WriteOffSource.QUARANTINE, "cracked")
        engine.writeOff("MUG-RED", "IST-1", 1u, WriteOffSource.ON_HAND, null)
        val mugs = balance(engine, "MUG-RED", "IST-1")
        assertEquals(0L, mugs.quarantined)
        assertEquals(6L, mugs.onHand)

        expectError<OrdersmithException.Rejected>("STOCK_NOT_ENOUGH") {
            engine.releaseQuarantine("MUG-RED", "IST-1", 1u, null)
        }
        expectError<OrdersmithException.Rejected>("STOCK_NOT_ENOUGH") {
            engine.writeOff("MUG-RED", "IST-1", 7u, WriteOffSource.ON_HAND, null)
        }
        expectError<OrdersmithException.NotFound>("STOCK_UNKNOWN_LOCATION") {
            engine.quarantine("MUG-RED", "NOWHERE", 1u, null)
        }
        assertEquals(mugs, balance(engine, "MUG-RED", "IST-1"))
    }

    test("a blind cycle count posts its variances, valued") {
        val clock = FixedClock(NOON)
        val engine = Engine.inMemory(clock)
        shop(engine)
        val sheet = engine.openCount("CC-1", "IST-1", listOf("TEA-500G", "MUG-RED"))
        assertEquals(listOf("MUG-RED", "TEA-500G"), sheet.variants)
        assertTrue(sheet.recorded.isEmpty())
        engine.recordCount("CC-1", "TEA-500G", 18u)
        // Opening it again returns its sheet, with what was counted.
        assertEquals(listOf("TEA-500G"), engine.openCount("CC-1", "IST-1", listOf("TEA-500G", "MUG-RED")).recorded)
        clock.time = NOON.plusSeconds(600)
        val report = engine.closeCount("CC-1", listOf(UnitCost("TEA-500G", Money(BigDecimal("40.00"), "TRY"))))
        assertEquals(NOON, report.openedAt)
        assertEquals(Instant.parse("2026-11-20T12:10:00Z"), report.closedAt)
        val tea = report.variances.single()
        assertEquals(20L, tea.expected)
        assertEquals(-2L, tea.variance)
        assertEquals(Money(BigDecimal("-80.00"), "TRY"), tea.value)
        assertEquals(listOf("MUG-RED"), report.uncounted)
        // The one counted variant was off: no variant counted right.
        assertEquals(0, report.variantAccuracy?.signum())
        assertEquals(18L, engine.stockLevels("TEA-500G").onHand)
        assertEquals(5L, engine.stockLevels("MUG-RED").onHand)
    }

    test("bad counts are typed errors and post nothing") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        engine.openCount("CC-2", "IST-1", listOf("TEA-500G"))
        expectError<OrdersmithException.Conflict>("STOCK_COUNT_CONFLICT") {
            engine.openCount("CC-2", "IST-1", listOf("MUG-RED"))
        }
        expectError<OrdersmithException.InvalidInput>("STOCK_COUNT_VARIANT_NOT_LISTED") {
            engine.recordCount("CC-2", "MUG-RED", 5u)
        }
        expectError<OrdersmithException.NotFound>("STOCK_UNKNOWN_COUNT") { engine.recordCount("CC-9", "TEA-500G", 1u) }
        expectError<OrdersmithException.NotFound>("STOCK_UNKNOWN_COUNT") { engine.closeCount("CC-9", emptyList()) }
        expectError<OrdersmithException.InvalidInput>("MONEY_UNKNOWN_CURRENCY") {
            engine.closeCount("CC-2", listOf(UnitCost("TEA-500G", Money(BigDecimal("1.00"), "XYZ"))))
        }
        expectError<OrdersmithException.InvalidInput>("MONEY_TOO_PRECISE") {
            engine.closeCount("CC-2", listOf(UnitCost("TEA-500G", Money(BigDecimal("1.001"), "TRY"))))
        }
        engine.recordCount("CC-2", "TEA-500G", 3u)
        // The refused closes posted nothing; the count is still open.
        assertEquals(20L, engine.stockLevels("TEA-500G").onHand)
        val report = engine.closeCount("CC-2", emptyList())
        assertNull(report.variances.single().value)
        expectError<OrdersmithException.Rejected>("STOCK_COUNT_CLOSED") { engine.recordCount("CC-2", "TEA-500G", 20u) }
        assertEquals(3L, engine.stockLevels("TEA-500G").onHand)
    }

    test("safety stock and low-stock thresholds shape what can be sold") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        engine.setSafetyStock("MUG-RED", "IST-1", 2u)
        val mugs = balance(engine, "MUG-RED", "IST-1")
        assertEquals(2u, mugs.safetyStock)
        assertEquals(3L, mugs.available)
        assertEquals(3uL, engine.stockLevels("MUG-RED").sellable)
        engine.setLowStockThreshold("MUG-RED", 4u)
        engine.setLowStockThreshold("MUG-RED", null)
        expectError<OrdersmithException.NotFound>("STOCK_UNKNOWN_VARIANT") { engine.setSafetyStock("MUG-BLUE", "IST-1", 1u) }
        expectError<OrdersmithException.NotFound>("STOCK_UNKNOWN_VARIANT") { engine.setLowStockThreshold("MUG-BLUE", 1u) }
        expectError<OrdersmithException.InvalidInput>("ID_EMPTY") { engine.setSafetyStock("MUG-RED", "", 1u) }
        assertEquals(mugs, balance(engine, "MUG-RED", "IST-1"))
    }

    test("a hand-made reservation is committed or released, in part or whole") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        engine.reserve("HOLD-1", "TEA-500G", "IST-1", 4u, NOON.plusSeconds(3600), "set aside at the counter")
        val held = engine.reservations(null, "TEA-500G", null).single()
        assertEquals("HOLD-1", held.id)
        assertEquals(NOON.plusSeconds(3600), held.expiresAt)
        assertNull(held.orderId)
        assertEquals(4L, engine.stockLevels("TEA-500G").reserved)
        // The same reservation again (a retry) changes nothing.
        engine.reserve("HOLD-1", "TEA-500G", "IST-1", 4u, NOON.plusSeconds(3600), "set aside at the counter")
        assertEquals(4L, engine.stockLevels("TEA-500G").reserved)
        // The customer needs another hour; then the hold is kept until released.
        engine.setReservationExpiry("HOLD-1", NOON.plusSeconds(7200))
        assertEquals(NOON.plusSeconds(7200), engine.reservations(null, "TEA-500G", null).single().expiresAt)
        engine.setReservationExpiry("HOLD-1")
        assertNull(engine.reservations(null, "TEA-500G", null).single().expiresAt)

        engine.commit("HOLD-1", 1u)
        engine.release("HOLD-1", 1u)
        assertEquals(2L, engine.stockLevels("TEA-500G").reserved)
        assertEquals(19L, engine.stockLevels("TEA-500G").onHand)
        engine.commit("HOLD-1", null)
        assertEquals(0L, engine.stockLevels("TEA-500G").reserved)
        assertEquals(17L, engine.stockLevels("TEA-500G").onHand)

        engine.reserve("HOLD-2", "MUG-RED", "IST-1", 2u)
        engine.release("HOLD-2")
        assertTrue(engine.reservations(null, "MUG-RED", null).isEmpty())
        assertEquals(0L, engine.stockLevels("MUG-RED").reserved)
    }

    test("bad reservations are typed errors and hold nothing") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        engine.reserve("HOLD-3", "MUG-RED", "IST-1", 2u)
        expectError<OrdersmithException.Conflict>("STOCK_RESERVATION_CONFLICT") {
            engine.reserve("HOLD-3", "MUG-RED", "IST-1", 3u)
        }
        expectError<OrdersmithException.Rejected>("STOCK_INSUFFICIENT") {
            engine.reserve("HOLD-4", "MUG-RED", "IST-1", 4u)
        }
        expectError<OrdersmithException.Rejected>("STOCK_COMMIT_TOO_LARGE") { engine.commit("HOLD-3", 3u) }
        expectError<OrdersmithException.Rejected>("STOCK_RELEASE_TOO_LARGE") { engine.release("HOLD-3", 3u) }
        expectError<OrdersmithException.NotFound>("STOCK_UNKNOWN_RESERVATION") { engine.commit("HOLD-9", null) }
        expectError<OrdersmithException.InvalidInput>("ID_EMPTY") { engine.release("", null) }
        assertEquals(2L, engine.stockLevels("MUG-RED").reserved)
        assertEquals(5L, engine.stockLevels("MUG-RED").onHand)

        // An order's own reservations are the order's to commit or release.
        val order = engine.confirmOrder(engine.placeOrder(newOrder("O-1", tea(1u)), null).id, null)
        val owned = order.lines.single().allocations.single().reservation
        expectError<OrdersmithException.Rejected>("ENGINE_RESERVATION_OWNED_BY_ORDER") { engine.release(owned, null) }
        expectError<OrdersmithException.Rejected>("ENGINE_RESERVATION_OWNED_BY_ORDER") {
            engine.setReservationExpiry(owned, NOON.plusSeconds(60))
        }
        assertEquals(order, engine.order(order.id))
        // A new expiry for a hold that is not there, or one not after now: refused, the
        // hold as it was.
        expectError<OrdersmithException.NotFound>("STOCK_UNKNOWN_RESERVATION") {
            engine.setReservationExpiry("HOLD-9", NOON.plusSeconds(60))
        }
        expectError<OrdersmithException.InvalidInput>("STOCK_INVALID_EXPIRY") {
            engine.setReservationExpiry("HOLD-3", NOON.minusSeconds(60))
        }
        assertNull(engine.reservations(null, "MUG-RED", null).single().expiresAt)
        engine.commit("HOLD-3", null)
        expectError<OrdersmithException.Rejected>("STOCK_RESERVATION_COMMITTED") { engine.release("HOLD-3", null) }
    }

    test("backorders and pre-orders confirm beyond the shelf; deny does not") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        engine.registerVariant("CUP-BLUE", StockPolicy.Backorder(2u))
        engine.receive("CUP-BLUE", "IST-1", 1u, null)
        val cups = engine.confirmOrder(engine.placeOrder(newOrder("B-1", NewLine("CUP-BLUE", 3u, BigDecimal("45.00"), null)), null).id, null)
        assertEquals(3u, cups.lines.single().allocated)
        assertEquals(-2L, balance(engine, "CUP-BLUE", "IST-1").available)

        val mugs = engine.placeOrder(newOrder("B-2", mug(7u)), null)
        expectError<OrdersmithException.Rejected>("STOCK_INSUFFICIENT") { engine.confirmOrder(mugs.id, null) }
        engine.setPolicy("MUG-RED", StockPolicy.PreOrder)
        engine.expectIncoming("MUG-RED", "IST-1", 3u, "PO-8")
        assertEquals(OrderStatus.CONFIRMED, engine.confirmOrder(mugs.id, null).status)

        expectError<OrdersmithException.NotFound>("STOCK_UNKNOWN_VARIANT") { engine.setPolicy("CUP-RED", StockPolicy.Deny) }
        expectError<OrdersmithException.Conflict>("STOCK_ALREADY_EXISTS") { engine.registerVariant("CUP-BLUE", StockPolicy.Deny) }
        expectError<OrdersmithException.InvalidInput>("ID_EMPTY") { engine.setPolicy(" ", StockPolicy.Deny) }
    }

    test("a bundle reserves its components, all or nothing") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        engine.defineBundle("GIFT-BOX", listOf(BundleComponent("TEA-500G", 2u), BundleComponent("MUG-RED", 1u)))
        engine.reserve("GIFT-1", "GIFT-BOX", "IST-1", 3u)
        assertEquals(6L, engine.stockLevels("TEA-500G").reserved)
        assertEquals(3L, engine.stockLevels("MUG-RED").reserved)
        // Three more boxes need three more mugs; two are left: nothing is held.
        expectError<OrdersmithException.Rejected>("STOCK_INSUFFICIENT") { engine.reserve("GIFT-2", "GIFT-BOX", "IST-1", 3u) }
        assertEquals(6L, engine.stockLevels("TEA-500G").reserved)

        expectError<OrdersmithException.NotFound>("STOCK_UNKNOWN_VARIANT") {
            engine.defineBundle("TEA-SET", listOf(BundleComponent("TEA-1KG", 1u)))
        }
        expectError<OrdersmithException.Conflict>("STOCK_ALREADY_EXISTS") {
            engine.defineBundle("GIFT-BOX", listOf(BundleComponent("TEA-500G", 1u)))
        }
        expectError<OrdersmithException.InvalidInput>("STOCK_INVALID_QUANTITY") {
            engine.defineBundle("MUG-PAIR", listOf(BundleComponent("MUG-RED", 0u)))
        }
        assertEquals(3L, engine.stockLevels("MUG-RED").reserved)
    }

    test("the stock sheet, the journal, velocity and a reorder forecast") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        engine.adjust("TEA-500G", "IST-1", -2, AdjustmentReason.DAMAGE, "broken bags")
        val order = engine.confirmOrder(engine.placeOrder(newOrder("V-1", tea(3u)), null).id, null)
        engine.recordShipment(order.id, listOf(LineUnits("L1", 3u)), null)

        val sheet = engine.stockPosition()
        assertEquals(listOf("MUG-RED", "TEA-500G"), sheet.map { it.variant })
        assertEquals(engine.stockLevels("TEA-500G"), sheet[1])
        assertEquals(15L, sheet[1].onHand)

        val journal = engine.journal(100u, 0u)
        assertEquals(listOf("receipt", "receipt", "adjustment", "reserve", "sale"), journal.map { it.kind })
        assertEquals((1uL..5uL).toList(), journal.map { it.seq })
        val damage = journal[2]
        assertEquals("TEA-500G" to 2u, damage.variant to damage.quantity)
        assertEquals("broken bags", damage.reference)
        assertEquals(NOON, damage.at)
        assertTrue(damage.kindJson.contains("\"damage\""), damage.kindJson)
        assertEquals(listOf(4uL, 5uL), engine.journal(100u, 3u).map { it.seq })
        assertEquals(listOf(1uL), engine.journal(1u, 0u).map { it.seq })
        assertTrue(engine.journal(10u, 5u).isEmpty())

        // Three sold today over a 30-day window: 0.1 a day.
        assertEquals(0, BigDecimal("0.1").compareTo(engine.salesVelocity("TEA-500G", 30u)))
        val f = engine.forecast("TEA-500G", 30u, 7u, 14u)
        assertEquals(0, BigDecimal("150").compareTo(f.daysOfCover))
        assertEquals(1uL, f.reorderPoint)
        assertEquals(15L, f.inventoryPosition)
        assertEquals(false, f.reorderNow)
        assertNull(engine.forecast("MUG-RED", 30u, 7u, 14u).daysOfCover)

        expectError<OrdersmithException.InvalidInput>("STOCK_INVALID_PARAMETER") { engine.salesVelocity("TEA-500G", 0u) }
        expectError<OrdersmithException.InvalidInput>("STOCK_INVALID_PARAMETER") { engine.forecast("TEA-500G", 30u, 4000u, 14u) }
        expectError<OrdersmithException.NotFound>("STOCK_UNKNOWN_VARIANT") { engine.forecast("TEA-1KG", 30u, 7u, 14u) }
        expectError<OrdersmithException.InvalidInput>("ID_EMPTY") { engine.salesVelocity("", 30u) }
        assertEquals(5, engine.journal(100u, 0u).size)
    }

    test("a sourcing preview reserves nothing; one location's level") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        engine.registerVariant("CUP-BLUE")
        engine.receive("CUP-BLUE", "ANK-1", 3u, null)
        val cup = NewLine("CUP-BLUE", 1u, BigDecimal("45.00"), null)
        val order = engine.placeOrder(newOrder("SP-1", tea(2u), cup), null)
        val plan = assertNotNull(engine.sourcingPlan(order.id))
        assertEquals(listOf(SourcedUnits("L1", "IST-1", 2u), SourcedUnits("L2", "ANK-1", 1u)), plan.assignments)
        assertTrue(plan.unfilled.isEmpty())
        assertTrue(plan.explanation.isNotEmpty())
        assertEquals(0L, engine.stockLevels("TEA-500G").reserved)
        assertEquals(OrderStatus.PENDING, engine.order(order.id).status)

        val short = engine.placeOrder(newOrder("SP-2", tea(30u)), null)
        assertEquals(listOf(LineUnits("L1", 10u)), assertNotNull(engine.sourcingPlan(short.id)).unfilled)
        val untracked = engine.placeOrder(newOrder("SP-3", NewLine("GIFT-CARD", 1u, BigDecimal("100.00"), null)), null)
        assertNull(engine.sourcingPlan(untracked.id))
        expectError<OrdersmithException.NotFound>("ORDER_NOT_FOUND") { engine.sourcingPlan("order-999999") }
        expectError<OrdersmithException.InvalidInput>("ID_EMPTY") { engine.sourcingPlan("") }

        assertEquals(balance(engine, "TEA-500G", "IST-1"), engine.stockLevel("TEA-500G", "IST-1"))
        assertEquals(3L, engine.stockLevel("CUP-BLUE", "ANK-1").onHand)
        expectError<OrdersmithException.NotFound>("STOCK_UNKNOWN_LOCATION") { engine.stockLevel("TEA-500G", "NOWHERE") }
        expectError<OrdersmithException.NotFound>("STOCK_UNKNOWN_VARIANT") { engine.stockLevel("TEA-1KG", "IST-1") }
    }
}
