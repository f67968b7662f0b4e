"""What a new user meets first: no personal data in errors, honest listings, typed
argument errors, strict input, and an engine that can be closed (issue 17)."""

from __future__ import annotations

import pickle
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any, List

import pytest

import ordersmith
from conftest import order_input

MARKER = "Ayse Yilmaz <ayse.q7@example.com>"
ROOT = Path(__file__).resolve().parents[2]


def _all_text(err: ordersmith.Error) -> str:
    return " ".join([str(err), repr(err), repr(err.details), str(err.args)])


# 1. Personal data never appears in an error.


@pytest.mark.parametrize(
    "field, value",
    [
        ("customer", MARKER),
        ("customer", [MARKER]),
        ("customer", {"name": MARKER, "emial": MARKER}),
        ("customer", {MARKER: 1}),
        ("customer", {"name": {"first": MARKER}}),
        ("customer", {"email": [MARKER]}),
        ("customer", {"phone": {"x": MARKER}}),
        ("shipping_address", MARKER),
        ("shipping_address", {"country": "TR", "lines": MARKER}),
        ("shipping_address", {"country": "TR", "lines": [MARKER, 5]}),
        ("shipping_address", {"country": "TR", "city": [MARKER]}),
        ("billing_address", {"country": "TR", "postal_code": {MARKER: MARKER}}),
        ("billing_address", {"country": "TR", "phone": [MARKER]}),
        ("customer", {MARKER: 1.5}),
        ("customer", {"name": 1.5, MARKER: object()}),
    ],
)
def test_errors_never_quote_personal_data(engine: ordersmith.Engine, field: str, value: Any) -> None:
    with pytest.raises(ordersmith.EngineInputError) as info:
        engine.place_order(order_input(**{field: value}))
    err = info.value
    assert err.code == "ENGINE_INVALID_INPUT"
    assert err.details["field"].startswith(f"order.{field}")
    for secret in ("ayse", "Ayse", "example.com", "Yilmaz"):
        assert secret not in _all_text(err), _all_text(err)
    result = engine.import_orders([order_input(**{field: value})])
    assert "ayse" not in _all_text(result.errors[0][1]).lower()


def test_the_message_says_what_was_expected(engine: ordersmith.Engine) -> None:
    with pytest.raises(ordersmith.EngineInputError) as info:
        engine.place_order(order_input(customer=MARKER))
    assert info.value.details["field"] == "order.customer"
    assert "expected a customer" in str(info.value)


# 2. Listings are honest: every order, pages with a cursor, no silent cap.


@pytest.fixture
def busy(engine: ordersmith.Engine) -> ordersmith.Engine:
    start = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
    engine.import_orders(
        # Pairs share a placed time, so pages split ties in the middle.
        [order_input(placed_at=start + timedelta(minutes=i // 2)) for i in range(250)]
    )
    return engine


def test_list_orders_returns_every_order(busy: ordersmith.Engine) -> None:
    orders = busy.list_orders()
    assert len(orders) == 250
    assert len({o.id for o in orders}) == 250
    assert [o.id for o in busy.list_orders(limit=3)] == [o.id for o in orders[:3]]
    assert busy.list_orders(limit=0) == []
    assert len(busy.list_orders(limit=20_000)) == 250  # walks pages; nothing is cut


def test_pages_follow_the_cursor_to_every_order(busy: ordersmith.Engine) -> None:
    every = [o.id for o in busy.list_orders()]
    seen: List[str] = []
    page = busy.list_orders_page(limit=7)
    pages = 1
    while True:
        assert len(page) <= 7
        seen.extend(o.id for o in page.orders)
        if page.next_cursor is None:
            break
        page = busy.list_orders_page(limit=7, after=page.next_cursor)
        pages += 1
    assert seen == every
    assert pages == 36  # 250 / 7, rounded up: the last page has no cursor
    assert len(busy.list_orders_page()) == 100  # the documented default page size
    assert [o.id for o in busy.iter_orders(page_size=33)] == every
    assert "next_cursor=" in repr(busy.list_orders_page(limit=1))


def test_a_limit_over_the_cap_is_an_error_not_a_cut(busy: ordersmith.Engine) -> None:
    for call in (
        lambda: busy.list_orders_page(limit=10_001),
        lambda: busy.list_orders_page(limit=0),
        lambda: busy.iter_orders(page_size=10_001),
        lambda: busy.pending_effects(limit=10_001),
        lambda: busy.pending_effects(limit=0),
    ):
        with pytest.raises(ordersmith.EngineInputError) as info:
            call()
        assert info.value.code == "ENGINE_INVALID_INPUT"
        assert info.value.details["field"] == "limit"
    assert len(busy.list_orders_page(limit=10_000)) == 250
    with pytest.raises(ordersmith.EngineInputError, match="after"):
        busy.list_orders_page(after="not a cursor")


# 3. Every argument conversion raises ordersmith's own error, naming the argument.


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda e: e.receive("MUG", "IST", -3), "quantity"),
        (lambda e: e.receive("MUG", "IST", 2**40), "quantity"),
        (lambda e: e.receive("MUG", "IST", True), "quantity"),
        (lambda e: e.receive("MUG", "IST", "3"), "quantity"),
        (lambda e: e.receive("MUG", "IST", 3.0), "quantity"),
        (lambda e: e.receive("MUG", 7, 3), "location"),
        (lambda e: e.list_orders(limit=-1), "limit"),
        (lambda e: e.order(123), "order_id"),
        (lambda e: e.pending_effects(limit="10"), "limit"),
        (lambda e: e.set_channel_rule("web", share_percent=300), "share_percent"),
        (lambda e: e.tag("order-000001", add="vip"), "add"),
        (lambda e: e.open_count("C1", "IST", [1]), "skus[0]"),
        (lambda e: ordersmith.Engine.in_memory(allow_split="yes"), "allow_split"),  # type: ignore[arg-type]
        (lambda e: ordersmith.Engine.open(42), "path"),  # type: ignore[arg-type]
        (lambda e: e.record_shipment("order-000001", {"L1": -1}), 'lines["L1"]'),
        (lambda e: e.record_shipment("order-000001", [("L1", 1)]), "lines"),
    ],
)
def test_argument_errors_are_typed_and_named(stocked: ordersmith.Engine, call: Any, field: str) -> None:
    with pytest.raises(ordersmith.EngineInputError) as info:
        call(stocked)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.code == "ENGINE_INVALID_INPUT"
    assert err.details["field"] == field
    assert str(err).startswith(f"{field} is invalid")


def test_any_mapping_is_accepted_where_the_stub_says_mapping(stocked: ordersmith.Engine) -> None:
    order = stocked.confirm(stocked.place_order(order_input(quantity=2)).id)
    line = order.lines[0].id
    shipped = stocked.record_shipment(order.id, MappingProxyType({line: 1}))
    assert shipped.lines[0].shipped == 1
    stocked.place_order(MappingProxyType(order_input()))
    stocked.define_bundle("GIFT", MappingProxyType({"MUG": 1}))


def test_numpy_integers_are_ints() -> None:
    np = pytest.importorskip("numpy")
    engine = ordersmith.Engine.in_memory()
    engine.add_location("IST", "Istanbul DC", np.int64(1), "TR-34")
    engine.register_variant("MUG")
    engine.receive("MUG", "IST", np.int64(5))
    engine.receive("MUG", "IST", np.uint8(2))
    assert engine.level("MUG", "IST")["on_hand"] == 7
    order = engine.place_order(order_input(quantity=np.int32(2)))
    assert order.lines[0].quantity == 2
    assert len(engine.list_orders(limit=np.int64(1))) == 1
    with pytest.raises(ordersmith.EngineInputError, match="quantity"):
        engine.receive("MUG", "IST", np.float64(1.0))


# 5. Loose input is refused with a clear message, the same rule as in Rust.


@pytest.mark.parametrize("price", ["1e2", " 1.00 ", "1.00 ", "+1", "1_000", "NaN"])
def test_loose_amounts_are_refused(engine: ordersmith.Engine, price: str) -> None:
    with pytest.raises(ordersmith.EngineInputError, match="not a decimal amount") as info:
        engine.place_order(order_input(price=price))
    assert info.value.details["field"] == "order.lines[0].unit_price"


@pytest.mark.parametrize("currency", ["try", "Try", " TRY", "TL"])
def test_currency_codes_must_be_iso_upper_case(engine: ordersmith.Engine, currency: str) -> None:
    with pytest.raises(ordersmith.EngineInputError, match="upper case"):
        engine.place_order(order_input(currency=currency))


def test_a_naive_iso_string_gets_the_naive_datetime_message(engine: ordersmith.Engine) -> None:
    messages = []
    for naive in (datetime(2026, 11, 20, 9, 30), "2026-11-20T09:30:00"):
        with pytest.raises(ordersmith.EngineInputError) as info:
            engine.place_order(order_input(placed_at=naive))
        assert info.value.details["field"] == "order.placed_at"
        messages.append(info.value.details["reason"])
    assert messages[0] == messages[1]
    assert "premature end of input" not in messages[0]
    assert "naive" in messages[0]


# 6. Lifecycle: close, context manager, pickling, equality, repr.


def test_close_and_with_release_the_engine(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    with ordersmith.Engine.open(path) as engine:
        engine.place_order(order_input())
        assert not engine.closed
    assert engine.closed
    with pytest.raises(ordersmith.EngineInputError) as info:
        engine.list_orders()
    assert info.value.code == "ENGINE_CLOSED"
    engine.close()  # idempotent
    assert "closed=True" in repr(engine)
    with ordersmith.Engine.open(path) as again:  # the file was released and reopens
        assert len(again.list_orders()) == 1


def test_orders_pickle_compare_and_hash(engine: ordersmith.Engine) -> None:
    order = engine.place_order(order_input(customer={"name": "Ada", "email": "ada@example.org"}))
    copy = pickle.loads(pickle.dumps(order))
    assert copy == order
    assert copy.to_dict() == order.to_dict()
    assert hash(copy) == hash(order)
    assert len({order, copy, engine.order(order.id)}) == 1
    confirmed = engine.confirm(order.id)
    assert confirmed != order


def test_engine_repr_uses_python_spellings() -> None:
    engine = ordersmith.Engine.in_memory(on_shortage="hold", sourcing="nearest_region")
    assert repr(engine) == (
        "Engine(reserve_on_confirm=True, sourcing='nearest_region', allow_split=True, on_shortage='hold')"
    )


# 4. The example never destroys a user's file.


def _day(*args: str) -> "subprocess.CompletedProcess[str]":
    script = ROOT / "examples" / "python" / "day.py"
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=120)


def test_the_example_refuses_a_file_that_is_not_its_database(tmp_path: Path) -> None:
    precious = tmp_path / "thesis.txt"
    precious.write_text("years of work")
    for suffix in ("-wal", "-shm"):
        Path(str(precious) + suffix).write_text("also mine")
    run = _day(str(precious))
    assert run.returncode != 0
    assert "not a SQLite database" in run.stderr
    assert precious.read_text() == "years of work"
    for suffix in ("-wal", "-shm"):
        assert Path(str(precious) + suffix).read_text() == "also mine"


def test_the_example_keeps_the_database_it_was_given(tmp_path: Path) -> None:
    path = tmp_path / "day.db"
    assert _day(str(path)).returncode == 0
    size = path.stat().st_size
    again = _day(str(path))  # a second run refuses instead of starting over
    assert again.returncode != 0
    assert "already holds orders" in again.stderr
    assert path.stat().st_size == size
    with ordersmith.Engine.open(path) as engine:
        assert len(engine.list_orders()) == 7
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE notes (t TEXT)").connection.commit()
    assert "not an ordersmith one" in _day(str(other)).stderr


def test_a_transit_range_that_ends_before_it_begins_is_refused_at_open() -> None:
    with pytest.raises(ordersmith.EngineInputError) as info:
        ordersmith.Engine.in_memory(transit_days=(5, 2))
    assert info.value.code == "ENGINE_INVALID_INPUT"
    assert info.value.details["field"] == "transit_days"
    ordersmith.Engine.in_memory(transit_days=(2, 2))
