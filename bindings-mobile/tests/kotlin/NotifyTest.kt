// Customer messages a phone sends itself: a notification.requested effect rendered
// with the shipped templates or the shop's own, and typed errors for anything else.
package dev.ordersmith.tests

import dev.ordersmith.*
import kotlin.test.assertEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue

private const val SMS_ORDER = """{"channel":"web","external_ref":"N-1","placed_at":"2026-11-20T12:00:00Z","currency":"TRY",
   "customer":{"name":"Ayşe","phone":"+905551112233","locale":"tr"},
   "lines":[{"variant":"TEA-500G","quantity":1,"unit_price":"89.90"}]}"""

fun notifications() = Suite("notifications").apply {
    test("a requested notification is rendered with its address, in the customer's language") {
        val engine = Engine.inMemory(FixedClock(NOON), EngineOptions(notificationsJson = """{"channels": ["sms"]}"""))
        val order = engine.placeOrderJson(SMS_ORDER, null)
        val effect = engine.pendingEffects(100u).first { it.topic == "notification.requested" }
        val message = renderNotification(effect, null)
        assertEquals(order.id, message.orderId)
        assertEquals("sms" to "tr", message.channel to message.locale)
        assertEquals("+905551112233", message.recipient)
        assertNull(message.subject)
        assertTrue(message.body.isNotBlank())
        assertTrue(message.dedupeKey.contains(order.id), message.dedupeKey)

        val own = """[{"key": "${message.key}", "locale": "tr", "channel": "sms", "body": "Siparişiniz {order_ref} alındı."}]"""
        val body = renderNotification(effect, own).body
        assertTrue(body.startsWith("Siparişiniz ") && body.endsWith(" alındı.") && body.contains("N-1"), body)
    }

    test("anything but a requested notification, or bad templates, is a typed error") {
        val engine = Engine.inMemory(FixedClock(NOON), EngineOptions(notificationsJson = """{"channels": ["sms"]}"""))
        engine.placeOrderJson(SMS_ORDER, null)
        val effects = engine.pendingEffects(100u)
        val other = effects.first { it.topic != "notification.requested" }
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") { renderNotification(other, null) }
        val forged = other.copy(payloadJson = "{")
        expectError<OrdersmithException.InvalidInput>("ENGINE_INVALID_INPUT") { renderNotification(forged, null) }
        val effect = effects.first { it.topic == "notification.requested" }
        expectError<OrdersmithException.InvalidInput>("NOTIFY_INVALID_OVERRIDES") { renderNotification(effect, "{") }
        // A shop template that leaves out what the stage must say is refused when loaded.
        expectError<OrdersmithException.InvalidInput>("NOTIFY_TEMPLATE_MISSING_VARIABLE") {
            renderNotification(effect, """[{"key": "order_received", "locale": "tr", "channel": "sms", "body": "Tamam."}]""")
        }
        // Nothing was consumed: the effects are still pending.
        assertEquals(effects, engine.pendingEffects(100u))
    }
}
