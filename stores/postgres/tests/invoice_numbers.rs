//! Several OS processes issue invoices and credit notes in one PostgreSQL database at
//! once, some of their commits failing midway: every series still runs 1, 2, 3, ...
//! with unique numbers, and each process's documents are all there.
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
use ordersmith::engine::{CommandContext, Engine, EngineConfig};
use ordersmith::invoice::DocumentKind;
use ordersmith::ports::memory::SystemClock;
use ordersmith_store_conformance::fixtures::{self, money};
use ordersmith_store_conformance::invoices::{assert_series_gapless, invoice_config};
use ordersmith_store_conformance::process::{run_children, PrefixedIds};

const CHILD: &str = "ORDERSMITH_INVOICE_CHILD";
const PROCESSES: usize = 3;
const ORDERS_EACH: usize = 12;

/// One process: `schema worker`. Places orders, invoices each, refunds every second one
/// (a credit note), makes every third invoice's commit fail once; prints its numbers.
#[test]
fn invoice_child() {
    let Ok(spec) = std::env::var(CHILD) else {
        return;
    };
    let parts: Vec<&str> = spec.split(' ').collect();
    let (schema, worker) = (parts[0], parts[1]);
    let store = Arc::new(reopen(schema, 2));
    let engine = Engine::new(
        store.clone(),
        store.clone(),
        Arc::new(SystemClock::new()),
        Arc::new(PrefixedIds::new(worker)),
    )
    .with_config(EngineConfig {
        max_attempts: 10_000,
        ..EngineConfig::default()
    })
    .with_invoicing(invoice_config())
    .unwrap();
    let ctx = CommandContext::system();
    for n in 0..ORDERS_EACH {
        let o = engine
            .place_order(fixtures::new_order("web", fixtures::start()), &ctx)
            .unwrap();
        engine.mark_paid(&o.id, &ctx).unwrap();
        if n % 3 == 0 {
            store.fail_next_commits(1);
            assert_eq!(
                engine.issue_invoice(&o.id, None, &ctx).unwrap_err().code(),
                "STORE_UNAVAILABLE"
            );
        }
        let inv = engine.issue_invoice(&o.id, None, &ctx).unwrap();
        println!("INVOICE {worker} {}", inv.number);
        if n % 2 == 0 {
            engine.record_refund(&o.id, money("10.00"), &ctx).unwrap();
        }
    }
}

#[test]
fn processes_issuing_at_once_keep_every_series_gapless() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let (store, guard) = store_in_new_schema("invoices", 2);
    let specs: Vec<String> = (0..PROCESSES)
        .map(|p| format!("{} w{p}", guard.schema))
        .collect();
    let outputs = run_children("invoice_child", CHILD, &specs);
    let printed: usize = outputs
        .iter()
        // The harness may print its own text before a child's first line.
        .map(|o| o.matches("INVOICE w").count())
        .sum();
    assert_eq!(printed, PROCESSES * ORDERS_EACH);
    let series = assert_series_gapless(store.as_ref());
    let invoices = &series["INV-2026-{seq:06}"];
    assert_eq!(invoices.len(), PROCESSES * ORDERS_EACH);
    let credits = series
        .iter()
        .filter(|(s, _)| s.starts_with("CN-"))
        .flat_map(|(_, d)| d)
        .filter(|d| d.kind == DocumentKind::CreditNote)
        .count();
    assert_eq!(credits, PROCESSES * ORDERS_EACH.div_ceil(2));
    eprintln!(
        "cross-process invoices: {} invoices and {credits} credit notes from {PROCESSES} processes, no gap",
        invoices.len()
    );
}
