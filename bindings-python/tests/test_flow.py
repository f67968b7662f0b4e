"""One end-to-end day: stock in, orders imported, confirmed, cancelled, counted."""

from __future__ import annotations

import sys
from decimal import Decimal

import pytest

import ordersmith
from conftest import order_input


def test_order_import_to_stock_position(stocked: ordersmith.Engine) -> None:
    engine = stocked
    engine.set_low_stock_threshold("MUG", 10)
    rows = [order_input(quantity=2, external_ref=f"W-{i}") for i in range(5)]
    rows.insert(2, order_input(price=1.5))  # refused, reported at its index
    result = engine.import_orders(rows, actor="channel:web")
    assert len(result.orders) == 5
    assert [i for i, _ in result.errors] == [2]
    index, err = result.errors[0]
    assert isinstance(err, ordersmith.EngineInputError)
    assert err.details["field"] == "orders[2].lines[0].unit_price"

    ids = [o.id for o in result.orders]
    plan = engine.sourcing_plan(ids[0])
    assert plan is not None and plan["assignments"][0]["location"] == "IST"
    confirmed = [engine.confirm(i) for i in ids[:4]]
    assert all(o.lines[0].allocated == 2 for o in confirmed)
    assert engine.level("MUG", "IST")["reserved"] == 8

    cancelled = engine.cancel(ids[3])
    assert cancelled.status == "cancelled"
    assert engine.level("MUG", "IST")["reserved"] == 6
    partly = engine.cancel_lines(ids[2], {"L1": 1})
    assert partly.lines[0].cancelled == 1
    assert engine.level("MUG", "IST")["reserved"] == 5

    shipped = engine.record_shipment(ids[0], {"L1": 2})
    assert shipped.status == "processing" and shipped.fulfilment_status == "fulfilled"
    assert engine.level("MUG", "IST")["on_hand"] == 8

    # A blind count finds one missing mug at IST.
    sheet = engine.open_count("C-1", "IST", ["MUG"])
    assert sheet == {"count": "C-1", "location": "IST", "variants": ["MUG"], "recorded": [], "closed": False}
    engine.record_count("C-1", "MUG", 7)
    report = engine.close_count("C-1", {"MUG": Decimal("40.00")}, currency="TRY")
    variance = report["variances"][0]
    assert (variance["expected"], variance["counted"], variance["variance"]) == (8, 7, -1)
    assert variance["value"] == {"amount": Decimal("-40.00"), "currency": "TRY"}
    assert report["variant_accuracy"] == Decimal("0")

    position = {(r["variant"], r["location"]): r for r in engine.stock_position()}
    mug = position[("MUG", "IST")]
    assert (mug["on_hand"], mug["reserved"], mug["available"]) == (7, 3, 4)
    assert set(mug) >= {"variant", "location", "on_hand", "reserved", "available", "incoming", "quarantined", "in_transit"}
    assert position[("SHIRT-M", "ANK")]["on_hand"] == 0

    topics = [e["topic"] for e in engine.pending_effects(limit=1000)]
    assert "stock.low_stock" in topics
    assert "order.confirmed" in topics
    effect = engine.pending_effects(limit=1)[0]
    assert engine.acknowledge_effect(effect["id"]) is True
    assert engine.acknowledge_effect(effect["id"]) is False

    kinds = [m["kind"] for m in engine.journal()]
    assert kinds[:3] == ["receipt", "receipt", "receipt"]
    assert "count" in kinds and "sale" in kinds
    assert engine.journal(since=len(kinds)) == []
    assert [o.id for o in engine.list_orders(status="cancelled")] == [ids[3]]


def test_stock_commands(stocked: ordersmith.Engine) -> None:
    e = stocked
    e.expect_incoming("MUG", "ANK", 10, "PO-2")
    assert e.level("MUG", "ANK")["incoming"] == 10
    e.adjust("MUG", "IST", -1, "damage")
    e.transfer("T-1", "MUG", "IST", "ANK", 3)
    assert e.level("MUG", "IST")["in_transit"] == 3
    e.receive_transfer("T-1")
    e.quarantine("MUG", "ANK", 1, "RMA-1")
    e.write_off("MUG", "ANK", 1, from_="quarantine")
    e.restock_return("MUG", "ANK", 1)
    assert e.levels("MUG")["on_hand"] == 15
    events = e.reserve("R-1", "MUG", "IST", 2, reference="manual")
    assert events[0]["kind"] == "reserve"
    # The reference the ledger keeps is the one given (shared text in the engine).
    held = {r["id"]: r["reference"] for r in e.reservations(sku="MUG")}
    assert held["R-1"] == "manual"
    e.commit("R-1", 1)
    e.release("R-1")
    assert e.level("MUG", "IST")["reserved"] == 0
    assert e.expire_reservations() == []
    e.register_variant("PRE", policy="preorder")
    e.register_variant("BACK", policy="backorder", backorder_limit=5)
    assert e.levels("BACK")["backorder_limit"] == 5
    with pytest.raises(ordersmith.EngineInputError):
        e.register_variant("X", policy="deny", backorder_limit=2)
    e.define_bundle("GIFT", {"MUG": 1, "SHIRT-M": 1})
    e.set_safety_stock("MUG", "IST", 1)
    e.set_channel_rule("trendyol", share_percent=50, buffer=1)
    quantities = e.channel_quantities("trendyol")
    assert quantities["GIFT"] >= 0 and "MUG" in quantities
    assert e.changed_since_last_push("trendyol") == quantities
    e.mark_pushed("trendyol", quantities)
    assert e.changed_since_last_push("trendyol") == {}
    forecast = e.forecast("MUG")
    assert forecast["velocity_per_day"] == Decimal("0.0333")
    assert e.sales_velocity("MUG", 30) == Decimal("0.0333")
    with pytest.raises(ordersmith.StockInputError):
        e.transfer("T-2", "MUG", "IST", "IST", 1)


def test_edit_tag_note_and_money(stocked: ordersmith.Engine) -> None:
    e = stocked
    order = e.place_order(order_input())
    order = e.edit(order.id, [{"op": "add", "line": {"variant": "SHIRT-M", "quantity": 1, "unit_price": "99.00"}}])
    assert [l.variant for l in order.lines] == ["MUG", "SHIRT-M"]
    order = e.edit(order.id, [{"op": "set_quantity", "line_id": "L1", "quantity": 1}])
    order = e.tag(order.id, add=["vip"], actor="user:ayse")
    order = e.add_note(order.id, "gift wrap")
    assert order.tags == ("vip",) and order.notes == ("gift wrap",)
    order = e.confirm(order.id)
    order = e.mark_paid(order.id)
    assert order.payment_status == "paid" and order.balance_due == Decimal("0.00")
    order = e.record_shipment(order.id, {"L1": 1, "L2": 1})
    order = e.record_delivery(order.id, {"L1": 1})
    order = e.record_return(order.id, {"L1": 1})
    order = e.record_refund(order.id, Decimal("10.00"))
    assert order.payment_status == "partially_refunded"
    assert e.complete(order.id).status == "completed"


def test_dataframe_helpers_import_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        ordersmith.to_pandas([{"a": 1}])
    with pytest.raises(ImportError, match="pip install polars"):
        ordersmith.to_polars([{"a": 1}])


def test_place_order_then_confirms_in_the_same_write(stocked: ordersmith.Engine) -> None:
    engine = stocked
    data = order_input("MUG", 3, external_ref="W-77")
    order, created = engine.place_order_then(data, [{"command": "confirm"}, {"command": "mark_paid"}])
    assert created is True
    assert (order.status, order.payment_status) == ("confirmed", "paid")
    assert order.lines[0].allocated == 3
    assert engine.level("MUG", "IST")["reserved"] == 3
    # The same channel order again: the stored order, nothing run twice.
    again, created = engine.place_order_then(data, [{"command": "confirm"}])
    assert created is False and again.id == order.id and again.version == order.version
    assert engine.level("MUG", "IST")["reserved"] == 3
    assert len(engine.list_orders()) == 1


def test_place_order_then_saves_nothing_when_a_command_fails(stocked: ordersmith.Engine) -> None:
    engine = stocked
    with pytest.raises(ordersmith.OrderError):
        # A confirmed order cannot be confirmed again: the whole write is refused.
        engine.place_order_then(order_input("MUG", 2), [{"command": "confirm"}, {"command": "confirm"}])
    assert engine.list_orders() == []
    assert engine.level("MUG", "IST")["reserved"] == 0
    for then, field in [
        ("confirm", "then"),  # a string is not a list of commands
        ({"command": "confirm"}, "then"),  # nor is one command
        ([{"command": "teleport"}], "then"),
        ([{"command": "record_payment", "amount": {"amount": 1.5, "currency": "TRY"}}], "then[0]"),
    ]:
        with pytest.raises(ordersmith.EngineInputError) as info:
            engine.place_order_then(order_input("MUG", 2), then)  # type: ignore[arg-type]
        assert info.value.details["field"].startswith(field), (then, info.value.details)
    with pytest.raises(ordersmith.EngineInputError):
        engine.place_order_then(order_input("MUG", 2, price=1.5), [{"command": "confirm"}])
    assert engine.list_orders() == []
    assert engine.level("MUG", "IST")["reserved"] == 0
