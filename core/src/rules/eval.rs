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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeZone;

    use super::*;
    use crate::ids::{ChannelId, OrderId, VariantId};
    use crate::order::{place, NewLine, NewOrder, OrderEvent};
    use crate::pii::Address;
    use crate::rules::RuleContext;

    /// A TR order on `web`: 2 × SHIRT-M at 100 and 1 × MUG at 50 TRY (250.00),
    /// tagged `vip`, paid by card.
    fn order() -> Order {
        let try_ = Currency::parse("TRY").unwrap();
        let mut new = NewOrder::new(
            ChannelId::parse("web").unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap(),
            try_,
            vec![
                NewLine::new(
                    VariantId::parse("SHIRT-M").unwrap(),
                    2,
                    Money::parse("100", try_).unwrap(),
                ),
                NewLine::new(
                    VariantId::parse("MUG").unwrap(),
                    1,
                    Money::parse("50", try_).unwrap(),
                ),
            ],
        );
        new.shipping_address = Some(Address {
            country: "TR".into(),
            ..Address::default()
        });
        new.tags = vec!["vip".into()];
        let OrderEvent::Placed(p) = place(&new).unwrap() else {
            unreachable!()
        };
        let mut o = Order::from_placed(OrderId::parse("o-1").unwrap(), &p);
        o.apply(&OrderEvent::PaymentAuthorisationRequested {
            payment: Box::new(crate::payment::Payment::requested(
                "P1".into(),
                "iyzico".into(),
                Some("card".into()),
                Money::parse("250", try_).unwrap(),
            )),
        });
        o
    }

    fn check(cases: &[(&str, bool)]) {
        let order = order();
        let weights = BTreeMap::from([("SHIRT-M".to_string(), 300), ("MUG".to_string(), 400)]);
        let sources = FactSources {
            // 13:30 in Istanbul.
            now: Utc.with_ymd_and_hms(2026, 11, 20, 10, 30, 0).unwrap(),
            tz: chrono_tz::Europe::Istanbul,
            weights_grams: Some(&weights),
            customer_order_count: Some(2),
        };
        let facts = Facts::of(&order, &sources);
        for (when, expected) in cases {
            let json = format!(
                r#"{{"rules": [{{"name": "r", "trigger": "order_placed", "when": {when},
                "actions": [{{"type": "tag", "add": ["x"]}}]}}]}}"#
            );
            let set = RuleSet::load(&json, &RuleContext::default())
                .unwrap_or_else(|e| panic!("{when}: {e}"));
            let fired = !set.matching(Trigger::OrderPlaced, &facts).is_empty();
            assert_eq!(fired, *expected, "{when}");
        }
    }

    fn t(field: &str, op: &str, value: &str) -> String {
        format!(r#"{{"field": "{field}", "op": "{op}", "value": {value}}}"#)
    }

    #[test]
    fn text_fields_with_every_operator() {
        let cases: Vec<(String, bool)> = vec![
            (t("channel", "==", r#""web""#), true),
            (t("channel", "==", r#""shopify""#), false),
            (t("channel", "!=", r#""shopify""#), true),
            (t("country", "in", r#"["DE", "TR"]"#), true),
            (t("country", "not_in", r#"["DE", "TR"]"#), false),
            (t("currency", "==", r#""TRY""#), true),
            (t("currency", "!=", r#""TRY""#), false),
            (t("payment_method", "==", r#""card""#), true),
            (t("payment_method", "in", r#"["bank_transfer"]"#), false),
            (t("shipping_service", "==", r#""express""#), false),
            // No shipping line: the fact has no value; != and not_in hold.
            (t("shipping_service", "!=", r#""express""#), true),
            (t("shipping_service", "not_in", r#"["express"]"#), true),
        ];
        check(
            &cases
                .iter()
                .map(|(w, e)| (w.as_str(), *e))
                .collect::<Vec<_>>(),
        );
    }

    #[test]
    fn sets_money_counts_and_times_with_every_operator() {
        let money = |a: &str, c: &str| format!(r#"{{"amount": "{a}", "currency": "{c}"}}"#);
        let cases: Vec<(String, bool)> = vec![
            (t("sku", "==", r#""MUG""#), true),
            (t("sku", "!=", r#""MUG""#), false),
            (t("sku", "in", r#"["SOFA", "SHIRT-M"]"#), true),
            (t("sku", "not_in", r#"["SOFA", "BED"]"#), true),
            (t("tag", "==", r#""vip""#), true),
            (t("tag", "!=", r#""vip""#), false),
            (t("tag", "in", r#"["wholesale"]"#), false),
            (t("tag", "not_in", r#"["wholesale"]"#), true),
            (t("total", "==", &money("250", "TRY")), true),
            (t("total", "!=", &money("250", "TRY")), false),
            (t("total", ">", &money("249.99", "TRY")), true),
            (t("total", ">=", &money("250.01", "TRY")), false),
            (t("total", "<", &money("250.01", "TRY")), true),
            (t("total", "<=", &money("249.99", "TRY")), false),
            // Another currency never compares, not even with !=.
            (t("total", "!=", &money("250", "EUR")), false),
            (t("total", "<", &money("1000000", "EUR")), false),
            (t("line_count", "==", "2"), true),
            (t("line_count", "!=", "2"), false),
            (t("line_count", ">", "1"), true),
            (t("line_count", ">=", "3"), false),
            (t("line_count", "<", "3"), true),
            (t("line_count", "<=", "1"), false),
            (t("line_count", "between", "[2, 2]"), true),
            (t("customer_order_count", "==", "2"), true),
            (t("customer_order_count", "between", "[0, 1]"), false),
            // 2 × 300 g + 400 g.
            (t("weight_grams", "==", "1000"), true),
            (t("weight_grams", ">", "1000"), false),
            (t("local_time", ">", r#""13:29""#), true),
            (t("local_time", ">=", r#""13:31""#), false),
            (t("local_time", "<", r#""13:31""#), true),
            (t("local_time", "<=", r#""13:29""#), false),
            (t("local_time", "between", r#"["13:00", "14:00"]"#), true),
            (t("local_time", "between", r#"["13:30", "13:31"]"#), true),
            (t("local_time", "between", r#"["13:00", "13:30"]"#), false),
            // Wrapping past midnight.
            (t("local_time", "between", r#"["22:00", "14:00"]"#), true),
            (t("local_time", "between", r#"["22:00", "06:00"]"#), false),
        ];
        check(
            &cases
                .iter()
                .map(|(w, e)| (w.as_str(), *e))
                .collect::<Vec<_>>(),
        );
    }

    #[test]
    fn all_any_not_combine() {
        let yes = t("tag", "==", r#""vip""#);
        let no = t("tag", "==", r#""nope""#);
        let cases = [
            (format!(r#"{{"all": [{yes}, {yes}]}}"#), true),
            (format!(r#"{{"all": [{yes}, {no}]}}"#), false),
            (r#"{"all": []}"#.to_string(), true),
            (format!(r#"{{"any": [{no}, {yes}]}}"#), true),
            (format!(r#"{{"any": [{no}, {no}]}}"#), false),
            (r#"{"any": []}"#.to_string(), false),
            (format!(r#"{{"not": {no}}}"#), true),
            (format!(r#"{{"not": {{"any": [{no}, {yes}]}}}}"#), false),
        ];
        check(
            &cases
                .iter()
                .map(|(w, e)| (w.as_str(), *e))
                .collect::<Vec<_>>(),
        );
    }

    #[test]
    fn unknown_weight_or_customer_makes_count_tests_false() {
        let order = order();
        let facts = Facts::of(&order, &FactSources::at(order.placed_at));
        assert_eq!(facts.weight_grams, None);
        assert_eq!(facts.customer_order_count, None);
        let json = r#"{"rules": [{"name": "r", "trigger": "order_placed",
            "when": {"any": [{"field": "weight_grams", "op": ">=", "value": 0},
                             {"field": "customer_order_count", "op": "<", "value": 100}]},
            "actions": [{"type": "tag", "add": ["x"]}]}]}"#;
        let set = RuleSet::load(json, &RuleContext::default()).unwrap();
        assert!(set.matching(Trigger::OrderPlaced, &facts).is_empty());
    }

    #[test]
    fn conflicts_are_found_between_rules_not_within_one() {
        let order = order();
        let route = |l: &str| Action::RouteToLocation {
            location: crate::ids::LocationId::parse(l).unwrap(),
            skus: vec![],
        };
        let exclude = Action::ExcludeLocation {
            location: crate::ids::LocationId::parse("a").unwrap(),
        };
        let hold = Action::Hold {
            reason: crate::order::HoldReason::Other,
            note: None,
        };
        let carrier = |s: &str| Action::ChooseCarrier {
            carrier: "ups".into(),
            service: s.into(),
        };
        let tag = |add: &[&str], remove: &[&str]| Action::Tag {
            add: add.iter().map(|s| s.to_string()).collect(),
            remove: remove.iter().map(|s| s.to_string()).collect(),
        };
        let (ra, rb) = (route("a"), route("b"));
        let (ca, cb) = (carrier("express"), carrier("standard"));
        let (pa, pb) = (
            Action::SetPriority { priority: 1 },
            Action::SetPriority { priority: 2 },
        );
        let (ta, tb) = (tag(&["x"], &[]), tag(&[], &["x"]));
        let cases: Vec<(&Action, &Action, ConflictKind)> = vec![
            (&ra, &rb, ConflictKind::RoutesDiffer),
            (&ra, &exclude, ConflictKind::RouteExcluded),
            (&hold, &Action::AutoConfirm, ConflictKind::HoldAndConfirm),
            (&Action::Release, &hold, ConflictKind::HoldAndRelease),
            (&ca, &cb, ConflictKind::CarriersDiffer),
            (&pa, &pb, ConflictKind::PrioritiesDiffer),
            (&tb, &ta, ConflictKind::TagAddedAndRemoved),
        ];
        for (a, b, kind) in cases {
            let found = conflicts(&order, &[("one", a), ("two", b)]);
            assert_eq!(found.len(), 1, "{a:?} {b:?}");
            assert_eq!(found[0].kind, kind);
            assert_eq!(found[0].rules, ["one".to_string(), "two".to_string()]);
            // The same rule doing both is its author's intent, not a conflict.
            assert!(conflicts(&order, &[("one", a), ("one", b)]).is_empty());
        }
        // Routes for disjoint SKUs do not conflict; the same route twice does not.
        let mug = Action::RouteToLocation {
            location: crate::ids::LocationId::parse("a").unwrap(),
            skus: vec!["MUG".into()],
        };
        let shirt = Action::RouteToLocation {
            location: crate::ids::LocationId::parse("b").unwrap(),
            skus: vec!["SHIRT-M".into()],
        };
        assert!(conflicts(&order, &[("one", &mug), ("two", &shirt)]).is_empty());
        assert!(conflicts(&order, &[("one", &ra), ("two", &ra)]).is_empty());
    }
}
