//! Reading the book: periods, filters and the KPI tables.

use std::collections::BTreeMap;
use std::sync::Arc;

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

    /// [`GroupAgg::add`] without the lead-time lists (left as they are), for tables
    /// that read only the sums: copying every order's lead times is most of a
    /// roll-up's cost.
    pub(crate) fn add_sums(&mut self, o: &GroupAgg) {
        self.add(&GroupAgg {
            ship_secs: Vec::new(),
            delivery_secs: Vec::new(),
            ..*o
        });
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
/// chronological order. Each period's label and first date are formatted once here,
/// not per row.
pub(crate) struct Periods {
    first: i32,
    index: Vec<u32>,
    pub(crate) list: Vec<Period>,
    /// `list[i].1` (the label) and `list[i].0` as text (`YYYY-MM-DD`), shared by
    /// every row of the period.
    texts: Vec<[Arc<str>; 2]>,
}

impl Periods {
    pub(crate) fn new(grain: Grain, lo: i32, hi: i32) -> Periods {
        let mut p = Periods {
            first: lo,
            index: Vec::new(),
            list: Vec::new(),
            texts: Vec::new(),
        };
        if lo > hi {
            return p;
        }
        for day in lo..=hi {
            let period = bucket_of(grain, date_of(day));
            if p.list.last().is_none_or(|last| last.0 != period.0) {
                p.texts
                    .push([period.1.as_str().into(), period.0.to_string().into()]);
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

    /// How many periods there are.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// The label and first-date cells of a period index (the texts formatted once,
    /// shared).
    pub(crate) fn cells(&self, i: u32) -> [Cell; 2] {
        match self.texts.get(i as usize) {
            Some([label, start]) => [Cell::Text(Arc::clone(label)), Cell::Text(Arc::clone(start))],
            None => [Cell::Text("".into()), Cell::Text("".into())],
        }
    }
}

/// An interner's names in sorted order (`str`'s byte order, which is a `BTreeMap`'s
/// order for `&str` keys) and each id's rank in it: tables keyed by rank come out in
/// name order without comparing strings per row.
pub(crate) struct NameOrder<'a> {
    /// Rank to name.
    sorted: Vec<&'a Arc<str>>,
    /// Id to rank.
    rank: Vec<u32>,
}

impl<'a> NameOrder<'a> {
    pub(crate) fn new(interner: &'a super::book::Interner) -> NameOrder<'a> {
        let mut ids: Vec<u32> = (0..u32::try_from(interner.len()).unwrap_or(u32::MAX)).collect();
        ids.sort_unstable_by(|a, b| interner.name(*a).cmp(interner.name(*b)));
        let mut rank = vec![0u32; ids.len()];
        for (r, id) in ids.iter().enumerate() {
            if let (Some(slot), Ok(r)) = (rank.get_mut(*id as usize), u32::try_from(r)) {
                *slot = r;
            }
        }
        NameOrder {
            sorted: ids
                .iter()
                .filter_map(|id| interner.names.get(*id as usize))
                .collect(),
            rank,
        }
    }

    /// The rank of an id.
    pub(crate) fn rank(&self, id: u32) -> u32 {
        self.rank.get(id as usize).copied().unwrap_or(u32::MAX)
    }

    /// The name of a rank as a table cell, sharing the interned text.
    pub(crate) fn text(&self, rank: u32) -> Cell {
        Cell::Text(
            self.sorted
                .get(rank as usize)
                .map_or_else(|| "".into(), |s| Arc::clone(s)),
        )
    }

    /// How many names there are.
    pub(crate) fn len(&self) -> usize {
        self.sorted.len()
    }
}

/// Up to this many (period, key) cells, [`sum_by_period_key`] sums into one dense
/// array over every period at once.
const DENSE_CELLS: usize = 1 << 16;

/// Sums values per (period, key) over items `0..n` (`item(i)` is `None` for an item
/// filtered out; items with `period >= periods` or `key >= keys` are skipped too), and
/// returns the sums in (period, key) order: what a `BTreeMap<(period, key), V>` filled
/// with `entry(..).or_default()` and `add` would hold (a cell exists once an item named
/// it), without a tree insert per item.
///
/// Few cells: one dense array. Otherwise one dense array of keys reused per period:
/// in one pass when the items come in period order (the book's lines and orders are
/// in placement order, so usually they do), else after a counting sort of the item
/// indices by period (`item` is called again for those).
pub(crate) fn sum_by_period_key<V: Copy + Default>(
    periods: usize,
    keys: usize,
    n: usize,
    item: impl Fn(usize) -> Option<(u32, u32, V)>,
    add: impl Fn(&mut V, V),
    dense_cells: usize,
) -> Vec<(u32, u32, V)> {
    let item =
        |i: usize| item(i).filter(|(p, k, _)| (*p as usize) < periods && (*k as usize) < keys);
    let cells = periods.saturating_mul(keys);
    if cells <= dense_cells {
        let mut acc: Vec<Option<V>> = vec![None; cells];
        for (p, k, v) in (0..n).filter_map(item) {
            if let Some(slot) = acc.get_mut(p as usize * keys + k as usize) {
                add(slot.get_or_insert_with(V::default), v);
            }
        }
        return acc
            .into_iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let v = s?;
                Some((
                    u32::try_from(i / keys).ok()?,
                    u32::try_from(i % keys).ok()?,
                    v,
                ))
            })
            .collect();
    }
    let mut acc: Vec<Option<V>> = vec![None; keys];
    let mut touched: Vec<u32> = Vec::new();
    let mut out = Vec::new();
    let flush =
        |p: u32, acc: &mut Vec<Option<V>>, touched: &mut Vec<u32>, out: &mut Vec<(u32, u32, V)>| {
            if touched.len().saturating_mul(16) >= acc.len() {
                // Many keys touched: reading the array in key order is cheaper than
                // sorting them.
                touched.clear();
                for (k, slot) in acc.iter_mut().enumerate() {
                    if let (Some(v), Ok(k)) = (slot.take(), u32::try_from(k)) {
                        out.push((p, k, v));
                    }
                }
                return;
            }
            touched.sort_unstable();
            for k in touched.drain(..) {
                if let Some(v) = acc.get_mut(k as usize).and_then(Option::take) {
                    out.push((p, k, v));
                }
            }
        };
    let sum = |k: u32, v: V, acc: &mut Vec<Option<V>>, touched: &mut Vec<u32>| {
        if let Some(slot) = acc.get_mut(k as usize) {
            if slot.is_none() {
                touched.push(k);
            }
            add(slot.get_or_insert_with(V::default), v);
        }
    };
    // One pass while the periods do not go down.
    let mut current = 0u32;
    let mut in_order = true;
    for (p, k, v) in (0..n).filter_map(item) {
        if p < current {
            in_order = false;
            break;
        }
        if p > current {
            flush(current, &mut acc, &mut touched, &mut out);
            current = p;
        }
        sum(k, v, &mut acc, &mut touched);
    }
    if in_order {
        flush(current, &mut acc, &mut touched, &mut out);
        return out;
    }
    // Out of order: start again from a counting sort of the indices by period.
    out.clear();
    touched.clear();
    acc.iter_mut().for_each(|a| *a = None);
    let period: Vec<u32> = (0..n)
        .map(|i| item(i).map_or(u32::MAX, |(p, _, _)| p))
        .collect();
    let mut next = vec![0usize; periods + 1];
    for p in &period {
        if let Some(c) = next.get_mut((*p as usize).wrapping_add(1)) {
            *c += 1;
        }
    }
    for i in 1..next.len() {
        let prev = next.get(i - 1).copied().unwrap_or(0);
        if let Some(c) = next.get_mut(i) {
            *c += prev;
        }
    }
    let bounds = next.clone();
    let mut order = vec![0u32; bounds.last().copied().unwrap_or(0)];
    for (i, p) in period.iter().enumerate() {
        if let Some(c) = next.get_mut(*p as usize) {
            if let (Some(slot), Ok(i)) = (order.get_mut(*c), u32::try_from(i)) {
                *slot = i;
            }
            *c += 1;
        }
    }
    for (p, w) in bounds.windows(2).enumerate() {
        let (Ok(p), [lo, hi]) = (u32::try_from(p), w) else {
            continue;
        };
        for i in order.get(*lo..*hi).unwrap_or(&[]) {
            if let Some((_, k, v)) = item(*i as usize) {
                sum(k, v, &mut acc, &mut touched);
            }
        }
        flush(p, &mut acc, &mut touched, &mut out);
    }
    out
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
        self.roll_up_with(f, grain, key, GroupAgg::add)
    }

    /// [`KpiBook::roll_up`] without the lead-time lists (left empty).
    pub(crate) fn roll_up_sums<K: Ord>(
        &self,
        f: &Filter,
        grain: Grain,
        key: impl Fn(&Period, &super::book::GroupKey) -> K,
    ) -> BTreeMap<K, GroupAgg> {
        self.roll_up_with(f, grain, key, GroupAgg::add_sums)
    }

    fn roll_up_with<K: Ord>(
        &self,
        f: &Filter,
        grain: Grain,
        key: impl Fn(&Period, &super::book::GroupKey) -> K,
        add: impl Fn(&mut GroupAgg, &GroupAgg),
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
            add(out.entry(key(period, k)).or_default(), agg);
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
                    Cell::Text(label.into()),
                    Cell::Text(start.to_string().into()),
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
        let by = self.roll_up_sums(f, grain, |p, k| (p.clone(), k.currency));
        let rows = by
            .into_iter()
            .filter_map(|(((start, label), cur), a)| {
                let currency = self.currencies.get(cur as usize)?;
                let scale = currency.minor_units();
                let sales = a.gross - a.discount;
                Some(vec![
                    Cell::Text(label.into()),
                    Cell::Text(start.to_string().into()),
                    Cell::Text(currency.code().into()),
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
        let by = self.roll_up_sums(f, grain, |p, _| p.clone());
        let mut rows = Vec::new();
        for ((start, label), a) in by {
            for (reason, n) in CANCEL_REASONS.iter().zip(a.cancelled_by_reason) {
                if n == 0 {
                    continue;
                }
                rows.push(vec![
                    Cell::Text(label.as_str().into()),
                    Cell::Text(start.to_string().into()),
                    Cell::Text(cancel_reason_name(*reason).into()),
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
    /// SKU filter; its order's placed day and group, and the line's fixed columns and
    /// derived state.
    pub(crate) fn line_allowed(
        &self,
        f: &Filter,
        line: u32,
    ) -> Option<(i32, u32, &super::book::LineRow, &super::book::LineState)> {
        let l = self.lines.get(line as usize)?;
        let state = self.line_states.get(line as usize)?;
        let row = self.rows.get(l.order as usize)?;
        if !allowed(&f.skus, l.sku) || !self.group_allowed(f, row.group) {
            return None;
        }
        Some((row.day, row.group, l, state))
    }

    fn returns_by_reason(&self, f: &Filter, periods: &Periods) -> KpiTable {
        let reasons = NameOrder::new(&self.return_reasons);
        let item = |i: usize| {
            let r = self.returns.get(i)?;
            let (day, ..) = self.line_allowed(f, r.line)?;
            let p = periods.of(day)?;
            Some((p, reasons.rank(r.reason), i64::from(r.units)))
        };
        let by = sum_by_period_key(
            periods.len(),
            reasons.len(),
            self.returns.len(),
            item,
            |a, b| *a += b,
            DENSE_CELLS,
        );
        let mut totals = vec![0i64; periods.len()];
        for (p, _, n) in &by {
            if let Some(t) = totals.get_mut(*p as usize) {
                *t += n;
            }
        }
        let rows = by
            .into_iter()
            .map(|(p, reason, n)| {
                let total = totals.get(p as usize).copied().unwrap_or(0);
                let [label, start] = periods.cells(p);
                vec![
                    label,
                    start,
                    reasons.text(reason),
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
        let skus = NameOrder::new(&self.skus);
        let item = |i: usize| {
            let (day, _, l, state) = self.line_allowed(f, u32::try_from(i).ok()?)?;
            if state.shipped == 0 && state.returned == 0 {
                return None;
            }
            let p = periods.of(day)?;
            Some((
                p,
                skus.rank(l.sku),
                (i64::from(state.shipped), i64::from(state.returned)),
            ))
        };
        let by = sum_by_period_key(
            periods.len(),
            skus.len(),
            self.lines.len(),
            item,
            |a: &mut (i64, i64), b| {
                a.0 += b.0;
                a.1 += b.1;
            },
            DENSE_CELLS,
        );
        let rows = by
            .into_iter()
            .map(|(p, sku, (shipped, returned))| {
                let [label, start] = periods.cells(p);
                vec![
                    label,
                    start,
                    skus.text(sku),
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
        let by = self.roll_up_sums(f, grain, |p, k| (p.clone(), k.channel));
        let rows = by
            .into_iter()
            .map(|(((start, label), ch), a)| {
                vec![
                    Cell::Text(label.into()),
                    Cell::Text(start.to_string().into()),
                    self.channels.text(ch),
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
        let by = self.roll_up_sums(f, grain, |p, k| (p.clone(), k.channel));
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
                    Cell::Text(label.into()),
                    Cell::Text(start.to_string().into()),
                    self.channels.text(ch),
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
        let by = self.roll_up_sums(f, grain, |p, k| (p.clone(), k.segment));
        let mut totals: BTreeMap<NaiveDate, i64> = BTreeMap::new();
        for (((start, _), _), a) in &by {
            *totals.entry(*start).or_default() += a.orders;
        }
        let rows = by
            .into_iter()
            .map(|(((start, label), seg), a)| {
                let orders = totals.get(&start).copied().unwrap_or(0);
                vec![
                    Cell::Text(label.into()),
                    Cell::Text(start.to_string().into()),
                    self.segments.text(seg),
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
        // (net units, sales in minor units) per (period, sku, currency), keyed by
        // sku rank × currencies + currency: the (period, sku name, currency) order.
        let skus = NameOrder::new(&self.skus);
        let currencies = self.currencies.len().max(1);
        let item = |i: usize| {
            let (day, group, l, state) = self.line_allowed(f, u32::try_from(i).ok()?)?;
            let key = self.group_keys.get(group as usize)?;
            let p = periods.of(day)?;
            let k = u32::try_from(
                (skus.rank(l.sku) as usize)
                    .checked_mul(currencies)?
                    .checked_add(usize::from(key.currency))?,
            )
            .ok()?;
            Some((
                p,
                k,
                (
                    i64::from(state.active()),
                    state.gross(l.price) - state.active_discount(l.discount),
                ),
            ))
        };
        let by = sum_by_period_key(
            periods.len(),
            skus.len().saturating_mul(currencies),
            self.lines.len(),
            item,
            |a: &mut (i64, i64), b| {
                a.0 += b.0;
                a.1 += b.1;
            },
            DENSE_CELLS,
        );
        let cur_u32 = u32::try_from(currencies).unwrap_or(1);
        let codes: Vec<Arc<str>> = self.currencies.iter().map(|c| c.code().into()).collect();
        let rows = by
            .into_iter()
            .filter_map(|(p, k, (units, sales))| {
                let currency = self.currencies.get((k % cur_u32) as usize)?;
                let code = codes.get((k % cur_u32) as usize)?;
                let [label, start] = periods.cells(p);
                Some(vec![
                    label,
                    start,
                    skus.text(k / cur_u32),
                    Cell::Text(Arc::clone(code)),
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
                self.skus.text(sku),
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
                let [label, start] = periods.cells(p);
                vec![
                    label,
                    start,
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
        let templates = NameOrder::new(&self.templates);
        let item = |i: usize| {
            let n = self.notes.get(i)?;
            let row = self.rows.get(n.order as usize)?;
            if n.day < f.from || n.day > f.to {
                return None;
            }
            let k = self.group_keys.get(row.group as usize)?;
            if !(allowed(&f.channels, k.channel)
                && allowed(&f.segments, k.segment)
                && allowed(&f.currencies, u32::from(k.currency)))
            {
                return None;
            }
            Some((periods.of(n.day)?, templates.rank(n.template), 1i64))
        };
        let by = sum_by_period_key(
            periods.len(),
            templates.len(),
            self.notes.len(),
            item,
            |a, b| *a += b,
            DENSE_CELLS,
        );
        let rows = by
            .into_iter()
            .map(|(p, template, n)| {
                let [label, start] = periods.cells(p);
                vec![label, start, templates.text(template), Cell::Int(n)]
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
        for (o, (row, state)) in self.rows.iter().zip(&self.states).enumerate() {
            if row.ship_by == NONE_I64 || !self.group_allowed(f, row.group) {
                continue;
            }
            let (mut active, mut shipped) = (0i64, 0i64);
            let mut i = row.first_line;
            while let (Some(l), Some(s)) =
                (self.lines.get(i as usize), self.line_states.get(i as usize))
            {
                active += i64::from(s.active());
                shipped += i64::from(s.shipped);
                i = l.next;
            }
            if active == 0 {
                continue;
            }
            let complete = shipped >= active && state.last_ship_at != NONE_I64;
            let judged_at = if complete {
                Some(state.last_ship_at)
            } else {
                now
            };
            let Some(t) = judged_at else { continue };
            if t > row.ship_by {
                late.push((t - row.ship_by, o, complete));
            }
        }
        late.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let fmt = utc_seconds_text;
        let rows = late
            .into_iter()
            .filter_map(|(by, o, complete)| {
                let row = self.rows.get(o)?;
                let state = self.states.get(o)?;
                let key = self.group_keys.get(row.group as usize)?;
                Some(vec![
                    self.orders.text(u32::try_from(o).ok()?),
                    self.channels.text(key.channel),
                    fmt(row.placed_at),
                    fmt(row.ship_by),
                    if complete {
                        fmt(state.last_ship_at)
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

/// Unix seconds as RFC 3339 in UTC with whole seconds (`2026-01-31T21:30:00Z`): the
/// text of chrono's `to_rfc3339_opts(SecondsFormat::Secs, true)`, written digit by
/// digit for years 0 to 9999 (chrono's formatter, for the others, costs several
/// times more and ran per late shipment three times).
fn utc_seconds_text(s: i64) -> Cell {
    use chrono::{Datelike, Timelike};
    let Some(t) = DateTime::<Utc>::from_timestamp(s, 0) else {
        return Cell::Null;
    };
    let (year, month, day) = (t.year(), t.month(), t.day());
    let Ok(year) = u32::try_from(year) else {
        return Cell::Text(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into());
    };
    if year > 9999 {
        return Cell::Text(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into());
    }
    // `YYYY-MM-DDTHH:MM:SSZ`, written into a buffer and copied once into the cell.
    let mut text = [b'0'; 20];
    for (slot, place) in text.iter_mut().zip([1000, 100, 10, 1]) {
        *slot = b'0' + (year / place % 10) as u8;
    }
    let fields = [
        (month, b'-'),
        (day, b'-'),
        (t.hour(), b'T'),
        (t.minute(), b':'),
        (t.second(), b':'),
    ];
    for (chunk, (n, sep)) in text
        .get_mut(4..19)
        .into_iter()
        .flat_map(|t| t.chunks_exact_mut(3))
        .zip(fields)
    {
        if let [s, tens, ones] = chunk {
            *s = sep;
            *tens = b'0' + (n / 10 % 10) as u8;
            *ones = b'0' + (n % 10) as u8;
        }
    }
    if let Some(z) = text.get_mut(19) {
        *z = b'Z';
    }
    match std::str::from_utf8(&text) {
        Ok(t) => Cell::Text(t.into()),
        Err(_) => Cell::Null,
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the tables built before `sum_by_period_key`: a tree insert per item.
    fn by_tree(items: &[(u32, u32, i64)], periods: usize, keys: usize) -> Vec<(u32, u32, i64)> {
        let mut by: BTreeMap<(u32, u32), i64> = BTreeMap::new();
        for (p, k, v) in items {
            if (*p as usize) < periods && (*k as usize) < keys {
                *by.entry((*p, *k)).or_default() += v;
            }
        }
        by.into_iter().map(|((p, k), v)| (p, k, v)).collect()
    }

    fn by_sum(
        items: &[(u32, u32, i64)],
        periods: usize,
        keys: usize,
        dense: usize,
    ) -> Vec<(u32, u32, i64)> {
        sum_by_period_key(
            periods,
            keys,
            items.len() + 1,
            // The last index is filtered out, as a line a filter drops.
            |i| items.get(i).copied(),
            |a, b| *a += b,
            dense,
        )
    }

    proptest! {
        /// Every path (one dense array; one pass in period order; the counting sort
        /// when periods go down) gives the tree's cells, zero sums included, in its
        /// order, skipping out-of-range periods and keys.
        #[test]
        fn sums_per_period_and_key_equal_a_tree(
            mut items in proptest::collection::vec((0u32..9, 0u32..40, -5i64..50), 0..300),
            sorted in any::<bool>(),
        ) {
            if sorted {
                items.sort_by_key(|(p, _, _)| *p);
            }
            let expected = by_tree(&items, 8, 35);
            prop_assert_eq!(by_sum(&items, 8, 35, usize::MAX), expected.clone());
            prop_assert_eq!(by_sum(&items, 8, 35, 0), expected);
        }
    }

    #[test]
    fn out_of_order_periods_take_the_counting_sort_and_still_agree() {
        let items = [
            (2, 1, 5),
            (0, 3, 1),
            (2, 1, 0),
            (1, 0, 7),
            (0, 3, 2),
            (2, 0, 0),
        ];
        let expected = vec![(0, 3, 3), (1, 0, 7), (2, 0, 0), (2, 1, 5)];
        assert_eq!(by_tree(&items, 3, 4), expected);
        assert_eq!(by_sum(&items, 3, 4, 0), expected);
        assert_eq!(by_sum(&items, 3, 4, 12), expected);
    }

    #[test]
    fn utc_seconds_text_is_chronos_rfc3339() {
        let mut instants = vec![
            0,
            -1,
            1_767_216_600,   // 2025-12-31T21:30:00Z
            253_402_300_799, // 9999-12-31T23:59:59Z
            253_402_300_800, // 10000-01-01: chrono's own text
            -62_167_219_200, // 0000-01-01T00:00:00Z
            -62_167_219_201, // -0001-12-31: chrono's own text
        ];
        instants.extend((0..2000).map(|i| 1_700_000_000 + i * 7_919_311));
        for s in instants {
            let expected = DateTime::<Utc>::from_timestamp(s, 0)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            let got = match utc_seconds_text(s) {
                Cell::Text(t) => Some(t.to_string()),
                _ => None,
            };
            assert_eq!(got, expected, "{s}");
        }
        assert_eq!(utc_seconds_text(i64::MAX), Cell::Null);
    }
}
