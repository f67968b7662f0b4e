// Shared set-up: a fixed host clock, a recording effect sink, and a small shop.
package dev.ordersmith.tests

import dev.ordersmith.*
import java.math.BigDecimal
import java.time.Instant
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.fail

/** The host's clock, settable by the test. */
class FixedClock(var time: Instant) : HostClock {
    override fun now(): Instant = time
}

/** Keeps every effect it is given; says "done" unless told otherwise. */
class RecordingSink(var accept: Boolean = true) : EffectSink {
    val seen = mutableListOf<Effect>()
    override fun deliver(effect: Effect): Boolean {
        seen += effect
        return accept
    }
}

val NOON: Instant = Instant.parse("2026-11-20T12:00:00Z")

/** Two locations, two tracked variants with stock at the warehouse. */
fun shop(engine: Engine) {
    engine.addLocation(Location("IST-1", "Istanbul warehouse", 1u, "TR-34", LocationKind.WAREHOUSE))
    engine.addLocation(Location("ANK-1", "Ankara store", 2u, "TR-06", LocationKind.STORE))
    engine.registerVariant("TEA-500G")
    engine.registerVariant("MUG-RED")
    engine.receive("TEA-500G", "IST-1", 20u, "PO-1")
    engine.receive("MUG-RED", "IST-1", 5u, null)
}

fun newOrder(ref: String, vararg lines: NewLine) = NewOrder(
    channel = "pos",
    externalRef = ref,
    placedAt = NOON,
    currency = "TRY",
    lines = lines.toList(),
)

fun tea(quantity: UInt) = NewLine("TEA-500G", quantity, BigDecimal("89.90"), "Black tea 500 g")
fun mug(quantity: UInt) = NewLine("MUG-RED", quantity, BigDecimal("120.00"), "Red mug")

/** Runs [body], expecting an ordersmith error of type [T] with [code]. */
inline fun <reified T : OrdersmithException> expectError(code: String, body: () -> Unit): T {
    val e = assertFailsWith<OrdersmithException> { body() }
    if (e !is T) fail("expected ${T::class.simpleName} $code, got $e")
    assertEquals(code, codeOf(e), e.toString())
    return e
}

/** The core's code, whatever the case. */
fun codeOf(e: OrdersmithException): String = when (e) {
    is OrdersmithException.InvalidInput -> e.code
    is OrdersmithException.NotFound -> e.code
    is OrdersmithException.Conflict -> e.code
    is OrdersmithException.Rejected -> e.code
    is OrdersmithException.Unavailable -> e.code
}

/** The kind a case stands for, exhaustively (a new case fails to compile here). */
fun kindOf(e: OrdersmithException): ErrorKind = when (e) {
    is OrdersmithException.InvalidInput -> ErrorKind.INVALID_INPUT
    is OrdersmithException.NotFound -> ErrorKind.NOT_FOUND
    is OrdersmithException.Conflict -> ErrorKind.CONFLICT
    is OrdersmithException.Rejected -> ErrorKind.REJECTED
    is OrdersmithException.Unavailable -> ErrorKind.UNAVAILABLE
}
