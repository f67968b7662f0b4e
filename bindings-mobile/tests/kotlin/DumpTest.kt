// Backing a phone's SQLite shop up to a file and restoring it into a new database.
package dev.ordersmith.tests

import dev.ordersmith.*
import java.io.File
import java.nio.file.Files
import kotlin.test.assertEquals
import kotlin.test.assertTrue

/** What a host reads: orders, tea's balances, pending effects. */
private fun seen(engine: Engine) = Triple(
    engine.listOrders(100u, null).map { Triple(it.id, it.status, it.version) },
    engine.stockLevels("TEA-500G").let { it.onHand to it.reserved },
    engine.pendingEffects(1000u).map { it.id },
)

/** [shop], then three orders of 3 teas (two confirmed), and the ids. */
private fun busy(engine: Engine): List<String> {
    shop(engine)
    return (1..3).map { n ->
        val order = engine.placeOrder(newOrder("D-$n", tea(3u)), null)
        if (n < 3) engine.confirmOrder(order.id, null)
        order.id
    }
}

fun dumps() = Suite("dumps").apply {
    test("exportDump backs a shop up and importDump restores it into a new database that keeps writing") {
        val dir = Files.createTempDirectory("ordersmith-dump")
        val phone = Engine.open(dir.resolve("shop.db").toString(), FixedClock(NOON))
        val ids = busy(phone)
        val backup = dir.resolve("backup.jsonl").toString()
        val stats = phone.exportDump(backup)
        assertEquals(3UL, stats.orders)
        assertEquals(8UL, stats.stock) // 2 locations, 2 variants, 2 receipts, 2 reservations
        assertTrue(stats.outbox > 0UL)

        val restored = Engine.open(dir.resolve("restored.db").toString(), FixedClock(NOON))
        assertEquals(stats, restored.importDump(backup))
        assertEquals(seen(phone), seen(restored))
        assertEquals(20L to 6L, seen(restored).second)
        // The same state dumps the same bytes.
        val again = dir.resolve("again.jsonl").toString()
        assertEquals(stats, restored.exportDump(again))
        assertTrue(File(backup).readBytes().contentEquals(File(again).readBytes()))

        // A new order gets an id of its own; its confirmation reserves on the restored stock.
        val added = restored.placeOrder(newOrder("D-4", tea(2u)), null)
        assertTrue(added.id !in ids)
        restored.confirmOrder(added.id, null)
        assertEquals(8L, restored.stockLevels("TEA-500G").reserved)
        // The same channel order again is still the one restored.
        assertEquals(ids[0], restored.placeOrder(newOrder("D-1", tea(3u)), null).id)
    }

    test("importDump refuses a database that holds anything, and changes nothing") {
        val dir = Files.createTempDirectory("ordersmith-dump")
        val phone = Engine.inMemory(FixedClock(NOON))
        busy(phone)
        val backup = dir.resolve("backup.jsonl").toString()
        phone.exportDump(backup)
        val other = Engine.inMemory(FixedClock(NOON))
        shop(other)
        val before = seen(other)
        expectError<OrdersmithException.Conflict>("DUMP_TARGET_NOT_EMPTY") { other.importDump(backup) }
        assertEquals(before, seen(other))
    }

    test("importDump refuses a truncated or malformed file, exportDump an existing one") {
        val dir = Files.createTempDirectory("ordersmith-dump")
        val phone = Engine.inMemory(FixedClock(NOON))
        busy(phone)
        val backup = dir.resolve("backup.jsonl").toFile()
        phone.exportDump(backup.path)
        val lines = backup.readLines()
        val truncated = dir.resolve("truncated.jsonl").toFile()
        truncated.writeText(lines.dropLast(1).joinToString("\n") + "\n")
        expectError<OrdersmithException.InvalidInput>("DUMP_MALFORMED") {
            Engine.inMemory(FixedClock(NOON)).importDump(truncated.path)
        }
        val garbled = dir.resolve("garbled.jsonl").toFile()
        garbled.writeText((listOf(lines[0], "not json") + lines.drop(1)).joinToString("\n") + "\n")
        val e = expectError<OrdersmithException.InvalidInput>("DUMP_MALFORMED") {
            Engine.inMemory(FixedClock(NOON)).importDump(garbled.path)
        }
        assertTrue(e.detailsJson.contains("\"line\":2"), e.detailsJson)
        // Never overwritten: the existing file could be the shop's database.
        expectError<OrdersmithException.Unavailable>("DUMP_IO") { phone.exportDump(backup.path) }
        assertEquals(lines, backup.readLines())
    }
}
