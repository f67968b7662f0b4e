// Values crossing the boundary: exact money, instants, enums, ids, barcodes, the clock.
package dev.ordersmith.tests

import dev.ordersmith.*
import java.math.BigDecimal
import java.time.Instant
import kotlin.test.assertEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue

fun conversions() = Suite("conversions").apply {
    test("money is exact both ways as BigDecimal") {
        val engine = Engine.inMemory(FixedClock(NOON))
        val order = engine.placeOrder(newOrder("R1", tea(3u)), null)
        val line = order.lines.single()
        assertEquals(BigDecimal("89.90"), line.unitPrice.amount)
        assertEquals("TRY", line.unitPrice.currency)
        assertEquals(BigDecimal("269.70"), order.total.amount)
        assertEquals(BigDecimal("0.00"), order.amountPaid.amount)
    }

    test("a BigDecimal finer than the currency is refused with the core's code") {
        val engine = Engine.inMemory(null)
        val tooFine = NewLine("TEA-500G", 1u, BigDecimal("89.905"), null)
        expectError<OrdersmithException.InvalidInput>("MONEY_TOO_PRECISE") {
            engine.placeOrder(newOrder("R2", tooFine), null)
        }
        // Yen has no minor unit.
        val yen = newOrder("R3", NewLine("TEA-500G", 1u, BigDecimal("1000"), null)).copy(currency = "JPY")
        assertEquals(BigDecimal("1000"), engine.placeOrder(yen, null).total.amount)
    }

    test("amount text is parsed exactly or refused, never as an internal error") {
        assertEquals(BigDecimal("10.50"), parseAmount("10.50"))
        assertEquals(BigDecimal("-0.001"), parseAmount("-0.001"))
        for (bad in listOf("1e3", " 1.00", "1,5", "abc", "", "99999999999999999999999999999999")) {
            expectError<OrdersmithException.InvalidInput>("MONEY_INVALID_AMOUNT") { parseAmount(bad) }
        }
    }

    test("instants keep their microseconds, before and after 1970") {
        val engine = Engine.inMemory(null)
        // Not within the last second before 1970: uniffi 0.32's wire format loses the
        // sign there (whole seconds 0), in every language.
        for (t in listOf("2026-11-20T10:30:00.123456Z", "1969-07-20T20:17:40.250Z")) {
            val placed = Instant.parse(t)
            val order = engine.placeOrder(newOrder("T$t", tea(1u)).copy(placedAt = placed), null)
            assertEquals(placed, order.placedAt)
            assertEquals(placed, engine.order(order.id).placedAt)
        }
    }

    test("an instant outside the core's range is refused as input") {
        val engine = Engine.inMemory(null)
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") {
            engine.placeOrder(newOrder("R4", tea(1u)).copy(placedAt = Instant.MAX), null)
        }
    }

    test("the host clock stamps what the engine records") {
        val clock = FixedClock(NOON)
        val engine = Engine.inMemory(clock)
        val order = engine.placeOrder(newOrder("R5", tea(1u)), null)
        clock.time = NOON.plusSeconds(3600)
        engine.confirmOrder(order.id, null)
        val times = engine.pendingEffects(100u).filter { it.aggregateId == order.id }.map { it.createdAt }
        assertEquals(NOON, times.first())
        assertEquals(NOON.plusSeconds(3600), times.last())
    }

    test("enums and optional fields map both ways") {
        val engine = Engine.inMemory(null)
        shop(engine)
        val order = engine.placeOrder(newOrder("R6", tea(1u)), CallContext(actor = "user:ayse"))
        assertEquals(OrderStatus.PENDING, order.status)
        assertEquals(PaymentStatus.UNPAID, order.paymentStatus)
        assertEquals(FulfilmentStatus.UNFULFILLED, order.fulfilmentStatus)
        assertNull(order.cancelReason)
        val cancelled = engine.cancelOrder(order.id, CancelReason.CUSTOMER, null)
        assertEquals(OrderStatus.CANCELLED, cancelled.status)
        assertEquals(CancelReason.CUSTOMER, cancelled.cancelReason)
        assertEquals(listOf(order.id), engine.listOrders(10u, OrderStatus.CANCELLED).map { it.id })
        assertTrue(engine.listOrders(10u, OrderStatus.PENDING).isEmpty())
    }

    test("payments, refunds, holds and notes") {
        val engine = Engine.inMemory(null)
        var order = engine.placeOrder(newOrder("P1", tea(2u)), null)
        order = engine.holdOrder(order.id, HoldReason.ADDRESS_CHECK, "flat number missing", null)
        assertEquals(OrderStatus.ON_HOLD, order.status)
        assertEquals(HoldReason.ADDRESS_CHECK, order.holdReason)
        assertEquals("flat number missing", order.holdNote)
        order = engine.releaseHold(order.id, null)
        assertEquals(OrderStatus.PENDING, order.status)
        order = engine.recordPayment(order.id, BigDecimal("100.00"), null)
        assertEquals(PaymentStatus.PARTIALLY_PAID, order.paymentStatus)
        assertEquals(BigDecimal("100.00"), order.amountPaid.amount)
        order = engine.recordPayment(order.id, BigDecimal("79.80"), null)
        assertEquals(PaymentStatus.PAID, order.paymentStatus)
        expectError<OrdersmithException.Rejected>("ORDER_REFUND_EXCEEDS_PAID") {
            engine.recordRefund(order.id, BigDecimal("200"), null)
        }
        expectError<OrdersmithException.InvalidInput>("MONEY_TOO_PRECISE") {
            engine.recordRefund(order.id, BigDecimal("0.001"), null)
        }
        order = engine.recordRefund(order.id, BigDecimal("10"), null)
        assertEquals(PaymentStatus.PARTIALLY_REFUNDED, order.paymentStatus)
        order = engine.addNote(order.id, "gift wrap", null)
        assertEquals(listOf("gift wrap"), order.notes)
    }

    test("provider payments: authorise, capture twice, refund, void; confirmations idempotent") {
        val engine = Engine.inMemory(null)
        var order = engine.placeOrder(newOrder("P2", tea(2u)), null)
        order = engine.authorisePayment(order.id, "iyzico", BigDecimal("179.80"), "card", null)
        order = engine.confirmAuthorisation(order.id, "P1", "auth-1", BigDecimal("179.80"), null)
        assertEquals(PaymentStatus.AUTHORISED, order.paymentStatus)
        val again = engine.confirmAuthorisation(order.id, "P1", "auth-1", BigDecimal("179.80"), null)
        assertEquals(order.version, again.version)
        engine.capturePayment(order.id, "P1", BigDecimal("100"), null)
        order = engine.confirmCapture(order.id, "P1", "cap-1", BigDecimal("100"), null)
        assertEquals(PaymentStatus.PARTIALLY_PAID, order.paymentStatus)
        engine.capturePayment(order.id, "P1", BigDecimal("79.80"), null)
        order = engine.confirmCapture(order.id, "P1", "cap-2", BigDecimal("79.80"), null)
        assertEquals(PaymentStatus.PAID, order.paymentStatus)
        expectError<OrdersmithException.Rejected>("PAYMENT_CAPTURE_EXCEEDS_AUTHORISED") {
            engine.capturePayment(order.id, "P1", BigDecimal("0.01"), null)
        }
        engine.refundPayment(order.id, "P1", BigDecimal("20"), null)
        order = engine.confirmRefund(order.id, "P1", "ref-1", BigDecimal("20"), null)
        assertEquals(PaymentStatus.PARTIALLY_REFUNDED, order.paymentStatus)
        expectError<OrdersmithException.Rejected>("PAYMENT_REFUND_EXCEEDS_CAPTURED") {
            engine.refundPayment(order.id, "P1", BigDecimal("500"), null)
        }
        val other = engine.placeOrder(newOrder("P3", tea(1u)), null)
        engine.authorisePayment(other.id, "iyzico", BigDecimal("10"), null, null)
        assertEquals(PaymentStatus.VOIDED, engine.voidPayment(other.id, "P1", null).paymentStatus)
    }

    test("a refused capture or refund releases what was pending") {
        val engine = Engine.inMemory(null)
        var order = engine.placeOrder(newOrder("P4", tea(2u)), null)
        engine.authorisePayment(order.id, "iyzico", BigDecimal("179.80"), "card", null)
        engine.confirmAuthorisation(order.id, "P1", "auth-1", BigDecimal("179.80"), null)
        expectError<OrdersmithException.Rejected>("PAYMENT_INVALID_STATE") {
            engine.failRefund(order.id, "P1", "card closed", null)
        }
        engine.capturePayment(order.id, "P1", BigDecimal("179.80"), null)
        order = engine.failCapture(order.id, "P1", "issuer unavailable", null)
        assertEquals(PaymentStatus.AUTHORISED, order.paymentStatus)
        engine.capturePayment(order.id, "P1", BigDecimal("179.80"), null)
        engine.confirmCapture(order.id, "P1", "cap-1", BigDecimal("179.80"), null)
        engine.refundPayment(order.id, "P1", BigDecimal("30"), null)
        engine.confirmRefund(order.id, "P1", "ref-1", BigDecimal("10"), null)
        expectError<OrdersmithException.Rejected>("ORDER_REFUND_EXCEEDS_PAID") {
            engine.recordRefund(order.id, BigDecimal("169.80"), null)
        }
        engine.failRefund(order.id, "P1", "card closed", null)
        order = engine.recordRefund(order.id, BigDecimal("169.80"), null)
        assertEquals(PaymentStatus.REFUNDED, order.paymentStatus)
        val topics = engine.pendingEffects(1000u).map { it.topic }
        assertTrue("payment.capture_failed" in topics && "payment.refund_failed" in topics)
    }

    test("refund quotes add up over several returns") {
        val engine = Engine.inMemory(null)
        shop(engine)
        var order = engine.placeOrder(newOrder("R1", tea(3u)), null)
        order = engine.confirmOrder(order.id, null)
        val parcels = order.fulfilments
        assertTrue(parcels.isNotEmpty())
        expectError<OrdersmithException.InvalidInput>("RETURNS_NOT_RETURNABLE") {
            engine.refundQuote(order.id, listOf(ReturnLine("L1", 1u)), false, null)
        }
        expectError<OrdersmithException.NotFound>("RETURNS_UNKNOWN_LINE") {
            engine.refundQuote(order.id, listOf(ReturnLine("L9", 1u)), false, null)
        }
    }

    test("barcodes: GTIN check digits are verified") {
        assertEquals("4006381333931", parseGtin("4006381333931"))
        assertEquals("96385074", parseGtin("96385074"))
        expectError<OrdersmithException.InvalidInput>("CATALOG_GTIN_CHECK_DIGIT") { parseGtin("4006381333932") }
        expectError<OrdersmithException.InvalidInput>("CATALOG_INVALID_GTIN") { parseGtin("4006381") }
        expectError<OrdersmithException.InvalidInput>("CATALOG_INVALID_GTIN") { parseGtin("ABC") }
    }

    test("balances and reservations come back as records") {
        val engine = Engine.inMemory(null)
        shop(engine)
        val order = engine.placeOrder(newOrder("R7", tea(2u)), null)
        engine.confirmOrder(order.id, null)
        val tea = engine.stockLevels("TEA-500G")
        assertEquals(20L, tea.onHand)
        assertEquals(2L, tea.reserved)
        assertEquals(18uL, tea.sellable)
        val ist = tea.locations.single { it.location == "IST-1" }
        assertEquals(18L, ist.available)
        val held = engine.reservations(order.id, null, null).single()
        assertEquals(ReservationState.ACTIVE, held.state)
        assertEquals(2u, held.remaining)
        assertEquals("IST-1", held.location)
        assertEquals(order.id, held.orderId)
    }
}
