"""The KPI definitions of docs/kpi.md written again in polars: an independent oracle
for ordersmith's KPIs, and the baseline of its benchmark.

Input: the CSV history written by `cargo run --release --example kpi_history -- N DIR`
(the exact facts ordersmith was fed) and ordersmith's tables for it (DIR/ordersmith.json).
It computes the summary, revenue, cancellations, returns by reason / SKU / channel,
channel mix and notifications at day and month grain, times that (CSV reading
excluded), and with --check compares every compared column with ordersmith's:
integers and money exactly, rates to 1e-9.

The generator cancels only whole orders and only before anything ships, so "cancelled
units" here is "every unit of a cancelled order": the general rule (open units at the
time of the cancellation, discount split by largest remainder) is not needed for it.

    POLARS_MAX_THREADS=1 python benches/peers/kpi_polars.py DIR --check
"""

from __future__ import annotations

import json
import sys
import time
from decimal import Decimal
from pathlib import Path

import polars as pl

TZ = "Europe/Istanbul"
REASONS = ["customer", "fraud", "inventory", "declined", "staff", "reservation_expired", "other"]


def load(d: Path) -> dict[str, pl.DataFrame]:
    orders = pl.read_csv(d / "orders.csv", schema_overrides={"promised_by": pl.Date, "ship_by": pl.Int64})
    lines = pl.read_csv(d / "lines.csv")
    events = pl.read_csv(
        d / "events.csv",
        schema_overrides={"line": pl.Utf8, "quantity": pl.Int64, "reason": pl.Utf8, "amount_minor": pl.Int64},
    )
    return {"orders": orders, "lines": lines, "events": events}


def local_date(col: str) -> pl.Expr:
    return pl.from_epoch(pl.col(col), time_unit="s").dt.replace_time_zone("UTC").dt.convert_time_zone(TZ).dt.date()


def period(grain: str) -> pl.Expr:
    fmt = "%Y-%m-%d" if grain == "day" else "%Y-%m"
    return pl.col("day").dt.strftime(fmt).alias("period")


def nearest_rank(col: str, p: int) -> pl.Expr:
    v = pl.col(col).drop_nulls().sort()
    n = pl.col(col).drop_nulls().len()
    return pl.when(n > 0).then(v.gather(((n * p + 99) // 100 - 1).clip(0))).otherwise(None).first()


def compute(data: dict[str, pl.DataFrame], grain: str) -> dict[str, pl.DataFrame]:
    orders, lines, events = data["orders"], data["lines"], data["events"]
    ev = events.group_by("order").agg(
        confirmed=(pl.col("kind") == "confirmed").any(),
        backordered=(pl.col("kind") == "backordered").any(),
        cancel_reason=pl.col("reason").filter(pl.col("kind") == "cancelled").first(),
        shipped=pl.col("quantity").filter(pl.col("kind") == "shipped").sum(),
        delivered=pl.col("quantity").filter(pl.col("kind") == "delivered").sum(),
        returned=pl.col("quantity").filter(pl.col("kind") == "returned").sum(),
        last_ship=pl.col("at").filter(pl.col("kind") == "shipped").max(),
        last_delivery=pl.col("at").filter(pl.col("kind") == "delivered").max(),
        refund=pl.col("amount_minor").filter(pl.col("kind") == "refunded").sum(),
    )
    ln = lines.group_by("order").agg(
        ordered=pl.col("quantity").sum(),
        gross_all=(pl.col("price_minor") * pl.col("quantity")).sum(),
        discount_all=pl.col("discount_minor").sum(),
    )
    o = (
        orders.join(ln, on="order", how="left")
        .join(ev, on="order", how="left")
        .with_columns(
            day=local_date("placed_at"),
            cancelled_order=pl.col("cancel_reason").is_not_null(),
            confirmed=pl.col("confirmed").fill_null(False),
            backordered=pl.col("backordered").fill_null(False),
            shipped=pl.col("shipped").fill_null(0),
            delivered=pl.col("delivered").fill_null(0),
            returned=pl.col("returned").fill_null(0),
            refund=pl.col("refund").fill_null(0),
        )
        .with_columns(
            cancelled=pl.when(pl.col("cancelled_order")).then(pl.col("ordered")).otherwise(0),
        )
        .with_columns(active=pl.col("ordered") - pl.col("cancelled"))
        .with_columns(
            gross=pl.when(pl.col("active") > 0).then(pl.col("gross_all")).otherwise(0),
            discount=pl.when(pl.col("active") > 0).then(pl.col("discount_all")).otherwise(0),
            ship_done=(pl.col("active") > 0) & (pl.col("shipped") >= pl.col("active")) & pl.col("last_ship").is_not_null(),
            delivery_done=(pl.col("active") > 0)
            & (pl.col("delivered") >= pl.col("active"))
            & pl.col("last_delivery").is_not_null(),
            delivery_day=local_date("last_delivery"),
        )
        .with_columns(
            ship_judged=pl.col("ship_done") & pl.col("ship_by").is_not_null(),
            delivery_judged=pl.col("delivery_done") & pl.col("promised_by").is_not_null(),
            ship_lead=pl.when(pl.col("ship_done")).then((pl.col("last_ship") - pl.col("placed_at")).clip(0)),
            delivery_lead=pl.when(pl.col("delivery_done")).then((pl.col("last_delivery") - pl.col("placed_at")).clip(0)),
        )
        .with_columns(
            on_time_ship=pl.col("ship_judged") & (pl.col("last_ship") <= pl.col("ship_by")),
            on_time_delivery=pl.col("delivery_judged") & (pl.col("delivery_day") <= pl.col("promised_by")),
        )
        .with_columns(
            perfect=pl.col("delivery_done")
            & pl.col("ship_done")
            & (pl.col("cancelled") == 0)
            & (pl.col("returned") == 0)
            & (~pl.col("ship_judged") | pl.col("on_time_ship"))
            & (~pl.col("delivery_judged") | pl.col("on_time_delivery")),
            period=period(grain),
        )
    )
    summary = o.group_by("period").agg(
        orders=pl.len(),
        orders_confirmed=pl.col("confirmed").sum(),
        orders_cancelled=pl.col("cancelled_order").sum(),
        orders_active=(pl.col("active") > 0).sum(),
        units_ordered=pl.col("ordered").sum(),
        units_cancelled=pl.col("cancelled").sum(),
        units_cancelled_inventory=pl.col("cancelled").filter(pl.col("cancel_reason") == "inventory").sum(),
        units_shipped=pl.col("shipped").sum(),
        units_delivered=pl.col("delivered").sum(),
        units_returned=pl.col("returned").sum(),
        orders_shipped=pl.col("ship_done").sum(),
        order_to_ship_p50_s=nearest_rank("ship_lead", 50),
        order_to_ship_p90_s=nearest_rank("ship_lead", 90),
        order_to_ship_max_s=pl.col("ship_lead").max(),
        orders_delivered=pl.col("delivery_done").sum(),
        order_to_delivery_p50_s=nearest_rank("delivery_lead", 50),
        order_to_delivery_p90_s=nearest_rank("delivery_lead", 90),
        order_to_delivery_max_s=pl.col("delivery_lead").max(),
        ship_judged=pl.col("ship_judged").sum(),
        shipped_on_time=pl.col("on_time_ship").sum(),
        delivery_judged=pl.col("delivery_judged").sum(),
        delivered_on_time=pl.col("on_time_delivery").sum(),
        perfect_orders=pl.col("perfect").sum(),
        orders_returned=(pl.col("returned") > 0).sum(),
        orders_backordered=pl.col("backordered").sum(),
    ).with_columns(units_net=pl.col("units_ordered") - pl.col("units_cancelled"))
    revenue = o.group_by("period", "currency").agg(
        orders=(pl.col("active") > 0).sum(),
        gross=pl.col("gross").sum(),
        discounts=pl.col("discount").sum(),
        refunds=pl.col("refund").sum(),
        scale=pl.col("scale").first(),
    )
    cancellations = (
        o.filter(pl.col("cancelled_order"))
        .group_by("period", "cancel_reason")
        .agg(orders_cancelled=pl.len())
        .join(summary.select("period", "orders"), on="period")
        .rename({"cancel_reason": "reason"})
    )
    ln_o = lines.join(o.select("order", "period", "channel", "cancelled_order"), on="order")
    line_ev = events.filter(pl.col("line").is_not_null()).group_by("order", "line").agg(
        shipped=pl.col("quantity").filter(pl.col("kind") == "shipped").sum(),
        returned=pl.col("quantity").filter(pl.col("kind") == "returned").sum(),
    )
    ln_o = ln_o.join(line_ev, on=["order", "line"], how="left").with_columns(
        shipped=pl.col("shipped").fill_null(0), returned=pl.col("returned").fill_null(0)
    )
    returns_by_sku = (
        ln_o.filter((pl.col("shipped") > 0) | (pl.col("returned") > 0))
        .group_by("period", "sku")
        .agg(units_shipped=pl.col("shipped").sum(), units_returned=pl.col("returned").sum())
    )
    returns_by_reason = (
        events.filter(pl.col("kind") == "returned")
        .join(o.select("order", "period"), on="order")
        .group_by("period", "reason")
        .agg(units_returned=pl.col("quantity").sum())
        .with_columns(total=pl.col("units_returned").sum().over("period"))
    )
    by_channel = o.group_by("period", "channel").agg(
        orders=pl.len(),
        units_net=pl.col("active").sum(),
        orders_shipped=pl.col("ship_done").sum(),
        orders_returned=(pl.col("returned") > 0).sum(),
        units_shipped=pl.col("shipped").sum(),
        units_returned=pl.col("returned").sum(),
    ).with_columns(
        period_orders=pl.col("orders").sum().over("period"),
        period_units=pl.col("units_net").sum().over("period"),
    )
    notes = (
        events.filter(pl.col("kind") == "notified")
        .with_columns(day=local_date("at"))
        .with_columns(period=period(grain))
        .group_by("period", "reason")
        .agg(notifications=pl.len())
        .rename({"reason": "template"})
    )
    return {
        "summary": summary,
        "revenue": revenue,
        "cancellations": cancellations,
        "returns_by_sku": returns_by_sku,
        "returns_by_reason": returns_by_reason,
        "channel_mix": by_channel,
        "notifications": notes,
    }


def ratio(n: int | None, d: int | None) -> float | None:
    if not d:
        return None
    return (n or 0) / d


def half_even_div(n: int, d: int) -> int:
    q, r = divmod(n, d)
    if 2 * r > d or (2 * r == d and q % 2 == 1):
        q += 1
    return q


def money(minor: int, scale: int) -> Decimal:
    return Decimal(minor).scaleb(-scale)


def expected_rows(res: dict[str, pl.DataFrame]) -> dict[str, dict[tuple, dict[str, object]]]:
    """The oracle's values, shaped like ordersmith's tables: table → key → column → value."""
    out: dict[str, dict[tuple, dict[str, object]]] = {}
    s: dict[tuple, dict[str, object]] = {}
    for r in res["summary"].iter_rows(named=True):
        row = {k: r[k] for k in r if k not in ("period", "orders_active")}
        row["cancellation_rate"] = ratio(r["orders_cancelled"], r["orders"])
        row["units_per_order"] = ratio(r["units_net"], r["orders_active"])
        row["on_time_ship_rate"] = ratio(r["shipped_on_time"], r["ship_judged"])
        row["on_time_delivery_rate"] = ratio(r["delivered_on_time"], r["delivery_judged"])
        row["perfect_order_rate"] = ratio(r["perfect_orders"], r["orders_delivered"])
        row["return_rate_orders"] = ratio(r["orders_returned"], r["orders_shipped"])
        row["return_rate_units"] = ratio(r["units_returned"], r["units_shipped"])
        row["fill_rate"] = ratio(r["units_shipped"], r["units_shipped"] + r["units_cancelled_inventory"])
        row["backorder_rate"] = ratio(r["orders_backordered"], r["orders_confirmed"])
        s[(r["period"],)] = row
    out["summary"] = s
    rv: dict[tuple, dict[str, object]] = {}
    for r in res["revenue"].iter_rows(named=True):
        sc, sales = r["scale"], r["gross"] - r["discounts"]
        rv[(r["period"], r["currency"])] = {
            "orders": r["orders"],
            "gross": money(r["gross"], sc),
            "discounts": money(r["discounts"], sc),
            "refunds": money(r["refunds"], sc),
            "net": money(sales - r["refunds"], sc),
            "aov": money(half_even_div(sales, r["orders"]), sc) if r["orders"] else None,
        }
    out["revenue"] = rv
    out["cancellations"] = {
        (r["period"], r["reason"]): {"orders_cancelled": r["orders_cancelled"], "rate": ratio(r["orders_cancelled"], r["orders"])}
        for r in res["cancellations"].iter_rows(named=True)
    }
    out["returns_by_sku"] = {
        (r["period"], r["sku"]): {
            "units_shipped": r["units_shipped"],
            "units_returned": r["units_returned"],
            "return_rate_units": ratio(r["units_returned"], r["units_shipped"]),
        }
        for r in res["returns_by_sku"].iter_rows(named=True)
    }
    out["returns_by_reason"] = {
        (r["period"], r["reason"]): {"units_returned": r["units_returned"], "share_of_returned_units": ratio(r["units_returned"], r["total"])}
        for r in res["returns_by_reason"].iter_rows(named=True)
    }
    mix: dict[tuple, dict[str, object]] = {}
    rc: dict[tuple, dict[str, object]] = {}
    for r in res["channel_mix"].iter_rows(named=True):
        key = (r["period"], r["channel"])
        mix[key] = {
            "orders": r["orders"],
            "orders_share": ratio(r["orders"], r["period_orders"]),
            "units_net": r["units_net"],
            "units_share": ratio(r["units_net"], r["period_units"]),
        }
        rc[key] = {
            "orders_shipped": r["orders_shipped"],
            "orders_returned": r["orders_returned"],
            "return_rate_orders": ratio(r["orders_returned"], r["orders_shipped"]),
            "units_shipped": r["units_shipped"],
            "units_returned": r["units_returned"],
            "return_rate_units": ratio(r["units_returned"], r["units_shipped"]),
        }
    out["channel_mix"] = mix
    out["returns_by_channel"] = rc
    out["notifications"] = {(r["period"], r["template"]): {"notifications": r["notifications"]} for r in res["notifications"].iter_rows(named=True)}
    return out


KEYS = {
    "summary": ["period"],
    "revenue": ["period", "currency"],
    "cancellations": ["period", "reason"],
    "returns_by_sku": ["period", "sku"],
    "returns_by_reason": ["period", "reason"],
    "channel_mix": ["period", "channel"],
    "returns_by_channel": ["period", "channel"],
    "notifications": ["period", "template"],
}


def same(want: object, got: object) -> bool:
    if want is None or got is None:
        return want is None and got is None
    if isinstance(want, float):
        return abs(want - float(str(got))) <= 1e-9
    if isinstance(want, Decimal):
        return isinstance(got, str) and Decimal(got) == want
    return bool(want == got)


def check(expected: dict[str, dict[tuple, dict[str, object]]], ours: dict) -> list[str]:
    problems: list[str] = []
    tables = {t["name"]: t for t in ours["tables"]}
    for name, want_rows in expected.items():
        got_rows = {tuple(r[k] for k in KEYS[name]): r for r in tables[name]["rows"]}
        if set(got_rows) != set(want_rows):
            problems.append(f"{name}: keys differ: only polars {sorted(set(want_rows) - set(got_rows))[:3]}, only ordersmith {sorted(set(got_rows) - set(want_rows))[:3]}")
            continue
        for key, want in want_rows.items():
            got = got_rows[key]
            for col, value in want.items():
                if not same(value, got.get(col)):
                    problems.append(f"{name} {key} {col}: polars {value!r}, ordersmith {got.get(col)!r}")
    return problems


def main() -> int:
    d = Path(sys.argv[1])
    do_check = "--check" in sys.argv
    data = load(d)
    timings = {}
    results = {}
    for grain in ("day", "month"):
        started = time.perf_counter()
        res = compute(data, grain)
        timings[grain] = (time.perf_counter() - started) * 1e3
        results[grain] = res
    rows = sum(len(df) for df in data.values())
    print(json.dumps({"polars": pl.__version__, "threads": pl.thread_pool_size(), "input_rows": rows, "compute_ms": timings}))
    if do_check:
        ours = json.loads((d / "ordersmith.json").read_text())
        problems = []
        for grain in ("day", "month"):
            problems += [f"{grain}: {p}" for p in check(expected_rows(results[grain]), ours[grain])]
        if problems:
            print(f"{len(problems)} differences, first ones:", file=sys.stderr)
            for p in problems[:20]:
                print("  " + p, file=sys.stderr)
            return 1
        compared = sum(len(v) for v in expected_rows(results["day"]).values()) + sum(len(v) for v in expected_rows(results["month"]).values())
        print(f"polars oracle agrees with ordersmith on {compared} rows (day and month grain)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
