"""Bulk calls release the GIL: another Python thread keeps running meanwhile."""

from __future__ import annotations

import threading
import time

import ordersmith
from conftest import order_input


def test_a_thread_keeps_running_during_a_bulk_import() -> None:
    engine = ordersmith.Engine.in_memory()
    orders = [order_input() for _ in range(20_000)]
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
        result = engine.import_orders(orders)
        during = ticks - before
    finally:
        stop.set()
        thread.join()
    assert len(result.orders) == 20_000 and not result.errors
    # Conversions hold the GIL, the core work does not: the spinner advanced while
    # the import ran.
    assert during > 0
