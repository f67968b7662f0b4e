// End to end on an SQLite file: today's work, pick, pack, label through the effect
// sink, hand over; then the file is reopened and tells the same story.
package dev.ordersmith.tests

import dev.ordersmith.*
import java.math.BigDecimal
import java.nio.file.Files
import java.time.Instant
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

/** The SSCC with its GS1 check digit verified here, independently of the engine. */
fun parseSsccCheck(sscc: String): String {
    val digits = sscc.map { it.digitToInt() }
    val sum = digits.dropLast(1).reversed().withIndex().sumOf { (i, d) -> if (i % 2 == 0) d * 3 else d }
    assertEquals((10 - sum % 10) % 10, digits.last(), "check digit of $sscc")
    return sscc
}

fun pickerFlow() = Suite("picker flow").apply {
    test("list work, pick, pack, label, hand over, reopen") {
        val dir = Files.createTempDirectory("ordersmith-kt")
        val path = dir.resolve("shop.db").toString()
        val clock = FixedClock(NOON)
        val engine = Engine.open(path, clock)
        shop(engine)
        val a = engine.confirmOrder(engine.placeOrder(newOrder("A-1", tea(2u), mug(1u)), null).id, null)
        val b = engine.confirmOrder(engine.placeOrder(newOrder("B-1", tea(1u)), null).id, null)
        engine.placeOrder(newOrder("C-1", tea(1u)), null) // pending: no work yet

        val work = engine.fulfilmentWork("IST-1")
        assertEquals(listOf(a.id, b.id), work.map { it.orderId })
        assertTrue(engine.fulfilmentWork("ANK-1").isEmpty())
        val first = work.first()
        assertEquals(FulfilmentOrderStatus.OPEN, first.fulfilment.status)
        assertEquals(listOf("MUG-RED" to 1u, "TEA-500G" to 2u), first.pickList.map { it.sku to it.quantity })

        val fo = first.fulfilment.id
        val picked = first.pickList.map { LineUnits(it.lineId, it.quantity) }
        var order = engine.pick(a.id, fo, picked, emptyList(), CallContext(actor = "user:picker-7"))
        assertEquals(FulfilmentOrderStatus.IN_PROGRESS, order.fulfilments.single().status)
        assertTrue(engine.pickList(a.id, fo).isEmpty())

        order = engine.pack(a.id, fo, picked, ParcelSize(1200u, 300u, 200u, 150u), null)
        val parcel = order.fulfilments.single().parcels.single()
        assertEquals(ParcelStatus.PACKED, parcel.status)
        order = engine.requestLabel(a.id, fo, parcel.id, "express", null)
        assertEquals(ParcelStatus.LABEL_REQUESTED, order.fulfilments.single().parcels.single().status)

        // The label request leaves as an effect; the sink "buys" the label and records
        // it on the engine from inside the callback (no engine lock is held then).
        var labelled = 0
        val sink = object : EffectSink {
            override fun deliver(effect: Effect): Boolean {
                if (effect.topic == "fulfilment.label_requested" && effect.aggregateId == a.id) {
                    engine.recordLabel(a.id, fo, parcel.id, Label("ups", "express", "1Z999AA10123456784", "lbl-1"), null)
                    labelled++
                }
                return true
            }
        }
        val acknowledged = engine.drainEffects(sink)
        assertTrue(acknowledged > 0u)
        assertEquals(1, labelled)
        // Recording the label made effects of its own; a second drain takes them.
        engine.drainEffects(RecordingSink())
        assertTrue(engine.pendingEffects(100u).isEmpty())
        val label = assertNotNull(engine.order(a.id).fulfilments.single().parcels.single().label)
        assertEquals("1Z999AA10123456784", label.trackingNumber)

        clock.time = NOON.plusSeconds(7200)
        order = engine.handOver(a.id, fo, parcel.id, null)
        assertEquals(ParcelStatus.HANDED_OVER, order.fulfilments.single().parcels.single().status)
        assertEquals(FulfilmentOrderStatus.SHIPPED, order.fulfilments.single().status)
        assertEquals(FulfilmentStatus.FULFILLED, order.fulfilmentStatus)
        assertEquals(listOf(2u, 1u), order.lines.map { it.shipped })
        assertEquals(listOf(b.id), engine.fulfilmentWork(null).map { it.orderId })
        assertEquals(18L, engine.stockLevels("TEA-500G").onHand) // 20 received, 2 shipped
        assertTrue(engine.reservations(a.id, null, null).isEmpty())

        // The carrier's scans: in transit, then delivered (UPS codes, the core's table).
        order = engine.recordTrackingEvent(a.id, fo, parcel.id, NOON.plusSeconds(10800), "I", "Istanbul hub", null)
        assertEquals(TrackingStatus.IN_TRANSIT, order.fulfilments.single().parcels.single().trackingStatus)
        order = engine.recordTrackingEvent(a.id, fo, parcel.id, NOON.plusSeconds(86400), "D", null, null)
        assertEquals(TrackingStatus.DELIVERED, order.fulfilments.single().parcels.single().trackingStatus)
        assertEquals(listOf(2u, 1u), order.lines.map { it.delivered })
        expectError<OrdersmithException.InvalidInput>("FULFILMENT_TRACKING_INVALID_CODE") {
            engine.recordTrackingEvent(a.id, fo, parcel.id, NOON, " ", null, null)
        }

        // "Where is my order", in Turkish, for the shop owner's phone.
        val where = engine.timeline(a.id, "tr")
        assertEquals(listOf("Sipariş alındı", "Sipariş onaylandı", "Kargoya verildi", "Dağıtımda", "Teslim edildi"), where.steps.map { it.label })
        assertEquals("Teslim edildi", where.parcels.single().status)
        assertEquals(listOf("Yolda", "Teslim edildi"), where.parcels.single().events.map { it.label })

        val reopened = Engine.open(path, null)
        assertEquals(order, reopened.order(a.id))
        assertEquals(listOf(b.id), reopened.fulfilmentWork("IST-1").map { it.orderId })
        dir.toFile().deleteRecursively()
    }

    test("a short pick is handled by the core's policy") {
        val engine = Engine.inMemory(null)
        shop(engine)
        val order = engine.confirmOrder(engine.placeOrder(newOrder("S-1", mug(5u)), null).id, null)
        val fo = order.fulfilments.single()
        assertEquals("IST-1", fo.location)
        // All five mugs are reserved at IST-1; the picker finds three. The two missing
        // are written off, and with no other stock anywhere the order waits on hold.
        val after = engine.pick(order.id, fo.id, listOf(LineUnits("L1", 3u)), listOf(LineUnits("L1", 2u)), null)
        assertEquals(3L, engine.stockLevels("MUG-RED").onHand)
        assertEquals(OrderStatus.ON_HOLD, after.status)
        assertEquals(HoldReason.INSUFFICIENT_STOCK, after.holdReason)
        assertTrue(after.holdNote.orEmpty().contains("MUG-RED"), after.holdNote)
        assertEquals(listOf(3u), after.fulfilments.single().picked.map { it.quantity })
    }

    test("engine options: SSCCs on parcels, backorder on a short pick") {
        val options = EngineOptions(ShortPickPolicy.BACKORDER, SsccOptions(0u, "8690000", 1uL, 999_999uL))
        val engine = Engine.inMemory(null, options)
        shop(engine)
        val packed = engine.confirmOrder(engine.placeOrder(newOrder("O-1", tea(2u)), null).id, null)
        val f1 = packed.fulfilments.single().id
        engine.pick(packed.id, f1, listOf(LineUnits("L1", 2u)), emptyList(), null)
        val parcel = engine.pack(packed.id, f1, listOf(LineUnits("L1", 2u)), ParcelSize(1000u, 300u, 200u, 100u), null)
            .fulfilments.single().parcels.single()
        val sscc = assertNotNull(parcel.sscc)
        assertEquals(18, sscc.length)
        assertTrue(sscc.startsWith("08690000"), sscc)
        assertEquals(sscc, parseSsccCheck(sscc))

        val short = engine.confirmOrder(engine.placeOrder(newOrder("O-2", tea(3u)), null).id, null)
        val f2 = short.fulfilments.single().id
        val held = engine.pick(short.id, f2, listOf(LineUnits("L1", 2u)), listOf(LineUnits("L1", 1u)), null)
        assertEquals(OrderStatus.ON_HOLD, held.status)
        assertEquals(HoldReason.INSUFFICIENT_STOCK, held.holdReason)
        expectError<OrdersmithException.InvalidInput>("FULFILMENT_SSCC_CONFIG_INVALID") {
            Engine.inMemory(null, EngineOptions(null, SsccOptions(12u, "8690000", 1uL, 9uL)))
        }
    }

    test("hold, release, move and cancel a fulfilment order") {
        val engine = Engine.inMemory(null)
        shop(engine)
        engine.receive("TEA-500G", "ANK-1", 5u, null)
        val order = engine.confirmOrder(engine.placeOrder(newOrder("M-1", tea(1u)), null).id, null)
        val fo = order.fulfilments.single().id
        var now = engine.holdFulfilment(order.id, fo, "damaged shelf", null)
        assertEquals(FulfilmentOrderStatus.ON_HOLD, now.fulfilments.single().status)
        assertEquals("damaged shelf", now.fulfilments.single().holdReason)
        now = engine.releaseFulfilment(order.id, fo, null)
        now = engine.moveFulfilment(order.id, fo, "ANK-1", null)
        assertEquals(listOf(FulfilmentOrderStatus.MOVED, FulfilmentOrderStatus.OPEN), now.fulfilments.map { it.status })
        val moved = now.fulfilments.last().id
        now = engine.cancelFulfilment(order.id, moved, CancelReason.INVENTORY, null)
        assertEquals(OrderStatus.CANCELLED, now.status)
        assertTrue(engine.reservations(order.id, null, null).isEmpty())
    }

    test("confirm many orders in one call: each on its own, refusals in place") {
        val engine = Engine.inMemory(FixedClock(NOON), null)
        shop(engine) // 5 red mugs
        val ids = (1..3).map { engine.placeOrder(newOrder("M-$it", mug(2u)), null).id }
        val results = engine.confirmOrders(listOf(ids[0], "", ids[1], "order-999999", ids[2]), null)
        assertEquals(5, results.size)
        assertEquals(listOf(OrderStatus.CONFIRMED, null, OrderStatus.CONFIRMED, null, null), results.map { it.order?.status })
        assertEquals(
            listOf(null, "ID_EMPTY", null, "ORDER_NOT_FOUND", "STOCK_INSUFFICIENT"),
            results.map { it.error?.code },
        )
        assertEquals(ErrorKind.NOT_FOUND, results[3].error?.kind)
        assertEquals(OrderStatus.PENDING, engine.order(ids[2]).status)
    }

    test("any commands for many orders in one call: end of day, refusals in place") {
        val engine = Engine.inMemory(FixedClock(NOON), null)
        shop(engine) // 5 red mugs
        val ids = (1..3).map { engine.placeOrder(newOrder("X-$it", mug(1u)), null).id }
        val ship = """{"command": "record_shipment", "lines": [{"line_id": "L1", "quantity": 1}]}"""
        val results = engine.executeMany(
            listOf(
                CommandItem(ids[0], """{"command": "confirm"}"""),
                CommandItem(ids[0], """{"command": "mark_paid"}"""),
                CommandItem(ids[0], ship),
                CommandItem(ids[1], ship),
                CommandItem(ids[2], """{"command": "hold", "reason": "fraud_review"}"""),
                CommandItem(ids[2], """{"command": "fly"}"""),
                CommandItem("", """{"command": "confirm"}"""),
                CommandItem(ids[1], """{"command": "cancel", "reason": "customer"}"""),
            ),
            CallContext(actor = "user:ops"),
        )
        assertEquals(
            listOf(
                OrderStatus.CONFIRMED, OrderStatus.CONFIRMED, OrderStatus.PROCESSING, null,
                OrderStatus.ON_HOLD, null, null, OrderStatus.CANCELLED,
            ),
            results.map { it.order?.status },
        )
        assertEquals(
            listOf(null, null, null, "ORDER_INVALID_TRANSITION", null, "ENGINE_INVALID_INPUT", "ID_EMPTY", null),
            results.map { it.error?.code },
        )
        assertEquals(FulfilmentStatus.FULFILLED, results[2].order?.fulfilmentStatus)
        assertTrue(results[5].error!!.detailsJson.contains("items[5].command"))
        assertEquals(ErrorKind.INVALID_INPUT, results[5].error?.kind)
        assertEquals("user:ops", engine.orderHistory(ids[0]).last().actor)
    }

    test("ship-by deadlines on the shop's calendar, most urgent work first") {
        val calendar = """{"tz": "Europe/Istanbul", "cutoff": "14:00:00", "handling_days": 1, "non_working": ["sunday"]}"""
        val clock = FixedClock(NOON)
        val engine = Engine.inMemory(clock, EngineOptions(shippingCalendarJson = calendar))
        shop(engine)
        // Friday 15:00 in Istanbul, after the 14:00 cut-off: counts from Saturday, one
        // handling day skips the closed Sunday, so Monday's cut-off.
        val late = engine.confirmOrder(engine.placeOrder(newOrder("S-1", tea(1u)), null).id, null)
        // Friday 12:00 in Istanbul, before the cut-off: Saturday's cut-off.
        val early = engine.confirmOrder(
            engine.placeOrder(newOrder("S-2", tea(1u)).copy(placedAt = Instant.parse("2026-11-20T09:00:00Z")), null).id,
            null,
        )
        assertEquals(Instant.parse("2026-11-23T11:00:00Z"), engine.shipBy(late.id))
        assertEquals(Instant.parse("2026-11-21T11:00:00Z"), engine.shipBy(early.id))
        var work = engine.fulfilmentWork("IST-1")
        assertEquals(listOf(early.id, late.id), work.map { it.orderId })
        assertEquals(listOf(engine.shipBy(early.id), engine.shipBy(late.id)), work.map { it.shipBy })

        // An order placed the day before that has started shipping (processing) from
        // the Ankara store: its Istanbul part is the most urgent, though confirmed
        // orders used to be listed before processing ones.
        engine.registerVariant("CUP-BLUE")
        engine.receive("CUP-BLUE", "ANK-1", 3u, null)
        val cup = NewLine("CUP-BLUE", 1u, BigDecimal("45.00"), "Blue cup")
        val split = engine.confirmOrder(
            engine.placeOrder(newOrder("S-0", tea(1u), cup).copy(placedAt = Instant.parse("2026-11-19T08:00:00Z")), null).id,
            null,
        )
        val ank = split.fulfilments.single { it.location == "ANK-1" }.id
        val units = engine.pickList(split.id, ank).map { LineUnits(it.lineId, it.quantity) }
        engine.pick(split.id, ank, units, emptyList(), null)
        var packed = engine.pack(split.id, ank, units, ParcelSize(300u, 100u, 100u, 100u), null)
        val parcel = packed.fulfilments.single { it.id == ank }.parcels.single().id
        engine.requestLabel(split.id, ank, parcel, "express", null)
        engine.recordLabel(split.id, ank, parcel, Label("ups", "express", "1Z999AA10123456784", "lbl-9"), null)
        packed = engine.handOver(split.id, ank, parcel, null)
        assertEquals(OrderStatus.PROCESSING, packed.status)
        assertEquals(Instant.parse("2026-11-20T11:00:00Z"), engine.shipBy(split.id))
        work = engine.fulfilmentWork("IST-1")
        assertEquals(listOf(split.id, early.id, late.id), work.map { it.orderId })

        // Without a calendar there are no deadlines.
        val plain = Engine.inMemory(clock, null)
        shop(plain)
        val order = plain.confirmOrder(plain.placeOrder(newOrder("S-3", tea(1u)), null).id, null)
        assertEquals(null, plain.shipBy(order.id))
        assertEquals(listOf<Instant?>(null), plain.fulfilmentWork(null).map { it.shipBy })
        expectError<OrdersmithException.NotFound>("ORDER_NOT_FOUND") { plain.shipBy("order-999999") }

        // A calendar that cannot be read, or has no working day, is refused when the
        // engine opens, naming what is wrong.
        val bad = expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") {
            Engine.inMemory(clock, EngineOptions(shippingCalendarJson = """{"tz": "Mars/Olympus", "cutoff": "14:00:00", "handling_days": 1}"""))
        }
        assertTrue(bad.detailsJson.contains("shipping_calendar_json"), bad.detailsJson)
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") {
            Engine.inMemory(clock, EngineOptions(shippingCalendarJson = "{"))
        }
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") {
            val everyDay = """["monday","tuesday","wednesday","thursday","friday","saturday","sunday"]"""
            Engine.inMemory(clock, EngineOptions(shippingCalendarJson = """{"tz": "UTC", "cutoff": "14:00:00", "handling_days": 1, "non_working": $everyDay}"""))
        }
    }
}
