// Fixing an order from a shop owner's phone: partial cancels, edits, tags, shipments
// and deliveries recorded by hand, a counter sale placed and paid in one write, and the
// order's history. Each bad input is a typed error that leaves the order as it was.
package dev.ordersmith.tests

import dev.ordersmith.*
import java.math.BigDecimal
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue

fun orderEdits() = Suite("order edits").apply {
    test("a partial cancel releases only the cancelled units' stock") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        val order = engine.confirmOrder(engine.placeOrder(newOrder("C-1", tea(3u), mug(2u)), null).id, null)
        assertEquals(5L, engine.stockLevels("TEA-500G").reserved + engine.stockLevels("MUG-RED").reserved)

        val after = engine.cancelLines(order.id, listOf(LineUnits("L1", 1u)), CancelReason.CUSTOMER, null)
        assertEquals(OrderStatus.CONFIRMED, after.status)
        assertEquals(listOf(1u, 0u), after.lines.map { it.cancelled })
        assertEquals(listOf(2u, 2u), after.lines.map { it.allocated })
        assertEquals(2L, engine.stockLevels("TEA-500G").reserved)
        assertEquals(BigDecimal("419.80"), after.total.amount)

        // Cancelling every remaining unit cancels the order.
        val all = engine.cancelLines(order.id, listOf(LineUnits("L1", 2u), LineUnits("L2", 2u)), CancelReason.INVENTORY, null)
        assertEquals(OrderStatus.CANCELLED, all.status)
        assertEquals(CancelReason.INVENTORY, all.cancelReason)
        assertEquals(0L, engine.stockLevels("MUG-RED").reserved)
    }

    test("a bad partial cancel is a typed error and changes nothing") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        val order = engine.confirmOrder(engine.placeOrder(newOrder("C-2", tea(2u)), null).id, null)
        expectError<OrdersmithException.Rejected>("ORDER_QUANTITY_EXCEEDED") {
            engine.cancelLines(order.id, listOf(LineUnits("L1", 3u)), CancelReason.CUSTOMER, null)
        }
        expectError<OrdersmithException.InvalidInput>("ORDER_UNKNOWN_LINE") {
            engine.cancelLines(order.id, listOf(LineUnits("L9", 1u)), CancelReason.CUSTOMER, null)
        }
        expectError<OrdersmithException.InvalidInput>("ID_EMPTY") {
            engine.cancelLines(order.id, listOf(LineUnits("", 1u)), CancelReason.CUSTOMER, null)
        }
        expectError<OrdersmithException.NotFound>("ORDER_NOT_FOUND") {
            engine.cancelLines("order-999999", listOf(LineUnits("L1", 1u)), CancelReason.CUSTOMER, null)
        }
        assertEquals(order, engine.order(order.id))
        assertEquals(2L, engine.stockLevels("TEA-500G").reserved)

        val cancelled = engine.cancelOrder(order.id, CancelReason.STAFF, null)
        expectError<OrdersmithException.Rejected>("ORDER_INVALID_TRANSITION") {
            engine.cancelLines(order.id, listOf(LineUnits("L1", 1u)), CancelReason.CUSTOMER, null)
        }
        assertEquals(cancelled, engine.order(order.id))
    }

    test("edits add, resize and remove lines before they ship; reservations follow") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        val order = engine.confirmOrder(engine.placeOrder(newOrder("E-1", tea(2u)), null).id, null)
        val edited = engine.editOrder(
            order.id,
            listOf(LineEdit.Add(mug(1u)), LineEdit.SetQuantity("L1", 4u)),
            CallContext(actor = "user:ayse"),
        )
        assertEquals(listOf("TEA-500G" to 4u, "MUG-RED" to 1u), edited.lines.map { it.variant to it.quantity })
        assertEquals(BigDecimal("479.60"), edited.total.amount)
        assertEquals(4L, engine.stockLevels("TEA-500G").reserved)
        assertEquals(1L, engine.stockLevels("MUG-RED").reserved)

        val removed = engine.editOrder(order.id, listOf(LineEdit.Remove("L2")), null)
        assertEquals(listOf("L1"), removed.lines.filter { it.cancelled < it.quantity }.map { it.id })
        assertEquals(0L, engine.stockLevels("MUG-RED").reserved)
    }

    test("a bad edit is a typed error and changes nothing") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        val order = engine.confirmOrder(engine.placeOrder(newOrder("E-2", tea(2u)), null).id, null)
        expectError<OrdersmithException.Rejected>("ORDER_EDIT_EMPTIES_ORDER") {
            engine.editOrder(order.id, listOf(LineEdit.Remove("L1")), null)
        }
        // All or nothing: the good first edit is not kept when the second fails.
        expectError<OrdersmithException.InvalidInput>("ORDER_UNKNOWN_LINE") {
            engine.editOrder(order.id, listOf(LineEdit.Add(mug(1u)), LineEdit.SetQuantity("L7", 1u)), null)
        }
        expectError<OrdersmithException.InvalidInput>("MONEY_TOO_PRECISE") {
            engine.editOrder(order.id, listOf(LineEdit.Add(NewLine("MUG-RED", 1u, BigDecimal("1.005"), null))), null)
        }
        expectError<OrdersmithException.InvalidInput>("MONEY_INVALID_AMOUNT") {
            engine.editOrder(order.id, listOf(LineEdit.Add(NewLine("MUG-RED", 1u, BigDecimal("1E+40"), null))), null)
        }
        expectError<OrdersmithException.InvalidInput>("ID_INVALID_CHARACTERS") {
            engine.editOrder(order.id, listOf(LineEdit.Add(NewLine(" MUG-RED", 1u, BigDecimal("1.00"), null))), null)
        }
        expectError<OrdersmithException.NotFound>("ORDER_NOT_FOUND") {
            engine.editOrder("order-999999", listOf(LineEdit.SetQuantity("L1", 1u)), null)
        }
        assertEquals(order, engine.order(order.id))
        assertEquals(0L, engine.stockLevels("MUG-RED").reserved)
    }

    test("tags are added and removed, on any order") {
        val engine = Engine.inMemory(FixedClock(NOON))
        val order = engine.placeOrder(newOrder("T-1", tea(1u)), null)
        assertEquals(listOf("gift", "vip"), engine.tagOrder(order.id, listOf("vip", "gift"), emptyList(), null).tags)
        assertEquals(listOf("vip"), engine.tagOrder(order.id, emptyList(), listOf("gift"), null).tags)
        val cancelled = engine.cancelOrder(order.id, CancelReason.CUSTOMER, null)
        assertEquals(listOf("late", "vip"), engine.tagOrder(order.id, listOf("late"), emptyList(), null).tags)
        assertEquals(cancelled.version + 1u, engine.order(order.id).version)
    }

    test("bad tags are typed errors and change nothing") {
        val engine = Engine.inMemory(FixedClock(NOON))
        val order = engine.tagOrder(engine.placeOrder(newOrder("T-2", tea(1u)), null).id, listOf("vip"), emptyList(), null)
        expectError<OrdersmithException.InvalidInput>("ORDER_INVALID_TEXT") {
            engine.tagOrder(order.id, listOf("  "), emptyList(), null)
        }
        expectError<OrdersmithException.InvalidInput>("ORDER_EMPTY_COMMAND") {
            engine.tagOrder(order.id, emptyList(), emptyList(), null)
        }
        expectError<OrdersmithException.InvalidInput>("ID_EMPTY") {
            engine.tagOrder("", listOf("vip"), emptyList(), null)
        }
        assertEquals(order, engine.order(order.id))
    }

    test("shipments, deliveries and returns recorded by hand") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        val order = engine.confirmOrder(engine.placeOrder(newOrder("H-1", tea(3u)), null).id, null)
        val shipped = engine.recordShipment(order.id, listOf(LineUnits("L1", 2u)), null)
        assertEquals(OrderStatus.PROCESSING, shipped.status)
        assertEquals(FulfilmentStatus.PARTIALLY_FULFILLED, shipped.fulfilmentStatus)
        assertEquals(18L, engine.stockLevels("TEA-500G").onHand)
        expectError<OrdersmithException.Rejected>("ORDER_QUANTITY_EXCEEDED") {
            engine.recordDelivery(order.id, listOf(LineUnits("L1", 3u)), null)
        }
        assertEquals(shipped, engine.order(order.id))
        val delivered = engine.recordDelivery(order.id, listOf(LineUnits("L1", 2u)), null)
        assertEquals(listOf(2u), delivered.lines.map { it.delivered })
        val returned = engine.recordReturn(order.id, listOf(LineUnits("L1", 1u)), null)
        assertEquals(listOf(1u), returned.lines.map { it.returned })
        expectError<OrdersmithException.NotFound>("ORDER_NOT_FOUND") {
            engine.recordShipment("order-999999", listOf(LineUnits("L1", 1u)), null)
        }
        expectError<OrdersmithException.InvalidInput>("ORDER_UNKNOWN_LINE") {
            engine.recordShipment(order.id, listOf(LineUnits("L4", 1u)), null)
        }
        assertEquals(returned, engine.order(order.id))
    }

    test("a counter sale placed, confirmed and paid in one write, once") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        val then = """[{"command": "confirm"}, {"command": "mark_paid"}]"""
        val placed = engine.placeOrderThen(newOrder("P-1", tea(2u)), then, CallContext(actor = "user:ayse"))
        assertTrue(placed.created)
        assertEquals(OrderStatus.CONFIRMED, placed.order.status)
        assertEquals(PaymentStatus.PAID, placed.order.paymentStatus)
        assertEquals(2L, engine.stockLevels("TEA-500G").reserved)
        // The same channel order again: the stored order, nothing run twice.
        val again = engine.placeOrderThen(newOrder("P-1", tea(2u)), then, null)
        assertFalse(again.created)
        assertEquals(placed.order, again.order)

        val history = engine.orderHistory(placed.order.id)
        assertEquals((1uL..placed.order.version).toList(), history.map { it.version })
        assertTrue(history.all { it.actor == "user:ayse" && it.recordedAt == NOON }, history.toString())
        assertTrue(history.first().eventJson.contains("\"type\":\"placed\""), history.first().eventJson)
    }

    test("a follow-up that fails saves nothing, the placement included") {
        val engine = Engine.inMemory(FixedClock(NOON))
        shop(engine)
        expectError<OrdersmithException.Rejected>("ORDER_INVALID_TRANSITION") {
            engine.placeOrderThen(newOrder("P-2", tea(1u)), """[{"command": "complete"}]""", null)
        }
        val bad = expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") {
            engine.placeOrderThen(newOrder("P-2", tea(1u)), """[{"command": "confirm"}, {"command": "fly"}]""", null)
        }
        assertTrue(bad.detailsJson.contains("then[1]"), bad.detailsJson)
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") {
            engine.placeOrderThen(newOrder("P-2", tea(1u)), "{", null)
        }
        expectError<OrdersmithException.InvalidInput>("MONEY_TOO_PRECISE") {
            engine.placeOrderThen(newOrder("P-2", NewLine("TEA-500G", 1u, BigDecimal("1.001"), null)), "[]", null)
        }
        assertTrue(engine.listOrders(10u, null).isEmpty())
        assertEquals(0L, engine.stockLevels("TEA-500G").reserved)
        expectError<OrdersmithException.NotFound>("ORDER_NOT_FOUND") { engine.orderHistory("order-1") }
        expectError<OrdersmithException.InvalidInput>("ID_EMPTY") { engine.orderHistory("") }
    }
}
