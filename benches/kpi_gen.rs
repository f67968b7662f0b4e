//! A deterministic year of shop history for the KPI benchmark and the polars oracle:
//! `n` orders over 2026 (about 2.5 lines each over 20,000 SKUs with skewed
//! popularity), six channels (Amazon in USD, the rest in TRY), three customer
//! segments, ~3 % cancellations, ~1.5 % backorders, shipping 2–72 h after placing
//! against a 48 h ship-by, delivery 0.5–4.7 days later against a promise of ship-by +
//! 3 days, ~8 % of delivered orders returning a unit (and refunded), notifications,
//! the stock journal (sales at shipping, receipts every 28 days per SKU and location,
//! count adjustments) and weekly cycle counts (40 SKUs per location, ~15 % of them
//! off by 1–3 units). The history is cut at the end of 2026 (UTC): orders placed in
//! its last days are not shipped or delivered yet. Same `n` and seed, same history,
//! on every machine.
//!
//! Used by `benches/kpi.rs` (criterion) and `examples/kpi_history.rs` (writes the
//! history as CSV for `benches/peers/kpi_polars.py`, and ordersmith's tables as JSON).
#![allow(dead_code)]

use std::io::Write;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use ordersmith::kpi::{cancel_reason_name, KpiFact, StockFlow};
use ordersmith::money::Currency;
use ordersmith::order::CancelReason;
use rust_decimal::Decimal;

pub const CHANNELS: [&str; 6] = [
    "web",
    "trendyol",
    "hepsiburada",
    "amazon",
    "instagram",
    "pos",
];
const CHANNEL_WEIGHTS: [u64; 6] = [30, 25, 15, 12, 10, 8];
pub const SEGMENTS: [&str; 3] = ["unsegmented", "vip", "b2b"];
pub const RETURN_REASONS: [&str; 5] = [
    "wrong_size",
    "damaged",
    "not_as_described",
    "changed_mind",
    "late",
];
pub const TEMPLATES: [&str; 3] = ["order_received", "order_shipped", "delivered"];
pub const LOCATIONS: [&str; 2] = ["IST", "ANK"];
pub const SKUS: usize = 20_000;
const CANCEL: [CancelReason; 5] = [
    CancelReason::Customer,
    CancelReason::Fraud,
    CancelReason::Inventory,
    CancelReason::Declined,
    CancelReason::Staff,
];

/// SplitMix64: small, fast, and the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy)]
struct Line {
    sku: u32,
    qty: u32,
    price: i64,
    discount: i64,
}

struct Order {
    placed: i64,
    channel: u8,
    segment: u8,
    lines: [Line; 4],
    n_lines: u8,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Placed,
    Confirmed,
    Backordered,
    Cancelled(u8),
    Shipped,
    Delivered,
    Returned(u8),
    Notified(u8),
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Event {
    at: i64,
    order: u32,
    kind: Kind,
}

#[derive(Clone, Copy)]
struct StockEvent {
    at: i64,
    sku: u32,
    location: u8,
    change: i64,
    /// 0 received, 1 sold, 2 other (a count adjustment).
    flow: u8,
}

#[derive(Clone, Copy)]
struct CountEvent {
    at: i64,
    sku: u32,
    location: u8,
    expected: i64,
    counted: u32,
}

fn flow_of(flow: u8) -> StockFlow {
    match flow {
        0 => StockFlow::Received,
        1 => StockFlow::Sold,
        _ => StockFlow::Other,
    }
}

/// The history: orders, their events and the stock journal, in time order.
pub struct History {
    orders: Vec<Order>,
    events: Vec<Event>,
    stock: Vec<StockEvent>,
    counts: Vec<CountEvent>,
    order_ids: Vec<String>,
    sku_names: Vec<String>,
    try_: Currency,
    usd: Currency,
}

fn ts(at: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(at, 0).unwrap_or_default()
}

impl History {
    /// `n` orders; the same `n` and `seed` give the same history.
    pub fn generate(n: usize, seed: u64) -> History {
        let mut rng = Rng::new(seed);
        let year_start = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .unwrap()
            .timestamp();
        let year = 365 * 86_400;
        let mut orders = Vec::with_capacity(n);
        let mut events = Vec::with_capacity(n * 8);
        let mut units_by: Vec<[i64; 2]> = vec![[0, 0]; SKUS];
        let mut stock = Vec::with_capacity(n * 3);
        for i in 0..n {
            let placed = year_start + rng.below(year) as i64;
            let mut pick = rng.below(100);
            let mut channel = 0u8;
            for (c, w) in CHANNEL_WEIGHTS.iter().enumerate() {
                if pick < *w {
                    channel = c as u8;
                    break;
                }
                pick -= w;
            }
            let seg = match rng.below(100) {
                0..=79 => 0,
                80..=94 => 1,
                _ => 2,
            };
            let n_lines = match rng.below(10) {
                0..=1 => 1,
                2..=4 => 2,
                5..=7 => 3,
                _ => 4,
            };
            let usd = channel == 3;
            let mut lines = [Line {
                sku: 0,
                qty: 0,
                price: 0,
                discount: 0,
            }; 4];
            for l in lines.iter_mut().take(n_lines) {
                let sku = ((SKUS as f64) * rng.unit().powi(3)) as u32;
                let qty = match rng.below(10) {
                    0..=6 => 1,
                    7..=8 => 2,
                    _ => 3,
                };
                let base = 1_000 + (u64::from(sku).wrapping_mul(2_654_435_761) % 49_000) as i64;
                let price = if usd { (base / 30).max(100) } else { base };
                let discount = if rng.below(5) == 0 {
                    price * i64::from(qty) / 10
                } else {
                    0
                };
                *l = Line {
                    sku,
                    qty,
                    price,
                    discount,
                };
            }
            let order = i as u32;
            events.push(Event {
                at: placed,
                order,
                kind: Kind::Placed,
            });
            events.push(Event {
                at: placed,
                order,
                kind: Kind::Notified(0),
            });
            let location = (i % 2) as u8;
            let r = rng.unit();
            if r < 0.03 {
                if rng.below(10) < 4 {
                    events.push(Event {
                        at: placed + 600,
                        order,
                        kind: Kind::Confirmed,
                    });
                }
                let reason = rng.below(5) as u8;
                events.push(Event {
                    at: placed + 3600,
                    order,
                    kind: Kind::Cancelled(reason),
                });
            } else {
                events.push(Event {
                    at: placed + 600,
                    order,
                    kind: Kind::Confirmed,
                });
                if r < 0.045 {
                    events.push(Event {
                        at: placed + 900,
                        order,
                        kind: Kind::Backordered,
                    });
                }
                let shipped = placed + 7_200 + (rng.unit().powi(2) * 70.0 * 3600.0) as i64;
                events.push(Event {
                    at: shipped,
                    order,
                    kind: Kind::Shipped,
                });
                events.push(Event {
                    at: shipped,
                    order,
                    kind: Kind::Notified(1),
                });
                for l in lines.iter().take(n_lines) {
                    stock.push(StockEvent {
                        at: shipped,
                        sku: l.sku,
                        location,
                        change: -i64::from(l.qty),
                        flow: 1,
                    });
                    if let Some(u) = units_by.get_mut(l.sku as usize) {
                        u[location as usize] += i64::from(l.qty);
                    }
                }
                let delivered = shipped + 43_200 + (rng.unit() * 100.0 * 3600.0) as i64;
                events.push(Event {
                    at: delivered,
                    order,
                    kind: Kind::Delivered,
                });
                events.push(Event {
                    at: delivered,
                    order,
                    kind: Kind::Notified(2),
                });
                if rng.below(100) < 8 {
                    let reason = rng.below(5) as u8;
                    events.push(Event {
                        at: delivered + 3 * 86_400,
                        order,
                        kind: Kind::Returned(reason),
                    });
                }
            }
            orders.push(Order {
                placed,
                channel,
                segment: seg,
                lines,
                n_lines: n_lines as u8,
            });
        }
        // Receipts: every 28 days, each location gets 1/13 of its year's sales of the
        // SKU (rounded up), a little late for fast sellers: stockouts happen.
        for (sku, per_loc) in units_by.iter().enumerate() {
            for (loc, total) in per_loc.iter().enumerate() {
                if *total == 0 {
                    continue;
                }
                let each = (total + 12) / 13;
                for k in 0..14 {
                    stock.push(StockEvent {
                        at: year_start - 86_400 + k * 28 * 86_400 + 6 * 3600,
                        sku: sku as u32,
                        location: loc as u8,
                        change: each,
                        flow: 0,
                    });
                }
            }
        }
        // The history ends with 2026 (UTC): what would happen later has not yet.
        let cutoff = year_start + year as i64;
        events.retain(|e| e.at < cutoff);
        stock.retain(|s| s.at < cutoff);
        events.sort_unstable();
        stock.sort_by_key(|s| (s.at, s.sku, s.location));
        // Weekly cycle counts at 07:00 UTC: 40 SKUs per location, expected = the
        // journal's on hand then; 15 % are off by 1–3 units, booked as an adjustment.
        let mut counts = Vec::new();
        let mut on_hand: Vec<[i64; 2]> = vec![[0, 0]; SKUS];
        let mut adjustments = Vec::new();
        let mut next = 0usize;
        for week in 0..52 {
            let at = year_start + (3 + 7 * week) * 86_400 + 7 * 3600;
            while let Some(m) = stock.get(next).filter(|m| m.at <= at) {
                if let Some(h) = on_hand.get_mut(m.sku as usize) {
                    h[m.location as usize] += m.change;
                }
                next += 1;
            }
            for location in 0..2u8 {
                for _ in 0..40 {
                    let sku = ((SKUS as f64) * rng.unit().powi(2)) as u32;
                    let h = &mut on_hand[sku as usize][location as usize];
                    let expected = *h;
                    let mut counted = expected.max(0);
                    if rng.below(100) < 15 {
                        let off = 1 + rng.below(3) as i64;
                        counted = if rng.below(2) == 0 {
                            counted + off
                        } else {
                            (counted - off).max(0)
                        };
                    }
                    if counted != expected {
                        adjustments.push(StockEvent {
                            at,
                            sku,
                            location,
                            change: counted - expected,
                            flow: 2,
                        });
                        *h = counted;
                    }
                    counts.push(CountEvent {
                        at,
                        sku,
                        location,
                        expected,
                        counted: counted as u32,
                    });
                }
            }
        }
        stock.extend(adjustments);
        stock.sort_by_key(|s| (s.at, s.sku, s.location, s.flow));
        History {
            order_ids: (0..n).map(|i| format!("o{i:07}")).collect(),
            sku_names: (0..SKUS).map(|i| format!("SKU-{i:05}")).collect(),
            orders,
            events,
            stock,
            counts,
            try_: Currency::parse("TRY").unwrap(),
            usd: Currency::parse("USD").unwrap(),
        }
    }

    /// Calls `f` with every fact in time order (stock and order events merged).
    pub fn for_each_fact(&self, mut f: impl FnMut(KpiFact<'_>)) {
        let tz = chrono_tz::Europe::Istanbul;
        let mut s = 0usize;
        let mut c = 0usize;
        for e in &self.events {
            self.stock_until(e.at, &mut s, &mut c, &mut f);
            let o = &self.orders[e.order as usize];
            let order = self.order_ids[e.order as usize].as_str();
            let at = ts(e.at);
            let lines = &o.lines[..o.n_lines as usize];
            const LINE_IDS: [&str; 4] = ["L1", "L2", "L3", "L4"];
            let currency = if o.channel == 3 { self.usd } else { self.try_ };
            let scale = currency.minor_units();
            match e.kind {
                Kind::Placed => {
                    let ship_by = o.placed + 48 * 3600;
                    let promised: NaiveDate =
                        (ts(ship_by).with_timezone(&tz) + Duration::days(3)).date_naive();
                    f(KpiFact::OrderPlaced {
                        order,
                        at,
                        channel: CHANNELS[o.channel as usize],
                        segment: SEGMENTS[o.segment as usize],
                        currency,
                        ship_by: Some(ts(ship_by)),
                        promised_by: Some(promised),
                    });
                    for (i, l) in lines.iter().enumerate() {
                        f(KpiFact::LineOrdered {
                            order,
                            line: LINE_IDS[i],
                            sku: &self.sku_names[l.sku as usize],
                            quantity: l.qty,
                            unit_price: Decimal::new(l.price, scale),
                            discount: Decimal::new(l.discount, scale),
                        });
                    }
                }
                Kind::Confirmed => f(KpiFact::OrderConfirmed { order, at }),
                Kind::Backordered => f(KpiFact::Backordered { order, at }),
                Kind::Cancelled(r) => f(KpiFact::OrderCancelled {
                    order,
                    at,
                    reason: CANCEL[r as usize],
                }),
                Kind::Shipped => {
                    for (i, l) in lines.iter().enumerate() {
                        f(KpiFact::UnitsShipped {
                            order,
                            line: LINE_IDS[i],
                            quantity: l.qty,
                            at,
                        });
                    }
                }
                Kind::Delivered => {
                    for (i, l) in lines.iter().enumerate() {
                        f(KpiFact::UnitsDelivered {
                            order,
                            line: LINE_IDS[i],
                            quantity: l.qty,
                            at,
                        });
                    }
                }
                Kind::Returned(r) => {
                    f(KpiFact::UnitsReturned {
                        order,
                        line: "L1",
                        quantity: 1,
                        reason: RETURN_REASONS[r as usize],
                        at,
                    });
                    f(KpiFact::Refunded {
                        order,
                        amount: Decimal::new(o.lines[0].price, scale),
                        at,
                    });
                }
                Kind::Notified(t) => f(KpiFact::NotificationRequested {
                    order,
                    template: TEMPLATES[t as usize],
                    at,
                }),
            }
        }
        self.stock_until(i64::MAX, &mut s, &mut c, &mut f);
    }

    /// Stock movements and counts up to `at`, in time order (movements first).
    fn stock_until(&self, at: i64, s: &mut usize, c: &mut usize, f: &mut impl FnMut(KpiFact<'_>)) {
        loop {
            let m = self.stock.get(*s).filter(|m| m.at <= at);
            let k = self.counts.get(*c).filter(|k| k.at <= at);
            match (m, k) {
                (Some(m), k) if k.is_none_or(|k| m.at <= k.at) => {
                    f(KpiFact::StockMoved {
                        sku: &self.sku_names[m.sku as usize],
                        location: LOCATIONS[m.location as usize],
                        at: ts(m.at),
                        on_hand_change: m.change,
                        flow: flow_of(m.flow),
                    });
                    *s += 1;
                }
                (_, Some(k)) => {
                    f(KpiFact::Counted {
                        sku: &self.sku_names[k.sku as usize],
                        location: LOCATIONS[k.location as usize],
                        at: ts(k.at),
                        expected: k.expected,
                        counted: k.counted,
                    });
                    *c += 1;
                }
                _ => break,
            }
        }
    }

    /// Orders in the history.
    pub fn order_count(&self) -> usize {
        self.orders.len()
    }
}

/// Writes the facts as CSV files in `dir` (`orders.csv`, `lines.csv`, `events.csv`,
/// `stock.csv`, `counts.csv`), amounts in minor units, instants as Unix seconds: the polars
/// oracle's input, exactly the facts ordersmith is fed.
pub fn write_csv(history: &History, dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let open = |name: &str| std::fs::File::create(dir.join(name)).map(std::io::BufWriter::new);
    let (mut orders, mut lines, mut events, mut stock, mut counts) = (
        open("orders.csv")?,
        open("lines.csv")?,
        open("events.csv")?,
        open("stock.csv")?,
        open("counts.csv")?,
    );
    writeln!(
        orders,
        "order,placed_at,channel,segment,currency,scale,ship_by,promised_by"
    )?;
    writeln!(lines, "order,line,sku,quantity,price_minor,discount_minor")?;
    writeln!(events, "order,kind,line,quantity,at,reason,amount_minor")?;
    writeln!(stock, "sku,location,at,change,flow")?;
    writeln!(counts, "sku,location,at,expected,counted")?;
    let mut scale_of: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let mut result = Ok(());
    let minor = |d: Decimal, scale: u32| (d * Decimal::from(10i64.pow(scale))).trunc().to_string();
    history.for_each_fact(|f| {
        let r = match f {
            KpiFact::OrderPlaced {
                order,
                at,
                channel,
                segment,
                currency,
                ship_by,
                promised_by,
            } => {
                scale_of.insert(order.to_string(), currency.minor_units());
                writeln!(
                    orders,
                    "{order},{},{channel},{segment},{},{},{},{}",
                    at.timestamp(),
                    currency.code(),
                    currency.minor_units(),
                    ship_by.map_or(String::new(), |t| t.timestamp().to_string()),
                    promised_by.map_or(String::new(), |d| d.to_string())
                )
            }
            KpiFact::LineOrdered {
                order,
                line,
                sku,
                quantity,
                unit_price,
                discount,
            } => {
                let s = scale_of.get(order).copied().unwrap_or(2);
                writeln!(
                    lines,
                    "{order},{line},{sku},{quantity},{},{}",
                    minor(unit_price, s),
                    minor(discount, s)
                )
            }
            KpiFact::OrderConfirmed { order, at } => {
                writeln!(events, "{order},confirmed,,,{},,", at.timestamp())
            }
            KpiFact::Backordered { order, at } => {
                writeln!(events, "{order},backordered,,,{},,", at.timestamp())
            }
            KpiFact::OrderCancelled { order, at, reason } => writeln!(
                events,
                "{order},cancelled,,,{},{},",
                at.timestamp(),
                cancel_reason_name(reason)
            ),
            KpiFact::UnitsShipped {
                order,
                line,
                quantity,
                at,
            } => writeln!(
                events,
                "{order},shipped,{line},{quantity},{},,",
                at.timestamp()
            ),
            KpiFact::UnitsDelivered {
                order,
                line,
                quantity,
                at,
            } => writeln!(
                events,
                "{order},delivered,{line},{quantity},{},,",
                at.timestamp()
            ),
            KpiFact::UnitsReturned {
                order,
                line,
                quantity,
                reason,
                at,
            } => writeln!(
                events,
                "{order},returned,{line},{quantity},{},{reason},",
                at.timestamp()
            ),
            KpiFact::Refunded { order, amount, at } => {
                let s = scale_of.get(order).copied().unwrap_or(2);
                writeln!(
                    events,
                    "{order},refunded,,,{},,{}",
                    at.timestamp(),
                    minor(amount, s)
                )
            }
            KpiFact::NotificationRequested {
                order,
                template,
                at,
            } => writeln!(events, "{order},notified,,,{},{template},", at.timestamp()),
            KpiFact::StockMoved {
                sku,
                location,
                at,
                on_hand_change,
                flow,
            } => writeln!(
                stock,
                "{sku},{location},{},{on_hand_change},{}",
                at.timestamp(),
                match flow {
                    StockFlow::Received => "received",
                    StockFlow::Sold => "sold",
                    StockFlow::Other => "other",
                }
            ),
            KpiFact::Counted {
                sku,
                location,
                at,
                expected,
                counted,
            } => writeln!(
                counts,
                "{sku},{location},{},{expected},{counted}",
                at.timestamp()
            ),
            _ => Ok(()),
        };
        if result.is_ok() {
            result = r;
        }
    });
    result?;
    for mut w in [orders, lines, events, stock, counts] {
        w.flush()?;
    }
    Ok(())
}
