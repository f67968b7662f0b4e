// Choosing a carrier service from rate quotes by the shop's policy, with the reason,
// and typed errors when no quote can be chosen.
package dev.ordersmith.tests

import dev.ordersmith.*
import java.math.BigDecimal
import kotlin.test.assertEquals
import kotlin.test.assertTrue

private fun try_(amount: String) = Money(BigDecimal(amount), "TRY")

fun carriers() = Suite("carriers").apply {
    val quotes = listOf(
        RateQuote("ptt", "standard", try_("45.00"), 2u, 4u),
        RateQuote("yurtici", "standard", try_("52.50"), 1u, 2u),
        RateQuote("ups", "express", try_("180.00"), 1u, 1u),
    )

    test("the cheapest keeping the promise, or the fastest under a cap") {
        val promised = chooseCarrier(quotes, CarrierPolicy.CheapestMeetingPromise(2u))
        assertEquals("yurtici" to "standard", promised.quote.carrier to promised.quote.service)
        assertTrue(promised.explanation.isNotBlank())
        assertEquals(quotes[1], promised.quote)
        val fastest = chooseCarrier(quotes, CarrierPolicy.FastestUnderCap(try_("200.00")))
        assertEquals("ups", fastest.quote.carrier)
        assertEquals("yurtici", chooseCarrier(quotes, CarrierPolicy.FastestUnderCap(try_("100.00"))).quote.carrier)
    }

    test("no quote, mixed currencies or none eligible are typed errors") {
        expectError<OrdersmithException.InvalidInput>("FULFILMENT_INVALID_QUOTES") {
            chooseCarrier(emptyList(), CarrierPolicy.CheapestMeetingPromise(2u))
        }
        expectError<OrdersmithException.InvalidInput>("FULFILMENT_INVALID_QUOTES") {
            chooseCarrier(listOf(RateQuote("ptt", "standard", try_("45.00"), 4u, 2u)), CarrierPolicy.CheapestMeetingPromise(5u))
        }
        val euro = RateQuote("dhl", "express", Money(BigDecimal("9.00"), "EUR"), 1u, 1u)
        expectError<OrdersmithException.InvalidInput>("FULFILMENT_QUOTES_MIX_CURRENCIES") {
            chooseCarrier(quotes + euro, CarrierPolicy.CheapestMeetingPromise(2u))
        }
        expectError<OrdersmithException.Rejected>("FULFILMENT_NO_ELIGIBLE_QUOTE") {
            chooseCarrier(quotes, CarrierPolicy.FastestUnderCap(try_("10.00")))
        }
        expectError<OrdersmithException.InvalidInput>("MONEY_TOO_PRECISE") {
            chooseCarrier(listOf(RateQuote("ptt", "standard", try_("45.001"), 2u, 4u)), CarrierPolicy.CheapestMeetingPromise(5u))
        }
    }
}
