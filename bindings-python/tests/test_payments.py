"""Payments through a provider from Python: authorise, capture twice, refund, void,
confirmations idempotent by reference, typed errors stating the amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest

import ordersmith
from conftest import order_input


def test_authorise_capture_refund_and_statuses(engine: ordersmith.Engine) -> None:
    order = engine.place_order(order_input("MUG", 2))
    total = order.totals.total
    order = engine.authorise_payment(order.id, "iyzico", total, "card")
    (p,) = order.payments
    assert p["id"] == "P1" and p["state"] == "requested"
    order = engine.confirm_authorisation(order.id, "P1", "auth-1", total)
    assert order.payment_status == "authorised"
    assert engine.confirm_authorisation(order.id, "P1", "auth-1", total) == order  # webhook twice
    engine.capture_payment(order.id, "P1", Decimal("100"))
    order = engine.confirm_capture(order.id, "P1", "cap-1", Decimal("100"))
    assert order.payment_status == "partially_paid"
    rest = total - Decimal("100")
    engine.capture_payment(order.id, "P1", rest)
    order = engine.confirm_capture(order.id, "P1", "cap-2", str(rest))
    assert order.payment_status == "paid"
    assert order.amount_paid == total
    with pytest.raises(ordersmith.PaymentError) as info:
        engine.capture_payment(order.id, "P1", Decimal("0.01"))
    assert info.value.code == "PAYMENT_CAPTURE_EXCEEDS_AUTHORISED"
    assert "0.01 TRY" in str(info.value)
    engine.refund_payment(order.id, "P1", Decimal("50"))
    order = engine.confirm_refund(order.id, "P1", "ref-1", Decimal("50"))
    assert order.payment_status == "partially_refunded"
    with pytest.raises(ordersmith.PaymentError) as info:
        engine.refund_payment(order.id, "P1", total)
    assert info.value.code == "PAYMENT_REFUND_EXCEEDS_CAPTURED"
    topics = {e["topic"] for e in engine.pending_effects(limit=1000)}
    assert {"payment.authorisation_requested", "payment.capture_requested", "payment.refund_requested"} <= topics


def test_void_fail_and_bad_input(engine: ordersmith.Engine) -> None:
    order = engine.place_order(order_input("MUG", 1))
    engine.authorise_payment(order.id, "iyzico", Decimal("10"))
    order = engine.void_payment(order.id, "P1")
    assert order.payments[0]["state"] == "voided"
    assert order.payment_status == "voided"
    engine.authorise_payment(order.id, "iyzico", Decimal("10"))
    order = engine.fail_authorisation(order.id, "P2", "card declined")
    assert order.payments[1]["state"] == "failed"
    with pytest.raises(ordersmith.PaymentNotFoundError):
        engine.void_payment(order.id, "P9")
    with pytest.raises(ordersmith.EngineInputError):
        engine.capture_payment(order.id, "P2", 1.5)  # type: ignore[arg-type]
    with pytest.raises(ordersmith.MoneyInputError):
        engine.authorise_payment(order.id, "iyzico", Decimal("1.001"))


def test_a_refused_capture_or_refund_releases_what_was_pending(engine: ordersmith.Engine) -> None:
    order = engine.place_order(order_input("MUG", 2))
    total = order.totals.total
    engine.authorise_payment(order.id, "iyzico", total, "card")
    engine.confirm_authorisation(order.id, "P1", "auth-1", total)
    with pytest.raises(ordersmith.PaymentError) as info:
        engine.fail_refund(order.id, "P1", "card closed")  # nothing pending
    assert info.value.code == "PAYMENT_INVALID_STATE"
    engine.capture_payment(order.id, "P1", total)
    order = engine.fail_capture(order.id, "P1", "issuer unavailable")
    assert order.payments[0]["capture_pending"]["amount"] == Decimal("0.00")
    assert order.payment_status == "authorised"
    engine.capture_payment(order.id, "P1", total)
    engine.confirm_capture(order.id, "P1", "cap-1", total)
    engine.refund_payment(order.id, "P1", Decimal("30"))
    engine.confirm_refund(order.id, "P1", "ref-1", Decimal("10"))  # settled short
    with pytest.raises(ordersmith.OrderError):
        engine.record_refund(order.id, total - Decimal("10"))  # 20 still pending
    order = engine.fail_refund(order.id, "P1", "card closed", actor="user:ayse")
    assert order.payments[0]["refund_pending"]["amount"] == Decimal("0.00")
    order = engine.record_refund(order.id, total - Decimal("10"))
    assert order.amount_refunded == total
    topics = [e["topic"] for e in engine.pending_effects(limit=1000)]
    assert "payment.capture_failed" in topics and "payment.refund_failed" in topics


def test_refund_quotes_add_up_over_several_returns(engine: ordersmith.Engine) -> None:
    engine.add_location("IST", "Istanbul DC", 1, "TR-34")
    engine.register_variant("TEE")
    engine.receive("TEE", "IST", 5)
    data = order_input("TEE", 3, price=Decimal("10.00"))
    data["lines"][0]["tax_lines"] = []
    data["lines"][0]["discounts"] = [{"code": None, "amount": Decimal("10.00")}]
    order = engine.confirm(engine.place_order(data).id)
    engine.record_shipment(order.id, {"L1": 3})
    engine.record_delivery(order.id, {"L1": 3})
    parts = []
    for _ in range(3):
        quote = engine.refund_quote(order.id, {"L1": 1})
        assert quote["total"]["currency"] == "TRY"
        parts.append(quote["total"]["amount"])
        engine.record_return(order.id, {"L1": 1})
    assert parts == [Decimal("6.67"), Decimal("6.67"), Decimal("6.66")]
    with pytest.raises(ordersmith.ReturnsInputError) as info:
        engine.refund_quote(order.id, {"L1": 1})
    assert info.value.code == "RETURNS_NOT_RETURNABLE"


def test_money_is_given_back_once_and_taken_in_once_across_paths(engine: ordersmith.Engine) -> None:
    """A refund recorded outside the provider and then asked of the provider too is
    refused; so is a second capture of an order already paid by another payment."""
    order = engine.place_order(order_input("MUG", 2))
    total = order.totals.total
    engine.authorise_payment(order.id, "iyzico", total)
    engine.confirm_authorisation(order.id, "P1", "auth-1", total)
    engine.capture_payment(order.id, "P1", total)
    engine.confirm_capture(order.id, "P1", "cap-1", total)
    engine.record_refund(order.id, total)
    before = engine.order(order.id)
    with pytest.raises(ordersmith.Error) as info:
        engine.refund_payment(order.id, "P1", total)
    assert info.value.code == "ORDER_REFUND_EXCEEDS_PAID"
    assert engine.order(order.id) == before

    other = engine.place_order(order_input("MUG", 1))
    due = other.totals.total
    for payment in ("P1", "P2"):
        engine.authorise_payment(other.id, "iyzico", due)
        engine.confirm_authorisation(other.id, payment, f"auth-{payment}", due)
    engine.capture_payment(other.id, "P1", due)
    with pytest.raises(ordersmith.Error) as info:
        engine.capture_payment(other.id, "P2", due)
    assert info.value.code == "ORDER_OVERPAYMENT"
