"""Order commands in bulk from Python on a durable SQLite file: one call per order
against `execute_many` (one commit per batch), the same commands on the same orders.

    pip install ./bindings-python          # a release build
    python benches/python_many.py [N]      # N orders, default 10000; synchronous=FULL

Each mode gets a fresh file with N one-line orders (imported before timing) and marks
every one paid: `mark_paid` once per order, then `execute_many` with N
`(order_id, {"command": "mark_paid"})` pairs.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict

import ordersmith


def order() -> Dict[str, Any]:
    return {
        "channel": "web",
        "placed_at": datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc),
        "currency": "TRY",
        "lines": [{"variant": "MUG", "quantity": 1, "unit_price": Decimal("189.90")}],
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    for mode in ("one call per order", "execute_many"):
        with tempfile.TemporaryDirectory() as d:
            engine = ordersmith.Engine.open(Path(d) / "shop.db")
            ids = [o.id for o in engine.import_orders([order() for _ in range(n)]).orders]
            start = time.perf_counter()
            if mode == "execute_many":
                result = engine.execute_many([(i, {"command": "mark_paid"}) for i in ids])
                assert not result.errors, result.errors[:3]
            else:
                for i in ids:
                    engine.mark_paid(i)
            took = time.perf_counter() - start
            print(f"{mode}: {n} mark_paid in {took:.3f} s, {n / took:,.0f}/s, {took / n * 1e6:.0f} µs each")
            del engine


if __name__ == "__main__":
    main()
