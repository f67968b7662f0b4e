//! The KPI book: the interned, columnar fact log and the state derived from it, kept
//! up to date one fact at a time ([`KpiBook::push`]) or rebuilt from the log
//! ([`KpiBook::recompute`]). Both paths give the same tables (a property test checks
//! it).
//!
//! Layout, for speed: every id is interned to a `u32` once, when first seen; the log is
//! a `Vec` of fixed-size records; orders, lines and (day, channel, segment, currency)
//! groups are dense vectors indexed by those numbers. Order-level aggregates per group
//! are maintained by subtracting an order's contribution, applying the fact, and adding
//! it back, so one fact costs a few dozen integer additions and no allocation (beyond
//! amortised vector growth and first-seen ids).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::fact::{cancel_reason_index, KpiFact, StockFlow};
use super::time::DayCache;
use super::KpiError;
use crate::money::Currency;
use crate::stock::FastMap;

pub(crate) const NONE_U32: u32 = u32::MAX;
pub(crate) const NONE_I64: i64 = i64::MIN;
pub(crate) const NONE_DAY: i32 = i32::MIN;
pub(crate) const NO_REASON: u8 = u8::MAX;
/// The index of `CancelReason::Inventory` in [`super::fact::CANCEL_REASONS`].
const INVENTORY: u8 = 2;

/// Strings to dense numbers, in first-seen order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Interner {
    index: FastMap<Box<str>, u32>,
    pub(crate) names: Vec<Box<str>>,
}

impl Interner {
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    fn intern(&mut self, name: &str) -> Result<u32, KpiError> {
        if let Some(i) = self.index.get(name) {
            return Ok(*i);
        }
        let i = u32::try_from(self.names.len()).map_err(|_| KpiError::TooMany)?;
        if i == NONE_U32 {
            return Err(KpiError::TooMany);
        }
        self.index.insert(name.into(), i);
        self.names.push(name.into());
        Ok(i)
    }

    pub(crate) fn name(&self, i: u32) -> &str {
        self.names.get(i as usize).map_or("", |s| s)
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Placed,
    Line,
    QuantityChanged,
    Confirmed,
    Backordered,
    Cancelled,
    UnitsCancelled,
    Shipped,
    Delivered,
    Returned,
    Refunded,
    Notified,
    Stock,
    Counted,
}

/// One logged fact, interned. Field use depends on `kind` (see `KpiBook::push`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rec {
    at: i64,
    x: i64,
    order: u32,
    a: u32,
    b: u32,
    q: u32,
    day: i32,
    kind: Kind,
    c: u8,
}

/// The state of one order that its KPIs need.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OrderRow {
    pub(crate) placed_at: i64,
    pub(crate) ship_by: i64,
    pub(crate) last_ship_at: i64,
    pub(crate) last_delivery_at: i64,
    pub(crate) last_delivery_day: i32,
    pub(crate) refund: i64,
    pub(crate) group: u32,
    pub(crate) first_line: u32,
    pub(crate) last_line: u32,
    pub(crate) day: i32,
    pub(crate) promised: i32,
    pub(crate) cancel_reason: u8,
    pub(crate) confirmed: bool,
    pub(crate) backordered: bool,
}

/// One order line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineRow {
    pub(crate) price: i64,
    pub(crate) discount: i64,
    pub(crate) order: u32,
    pub(crate) name: u32,
    pub(crate) sku: u32,
    pub(crate) next: u32,
    pub(crate) qty: u32,
    pub(crate) cancelled: u32,
    pub(crate) cancelled_inventory: u32,
    pub(crate) shipped: u32,
    pub(crate) delivered: u32,
    pub(crate) returned: u32,
}

impl LineRow {
    pub(crate) fn active(&self) -> u32 {
        self.qty.saturating_sub(self.cancelled)
    }

    /// The discount on the active units: the whole discount split between active and
    /// cancelled units by largest remainder (ties to the active part), exactly as
    /// [`crate::order::OrderLine::amounts`] does.
    pub(crate) fn active_discount(&self) -> i64 {
        let active = i128::from(self.active());
        let cancelled = i128::from(self.qty) - active;
        let d = i128::from(self.discount);
        if cancelled <= 0 || d == 0 {
            return self.discount;
        }
        if active == 0 {
            return 0;
        }
        let q = active + cancelled;
        let (sign, d) = if d < 0 { (-1, -d) } else { (1, d) };
        let share_a = d * active / q;
        let share_c = d * cancelled / q;
        let extra =
            i128::from(d - share_a - share_c > 0 && (d * active % q) >= (d * cancelled % q));
        i64::try_from(sign * (share_a + extra)).unwrap_or(0)
    }

    /// Unit price × active units.
    pub(crate) fn gross(&self) -> i64 {
        self.price.saturating_mul(i64::from(self.active()))
    }
}

/// The key of an order group: local day, channel, segment, currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct GroupKey {
    pub(crate) day: i32,
    pub(crate) channel: u32,
    pub(crate) segment: u32,
    pub(crate) currency: u8,
}

/// Additive order-level aggregates of one group. Every field is a sum of per-order
/// contributions; the lead-time lists are multisets (sorted when read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GroupAgg {
    pub(crate) orders: i64,
    pub(crate) orders_confirmed: i64,
    pub(crate) orders_cancelled: i64,
    pub(crate) cancelled_by_reason: [i64; 7],
    pub(crate) orders_active: i64,
    pub(crate) units_ordered: i64,
    pub(crate) units_cancelled: i64,
    pub(crate) units_cancelled_inventory: i64,
    pub(crate) units_shipped: i64,
    pub(crate) units_delivered: i64,
    pub(crate) units_returned: i64,
    pub(crate) orders_shipped: i64,
    pub(crate) ship_judged: i64,
    pub(crate) shipped_on_time: i64,
    pub(crate) orders_delivered: i64,
    pub(crate) delivery_judged: i64,
    pub(crate) delivered_on_time: i64,
    pub(crate) orders_perfect: i64,
    pub(crate) orders_returned: i64,
    pub(crate) orders_backordered: i64,
    pub(crate) gross: i64,
    pub(crate) discount: i64,
    pub(crate) refund: i64,
    pub(crate) ship_secs: Vec<u32>,
    pub(crate) delivery_secs: Vec<u32>,
}

/// A returned quantity, for breakdowns by reason, SKU and channel.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReturnRow {
    pub(crate) line: u32,
    pub(crate) reason: u32,
    pub(crate) units: u32,
}

/// A notification asked for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NoteRow {
    pub(crate) order: u32,
    pub(crate) template: u32,
    pub(crate) day: i32,
}

/// One on-hand change of a (SKU, location) series.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StockPoint {
    pub(crate) day: i32,
    pub(crate) change: i64,
    pub(crate) flow: StockFlow,
}

/// The on-hand history of one SKU at one location.
#[derive(Debug, Clone)]
pub(crate) struct StockSeries {
    pub(crate) sku: u32,
    pub(crate) location: u32,
    pub(crate) points: Vec<StockPoint>,
}

/// One counted line of a cycle count.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CountRow {
    pub(crate) series: u32,
    pub(crate) day: i32,
    pub(crate) expected: i64,
    pub(crate) counted: u32,
}

/// KPIs maintained from facts: feed it with [`KpiBook::push`], read it with
/// [`KpiBook::tables`](super::KpiBook::tables).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use ordersmith::kpi::{KpiBook, KpiFact, KpiQuery};
/// use ordersmith::money::Currency;
///
/// let mut book = KpiBook::new(chrono_tz::Europe::Istanbul);
/// let at = Utc.with_ymd_and_hms(2025, 12, 31, 21, 30, 0).unwrap();
/// book.push(KpiFact::OrderPlaced {
///     order: "o-1", at, channel: "web", segment: "unsegmented",
///     currency: Currency::parse("TRY")?, ship_by: None, promised_by: None,
/// })?;
/// book.push(KpiFact::LineOrdered {
///     order: "o-1", line: "L1", sku: "TEE", quantity: 2,
///     unit_price: "10.00".parse()?, discount: "1.00".parse()?,
/// })?;
/// let tables = book.tables(&KpiQuery::default())?;
/// let summary = tables.table("summary").expect("always there");
/// // 21:30 UTC on 31 December is 00:30 on 1 January in Istanbul.
/// assert_eq!(summary.cell(0, "period").map(|c| c.to_string()), Some("2026-01-01".into()));
/// assert_eq!(summary.cell(0, "orders").map(|c| c.to_string()), Some("1".into()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct KpiBook {
    pub(crate) tz: Tz,
    days: DayCache,
    pub(crate) orders: Interner,
    pub(crate) channels: Interner,
    pub(crate) segments: Interner,
    pub(crate) skus: Interner,
    pub(crate) locations: Interner,
    pub(crate) templates: Interner,
    pub(crate) return_reasons: Interner,
    line_names: Interner,
    pub(crate) currencies: Vec<Currency>,
    group_index: FastMap<GroupKey, u32>,
    pub(crate) group_keys: Vec<GroupKey>,
    series_index: FastMap<(u32, u32), u32>,
    log: Vec<Rec>,
    facts: usize,
    pub(crate) rows: Vec<OrderRow>,
    pub(crate) lines: Vec<LineRow>,
    pub(crate) groups: Vec<GroupAgg>,
    pub(crate) returns: Vec<ReturnRow>,
    pub(crate) notes: Vec<NoteRow>,
    pub(crate) series: Vec<StockSeries>,
    pub(crate) counts: Vec<CountRow>,
}

fn secs(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}

fn day_number(date: NaiveDate) -> i32 {
    date.signed_duration_since(super::time::EPOCH).num_days() as i32
}

fn minor(amount: Decimal, currency: Currency) -> Result<i64, KpiError> {
    let scale = Decimal::from(10i64.pow(currency.minor_units()));
    let scaled = amount
        .checked_mul(scale)
        .ok_or(KpiError::AmountOutOfRange)?;
    if scaled.fract() != Decimal::ZERO {
        return Err(KpiError::AmountTooPrecise {
            currency: currency.code().to_string(),
        });
    }
    scaled.to_i64().ok_or(KpiError::AmountOutOfRange)
}

impl KpiBook {
    /// An empty book whose days, weeks and months are those of `tz` (the shop's zone).
    pub fn new(tz: Tz) -> Self {
        KpiBook {
            tz,
            days: DayCache::default(),
            orders: Interner::default(),
            channels: Interner::default(),
            segments: Interner::default(),
            skus: Interner::default(),
            locations: Interner::default(),
            templates: Interner::default(),
            return_reasons: Interner::default(),
            line_names: Interner::default(),
            currencies: Vec::new(),
            group_index: FastMap::default(),
            group_keys: Vec::new(),
            series_index: FastMap::default(),
            log: Vec::new(),
            facts: 0,
            rows: Vec::new(),
            lines: Vec::new(),
            groups: Vec::new(),
            returns: Vec::new(),
            notes: Vec::new(),
            series: Vec::new(),
            counts: Vec::new(),
        }
    }

    /// The shop's time zone.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// Facts accepted so far.
    pub fn fact_count(&self) -> usize {
        self.facts
    }

    /// Orders known.
    pub fn order_count(&self) -> usize {
        self.rows.len()
    }

    /// The local day number (days since 1970-01-01 in the shop's zone) of an instant.
    fn day_of(&mut self, at: i64) -> i32 {
        self.days.day(self.tz, at)
    }

    fn known_order(&self, order: &str) -> Result<u32, KpiError> {
        self.orders.get(order).ok_or(KpiError::UnknownOrder)
    }

    fn known_line(&self, order: u32, line: &str) -> Result<u32, KpiError> {
        let name = self.line_names.get(line).ok_or(KpiError::UnknownLine)?;
        self.find_line(order, name).ok_or(KpiError::UnknownLine)
    }

    fn find_line(&self, order: u32, name: u32) -> Option<u32> {
        let mut i = self.rows.get(order as usize)?.first_line;
        while let Some(l) = self.lines.get(i as usize) {
            if l.name == name {
                return Some(i);
            }
            i = l.next;
        }
        None
    }

    fn currency_of(&self, order: u32) -> Result<Currency, KpiError> {
        let row = self
            .rows
            .get(order as usize)
            .ok_or(KpiError::UnknownOrder)?;
        let key = self
            .group_keys
            .get(row.group as usize)
            .ok_or(KpiError::UnknownOrder)?;
        self.currencies
            .get(key.currency as usize)
            .copied()
            .ok_or(KpiError::UnknownOrder)
    }

    /// Feeds one fact: the KPIs are updated at once. A fact that refers to an order
    /// not placed yet, a line the order does not have, or an amount that does not fit
    /// the order's currency is refused with the book unchanged.
    pub fn push(&mut self, fact: KpiFact<'_>) -> Result<(), KpiError> {
        let rec = self.intern(fact)?;
        self.facts += 1;
        match rec.kind {
            Kind::Placed => {
                self.log.push(rec);
                self.apply(&rec);
                self.contribute(rec.order, 1);
            }
            // Their lists are their log: nothing is derived from them until a query.
            Kind::Notified | Kind::Stock | Kind::Counted => self.apply(&rec),
            _ => {
                self.log.push(rec);
                self.contribute(rec.order, -1);
                self.apply(&rec);
                self.contribute(rec.order, 1);
            }
        }
        Ok(())
    }

    /// Feeds many facts in order; stops at the first refused one (those before it stay).
    pub fn extend<'a>(
        &mut self,
        facts: impl IntoIterator<Item = KpiFact<'a>>,
    ) -> Result<(), KpiError> {
        for f in facts {
            self.push(f)?;
        }
        Ok(())
    }

    /// Validates and interns a fact into a log record. Changes nothing visible on
    /// error: ids interned before a later check fails are harmless (unused names).
    fn intern(&mut self, fact: KpiFact<'_>) -> Result<Rec, KpiError> {
        let blank = Rec {
            at: 0,
            x: 0,
            order: NONE_U32,
            a: NONE_U32,
            b: NONE_U32,
            q: 0,
            day: 0,
            kind: Kind::Placed,
            c: 0,
        };
        Ok(match fact {
            KpiFact::OrderPlaced {
                order,
                at,
                channel,
                segment,
                currency,
                ship_by,
                promised_by,
            } => {
                if self.orders.get(order).is_some() {
                    return Err(KpiError::DuplicateOrder);
                }
                let at = secs(at);
                let day = self.day_of(at);
                let cur = match self.currencies.iter().position(|c| *c == currency) {
                    Some(i) => i,
                    None => {
                        self.currencies.push(currency);
                        self.currencies.len() - 1
                    }
                };
                let cur = u8::try_from(cur).map_err(|_| KpiError::TooMany)?;
                let key = GroupKey {
                    day,
                    channel: self.channels.intern(channel)?,
                    segment: self.segments.intern(segment)?,
                    currency: cur,
                };
                let group = match self.group_index.get(&key) {
                    Some(g) => *g,
                    None => {
                        let g =
                            u32::try_from(self.group_keys.len()).map_err(|_| KpiError::TooMany)?;
                        self.group_index.insert(key, g);
                        self.group_keys.push(key);
                        self.groups.push(GroupAgg::default());
                        g
                    }
                };
                Rec {
                    at,
                    x: ship_by.map_or(NONE_I64, secs),
                    order: self.orders.intern(order)?,
                    a: group,
                    day,
                    // The promised day, as the bits of an i32.
                    b: promised_by.map_or(NONE_DAY, day_number) as u32,
                    kind: Kind::Placed,
                    ..blank
                }
            }
            KpiFact::LineOrdered {
                order,
                line,
                sku,
                quantity,
                unit_price,
                discount,
            } => {
                let o = self.known_order(order)?;
                let currency = self.currency_of(o)?;
                let price = minor(unit_price, currency)?;
                let discount = minor(discount, currency)?;
                if price < 0 || discount < 0 {
                    return Err(KpiError::NegativeAmount);
                }
                if let Some(name) = self.line_names.get(line) {
                    if self.find_line(o, name).is_some() {
                        return Err(KpiError::DuplicateLine);
                    }
                }
                Rec {
                    at: price,
                    x: discount,
                    order: o,
                    a: self.line_names.intern(line)?,
                    b: self.skus.intern(sku)?,
                    q: quantity,
                    kind: Kind::Line,
                    ..blank
                }
            }
            KpiFact::LineQuantityChanged {
                order,
                line,
                quantity,
            } => {
                let o = self.known_order(order)?;
                let l = self.known_line(o, line)?;
                Rec {
                    order: o,
                    a: l,
                    q: quantity,
                    kind: Kind::QuantityChanged,
                    ..blank
                }
            }
            KpiFact::OrderConfirmed { order, at } => Rec {
                at: secs(at),
                order: self.known_order(order)?,
                kind: Kind::Confirmed,
                ..blank
            },
            KpiFact::Backordered { order, at } => Rec {
                at: secs(at),
                order: self.known_order(order)?,
                kind: Kind::Backordered,
                ..blank
            },
            KpiFact::OrderCancelled { order, at, reason } => Rec {
                at: secs(at),
                order: self.known_order(order)?,
                c: cancel_reason_index(reason),
                kind: Kind::Cancelled,
                ..blank
            },
            KpiFact::UnitsCancelled {
                order,
                line,
                quantity,
                reason,
                at,
            } => {
                let o = self.known_order(order)?;
                Rec {
                    at: secs(at),
                    order: o,
                    a: self.known_line(o, line)?,
                    q: quantity,
                    c: cancel_reason_index(reason),
                    kind: Kind::UnitsCancelled,
                    ..blank
                }
            }
            KpiFact::UnitsShipped {
                order,
                line,
                quantity,
                at,
            } => {
                let o = self.known_order(order)?;
                Rec {
                    at: secs(at),
                    order: o,
                    a: self.known_line(o, line)?,
                    q: quantity,
                    kind: Kind::Shipped,
                    ..blank
                }
            }
            KpiFact::UnitsDelivered {
                order,
                line,
                quantity,
                at,
            } => {
                let o = self.known_order(order)?;
                let at = secs(at);
                Rec {
                    at,
                    order: o,
                    a: self.known_line(o, line)?,
                    q: quantity,
                    day: self.day_of(at),
                    kind: Kind::Delivered,
                    ..blank
                }
            }
            KpiFact::UnitsReturned {
                order,
                line,
                quantity,
                reason,
                at,
            } => {
                let o = self.known_order(order)?;
                let l = self.known_line(o, line)?;
                Rec {
                    at: secs(at),
                    order: o,
                    a: l,
                    b: self.return_reasons.intern(reason)?,
                    q: quantity,
                    kind: Kind::Returned,
                    ..blank
                }
            }
            KpiFact::Refunded { order, amount, at } => {
                let o = self.known_order(order)?;
                let amount = minor(amount, self.currency_of(o)?)?;
                if amount < 0 {
                    return Err(KpiError::NegativeAmount);
                }
                Rec {
                    at: secs(at),
                    x: amount,
                    order: o,
                    kind: Kind::Refunded,
                    ..blank
                }
            }
            KpiFact::NotificationRequested {
                order,
                template,
                at,
            } => {
                let o = self.known_order(order)?;
                let at = secs(at);
                Rec {
                    at,
                    order: o,
                    a: self.templates.intern(template)?,
                    day: self.day_of(at),
                    kind: Kind::Notified,
                    ..blank
                }
            }
            KpiFact::StockMoved {
                sku,
                location,
                at,
                on_hand_change,
                flow,
            } => {
                let at = secs(at);
                Rec {
                    at,
                    x: on_hand_change,
                    a: self.series_of(sku, location)?,
                    day: self.day_of(at),
                    c: match flow {
                        StockFlow::Received => 0,
                        StockFlow::Sold => 1,
                        StockFlow::Other => 2,
                    },
                    kind: Kind::Stock,
                    ..blank
                }
            }
            KpiFact::Counted {
                sku,
                location,
                at,
                expected,
                counted,
            } => {
                let at = secs(at);
                Rec {
                    at,
                    x: expected,
                    a: self.series_of(sku, location)?,
                    q: counted,
                    day: self.day_of(at),
                    kind: Kind::Counted,
                    ..blank
                }
            }
        })
    }

    fn series_of(&mut self, sku: &str, location: &str) -> Result<u32, KpiError> {
        let key = (self.skus.intern(sku)?, self.locations.intern(location)?);
        if let Some(s) = self.series_index.get(&key) {
            return Ok(*s);
        }
        let s = u32::try_from(self.series.len()).map_err(|_| KpiError::TooMany)?;
        self.series_index.insert(key, s);
        self.series.push(StockSeries {
            sku: key.0,
            location: key.1,
            points: Vec::new(),
        });
        Ok(s)
    }

    /// Applies a logged record to the derived rows (not to the group aggregates).
    fn apply(&mut self, rec: &Rec) {
        let o = rec.order as usize;
        match rec.kind {
            Kind::Placed => {
                if self.rows.len() <= o {
                    self.rows.resize(
                        o + 1,
                        OrderRow {
                            placed_at: 0,
                            ship_by: NONE_I64,
                            last_ship_at: NONE_I64,
                            last_delivery_at: NONE_I64,
                            last_delivery_day: NONE_DAY,
                            refund: 0,
                            group: NONE_U32,
                            first_line: NONE_U32,
                            last_line: NONE_U32,
                            day: 0,
                            promised: NONE_DAY,
                            cancel_reason: NO_REASON,
                            confirmed: false,
                            backordered: false,
                        },
                    );
                }
                if let Some(row) = self.rows.get_mut(o) {
                    row.placed_at = rec.at;
                    row.ship_by = rec.x;
                    row.group = rec.a;
                    row.day = rec.day;
                    row.promised = rec.b as i32;
                }
            }
            Kind::Line => {
                let Ok(index) = u32::try_from(self.lines.len()) else {
                    return;
                };
                let Some(row) = self.rows.get_mut(o) else {
                    return;
                };
                let previous = row.last_line;
                row.last_line = index;
                if row.first_line == NONE_U32 {
                    row.first_line = index;
                }
                if let Some(prev) = self.lines.get_mut(previous as usize) {
                    prev.next = index;
                }
                self.lines.push(LineRow {
                    price: rec.at,
                    discount: rec.x,
                    order: rec.order,
                    name: rec.a,
                    sku: rec.b,
                    next: NONE_U32,
                    qty: rec.q,
                    cancelled: 0,
                    cancelled_inventory: 0,
                    shipped: 0,
                    delivered: 0,
                    returned: 0,
                });
            }
            Kind::QuantityChanged => {
                if let Some(l) = self.lines.get_mut(rec.a as usize) {
                    l.qty = rec.q.max(l.cancelled.saturating_add(l.shipped));
                }
            }
            Kind::Confirmed => {
                if let Some(row) = self.rows.get_mut(o) {
                    row.confirmed = true;
                }
            }
            Kind::Backordered => {
                if let Some(row) = self.rows.get_mut(o) {
                    row.backordered = true;
                }
            }
            Kind::Cancelled => {
                let Some(row) = self.rows.get_mut(o) else {
                    return;
                };
                row.cancel_reason = rec.c;
                let mut i = row.first_line;
                while let Some(l) = self.lines.get_mut(i as usize) {
                    cancel_units(l, u32::MAX, rec.c);
                    i = l.next;
                }
            }
            Kind::UnitsCancelled => {
                if let Some(l) = self.lines.get_mut(rec.a as usize) {
                    cancel_units(l, rec.q, rec.c);
                }
            }
            Kind::Shipped => {
                if let Some(l) = self.lines.get_mut(rec.a as usize) {
                    l.shipped = l.shipped.saturating_add(rec.q);
                }
                if let Some(row) = self.rows.get_mut(o) {
                    if row.last_ship_at == NONE_I64 || rec.at > row.last_ship_at {
                        row.last_ship_at = rec.at;
                    }
                }
            }
            Kind::Delivered => {
                if let Some(l) = self.lines.get_mut(rec.a as usize) {
                    l.delivered = l.delivered.saturating_add(rec.q);
                }
                if let Some(row) = self.rows.get_mut(o) {
                    if row.last_delivery_at == NONE_I64 || rec.at > row.last_delivery_at {
                        row.last_delivery_at = rec.at;
                        row.last_delivery_day = rec.day;
                    }
                }
            }
            Kind::Returned => {
                if let Some(l) = self.lines.get_mut(rec.a as usize) {
                    l.returned = l.returned.saturating_add(rec.q);
                }
                self.returns.push(ReturnRow {
                    line: rec.a,
                    reason: rec.b,
                    units: rec.q,
                });
            }
            Kind::Refunded => {
                if let Some(row) = self.rows.get_mut(o) {
                    row.refund = row.refund.saturating_add(rec.x);
                }
            }
            Kind::Notified => self.notes.push(NoteRow {
                order: rec.order,
                template: rec.a,
                day: rec.day,
            }),
            Kind::Stock => {
                if let Some(s) = self.series.get_mut(rec.a as usize) {
                    s.points.push(StockPoint {
                        day: rec.day,
                        change: rec.x,
                        flow: match rec.c {
                            0 => StockFlow::Received,
                            1 => StockFlow::Sold,
                            _ => StockFlow::Other,
                        },
                    });
                }
            }
            Kind::Counted => self.counts.push(CountRow {
                series: rec.a,
                day: rec.day,
                expected: rec.x,
                counted: rec.q,
            }),
        }
    }

    /// Adds (`sign` = 1) or removes (`sign` = −1) one order's contribution to its
    /// group's aggregates.
    fn contribute(&mut self, order: u32, sign: i64) {
        let Some(row) = self.rows.get(order as usize).copied() else {
            return;
        };
        let Some(g) = self.groups.get_mut(row.group as usize) else {
            return;
        };
        let (mut ordered, mut cancelled, mut cancelled_inv) = (0i64, 0i64, 0i64);
        let (mut shipped, mut delivered, mut returned) = (0i64, 0i64, 0i64);
        let (mut gross, mut discount) = (0i64, 0i64);
        let mut i = row.first_line;
        while let Some(l) = self.lines.get(i as usize) {
            ordered += i64::from(l.qty);
            cancelled += i64::from(l.cancelled);
            cancelled_inv += i64::from(l.cancelled_inventory);
            shipped += i64::from(l.shipped);
            delivered += i64::from(l.delivered);
            returned += i64::from(l.returned);
            gross = gross.saturating_add(l.gross());
            discount = discount.saturating_add(l.active_discount());
            i = l.next;
        }
        let active = ordered - cancelled;
        g.orders += sign;
        if row.confirmed {
            g.orders_confirmed += sign;
        }
        if let Some(slot) = g.cancelled_by_reason.get_mut(row.cancel_reason as usize) {
            *slot += sign;
            g.orders_cancelled += sign;
        }
        g.units_ordered += sign * ordered;
        g.units_cancelled += sign * cancelled;
        g.units_cancelled_inventory += sign * cancelled_inv;
        g.units_shipped += sign * shipped;
        g.units_delivered += sign * delivered;
        g.units_returned += sign * returned;
        g.refund += sign * row.refund;
        if active > 0 {
            g.orders_active += sign;
            g.gross += sign * gross;
            g.discount += sign * discount;
        }
        let shipped_complete = active > 0 && shipped >= active && row.last_ship_at != NONE_I64;
        let mut ship_ok = true;
        if shipped_complete {
            g.orders_shipped += sign;
            track(
                &mut g.ship_secs,
                lead(row.placed_at, row.last_ship_at),
                sign,
            );
            if row.ship_by != NONE_I64 {
                g.ship_judged += sign;
                ship_ok = row.last_ship_at <= row.ship_by;
                if ship_ok {
                    g.shipped_on_time += sign;
                }
            }
        }
        let delivered_complete =
            active > 0 && delivered >= active && row.last_delivery_at != NONE_I64;
        if delivered_complete {
            g.orders_delivered += sign;
            track(
                &mut g.delivery_secs,
                lead(row.placed_at, row.last_delivery_at),
                sign,
            );
            let mut delivery_ok = true;
            if row.promised != NONE_DAY {
                g.delivery_judged += sign;
                delivery_ok = row.last_delivery_day <= row.promised;
                if delivery_ok {
                    g.delivered_on_time += sign;
                }
            }
            if cancelled == 0 && returned == 0 && ship_ok && delivery_ok && shipped_complete {
                g.orders_perfect += sign;
            }
        }
        if returned > 0 {
            g.orders_returned += sign;
        }
        if row.backordered {
            g.orders_backordered += sign;
        }
    }

    /// Rebuilds every derived row and aggregate from the order fact log alone: the
    /// batch path. Interned ids and groups are kept (they are part of the log's
    /// encoding); notifications, stock movements and counts are kept as they are
    /// (each list is its own log, and nothing is derived from it before a query).
    pub fn recompute(&mut self) {
        self.rows.clear();
        self.lines.clear();
        self.returns.clear();
        for g in &mut self.groups {
            *g = GroupAgg::default();
        }
        let log = std::mem::take(&mut self.log);
        for rec in &log {
            self.apply(rec);
        }
        self.log = log;
        for o in 0..self.rows.len() {
            if let Ok(o) = u32::try_from(o) {
                self.contribute(o, 1);
            }
        }
    }
}

fn cancel_units(l: &mut LineRow, wanted: u32, reason: u8) {
    let open = l.active().saturating_sub(l.shipped);
    let n = wanted.min(open);
    l.cancelled += n;
    if reason == INVENTORY {
        l.cancelled_inventory += n;
    }
}

fn lead(from: i64, to: i64) -> u32 {
    u32::try_from((to - from).max(0)).unwrap_or(u32::MAX)
}

fn track(list: &mut Vec<u32>, value: u32, sign: i64) {
    if sign > 0 {
        list.push(value);
    } else if let Some(p) = list.iter().rposition(|v| *v == value) {
        list.swap_remove(p);
    }
}
