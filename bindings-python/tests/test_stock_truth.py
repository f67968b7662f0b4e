"""Stock truth from Python: reservation time-to-live, the expiry sweep, listing
reservations, and raw commands on an order's reservation refused."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

import pytest

import ordersmith
from conftest import order_input


def _shop(engine: ordersmith.Engine) -> ordersmith.Engine:
    engine.add_location("IST", "Istanbul DC", 1, "TR-34")
    engine.add_location("ANK", "Ankara Store", 2, "TR-06")
    engine.register_variant("MUG")
    engine.receive("MUG", "IST", 3)
    return engine


def _held_for(engine: ordersmith.Engine, order_id: str) -> List[Dict[str, Any]]:
    return engine.reservations(order_id=order_id)


def test_an_unpaid_order_loses_its_reservation_and_a_late_payment_takes_it_back() -> None:
    engine = _shop(ordersmith.Engine.in_memory(reservation_ttl=timedelta(milliseconds=300)))
    order = engine.place_order(order_input("MUG", 2))
    before = datetime.now(timezone.utc)
    engine.confirm(order.id)
    (held,) = _held_for(engine, order.id)
    assert held["order_id"] == order.id
    assert held["sku"] == "MUG" and held["location"] == "IST" and held["remaining"] == 2
    expires_at = held["expires_at"]
    assert isinstance(expires_at, datetime) and expires_at.tzinfo is not None
    assert before < expires_at <= datetime.now(timezone.utc) + timedelta(milliseconds=300)
    assert engine.reservations(expiring_before=expires_at) == [held]

    time.sleep(0.4)
    sweep = engine.sweep_expired_reservations()
    assert sweep["released"] == [held["id"]]
    (after,) = sweep["orders"]
    assert isinstance(after, ordersmith.Order)
    assert after.status == "on_hold"
    assert after.hold is not None and after.hold["reason"] == "reservation_expired"
    assert _held_for(engine, order.id) == []
    assert engine.level("MUG", "IST")["reserved"] == 0
    topics = [e["topic"] for e in engine.pending_effects(limit=1000)]
    assert "order.allocation_expired" in topics and "order.held" in topics
    assert engine.sweep_expired_reservations()["released"] == []

    # Paying takes the stock back (it is still there) and releases the hold; a paid
    # order's reservation has no expiry.
    paid = engine.mark_paid(order.id, idempotency_key="pay-1")
    assert paid.status == "confirmed" and paid.hold is None
    (again,) = _held_for(engine, order.id)
    assert again["expires_at"] is None and again["remaining"] == 2
    # The retry returns the first result.
    assert engine.mark_paid(order.id, idempotency_key="pay-1") == paid


def test_time_to_live_per_channel_and_per_order() -> None:
    engine = _shop(
        ordersmith.Engine.in_memory(
            reservation_ttl=timedelta(minutes=30),
            reservation_ttl_by_channel={"bank": timedelta(hours=48), "card": None},
        )
    )
    engine.receive("MUG", "IST", 10)

    def expiry(channel: str, **extra: Any) -> Any:
        order = engine.place_order(order_input("MUG", 1, channel=channel, **extra))
        engine.confirm(order.id)
        return _held_for(engine, order.id)[0]["expires_at"]

    now = datetime.now(timezone.utc)
    web = expiry("web")
    assert timedelta(minutes=29) < web - now < timedelta(minutes=31)
    bank = expiry("bank")
    assert timedelta(hours=47) < bank - now < timedelta(hours=49)
    assert expiry("card") is None
    own = expiry("card", reservation_ttl_minutes=5)
    assert timedelta(minutes=4) < own - now < timedelta(minutes=6)
    order = engine.place_order(order_input("MUG", 1, reservation_ttl_minutes=90))
    assert order.reservation_ttl_minutes == 90
    assert "reservation_ttl=datetime.timedelta(seconds=1800)" in repr(engine)


def test_the_cancel_policy_cancels_an_order_whose_reservation_lapsed() -> None:
    engine = _shop(
        ordersmith.Engine.in_memory(
            reservation_ttl=timedelta(milliseconds=200), on_reservation_expiry="cancel"
        )
    )
    order = engine.place_order(order_input("MUG", 1))
    engine.confirm(order.id)
    time.sleep(0.3)
    engine.sweep_expired_reservations()
    cancelled = engine.order(order.id)
    assert cancelled.status == "cancelled"
    assert cancelled.cancel_reason == "reservation_expired"
    assert "on_reservation_expiry='cancel'" in repr(engine)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"reservation_ttl": timedelta(0)}, "reservation_ttl"),
        ({"reservation_ttl": timedelta(days=31)}, "reservation_ttl"),
        ({"reservation_ttl": 900}, "reservation_ttl"),
        ({"reservation_ttl_by_channel": {"web": 15}}, "reservation_ttl_by_channel"),
        ({"reservation_ttl_by_channel": [("web", None)]}, "reservation_ttl_by_channel"),
        ({"on_reservation_expiry": "later"}, "on_reservation_expiry"),
        ({"payment_stops_reservation_clock": "yes"}, "payment_stops_reservation_clock"),
    ],
)
def test_bad_expiry_configuration_is_a_typed_error(kwargs: Dict[str, Any], field: str) -> None:
    with pytest.raises(ordersmith.EngineInputError) as info:
        ordersmith.Engine.in_memory(**kwargs)
    assert info.value.code == "ENGINE_INVALID_INPUT"
    assert info.value.details["field"] == field


def test_a_bad_order_time_to_live_is_refused_and_nothing_is_stored(
    engine: ordersmith.Engine,
) -> None:
    with pytest.raises(ordersmith.OrderInputError) as info:
        engine.place_order(order_input("MUG", 1, reservation_ttl_minutes=0))
    assert info.value.code == "ORDER_INVALID_RESERVATION_TTL"
    assert engine.list_orders() == []


def test_raw_commands_on_an_order_reservation_are_refused_naming_the_order() -> None:
    engine = _shop(ordersmith.Engine.in_memory())
    order = engine.place_order(order_input("MUG", 2))
    engine.confirm(order.id)
    (held,) = _held_for(engine, order.id)
    for attempt in (
        lambda: engine.release(held["id"]),
        lambda: engine.release(held["id"], quantity=1),
        lambda: engine.commit(held["id"]),
    ):
        with pytest.raises(ordersmith.EngineError) as info:
            attempt()
        assert info.value.code == "ENGINE_RESERVATION_OWNED_BY_ORDER"
        assert info.value.details["order_id"] == order.id
        assert order.id in str(info.value)
    assert _held_for(engine, order.id) == [held]
    # A reservation made by hand is the host's to release.
    engine.reserve("hand-1", "MUG", "IST", 1)
    engine.release("hand-1")


def test_reservations_filter_by_sku_location_and_refuse_a_naive_time() -> None:
    engine = _shop(ordersmith.Engine.in_memory())
    engine.receive("MUG", "ANK", 4)
    engine.reserve("hand-1", "MUG", "ANK", 1)
    order = engine.place_order(order_input("MUG", 2))
    engine.confirm(order.id)
    assert [r["id"] for r in engine.reservations(location="ANK")] == ["hand-1"]
    assert len(engine.reservations(sku="MUG")) == 2
    assert engine.reservations(sku="TEA") == []
    assert engine.reservations(order_id=order.id)[0]["order_id"] == order.id
    with pytest.raises(ordersmith.EngineInputError) as info:
        engine.reservations(expiring_before=datetime(2026, 11, 30, 12, 0))
    assert info.value.details["field"] == "expiring_before"
    with pytest.raises(ordersmith.IdInputError):
        engine.reservations(sku="MUG\u202e")


def test_a_hold_made_by_hand_gets_more_time_or_none_and_an_orders_is_refused() -> None:
    engine = _shop(ordersmith.Engine.in_memory())
    soon = datetime.now(timezone.utc) + timedelta(minutes=10)
    later = soon + timedelta(hours=1)
    engine.reserve("hand-1", "MUG", "IST", 1, expires_at=soon)
    engine.set_reservation_expiry("hand-1", later)
    (held,) = engine.reservations(sku="MUG")
    assert held["expires_at"] == later
    assert engine.reservations(expiring_before=later - timedelta(seconds=1)) == []
    # No expiry: held until committed or released.
    engine.set_reservation_expiry("hand-1")
    (held,) = engine.reservations(sku="MUG")
    assert held["expires_at"] is None
    before = engine.reservations()
    # Bad input, each typed; nothing changes.
    with pytest.raises(ordersmith.StockError) as info:
        engine.set_reservation_expiry("hand-9", later)
    assert info.value.code == "STOCK_UNKNOWN_RESERVATION"
    with pytest.raises(ordersmith.StockError) as info:
        engine.set_reservation_expiry("hand-1", datetime.now(timezone.utc) - timedelta(minutes=1))
    assert info.value.code == "STOCK_INVALID_EXPIRY"
    with pytest.raises(ordersmith.EngineInputError) as naive:
        engine.set_reservation_expiry("hand-1", datetime(2030, 1, 1, 12, 0))
    assert naive.value.details["field"] == "expires_at"
    order = engine.place_order(order_input("MUG", 2))
    engine.confirm(order.id)
    (owned,) = _held_for(engine, order.id)
    with pytest.raises(ordersmith.EngineError) as refused:
        engine.set_reservation_expiry(owned["id"], later)
    assert refused.value.code == "ENGINE_RESERVATION_OWNED_BY_ORDER"
    assert [r for r in engine.reservations() if r["id"] == "hand-1"] == before
    engine.release("hand-1")
