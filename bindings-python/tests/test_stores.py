"""Persistence: the SQLite file survives a reopen; PostgreSQL when a server is given."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, List

import pytest

import ordersmith
from conftest import order_input


def stock(engine: ordersmith.Engine) -> None:
    engine.add_location("IST", "Istanbul DC", 1, "TR-34")
    engine.register_variant("MUG")
    engine.receive("MUG", "IST", 10)


def test_sqlite_file_keeps_orders_and_stock_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    first = ordersmith.Engine.open(path)
    stock(first)
    order = first.place_order(order_input(quantity=3, external_ref="W-1"))
    first.confirm(order.id)
    del first

    again = ordersmith.Engine.open(str(path))
    reloaded = again.order(order.id)
    assert reloaded == again.order(order.id)
    assert reloaded.status == "confirmed"
    level = again.level("MUG", "IST")
    assert (level["on_hand"], level["reserved"]) == (10, 3)
    # A new order on the reopened file gets a new id, never an old one.
    other = again.place_order(order_input(external_ref="W-2"))
    assert other.id != order.id
    # The same channel order delivered again is still one order.
    assert again.place_order(order_input(quantity=3, external_ref="W-1")).id == order.id


def test_opening_something_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-db"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ordersmith.StoreError) as info:
        ordersmith.Engine.open(bogus)
    assert info.value.code == "STORE_UNAVAILABLE"
    with pytest.raises(ordersmith.EngineInputError):
        ordersmith.Engine.open(tmp_path / "x.db", synchronous="sometimes")  # type: ignore[arg-type]


@pytest.mark.skipif(
    not os.environ.get("ORDERSMITH_PG_URL"),
    reason="needs ORDERSMITH_PG_URL (scripts/test starts a server and sets it)",
)
def test_postgres_engines_share_one_database() -> None:
    url = os.environ["ORDERSMITH_PG_URL"]
    schema = f"py_{uuid.uuid4().hex[:12]}"
    a = ordersmith.Engine.connect(url, schema=schema, pool_size=2)
    b = ordersmith.Engine.connect(url, schema=schema, pool_size=2)
    stock(a)
    order = b.place_order(order_input(quantity=4))
    b.confirm(order.id)
    assert a.order(order.id).status == "confirmed"
    assert a.level("MUG", "IST")["reserved"] == 4
    with pytest.raises(ordersmith.StoreError):
        ordersmith.Engine.connect("host=127.0.0.1 port=1 user=nobody connect_timeout=1")


@pytest.mark.skipif(
    not os.environ.get("ORDERSMITH_PG_URL"),
    reason="needs ORDERSMITH_PG_URL (scripts/test starts a server and sets it)",
)
def test_postgres_reservations_and_confirmations_decided_unread_never_oversell() -> None:
    """On PostgreSQL a reservation by hand and a new order placed and confirmed skip the
    stock read while the engine's reads are quiet; the commit checks them. An engine
    that last saw ten mugs, after another sold seven, refuses what is not there and
    takes what is, and a confirmation short as it last saw stock is decided on a read."""
    url = os.environ["ORDERSMITH_PG_URL"]
    schema = f"py_{uuid.uuid4().hex[:12]}"
    a = ordersmith.Engine.connect(url, schema=schema, pool_size=2)
    stale = ordersmith.Engine.connect(url, schema=schema, pool_size=2)
    stock(a)  # 10 mugs
    stale.reserve("s-1", "MUG", "IST", 1)
    stale.reserve("s-2", "MUG", "IST", 1)  # its read found nothing new
    a.reserve("a-1", "MUG", "IST", 7)
    with pytest.raises(ordersmith.StockError) as info:
        stale.reserve("s-3", "MUG", "IST", 2)
    assert info.value.code == "STOCK_INSUFFICIENT"
    assert info.value.details["available"] == 1
    stale.reserve("s-3", "MUG", "IST", 1)
    assert a.level("MUG", "IST")["reserved"] == 10
    # Sold out as the stale engine saw it; five more arrive through the other engine.
    a.release("a-1")
    order, created = stale.place_order_then(order_input(quantity=6), [{"command": "confirm"}])
    assert created and order.status == "confirmed"
    assert a.level("MUG", "IST")["reserved"] == 9


def test_bulk_import_and_confirm_on_a_sqlite_file(tmp_path: Path) -> None:
    """import_orders and confirm_orders save batches (one commit each) and still decide
    every order on its own: refusals at their index, repeats as across calls."""
    path = tmp_path / "bulk.db"
    engine = ordersmith.Engine.open(path)
    stock(engine)  # 10 mugs
    rows = [order_input(quantity=3, external_ref=f"W-{i}") for i in range(4)]
    rows.insert(1, order_input(quantity=3, external_ref="W-0"))  # the same order again
    rows.insert(2, order_input(quantity=4, external_ref="W-0"))  # same reference, other content
    rows.insert(3, order_input(quantity=0))  # refused by the core
    result = engine.import_orders(rows)
    assert [i for i, _ in result.errors] == [2, 3]
    assert result.errors[0][1].code == "ENGINE_DUPLICATE_EXTERNAL_REF"
    assert result.errors[1][1].code == "ORDER_INVALID_QUANTITY"
    ids = [o.id for o in result.orders]
    assert ids[0] == ids[1] and len(set(ids)) == 4

    unique = list(dict.fromkeys(ids))
    confirmed = engine.confirm_orders([unique[0], "", unique[1], "order-999999", *unique[2:]])
    # 10 mugs: three orders of 3 reserve, the fourth is short.
    assert [o.id for o in confirmed.orders] == unique[:3]
    assert [(i, e.code) for i, e in confirmed.errors] == [
        (1, "ID_EMPTY"),
        (3, "ORDER_NOT_FOUND"),
        (5, "STOCK_INSUFFICIENT"),
    ]
    del engine

    again = ordersmith.Engine.open(path)
    assert [again.order(i).status for i in unique] == ["confirmed"] * 3 + ["pending"]
    assert again.level("MUG", "IST")["reserved"] == 9


def test_many_commands_in_one_crossing_on_a_sqlite_file(tmp_path: Path) -> None:
    """execute_many runs any order commands in bulk (a day's payments and shipments),
    saved in batches: each item decided on its own, a refused or unreadable one
    reported at its index and changing nothing, and the rest durable on reopening."""
    path = tmp_path / "bulk.db"
    engine = ordersmith.Engine.open(path)
    stock(engine)  # 10 mugs
    ids = [o.id for o in engine.import_orders([order_input(quantity=1) for _ in range(3)]).orders]
    a, b, c = ids
    result = engine.execute_many(
        [
            (a, {"command": "confirm"}),
            (a, {"command": "mark_paid"}),
            (a, {"command": "record_shipment", "lines": [{"line_id": "L1", "quantity": 1}]}),
            (b, {"command": "record_shipment", "lines": [{"line_id": "L1", "quantity": 1}]}),
            (c, {"command": "hold", "reason": "fraud_review"}),
            (c, {"command": "fly"}),
            ("", {"command": "confirm"}),
            (b, {"command": "cancel", "reason": "customer"}),
        ],
        actor="user:ops",
    )
    assert [(i, e.code) for i, e in result.errors] == [
        (3, "ORDER_INVALID_TRANSITION"),
        (5, "ENGINE_INVALID_INPUT"),
        (6, "ID_EMPTY"),
    ]
    assert result.errors[1][1].details["field"].startswith("items[5][1]")
    assert [o.status for o in result.orders] == [
        "confirmed",
        "confirmed",
        "processing",
        "on_hold",
        "cancelled",
    ]
    assert result.orders[2].fulfilment_status == "fulfilled"
    # Not a pair, or an id that is not text: that item's error, the rest still run.
    odd_items: List[Any] = [[a, {"command": "complete"}], (7, {}), (c, {"command": "release_hold"})]
    odd = engine.execute_many(odd_items)
    assert [(i, e.code) for i, e in odd.errors] == [(0, "ENGINE_INVALID_INPUT"), (1, "ENGINE_INVALID_INPUT")]
    assert odd.errors[0][1].details["field"] == "items[0]"
    assert [o.status for o in odd.orders] == ["pending"]
    del engine

    again = ordersmith.Engine.open(path)
    assert [again.order(i).status for i in ids] == ["processing", "cancelled", "pending"]
    assert again.order(a).amount_paid == again.order(a).totals.total
    assert again.history(a)[-1]["actor"] == "user:ops"
