"""The warehouse flow from Python: fulfilment orders, pick list, pick (short), pack,
label, hand-over, move, hold, cancel, and bad steps as typed errors."""

from __future__ import annotations

from typing import Any, Dict

import pytest

import ordersmith
from conftest import order_input


def _shop(**options: Any) -> ordersmith.Engine:
    engine = ordersmith.Engine.in_memory(**options)
    engine.add_location("IST", "Istanbul DC", 1, "TR-34")
    engine.add_location("ANK", "Ankara Store", 2, "TR-06", kind="store")
    engine.register_variant("MUG")
    engine.register_variant("TEA")
    engine.receive("MUG", "IST", 5)
    engine.receive("TEA", "ANK", 5)
    return engine


def _order(engine: ordersmith.Engine) -> ordersmith.Order:
    data = order_input("MUG", 2)
    data["lines"].append({"variant": "TEA", "quantity": 1, "unit_price": "50.00"})
    order = engine.place_order(data)
    return engine.confirm(order.id)


def _pack(engine: ordersmith.Engine, order_id: str, fulfilment: str, units: Dict[str, int]) -> ordersmith.Order:
    return engine.pack(order_id, fulfilment, units, weight_grams=800, length_mm=300, width_mm=200, height_mm=100)


def test_a_split_order_is_picked_packed_labelled_and_handed_over() -> None:
    engine = _shop()
    order = _order(engine)
    fos = engine.fulfilment_orders(order.id)
    assert [(f["id"], f["location"], f["status"]) for f in fos] == [
        ("F1", "IST", "open"),
        ("F2", "ANK", "open"),
    ]
    assert order.fulfilments == fos
    assert engine.pick_list(order.id, "F1") == [
        {"line_id": "L1", "sku": "MUG", "title": None, "quantity": 2}
    ]
    engine.pick(order.id, "F1", {"L1": 2})
    order = _pack(engine, order.id, "F1", {"L1": 2})
    (parcel,) = order.fulfilments[0]["parcels"]
    assert parcel["id"] == "F1-P1" and parcel["status"] == "packed"
    engine.request_label(order.id, "F1", "F1-P1", "standard")
    topics = [e["topic"] for e in engine.pending_effects(limit=1000)]
    assert "fulfilment.label_requested" in topics
    engine.record_label(
        order.id, "F1", "F1-P1", carrier="ptt", service="standard", tracking_number="RR123456785TR"
    )
    order = engine.hand_over(order.id, "F1", "F1-P1", idempotency_key="ho-1")
    assert engine.hand_over(order.id, "F1", "F1-P1", idempotency_key="ho-1") == order
    assert order.status == "processing"
    assert order.lines[0].shipped == 2
    assert order.fulfilments[0]["status"] == "shipped"
    assert engine.level("MUG", "IST")["on_hand"] == 3
    assert engine.level("MUG", "IST")["reserved"] == 0


def test_short_pick_move_hold_and_cancel() -> None:
    engine = _shop(short_pick="resource")
    order = _order(engine)
    engine.receive("MUG", "ANK", 3)
    # Only one mug on the IST shelf: one written off there, the other re-sourced.
    order = engine.pick(order.id, "F1", {"L1": 1}, short={"L1": 1})
    assert engine.level("MUG", "IST")["on_hand"] == 4
    assert order.fulfilments[0]["short_picks"] == [
        {"line_id": "L1", "quantity": 1, "handled_by": "resource"}
    ]
    assert any(f["location"] == "ANK" and f["status"] in ("open", "in_progress") for f in order.fulfilments)
    # The tea fulfilment order at ANK: hold, release, move to IST (no tea there).
    ank = next(f["id"] for f in order.fulfilments if f["location"] == "ANK")
    engine.hold_fulfilment(order.id, ank, "address check")
    with pytest.raises(ordersmith.FulfilmentError) as info:
        engine.pick(order.id, ank, {"L2": 1})
    assert info.value.code == "FULFILMENT_NOT_ACTIVE"
    engine.release_fulfilment(order.id, ank)
    with pytest.raises(ordersmith.StockError) as stock_info:
        engine.move_fulfilment(order.id, ank, "IST")
    assert stock_info.value.code == "STOCK_INSUFFICIENT"
    order = engine.cancel_fulfilment(order.id, ank, "inventory")
    assert order.lines[1].cancelled == 1
    assert engine.level("TEA", "ANK")["reserved"] == 0


@pytest.mark.parametrize(
    "call, code",
    [
        (lambda e, o: _pack(e, o, "F1", {"L1": 5}), "FULFILMENT_PACK_EXCEEDS_PICKED"),
        (lambda e, o: e.pick(o, "F1", {"L1": 9}), "FULFILMENT_PICK_EXCEEDS_ASSIGNED"),
        (lambda e, o: e.hand_over(o, "F1", "F1-P7"), "FULFILMENT_UNKNOWN_PARCEL"),
        (lambda e, o: e.hold_fulfilment(o, "F9", "x"), "FULFILMENT_UNKNOWN"),
        (lambda e, o: e.pack(o, "F1", {"L1": 1}, weight_grams=0, length_mm=1, width_mm=1, height_mm=1), "FULFILMENT_INVALID_PARCEL"),
    ],
)
def test_bad_steps_are_typed_errors_and_change_nothing(call: Any, code: str) -> None:
    engine = _shop()
    order = _order(engine)
    before = engine.order(order.id)
    with pytest.raises(ordersmith.Error) as info:
        call(engine, order.id)
    assert info.value.code == code
    assert engine.order(order.id) == before


def test_bad_arguments_are_engine_input_errors() -> None:
    engine = _shop()
    order = _order(engine)
    with pytest.raises(ordersmith.EngineInputError) as info:
        engine.pack(order.id, "F1", {"L1": 1}, weight_grams=-1, length_mm=1, width_mm=1, height_mm=1)
    assert info.value.details["field"] == "weight_grams"
    with pytest.raises(ordersmith.EngineInputError):
        ordersmith.Engine.in_memory(short_pick="later")  # type: ignore[arg-type]
    assert "short_pick='backorder'" in repr(ordersmith.Engine.in_memory(short_pick="backorder"))


def test_tracking_notifications_and_the_timeline_in_turkish() -> None:
    from datetime import datetime, timedelta, timezone

    engine = _shop(
        sscc={"extension_digit": 0, "company_prefix": "8691234", "serial_from": 1, "serial_to": 999999},
        shipping_calendar={
            "tz": "Europe/Istanbul",
            "cutoff": "14:00:00",
            "handling_days": 1,
            "non_working": ["sunday"],
        },
        transit_days=(1, 2),
        notifications={
            "channels": ["email"],
            "tracking_url": "https://track.example/{carrier}/{tracking_number}",
        },
    )
    data = order_input("MUG", 1, external_ref="TY-77")
    data["customer"] = {"name": "Ayşe Yılmaz", "email": "ayse@example.com", "locale": "tr-TR"}
    order = engine.confirm(engine.place_order(data).id)
    engine.pick(order.id, "F1", {"L1": 1})
    order = _pack(engine, order.id, "F1", {"L1": 1})
    parcel = order.fulfilments[0]["parcels"][0]
    assert parcel["sscc"].startswith("08691234") and len(parcel["sscc"]) == 18
    # A UPS number with a wrong check digit is refused.
    with pytest.raises(ordersmith.Error) as info:
        engine.record_label(order.id, "F1", "F1-P1", carrier="ups", service="standard", tracking_number="1Z999AA10123456785")
    assert info.value.code.startswith("FULFILMENT_TRACKING_NUMBER")
    engine.record_label(order.id, "F1", "F1-P1", carrier="ups", service="standard", tracking_number="1Z999AA10123456784")
    t0 = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)
    order = engine.record_tracking_event(order.id, "F1", "F1-P1", "P", t0, "Istanbul")
    assert order.lines[0].shipped == 1  # picked up: handed over
    engine.record_tracking_event(order.id, "F1", "F1-P1", "O", t0 + timedelta(hours=20))
    before = engine.order(order.id)
    assert engine.record_tracking_event(order.id, "F1", "F1-P1", "O", t0 + timedelta(hours=20)) == before
    order = engine.record_tracking_event(order.id, "F1", "F1-P1", "D", t0 + timedelta(hours=22), "Ankara")
    assert order.lines[0].delivered == 1
    with pytest.raises(ordersmith.EngineInputError):
        engine.record_tracking_event(order.id, "F1", "F1-P1", "I", datetime(2026, 11, 22, 9, 0))
    keys = [
        e["payload"]["event"]["notification"]["key"]
        for e in engine.pending_effects(limit=1000)
        if e["topic"] == "notification.requested"
    ]
    assert keys == ["order_received", "order_confirmed", "order_shipped", "out_for_delivery", "delivered"]
    shipped = next(
        e["payload"]["event"]["notification"]
        for e in engine.pending_effects(limit=1000)
        if e["topic"] == "notification.requested"
        and e["payload"]["event"]["notification"]["key"] == "order_shipped"
    )
    message = ordersmith.render_notification(shipped)
    assert message["locale"] == "tr" and "1Z999AA10123456784" in message["body"]
    assert "Ayşe" in message["body"] and "{" not in message["body"]
    override = '[{"key": "order_shipped", "locale": "tr", "channel": "email", "subject": "Kargoda: {order_ref}", "body": "{order_ref} {carrier} ile yolda: {tracking_url}"}]'
    assert ordersmith.render_notification(shipped, override)["subject"] == "Kargoda: TY-77"
    with pytest.raises(ordersmith.NotifyInputError):
        ordersmith.render_notification(shipped, '[{"key": "order_shipped", "locale": "tr", "channel": "sms", "body": "{kargo_firmasi}"}]')
    tl = engine.timeline(order.id, "tr")
    assert tl["order_ref"] == "TY-77"
    assert [s["label"] for s in tl["steps"]] == [
        "Sipariş alındı", "Sipariş onaylandı", "Kargoya verildi", "Dağıtımda", "Teslim edildi",
    ]
    assert all(s["done"] for s in tl["steps"])
    (p,) = tl["parcels"]
    assert p["status"] == "Teslim edildi"
    assert p["tracking_url"] == "https://track.example/ups/1Z999AA10123456784"
    assert p["events"][0]["at"] == "2026-11-21 12:00"  # Istanbul time
    assert engine.fulfilments_due(timedelta(hours=1)) == []


def test_choose_carrier_explains_and_refuses_bad_quotes() -> None:
    from decimal import Decimal

    quotes = [
        {"carrier": "ptt", "service": "standard", "price": Decimal("59.90"), "currency": "TRY", "transit_days_min": 2, "transit_days_max": 4},
        {"carrier": "ups", "service": "express", "price": "149.00", "currency": "TRY", "transit_days_min": 1, "transit_days_max": 1},
        {"carrier": "yurtici", "service": "standard", "price": "64.90", "currency": "TRY", "transit_days_min": 1, "transit_days_max": 2},
    ]
    choice = ordersmith.choose_carrier(quotes, {"policy": "cheapest_meeting_promise", "max_transit_days": 3})
    assert choice["quote"]["carrier"] == "yurtici"
    assert "cheapest" in choice["explanation"]
    fast = ordersmith.choose_carrier(quotes, {"policy": "fastest_under_cap", "cap": Decimal("150"), "currency": "TRY"})
    assert fast["quote"]["carrier"] == "ups"
    with pytest.raises(ordersmith.Error) as info:
        ordersmith.choose_carrier(quotes, {"policy": "cheapest_meeting_promise", "max_transit_days": 0})
    assert info.value.code == "FULFILMENT_NO_ELIGIBLE_QUOTE"
    with pytest.raises(ordersmith.EngineInputError):
        ordersmith.choose_carrier([{"carrier": "x"}], {"policy": "cheapest_meeting_promise", "max_transit_days": 3})


def test_ship_by_is_the_calendar_deadline_or_none() -> None:
    from datetime import datetime, timezone

    plain = _shop()
    order = plain.place_order(order_input("MUG", 1))
    assert plain.ship_by(order.id) is None
    engine = _shop(
        shipping_calendar={"tz": "Europe/Istanbul", "cutoff": "14:00:00", "handling_days": 1, "non_working": ["sunday"]}
    )
    # Placed Friday 12:30 in Istanbul, before the cut-off: one handling day after
    # Friday is Saturday (only Sunday is closed), at its 14:00 cut-off.
    order = engine.place_order(order_input("MUG", 1))
    ship_by = engine.ship_by(order.id)
    assert ship_by == datetime(2026, 11, 21, 11, 0, tzinfo=timezone.utc)
    assert ship_by is not None and ship_by.utcoffset() is not None
    with pytest.raises(ordersmith.OrderNotFoundError) as info:
        engine.ship_by("order-999999")
    assert info.value.code == "ORDER_NOT_FOUND"
    with pytest.raises(ordersmith.Error):
        engine.ship_by(" ")
