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
