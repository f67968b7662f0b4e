//! Reading the book: periods, filters and the KPI tables.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::book::{GroupAgg, KpiBook, NONE_DAY, NONE_I64};
use super::fact::{cancel_reason_name, StockFlow, CANCEL_REASONS};
use super::table::{Cell, KpiTable, KpiTables};
use super::time::{bucket_of, date_of, day_of_date, Grain};
use super::KpiError;

/// What to compute: the grain, the local date range and the filters. Empty filter
/// lists mean "all". See the module documentation for which filter applies to which
/// table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KpiQuery {
    /// Day, ISO week or month.
    pub grain: Grain,
    /// First local date included (orders by their placed date).
    pub from: Option<NaiveDate>,
    /// Last local date included.
    pub to: Option<NaiveDate>,
    /// Only these channels.
    pub channels: Vec<String>,
    /// Only these customer segments.
    pub segments: Vec<String>,
    /// Only these currencies (ISO codes).
    pub currencies: Vec<String>,
    /// Only these SKUs (line, return and stock tables).
    pub skus: Vec<String>,
    /// Only these locations (stock and count tables).
    pub locations: Vec<String>,
    /// "Now" for the late-shipments table: open orders past their ship-by at this
    /// instant are late too. Without it only shipped orders are judged.
    pub as_of: Option<DateTime<Utc>>,
}

/// The names of the tables, in the order [`KpiBook::tables`] returns them.
pub const TABLE_NAMES: [&str; 13] = [
    "summary",
    "revenue",
    "cancellations",
    "returns_by_reason",
    "returns_by_sku",
    "returns_by_channel",
    "channel_mix",
    "skus",
    "stock",
    "count_accuracy",
    "notifications",
    "late_shipments",
    "segments",
];

/// Interned filters: `None` means all.
pub(crate) struct Filter {
    pub(crate) channels: Option<Vec<bool>>,
    pub(crate) segments: Option<Vec<bool>>,
    pub(crate) currencies: Option<Vec<bool>>,
    pub(crate) skus: Option<Vec<bool>>,
    pub(crate) locations: Option<Vec<bool>>,
    pub(crate) from: i32,
    pub(crate) to: i32,
}

fn mask(names: &[String], interner: &super::book::Interner) -> Option<Vec<bool>> {
    if names.is_empty() {
        return None;
    }
    let mut m = vec![false; interner.len()];
    for n in names {
        if let Some(i) = interner.get(n) {
            if let Some(slot) = m.get_mut(i as usize) {
                *slot = true;
            }
        }
    }
    Some(m)
}

fn allowed(mask: &Option<Vec<bool>>, i: u32) -> bool {
    mask.as_ref()
        .is_none_or(|m| m.get(i as usize).copied().unwrap_or(false))
}

impl GroupAgg {
    pub(crate) fn add(&mut self, o: &GroupAgg) {
        self.orders += o.orders;
        self.orders_confirmed += o.orders_confirmed;
        self.orders_cancelled += o.orders_cancelled;
        for (a, b) in self
            .cancelled_by_reason
            .iter_mut()
            .zip(o.cancelled_by_reason)
        {
            *a += b;
        }
        self.orders_active += o.orders_active;
        self.units_ordered += o.units_ordered;
        self.units_cancelled += o.units_cancelled;
        self.units_cancelled_inventory += o.units_cancelled_inventory;
        self.units_shipped += o.units_shipped;
        self.units_delivered += o.units_delivered;
        self.units_returned += o.units_returned;
        self.orders_shipped += o.orders_shipped;
        self.ship_judged += o.ship_judged;
        self.shipped_on_time += o.shipped_on_time;
        self.orders_delivered += o.orders_delivered;
        self.delivery_judged += o.delivery_judged;
        self.delivered_on_time += o.delivered_on_time;
        self.orders_perfect += o.orders_perfect;
        self.orders_returned += o.orders_returned;
        self.orders_backordered += o.orders_backordered;
        self.gross += o.gross;
        self.discount += o.discount;
        self.refund += o.refund;
        self.ship_secs.extend_from_slice(&o.ship_secs);
        self.delivery_secs.extend_from_slice(&o.delivery_secs);
    }
}

/// Nearest-rank percentile of a sorted list: the value at 1-based rank ⌈p·n/100⌉.
pub(crate) fn percentile(sorted: &[u32], p: usize) -> Cell {
    if sorted.is_empty() {
        return Cell::Null;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted
        .get(rank - 1)
        .map_or(Cell::Null, |v| Cell::Int(i64::from(*v)))
}

/// A period: its first local date and label.
pub(crate) type Period = (NaiveDate, String);

/// Day numbers to periods, computed once per query: period indices are in
/// chronological order.
pub(crate) struct Periods {
    first: i32,
    index: Vec<u32>,
    pub(crate) list: Vec<Period>,
}

impl Periods {
    pub(crate) fn new(grain: Grain, lo: i32, hi: i32) -> Periods {
        let mut p = Periods {
            first: lo,
            index: Vec::new(),
            list: Vec::new(),
        };
        if lo > hi {
            return p;
        }
        for day in lo..=hi {
            let period = bucket_of(grain, date_of(day));
            if p.list.last().is_none_or(|last| last.0 != period.0) {
                p.list.push(period);
            }
            p.index
                .push(u32::try_from(p.list.len().saturating_sub(1)).unwrap_or(0));
        }
        p
    }

    /// The period index of a day.
    pub(crate) fn of(&self, day: i32) -> Option<u32> {
        let i = usize::try_from(i64::from(day) - i64::from(self.first)).ok()?;
        self.index.get(i).copied()
    }

    /// The period of an index.
    pub(crate) fn get(&self, i: u32) -> Period {
        self.list
            .get(i as usize)
            .cloned()
            .unwrap_or((NaiveDate::MIN, String::new()))
    }
}

impl KpiBook {
    pub(crate) fn filter(&self, q: &KpiQuery) -> Result<Filter, KpiError> {
        if let (Some(f), Some(t)) = (q.from, q.to) {
            if f > t {
                return Err(KpiError::InvalidRange);
            }
        }
        let currencies = if q.currencies.is_empty() {
            None
        } else {
            Some(
                self.currencies
                    .iter()
                    .map(|c| q.currencies.iter().any(|w| w == c.code()))
                    .collect(),
            )
        };
        Ok(Filter {
            channels: mask(&q.channels, &self.channels),
            segments: mask(&q.segments, &self.segments),
            currencies,
            skus: mask(&q.skus, &self.skus),
            locations: mask(&q.locations, &self.locations),
            from: q.from.map_or(i32::MIN, day_of_date),
            to: q.to.map_or(i32::MAX, day_of_date),
        })
    }

    /// Whether an order group passes the day range and the order filters.
    pub(crate) fn group_allowed(&self, f: &Filter, g: u32) -> bool {
        self.group_keys.get(g as usize).is_some_and(|k| {
            k.day >= f.from
                && k.day <= f.to
                && allowed(&f.channels, k.channel)
                && allowed(&f.segments, k.segment)
                && allowed(&f.currencies, u32::from(k.currency))
        })
    }

    /// Sums the allowed groups by a key derived from (period, group key).
    pub(crate) fn roll_up<K: Ord>(
        &self,
        f: &Filter,
        grain: Grain,
        key: impl Fn(&Period, &super::book::GroupKey) -> K,
    ) -> BTreeMap<K, GroupAgg> {
        let mut periods: BTreeMap<i32, Period> = BTreeMap::new();
        let mut out: BTreeMap<K, GroupAgg> = BTreeMap::new();
        for (g, (k, agg)) in self.group_keys.iter().zip(&self.groups).enumerate() {
            let Ok(g) = u32::try_from(g) else { continue };
            if !self.group_allowed(f, g) || agg.orders == 0 {
                continue;
            }
            let period = periods
                .entry(k.day)
                .or_insert_with(|| bucket_of(grain, date_of(k.day)));
            out.entry(key(period, k)).or_default().add(agg);
        }
        out
    }

    pub(crate) fn period_of(&self, grain: Grain, day: i32) -> Period {
        bucket_of(grain, date_of(day))
    }

    /// Every KPI table for the query.
    pub fn tables(&self, q: &KpiQuery) -> Result<KpiTables, KpiError> {
        let f = self.filter(q)?;
        let p = self.periods(q.grain);
        let tables = TABLE_NAMES
            .iter()
            .map(|name| self.compute(name, &f, &p, q))
            .collect();
        Ok(KpiTables {
            time_zone: self.tz.name().to_string(),
            grain: q.grain,
            tables,
        })
    }

    /// One table by name.
    pub fn table(&self, name: &str, q: &KpiQuery) -> Result<KpiTable, KpiError> {
        if !TABLE_NAMES.contains(&name) {
            return Err(KpiError::UnknownTable {
                name: name.chars().take(40).collect(),
            });
        }
        let f = self.filter(q)?;
        Ok(self.compute(name, &f, &self.periods(q.grain), q))
    }

    /// The periods of every day the book has data for.
    pub(crate) fn periods(&self, grain: Grain) -> Periods {
        let days = self
            .group_keys
            .iter()
            .map(|k| k.day)
            .chain(self.notes.iter().map(|n| n.day))
            .chain(self.counts.iter().map(|c| c.day));
        let (lo, hi) = days.fold((i32::MAX, i32::MIN), |(lo, hi), d| (lo.min(d), hi.max(d)));
        Periods::new(grain, lo, hi)
    }

    fn compute(&self, name: &str, f: &Filter, p: &Periods, q: &KpiQuery) -> KpiTable {
        let g = q.grain;
        match name {
            "summary" => self.summary(f, g),
            "revenue" => self.revenue(f, g),
            "cancellations" => self.cancellations(f, g),
            "returns_by_reason" => self.returns_by_reason(f, p),
            "returns_by_sku" => self.returns_by_sku(f, p),
            "returns_by_channel" => self.returns_by_channel(f, g),
            "channel_mix" => self.channel_mix(f, g),
            "skus" => self.sku_sales(f, p),
            "stock" => self.stock(f),
            "count_accuracy" => self.count_accuracy(f, p),
            "notifications" => self.notifications(f, p),
            "late_shipments" => self.late_shipments(f, q.as_of),
            _ => self.segment_mix(f, g),
        }
    }

    fn summary(&self, f: &Filter, grain: Grain) -> KpiTable {
        let by = self.roll_up(f, grain, |p, _| p.clone());
        let rows = by
            .into_iter()
            .map(|((start, label), mut a)| {
                a.ship_secs.sort_unstable();
                a.delivery_secs.sort_unstable();
                let net_units = a.units_ordered - a.units_cancelled;
                vec![
                    Cell::Text(label),
                    Cell::Text(start.to_string()),
                    Cell::Int(a.orders),
                    Cell::Int(a.orders_confirmed),
                    Cell::Int(a.orders_cancelled),
                    Cell::ratio(a.orders_cancelled, a.orders),
                    Cell::Int(a.units_ordered),
                    Cell::Int(a.units_cancelled),
                    Cell::Int(net_units),
                    Cell::ratio(net_units, a.orders_active),
                    Cell::Int(a.units_shipped),
                    Cell::Int(a.units_delivered),
                    Cell::Int(a.units_returned),
                    Cell::Int(a.orders_shipped),
                    percentile(&a.ship_secs, 50),
                    percentile(&a.ship_secs, 90),
                    percentile(&a.ship_secs, 100),
                    Cell::Int(a.orders_delivered),
                    percentile(&a.delivery_secs, 50),
                    percentile(&a.delivery_secs, 90),
                    percentile(&a.delivery_secs, 100),
                    Cell::Int(a.ship_judged),
                    Cell::Int(a.shipped_on_time),
                    Cell::ratio(a.shipped_on_time, a.ship_judged),
                    Cell::Int(a.delivery_judged),
                    Cell::Int(a.delivered_on_time),
                    Cell::ratio(a.delivered_on_time, a.delivery_judged),
                    Cell::Int(a.orders_perfect),
                    Cell::ratio(a.orders_perfect, a.orders_delivered),
                    Cell::Int(a.orders_returned),
                    Cell::ratio(a.orders_returned, a.orders_shipped),
                    Cell::ratio(a.units_returned, a.units_shipped),
                    Cell::Int(a.units_cancelled_inventory),
                    Cell::ratio(
                        a.units_shipped,
                        a.units_shipped + a.units_cancelled_inventory,
                    ),
                    Cell::Int(a.orders_backordered),
                    Cell::ratio(a.orders_backordered, a.orders_confirmed),
                ]
            })
            .collect();
        KpiTable {
            name: "summary",
            columns: &[
                "period",
                "period_start",
                "orders",
                "orders_confirmed",
                "orders_cancelled",
                "cancellation_rate",
                "units_ordered",
                "units_cancelled",
                "units_net",
                "units_per_order",
                "units_shipped",
                "units_delivered",
                "units_returned",
                "orders_shipped",
                "order_to_ship_p50_s",
                "order_to_ship_p90_s",
                "order_to_ship_max_s",
                "orders_delivered",
                "order_to_delivery_p50_s",
                "order_to_delivery_p90_s",
                "order_to_delivery_max_s",
                "ship_judged",
                "shipped_on_time",
                "on_time_ship_rate",
                "delivery_judged",
                "delivered_on_time",
                "on_time_delivery_rate",
                "perfect_orders",
                "perfect_order_rate",
                "orders_returned",
                "return_rate_orders",
                "return_rate_units",
                "units_cancelled_inventory",
                "fill_rate",
                "orders_backordered",
                "backorder_rate",
            ],
            rows,
        }
    }

    fn revenue(&self, f: &Filter, grain: Grain) -> KpiTable {
        let by = self.roll_up(f, grain, |p, k| (p.clone(), k.currency));
        let rows = by
            .into_iter()
            .filter_map(|(((start, label), cur), a)| {
                let currency = self.currencies.get(cur as usize)?;
                let scale = currency.minor_units();
                let sales = a.gross - a.discount;
                Some(vec![
                    Cell::Text(label),
                    Cell::Text(start.to_string()),
                    Cell::Text(currency.code().to_string()),
                    Cell::Int(a.orders_active),
                    Cell::money(a.gross, scale),
                    Cell::money(a.discount, scale),
                    Cell::money(a.refund, scale),
                    Cell::money(sales - a.refund, scale),
                    match Cell::ratio_dp(i128::from(sales), i128::from(a.orders_active), 0) {
                        Cell::Decimal(d) => Cell::money(d.mantissa() as i64, scale),
                        other => other,
                    },
                ])
            })
            .collect();
        KpiTable {
            name: "revenue",
            columns: &[
                "period",
                "period_start",
                "currency",
                "orders",
                "gross",
                "discounts",
                "refunds",
                "net",
                "aov",
            ],
            rows,
        }
    }

    fn cancellations(&self, f: &Filter, grain: Grain) -> KpiTable {
        let by = self.roll_up(f, grain, |p, _| p.clone());
        let mut rows = Vec::new();
        for ((start, label), a) in by {
            for (reason, n) in CANCEL_REASONS.iter().zip(a.cancelled_by_reason) {
                if n == 0 {
                    continue;
                }
                rows.push(vec![
                    Cell::Text(label.clone()),
                    Cell::Text(start.to_string()),
                    Cell::Text(cancel_reason_name(*reason).to_string()),
                    Cell::Int(n),
                    Cell::Int(a.orders),
                    Cell::ratio(n, a.orders),
                ]);
            }
        }
        KpiTable {
            name: "cancellations",
            columns: &[
                "period",
                "period_start",
                "reason",
                "orders_cancelled",
                "orders",
                "rate",
            ],
            rows,
        }
    }

    /// Whether a line passes the order filters (through its order's group) and the
    /// SKU filter; its order's placed day.
    pub(crate) fn line_allowed(
        &self,
        f: &Filter,
        line: u32,
    ) -> Option<(i32, u32, &super::book::LineRow)> {
        let l = self.lines.get(line as usize)?;
        let row = self.rows.get(l.order as usize)?;
        if !allowed(&f.skus, l.sku) || !self.group_allowed(f, row.group) {
            return None;
        }
        Some((row.day, row.group, l))
    }

    fn returns_by_reason(&self, f: &Filter, periods: &Periods) -> KpiTable {
        let mut by: BTreeMap<(u32, &str), i64> = BTreeMap::new();
        let mut totals: BTreeMap<u32, i64> = BTreeMap::new();
        for r in &self.returns {
            let Some((day, _, _)) = self.line_allowed(f, r.line) else {
                continue;
            };
            let Some(p) = periods.of(day) else { continue };
            *by.entry((p, self.return_reasons.name(r.reason)))
                .or_default() += i64::from(r.units);
            *totals.entry(p).or_default() += i64::from(r.units);
        }
        let rows = by
            .into_iter()
            .map(|((p, reason), n)| {
                let total = totals.get(&p).copied().unwrap_or(0);
                let (start, label) = periods.get(p);
                vec![
                    Cell::Text(label),
                    Cell::Text(start.to_string()),
                    Cell::Text(reason.to_string()),
                    Cell::Int(n),
                    Cell::ratio(n, total),
                ]
            })
            .collect();
        KpiTable {
            name: "returns_by_reason",
            columns: &[
                "period",
                "period_start",
                "reason",
                "units_returned",
                "share_of_returned_units",
            ],
            rows,
        }
    }

    fn returns_by_sku(&self, f: &Filter, periods: &Periods) -> KpiTable {
        // (shipped, returned) units per (period, sku).
        let mut by: BTreeMap<(u32, &str), (i64, i64)> = BTreeMap::new();
        for (i, _) in self.lines.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { continue };
            let Some((day, _, l)) = self.line_allowed(f, i) else {
                continue;
            };
            if l.shipped == 0 && l.returned == 0 {
                continue;
            }
            let Some(p) = periods.of(day) else { continue };
            let e = by.entry((p, self.skus.name(l.sku))).or_default();
            e.0 += i64::from(l.shipped);
            e.1 += i64::from(l.returned);
        }
        let rows = by
            .into_iter()
            .map(|((p, sku), (shipped, returned))| {
                let (start, label) = periods.get(p);
                vec![
                    Cell::Text(label),
                    Cell::Text(start.to_string()),
                    Cell::Text(sku.to_string()),
                    Cell::Int(shipped),
                    Cell::Int(returned),
                    Cell::ratio(returned, shipped),
                ]
            })
            .collect();
        KpiTable {
            name: "returns_by_sku",
            columns: &[
                "period",
                "period_start",
                "sku",
                "units_shipped",
                "units_returned",
                "return_rate_units",
            ],
            rows,
        }
    }

    fn returns_by_channel(&self, f: &Filter, grain: Grain) -> KpiTable {
        let by = self.roll_up(f, grain, |p, k| (p.clone(), k.channel));
        let rows = by
            .into_iter()
            .map(|(((start, label), ch), a)| {
                vec![
                    Cell::Text(label),
                    Cell::Text(start.to_string()),
                    Cell::Text(self.channels.name(ch).to_string()),
                    Cell::Int(a.orders_shipped),
                    Cell::Int(a.orders_returned),
                    Cell::ratio(a.orders_returned, a.orders_shipped),
                    Cell::Int(a.units_shipped),
                    Cell::Int(a.units_returned),
                    Cell::ratio(a.units_returned, a.units_shipped),
                ]
            })
            .collect();
        KpiTable {
            name: "returns_by_channel",
            columns: &[
                "period",
                "period_start",
                "channel",
                "orders_shipped",
                "orders_returned",
                "return_rate_orders",
                "units_shipped",
                "units_returned",
                "return_rate_units",
            ],
            rows,
        }
    }

    fn channel_mix(&self, f: &Filter, grain: Grain) -> KpiTable {
        let by = self.roll_up(f, grain, |p, k| (p.clone(), k.channel));
        let mut totals: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
        for (((start, _), _), a) in &by {
            let t = totals.entry(*start).or_default();
            t.0 += a.orders;
            t.1 += a.units_ordered - a.units_cancelled;
        }
        let rows = by
            .into_iter()
            .map(|(((start, label), ch), a)| {
                let (orders, units) = totals.get(&start).copied().unwrap_or((0, 0));
                let net = a.units_ordered - a.units_cancelled;
                vec![
                    Cell::Text(label),
                    Cell::Text(start.to_string()),
                    Cell::Text(self.channels.name(ch).to_string()),
                    Cell::Int(a.orders),
                    Cell::ratio(a.orders, orders),
                    Cell::Int(net),
                    Cell::ratio(net, units),
                ]
            })
            .collect();
        KpiTable {
            name: "channel_mix",
            columns: &[
                "period",
                "period_start",
                "channel",
                "orders",
                "orders_share",
                "units_net",
                "units_share",
            ],
            rows,
        }
    }

    fn segment_mix(&self, f: &Filter, grain: Grain) -> KpiTable {
        let by = self.roll_up(f, grain, |p, k| (p.clone(), k.segment));
        let mut totals: BTreeMap<NaiveDate, i64> = BTreeMap::new();
        for (((start, _), _), a) in &by {
            *totals.entry(*start).or_default() += a.orders;
        }
        let rows = by
            .into_iter()
            .map(|(((start, label), seg), a)| {
                let orders = totals.get(&start).copied().unwrap_or(0);
                vec![
                    Cell::Text(label),
                    Cell::Text(start.to_string()),
                    Cell::Text(self.segments.name(seg).to_string()),
                    Cell::Int(a.orders),
                    Cell::ratio(a.orders, orders),
                    Cell::Int(a.orders_returned),
                    Cell::ratio(a.orders_returned, a.orders_shipped),
                ]
            })
            .collect();
        KpiTable {
            name: "segments",
            columns: &[
                "period",
                "period_start",
                "segment",
                "orders",
                "orders_share",
                "orders_returned",
                "return_rate_orders",
            ],
            rows,
        }
    }

    fn sku_sales(&self, f: &Filter, periods: &Periods) -> KpiTable {
        // (net units, sales in minor units) per (period, sku, currency).
        let mut by: BTreeMap<(u32, &str, u8), (i64, i64)> = BTreeMap::new();
        for (i, _) in self.lines.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { continue };
            let Some((day, group, l)) = self.line_allowed(f, i) else {
                continue;
            };
            let Some(key) = self.group_keys.get(group as usize) else {
                continue;
            };
            let Some(p) = periods.of(day) else { continue };
            let e = by
                .entry((p, self.skus.name(l.sku), key.currency))
                .or_default();
            e.0 += i64::from(l.active());
            e.1 += l.gross() - l.active_discount();
        }
        let rows = by
            .into_iter()
            .filter_map(|((p, sku, cur), (units, sales))| {
                let currency = self.currencies.get(cur as usize)?;
                let (start, label) = periods.get(p);
                Some(vec![
                    Cell::Text(label),
                    Cell::Text(start.to_string()),
                    Cell::Text(sku.to_string()),
                    Cell::Text(currency.code().to_string()),
                    Cell::Int(units),
                    Cell::money(sales, currency.minor_units()),
                ])
            })
            .collect();
        KpiTable {
            name: "skus",
            columns: &[
                "period",
                "period_start",
                "sku",
                "currency",
                "units_net",
                "sales",
            ],
            rows,
        }
    }

    /// Stock KPIs per SKU over the whole query range (summed over the allowed
    /// locations). Not bucketed: turnover and days of inventory are range figures.
    fn stock(&self, f: &Filter) -> KpiTable {
        let mut by_sku: Vec<Vec<u32>> = vec![Vec::new(); self.skus.len()];
        let (mut first, mut last) = (i32::MAX, i32::MIN);
        for (i, s) in self.series.iter().enumerate() {
            if !allowed(&f.skus, s.sku) || !allowed(&f.locations, s.location) || s.points.is_empty()
            {
                continue;
            }
            for p in &s.points {
                first = first.min(p.day);
                last = last.max(p.day);
            }
            if let (Some(v), Ok(i)) = (by_sku.get_mut(s.sku as usize), u32::try_from(i)) {
                v.push(i);
            }
        }
        let from = if f.from == i32::MIN { first } else { f.from };
        let to = if f.to == i32::MAX { last } else { f.to };
        let mut rows = Vec::new();
        if from > to {
            return stock_table(rows);
        }
        let days = usize::try_from(i64::from(to) - i64::from(from) + 1).unwrap_or(0);
        let mut daily = vec![0i64; days];
        for (sku, list) in by_sku.iter().enumerate() {
            if list.is_empty() {
                continue;
            }
            daily.iter_mut().for_each(|d| *d = 0);
            let (mut start_on_hand, mut received, mut sold) = (0i64, 0i64, 0i64);
            let mut first_day = i32::MAX;
            for s in list {
                let Some(series) = self.series.get(*s as usize) else {
                    continue;
                };
                for p in &series.points {
                    first_day = first_day.min(p.day);
                    if p.day < from {
                        start_on_hand += p.change;
                        continue;
                    }
                    if p.day > to {
                        continue;
                    }
                    if let Some(d) = usize::try_from(p.day - from)
                        .ok()
                        .and_then(|i| daily.get_mut(i))
                    {
                        *d += p.change;
                    }
                    match p.flow {
                        StockFlow::Received => received += p.change,
                        StockFlow::Sold => sold -= p.change,
                        StockFlow::Other => {}
                    }
                }
            }
            let (mut on_hand, mut stockout_days, mut sum_on_hand, mut live_days) =
                (start_on_hand, 0i64, 0i64, 0i64);
            for (i, change) in daily.iter().enumerate() {
                on_hand += change;
                let day = from.saturating_add(i32::try_from(i).unwrap_or(0));
                if day < first_day {
                    continue;
                }
                live_days += 1;
                if on_hand <= 0 {
                    stockout_days += 1;
                }
                sum_on_hand += on_hand.max(0);
            }
            let sku = u32::try_from(sku).unwrap_or(0);
            rows.push(vec![
                Cell::Text(self.skus.name(sku).to_string()),
                Cell::Int(start_on_hand),
                Cell::Int(received),
                Cell::Int(sold),
                Cell::Int(on_hand),
                Cell::Int(live_days),
                Cell::Int(stockout_days),
                Cell::ratio_dp(i128::from(sum_on_hand), i128::from(live_days), 4),
                // turnover = sold / average on hand = sold × days / Σ end-of-day on hand
                Cell::ratio_dp(
                    i128::from(sold) * i128::from(live_days),
                    i128::from(sum_on_hand),
                    4,
                ),
                // days of inventory = days / turnover = Σ end-of-day on hand / sold
                Cell::ratio_dp(i128::from(sum_on_hand), i128::from(sold), 4),
                Cell::ratio(sold, start_on_hand + received),
            ]);
        }
        stock_table(rows)
    }

    fn count_accuracy(&self, f: &Filter, periods: &Periods) -> KpiTable {
        let mut by: BTreeMap<u32, (i64, i64, i64)> = BTreeMap::new();
        for c in &self.counts {
            let Some(s) = self.series.get(c.series as usize) else {
                continue;
            };
            if c.day < f.from
                || c.day > f.to
                || !allowed(&f.skus, s.sku)
                || !allowed(&f.locations, s.location)
            {
                continue;
            }
            let Some(p) = periods.of(c.day) else { continue };
            let e = by.entry(p).or_default();
            e.0 += 1;
            let variance = i64::from(c.counted) - c.expected;
            if variance == 0 {
                e.1 += 1;
            }
            e.2 += variance.abs();
        }
        let rows = by
            .into_iter()
            .map(|(p, (lines, accurate, variance))| {
                let (start, label) = periods.get(p);
                vec![
                    Cell::Text(label),
                    Cell::Text(start.to_string()),
                    Cell::Int(lines),
                    Cell::Int(accurate),
                    Cell::ratio(accurate, lines),
                    Cell::Int(variance),
                ]
            })
            .collect();
        KpiTable {
            name: "count_accuracy",
            columns: &[
                "period",
                "period_start",
                "lines_counted",
                "lines_accurate",
                "accuracy",
                "abs_variance_units",
            ],
            rows,
        }
    }

    fn notifications(&self, f: &Filter, periods: &Periods) -> KpiTable {
        let mut by: BTreeMap<(u32, &str), i64> = BTreeMap::new();
        for n in &self.notes {
            let Some(row) = self.rows.get(n.order as usize) else {
                continue;
            };
            if n.day < f.from || n.day > f.to {
                continue;
            }
            let g = row.group;
            let ok = self.group_keys.get(g as usize).is_some_and(|k| {
                allowed(&f.channels, k.channel)
                    && allowed(&f.segments, k.segment)
                    && allowed(&f.currencies, u32::from(k.currency))
            });
            if let (true, Some(p)) = (ok, periods.of(n.day)) {
                *by.entry((p, self.templates.name(n.template))).or_default() += 1;
            }
        }
        let rows = by
            .into_iter()
            .map(|((p, template), n)| {
                let (start, label) = periods.get(p);
                vec![
                    Cell::Text(label),
                    Cell::Text(start.to_string()),
                    Cell::Text(template.to_string()),
                    Cell::Int(n),
                ]
            })
            .collect();
        KpiTable {
            name: "notifications",
            columns: &["period", "period_start", "template", "notifications"],
            rows,
        }
    }

    fn late_shipments(&self, f: &Filter, as_of: Option<DateTime<Utc>>) -> KpiTable {
        let now = as_of.map(|t| t.timestamp());
        let mut late = Vec::new();
        for (o, row) in self.rows.iter().enumerate() {
            if row.ship_by == NONE_I64 || !self.group_allowed(f, row.group) {
                continue;
            }
            let (mut active, mut shipped) = (0i64, 0i64);
            let mut i = row.first_line;
            while let Some(l) = self.lines.get(i as usize) {
                active += i64::from(l.active());
                shipped += i64::from(l.shipped);
                i = l.next;
            }
            if active == 0 {
                continue;
            }
            let complete = shipped >= active && row.last_ship_at != NONE_I64;
            let judged_at = if complete {
                Some(row.last_ship_at)
            } else {
                now
            };
            let Some(t) = judged_at else { continue };
            if t > row.ship_by {
                late.push((t - row.ship_by, o, complete));
            }
        }
        late.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let fmt = |s: i64| {
            DateTime::<Utc>::from_timestamp(s, 0).map_or(Cell::Null, |t| {
                Cell::Text(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            })
        };
        let rows = late
            .into_iter()
            .filter_map(|(by, o, complete)| {
                let row = self.rows.get(o)?;
                let key = self.group_keys.get(row.group as usize)?;
                Some(vec![
                    Cell::Text(self.orders.name(u32::try_from(o).ok()?).to_string()),
                    Cell::Text(self.channels.name(key.channel).to_string()),
                    fmt(row.placed_at),
                    fmt(row.ship_by),
                    if complete {
                        fmt(row.last_ship_at)
                    } else {
                        Cell::Null
                    },
                    Cell::Int(by),
                ])
            })
            .collect();
        KpiTable {
            name: "late_shipments",
            columns: &[
                "order",
                "channel",
                "placed_at",
                "ship_by",
                "shipped_at",
                "late_by_s",
            ],
            rows,
        }
    }

    /// The local dates that have orders (first, last), if any.
    pub fn order_date_range(&self) -> Option<(NaiveDate, NaiveDate)> {
        let mut it = self
            .group_keys
            .iter()
            .map(|k| k.day)
            .filter(|d| *d != NONE_DAY);
        let first = it.next()?;
        let (lo, hi) = it.fold((first, first), |(lo, hi), d| (lo.min(d), hi.max(d)));
        Some((date_of(lo), date_of(hi)))
    }
}

fn stock_table(rows: Vec<Vec<Cell>>) -> KpiTable {
    KpiTable {
        name: "stock",
        columns: &[
            "sku",
            "on_hand_start",
            "received",
            "sold",
            "on_hand_end",
            "days",
            "stockout_days",
            "avg_on_hand",
            "turnover",
            "days_of_inventory",
            "sell_through",
        ],
        rows,
    }
}
