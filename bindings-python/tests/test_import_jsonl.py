"""Bulk import from JSON lines: `Engine.import_orders_jsonl(data)`, the text read by the core."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Dict

import pytest

import ordersmith


def line(ref: str, price: Any = "189.90", **extra: Any) -> str:
    order: Dict[str, Any] = {
        "channel": "web",
        "external_ref": ref,
        "placed_at": "2026-11-20T12:30:00+03:00",
        "currency": "TRY",
        "lines": [
            {
                "variant": "MUG",
                "quantity": 2,
                "unit_price": price,
                "tax_lines": [{"name": "KDV", "rate": "0.20"}],
            }
        ],
    }
    order.update(extra)
    return json.dumps(order)


def test_good_lines_are_placed_and_each_bad_line_is_refused_with_its_line(
    stocked: ordersmith.Engine,
) -> None:
    data = "\r\n".join(
        [
            line("W-1"),  # 1
            "",  # 2: blank
            line("W-2", price=1.5),  # 3: a float price
            "{not json}",  # 4
            line("W-3"),  # 5
            "   ",  # 6: blank
            line("W-4", price="1.001"),  # 7: too precise for TRY
            line("W-5", chanel="web"),  # 8: unknown field
            line("W-6"),  # 9
        ]
    ).encode()
    result = stocked.import_orders_jsonl(data, actor="channel:web")
    assert [o.external_ref for o in result.orders] == ["W-1", "W-3", "W-6"]
    assert str(result.orders[0].placed_at) == "2026-11-20 09:30:00+00:00"
    assert [n for n, _ in result.errors] == [3, 4, 7, 8]
    codes = [e.code for _, e in result.errors]
    assert codes == [
        "ORDER_JSONL_INVALID_FIELD",
        "ORDER_JSONL_SYNTAX",
        "MONEY_TOO_PRECISE",
        "ORDER_JSONL_INVALID_FIELD",
    ]
    _, bad_price = result.errors[0]
    assert isinstance(bad_price, ordersmith.OrderInputError)
    assert isinstance(bad_price, ValueError)
    assert bad_price.details["line"] == 3
    assert bad_price.details["path"] == "lines[0].unit_price"
    assert str(bad_price).startswith("line 3, lines[0].unit_price: expected a decimal")
    _, unknown = result.errors[3]
    assert "unknown field `chanel`" in str(unknown)
    _, syntax = result.errors[1]
    assert syntax.details["line"] == 4 and syntax.details["column"] == 2
    # The placed orders are stored and reserve like any other order.
    confirmed = stocked.confirm(result.orders[0].id)
    assert confirmed.lines[0].allocated == 2


def test_str_and_bytes_give_the_same_import(engine: ordersmith.Engine) -> None:
    text = "\n".join([line("A-1"), line("A-2", price=3), "[1]"]) + "\n"
    from_str = engine.import_orders_jsonl(text)
    again = ordersmith.Engine.in_memory().import_orders_jsonl(bytearray(text.encode()))
    assert [o.external_ref for o in from_str.orders] == ["A-1", "A-2"]
    assert [o.external_ref for o in again.orders] == ["A-1", "A-2"]
    assert [(n, e.code) for n, e in from_str.errors] == [(3, "ORDER_JSONL_INVALID_FIELD")]
    assert [(n, e.code) for n, e in again.errors] == [(3, "ORDER_JSONL_INVALID_FIELD")]


def test_not_utf8_and_a_cut_off_last_line_are_typed_errors(engine: ordersmith.Engine) -> None:
    full = line("C-3")
    data = (line("C-1") + "\n").encode() + b'{"channel": "w\xffb"}\n' + full[: len(full) // 2].encode()
    result = engine.import_orders_jsonl(data)
    assert [o.external_ref for o in result.orders] == ["C-1"]
    assert [(n, e.code) for n, e in result.errors] == [
        (2, "ORDER_JSONL_INVALID_ENCODING"),
        (3, "ORDER_JSONL_TRUNCATED"),
    ]
    assert result.errors[0][1].details == {"line": 2, "column": 15}


def test_the_same_channel_order_twice_is_one_order(engine: ordersmith.Engine) -> None:
    data = "\n".join([line("D-1"), line("D-1"), line("D-1", price="1.00")])
    result = engine.import_orders_jsonl(data)
    assert len({o.id for o in result.orders}) == 1 and len(result.orders) == 2
    assert [(n, e.code) for n, e in result.errors] == [(3, "ENGINE_DUPLICATE_EXTERNAL_REF")]


def test_empty_input_places_nothing(engine: ordersmith.Engine) -> None:
    result = engine.import_orders_jsonl(b"")
    assert result.orders == [] and result.errors == []
    assert repr(engine.import_orders_jsonl("\n \r\n")) == "ImportResult(orders=0, errors=0)"


def test_data_of_another_type_is_refused(engine: ordersmith.Engine) -> None:
    with pytest.raises(ordersmith.EngineInputError) as caught:
        engine.import_orders_jsonl([line("E-1")])  # type: ignore[arg-type]
    assert caught.value.details["field"] == "data"
    assert "expected bytes or str" in str(caught.value)


def test_a_thread_keeps_running_during_a_jsonl_import(engine: ordersmith.Engine) -> None:
    data = "\n".join(line(f"G-{i}") for i in range(20_000)).encode()
    ticks = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0)

    thread = threading.Thread(target=spin)
    thread.start()
    try:
        before = ticks
        result = engine.import_orders_jsonl(data)
        during = ticks - before
    finally:
        stop.set()
        thread.join()
    assert len(result.orders) == 20_000 and not result.errors
    # The reading and placing run with the GIL released.
    assert during > 0


def test_the_id_report_places_what_the_order_import_places() -> None:
    # Two engines, the same text: one returns orders, the other (line, id) pairs.
    data = "\n".join(
        [
            line("W-1"),  # 1
            "{not json}",  # 2
            line("W-2"),  # 3
            line("W-1"),  # 4: line 1 again, the same order
            line("W-2", price="190.00"),  # 5: the same reference, other content
            "",  # 6: blank
            line("W-3", price="1.001"),  # 7: too precise
            line("W-4"),  # 8
        ]
    )
    with_orders, with_ids = ordersmith.Engine.in_memory(), ordersmith.Engine.in_memory()
    orders = with_orders.import_orders_jsonl(data)
    ids = with_ids.import_orders_jsonl_ids(data, actor="user:migration")
    assert repr(ids) == "ImportIds(placed=4, errors=3)"
    assert [line for line, _ in ids.placed] == [1, 3, 4, 8]
    assert [i for _, i in ids.placed] == [o.id for o in orders.orders]
    assert ids.placed[0][1] == ids.placed[2][1]
    assert [(n, e.code) for n, e in ids.errors] == [(n, e.code) for n, e in orders.errors]
    assert [n for n, _ in ids.errors] == [2, 5, 7]
    assert ids.errors[1][1].code == "ENGINE_DUPLICATE_EXTERNAL_REF"
    for _, order_id in ids.placed:
        assert with_ids.order(order_id).id == order_id
    assert sorted(o.external_ref or "" for o in with_ids.list_orders()) == ["W-1", "W-2", "W-4"]
    # bytes, bytearray and str alike; anything else is refused before any work.
    assert ordersmith.Engine.in_memory().import_orders_jsonl_ids(data.encode()).placed == ids.placed
    assert ordersmith.Engine.in_memory().import_orders_jsonl_ids(bytearray(data.encode())).placed == ids.placed
    with pytest.raises(ordersmith.EngineInputError) as caught:
        with_ids.import_orders_jsonl_ids(123)  # type: ignore[arg-type]
    assert caught.value.details["field"] == "data"
    assert len(with_ids.list_orders()) == 3
