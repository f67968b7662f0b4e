from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Dict

import pytest

import ordersmith


def order_input(
    variant: str = "MUG",
    quantity: int = 2,
    price: Any = Decimal("189.90"),
    channel: str = "web",
    **extra: Any,
) -> Dict[str, Any]:
    data: Dict[str, Any] = {
        "channel": channel,
        "placed_at": datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc),
        "currency": "TRY",
        "lines": [
            {
                "variant": variant,
                "quantity": quantity,
                "unit_price": price,
                "tax_lines": [{"name": "KDV", "rate": Decimal("0.20")}],
            }
        ],
    }
    data.update(extra)
    return data


@pytest.fixture
def engine() -> ordersmith.Engine:
    return ordersmith.Engine.in_memory()


@pytest.fixture
def stocked(engine: ordersmith.Engine) -> ordersmith.Engine:
    engine.add_location("IST", "Istanbul DC", 1, "TR-34")
    engine.add_location("ANK", "Ankara Store", 2, "TR-06", kind="store")
    for sku in ("MUG", "SHIRT-M"):
        engine.register_variant(sku)
    engine.receive_many(
        [
            {"sku": "MUG", "location": "IST", "quantity": 10, "reference": "PO-1"},
            ("MUG", "ANK", 5),
            ("SHIRT-M", "IST", 4, "PO-1"),
        ]
    )
    return engine
