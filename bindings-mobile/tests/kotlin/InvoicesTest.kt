// Invoices and credit notes from Kotlin: switched on when the engine opens, issued with
// gapless numbers, a refund issuing its credit note, typed errors, and the documents.
package dev.ordersmith.tests

import dev.ordersmith.*
import java.math.BigDecimal
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

val INVOICING = """{"seller": {"name": "Çay & Kahve Ticaret A.Ş.", "tax_id": "1234567890",
    "address_lines": ["Bağdat Caddesi 100"], "city": "İstanbul", "postal_code": "34728",
    "country": "TR"}, "time_zone": "Europe/Istanbul"}"""

fun invoices() = Suite("invoices").apply {
    test("an invoice, a refund's credit note, and the documents") {
        val engine = Engine.inMemory(FixedClock(NOON), EngineOptions(invoicingJson = INVOICING))
        val order = engine.placeOrder(newOrder("INV-1", tea(2u), mug(1u)), null)
        engine.markPaid(order.id, null)
        val invoice = engine.issueInvoice(order.id)
        assertEquals("INV-2026-000001", invoice.number)
        assertEquals(DocumentKind.INVOICE, invoice.kind)
        assertEquals("2026-11-20", invoice.issueDate)
        assertEquals(0, order.total.amount.compareTo(invoice.grandTotal.amount))
        assertEquals(order.total.currency, invoice.grandTotal.currency)
        assertEquals(0, BigDecimal.ZERO.compareTo(invoice.due.amount))
        assertEquals(2, invoice.lines.size)
        assertTrue(invoice.json.contains("\"number\":\"INV-2026-000001\""), invoice.json)

        engine.recordRefund(order.id, BigDecimal("50.00"), null)
        val docs = engine.orderDocuments(order.id)
        assertEquals(listOf(DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE), docs.map { it.kind })
        val credit = docs[1]
        assertEquals("CN-2026-000001", credit.number)
        assertEquals(invoice.number, credit.corrects)
        assertEquals(0, BigDecimal("50.00").compareTo(credit.grandTotal.amount))

        val xml = engine.documentCii(credit.number)
        assertTrue(xml.contains("<ram:TypeCode>381</ram:TypeCode>"), xml)
        assertTrue(xml.contains("Çay &amp; Kahve"), xml)
        val html = engine.documentHtml(invoice.number, "tr")
        assertTrue(html.contains("Fatura") && html.contains(invoice.number))
    }

    test("bad requests are typed and change nothing") {
        val plain = Engine.inMemory(null)
        val o = plain.placeOrder(newOrder("INV-2", tea(1u)), null)
        expectError<OrdersmithException.Rejected>("INVOICE_NOT_CONFIGURED") { plain.issueInvoice(o.id) }
        expectError<OrdersmithException.InvalidInput>("INVOICE_BAD_CONFIG") {
            Engine.inMemory(null, EngineOptions(invoicingJson = INVOICING.replace("\"TR\"", "\"Turkey\"")))
        }
        val engine = Engine.inMemory(null, EngineOptions(invoicingJson = INVOICING))
        val order = engine.placeOrder(newOrder("INV-3", tea(1u)), null)
        val invoice = engine.issueInvoice(order.id)
        expectError<OrdersmithException.Rejected>("INVOICE_ALREADY_ISSUED") { engine.issueInvoice(order.id) }
        val tooMuch = invoice.grandTotal.amount + BigDecimal("0.01")
        val e = expectError<OrdersmithException.Rejected>("INVOICE_CREDIT_EXCEEDS_INVOICE") {
            engine.issueCreditNote(invoice.number, tooMuch, "price correction")
        }
        assertTrue(e.detailsJson.contains("creditable"), e.detailsJson)
        assertEquals(1, engine.orderDocuments(order.id).size)
        expectError<OrdersmithException.NotFound>("INVOICE_NOT_FOUND") { engine.document("INV-2026-999999") }
        val credit = engine.issueCreditNote(invoice.number, BigDecimal("10.00"), "goodwill")
        assertEquals(0, BigDecimal("10.00").compareTo(credit.due.amount))
    }

    test("invoicing set up after the shop started selling, and read back") {
        val plain = Engine.inMemory(FixedClock(NOON))
        assertEquals(null, plain.invoicingJson())
        val order = plain.placeOrder(newOrder("INV-4", tea(1u)), null)
        expectError<OrdersmithException.InvalidInput>("INVOICE_BAD_CONFIG") { plain.withInvoicing("{") }
        expectError<OrdersmithException.InvalidInput>("INVOICE_BAD_CONFIG") {
            plain.withInvoicing(INVOICING.replace("\"TR\"", "\"Turkey\""))
        }
        val invoicing = plain.withInvoicing(INVOICING)
        val json = assertNotNull(invoicing.invoicingJson())
        assertTrue(json.contains("Europe/Istanbul") && json.contains("invoice_number_format"), json)
        assertEquals("INV-2026-000001", invoicing.issueInvoice(order.id).number)
        // The first handle is unchanged; both see the same file.
        assertEquals(null, plain.invoicingJson())
        assertEquals(1, plain.orderDocuments(order.id).size)
        expectError<OrdersmithException.Rejected>("INVOICE_NOT_CONFIGURED") {
            plain.issueInvoice(plain.placeOrder(newOrder("INV-5", tea(1u)), null).id)
        }
        // What it reads back configures another engine the same way.
        assertEquals(json, Engine.inMemory(null, EngineOptions(invoicingJson = json)).invoicingJson())
    }
}
