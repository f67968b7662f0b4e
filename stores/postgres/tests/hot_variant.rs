//! Several OS processes race for the last units of one hot variant in one PostgreSQL
//! database, each through its own engine: exactly that many are sold, never one more.
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

const CHILD: &str = "ORDERSMITH_HOT_CHILD";
const PROCESSES: usize = 4;
const ATTEMPTS_EACH: usize = 40;
const UNITS: u32 = 100;

fn hot() -> VariantId {
    VariantId::parse("HOT").unwrap()
}

/// One racing process: `schema worker`. Places and confirms one-unit orders of HOT,
/// counting what was sold and what was refused for lack of stock.
#[test]
fn hot_child() {
    let Ok(spec) = std::env::var(CHILD) else {
        return;
    };
    let parts: Vec<&str> = spec.split(' ').collect();
    let (schema, worker) = (parts[0], parts[1]);
    let store = Arc::new(reopen(schema, 2));
    let engine = racing_engine(store, worker);
    let ctx = CommandContext::by(Actor::User(worker.to_string().into()));
    let (mut sold, mut refused) = (0, 0);
    for _ in 0..ATTEMPTS_EACH {
        let new = NewOrder::new(
            ChannelId::parse("web").unwrap(),
            fixtures::start(),
            fixtures::try_(),
            vec![NewLine::new(hot(), 1, money("10.00"))],
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
fn processes_racing_for_the_last_units_sell_exactly_that_many() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let (store, guard) = store_in_new_schema("hot", 2);
    let (engine, _) = ordersmith_store_conformance::StoreUnderTest::new(store.clone(), |s| {
        s.fail_next_commits(1)
    })
    .engine();
    let ist = LocationId::parse("IST").unwrap();
    engine
        .stock_batch(vec![
            StockCommand::AddLocation {
                location: Location::new(
                    ist.clone(),
                    "Istanbul DC",
                    1,
                    "TR-34",
                    LocationKind::Warehouse,
                ),
            },
            StockCommand::RegisterVariant {
                variant: hot(),
                policy: StockPolicy::Deny,
            },
            StockCommand::Receive {
                variant: hot(),
                location: ist.clone(),
                quantity: UNITS,
                reference: None,
            },
        ])
        .unwrap();
    let specs: Vec<String> = (0..PROCESSES)
        .map(|p| format!("{} w{p}", guard.schema))
        .collect();
    let outputs = run_children("hot_child", CHILD, &specs);
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
    assert_eq!(
        sold_total, UNITS as usize,
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
    assert_eq!(confirmed.len(), UNITS as usize);
    let fresh = Engine::new(
        store.clone(),
        store.clone(),
        Arc::new(SystemClock::new()),
        Arc::new(PrefixedIds::new("check")),
    );
    fresh
        .with_stock(|s| {
            let b = s.balance(&hot(), &ist);
            assert_eq!(
                (b.on_hand, b.reserved),
                (i64::from(UNITS), i64::from(UNITS))
            );
            assert_eq!(rebuild_balances(s.journal()), *s.balances());
        })
        .unwrap();
}
