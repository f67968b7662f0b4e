//! Several OS processes race to change the SAME order in one database through the
//! engine: no update may be lost and the order may never be overpaid.
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
use ordersmith::engine::CommandContext;
use ordersmith::ids::OrderId;
use ordersmith::money::Money;
use ordersmith::order::{Actor, Order, OrderEvent};
use ordersmith::ports::Store;
use ordersmith_store_conformance::fixtures::{self, money};
use ordersmith_store_conformance::process::run_children;

const CHILD: &str = "ORDERSMITH_XPROC_CHILD";
const PROCESSES: usize = 4;
const NOTES_EACH: usize = 25;

/// One racing process: `schema order_id worker`. Adds notes and pays 7.00 at a time
/// (less when less is due) until the order is paid, then prints what it did.
#[test]
fn xproc_child() {
    let Ok(spec) = std::env::var(CHILD) else {
        return;
    };
    let parts: Vec<&str> = spec.split(' ').collect();
    let (schema, id, worker) = (parts[0], OrderId::parse(parts[1]).unwrap(), parts[2]);
    let store = Arc::new(reopen(schema, 2));
    let engine = racing_engine(store, worker);
    let ctx = CommandContext::by(Actor::User(worker.to_string().into()));
    let (mut notes, mut payments, mut refused) = (0, 0, 0);
    let step = money("7.00");
    let mut paid_up = false;
    for n in 0.. {
        if n < NOTES_EACH {
            engine
                .add_note(&id, format!("{worker} note {n}"), &ctx)
                .unwrap();
            notes += 1;
        }
        if !paid_up {
            let due = engine.order(&id).unwrap().balance_due().unwrap();
            if due.is_zero() {
                paid_up = true;
            } else {
                let amount = if due.checked_cmp(&step).unwrap().is_lt() {
                    due
                } else {
                    step
                };
                match engine.record_payment(&id, amount, &ctx) {
                    Ok(_) => payments += 1,
                    // Someone paid in between: the engine re-decided on the new state.
                    Err(e) if e.code() == "ORDER_OVERPAYMENT" => refused += 1,
                    Err(e) => panic!("{worker}: {e}"),
                }
            }
        }
        if n >= NOTES_EACH && paid_up {
            break;
        }
    }
    println!("RESULT {worker} notes={notes} payments={payments} refused={refused}");
}

#[test]
fn processes_racing_on_one_order_lose_no_update_and_never_overpay() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let (store, guard) = store_in_new_schema("xproc", 2);
    let (engine, _) = ordersmith_store_conformance::StoreUnderTest::new(store.clone(), |s| {
        s.fail_next_commits(1)
    })
    .engine();
    let order = engine
        .place_order(
            fixtures::new_order("web", fixtures::start()),
            &CommandContext::system(),
        )
        .unwrap();
    engine
        .confirm_order(&order.id, &CommandContext::system())
        .unwrap();
    let total = order.totals().unwrap().total;
    let specs: Vec<String> = (0..PROCESSES)
        .map(|p| format!("{} {} w{p}", guard.schema, order.id))
        .collect();
    let outputs = run_children("xproc_child", CHILD, &specs);
    for out in &outputs {
        eprintln!(
            "{}",
            out.lines()
                .find(|l| l.contains("RESULT"))
                .unwrap_or("no RESULT line")
        );
    }

    let stored = store.load_order(&order.id).unwrap().unwrap();
    // One note came with the order.
    assert_eq!(
        stored.notes.len(),
        1 + PROCESSES * NOTES_EACH,
        "a note was lost"
    );
    for p in 0..PROCESSES {
        for n in 0..NOTES_EACH {
            assert!(
                stored.notes.contains(&format!("w{p} note {n}")),
                "w{p} note {n} lost"
            );
        }
    }
    assert_eq!(stored.amount_paid, total, "paid exactly the total");
    let events = store.order_events(&order.id).unwrap();
    let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
    assert_eq!(versions, (1..=stored.version).collect::<Vec<_>>());
    assert_eq!(Order::replay(&events).unwrap(), stored);
    let mut paid = Money::zero(total.currency());
    for e in &events {
        if let OrderEvent::PaymentRecorded { amount } = &e.event {
            paid = paid.checked_add(amount).unwrap();
        }
    }
    assert_eq!(paid, total, "the payment events add up to the total");
    let payers: std::collections::HashSet<&Actor> = events
        .iter()
        .filter(|e| matches!(e.event, OrderEvent::PaymentRecorded { .. }))
        .map(|e| &e.actor)
        .collect();
    eprintln!(
        "cross-process: {} events, total {total} paid by {} processes",
        events.len(),
        payers.len()
    );
}
