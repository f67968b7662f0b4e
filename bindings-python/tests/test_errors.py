"""Errors: every core code is known to Python, and each maps to the right classes."""

from __future__ import annotations

import pickle

import pytest

import ordersmith
from conftest import order_input


def test_every_core_code_maps_to_an_error_subclass() -> None:
    codes = ordersmith.error_codes()
    assert len(codes) > 50
    for info in codes:
        cls = ordersmith.error_class(info["code"])
        assert issubclass(cls, ordersmith.Error), info
        assert cls is not ordersmith.Error, f"{info['code']} has no module class"
        if info["kind"] == "invalid_input":
            assert issubclass(cls, ValueError), info
        if info["kind"] == "not_found":
            assert issubclass(cls, LookupError), info
    assert ordersmith.error_class(ordersmith.INTERNAL_PANIC) is ordersmith.InternalError
    assert ordersmith.error_class("NO_SUCH_CODE") is ordersmith.Error


def test_module_classes_follow_the_code_prefix() -> None:
    expected = {
        "money": ordersmith.MoneyError,
        "id": ordersmith.IdError,
        "catalog": ordersmith.CatalogError,
        "order": ordersmith.OrderError,
        "stock": ordersmith.StockError,
        "sourcing": ordersmith.SourcingError,
        "store": ordersmith.StoreError,
        "engine": ordersmith.EngineError,
        "dump": ordersmith.DumpError,
        "fulfilment": ordersmith.FulfilmentError,
        "notify": ordersmith.NotifyError,
        "kpi": ordersmith.KpiError,
        "payment": ordersmith.PaymentError,
        "returns": ordersmith.ReturnsError,
        "invoice": ordersmith.InvoiceError,
        "rules": ordersmith.RulesError,
        "channel": ordersmith.ChannelError,
        "webhook": ordersmith.WebhookError,
        "push": ordersmith.PushError,
        "mapping": ordersmith.MappingError,
        "intake": ordersmith.IntakeError,
    }
    for info in ordersmith.error_codes():
        assert issubclass(ordersmith.error_class(info["code"]), expected[info["module"]]), info


def test_not_found_is_a_lookup_error_with_details(engine: ordersmith.Engine) -> None:
    with pytest.raises(ordersmith.OrderNotFoundError) as info:
        engine.order("order-404")
    err = info.value
    assert isinstance(err, LookupError) and isinstance(err, ordersmith.OrderError)
    assert (err.code, err.kind) == ("ORDER_NOT_FOUND", "not_found")
    assert err.details == {"order_id": "order-404"}
    with pytest.raises(ordersmith.StockNotFoundError) as info2:
        engine.level("NOPE", "IST")
    assert info2.value.code == "STOCK_UNKNOWN_VARIANT"


def test_invalid_ids_are_id_input_errors(engine: ordersmith.Engine) -> None:
    with pytest.raises(ordersmith.IdInputError) as info:
        engine.order("")
    assert isinstance(info.value, ValueError)
    assert info.value.code == "ID_EMPTY"


def test_rejections_carry_the_fields_of_the_core_error(stocked: ordersmith.Engine) -> None:
    order = stocked.place_order(order_input(variant="SHIRT-M", quantity=9))
    with pytest.raises(ordersmith.StockError) as info:
        stocked.confirm(order.id)
    err = info.value
    assert err.code == "STOCK_INSUFFICIENT"
    assert err.kind == "rejected"
    assert not isinstance(err, ValueError)
    assert err.details["variant"] == "SHIRT-M"
    order = stocked.place_order(order_input())
    with pytest.raises(ordersmith.OrderError) as info3:
        stocked.complete(order.id)
    assert info3.value.code == "ORDER_INVALID_TRANSITION"
    assert info3.value.details == {"command": "complete", "status": "pending"}


def test_input_errors_of_the_core_are_value_errors(engine: ordersmith.Engine) -> None:
    with pytest.raises(ordersmith.OrderInputError) as info:
        engine.place_order(order_input(lines=[]))
    assert isinstance(info.value, ValueError)
    assert info.value.code == "ORDER_NO_LINES"
    with pytest.raises(ordersmith.MoneyInputError) as info2:
        engine.place_order(order_input(price="1.999"))
    assert info2.value.code == "MONEY_TOO_PRECISE"
    with pytest.raises(ValueError):
        engine.place_order(order_input(currency="XYZ"))


def test_conflicts(engine: ordersmith.Engine) -> None:
    order = engine.place_order(order_input(), idempotency_key="k")
    with pytest.raises(ordersmith.EngineConflictError) as info:
        engine.place_order(order_input(quantity=5), idempotency_key="k")
    assert info.value.code == "ENGINE_IDEMPOTENCY_MISMATCH"
    assert info.value.kind == "conflict"
    engine.place_order(order_input(external_ref="TY-1"))
    with pytest.raises(ordersmith.EngineConflictError) as info2:
        engine.place_order(order_input(external_ref="TY-1", quantity=7))
    assert info2.value.code == "ENGINE_DUPLICATE_EXTERNAL_REF"
    assert order.id


def test_errors_survive_pickling(engine: ordersmith.Engine) -> None:
    with pytest.raises(ordersmith.Error) as info:
        engine.order("order-404")
    back = pickle.loads(pickle.dumps(info.value))
    assert type(back) is ordersmith.OrderNotFoundError
    assert (back.code, back.details) == ("ORDER_NOT_FOUND", {"order_id": "order-404"})
