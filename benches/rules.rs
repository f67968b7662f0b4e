//! Criterion benchmarks for automation rules: evaluating 100 rules for one order
//! (goal ≤ 5 µs), beside a baseline measured in the same run:
//!
//! - `rules/baseline_order_totals` (what deriving one order's totals costs: every
//!   evaluation needs them once);
//! - `rules/facts` (the order's facts: totals, SKUs, weight, local time);
//! - `rules/evaluate_100_rules` (facts, then 100 rules' conditions, all for the same
//!   trigger, none stopping processing);
//! - `rules/match_100_rules_facts_ready` (the conditions alone).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use ordersmith::ids::{ChannelId, OrderId, VariantId};
use ordersmith::money::{Currency, Money};
use ordersmith::order::{place, NewLine, NewOrder, Order, OrderEvent};
use ordersmith::pii::Address;
use ordersmith::rules::{FactSources, Facts, RuleContext, RuleSet, Trigger};

fn order() -> Order {
    let try_ = Currency::parse("TRY").unwrap();
    let mut new = NewOrder::new(
        ChannelId::parse("web").unwrap(),
        Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap(),
        try_,
        ["SHIRT-M", "MUG", "TEA-500G", "SOFA-3S"]
            .iter()
            .map(|s| {
                NewLine::new(
                    VariantId::parse(*s).unwrap(),
                    2,
                    Money::parse("149.90", try_).unwrap(),
                )
            })
            .collect(),
    );
    new.shipping_address = Some(Address {
        country: "TR".into(),
        ..Address::default()
    });
    new.tags = vec!["vip".into(), "newsletter".into()];
    let OrderEvent::Placed(p) = place(&new).unwrap() else {
        unreachable!()
    };
    Order::from_placed(OrderId::parse("o-1").unwrap(), &p)
}

/// 100 rules on `order_placed`, each an `all` of three tests of different kinds;
/// one in ten matches the order, so every rule's conditions are evaluated.
fn rules() -> RuleSet {
    let mut rules = Vec::new();
    for i in 0..100 {
        let country = if i % 10 == 0 { "TR" } else { "DE" };
        rules.push(format!(
            r#"{{"name": "rule-{i}", "trigger": "order_placed", "priority": {p},
            "when": {{"all": [
                {{"field": "total", "op": ">", "value": {{"amount": "{amount}", "currency": "TRY"}}}},
                {{"field": "country", "op": "in", "value": ["{country}", "AZ", "GE"]}},
                {{"any": [
                    {{"field": "sku", "op": "in", "value": ["SOFA-3S", "BED-{i}"]}},
                    {{"field": "tag", "op": "==", "value": "vip"}},
                    {{"field": "local_time", "op": "between", "value": ["09:00", "18:00"]}}
                ]}}
            ]}},
            "actions": [{{"type": "set_priority", "priority": {i}}}]}}"#,
            p = i % 7,
            amount = 100 + i,
        ));
    }
    RuleSet::load(
        &format!("{{\"rules\": [{}]}}", rules.join(",")),
        &RuleContext::default(),
    )
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let order = order();
    let set = rules();
    let weights: BTreeMap<String, u32> = ["SHIRT-M", "MUG", "TEA-500G", "SOFA-3S"]
        .iter()
        .map(|s| (s.to_string(), 500))
        .collect();
    let sources = FactSources {
        now: Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap(),
        tz: chrono_tz::Europe::Istanbul,
        weights_grams: Some(&weights),
        customer_order_count: Some(3),
    };
    assert_eq!(
        set.matching(Trigger::OrderPlaced, &Facts::of(&order, &sources))
            .len(),
        10
    );
    let mut g = c.benchmark_group("rules");
    g.bench_function("baseline_order_totals", |b| {
        b.iter(|| black_box(black_box(&order).totals().unwrap()))
    });
    g.bench_function("facts", |b| {
        b.iter(|| black_box(Facts::of(black_box(&order), &sources)))
    });
    g.bench_function("evaluate_100_rules", |b| {
        b.iter(|| {
            let facts = Facts::of(black_box(&order), &sources);
            black_box(set.matching(Trigger::OrderPlaced, &facts).len())
        })
    });
    let facts = Facts::of(&order, &sources);
    g.bench_function("match_100_rules_facts_ready", |b| {
        b.iter(|| black_box(set.matching(Trigger::OrderPlaced, black_box(&facts)).len()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
