//! Insight beyond the numbers: for each KPI that moved against the previous period by
//! more than a threshold, one plain sentence naming the largest contributors, whose
//! contributions add up to the change (see the module documentation for the maths).

use std::collections::BTreeMap;

use serde::Serialize;

use super::book::KpiBook;
use super::fact::{cancel_reason_name, CANCEL_REASONS};
use super::query::{KpiQuery, Period};
use super::KpiError;

/// One segment's part of a change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    /// The segment, e.g. `SKU TEE-M, reason wrong_size, channel web`.
    pub segment: String,
    /// Its part of the change, in the KPI's unit.
    pub amount: f64,
    /// `amount ÷ change`.
    pub share: f64,
}

/// A KPI that moved, why, in one sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Insight {
    /// The KPI, e.g. `return_rate_units`.
    pub kpi: String,
    /// The earlier period's label.
    pub previous_period: String,
    /// The later period's label.
    pub current_period: String,
    /// The KPI in the earlier period.
    pub previous: f64,
    /// The KPI in the later period.
    pub current: f64,
    /// `current − previous`.
    pub change: f64,
    /// Every segment's contribution, largest in size first; they add up to `change`.
    pub contributions: Vec<Contribution>,
    /// The sentence.
    pub sentence: String,
}

/// Numerators per segment and the denominator, for both periods.
struct Decomposition {
    kpi: String,
    label: String,
    percent: bool,
    previous: (BTreeMap<String, f64>, f64),
    current: (BTreeMap<String, f64>, f64),
}

impl Decomposition {
    fn value(part: &(BTreeMap<String, f64>, f64)) -> Option<f64> {
        let n = part.0.values().fold(0.0, |a, b| a + b);
        if part.1 == 0.0 {
            None
        } else {
            Some(n / part.1)
        }
    }

    fn insight(
        self,
        previous_period: &str,
        current_period: &str,
        threshold: f64,
    ) -> Option<Insight> {
        let previous = Self::value(&self.previous)?;
        let current = Self::value(&self.current)?;
        let change = current - previous;
        let moved = if previous == 0.0 {
            change != 0.0
        } else {
            (change / previous).abs() > threshold
        };
        if !moved || change == 0.0 {
            return None;
        }
        let mut keys: Vec<&String> = self
            .previous
            .0
            .keys()
            .chain(self.current.0.keys())
            .collect();
        keys.sort();
        keys.dedup();
        let mut contributions: Vec<Contribution> = keys
            .into_iter()
            .map(|k| {
                let now = self.current.0.get(k).copied().unwrap_or(0.0) / self.current.1;
                let before = self.previous.0.get(k).copied().unwrap_or(0.0) / self.previous.1;
                let amount = now - before;
                Contribution {
                    segment: k.clone(),
                    amount,
                    share: amount / change,
                }
            })
            .filter(|c| c.amount != 0.0)
            .collect();
        contributions.sort_by(|a, b| {
            b.amount
                .abs()
                .total_cmp(&a.amount.abs())
                .then_with(|| a.segment.cmp(&b.segment))
        });
        let fmt = |v: f64| {
            if self.percent {
                format!("{:.1} %", v * 100.0)
            } else {
                format!("{v:.2}")
            }
        };
        let direction = if change > 0.0 { "rose" } else { "fell" };
        let noun = if change > 0.0 { "increase" } else { "decrease" };
        let named: Vec<String> = contributions
            .iter()
            .filter(|c| c.share > 0.0)
            .take(3)
            .map(|c| format!("{:.0} % of the {noun} is {}", c.share * 100.0, c.segment))
            .collect();
        let mut sentence = format!(
            "{} {direction} from {} to {} ({previous_period} → {current_period})",
            self.label,
            fmt(previous),
            fmt(current)
        );
        if !named.is_empty() {
            sentence.push_str("; ");
            sentence.push_str(&named.join("; "));
        }
        sentence.push('.');
        Some(Insight {
            kpi: self.kpi,
            previous_period: previous_period.to_string(),
            current_period: current_period.to_string(),
            previous,
            current,
            change,
            contributions,
            sentence,
        })
    }
}

/// Insights for the last two periods of `query` (its grain, range and filters); a KPI
/// is reported when `|change ÷ previous| > threshold` (e.g. `0.1` for 10 %), or when it
/// moved from zero. KPIs: orders, net revenue per currency, cancellation rate, return
/// rate (units), on-time ship rate, perfect-order rate.
pub fn insights(
    book: &KpiBook,
    query: &KpiQuery,
    threshold: f64,
) -> Result<Vec<Insight>, KpiError> {
    if !threshold.is_finite() || threshold < 0.0 {
        return Err(KpiError::InvalidThreshold);
    }
    let f = book.filter(query)?;
    let by = book.roll_up(&f, query.grain, |p, k| (p.clone(), k.channel, k.currency));
    let periods: Vec<Period> = {
        let mut v: Vec<Period> = by.keys().map(|k| k.0.clone()).collect();
        v.dedup();
        v
    };
    let (Some(prev), Some(cur)) = (
        periods.len().checked_sub(2).and_then(|i| periods.get(i)),
        periods.last(),
    ) else {
        return Ok(Vec::new());
    };
    type Part = (BTreeMap<String, f64>, f64);
    let empty = || -> (Part, Part) { ((BTreeMap::new(), 0.0), (BTreeMap::new(), 0.0)) };
    let mut orders = empty();
    let mut cancel = empty();
    let mut returns = empty();
    let mut on_time = empty();
    let mut perfect = empty();
    let mut revenue: BTreeMap<u8, (Part, Part)> = BTreeMap::new();
    for ((p, ch, cur_i), a) in &by {
        let which = if p == prev {
            0
        } else if p == cur {
            1
        } else {
            continue;
        };
        let channel = format!("channel {}", book.channels.name(*ch));
        let add = |pair: &mut (Part, Part), key: &str, n: f64, d: f64| {
            let part = if which == 0 { &mut pair.0 } else { &mut pair.1 };
            if n != 0.0 {
                *part.0.entry(key.to_string()).or_insert(0.0) += n;
            }
            part.1 += d;
        };
        add(&mut orders, &channel, a.orders as f64, 0.0);
        for (reason, n) in CANCEL_REASONS.iter().zip(a.cancelled_by_reason) {
            let key = format!("reason {}, {channel}", cancel_reason_name(*reason));
            add(&mut cancel, &key, n as f64, 0.0);
        }
        add(&mut cancel, &channel, 0.0, a.orders as f64);
        add(&mut returns, &channel, 0.0, a.units_shipped as f64);
        add(
            &mut on_time,
            &channel,
            a.shipped_on_time as f64,
            a.ship_judged as f64,
        );
        add(
            &mut perfect,
            &channel,
            a.orders_perfect as f64,
            a.orders_delivered as f64,
        );
        let scale = book
            .currencies
            .get(*cur_i as usize)
            .map_or(0, |c| c.minor_units());
        let net = (a.gross - a.discount - a.refund) as f64 / 10f64.powi(scale as i32);
        add(
            revenue.entry(*cur_i).or_insert_with(empty),
            &channel,
            net,
            0.0,
        );
    }
    for r in &book.returns {
        let Some((day, group, l, _)) = book.line_allowed(&f, r.line) else {
            continue;
        };
        let p = book.period_of(query.grain, day);
        let which = if p == *prev {
            &mut returns.0
        } else if p == *cur {
            &mut returns.1
        } else {
            continue;
        };
        let channel = book
            .group_keys
            .get(group as usize)
            .map_or("", |k| book.channels.name(k.channel));
        let key = format!(
            "SKU {}, reason {}, channel {channel}",
            book.skus.name(l.sku),
            book.return_reasons.name(r.reason)
        );
        *which.0.entry(key).or_insert(0.0) += f64::from(r.units);
    }
    // Counts: a denominator of 1 makes N/D the count itself.
    orders.0 .1 = 1.0;
    orders.1 .1 = 1.0;
    let mut list = vec![
        Decomposition {
            kpi: "orders".into(),
            label: "orders".into(),
            percent: false,
            previous: orders.0,
            current: orders.1,
        },
        Decomposition {
            kpi: "cancellation_rate".into(),
            label: "cancellation rate".into(),
            percent: true,
            previous: cancel.0,
            current: cancel.1,
        },
        Decomposition {
            kpi: "return_rate_units".into(),
            label: "return rate".into(),
            percent: true,
            previous: returns.0,
            current: returns.1,
        },
        Decomposition {
            kpi: "on_time_ship_rate".into(),
            label: "on-time ship rate".into(),
            percent: true,
            previous: on_time.0,
            current: on_time.1,
        },
        Decomposition {
            kpi: "perfect_order_rate".into(),
            label: "perfect-order rate".into(),
            percent: true,
            previous: perfect.0,
            current: perfect.1,
        },
    ];
    for (cur_i, (mut a, mut b)) in revenue {
        let code = book.currencies.get(cur_i as usize).map_or("", |c| c.code());
        a.1 = 1.0;
        b.1 = 1.0;
        list.push(Decomposition {
            kpi: format!("net_revenue_{code}"),
            label: format!("net revenue ({code})"),
            percent: false,
            previous: a,
            current: b,
        });
    }
    Ok(list
        .into_iter()
        .filter_map(|d| d.insight(&prev.1, &cur.1, threshold))
        .collect())
}
