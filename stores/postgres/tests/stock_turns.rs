//! Stock turns on PostgreSQL (`Store::begin_stock_turn`): after a lost stock race an
//! engine's retries queue behind the other writers of the same variants, through a
//! session-level advisory lock on a connection kept for the waiting thread. A turn is
//! waited for across stores (processes), given back whichever way the write ends, and
//! never takes the pool's last connection; writers of one hot variant still sell
//! exactly the stock.
//! Needs `--features pg-tests` and ORDERSMITH_PG_URL (scripts/test sets both).
#![cfg(feature = "pg-tests")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::*;
use ordersmith::engine::CommandContext;
use ordersmith::ids::{ChannelId, LocationId, VariantId};
use ordersmith::order::{NewLine, NewOrder, OrderCommand};
use ordersmith::ports::Store;
use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};
use ordersmith_store_conformance::fixtures::{self, money};

fn v(s: &str) -> VariantId {
    VariantId::parse(s).unwrap()
}

/// Sessions holding the turn of `variant` in `schema`.
fn turn_holders(schema: &str, variant: &str) -> i64 {
    let mut client = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    client
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 \
             AND granted AND ((classid::bigint << 32) | objid::bigint) \
                 = hashtextextended('ordersmith stock ' || $1 || ' ' || $2, 0)",
            &[&schema, &variant],
        )
        .unwrap()
        .get(0)
}

#[test]
fn a_turn_is_waited_for_across_stores_and_given_back() {
    let (first, guard) = store_in_new_schema("turns", 4);
    let second = Arc::new(reopen(&guard.schema, 4));
    let ended = Arc::new(AtomicBool::new(false));
    let (held_tx, held_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let holder = {
        let (first, ended) = (first.clone(), ended.clone());
        std::thread::spawn(move || {
            first.begin_stock_turn(&[v("X"), v("A"), v("X")]).unwrap();
            // The turn's connection serves this thread's calls meanwhile.
            assert!(first.stock_log_since(0, 10).unwrap().is_empty());
            held_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            ended.store(true, Ordering::SeqCst);
            first.end_stock_turn();
        })
    };
    held_rx.recv().unwrap();
    assert_eq!(turn_holders(&guard.schema, "X"), 1);
    assert_eq!(turn_holders(&guard.schema, "A"), 1);
    let waiter = {
        let (second, ended) = (second.clone(), ended.clone());
        std::thread::spawn(move || {
            second.begin_stock_turn(&[v("X")]).unwrap();
            let after_end = ended.load(Ordering::SeqCst);
            second.end_stock_turn();
            after_end
        })
    };
    // Give the waiter time to be waiting (not a timing assertion: it would pass either
    // way, this only makes the blocked path the likely one).
    std::thread::sleep(Duration::from_millis(100));
    go_tx.send(()).unwrap();
    holder.join().unwrap();
    assert!(
        waiter.join().unwrap(),
        "the second store's turn began before the first ended"
    );
    assert_eq!(turn_holders(&guard.schema, "X"), 0);
    assert_eq!(turn_holders(&guard.schema, "A"), 0);
    // Ending a turn never begun, and a turn of nothing, are nothing.
    first.end_stock_turn();
    first.begin_stock_turn(&[]).unwrap();
    first.end_stock_turn();
    assert_eq!(turn_holders(&guard.schema, "X"), 0);
}

#[test]
fn no_turn_takes_the_pools_last_connection() {
    let (store, guard) = store_in_new_schema("turnpool", 2);
    store.begin_stock_turn(&[v("X")]).unwrap();
    assert_eq!(turn_holders(&guard.schema, "X"), 1);
    // Another thread of the same store (pool of 2): a second turn would leave no
    // connection free, so it is not taken and the call returns at once.
    let (done_tx, done_rx) = mpsc::channel();
    let other = {
        let store = store.clone();
        std::thread::spawn(move || {
            store.begin_stock_turn(&[v("X")]).unwrap();
            // Its calls still get a connection.
            store.stock_log_since(0, 10).unwrap();
            store.end_stock_turn();
            done_tx.send(()).unwrap();
        })
    };
    done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("a turn beyond the pool's last connection waited");
    other.join().unwrap();
    assert_eq!(turn_holders(&guard.schema, "X"), 1);
    store.end_stock_turn();
    assert_eq!(turn_holders(&guard.schema, "X"), 0);
}

#[test]
fn eight_engines_on_one_hot_variant_sell_exactly_the_stock_and_leave_no_turn_behind() {
    let (store, guard) = store_in_new_schema("turnhot", 16);
    let ist = LocationId::parse("IST").unwrap();
    racing_engine(store.clone(), "setup")
        .stock_batch(vec![
            StockCommand::AddLocation {
                location: Location::new(ist.clone(), "DC", 1, "TR-34", LocationKind::Warehouse),
            },
            StockCommand::RegisterVariant {
                variant: v("HOT"),
                policy: StockPolicy::Deny,
            },
            StockCommand::Receive {
                variant: v("HOT"),
                location: ist,
                quantity: 50,
                reference: None,
            },
        ])
        .unwrap();
    let sold = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let racers: Vec<_> = (0..8)
        .map(|worker| {
            let (store, sold, refused) = (store.clone(), sold.clone(), refused.clone());
            let engine = racing_engine(store, &format!("w{worker}"));
            std::thread::spawn(move || {
                for i in 0..10 {
                    let mut new = NewOrder::new(
                        ChannelId::parse("web").unwrap(),
                        fixtures::start(),
                        fixtures::try_(),
                        vec![NewLine::new(v("HOT"), 1, money("10.00"))],
                    );
                    new.external_ref = Some(format!("W{worker}-{i}"));
                    match engine.place_order_then(
                        new,
                        vec![OrderCommand::Confirm],
                        &CommandContext::system(),
                    ) {
                        Ok(_) => sold.fetch_add(1, Ordering::SeqCst),
                        Err(e) => {
                            assert_eq!(e.code(), "STOCK_INSUFFICIENT", "{e}");
                            refused.fetch_add(1, Ordering::SeqCst)
                        }
                    };
                }
            })
        })
        .collect();
    for racer in racers {
        racer.join().unwrap();
    }
    assert_eq!(
        (sold.load(Ordering::SeqCst), refused.load(Ordering::SeqCst)),
        (50, 30)
    );
    let fresh = racing_engine(store.clone(), "reader");
    let balance = fresh
        .with_stock(|s| s.balance(&v("HOT"), &LocationId::parse("IST").unwrap()))
        .unwrap();
    assert_eq!((balance.on_hand, balance.reserved), (50, 50));
    assert_eq!(turn_holders(&guard.schema, "HOT"), 0);
}

/// A turn held by a session that never gives it back (a client that stopped) stalls
/// another writer for a bounded wait, after which it goes on without a turn; a
/// variant id with a quote and a backslash names its own turn.
#[test]
fn a_turn_never_given_back_is_waited_for_a_bounded_time() {
    let (store, guard) = store_in_new_schema("turnstuck", 4);
    let odd = r"it's\odd";
    let mut stuck = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    stuck
        .execute(
            "SELECT pg_advisory_lock(hashtextextended('ordersmith stock ' || $1 || ' ' || $2, 0))",
            &[&guard.schema, &"X"],
        )
        .unwrap();
    // Returns (not an error) once the bounded wait is over, holding no turn.
    let (done_tx, done_rx) = mpsc::channel();
    {
        let store = store.clone();
        std::thread::spawn(move || {
            store.begin_stock_turn(&[v("X")]).unwrap();
            assert!(store.stock_log_since(0, 10).unwrap().is_empty());
            store.end_stock_turn();
            done_tx.send(()).unwrap();
        });
    }
    done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the wait for a turn never given back did not end");
    assert_eq!(turn_holders(&guard.schema, "X"), 1);
    store.begin_stock_turn(&[v(odd)]).unwrap();
    assert_eq!(turn_holders(&guard.schema, odd), 1);
    store.end_stock_turn();
    assert_eq!(turn_holders(&guard.schema, odd), 0);
    drop(stuck);
}
