// Returns on a shop owner's phone: a delivered order comes back through an RMA (label,
// transit, receipt, inspection, refund), an out-of-window request is rejected naming
// the rule and overridden, store credit pays a later order; bad input is a typed error.
package dev.ordersmith.tests

import dev.ordersmith.*
import java.math.BigDecimal
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull

/** Places, confirms, pays and ships [units] teas through the warehouse flow, delivered. */
fun deliveredTeas(engine: Engine, ref: String, units: UInt, customer: String? = null): Order {
    val placed = if (customer == null) {
        engine.placeOrder(newOrder(ref, tea(units)), null)
    } else {
        engine.placeOrderJson(
            """{"channel":"pos","external_ref":"$ref","placed_at":"2026-11-20T12:00:00Z","currency":"TRY",
               "customer":{"id":"$customer","name":"Ayşe"},
               "lines":[{"variant":"TEA-500G","quantity":$units,"unit_price":"89.90"}]}""",
            null,
        )
    }
    val order = engine.confirmOrder(placed.id, null)
    engine.markPaid(order.id, null)
    val fo = order.fulfilments.single().id
    val all = listOf(LineUnits("L1", units))
    engine.pick(order.id, fo, all, emptyList(), null)
    val parcel = engine.pack(order.id, fo, all, ParcelSize(1000u, 300u, 200u, 100u), null)
        .fulfilments.single().parcels.single().id
    engine.recordLabel(order.id, fo, parcel, Label("ups", "standard", "1Z999AA10123456784", null), null)
    engine.handOver(order.id, fo, parcel, null)
    return engine.recordTrackingEvent(order.id, fo, parcel, NOON.plusSeconds(3600), "D", null, null)
}

fun returns() = Suite("returns").apply {
    val policy = """{"window_days": 30, "restocking_fee_rate": "0.10"}"""

    test("an RMA from request to refund, restocked into the ledger") {
        val engine = Engine.inMemory(FixedClock(NOON), EngineOptions(returnPolicyJson = policy))
        shop(engine)
        val order = deliveredTeas(engine, "R-1", 3u)
        assertEquals(listOf(3u), order.lines.map { it.delivered })
        assertEquals(17L, engine.stockLevels("TEA-500G").onHand)

        engine.requestReturn(order.id, listOf(ReturnRequestLine("L1", 2u, ReturnReason.DEFECTIVE)), "leaking bag", null, null)
        val rma = engine.rmas(order.id).single()
        assertEquals(RmaStatus.APPROVED, rma.status)
        engine.requestReturnLabel(order.id, rma.id, "standard", null)
        engine.recordReturnLabel(order.id, rma.id, "yurtici", "YK-1", null)
        engine.markReturnInTransit(order.id, rma.id, null)
        engine.receiveReturn(order.id, rma.id, "IST-1", listOf(LineUnits("L1", 1u)), null)
        assertEquals(RmaStatus.PARTIALLY_RECEIVED, engine.rmas(order.id).single().status)
        engine.receiveReturn(order.id, rma.id, "IST-1", listOf(LineUnits("L1", 1u)), null)
        engine.inspectReturn(
            order.id, rma.id,
            listOf(InspectedUnits("L1", InspectionOutcome.RESELLABLE, 1u), InspectedUnits("L1", InspectionOutcome.WRITE_OFF, 1u)),
            null,
        )
        assertEquals(BigDecimal("179.80"), engine.returnValue(order.id, rma.id).total.amount)
        val after = engine.resolveReturn(order.id, rma.id, ReturnResolution.REFUND, null)
        assertEquals(PaymentStatus.PARTIALLY_REFUNDED, after.paymentStatus)
        val done = engine.rmas(order.id).single()
        assertEquals(RmaStatus.RESOLVED, done.status)
        assertEquals(ReturnResolution.REFUND, done.resolution)
        assertEquals(listOf(BigDecimal("179.80")), done.breakdown?.lines?.map { it.paid.amount })
        assertEquals(listOf(1u, 0u, 1u), done.lines.single().let { listOf(it.restocked, it.quarantined, it.writtenOff) })
        assertEquals(18L, engine.stockLevels("TEA-500G").onHand, "one restocked, one written off")
        engine.closeReturn(order.id, rma.id, null)
        assertEquals(RmaStatus.CLOSED, engine.rmas(order.id).single().status)
    }

    test("out of window: rejected naming the rule, then overridden; store credit pays a later order") {
        val clock = FixedClock(NOON)
        val engine = Engine.inMemory(clock, EngineOptions(returnPolicyJson = policy))
        shop(engine)
        val order = deliveredTeas(engine, "R-2", 2u, customer = "cust-7")
        clock.time = NOON.plusSeconds(40L * 86_400)
        engine.requestReturn(order.id, listOf(ReturnRequestLine("L1", 1u, ReturnReason.CHANGED_MIND)), null, null, null)
        val rejected = engine.rmas(order.id).single()
        assertEquals(RmaStatus.REJECTED, rejected.status)
        assertEquals("return_window", rejected.failedRule)
        assertEquals("delivered 40 days ago; the window is 30 days", rejected.failureDetail)
        engine.overrideReturn(order.id, rejected.id, "regular customer", CallContext(actor = "user:owner"))
        assertEquals(RmaStatus.APPROVED, engine.rmas(order.id).single().status)
        engine.receiveReturn(order.id, rejected.id, "IST-1", listOf(LineUnits("L1", 1u)), null)
        engine.inspectReturn(order.id, rejected.id, listOf(InspectedUnits("L1", InspectionOutcome.QUARANTINE, 1u)), null)
        engine.resolveReturn(order.id, rejected.id, ReturnResolution.STORE_CREDIT, null)
        // Changed mind: the customer's reason, so the 10 % restocking fee is kept.
        val credit = assertNotNull(engine.storeCredit("cust-7"))
        assertEquals(BigDecimal("80.91"), credit.balance.amount)
        assertNull(engine.storeCredit("nobody"))

        val later = engine.placeOrder(newOrder("R-3", tea(1u)), null)
        expectError<OrdersmithException.Rejected>("RETURNS_NO_CUSTOMER_ACCOUNT") {
            engine.spendStoreCredit(later.id, BigDecimal("1.00"), null)
        }
        val own = deliveredTeas(engine, "R-4", 1u, customer = "cust-7")
        assertEquals(PaymentStatus.PAID, own.paymentStatus)
        val next = engine.placeOrderJson(
            """{"channel":"pos","external_ref":"R-5","placed_at":"2026-11-20T12:00:00Z","currency":"TRY",
               "customer":{"id":"cust-7"},"lines":[{"variant":"TEA-500G","quantity":1,"unit_price":"89.90"}]}""",
            null,
        )
        expectError<OrdersmithException.Rejected>("RETURNS_CREDIT_INSUFFICIENT") {
            engine.spendStoreCredit(next.id, BigDecimal("80.92"), null)
        }
        val paid = engine.spendStoreCredit(next.id, BigDecimal("80.91"), null)
        assertEquals(BigDecimal("80.91"), paid.amountPaid.amount)
        assertEquals(BigDecimal("0.00"), assertNotNull(engine.storeCredit("cust-7")).balance.amount)
    }

    test("bad input is a typed error and changes nothing") {
        val engine = Engine.inMemory(FixedClock(NOON), EngineOptions(returnPolicyJson = policy))
        shop(engine)
        val order = deliveredTeas(engine, "R-6", 1u)
        expectError<OrdersmithException.InvalidInput>("RETURNS_NOT_RETURNABLE") {
            engine.requestReturn(order.id, listOf(ReturnRequestLine("L1", 2u, ReturnReason.DAMAGED)), null, null, null)
        }
        expectError<OrdersmithException.NotFound>("RETURNS_UNKNOWN_RMA") {
            engine.receiveReturn(order.id, "R9", "IST-1", listOf(LineUnits("L1", 1u)), null)
        }
        assertEquals(order.version, engine.order(order.id).version)
        expectError<OrdersmithException.InvalidInput>("RETURNS_INVALID_POLICY") {
            Engine.inMemory(null, EngineOptions(returnPolicyJson = """{"window_days": 0}"""))
        }
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") {
            Engine.inMemory(null, EngineOptions(returnPolicyJson = """{"windw_days": 3}"""))
        }
    }
}
