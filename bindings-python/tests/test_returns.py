"""Returns from Python: the RMA workflow (policy check with the failed rule named,
override, label, partial receipt, inspection into the ledger, refund, store credit,
exchange), refund breakdowns to the minor unit, typed errors that change nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, List

import pytest

import ordersmith
from conftest import order_input


def shop() -> ordersmith.Engine:
    engine = ordersmith.Engine.in_memory(
        returns={
            "window_days": 30,
            "restocking_fee_rate": "0.10",
            "non_returnable": ["GIFT"],
        },
        notifications={"channels": ["email"]},
    )
    engine.add_location("IST", "Istanbul DC", 1, "TR-34")
    for sku in ("TEE", "TEE-L", "GIFT"):
        engine.register_variant(sku)
        engine.receive(sku, "IST", 10)
    return engine


def delivered(engine: ordersmith.Engine) -> ordersmith.Order:
    data = order_input("TEE", 3, price=Decimal("10.00"))
    data["lines"][0]["tax_lines"] = []
    data["lines"][0]["discounts"] = [{"code": None, "amount": Decimal("10.00")}]
    data["lines"].append({"variant": "GIFT", "quantity": 1, "unit_price": Decimal("5.00")})
    data["customer"] = {"id": "cust-1", "name": "Ayşe", "email": "ayse@example.com", "locale": "tr"}
    order = engine.confirm(engine.place_order(data).id)
    engine.mark_paid(order.id)
    engine.record_shipment(order.id, {"L1": 3, "L2": 1})
    return engine.record_delivery(order.id, {"L1": 3, "L2": 1})


def ask(line: str, quantity: int, reason: str) -> List[Dict[str, Any]]:
    return [{"line_id": line, "quantity": quantity, "reason": reason}]


def test_returns_over_three_rmas_refund_to_the_minor_unit() -> None:
    engine = shop()
    order = delivered(engine)
    paid = []
    for n in range(3):
        order = engine.request_return(order.id, ask("L1", 1, "defective"), note="broken seam")
        rma = order.rmas[-1]
        assert rma["id"] == f"R{n + 1}" and rma["status"] == "approved"
        if n == 0:
            engine.request_return_label(order.id, "R1", "standard")
            order = engine.record_return_label(order.id, "R1", "yurtici", "YK1")
            assert order.rmas[0]["status"] == "label_ready"
            engine.mark_return_in_transit(order.id, "R1")
        engine.receive_return(order.id, rma["id"], "IST", {"L1": 1})
        engine.inspect_return(order.id, rma["id"], [{"line_id": "L1", "outcome": "resellable"}])
        value = engine.return_value(order.id, rma["id"])
        order = engine.resolve_return(order.id, rma["id"], "refund")
        breakdown = order.rmas[-1]["resolution"]["breakdown"]
        assert breakdown == value
        paid.append(breakdown["lines"][0]["paid"]["amount"])
    assert paid == [Decimal("6.67"), Decimal("6.67"), Decimal("6.66")]
    assert order.amount_refunded == Decimal("20.00")
    assert order.payment_status == "partially_refunded"
    order = engine.close_return(order.id, "R1")
    assert order.rmas[0]["status"] == "closed"
    topics = [e["topic"] for e in engine.pending_effects(limit=1000)]
    assert "return.label_requested" in topics
    timeline = engine.timeline(order.id, "tr")
    assert timeline["returns"][0]["status"] == "Kapatıldı"


def test_rejections_name_the_rule_and_a_person_may_override() -> None:
    engine = shop()
    order = delivered(engine)
    order = engine.request_return(order.id, ask("L2", 1, "changed_mind"))
    rma = order.rmas[-1]
    assert rma["status"] == "rejected"
    assert rma["policy_failure"]["rule"] == "non_returnable"
    order = engine.override_return(order.id, rma["id"], "goodwill", actor="user:mehmet")
    assert order.rmas[-1]["status"] == "approved"
    assert order.rmas[-1]["override_reason"] == "goodwill"
    order = engine.reject_return(order.id, rma["id"], "changed our mind")
    assert order.rmas[-1]["status"] == "rejected"


def test_store_credit_is_spent_on_a_later_order_and_never_goes_below_zero() -> None:
    engine = shop()
    order = delivered(engine)
    order = engine.request_return(order.id, ask("L1", 1, "changed_mind"))
    engine.receive_return(order.id, "R1", "IST", {"L1": 1})
    engine.inspect_return(order.id, "R1", [{"line_id": "L1", "outcome": "quarantine", "quantity": 1}])
    order = engine.resolve_return(order.id, "R1", "store_credit")
    # 6.67 paid, minus 10 % of the line's goods (20.00 → 2.00 over three units: 0.67).
    credit = engine.store_credit("cust-1")
    assert credit is not None
    assert credit["balance"]["amount"] == Decimal("6.00")
    assert engine.store_credit("nobody") is None
    later = order_input("TEE", 1, price=Decimal("10.00"), customer={"id": "cust-1"})
    later_id = engine.place_order(later).id
    with pytest.raises(ordersmith.ReturnsError) as info:
        engine.spend_store_credit(later_id, Decimal("6.01"))
    assert info.value.code == "RETURNS_CREDIT_INSUFFICIENT"
    spent = engine.spend_store_credit(later_id, "6.00")
    assert spent.amount_paid == Decimal("6.00")
    credit = engine.store_credit("cust-1")
    assert credit is not None and credit["balance"]["amount"] == Decimal("0.00")
    # The later order returned: what credit paid comes back as credit, not as money.
    engine.record_payment(later_id, Decimal("6.00"))  # the rest of its 12.00
    engine.confirm(later_id)
    engine.record_shipment(later_id, {"L1": 1})
    engine.record_delivery(later_id, {"L1": 1})
    engine.request_return(later_id, ask("L1", 1, "changed_mind"))
    engine.receive_return(later_id, "R1", "IST", {"L1": 1})
    engine.inspect_return(later_id, "R1", [{"line_id": "L1", "outcome": "resellable"}])
    back = engine.resolve_return(later_id, "R1", "refund")
    legs = back.rmas[-1]["resolution"]["refunds"]
    assert [leg["via"] for leg in legs] == ["store_credit", "recorded"]
    assert legs[0]["amount"]["amount"] == Decimal("6.00")
    assert back.amount_refunded == Decimal("5.00")  # 11.00 after the 10 % fee on 10.00
    credit = engine.store_credit("cust-1")
    assert credit is not None and credit["balance"]["amount"] == Decimal("6.00")


def test_an_exchange_places_a_linked_replacement_order() -> None:
    engine = shop()
    order = delivered(engine)
    order = engine.request_return(
        order.id,
        ask("L1", 1, "wrong_size"),
        exchange=[{"variant": "TEE-L", "quantity": 1, "unit_price": "8.00"}],
    )
    engine.receive_return(order.id, "R1", "IST", {"L1": 1})
    engine.inspect_return(order.id, "R1", [{"line_id": "L1", "outcome": "resellable"}])
    order = engine.resolve_return(order.id, "R1", "exchange")
    resolution = order.rmas[0]["resolution"]
    assert resolution["kind"] == "exchange"
    replacement = engine.order(resolution["replacement_order"])
    assert "exchange" in replacement.tags
    # Worth 6.67 − 0.67 fee = 6.00 against 8.00: 2.00 left to pay on the replacement.
    assert resolution["to_charge"]["amount"] == Decimal("2.00")
    assert replacement.amount_paid == Decimal("6.00")
    assert replacement.balance_due == Decimal("2.00")
    assert replacement.payment_status == "partially_paid"


def test_bad_input_is_a_typed_error_and_changes_nothing() -> None:
    engine = shop()
    order = delivered(engine)
    with pytest.raises(ordersmith.ReturnsInputError) as info:
        engine.request_return(order.id, ask("L1", 4, "defective"))
    assert info.value.code == "RETURNS_NOT_RETURNABLE"
    with pytest.raises(ordersmith.ReturnsNotFoundError):
        engine.receive_return(order.id, "R9", "IST", {"L1": 1})
    with pytest.raises(ValueError):
        engine.request_return(order.id, ask("L1", 1, "because"))
    with pytest.raises(ordersmith.ReturnsNotFoundError):
        engine.resolve_return(order.id, "R1", "refund")
    order = engine.request_return(order.id, ask("L1", 1, "defective"))
    with pytest.raises(ValueError):
        engine.resolve_return(order.id, "R1", "barter")  # type: ignore[arg-type]
    with pytest.raises(ordersmith.ReturnsError) as state:
        engine.resolve_return(order.id, "R1", "refund")
    assert state.value.code == "RETURNS_INVALID_STATE"
    assert engine.order(order.id).version == order.version
    with pytest.raises(ordersmith.Error):
        ordersmith.Engine.in_memory(returns={"window_days": 0})
