"""The KPI definitions of docs/kpi.md written again in polars: an independent oracle
for ordersmith's KPIs, and the baseline of its benchmark.

Input: the history written by `cargo run --release --example kpi_history -- N DIR`
(CSV files of exactly the facts ordersmith was fed) and ordersmith's tables for it
(DIR/ordersmith.json, with the two queries they answer: day grain; month grain with
an `as_of` instant). It computes every table ordersmith exports (summary, revenue,
cancellations, returns by reason / SKU / channel, channel mix, SKU sales, stock,
count accuracy, notifications, late shipments, segments) for both queries, times
that (reading the files excluded, as ordersmith's feeding is), and with --check
compares every column of every row with ordersmith's: integers and money exactly,
rates to 1e-9, the 4-decimal stock figures exactly, late shipments in order.

Written the way a polars user would for speed: lazy frames, ids read as categoricals
(polars' interning, as ordersmith interns ids when facts are fed), one group-by per
event kind, order-level facts joined once, then one small group-by per table.

The generator cancels only whole orders and only before anything ships, and never
changes or cancels single lines, so "cancelled units" here is "every unit of a
cancelled order" and a cancelled order's gross and discounts are 0: the general rule
(open units at the time of the cancellation, discount split by largest remainder) is
not needed for it.

    POLARS_MAX_THREADS=1 python benches/peers/kpi_polars.py DIR [--check] [--repeat N]
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import polars as pl

TZ = "Europe/Istanbul"
KINDS = ["confirmed", "backordered", "cancelled", "shipped", "delivered", "returned", "refunded", "notified"]
CAT = pl.Categorical


def load(d: Path) -> dict[str, pl.DataFrame]:
    """Reads the CSV files (once converted to Parquet next to them; not timed)."""
    schemas: dict[str, dict[str, pl.DataType | type[pl.DataType]]] = {
        "orders": {
            "order": CAT,
            "placed_at": pl.Int64,
            "channel": CAT,
            "segment": CAT,
            "currency": CAT,
            "scale": pl.Int32,
            "ship_by": pl.Int64,
            "promised_by": pl.Date,
        },
        "lines": {
            "order": CAT,
            "line": CAT,
            "sku": CAT,
            "quantity": pl.Int64,
            "price_minor": pl.Int64,
            "discount_minor": pl.Int64,
        },
        "events": {
            "order": CAT,
            "kind": pl.Enum(KINDS),
            "line": CAT,
            "quantity": pl.Int64,
            "at": pl.Int64,
            "reason": CAT,
            "amount_minor": pl.Int64,
        },
        "stock": {"sku": CAT, "location": CAT, "at": pl.Int64, "change": pl.Int64, "flow": CAT},
        "counts": {"sku": CAT, "location": CAT, "at": pl.Int64, "expected": pl.Int64, "counted": pl.Int64},
    }
    out = {}
    for name, schema in schemas.items():
        csv, pq = d / f"{name}.csv", d / f"{name}.parquet"
        if pq.exists() and pq.stat().st_mtime >= csv.stat().st_mtime:
            out[name] = pl.read_parquet(pq)
        else:
            out[name] = pl.read_csv(csv, schema=schema)
            out[name].write_parquet(pq)
    # The row number of an order is its place in the history (ordersmith's tie-break
    # for late shipments that are equally late).
    out["orders"] = out["orders"].with_row_index("seq")
    return out


def local_date(e: pl.Expr) -> pl.Expr:
    return pl.from_epoch(e, time_unit="s").dt.replace_time_zone("UTC").dt.convert_time_zone(TZ).dt.date()


def with_period(grain: str, day: str = "day") -> list[pl.Expr]:
    if grain == "day":
        start = pl.col(day)
        label = start.dt.strftime("%Y-%m-%d")
    else:
        start = pl.col(day).dt.truncate("1mo")
        label = start.dt.strftime("%Y-%m")
    return [label.alias("period"), start.alias("period_start")]


def nearest_rank(col: str, p: int) -> pl.Expr:
    v = pl.col(col).drop_nulls().sort()
    n = pl.col(col).drop_nulls().len()
    # 1-based rank ceil(p·n/100), at least 1; null when there are no values.
    return v.get(((n * p + 99) // 100 - 1).clip(0), null_on_oob=True)


def rate(n: str | pl.Expr, d: str | pl.Expr) -> pl.Expr:
    n = pl.col(n) if isinstance(n, str) else n
    d = pl.col(d) if isinstance(d, str) else d
    return pl.when(d != 0).then(n / d).otherwise(None)


def order_frame(data: dict[str, pl.DataFrame]) -> pl.LazyFrame:
    """One row per order: its placement, line totals and what happened to it."""
    orders, lines, events = data["orders"].lazy(), data["lines"].lazy(), data["events"].lazy()
    kind = pl.col("kind")
    ship = events.filter(kind == "shipped").group_by("order").agg(
        shipped=pl.col("quantity").sum(), last_ship=pl.col("at").max()
    )
    delivery = events.filter(kind == "delivered").group_by("order").agg(
        delivered=pl.col("quantity").sum(), last_delivery=pl.col("at").max()
    )
    other = (
        events.filter(kind.is_in(["confirmed", "backordered", "cancelled", "returned", "refunded"]))
        .group_by("order")
        .agg(
            confirmed=(kind == "confirmed").any(),
            backordered=(kind == "backordered").any(),
            cancel_reason=pl.col("reason").filter(kind == "cancelled").first(),
            returned=pl.col("quantity").filter(kind == "returned").sum(),
            refund=pl.col("amount_minor").filter(kind == "refunded").sum(),
        )
    )
    ln = lines.group_by("order").agg(
        ordered=pl.col("quantity").sum(),
        gross_all=(pl.col("price_minor") * pl.col("quantity")).sum(),
        discount_all=pl.col("discount_minor").sum(),
    )
    return (
        orders.join(ln, on="order", how="left")
        .join(ship, on="order", how="left")
        .join(delivery, on="order", how="left")
        .join(other, on="order", how="left")
        .with_columns(
            day=local_date(pl.col("placed_at")),
            cancelled_order=pl.col("cancel_reason").is_not_null(),
            confirmed=pl.col("confirmed").fill_null(False),
            backordered=pl.col("backordered").fill_null(False),
            shipped=pl.col("shipped").fill_null(0),
            delivered=pl.col("delivered").fill_null(0),
            returned=pl.col("returned").fill_null(0),
            refund=pl.col("refund").fill_null(0),
            ordered=pl.col("ordered").fill_null(0),
        )
        .with_columns(cancelled=pl.when(pl.col("cancelled_order")).then(pl.col("ordered")).otherwise(0))
        .with_columns(active=pl.col("ordered") - pl.col("cancelled"))
        .with_columns(
            is_active=pl.col("active") > 0,
            ship_done=(pl.col("active") > 0) & (pl.col("shipped") >= pl.col("active")) & pl.col("last_ship").is_not_null(),
            delivery_done=(pl.col("active") > 0)
            & (pl.col("delivered") >= pl.col("active"))
            & pl.col("last_delivery").is_not_null(),
        )
        .with_columns(
            gross=pl.when(pl.col("is_active")).then(pl.col("gross_all")).otherwise(0),
            discount=pl.when(pl.col("is_active")).then(pl.col("discount_all")).otherwise(0),
            ship_judged=pl.col("ship_done") & pl.col("ship_by").is_not_null(),
            delivery_judged=pl.col("delivery_done") & pl.col("promised_by").is_not_null(),
            ship_lead=pl.when(pl.col("ship_done")).then((pl.col("last_ship") - pl.col("placed_at")).clip(0)),
            delivery_lead=pl.when(pl.col("delivery_done")).then((pl.col("last_delivery") - pl.col("placed_at")).clip(0)),
        )
        .with_columns(
            on_time_ship=pl.col("ship_judged") & (pl.col("last_ship") <= pl.col("ship_by")),
            on_time_delivery=pl.col("delivery_judged")
            & (pl.when(pl.col("delivery_judged")).then(local_date(pl.col("last_delivery"))) <= pl.col("promised_by")),
            was_returned=pl.col("returned") > 0,
            cancelled_inventory=pl.when(pl.col("cancel_reason") == "inventory").then(pl.col("cancelled")).otherwise(0),
        )
        .with_columns(
            perfect=pl.col("delivery_done")
            & pl.col("ship_done")
            & (pl.col("cancelled") == 0)
            & (pl.col("returned") == 0)
            & (~pl.col("ship_judged") | pl.col("on_time_ship"))
            & (~pl.col("delivery_judged") | pl.col("on_time_delivery")),
        )
    )


def line_frame(data: dict[str, pl.DataFrame], o: pl.DataFrame) -> pl.LazyFrame:
    """One row per order line: shipped and returned units, active units, sales."""
    events, lines = data["events"].lazy(), data["lines"].lazy()
    per_line = (
        events.filter(pl.col("kind").is_in(["shipped", "returned"]))
        .group_by("order", "line")
        .agg(
            shipped=pl.col("quantity").filter(pl.col("kind") == "shipped").sum(),
            returned=pl.col("quantity").filter(pl.col("kind") == "returned").sum(),
        )
    )
    return (
        lines.join(o.lazy().select("order", "day", "currency", "scale", "cancelled_order"), on="order")
        .join(per_line, on=["order", "line"], how="left")
        .with_columns(
            shipped=pl.col("shipped").fill_null(0),
            returned=pl.col("returned").fill_null(0),
            active=pl.when(pl.col("cancelled_order")).then(0).otherwise(pl.col("quantity")),
        )
        .with_columns(
            sales=pl.when(pl.col("active") > 0)
            .then(pl.col("price_minor") * pl.col("active") - pl.col("discount_minor"))
            .otherwise(0)
        )
    )


def stock_table(data: dict[str, pl.DataFrame]) -> pl.LazyFrame:
    """Per SKU over the whole history (no date range): end-of-day on hand on every
    local day from the SKU's first movement to the last movement of any SKU. On hand
    only changes on days with movements, so each such day stands for the days up to
    the SKU's next one."""
    moves = data["stock"].lazy().with_columns(day=local_date(pl.col("at")))
    last = moves.select(pl.col("day").max().alias("last"))
    totals = moves.group_by("sku").agg(
        received=pl.col("change").filter(pl.col("flow") == "received").sum(),
        sold=-pl.col("change").filter(pl.col("flow") == "sold").sum(),
    )
    spans = (
        moves.group_by("sku", "day")
        .agg(change=pl.col("change").sum())
        .join(last, how="cross")
        .sort("sku", "day")
        .with_columns(
            on_hand=pl.col("change").cum_sum().over("sku"),
            until=pl.col("day").shift(-1).over("sku").fill_null(pl.col("last") + pl.duration(days=1)),
        )
        .with_columns(span=(pl.col("until") - pl.col("day")).dt.total_days())
        .group_by("sku")
        .agg(
            on_hand_end=pl.col("on_hand").last(),
            days=pl.col("span").sum(),
            stockout_days=pl.col("span").filter(pl.col("on_hand") <= 0).sum(),
            sum_on_hand=(pl.col("span") * pl.col("on_hand").clip(0)).sum(),
        )
    )
    return totals.join(spans, on="sku").with_columns(
        on_hand_start=pl.lit(0, pl.Int64),
        avg_on_hand=rate("sum_on_hand", "days"),
        turnover=rate(pl.col("sold") * pl.col("days"), pl.col("sum_on_hand")),
        days_of_inventory=rate("sum_on_hand", "sold"),
        sell_through=rate("sold", "received"),
    )


def tables(data: dict[str, pl.DataFrame], o: pl.DataFrame, ln: pl.DataFrame, grain: str, as_of: int | None) -> dict[str, pl.LazyFrame]:
    """Every table for one query (no filters; `as_of` for late shipments)."""
    op = o.lazy().with_columns(with_period(grain))
    lp = ln.lazy().with_columns(with_period(grain))
    keys = ["period", "period_start"]
    summary = op.group_by(keys).agg(
        orders=pl.len(),
        orders_confirmed=pl.col("confirmed").sum(),
        orders_cancelled=pl.col("cancelled_order").sum(),
        orders_active=pl.col("is_active").sum(),
        units_ordered=pl.col("ordered").sum(),
        units_cancelled=pl.col("cancelled").sum(),
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
        orders_returned=pl.col("was_returned").sum(),
        units_cancelled_inventory=pl.col("cancelled_inventory").sum(),
        orders_backordered=pl.col("backordered").sum(),
    ).with_columns(
        units_net=pl.col("units_ordered") - pl.col("units_cancelled"),
        cancellation_rate=rate("orders_cancelled", "orders"),
        units_per_order=rate(pl.col("units_ordered") - pl.col("units_cancelled"), pl.col("orders_active")),
        on_time_ship_rate=rate("shipped_on_time", "ship_judged"),
        on_time_delivery_rate=rate("delivered_on_time", "delivery_judged"),
        perfect_order_rate=rate("perfect_orders", "orders_delivered"),
        return_rate_orders=rate("orders_returned", "orders_shipped"),
        return_rate_units=rate("units_returned", "units_shipped"),
        fill_rate=rate(pl.col("units_shipped"), pl.col("units_shipped") + pl.col("units_cancelled_inventory")),
        backorder_rate=rate("orders_backordered", "orders_confirmed"),
    )
    revenue = op.group_by(*keys, "currency").agg(
        orders=pl.col("is_active").sum(),
        gross=pl.col("gross").sum(),
        discounts=pl.col("discount").sum(),
        refunds=pl.col("refund").sum(),
        scale=pl.col("scale").first(),
    )
    cancellations = (
        op.filter(pl.col("cancelled_order"))
        .group_by(*keys, "cancel_reason")
        .agg(orders_cancelled=pl.len())
        .join(summary.select("period", "orders"), on="period")
        .rename({"cancel_reason": "reason"})
        .with_columns(rate=rate("orders_cancelled", "orders"))
    )
    by_channel = (
        op.group_by(*keys, "channel")
        .agg(
            orders=pl.len(),
            units_net=pl.col("active").sum(),
            orders_shipped=pl.col("ship_done").sum(),
            orders_returned=pl.col("was_returned").sum(),
            units_shipped=pl.col("shipped").sum(),
            units_returned=pl.col("returned").sum(),
        )
        .with_columns(
            orders_share=rate(pl.col("orders"), pl.col("orders").sum().over("period")),
            units_share=rate(pl.col("units_net"), pl.col("units_net").sum().over("period")),
            return_rate_orders=rate("orders_returned", "orders_shipped"),
            return_rate_units=rate("units_returned", "units_shipped"),
        )
    )
    segments = (
        op.group_by(*keys, "segment")
        .agg(orders=pl.len(), orders_returned=pl.col("was_returned").sum(), orders_shipped=pl.col("ship_done").sum())
        .with_columns(
            orders_share=rate(pl.col("orders"), pl.col("orders").sum().over("period")),
            return_rate_orders=rate("orders_returned", "orders_shipped"),
        )
    )
    returns_by_sku = (
        lp.filter((pl.col("shipped") > 0) | (pl.col("returned") > 0))
        .group_by(*keys, "sku")
        .agg(units_shipped=pl.col("shipped").sum(), units_returned=pl.col("returned").sum())
        .with_columns(return_rate_units=rate("units_returned", "units_shipped"))
    )
    skus = lp.group_by(*keys, "sku", "currency").agg(
        units_net=pl.col("active").sum(), sales=pl.col("sales").sum(), scale=pl.col("scale").first()
    )
    returns_by_reason = (
        data["events"]
        .lazy()
        .filter(pl.col("kind") == "returned")
        .join(op.select("order", *keys), on="order")
        .group_by(*keys, "reason")
        .agg(units_returned=pl.col("quantity").sum())
        .with_columns(share_of_returned_units=rate(pl.col("units_returned"), pl.col("units_returned").sum().over("period")))
    )
    notifications = (
        data["events"]
        .lazy()
        .filter(pl.col("kind") == "notified")
        .with_columns(day=local_date(pl.col("at")))
        .with_columns(with_period(grain))
        .group_by(*keys, "reason")
        .agg(notifications=pl.len())
        .rename({"reason": "template"})
    )
    count_accuracy = (
        data["counts"]
        .lazy()
        .with_columns(day=local_date(pl.col("at")))
        .with_columns(with_period(grain))
        .group_by(keys)
        .agg(
            lines_counted=pl.len(),
            lines_accurate=(pl.col("counted") == pl.col("expected")).sum(),
            abs_variance_units=(pl.col("counted") - pl.col("expected")).abs().sum(),
        )
        .with_columns(accuracy=rate("lines_accurate", "lines_counted"))
    )
    judged_at = pl.when(pl.col("ship_done")).then(pl.col("last_ship")).otherwise(pl.lit(as_of, pl.Int64))
    late_shipments = (
        o.lazy()
        .filter(pl.col("ship_by").is_not_null() & pl.col("is_active"))
        .with_columns(late_by_s=judged_at - pl.col("ship_by"))
        .filter(pl.col("late_by_s") > 0)
        .sort(["late_by_s", "seq"], descending=[True, False])
        .select("order", "channel", "placed_at", "ship_by", shipped_at=pl.when(pl.col("ship_done")).then(pl.col("last_ship")), late_by_s="late_by_s")
    )
    return {
        "summary": summary,
        "revenue": revenue,
        "cancellations": cancellations,
        "returns_by_reason": returns_by_reason,
        "returns_by_sku": returns_by_sku,
        "returns_by_channel": by_channel,
        "channel_mix": by_channel,
        "skus": skus,
        "count_accuracy": count_accuracy,
        "notifications": notifications,
        "late_shipments": late_shipments,
        "segments": segments,
    }


def compute(data: dict[str, pl.DataFrame], queries: dict[str, dict]) -> dict[str, dict[str, pl.DataFrame]]:
    """Every table for every query: order and line frames once, then the tables."""
    o = order_frame(data).collect()
    ln = line_frame(data, o).collect()
    stock = stock_table(data)
    plans: list[tuple[str, str, pl.LazyFrame]] = [("*", "stock", stock)]
    for name, q in queries.items():
        as_of = int(datetime.fromisoformat(q["as_of"].replace("Z", "+00:00")).timestamp()) if q.get("as_of") else None
        for table, lf in tables(data, o, ln, q["grain"], as_of).items():
            plans.append((name, table, lf))
    frames = pl.collect_all([p[2] for p in plans])
    out: dict[str, dict[str, pl.DataFrame]] = {name: {} for name in queries}
    for (name, table, _), df in zip(plans, frames):
        for target in queries if name == "*" else [name]:
            out[target][table] = df
    return out


# ---- the comparison (not timed) ----


def half_even_div(n: int, d: int) -> int:
    q, r = divmod(n, d)
    if 2 * r > d or (2 * r == d and q % 2 == 1):
        q += 1
    return q


def money(minor: int, scale: int) -> Decimal:
    return Decimal(minor).scaleb(-scale)


def exact(n: int, d: int, dp: int) -> Decimal | None:
    """n / d rounded half-even to dp places, as ordersmith's 4-place stock figures."""
    if d == 0:
        return None
    return Decimal(half_even_div(n * 10**dp, d)).scaleb(-dp)


def rfc3339(s: int | None) -> str | None:
    if s is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s))


KEYS = {
    "summary": ["period"],
    "revenue": ["period", "currency"],
    "cancellations": ["period", "reason"],
    "returns_by_reason": ["period", "reason"],
    "returns_by_sku": ["period", "sku"],
    "returns_by_channel": ["period", "channel"],
    "channel_mix": ["period", "channel"],
    "skus": ["period", "sku", "currency"],
    "stock": ["sku"],
    "count_accuracy": ["period"],
    "notifications": ["period", "template"],
    "late_shipments": ["order"],
    "segments": ["period", "segment"],
}


def expected_rows(res: dict[str, pl.DataFrame], columns: dict[str, list[str]]) -> dict[str, list[tuple[tuple, dict[str, object]]]]:
    """The oracle's rows, shaped like ordersmith's tables: table → [(key, column → value)],
    with the columns ordersmith exports (every one of them must be here)."""
    out: dict[str, list[tuple[tuple, dict[str, object]]]] = {}
    for name, df in res.items():
        rows = []
        for r in df.iter_rows(named=True):
            if "period_start" in r:
                r["period_start"] = str(r["period_start"])
            if name == "revenue":
                sc, sales = r["scale"], r["gross"] - r["discounts"]
                r["aov"] = money(half_even_div(sales, r["orders"]), sc) if r["orders"] else None
                r["net"] = money(sales - r["refunds"], sc)
                for c in ("gross", "discounts", "refunds"):
                    r[c] = money(r[c], sc)
            if name == "skus":
                r["sales"] = money(r["sales"], r["scale"])
            if name == "stock":
                r["avg_on_hand"] = exact(r["sum_on_hand"], r["days"], 4)
                r["turnover"] = exact(r["sold"] * r["days"], r["sum_on_hand"], 4)
                r["days_of_inventory"] = exact(r["sum_on_hand"], r["sold"], 4)
            if name == "late_shipments":
                for c in ("placed_at", "ship_by", "shipped_at"):
                    r[c] = rfc3339(r[c])
            missing = [c for c in columns[name] if c not in r]
            if missing:
                raise SystemExit(f"the oracle does not compute {name}.{missing}")
            rows.append((tuple(str(r[k]) for k in KEYS[name]), {c: r[c] for c in columns[name]}))
        out[name] = rows
    return out


def same(want: object, got: object) -> bool:
    if want is None or got is None:
        return want is None and got is None
    if isinstance(want, bool):
        return False
    if isinstance(want, float):
        return abs(want - float(str(got))) <= 1e-9
    if isinstance(want, Decimal):
        return isinstance(got, str) and Decimal(got) == want
    if isinstance(want, int):
        return isinstance(got, int) and not isinstance(got, bool) and want == got
    return str(want) == str(got)


def check(expected: dict[str, list[tuple[tuple, dict[str, object]]]], ours: dict, only: str | None = None) -> tuple[list[str], int]:
    problems: list[str] = []
    compared = 0
    tables = {t["name"]: t for t in ours["tables"]}
    if set(tables) != set(expected):
        problems.append(f"tables differ: only polars {set(expected) - set(tables)}, only ordersmith {set(tables) - set(expected)}")
    for name, want_list in expected.items():
        if only is not None and name != only:
            continue
        got_list = [(tuple(str(r[k]) for k in KEYS[name]), r) for r in tables[name]["rows"]]
        want_rows, got_rows = dict(want_list), dict(got_list)
        if len(want_rows) != len(want_list) or len(got_rows) != len(got_list):
            problems.append(f"{name}: duplicate keys")
        if set(got_rows) != set(want_rows):
            problems.append(
                f"{name}: keys differ: only polars {sorted(set(want_rows) - set(got_rows))[:3]}, "
                f"only ordersmith {sorted(set(got_rows) - set(want_rows))[:3]}"
            )
            continue
        if name == "late_shipments" and [k for k, _ in want_list] != [k for k, _ in got_list]:
            problems.append(f"{name}: same orders in another order")
        for key, want in want_rows.items():
            got = got_rows[key]
            compared += 1
            for col, value in want.items():
                if not same(value, got.get(col)):
                    problems.append(f"{name} {key} {col}: polars {value!r}, ordersmith {got.get(col)!r}")
    return problems, compared


def queries_first(queries: dict) -> str:
    return next(iter(queries))


def main() -> int:
    d = Path(sys.argv[1])
    do_check = "--check" in sys.argv
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 1
    ours = json.loads((d / "ordersmith.json").read_text())
    queries = ours["queries"]
    data = load(d)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        results = compute(data, queries)
        timings.append((time.perf_counter() - started) * 1e3)
    rows = sum(len(df) for df in data.values())
    print(
        json.dumps(
            {
                "polars": pl.__version__,
                "threads": pl.thread_pool_size(),
                "input_rows": rows,
                "compute_ms": timings,
                "queries": list(queries),
            }
        )
    )
    if do_check:
        problems: list[str] = []
        compared = 0
        for name in queries:
            columns = {t["name"]: t["columns"] for t in ours[name]["tables"]}
            p, n = check(expected_rows(results[name], columns), ours[name])
            problems += [f"{name}: {x}" for x in p]
            compared += n
        if problems:
            print(f"{len(problems)} differences, first ones:", file=sys.stderr)
            for p in problems[:20]:
                print("  " + p, file=sys.stderr)
            return 1
        # The comparison can fail: every table, every query, has rows, and changing
        # one value of its first row (or its row order) is caught.
        for name in queries:
            columns = {t["name"]: t["columns"] for t in ours[name]["tables"]}
            expected = expected_rows(results[name], columns)
            for table in ours[name]["tables"]:
                if not table["rows"]:
                    print(f"{name}: {table['name']} has no rows: nothing compared", file=sys.stderr)
                    return 1
                row = table["rows"][0]
                col = table["columns"][-1]
                saved = row[col]
                row[col] = None if saved is not None else 0
                caught, _ = check(expected, ours[name], only=table["name"])
                row[col] = saved
                if not caught:
                    print(f"{name}: a change to {table['name']}.{col} went unnoticed", file=sys.stderr)
                    return 1
            late = next(t for t in ours[name]["tables"] if t["name"] == "late_shipments")["rows"]
            if len(late) > 1:
                late[0], late[1] = late[1], late[0]
                caught, _ = check(expected, ours[name], only="late_shipments")
                late[0], late[1] = late[1], late[0]
                if not caught:
                    print(f"{name}: late shipments out of order went unnoticed", file=sys.stderr)
                    return 1
        sizes = {t["name"]: len(t["rows"]) for t in ours[queries_first(queries)]["tables"]}
        print(f"polars oracle agrees with ordersmith on all {len(sizes)} tables, every column, {compared} rows ({', '.join(queries)}); rows per table ({queries_first(queries)}): {sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
