// KPI tables and the report from Kotlin: an SQLite shop's day in Istanbul.
package dev.ordersmith.tests

import dev.ordersmith.*
import java.nio.file.Files
import kotlin.test.assertEquals
import kotlin.test.assertTrue

fun kpis() = Suite("kpis").apply {
    test("tables, filters, CSV and the report") {
        val dir = Files.createTempDirectory("ordersmith-kpi")
        val engine = Engine.open(dir.resolve("shop.db").toString(), FixedClock(NOON))
        shop(engine)
        // Two orders at noon UTC (15:00 in Istanbul): one confirmed, one cancelled.
        engine.confirmOrder(engine.placeOrder(newOrder("A-1", tea(2u), mug(1u)), null).id, null)
        val b = engine.placeOrder(newOrder("B-1", tea(1u)), null)
        engine.cancelOrder(b.id, CancelReason.FRAUD, null)

        val tables = engine.kpiTables("Europe/Istanbul", null).associateBy { it.name }
        val summary = tables.getValue("summary")
        assertEquals(listOf("period", "period_start", "orders"), summary.columns.take(3))
        fun cell(t: KpiTable, column: String, row: Int = 0) = t.rows[row][t.columns.indexOf(column)]
        assertEquals("2026-11-20", cell(summary, "period"))
        assertEquals("2", cell(summary, "orders"))
        assertEquals("0.5", cell(summary, "cancellation_rate"))
        assertEquals(null, cell(summary, "on_time_ship_rate"), "nothing shipped: undefined, not 0")
        // 2 × 89.90 + 120.00 = 299.80 TRY, exact.
        assertEquals("299.80", cell(tables.getValue("revenue"), "gross"))

        val month = engine.kpiTables("Europe/Istanbul", KpiQuery(grain = KpiGrain.MONTH, channels = listOf("pos")))
        assertEquals("2026-11", cell(month.first { it.name == "summary" }, "period"))

        val csv = engine.kpiCsv("cancellations", "Europe/Istanbul", null)
        assertEquals("period,period_start,reason,orders_cancelled,orders,rate", csv.lines().first())
        assertTrue(csv.contains("2026-11-20,2026-11-20,fraud,1,2,0.5"), csv)

        val html = engine.kpiReportHtml("Europe/Istanbul", "Tea shop", null)
        assertTrue(html.startsWith("<!DOCTYPE html>") && html.contains("<svg") && !html.contains("<script"))
    }

    test("a bad time zone or date is invalid input with its code") {
        val engine = Engine.inMemory(FixedClock(NOON), null)
        expectError<OrdersmithException.InvalidInput>("KPI_UNKNOWN_TIME_ZONE") { engine.kpiTables("Mars/Olympus", null) }
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") {
            engine.kpiTables("Europe/Istanbul", KpiQuery(grain = KpiGrain.DAY, from = "yesterday"))
        }
        expectError<OrdersmithException.NotFound>("KPI_UNKNOWN_TABLE") { engine.kpiCsv("nope", "Europe/Istanbul", null) }
    }

    test("insights: what moved from one day to the next, and where from") {
        val engine = Engine.inMemory(FixedClock(NOON), null)
        shop(engine)
        val yesterday = java.time.Instant.parse("2026-11-19T09:00:00Z")
        engine.placeOrder(newOrder("Y-1", tea(1u)).copy(placedAt = yesterday), null)
        for (i in 1..3) engine.placeOrder(newOrder("T-$i", tea(1u)).copy(channel = if (i == 1) "pos" else "web"), null)
        val day = KpiQuery(grain = KpiGrain.DAY)
        val found = engine.kpiInsights("Europe/Istanbul", day, 0.1)
        val orders = found.single { it.kpi == "orders" }
        assertEquals("2026-11-19" to "2026-11-20", orders.previousPeriod to orders.currentPeriod)
        assertEquals(1.0 to 3.0, orders.previous to orders.current)
        assertTrue(orders.sentence.isNotBlank())
        assertEquals(2.0, orders.contributions.sumOf { it.amount }, 1e-9)
        // A threshold above every change reports nothing.
        assertTrue(engine.kpiInsights("Europe/Istanbul", day, 100.0).none { it.kpi == "orders" })

        for (bad in listOf(-0.1, Double.NaN, Double.POSITIVE_INFINITY)) {
            expectError<OrdersmithException.InvalidInput>("KPI_INVALID_THRESHOLD") { engine.kpiInsights("Europe/Istanbul", day, bad) }
        }
        expectError<OrdersmithException.InvalidInput>("KPI_UNKNOWN_TIME_ZONE") { engine.kpiInsights("Mars/Olympus", day, 0.1) }
    }
}
