// The Kotlin side of the per-call overhead benchmark (see run): the same small read as
// examples/call_overhead.rs, order(id) on an in-memory SQLite store, through uniffi and
// JNA. Prints nanoseconds per call: the best and the median of several rounds.
package dev.ordersmith.bench

import dev.ordersmith.*
import java.math.BigDecimal
import java.time.Instant

const val ROUNDS = 7
const val CALLS = 20_000

fun rounds(call: () -> Unit): Pair<Double, Double> {
    repeat(CALLS * 2) { call() } // warm-up: JIT and JNA's first-call set-up
    val perCall = (0 until ROUNDS).map {
        val started = System.nanoTime()
        repeat(CALLS) { call() }
        (System.nanoTime() - started).toDouble() / CALLS
    }.sorted()
    return perCall.first() to perCall[ROUNDS / 2]
}

fun main() {
    val engine = Engine.inMemory(null)
    val line = NewLine("TEA-500G", 2u, BigDecimal("89.90"), null)
    val id = engine.placeOrder(NewOrder("pos", null, Instant.parse("2026-11-20T12:00:00Z"), "TRY", listOf(line), null), null).id
    var sink = 0L
    var (best, median) = rounds { sink += engine.order(id).version.toLong() }
    println("kotlin     engine.order(id):   best %.0f ns, median %.0f ns".format(best, median))
    val gtin = rounds { sink += parseGtin("8690000000012").length }
    println("kotlin     parseGtin:          best %.0f ns, median %.0f ns".format(gtin.first, gtin.second))
    if (sink == 42L) println(sink) // keeps the calls observable
}
