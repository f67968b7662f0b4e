// Bulk import from JSON lines: one call, the text read by the core, one result per line.
package dev.ordersmith.tests

import dev.ordersmith.*
import java.math.BigDecimal
import kotlin.test.assertEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue

private fun line(ref: String, price: String = "\"89.90\"") =
    """{"channel": "pos", "external_ref": "$ref", "placed_at": "2026-11-20T15:00:00+03:00", "currency": "TRY", """ +
        """"lines": [{"variant": "TEA-500G", "quantity": 2, "unit_price": $price}]}"""

fun imports() = Suite("imports").apply {
    test("importOrdersJsonl places good lines and refuses each bad line with its line number") {
        val engine = Engine.inMemory(FixedClock(NOON), null)
        shop(engine)
        val text = listOf(
            line("J-1"), // 1
            "", // 2: blank
            line("J-2", price = "89.9"), // 3: a number as a price
            "{not json}", // 4
            line("J-3"), // 5
        ).joinToString("\r\n")
        val results = engine.importOrdersJsonl(text.toByteArray(Charsets.UTF_8), null)
        assertEquals(listOf(1UL, 3UL, 4UL, 5UL), results.map { it.line })
        assertEquals(listOf("J-1", null, null, "J-3"), results.map { it.order?.externalRef })
        assertEquals(
            listOf(null, "ORDER_JSONL_INVALID_FIELD", "ORDER_JSONL_SYNTAX", null),
            results.map { it.error?.code },
        )
        val bad = results[1].error!!
        assertEquals(ErrorKind.INVALID_INPUT, bad.kind)
        assertTrue(bad.reason.startsWith("line 3, lines[0].unit_price: "), bad.reason)
        assertTrue(bad.detailsJson.contains("\"path\":\"lines[0].unit_price\""), bad.detailsJson)
        assertEquals(BigDecimal("179.80"), results[0].order!!.total.amount)
        assertEquals(OrderStatus.CONFIRMED, engine.confirmOrder(results[0].order!!.id, null).status)
    }

    test("importOrdersJsonl reports bytes that are not UTF-8 and a cut-off last line") {
        val engine = Engine.inMemory(FixedClock(NOON), null)
        val cut = line("K-3").let { it.substring(0, it.length / 2) }
        val data = (line("K-1") + "\n").toByteArray() +
            byteArrayOf(0x7b, 0x22, 0xff.toByte(), 0x22, 0x7d, 0x0a) +
            cut.toByteArray()
        val results = engine.importOrdersJsonl(data, null)
        assertEquals(listOf(1UL, 2UL, 3UL), results.map { it.line })
        assertNull(results[0].error)
        assertEquals(listOf("ORDER_JSONL_INVALID_ENCODING", "ORDER_JSONL_TRUNCATED"), results.drop(1).map { it.error?.code })
        assertEquals(0, engine.importOrdersJsonl(ByteArray(0), null).size)
    }

    test("importOrdersJsonlIds places what importOrdersJsonl places and reports ids") {
        val text = listOf(
            line("L-1"), // 1
            "{not json}", // 2
            line("L-2"), // 3
            line("L-1"), // 4: line 1 again, the same order
            line("L-2", price = "\"99.90\""), // 5: the same reference, other content
            "", // 6: blank
            line("L-3"), // 7
        ).joinToString("\n").toByteArray(Charsets.UTF_8)
        val withOrders = Engine.inMemory(FixedClock(NOON), null)
        val withIds = Engine.inMemory(FixedClock(NOON), null)
        val results = withOrders.importOrdersJsonl(text, null)
        val report = withIds.importOrdersJsonlIds(text, null)
        assertEquals(listOf(1UL, 3UL, 4UL, 7UL), report.placed.map { it.line })
        assertEquals(results.mapNotNull { it.order?.id }, report.placed.map { it.orderId })
        assertEquals(report.placed[0].orderId, report.placed[2].orderId)
        assertEquals(
            results.filter { it.error != null }.map { it.line to it.error!!.code },
            report.refused.map { it.line to it.error.code },
        )
        assertEquals(listOf(2UL, 5UL), report.refused.map { it.line })
        assertEquals("ENGINE_DUPLICATE_EXTERNAL_REF", report.refused[1].error.code)
        for (p in report.placed) assertEquals(p.orderId, withIds.order(p.orderId).id)
    }
}
