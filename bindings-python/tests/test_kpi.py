"""KPIs from Python: tables as rows ready for pandas / polars, CSV and JSON exports,
insights, the HTML report, and the errors of bad queries."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

import ordersmith
from conftest import order_input

TZ = "Europe/Istanbul"


@pytest.fixture
def shop(engine: ordersmith.Engine) -> ordersmith.Engine:
    # Two orders of 2 mugs at 189.90 placed 2026-11-20 09:30Z (12:30 in Istanbul):
    # one shipped, delivered, one mug returned and refunded; one cancelled.
    kept = engine.place_order(order_input())
    engine.confirm(kept.id)
    engine.record_payment(kept.id, Decimal("379.80"))
    engine.record_shipment(kept.id, {"L1": 2})
    engine.record_delivery(kept.id, {"L1": 2})
    engine.record_return(kept.id, {"L1": 1})
    engine.record_refund(kept.id, Decimal("189.90"))
    gone = engine.place_order(order_input(channel="trendyol"))
    engine.cancel(gone.id, "fraud")
    return engine


def test_tables_are_rows_in_column_order_with_exact_decimals(shop: ordersmith.Engine) -> None:
    tables = shop.kpi_tables(TZ)
    summary = tables["summary"]
    assert len(summary) == 1
    row = summary[0]
    assert list(row)[:3] == ["period", "period_start", "orders"]
    assert row["period"] == "2026-11-20"
    assert (row["orders"], row["orders_cancelled"], row["cancellation_rate"]) == (2, 1, "0.5")
    # 2 shipped, 1 returned.
    assert (row["units_shipped"], row["units_returned"], row["return_rate_units"]) == (2, 1, "0.5")
    revenue = tables["revenue"][0]
    # One active order: 2 × 189.90 gross; 189.90 refunded.
    assert (revenue["currency"], revenue["gross"], revenue["refunds"], revenue["net"]) == ("TRY", "379.80", "189.90", "189.90")
    assert Decimal(revenue["aov"]) == Decimal("379.80")
    assert tables["cancellations"][0]["reason"] == "fraud"
    assert tables["returns_by_reason"][0]["reason"] == "unspecified"
    # Undefined rates are None, not 0.
    assert row["on_time_ship_rate"] is None
    assert set(tables) == {
        "summary", "revenue", "cancellations", "returns_by_reason", "returns_by_sku",
        "returns_by_channel", "channel_mix", "skus", "stock", "count_accuracy",
        "notifications", "late_shipments", "segments",
    }


def test_rows_load_into_polars(shop: ordersmith.Engine) -> None:
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame(shop.kpi_tables(TZ, {"grain": "month"})["channel_mix"])
    assert frame.columns[:3] == ["period", "period_start", "channel"]
    assert frame["orders"].sum() == 2
    assert sorted(frame["channel"].to_list()) == ["trendyol", "web"]


def test_filters_grains_and_exports(shop: ordersmith.Engine) -> None:
    month = shop.kpi_tables(TZ, {"grain": "month", "channels": ["web"]})["summary"]
    assert (month[0]["period"], month[0]["orders"]) == ("2026-11", 1)
    empty = shop.kpi_tables(TZ, {"from": "2026-12-01", "to": "2026-12-31"})["summary"]
    assert empty == []
    csv = shop.kpi_csv("revenue", TZ)
    assert csv.splitlines()[0] == "period,period_start,currency,orders,gross,discounts,refunds,net,aov"
    assert csv.splitlines()[1] == "2026-11-20,2026-11-20,TRY,1,379.80,0.00,189.90,189.90,379.80"
    doc = json.loads(shop.kpi_json(TZ))
    assert doc["time_zone"] == TZ and doc["grain"] == "day"
    assert doc["tables"][1]["rows"][0]["net"] == "189.90"


def test_insights_and_the_report(shop: ordersmith.Engine) -> None:
    # One period only: nothing to compare.
    assert shop.kpi_insights(TZ, {"grain": "day"}) == []
    html = shop.kpi_report_html(TZ, title="Mugs & more")
    assert html.startswith("<!DOCTYPE html>")
    assert "Mugs &amp; more" in html and "<svg" in html
    assert "<script" not in html and "http" not in html.replace("http-equiv", "")


def test_bad_queries_raise_kpi_errors(shop: ordersmith.Engine) -> None:
    with pytest.raises(ordersmith.KpiInputError) as info:
        shop.kpi_tables("Mars/Olympus")
    assert info.value.code == "KPI_UNKNOWN_TIME_ZONE"
    with pytest.raises(ordersmith.KpiNotFoundError) as missing:
        shop.kpi_csv("nope", TZ)
    assert missing.value.code == "KPI_UNKNOWN_TABLE"
    with pytest.raises(ordersmith.KpiInputError) as rng:
        shop.kpi_tables(TZ, {"from": "2026-12-01", "to": "2026-11-01"})
    assert rng.value.code == "KPI_INVALID_RANGE"
    with pytest.raises(ordersmith.KpiInputError) as th:
        shop.kpi_insights(TZ, threshold=-1.0)
    assert th.value.code == "KPI_INVALID_THRESHOLD"
    with pytest.raises(ValueError):
        shop.kpi_tables(TZ, {"grain": "fortnight"})
    with pytest.raises(ValueError):
        shop.kpi_tables(TZ, {"colour": "red"})
