"""A small shop's day from Python: import the day's orders from a CSV export, confirm
them (which reserves stock), cancel what the customers cancelled, post a cycle count's
variances, then print the stock position and the low-stock alerts.

Run it after `pip install ./bindings-python`:

    python examples/python/day.py              # a new database in a fresh temporary directory
    python examples/python/day.py shop-day.db  # a new database at that path, kept afterwards

The script never deletes or overwrites anything: a path that exists must be an empty
ordersmith database, and any other existing file is refused untouched.
"""

from __future__ import annotations

import csv
import sqlite3
import sys
import tempfile
from contextlib import closing
from collections import OrderedDict
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List

import ordersmith

DATA = Path(__file__).resolve().parent / "data"


def read_orders(path: Path) -> List[Dict[str, Any]]:
    """One order per external_ref; every CSV row is a line. Amounts stay strings
    (exact decimals) and times keep their offset: the engine stores them in UTC."""
    orders: "OrderedDict[str, Dict[str, Any]]" = OrderedDict()
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            order = orders.setdefault(
                row["external_ref"],
                {
                    "channel": row["channel"],
                    "external_ref": row["external_ref"],
                    "placed_at": row["placed_at"],
                    "currency": row["currency"],
                    "lines": [],
                },
            )
            if row["note"]:
                order["note"] = row["note"]
            order["lines"].append(
                {
                    "variant": row["sku"],
                    "quantity": int(row["quantity"]),
                    "unit_price": row["unit_price"],
                    "tax_lines": [{"name": "KDV", "rate": row["tax_rate"]}],
                }
            )
    return list(orders.values())


SQLITE_HEADER = b"SQLite format 3\x00"


def database_path(argv: List[str]) -> Path:
    """The database to run the day on: a new file in a fresh temporary directory, or the
    path given. An existing path must be a SQLite database: anything else is refused,
    and nothing the user named is ever deleted."""
    if len(argv) < 2:
        return Path(tempfile.mkdtemp(prefix="ordersmith-day-")) / "day.db"
    path = Path(argv[1])
    if path.exists():
        if not path.is_file():
            sys.exit(f"{path} exists and is not a file: pass a new path")
        with path.open("rb") as f:
            if f.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                sys.exit(f"{path} exists and is not a SQLite database: refusing to touch it; pass a new path")
        # Another program's database must not get ordersmith's tables added to it.
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "orders" not in tables or "stock_log" not in tables:
            sys.exit(f"{path} is a SQLite database, but not an ordersmith one: pass a new path")
    return path


def main() -> None:
    path = database_path(sys.argv)
    with ordersmith.Engine.open(path, sourcing="priority", on_shortage="hold") as engine:
        if engine.list_orders_page(limit=1).orders:
            sys.exit(f"{path} already holds orders (a day was run on it): pass a new path")
        print(f"store: SQLite, {path}")
        run_day(engine)


def run_day(engine: ordersmith.Engine) -> None:
    engine.add_location("IST", "Istanbul DC", 1, "TR-34")
    engine.add_location("ANK", "Ankara Store", 2, "TR-06", kind="store")
    for sku in ("MUG-LOGO", "TEA-500G"):
        engine.register_variant(sku)
        engine.set_low_stock_threshold(sku, 5)
    engine.receive_many(
        [
            ("MUG-LOGO", "IST", 6, "PO-88"),
            ("MUG-LOGO", "ANK", 4, "PO-88"),
            ("TEA-500G", "IST", 20, "PO-89"),
        ]
    )

    result = engine.import_orders(read_orders(DATA / "orders.csv"), actor="channel:import")
    print(f"imported {len(result.orders)} orders, {len(result.errors)} refused")
    for index, error in result.errors:
        print(f"  order #{index}: {error.code}: {error}")

    for order in result.orders:
        if order.notes and "cancelled" in order.notes[0]:
            engine.cancel(order.id, "customer", actor="user:ayse")
            print(f"cancelled {order.external_ref} ({order.id})")
            continue
        confirmed = engine.confirm(order.id, actor="user:ayse")
        held = f" (on hold: {confirmed.hold['reason']})" if confirmed.hold else ""
        print(f"confirmed {order.external_ref}: {confirmed.totals.total} {confirmed.currency}{held}")

    # The cycle count: open, record what was counted, close to post the variances.
    counted: Dict[str, Dict[str, int]] = {}
    with (DATA / "count.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            counted.setdefault(row["location"], {})[row["sku"]] = int(row["counted"])
    for location, skus in counted.items():
        count_id = f"COUNT-{location}-1"
        engine.open_count(count_id, location, list(skus))
        for sku, units in skus.items():
            engine.record_count(count_id, sku, units)
        report = engine.close_count(count_id, {"MUG-LOGO": Decimal("60.00"), "TEA-500G": Decimal("25.00")}, currency="TRY")
        for v in report["variances"]:
            value = v["value"]["amount"] if v["value"] else "-"
            print(f"count {location} {v['variant']}: expected {v['expected']}, counted {v['counted']}, variance {v['variance']} ({value} TRY)")

    print("\nstock position")
    print(f"{'variant':<10} {'loc':<4} {'on hand':>7} {'reserved':>8} {'available':>9}")
    for r in engine.stock_position():
        print(f"{r['variant']:<10} {r['location']:<4} {r['on_hand']:>7} {r['reserved']:>8} {r['available']:>9}")

    print("\nlow-stock alerts and shortfalls")
    for effect in engine.pending_effects(limit=1000):
        p = effect["payload"]
        if effect["topic"] in ("stock.low_stock", "stock.out_of_stock"):
            print(f"  {effect['topic']}: {p['variant']} sellable {p['sellable']} (threshold {p['threshold']})")
        elif effect["topic"] == "stock.shortfall":
            print(f"  {effect['topic']}: {p['variant']} at {p['location']}: {p['reserved']} reserved, {p['on_hand']} on hand")
        else:
            continue
        engine.acknowledge_effect(effect["id"])


if __name__ == "__main__":
    main()
