"""Python binding overhead: bulk import of 100,000 orders and the cost of a small call.

    pip install ./bindings-python          # a release build
    python benches/python_import.py [N]    # N orders, default 100000
    python benches/python_import.py N --jsonl   # only the JSON-lines import (and its peak RSS)
    python benches/python_import.py N --jsonl-ids   # the same, reporting ids (import_orders_jsonl_ids)
    python benches/python_import.py N --dicts   # only the list-of-dicts import (and its peak RSS)
    python benches/python_import.py --lookups   # engine.order(id): memory and SQLite

Compare with the same work in Rust: `cargo run --release --example bulk_import`.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
import timeit
from pathlib import Path
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Dict, List, Tuple

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


def stocked_engine() -> ordersmith.Engine:
    engine = ordersmith.Engine.in_memory()
    engine.add_location("IST", "Istanbul DC", 1, "TR-34")
    engine.register_variant("MUG")
    engine.receive("MUG", "IST", 1_000_000)
    return engine


def json_lines(n: int) -> bytes:
    """The same orders as `orders(n)`, as JSON lines: what a file export holds."""
    out = []
    for i in range(n):
        out.append(
            '{"channel": "web", "external_ref": "W-%d", "placed_at": "2026-11-20T09:30:00Z", "currency": "TRY", '
            '"lines": [{"variant": "MUG", "quantity": 2, "unit_price": "189.90", "tax_lines": [{"name": "KDV", "rate": "0.20"}]}, '
            '{"variant": "TEA-500G", "quantity": 1, "unit_price": "89.90"}]}\n' % i
        )
    return "".join(out).encode()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(label: str, n: int, took: float) -> None:
    print(f"{label:<44} {took:8.3f} s  = {n / took:,.0f} orders/s, {took / n * 1e6:.2f} µs/order")


def import_dicts(n: int) -> Tuple[ordersmith.Engine, ordersmith.ImportResult]:
    engine = stocked_engine()
    rows = orders(n)
    start = time.perf_counter()
    result = engine.import_orders(rows)
    report(f"import_orders({n}) (list of dicts)", n, time.perf_counter() - start)
    assert len(result.orders) == n and not result.errors
    return engine, result


def import_jsonl(n: int) -> ordersmith.ImportResult:
    engine = stocked_engine()
    data = json_lines(n)
    start = time.perf_counter()
    result = engine.import_orders_jsonl(data)
    report(f"import_orders_jsonl({n}) ({len(data) / n:.0f} B/line)", n, time.perf_counter() - start)
    assert len(result.orders) == n and not result.errors
    # Where a host holds dicts rather than a file: json.dumps is the conversion it pays.
    rows = orders(min(n, 100_000))
    start = time.perf_counter()
    text = "\n".join(json.dumps(r, default=str) for r in rows).encode()
    took = time.perf_counter() - start
    print(f"  (json.dumps of the dicts, for comparison:   {took / len(rows) * 1e6:.2f} µs/order; {len(text)} bytes)")
    return result


def import_jsonl_ids(n: int) -> ordersmith.ImportIds:
    engine = stocked_engine()
    data = json_lines(n)
    start = time.perf_counter()
    result = engine.import_orders_jsonl_ids(data)
    report(f"import_orders_jsonl_ids({n}) ({len(data) / n:.0f} B/line)", n, time.perf_counter() - start)
    assert len(result.placed) == n and not result.errors
    return result


def main() -> None:
    if sys.argv[1:] == ["--lookups"]:
        lookups()
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    only = sys.argv[2] if len(sys.argv) > 2 else ""
    if only in ("--jsonl", "--jsonl-ids", "--dicts"):
        {"--jsonl": import_jsonl, "--jsonl-ids": import_jsonl_ids, "--dicts": import_dicts}[only](n)
        print(f"peak RSS {peak_rss_mb():,.0f} MB")
        return
    import_jsonl(n)
    engine, result = import_dicts(n)

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
