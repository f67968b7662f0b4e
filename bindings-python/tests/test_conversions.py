"""Values across the boundary: decimals exact, floats refused, datetimes aware and UTC."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import List, Union

import pytest

import ordersmith
from conftest import order_input


def test_decimal_amounts_round_trip_exactly(engine: ordersmith.Engine) -> None:
    order = engine.place_order(order_input(price=Decimal("0.10"), quantity=3))
    line = order.lines[0]
    assert isinstance(line.unit_price, Decimal)
    assert line.unit_price == Decimal("0.10")
    assert str(line.unit_price) == "0.10"
    assert order.totals.subtotal == Decimal("0.30")  # not 0.30000000000000004
    assert order.totals.tax_total == Decimal("0.06")
    assert order.to_dict()["lines"][0]["unit_price"] == {"amount": Decimal("0.10"), "currency": "TRY"}
    assert '"amount":"0.10"' in order.to_json()


@pytest.mark.parametrize("price", ["189.90", 189, Decimal("1.899E+2")])
def test_amounts_may_be_str_int_or_decimal(engine: ordersmith.Engine, price: object) -> None:
    order = engine.place_order(order_input(price=price))
    assert order.lines[0].unit_price in (Decimal("189.90"), Decimal("189"))


def test_a_float_anywhere_is_refused_naming_the_field(engine: ordersmith.Engine) -> None:
    with pytest.raises(ordersmith.EngineInputError) as info:
        engine.place_order(order_input(price=189.9))
    err = info.value
    assert isinstance(err, ValueError)
    assert err.code == "ENGINE_INVALID_INPUT"
    assert err.details["field"] == "order.lines[0].unit_price"
    assert "float" in err.details["reason"]
    data = order_input()
    data["lines"][0]["tax_lines"][0]["rate"] = 0.2
    with pytest.raises(ordersmith.EngineInputError, match=r"tax_lines\[0\]\.rate"):
        engine.place_order(data)
    order = engine.place_order(order_input())
    with pytest.raises(ordersmith.EngineInputError, match="amount"):
        engine.record_payment(order.id, 10.5)  # type: ignore[arg-type]
    with pytest.raises(ordersmith.EngineInputError, match=r"weights\[1\]"):
        ordersmith.allocate(Decimal("10"), [1, 0.5], "TRY")  # type: ignore[list-item]


def test_text_that_is_no_decimal_is_a_money_error_as_in_every_binding(engine: ordersmith.Engine) -> None:
    order = engine.place_order(order_input())
    bad_amounts: List[Union[str, Decimal]] = ["1e2", "1_000", " 10", Decimal("NaN"), Decimal("Infinity")]
    for bad in bad_amounts:
        with pytest.raises(ordersmith.MoneyInputError) as info:
            engine.record_payment(order.id, bad)
        assert info.value.code == "MONEY_INVALID_AMOUNT", bad
    with pytest.raises(ordersmith.MoneyInputError):
        ordersmith.allocate("abc", [1], "TRY")
    assert engine.order(order.id).amount_paid == Decimal("0.00")


def test_a_naive_datetime_is_refused(engine: ordersmith.Engine) -> None:
    with pytest.raises(ordersmith.EngineInputError) as info:
        engine.place_order(order_input(placed_at=datetime(2026, 11, 20, 9, 30)))
    assert info.value.details["field"] == "order.placed_at"
    assert "naive" in str(info.value)
    with pytest.raises(ordersmith.EngineInputError):
        engine.place_order(order_input(placed_at=date(2026, 11, 20)))
    with pytest.raises(ordersmith.EngineInputError):
        engine.list_orders(placed_from=datetime(2026, 1, 1))


def test_an_aware_datetime_is_converted_to_utc(engine: ordersmith.Engine) -> None:
    istanbul = timezone(timedelta(hours=3))
    order = engine.place_order(order_input(placed_at=datetime(2026, 11, 20, 12, 30, 15, 250, tzinfo=istanbul)))
    assert order.placed_at == datetime(2026, 11, 20, 9, 30, 15, 250, tzinfo=timezone.utc)
    assert order.placed_at.tzinfo is timezone.utc
    # RFC 3339 strings with an offset are accepted too (CSV and JSON hosts).
    order = engine.place_order(order_input(placed_at="2026-11-20T12:30:00+03:00"))
    assert order.placed_at == datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
    found = engine.list_orders(placed_from=datetime(2026, 11, 20, 12, 30, tzinfo=istanbul))
    assert len(found) == 2


def test_unknown_fields_and_wrong_types_are_input_errors(engine: ordersmith.Engine) -> None:
    data = order_input()
    data["lines"][0]["colour"] = "red"
    with pytest.raises(ordersmith.EngineInputError, match="unknown field `colour`") as info:
        engine.place_order(data)
    assert info.value.details["field"] == "order.lines[0].colour"
    with pytest.raises(ordersmith.EngineInputError, match="unsupported type object"):
        engine.place_order(order_input(note=object()))
    with pytest.raises(ordersmith.EngineInputError, match="quantity"):
        engine.place_order(order_input(quantity="two"))  # type: ignore[arg-type]
    with pytest.raises(ordersmith.EngineInputError, match="actor"):
        engine.place_order(order_input(), actor="robot")


def test_statuses_are_strings_and_times_are_aware(engine: ordersmith.Engine) -> None:
    order = engine.place_order(order_input(), actor="user:ayse", idempotency_key="k-1")
    assert (order.status, order.payment_status, order.fulfilment_status) == ("pending", "unpaid", "unfulfilled")
    order = engine.hold(order.id, "address_check", "check the street")
    assert order.status == "on_hold"
    assert order.hold == {"reason": "address_check", "note": "check the street", "previous": "pending"}
    order = engine.release_hold(order.id)
    order = engine.record_payment(order.id, "100")
    assert order.payment_status == "partially_paid"
    assert order.amount_paid == Decimal("100.00")
    assert order.balance_due == Decimal("355.76")
    order = engine.cancel(order.id, "fraud")
    assert (order.status, order.cancel_reason) == ("cancelled", "fraud")
    history = engine.history(order.id)
    assert history[0]["actor"] == "user:ayse"
    assert history[0]["idempotency_key"] == "k-1"
    assert history[0]["recorded_at"].tzinfo is timezone.utc
    assert [h["event"]["type"] for h in history][:2] == ["placed", "held"]


def test_orders_compare_by_value_and_repr_reads_well(engine: ordersmith.Engine) -> None:
    order = engine.place_order(order_input(), idempotency_key="same")
    again = engine.place_order(order_input(), idempotency_key="same")
    assert order == again
    assert order == engine.order(order.id)
    assert order != engine.confirm(order.id)
    assert repr(order).startswith('Order(id="order-')
    assert "status=\"pending\"" in repr(order)
    assert "unit_price=\"189.90\"" in repr(order.lines[0])


def test_allocate_sums_to_the_total() -> None:
    parts = ordersmith.allocate(Decimal("100.00"), [1, 1, 1], "TRY")
    assert parts == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert sum(parts) == Decimal("100.00")
    with pytest.raises(ordersmith.MoneyInputError) as info:
        ordersmith.allocate("1.001", [1], "TRY")
    assert info.value.code == "MONEY_TOO_PRECISE"
