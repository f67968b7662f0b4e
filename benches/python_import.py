"""Python binding overhead: bulk import of 100,000 orders and the cost of a small call.

    pip install ./bindings-python          # a release build
    python benches/python_import.py [N]    # N orders, default 100000
    python benches/python_import.py --lookups   # engine.order(id): memory and SQLite

Compare with the same work in Rust: `cargo run --release --example bulk_import`.
"""

from __future__ import annotations

import sys
import tempfile
import time
import timeit
from pathlib import Path
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Dict, List

import ordersmith


def orders(n: int) -> List[Dict[str, Any]]:
    placed_at = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
    return [
        {
            "channel": "web",
            "external_ref": f"W-{i}",
            "placed_at": placed_at,
            "currency": "TRY",
            "lines": [
                {
                    "variant": "MUG",
                    "quantity": 2,
                    "unit_price": Decimal("189.90"),
                    "tax_lines": [{"name": "KDV", "rate": Decimal("0.20")}],
                },
                {"variant": "TEA-500G", "quantity": 1, "unit_price": "89.90"},
            ],
        }
        for i in range(n)
    ]


def per_call(label: str, fn: Any, calls: int) -> None:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    took = time.perf_counter() - start
    print(f"{label:<44} {took / calls * 1e6:8.2f} µs/call  ({calls} calls)")


def lookups() -> None:
    """What `engine.order(id)` costs, per store and order size: the best of 7 runs of
    20,000 calls each (the minimum is the figure least disturbed by other processes)."""
    full = orders(1)[0]
    full["customer"] = {"name": "Ada Lovelace", "email": "ada@example.org", "phone": "+44 20 7946 0000"}
    full["shipping_address"] = {
        "name": "Ada Lovelace",
        "lines": ["12 Example Street", "Flat 3"],
        "city": "London",
        "postal_code": "NW1 6XE",
        "country": "GB",
    }
    small = orders(1)[0]
    small["lines"] = small["lines"][:1]
    with tempfile.TemporaryDirectory() as tmp:
        stores = [
            ("memory", ordersmith.Engine.in_memory()),
            ("SQLite", ordersmith.Engine.open(Path(tmp) / "lookups.db")),
        ]
        for store, engine in stores:
            with engine:
                # A store with 10,000 orders in it, so lookups do not hit a tiny table.
                engine.import_orders([dict(o, external_ref=f"B-{i}") for i, o in enumerate(orders(10_000))])
                for label, order in (("1 line", small), ("2 lines, customer, address", full)):
                    order_id = engine.place_order(dict(order, external_ref=f"L-{label}")).id
                    runs = timeit.repeat(lambda: engine.order(order_id), number=20_000, repeat=7)
                    best = min(runs) / 20_000 * 1e6
                    median = sorted(runs)[3] / 20_000 * 1e6
                    print(f"engine.order(id), {store:<6}, {label:<28} best {best:6.2f} µs, median {median:6.2f} µs")


def main() -> None:
    if sys.argv[1:] == ["--lookups"]:
        lookups()
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    engine = ordersmith.Engine.in_memory()
    engine.add_location("IST", "Istanbul DC", 1, "TR-34")
    engine.register_variant("MUG")
    engine.receive("MUG", "IST", 1_000_000)
    rows = orders(n)

    start = time.perf_counter()
    result = engine.import_orders(rows)
    took = time.perf_counter() - start
    assert len(result.orders) == n and not result.errors
    print(f"import_orders({n})                         {took:8.3f} s  = {n / took:,.0f} orders/s, {took / n * 1e6:.2f} µs/order")

    one = orders(1)[0]
    del one["external_ref"]
    start = time.perf_counter()
    for _ in range(10_000):
        engine.place_order(one)
    took = time.perf_counter() - start
    print(f"place_order x 10000 (one call per order)     {took / 10_000 * 1e6:8.2f} µs/order")

    order_id = result.orders[0].id
    per_call("engine.order(id)", lambda: engine.order(order_id), 100_000)
    per_call("engine.level(sku, location)", lambda: engine.level("MUG", "IST"), 100_000)
    per_call("ordersmith.error_codes() (no engine work)", ordersmith.error_codes, 10_000)


if __name__ == "__main__":
    main()
