// The README's Kotlin example is code this suite runs: the lines between the markers
// below are the README's `kotlin` block (its imports are this file's), run against a
// fresh SQLite file; a second test fails when the two drift apart.
package dev.ordersmith.tests

import dev.ordersmith.*
import java.io.File
import java.math.BigDecimal
import java.nio.file.Files
import java.time.Instant
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

private const val BEGIN = "// README BEGIN"
private const val END = "// README END"

fun readme() = Suite("readme").apply {
    test("the README's Kotlin example runs as written") {
        val filesDir = Files.createTempDirectory("ordersmith-readme").toFile()
        try {
            // README BEGIN
            val engine = Engine.open(File(filesDir, "shop.db").path)           // created and migrated
            val order = engine.placeOrder(NewOrder("pos", "POS-0007", Instant.now(), "TRY",
                listOf(NewLine("TEA-500G", 2u, BigDecimal("89.90"), "Black tea 500 g")), null))
            engine.confirmOrder(order.id)
            for (work in engine.fulfilmentWork("IST-1")) { /* pick list per fulfilment order */ }
            val scanned = "8690000000013"                                       // a misread barcode
            try {
                parseGtin(scanned)                                              // GS1 check digit
            } catch (e: OrdersmithException.InvalidInput) {
                println(e.code)                                                 // CATALOG_GTIN_CHECK_DIGIT
            }
            // README END
            assertEquals(OrderStatus.CONFIRMED, engine.order(order.id).status)
            val misread = assertFailsWith<OrdersmithException.InvalidInput> { parseGtin(scanned) }
            assertEquals("CATALOG_GTIN_CHECK_DIGIT", misread.code)
        } finally {
            filesDir.deleteRecursively()
        }
    }

    test("the README's Kotlin block is the code run above") {
        // Run from the repository root, as scripts/test does.
        val readme = File("bindings-mobile/README.md").readText()
        val block = Regex("```kotlin\n(.*?)```", RegexOption.DOT_MATCHES_ALL).find(readme)?.groupValues?.get(1)
            ?: error("bindings-mobile/README.md has no kotlin block")
        val source = File("bindings-mobile/tests/kotlin/ReadmeTest.kt").readText()
        val ran = source.substringAfter("$BEGIN\n").substringBefore(END).trimIndent()
            .lines().filter { it.isNotBlank() }
        val shown = block.lines().filter { it.isNotBlank() && !it.startsWith("import ") }
        assertEquals(shown, ran)
        for (import in block.lines().filter { it.startsWith("import ") }) {
            assertTrue(source.contains("\n$import\n"), "the README imports what this file does: $import")
        }
    }
}
