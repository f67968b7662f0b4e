// Listing orders page by page from a phone: filters by status, channel and placed
// time, a cursor that walks every order once, and typed errors for a bad page.
package dev.ordersmith.tests

import dev.ordersmith.*
import kotlin.test.assertEquals
import kotlin.test.assertNull

fun listing() = Suite("listing").apply {
    test("pages walk every order once, oldest first; filters narrow them") {
        val engine = Engine.inMemory(FixedClock(NOON))
        val placed = (1..5).map { i ->
            val channel = if (i % 2 == 0) "web" else "pos"
            engine.placeOrder(newOrder("L-$i", tea(1u)).copy(channel = channel, placedAt = NOON.minusSeconds(3600L * (6 - i))), null)
        }
        engine.confirmOrder(placed[4].id, null)

        val seen = mutableListOf<String>()
        var page = engine.listOrdersPage(2u, null, null)
        seen += page.orders.map { it.id }
        while (page.nextCursor != null) {
            page = engine.listOrdersPage(2u, null, page.nextCursor)
            seen += page.orders.map { it.id }
        }
        assertEquals(placed.map { it.id }, seen)

        assertEquals(listOf(placed[1].id, placed[3].id), engine.listOrdersPage(10u, OrderFilter(channel = "web")).orders.map { it.id })
        assertEquals(listOf(placed[4].id), engine.listOrdersPage(10u, OrderFilter(status = OrderStatus.CONFIRMED)).orders.map { it.id })
        val window = OrderFilter(placedFrom = placed[1].placedAt, placedTo = placed[3].placedAt)
        val middle = engine.listOrdersPage(10u, window)
        assertEquals(listOf(placed[1].id, placed[2].id), middle.orders.map { it.id })
        assertNull(middle.nextCursor)
    }

    test("a bad page is a typed error") {
        val engine = Engine.inMemory(FixedClock(NOON))
        engine.placeOrder(newOrder("L-9", tea(1u)), null)
        val bad = expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") {
            engine.listOrdersPage(10u, null, "not-a-cursor")
        }
        assertEquals(true, bad.detailsJson.contains("after"), bad.detailsJson)
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") { engine.listOrdersPage(0u, null, null) }
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") { engine.listOrdersPage(10_001u, null, null) }
        expectError<OrdersmithException.InvalidInput>("ID_EMPTY") { engine.listOrdersPage(10u, OrderFilter(channel = ""), null) }
        assertEquals(1, engine.listOrdersPage(10u, null, null).orders.size)
    }
}
