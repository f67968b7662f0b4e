//! Several OS processes confirm orders across several variants at once in one
//! PostgreSQL database, each through its own engine: with the stock log partitioned by
//! variant (ADR 0012) their writes pass each other, and still every variant sells
//! exactly its units, never one more.
//! Needs `--features pg-tests` and ORDERSMITH_PG_URL (scripts/test sets both).
#![cfg(feature = "pg-tests")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;

use common::*;
use ordersmith::engine::{CommandContext, Engine};
use ordersmith::ids::{ChannelId, LocationId, VariantId};
use ordersmith::order::{Actor, NewLine, NewOrder, OrderStatus};
use ordersmith::ports::memory::SystemClock;
use ordersmith::ports::{OrderQuery, Store};
use ordersmith::stock::{rebuild_balances, Location, LocationKind, StockCommand, StockPolicy};
use ordersmith_store_conformance::fixtures::{self, money};
use ordersmith_store_conformance::process::{run_children, PrefixedIds};

const CHILD: &str = "ORDERSMITH_SPREAD_CHILD";
const PROCESSES: usize = 4;
const ATTEMPTS_EACH: usize = 30;
const VARIANTS: usize = 8;
const UNITS: u32 = 10;

fn variant(k: usize) -> VariantId {
    VariantId::parse(format!("S-{k:02}")).unwrap()
}

/// One racing process: `schema worker`. Places and confirms one-unit orders, walking
/// the variants from its own offset, counting what was sold and refused.
#[test]
fn spread_child() {
    let Ok(spec) = std::env::var(CHILD) else {
        return;
    };
    let parts: Vec<&str> = spec.split(' ').collect();
    let (schema, worker) = (parts[0], parts[1]);
    let store = Arc::new(reopen(schema, 2));
    let engine = racing_engine(store, worker);
    let ctx = CommandContext::by(Actor::User(worker.to_string().into()));
    let (mut sold, mut refused) = (0, 0);
    let w: usize = worker.trim_start_matches('w').parse().unwrap();
    for i in 0..ATTEMPTS_EACH {
        let new = NewOrder::new(
            ChannelId::parse("web").unwrap(),
            fixtures::start(),
            fixtures::try_(),
            vec![NewLine::new(
                variant((3 * w + i) % VARIANTS),
                1,
                money("10.00"),
            )],
        );
        let order = engine.place_order(new, &ctx).unwrap();
        match engine.confirm_order(&order.id, &ctx) {
            Ok(_) => sold += 1,
            Err(e) if e.code() == "STOCK_INSUFFICIENT" => refused += 1,
            Err(e) => panic!("{worker}: {e}"),
        }
    }
    println!("RESULT {worker} sold={sold} refused={refused}");
}

#[test]
fn processes_on_several_variants_sell_exactly_each_variants_units() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let (store, guard) = store_in_new_schema("spread", 2);
    let (engine, _) = ordersmith_store_conformance::StoreUnderTest::new(store.clone(), |s| {
        s.fail_next_commits(1)
    })
    .engine();
    let ist = LocationId::parse("IST").unwrap();
    let mut setup = vec![StockCommand::AddLocation {
        location: Location::new(
            ist.clone(),
            "Istanbul DC",
            1,
            "TR-34",
            LocationKind::Warehouse,
        ),
    }];
    for k in 0..VARIANTS {
        setup.push(StockCommand::RegisterVariant {
            variant: variant(k),
            policy: StockPolicy::Deny,
        });
        setup.push(StockCommand::Receive {
            variant: variant(k),
            location: ist.clone(),
            quantity: UNITS,
            reference: None,
        });
    }
    engine.stock_batch(setup).unwrap();
    let specs: Vec<String> = (0..PROCESSES)
        .map(|p| format!("{} w{p}", guard.schema))
        .collect();
    let outputs = run_children("spread_child", CHILD, &specs);
    let mut sold_total = 0;
    for out in &outputs {
        let line = out.lines().find(|l| l.contains("RESULT")).unwrap();
        eprintln!("{line}");
        let sold: usize = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("sold="))
            .unwrap()
            .parse()
            .unwrap();
        sold_total += sold;
    }
    // Every variant gets more attempts than units (at least 14 of 120 each).
    assert_eq!(
        sold_total,
        VARIANTS * UNITS as usize,
        "sold exactly the units there were"
    );

    // The database agrees: confirmed orders, reservations and the ledger.
    let confirmed = store
        .query_orders(&OrderQuery {
            status: Some(OrderStatus::Confirmed),
            limit: Some(10_000),
            ..OrderQuery::default()
        })
        .unwrap();
    assert_eq!(confirmed.len(), VARIANTS * UNITS as usize);
    let fresh = Engine::new(
        store.clone(),
        store.clone(),
        Arc::new(SystemClock::new()),
        Arc::new(PrefixedIds::new("check")),
    );
    fresh
        .with_stock(|s| {
            for k in 0..VARIANTS {
                let b = s.balance(&variant(k), &ist);
                assert_eq!(
                    (b.on_hand, b.reserved),
                    (i64::from(UNITS), i64::from(UNITS)),
                    "{}",
                    variant(k)
                );
            }
            assert_eq!(rebuild_balances(s.journal()), *s.balances());
        })
        .unwrap();
}
