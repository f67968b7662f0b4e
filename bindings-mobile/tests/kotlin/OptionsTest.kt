// Engine options a phone sets when it opens the engine (reservation time-to-live and
// the expiry sweep, shortages, reserving on confirm, sourcing, splitting, notifications)
// and the due list on the shop's shipping calendar. A bad option refuses to open the
// engine with the core's code, naming the option.
package dev.ordersmith.tests

import dev.ordersmith.*
import java.math.BigDecimal
import java.time.Instant
import kotlin.test.assertEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue

fun options() = Suite("engine options").apply {
    test("an unpaid order's reservations lapse after the time-to-live; the sweep holds it") {
        val clock = FixedClock(NOON)
        val engine = Engine.inMemory(clock, EngineOptions(reservationTtlMinutes = 30u))
        shop(engine)
        val order = engine.confirmOrder(engine.placeOrder(newOrder("X-1", tea(2u)), null).id, null)
        assertEquals(NOON.plusSeconds(1800), engine.reservations(order.id, null, null).single().expiresAt)
        assertTrue(engine.sweepExpiredReservations().released.isEmpty())

        clock.time = NOON.plusSeconds(1860)
        val sweep = engine.sweepExpiredReservations()
        assertEquals(1, sweep.released.size)
        val held = sweep.orders.single()
        assertEquals(OrderStatus.ON_HOLD, held.status)
        assertEquals(HoldReason.RESERVATION_EXPIRED, held.holdReason)
        assertEquals(0L, engine.stockLevels("TEA-500G").reserved)
        assertEquals(held, engine.order(order.id))
    }

    test("expiry can cancel; a channel can be exempt; paying can keep the clock running") {
        val clock = FixedClock(NOON)
        val engine = Engine.inMemory(
            clock,
            EngineOptions(
                reservationTtlMinutes = 30u,
                reservationTtlMinutesByChannel = mapOf("web" to null),
                onReservationExpiry = ExpiryPolicy.CANCEL,
                paymentStopsReservationClock = false,
            ),
        )
        shop(engine)
        val pos = engine.confirmOrder(engine.placeOrder(newOrder("X-2", tea(1u)), null).id, null)
        val web = engine.confirmOrder(engine.placeOrder(newOrder("X-3", tea(1u)).copy(channel = "web"), null).id, null)
        assertNull(engine.reservations(web.id, null, null).single().expiresAt)
        engine.markPaid(pos.id, null)
        assertEquals(NOON.plusSeconds(1800), engine.reservations(pos.id, null, null).single().expiresAt)
        clock.time = NOON.plusSeconds(3600)
        val sweep = engine.sweepExpiredReservations()
        assertEquals(listOf(pos.id), sweep.orders.map { it.id })
        assertEquals(OrderStatus.CANCELLED, engine.order(pos.id).status)
        assertEquals(CancelReason.RESERVATION_EXPIRED, engine.order(pos.id).cancelReason)
        assertEquals(OrderStatus.CONFIRMED, engine.order(web.id).status)
    }

    test("a bad time-to-live or channel refuses to open the engine") {
        for (bad in listOf(0u, 43_201u)) {
            val e = expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") {
                Engine.inMemory(null, EngineOptions(reservationTtlMinutes = bad))
            }
            assertTrue(e.detailsJson.contains("reservation_ttl_minutes"), e.detailsJson)
        }
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") {
            Engine.inMemory(null, EngineOptions(reservationTtlMinutesByChannel = mapOf("web" to 0u)))
        }
        expectError<OrdersmithException.InvalidInput>("ID_EMPTY") {
            Engine.inMemory(null, EngineOptions(reservationTtlMinutesByChannel = mapOf("" to 60u)))
        }
        // Thirty days is the most.
        Engine.inMemory(null, EngineOptions(reservationTtlMinutes = 43_200u))
    }

    test("a shortage holds the order instead of failing, when so configured") {
        val strict = Engine.inMemory(FixedClock(NOON))
        shop(strict)
        val order = strict.placeOrder(newOrder("S-1", mug(8u)), null)
        expectError<OrdersmithException.Rejected>("STOCK_INSUFFICIENT") { strict.confirmOrder(order.id, null) }
        assertEquals(order, strict.order(order.id))

        val lenient = Engine.inMemory(FixedClock(NOON), EngineOptions(onShortage = ShortagePolicy.HOLD))
        shop(lenient)
        val held = lenient.confirmOrder(lenient.placeOrder(newOrder("S-1", mug(8u)), null).id, null)
        assertEquals(OrderStatus.ON_HOLD, held.status)
        assertEquals(HoldReason.INSUFFICIENT_STOCK, held.holdReason)
        assertEquals(5L, lenient.stockLevels("MUG-RED").reserved)
    }

    test("reserving on confirm can be turned off") {
        val engine = Engine.inMemory(FixedClock(NOON), EngineOptions(reserveOnConfirm = false))
        shop(engine)
        val order = engine.confirmOrder(engine.placeOrder(newOrder("N-1", tea(2u)), null).id, null)
        assertEquals(OrderStatus.CONFIRMED, order.status)
        assertEquals(0L, engine.stockLevels("TEA-500G").reserved)
    }

    test("sourcing: fewest shipments, and no split when a line must ship whole") {
        fun stocked(options: EngineOptions?): Engine {
            val engine = Engine.inMemory(FixedClock(NOON), options)
            shop(engine)
            engine.addLocation(Location("IZM-1", "Izmir store", 3u, "TR-35", LocationKind.STORE))
            engine.registerVariant("CUP-BLUE")
            engine.registerVariant("SPOON")
            engine.receive("CUP-BLUE", "ANK-1", 3u, null)
            engine.receive("CUP-BLUE", "IZM-1", 3u, null)
            engine.receive("SPOON", "IZM-1", 3u, null)
            engine.receive("TEA-500G", "ANK-1", 10u, null)
            return engine
        }
        // No location has all three: by priority each line comes from the first that
        // has it (three shipments); fewest shipments needs two (Ankara, then Izmir).
        val lines = arrayOf(tea(1u), NewLine("CUP-BLUE", 1u, BigDecimal("45.00"), null), NewLine("SPOON", 1u, BigDecimal("9.00"), null))
        val byPriority = stocked(null)
        val three = byPriority.confirmOrder(byPriority.placeOrder(newOrder("F-1", *lines), null).id, null)
        assertEquals(listOf("ANK-1", "IST-1", "IZM-1"), three.fulfilments.map { it.location }.sorted())
        val fewest = stocked(EngineOptions(sourcing = SourcingStrategy.FEWEST_SHIPMENTS))
        val two = fewest.confirmOrder(fewest.placeOrder(newOrder("F-1", *lines), null).id, null)
        assertEquals(listOf("ANK-1", "IZM-1"), two.fulfilments.map { it.location }.sorted())

        // 25 teas: 20 in Istanbul, 10 in Ankara. Split, both ship; whole, none can.
        val split = stocked(null)
        val both = split.confirmOrder(split.placeOrder(newOrder("F-2", tea(25u)), null).id, null)
        assertEquals(listOf("ANK-1", "IST-1"), both.lines.single().allocations.map { it.location }.sorted())
        val whole = stocked(EngineOptions(allowSplit = false))
        val order = whole.placeOrder(newOrder("F-2", tea(25u)), null)
        expectError<OrdersmithException.Rejected>("STOCK_INSUFFICIENT") { whole.confirmOrder(order.id, null) }
        assertEquals(order, whole.order(order.id))
    }

    test("customer notifications are asked for as effects; bad settings are refused") {
        val notifications = """{"channels": ["email"], "order_url": "https://shop.example/o/{order_ref}"}"""
        val engine = Engine.inMemory(FixedClock(NOON), EngineOptions(notificationsJson = notifications))
        engine.placeOrderJson(
            """{"channel":"web","external_ref":"W-1","placed_at":"2026-11-20T12:00:00Z","currency":"TRY",
               "customer":{"name":"Ayşe","email":"ayse@example.com"},
               "lines":[{"variant":"TEA-500G","quantity":1,"unit_price":"89.90"}]}""",
            null,
        )
        assertTrue(engine.pendingEffects(100u).any { it.topic == "notification.requested" })

        val quiet = Engine.inMemory(FixedClock(NOON))
        quiet.placeOrderJson(
            """{"channel":"web","external_ref":"W-1","placed_at":"2026-11-20T12:00:00Z","currency":"TRY",
               "customer":{"name":"Ayşe","email":"ayse@example.com"},
               "lines":[{"variant":"TEA-500G","quantity":1,"unit_price":"89.90"}]}""",
            null,
        )
        assertTrue(quiet.pendingEffects(100u).none { it.topic == "notification.requested" })

        val bad = expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") {
            Engine.inMemory(null, EngineOptions(notificationsJson = """{"channels": ["pigeon"]}"""))
        }
        assertTrue(bad.detailsJson.contains("notifications_json"), bad.detailsJson)
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") {
            Engine.inMemory(null, EngineOptions(notificationsJson = """{"channel": ["email"]}"""))
        }
        // Transit days are taken as given, unless the fewest exceed the most.
        Engine.inMemory(null, EngineOptions(transitDays = TransitDays(2u, 5u)))
        Engine.inMemory(null, EngineOptions(transitDays = TransitDays(3u, 3u)))
        val reversed = expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") {
            Engine.inMemory(null, EngineOptions(transitDays = TransitDays(5u, 2u)))
        }
        assertTrue(reversed.detailsJson.contains("transit_days"), reversed.detailsJson)
    }

    test("the due list: what must ship within the margin, most urgent first, late flagged") {
        val calendar = """{"tz": "Europe/Istanbul", "cutoff": "14:00:00", "handling_days": 1, "non_working": ["sunday"]}"""
        val clock = FixedClock(NOON)
        val engine = Engine.inMemory(clock, EngineOptions(shippingCalendarJson = calendar))
        shop(engine)
        // Ship-by Monday 11:00 UTC, and Saturday 11:00 UTC (see the picker flow).
        val late = engine.confirmOrder(engine.placeOrder(newOrder("D-1", tea(1u)), null).id, null)
        val early = engine.confirmOrder(
            engine.placeOrder(newOrder("D-2", tea(1u)).copy(placedAt = Instant.parse("2026-11-20T09:00:00Z")), null).id,
            null,
        )
        var due = engine.fulfilmentsDue(24u * 60u)
        assertEquals(listOf(early.id), due.map { it.orderId })
        assertEquals(early.fulfilments.single().id, due.single().fulfilment)
        assertEquals("IST-1", due.single().location)
        assertEquals(Instant.parse("2026-11-21T11:00:00Z"), due.single().shipBy)
        assertEquals(false, due.single().late)

        due = engine.fulfilmentsDue(4u * 24u * 60u)
        assertEquals(listOf(early.id, late.id), due.map { it.orderId })

        clock.time = Instant.parse("2026-11-21T12:00:00Z")
        due = engine.fulfilmentsDue(60u)
        assertEquals(listOf(early.id), due.map { it.orderId })
        assertEquals(true, due.single().late)

        // A margin of nothing or beyond 30 days is refused; without a calendar the list is empty.
        for (bad in listOf(0u, 31u * 24u * 60u)) {
            val e = expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") { engine.fulfilmentsDue(bad) }
            assertTrue(e.detailsJson.contains("margin_minutes"), e.detailsJson)
        }
        val plain = Engine.inMemory(clock)
        shop(plain)
        plain.confirmOrder(plain.placeOrder(newOrder("D-3", tea(1u)), null).id, null)
        assertTrue(plain.fulfilmentsDue(43_200u).isEmpty())
    }
}
