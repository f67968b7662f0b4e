"""Python binding overhead: bulk import of 100,000 orders and the cost of a small call.

    pip install ./bindings-python          # a release build
    python benches/python_import.py [N]    # N orders, default 100000

Compare with the same work in Rust: `cargo run --release --example bulk_import`.
"""

from __future__ import annotations

import sys
import time
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


def main() -> None:
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
