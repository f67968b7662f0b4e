//! The report: one self-contained HTML file (inline CSS and SVG, no script, nothing
//! fetched) with the headline KPIs, the insights, daily trends, return reasons, top
//! and bottom SKUs, late shipments and low-stock variants.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::book::{GroupAgg, KpiBook};
use super::insight::insights;
use super::query::KpiQuery;
use super::table::{Cell, KpiTable};
use super::time::Grain;
use super::KpiError;

/// What the report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// The page title, e.g. the shop's name.
    pub title: String,
    /// Range and filters (the grain is ignored: trends are daily, insights use
    /// `insight_grain`).
    pub query: KpiQuery,
    /// The grain whose last two periods the insights compare.
    pub insight_grain: Grain,
    /// Relative change that makes an insight (0.1 = 10 %).
    pub threshold: f64,
    /// "Now", for late open orders and the footer.
    pub as_of: Option<DateTime<Utc>>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            title: "Operations report".into(),
            query: KpiQuery::default(),
            insight_grain: Grain::IsoWeek,
            threshold: 0.1,
            as_of: None,
        }
    }
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn pct(c: &Cell) -> String {
    c.as_f64()
        .map_or("–".into(), |v| format!("{:.1} %", v * 100.0))
}

fn hours(c: &Cell) -> String {
    c.as_f64()
        .map_or("–".into(), |v| format!("{:.1} h", v / 3600.0))
}

/// A line chart of one series; `None` values leave a gap.
fn line_chart(title: &str, points: &[(String, Option<f64>)], percent: bool) -> String {
    let (w, h, pad) = (640.0, 170.0, 34.0);
    let values: Vec<f64> = points.iter().filter_map(|p| p.1).collect();
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">",
        esc(title),
        esc(title)
    );
    if values.is_empty() {
        svg.push_str("<text x=\"10\" y=\"40\">no data</text></svg></figure>");
        return svg;
    }
    let max = values
        .iter()
        .copied()
        .fold(f64::MIN, f64::max)
        .max(if percent { 0.0 } else { 1.0 });
    let min = values.iter().copied().fold(f64::MAX, f64::min).min(0.0);
    let span = if max > min { max - min } else { 1.0 };
    let n = points.len().max(2) - 1;
    let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / n as f64;
    let y = |v: f64| h - pad + 10.0 - (h - 2.0 * pad) * (v - min) / span;
    let fmt = |v: f64| {
        if percent {
            format!("{:.0} %", v * 100.0)
        } else {
            format!("{v:.0}")
        }
    };
    let _ = write!(
        svg,
        "<line x1=\"{pad}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" class=\"axis\"/><text x=\"2\" y=\"{:.1}\" class=\"tick\">{}</text><text x=\"2\" y=\"{:.1}\" class=\"tick\">{}</text>",
        y(min), w - pad, y(min), y(max) + 4.0, esc(&fmt(max)), y(min), esc(&fmt(min))
    );
    let mut path = String::new();
    let mut pen_up = true;
    for (i, (_, v)) in points.iter().enumerate() {
        match v {
            Some(v) => {
                let _ = write!(
                    path,
                    "{}{:.1},{:.1} ",
                    if pen_up { "M" } else { "L" },
                    x(i),
                    y(*v)
                );
                pen_up = false;
            }
            None => pen_up = true,
        }
    }
    let _ = write!(svg, "<path d=\"{}\" class=\"line\"/>", path.trim_end());
    // A dot per value, so a single day still shows.
    for (i, (_, v)) in points.iter().enumerate() {
        if let Some(v) = v {
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" class=\"dot\"/>",
                x(i),
                y(*v)
            );
        }
    }
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let _ = write!(
            svg,
            "<text x=\"{pad}\" y=\"{:.1}\" class=\"tick\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{}</text>",
            h - 4.0, esc(&first.0), w - pad, h - 4.0, esc(&last.0)
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

/// A horizontal bar chart.
fn bar_chart(title: &str, items: &[(String, f64)]) -> String {
    let row = 22.0;
    let h = row * items.len().max(1) as f64 + 10.0;
    let max = items.iter().map(|i| i.1).fold(0.0, f64::max).max(1.0);
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg viewBox=\"0 0 640 {h}\" role=\"img\" aria-label=\"{}\">",
        esc(title),
        esc(title)
    );
    for (i, (label, v)) in items.iter().enumerate() {
        let top = 5.0 + row * i as f64;
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{:.1}\" class=\"tick\">{}</text><rect x=\"170\" y=\"{top:.1}\" width=\"{:.1}\" height=\"16\" class=\"bar\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\">{v:.0}</text>",
            top + 12.0,
            esc(label),
            400.0 * v / max,
            176.0 + 400.0 * v / max,
            top + 12.0
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

fn html_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut t = String::from("<table><thead><tr>");
    for h in headers {
        let _ = write!(t, "<th>{}</th>", esc(h));
    }
    t.push_str("</tr></thead><tbody>");
    if rows.is_empty() {
        let _ = write!(t, "<tr><td colspan=\"{}\">none</td></tr>", headers.len());
    }
    for r in rows {
        t.push_str("<tr>");
        for c in r {
            let _ = write!(t, "<td>{}</td>", esc(c));
        }
        t.push_str("</tr>");
    }
    t.push_str("</tbody></table>");
    t
}

fn column(t: &KpiTable, name: &str) -> impl Fn(&[Cell]) -> Cell {
    let i = t.columns.iter().position(|c| *c == name);
    move |row: &[Cell]| i.and_then(|i| row.get(i)).cloned().unwrap_or(Cell::Null)
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1040px;color:#1d2330;background:#fafbfc}\
h1{font-size:26px;margin:0}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dde2ea;padding-bottom:4px}\
.sub{color:#5b6473}.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;margin-top:16px}\
.card{background:#fff;border:1px solid #dde2ea;border-radius:8px;padding:10px 12px}.card b{display:block;font-size:22px}\
.card span{color:#5b6473;font-size:12px}.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}\
figure{margin:0;background:#fff;border:1px solid #dde2ea;border-radius:8px;padding:8px}figcaption{font-weight:600;font-size:13px}\
svg{width:100%;height:auto}.line{fill:none;stroke:#2f6fdf;stroke-width:2}.dot{fill:#2f6fdf}.axis{stroke:#aab2bf}.bar{fill:#e07a3f}\
.tick{font-size:11px;fill:#5b6473}table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}\
th,td{border:1px solid #dde2ea;padding:4px 8px;text-align:left}th{background:#f0f3f7}\
ul.insights li{margin:4px 0}footer{margin-top:28px;color:#8a93a3;font-size:12px}";

/// Renders the report as one HTML document.
pub fn report_html(book: &KpiBook, options: &ReportOptions) -> Result<String, KpiError> {
    let mut day_query = options.query.clone();
    day_query.grain = Grain::Day;
    day_query.as_of = options.as_of;
    let tables = book.tables(&day_query)?;
    let f = book.filter(&day_query)?;
    let total = book
        .roll_up(&f, Grain::Month, |_, _| ())
        .remove(&())
        .unwrap_or_default();
    let by_currency = book.roll_up(&f, Grain::Month, |_, k| k.currency);
    let mut iq = options.query.clone();
    iq.grain = options.insight_grain;
    let found = insights(book, &iq, options.threshold)?;
    let empty = KpiTable {
        name: "",
        columns: &[],
        rows: Vec::new(),
    };
    let t = |name: &str| tables.table(name).unwrap_or(&empty);

    let mut html = String::new();
    let range = match (
        options.query.from,
        options.query.to,
        book.order_date_range(),
    ) {
        (Some(a), Some(b), _) => format!("{a} – {b}"),
        (a, b, Some((lo, hi))) => format!("{} – {}", a.unwrap_or(lo), b.unwrap_or(hi)),
        _ => "no orders".into(),
    };
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><style>{STYLE}</style></head><body><h1>{}</h1><p class=\"sub\">{} · days in {} · generated by ordersmith</p>",
        esc(&options.title),
        esc(&options.title),
        esc(&range),
        esc(book.time_zone().name())
    );

    // Headline cards.
    let card = |label: &str, value: String| {
        format!(
            "<div class=\"card\"><b>{}</b><span>{}</span></div>",
            esc(&value),
            esc(label)
        )
    };
    let ratio = |n: i64, d: i64| pct(&Cell::ratio(n, d));
    let mut sorted_ship = total.ship_secs.clone();
    sorted_ship.sort_unstable();
    html.push_str("<div class=\"cards\">");
    html.push_str(&card("orders", total.orders.to_string()));
    html.push_str(&card(
        "units",
        (total.units_ordered - total.units_cancelled).to_string(),
    ));
    for (cur, a) in &by_currency {
        if let Some(c) = book.currencies.get(*cur as usize) {
            let s = c.minor_units();
            html.push_str(&card(
                &format!("net revenue {}", c.code()),
                Cell::money(a.gross - a.discount - a.refund, s).to_string(),
            ));
            let aov = match Cell::ratio_dp(
                i128::from(a.gross - a.discount),
                i128::from(a.orders_active),
                0,
            ) {
                Cell::Decimal(d) => Cell::money(d.mantissa() as i64, s).to_string(),
                _ => "–".into(),
            };
            html.push_str(&card(&format!("AOV {}", c.code()), aov));
        }
    }
    html.push_str(&card(
        "on-time ship",
        ratio(total.shipped_on_time, total.ship_judged),
    ));
    html.push_str(&card(
        "on-time delivery",
        ratio(total.delivered_on_time, total.delivery_judged),
    ));
    html.push_str(&card(
        "perfect orders",
        ratio(total.orders_perfect, total.orders_delivered),
    ));
    html.push_str(&card(
        "return rate (units)",
        ratio(total.units_returned, total.units_shipped),
    ));
    html.push_str(&card(
        "cancellation rate",
        ratio(total.orders_cancelled, total.orders),
    ));
    html.push_str(&card(
        "fill rate",
        ratio(
            total.units_shipped,
            total.units_shipped + total.units_cancelled_inventory,
        ),
    ));
    html.push_str(&card(
        "order → ship p50",
        hours(&super::query::percentile(&sorted_ship, 50)),
    ));
    html.push_str(&card(
        "order → ship p90",
        hours(&super::query::percentile(&sorted_ship, 90)),
    ));
    html.push_str("</div>");

    html.push_str("<h2>What changed</h2><ul class=\"insights\">");
    if found.is_empty() {
        html.push_str(
            "<li>No KPI moved by more than the threshold between the last two periods.</li>",
        );
    }
    for i in &found {
        let _ = write!(html, "<li>{}</li>", esc(&i.sentence));
    }
    html.push_str("</ul>");

    // Daily trends.
    let summary = t("summary");
    let period = column(summary, "period");
    let series = |name: &str| -> Vec<(String, Option<f64>)> {
        let col = column(summary, name);
        summary
            .rows
            .iter()
            .map(|r| (period(r).to_string(), col(r).as_f64()))
            .collect()
    };
    html.push_str("<h2>Daily trends</h2><div class=\"grid\">");
    html.push_str(&line_chart("Orders per day", &series("orders"), false));
    let revenue = t("revenue");
    let (rp, rc, rn) = (
        column(revenue, "period"),
        column(revenue, "currency"),
        column(revenue, "net"),
    );
    let mut per_cur: BTreeMap<String, Vec<(String, Option<f64>)>> = BTreeMap::new();
    for r in &revenue.rows {
        per_cur
            .entry(rc(r).to_string())
            .or_default()
            .push((rp(r).to_string(), rn(r).as_f64()));
    }
    for (cur, pts) in &per_cur {
        html.push_str(&line_chart(
            &format!("Net revenue per day ({cur})"),
            pts,
            false,
        ));
    }
    html.push_str(&line_chart(
        "On-time ship rate",
        &series("on_time_ship_rate"),
        true,
    ));
    html.push_str(&line_chart(
        "Return rate (units)",
        &series("return_rate_units"),
        true,
    ));
    html.push_str("</div>");

    // Return reasons over the range.
    let rr = t("returns_by_reason");
    let (reason, units) = (column(rr, "reason"), column(rr, "units_returned"));
    let mut reasons: BTreeMap<String, f64> = BTreeMap::new();
    for r in &rr.rows {
        *reasons.entry(reason(r).to_string()).or_default() += units(r).as_f64().unwrap_or(0.0);
    }
    let mut reasons: Vec<(String, f64)> = reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    html.push_str("<h2>Returns</h2>");
    html.push_str(&bar_chart("Returned units by reason", &reasons));

    // SKUs over the range.
    let skus = t("skus");
    let (sku, cur, un, sales) = (
        column(skus, "sku"),
        column(skus, "currency"),
        column(skus, "units_net"),
        column(skus, "sales"),
    );
    let mut per_sku: BTreeMap<(String, String), (i64, rust_decimal::Decimal)> = BTreeMap::new();
    for r in &skus.rows {
        let e = per_sku
            .entry((sku(r).to_string(), cur(r).to_string()))
            .or_default();
        if let Cell::Int(u) = un(r) {
            e.0 += u;
        }
        if let Cell::Decimal(d) = sales(r) {
            e.1 += d;
        }
    }
    let mut ranked: Vec<_> = per_sku.into_iter().collect();
    ranked.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
    let fmt_rows = |it: &mut dyn Iterator<
        Item = &((String, String), (i64, rust_decimal::Decimal)),
    >|
     -> Vec<Vec<String>> {
        it.map(|((s, c), (u, v))| vec![s.clone(), u.to_string(), format!("{v} {c}")])
            .collect()
    };
    html.push_str("<h2>SKUs</h2><div class=\"grid\"><div><b>Top 10 by units</b>");
    html.push_str(&html_table(
        &["SKU", "units", "sales"],
        &fmt_rows(&mut ranked.iter().take(10)),
    ));
    html.push_str("</div><div><b>Bottom 10 by units</b>");
    html.push_str(&html_table(
        &["SKU", "units", "sales"],
        &fmt_rows(&mut ranked.iter().rev().take(10)),
    ));
    html.push_str("</div></div>");

    // Late shipments.
    let late = t("late_shipments");
    let cols = [
        "order",
        "channel",
        "placed_at",
        "ship_by",
        "shipped_at",
        "late_by_s",
    ];
    let getters: Vec<_> = cols.iter().map(|c| column(late, c)).collect();
    let late_rows: Vec<Vec<String>> = late
        .rows
        .iter()
        .take(15)
        .map(|r| {
            getters
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    let c = g(r);
                    match (i, &c) {
                        (4, Cell::Null) => "not shipped".into(),
                        (5, _) => hours(&c),
                        _ => c.to_string(),
                    }
                })
                .collect()
        })
        .collect();
    let _ = write!(html, "<h2>Late shipments ({} in all)</h2>", late.rows.len());
    html.push_str(&html_table(
        &[
            "order", "channel", "placed", "ship by", "shipped", "late by",
        ],
        &late_rows,
    ));

    // Low stock.
    let stock = t("stock");
    let (ss, end, out_days, sold, doi) = (
        column(stock, "sku"),
        column(stock, "on_hand_end"),
        column(stock, "stockout_days"),
        column(stock, "sold"),
        column(stock, "days_of_inventory"),
    );
    let mut low: Vec<&Vec<Cell>> = stock.rows.iter().collect();
    low.sort_by(|a, b| {
        let key = |r: &Vec<Cell>| {
            (
                end(r).as_f64().unwrap_or(0.0),
                -out_days(r).as_f64().unwrap_or(0.0),
            )
        };
        let (ka, kb) = (key(a), key(b));
        ka.0.total_cmp(&kb.0)
            .then(ka.1.total_cmp(&kb.1))
            .then(ss(a).to_string().cmp(&ss(b).to_string()))
    });
    let low_rows: Vec<Vec<String>> = low
        .into_iter()
        .take(15)
        .map(|r| {
            vec![
                ss(r).to_string(),
                end(r).to_string(),
                out_days(r).to_string(),
                sold(r).to_string(),
                doi(r).to_string(),
            ]
        })
        .collect();
    html.push_str("<h2>Low-stock variants</h2>");
    html.push_str(&html_table(
        &[
            "SKU",
            "on hand",
            "stockout days",
            "sold",
            "days of inventory",
        ],
        &low_rows,
    ));

    // Notifications.
    let notes = t("notifications");
    let (tpl, n) = (column(notes, "template"), column(notes, "notifications"));
    let mut per_tpl: BTreeMap<String, f64> = BTreeMap::new();
    for r in &notes.rows {
        *per_tpl.entry(tpl(r).to_string()).or_default() += n(r).as_f64().unwrap_or(0.0);
    }
    let per_tpl: Vec<(String, f64)> = per_tpl.into_iter().collect();
    html.push_str("<h2>Customer notifications</h2>");
    html.push_str(&bar_chart("Notifications by template", &per_tpl));

    let _ = write!(
        html,
        "<footer>Definitions: docs/kpi.md. Orders count on their placed date (local). {}</footer></body></html>",
        options.as_of.map_or(String::new(), |t| format!("As of {}.", t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
    );
    let _ = GroupAgg::default();
    Ok(html)
}
