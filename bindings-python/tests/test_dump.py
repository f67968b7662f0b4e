"""Moving a shop between stores: export_dump / import_dump through files."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Tuple

import pytest

import ordersmith
from conftest import order_input


def shop(engine: ordersmith.Engine) -> List[str]:
    """Stock at IST, three orders (two confirmed, 3 mugs reserved each), one keyed."""
    engine.add_location("IST", "Istanbul DC", 1, "TR-34")
    engine.register_variant("MUG")
    engine.receive("MUG", "IST", 10)
    ids = []
    for n in range(3):
        order = engine.place_order(order_input(quantity=3), idempotency_key=f"place-{n}")
        if n < 2:
            engine.confirm(order.id)
        ids.append(order.id)
    return ids


def seen(engine: ordersmith.Engine) -> Tuple[Any, ...]:
    """What a host reads: orders, the mug's level at IST, pending effects."""
    orders = [(o.id, o.status, o.version) for o in engine.list_orders()]
    level = engine.level("MUG", "IST")
    effects = [e["id"] for e in engine.pending_effects(1000)]
    return orders, (level["on_hand"], level["reserved"]), effects


def test_memory_to_sqlite_file_to_memory_keeps_the_shop(tmp_path: Path) -> None:
    source = ordersmith.Engine.in_memory()
    ids = shop(source)
    first = tmp_path / "first.jsonl"
    stats = source.export_dump(first)
    assert (stats["orders"], stats["idempotency"], stats["stock"]) == (3, 3, 5)
    assert stats["outbox"] > 0 and stats["documents"] == 0 and stats["records"] == 0

    db = tmp_path / "shop.db"
    with ordersmith.Engine.open(db) as sqlite:
        assert sqlite.import_dump(str(first)) == stats
        assert seen(sqlite) == seen(source)
        assert seen(sqlite)[1] == (10, 6)
        second = tmp_path / "second.jsonl"
        assert sqlite.export_dump(second) == stats
    # The same state gives the same dump, whichever store wrote it.
    assert second.read_bytes() == first.read_bytes()

    back = ordersmith.Engine.in_memory()
    assert back.import_dump(second) == stats
    assert seen(back) == seen(source)

    # The file keeps the shop, and the moved shop keeps writing: a new order gets an id
    # of its own and its confirmation reserves on the imported stock.
    with ordersmith.Engine.open(db) as sqlite:
        assert seen(sqlite) == seen(source)
        new = sqlite.place_order(order_input(quantity=2))
        assert new.id not in ids
        sqlite.confirm(new.id)
        assert sqlite.level("MUG", "IST")["reserved"] == 8
        # A repeated key still gets its first answer.
        again = sqlite.place_order(order_input(quantity=3), idempotency_key="place-0")
        assert again.id == ids[0]


def test_a_store_with_data_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    source = ordersmith.Engine.in_memory()
    shop(source)
    dump = tmp_path / "shop.jsonl"
    source.export_dump(dump)
    target = ordersmith.Engine.in_memory()
    target.place_order(order_input())
    before = seen_orders(target)
    with pytest.raises(ordersmith.DumpError) as info:
        target.import_dump(dump)
    assert info.value.code == "DUMP_TARGET_NOT_EMPTY"
    assert not isinstance(info.value, ValueError)
    assert seen_orders(target) == before


def seen_orders(engine: ordersmith.Engine) -> List[Tuple[str, int]]:
    return [(o.id, o.version) for o in engine.list_orders()]


def test_truncated_or_malformed_files_are_dump_input_errors(tmp_path: Path) -> None:
    source = ordersmith.Engine.in_memory()
    shop(source)
    dump = tmp_path / "shop.jsonl"
    source.export_dump(dump)
    lines = dump.read_text().splitlines()

    truncated = tmp_path / "truncated.jsonl"
    truncated.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(ordersmith.DumpInputError) as info:
        ordersmith.Engine.in_memory().import_dump(truncated)
    assert info.value.code == "DUMP_MALFORMED"
    assert isinstance(info.value, ValueError)

    garbled = tmp_path / "garbled.jsonl"
    garbled.write_text(lines[0] + "\nnot json\n" + "\n".join(lines[1:]) + "\n")
    with pytest.raises(ordersmith.DumpInputError) as info:
        ordersmith.Engine.in_memory().import_dump(garbled)
    assert info.value.details["line"] == 2


def test_files_are_never_overwritten_nor_invented(tmp_path: Path) -> None:
    engine = ordersmith.Engine.in_memory()
    existing = tmp_path / "shop.db"
    existing.write_bytes(b"precious")
    with pytest.raises(ordersmith.DumpError) as info:
        engine.export_dump(existing)
    assert info.value.code == "DUMP_IO"
    assert existing.read_bytes() == b"precious"
    with pytest.raises(ordersmith.DumpError) as info:
        engine.import_dump(tmp_path / "missing.jsonl")
    assert info.value.code == "DUMP_IO"
    with pytest.raises(ordersmith.EngineInputError):
        engine.export_dump(42)  # type: ignore[arg-type]
    engine.close()
    with pytest.raises(ordersmith.EngineError) as closed:
        engine.export_dump(tmp_path / "closed.jsonl")
    assert closed.value.code == "ENGINE_CLOSED"
