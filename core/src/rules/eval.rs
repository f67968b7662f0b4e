//! Evaluation: the facts of an order, which rules fire on them, why, and where the
//! actions of rules firing together contradict each other.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};
use crate::order::Order;

use super::types::{Action, Condition, Field, Op, Rule, Test, TimeOfDay, Trigger, Value};
use super::RuleSet;

/// Where the facts that are not on the order come from.
#[derive(Debug, Clone)]
pub struct FactSources<'a> {
    /// When the trigger fired (for `local_time`).
    pub now: DateTime<Utc>,
    /// The shop's time zone.
    pub tz: Tz,
    /// Weight in grams per SKU; `None`, or a SKU missing: `weight_grams` has no value.
    pub weights_grams: Option<&'a BTreeMap<String, u32>>,
    /// Orders the customer placed before this one, when known.
    pub customer_order_count: Option<u64>,
}

impl FactSources<'_> {
    /// Sources with only a time (UTC), no weights and no customer history.
    pub fn at(now: DateTime<Utc>) -> FactSources<'static> {
        FactSources {
            now,
            tz: chrono_tz::UTC,
            weights_grams: None,
            customer_order_count: None,
        }
    }
}

/// The facts of one order that conditions test, worked out once per evaluation.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// Channel id.
    pub channel: &'a str,
    /// Shipping country.
    pub country: Option<&'a str>,
    /// Order currency.
    pub currency: Currency,
    /// Order total.
    pub total: Option<Money>,
    /// Lines with active units.
    pub line_count: u64,
    /// SKUs of lines with active units.
    pub skus: Vec<&'a str>,
    /// Tags.
    pub tags: &'a BTreeSet<String>,
    /// Orders the customer placed before.
    pub customer_order_count: Option<u64>,
    /// Latest provider payment's method.
    pub payment_method: Option<&'a str>,
    /// Chosen carrier service, else the first shipping line's title.
    pub shipping_service: Option<&'a str>,
    /// Weight of active units.
    pub weight_grams: Option<u64>,
    /// Local time of day in the shop's zone.
    pub local_time: Option<TimeOfDay>,
}

impl<'a> Facts<'a> {
    /// The facts of `order`.
    pub fn of(order: &'a Order, src: &FactSources<'_>) -> Facts<'a> {
        let active = || order.lines.iter().filter(|l| l.active_quantity() > 0);
        let weight_grams = src.weights_grams.and_then(|w| {
            active().try_fold(0u64, |sum, l| {
                let grams = w.get(l.variant.as_str())?;
                Some(sum.saturating_add(u64::from(*grams) * u64::from(l.active_quantity())))
            })
        });
        let local = src.now.with_timezone(&src.tz);
        Facts {
            channel: order.channel.as_str(),
            country: order.shipping_address.as_ref().map(|a| a.country.as_str()),
            currency: order.currency,
            total: order.totals().ok().map(|t| t.total),
            line_count: active().count() as u64,
            skus: active().map(|l| l.variant.as_str()).collect(),
            tags: &order.tags,
            customer_order_count: src.customer_order_count,
            payment_method: order
                .payments
                .iter()
                .rev()
                .find_map(|p| p.method.as_deref()),
            shipping_service: order
                .automation
                .carrier
                .as_ref()
                .map(|c| c.service.as_str())
                .or_else(|| order.shipping_lines.first().map(|s| s.title.as_str())),
            weight_grams,
            local_time: TimeOfDay::from_hm(local.hour(), local.minute()),
        }
    }

    fn text(&self, field: Field) -> Option<&str> {
        match field {
            Field::Channel => Some(self.channel),
            Field::Country => self.country,
            Field::Currency => Some(self.currency.code()),
            Field::PaymentMethod => self.payment_method,
            Field::ShippingService => self.shipping_service,
            _ => None,
        }
    }

    fn count(&self, field: Field) -> Option<u64> {
        match field {
            Field::LineCount => Some(self.line_count),
            Field::CustomerOrderCount => self.customer_order_count,
            Field::WeightGrams => self.weight_grams,
            _ => None,
        }
    }

    fn has(&self, field: Field, text: &str) -> bool {
        match field {
            Field::Sku => self.skus.contains(&text),
            Field::Tag => self.tags.contains(text),
            _ => false,
        }
    }

    /// The fact as text, for explanations.
    fn describe(&self, field: Field) -> String {
        let none = || "none".to_string();
        match field {
            Field::Total => self.total.map_or_else(none, |t| t.to_string()),
            Field::Sku => format!("[{}]", self.skus.join(", ")),
            Field::Tag => format!(
                "[{}]",
                self.tags.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            Field::LocalTime => self.local_time.map_or_else(none, |t| t.to_string()),
            Field::LineCount | Field::CustomerOrderCount | Field::WeightGrams => {
                self.count(field).map_or_else(none, |c| c.to_string())
            }
            _ => self.text(field).map_or_else(none, str::to_string),
        }
    }
}

fn ordered<T: Ord>(op: Op, a: T, b: T) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::In | Op::NotIn | Op::Between => false,
    }
}

/// Whether one test holds. A fact with no value (no address, unknown weight) makes
/// every test on it false except `!=` and `not_in` on text; money in another currency
/// than the order's never compares (amounts are never converted).
pub fn test_holds(t: &Test, f: &Facts<'_>) -> bool {
    match (&t.value, t.field) {
        (Value::Text(v), Field::Sku | Field::Tag) => match t.op {
            Op::Eq => f.has(t.field, v),
            Op::Ne => !f.has(t.field, v),
            _ => false,
        },
        (Value::Texts(vs), Field::Sku | Field::Tag) => {
            let any = vs.iter().any(|v| f.has(t.field, v));
            match t.op {
                Op::In => any,
                Op::NotIn => !any,
                _ => false,
            }
        }
        (Value::Text(v), field) => match (t.op, f.text(field)) {
            (Op::Eq, Some(x)) => x == v,
            (Op::Ne, x) => x != Some(v.as_str()),
            _ => false,
        },
        (Value::Texts(vs), field) => {
            let x = f.text(field);
            let found = x.is_some_and(|x| vs.iter().any(|v| v == x));
            match t.op {
                Op::In => found,
                Op::NotIn => !found,
                _ => false,
            }
        }
        (Value::Money(m), _) => match f.total {
            Some(total) if total.currency() == m.currency() => {
                ordered(t.op, total.amount(), m.amount())
            }
            _ => false,
        },
        (Value::Count(n), field) => f.count(field).is_some_and(|c| ordered(t.op, c, *n)),
        (Value::CountRange([lo, hi]), field) => {
            f.count(field).is_some_and(|c| *lo <= c && c <= *hi)
        }
        (Value::Time(at), _) => f.local_time.is_some_and(|now| ordered(t.op, now, *at)),
        (Value::TimeRange([from, to]), _) => f.local_time.is_some_and(|now| {
            if from <= to {
                *from <= now && now < *to
            } else {
                now >= *from || now < *to
            }
        }),
    }
}

/// Whether a condition holds.
pub fn holds(c: &Condition, f: &Facts<'_>) -> bool {
    match c {
        Condition::All { all } => all.iter().all(|c| holds(c, f)),
        Condition::Any { any } => any.iter().any(|c| holds(c, f)),
        Condition::Not { not } => !holds(not, f),
        Condition::Test(t) => test_holds(t, f),
    }
}

fn describe_value(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        Value::Texts(vs) => format!("[{}]", vs.join(", ")),
        Value::Count(n) => n.to_string(),
        Value::CountRange([a, b]) => format!("[{a}, {b}]"),
        Value::Money(m) => m.to_string(),
        Value::Time(t) => t.to_string(),
        Value::TimeRange([a, b]) => format!("[{a}, {b})"),
    }
}

fn describe(c: &Condition, f: &Facts<'_>, nested: bool) -> String {
    let group = |items: &[Condition], sep: &str| {
        let text = items
            .iter()
            .map(|c| describe(c, f, true))
            .collect::<Vec<_>>()
            .join(sep);
        if nested && items.len() > 1 {
            format!("({text})")
        } else {
            text
        }
    };
    match c {
        Condition::All { all } if all.is_empty() => "always".to_string(),
        Condition::All { all } => group(all, " and "),
        Condition::Any { any } => group(any, " or "),
        Condition::Not { not } => format!("not {}", describe(not, f, true)),
        Condition::Test(t) => format!(
            "{} ({}) {} {}",
            t.field,
            f.describe(t.field),
            t.op,
            describe_value(&t.value)
        ),
    }
}

/// Why `rule` fires on these facts: its conditions with the order's values, e.g.
/// `total (1500.00 TRY) > 1000.00 TRY and country (IR) in [IR, NG]`.
pub fn explain(rule: &Rule, f: &Facts<'_>) -> String {
    match &rule.when {
        None => "always".to_string(),
        Some(c) => describe(c, f, false),
    }
}

impl RuleSet {
    /// The rules that fire at `trigger` on these facts, in the order they run
    /// (priority, highest first, then file order), stopping after a rule that fires
    /// with `stop_processing`.
    pub fn matching(&self, trigger: Trigger, f: &Facts<'_>) -> Vec<&Rule> {
        let mut out = Vec::new();
        for rule in self.for_trigger(trigger) {
            if rule.when.as_ref().is_none_or(|c| holds(c, f)) {
                out.push(rule);
                if rule.stop_processing {
                    break;
                }
            }
        }
        out
    }
}

/// How two rules firing together contradict each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// Two rules route the same line to different locations.
    RoutesDiffer,
    /// One rule routes a line to a location another excludes.
    RouteExcluded,
    /// One rule holds the order and another confirms it.
    HoldAndConfirm,
    /// One rule holds the order and another releases it.
    HoldAndRelease,
    /// Two rules choose different carrier services.
    CarriersDiffer,
    /// Two rules set different priorities.
    PrioritiesDiffer,
    /// One rule adds a tag another removes.
    TagAddedAndRemoved,
}

/// Two rules whose actions contradict each other on one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// How.
    pub kind: ConflictKind,
    /// The two rules, in the order they ran.
    pub rules: [String; 2],
    /// What exactly, e.g. `line L1 (SOFA-XL): ist-1 vs ank-1`.
    pub detail: String,
}

/// The conflicts among the actions of rules that fire on `order` together (in the
/// order they run).
pub fn conflicts(order: &Order, fired: &[(&str, &Action)]) -> Vec<Conflict> {
    let mut out = Vec::new();
    for (i, (ra, a)) in fired.iter().enumerate() {
        for (rb, b) in fired.iter().skip(i + 1) {
            if ra == rb {
                continue;
            }
            let found = match (a, b) {
                (
                    Action::RouteToLocation {
                        location: la,
                        skus: sa,
                    },
                    Action::RouteToLocation {
                        location: lb,
                        skus: sb,
                    },
                ) if la != lb => {
                    let lines: Vec<String> = order
                        .lines
                        .iter()
                        .filter(|l| {
                            let sku = l.variant.as_str();
                            (sa.is_empty() || sa.iter().any(|s| s == sku))
                                && (sb.is_empty() || sb.iter().any(|s| s == sku))
                        })
                        .map(|l| format!("line {} ({}): {la} vs {lb}", l.id, l.variant))
                        .collect();
                    (!lines.is_empty()).then(|| (ConflictKind::RoutesDiffer, lines.join("; ")))
                }
                (
                    Action::RouteToLocation { location, .. },
                    Action::ExcludeLocation { location: ex },
                )
                | (
                    Action::ExcludeLocation { location: ex },
                    Action::RouteToLocation { location, .. },
                ) if location == ex => Some((
                    ConflictKind::RouteExcluded,
                    format!("location {location} is both routed to and excluded"),
                )),
                (Action::Hold { reason, .. }, Action::AutoConfirm)
                | (Action::AutoConfirm, Action::Hold { reason, .. }) => Some((
                    ConflictKind::HoldAndConfirm,
                    format!("hold ({reason:?}) vs auto_confirm"),
                )),
                (Action::Hold { .. }, Action::Release) | (Action::Release, Action::Hold { .. }) => {
                    Some((ConflictKind::HoldAndRelease, "hold vs release".to_string()))
                }
                (
                    Action::ChooseCarrier {
                        carrier: ca,
                        service: sa,
                    },
                    Action::ChooseCarrier {
                        carrier: cb,
                        service: sb,
                    },
                ) if (ca, sa) != (cb, sb) => Some((
                    ConflictKind::CarriersDiffer,
                    format!("{ca}/{sa} vs {cb}/{sb}"),
                )),
                (Action::SetPriority { priority: pa }, Action::SetPriority { priority: pb })
                    if pa != pb =>
                {
                    Some((ConflictKind::PrioritiesDiffer, format!("{pa} vs {pb}")))
                }
                (
                    Action::Tag {
                        add: add_a,
                        remove: remove_a,
                    },
                    Action::Tag {
                        add: add_b,
                        remove: remove_b,
                    },
                ) => add_a
                    .iter()
                    .find(|t| remove_b.contains(t))
                    .or_else(|| add_b.iter().find(|t| remove_a.contains(t)))
                    .map(|t| (ConflictKind::TagAddedAndRemoved, format!("tag {t}"))),
                _ => None,
            };
            if let Some((kind, detail)) = found {
                out.push(Conflict {
                    kind,
                    rules: [ra.to_string(), rb.to_string()],
                    detail,
                });
            }
        }
    }
    out
}
