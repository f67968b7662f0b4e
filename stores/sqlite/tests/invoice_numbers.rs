//! Gapless invoice numbers with two engines on one SQLite file: each engine has its own
//! connection (as two processes would), they issue invoices, refunds (credit notes) and
//! manual credit notes at once, some commits fail midway, and every series still runs
//! 1, 2, 3, ... with unique numbers. Documents are immutable in the file too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use ordersmith::engine::{CommandContext, Engine, EngineConfig};
use ordersmith::invoice::DocumentKind;
use ordersmith::money::Money;
use ordersmith::ports::memory::FixedClock;
use ordersmith_sqlite::SqliteStore;
use ordersmith_store_conformance::fixtures;
use ordersmith_store_conformance::invoices::{assert_series_gapless, invoice_config};
use ordersmith_store_conformance::process::PrefixedIds;
use proptest::prelude::*;

fn engine_on(store: Arc<SqliteStore>, worker: &str) -> Engine {
    Engine::new(
        store.clone(),
        store,
        Arc::new(FixedClock::new(fixtures::start())),
        Arc::new(PrefixedIds::new(worker)),
    )
    .with_config(EngineConfig {
        max_attempts: 1_000,
        ..EngineConfig::default()
    })
    .with_invoicing(invoice_config())
    .unwrap()
}

/// One engine's work: place, pay, invoice; refund or credit some; fail some commits.
fn work(engine: &Engine, store: &SqliteStore, plan: &[(u8, i64)]) {
    let ctx = CommandContext::system();
    let try_ = fixtures::try_();
    for (op, amount) in plan {
        let o = engine
            .place_order(fixtures::new_order("web", fixtures::start()), &ctx)
            .unwrap();
        engine.mark_paid(&o.id, &ctx).unwrap();
        if op % 4 == 3 {
            store.fail_next_commits(1);
        }
        let Ok(inv) = engine.issue_invoice(&o.id, None, &ctx) else {
            continue;
        };
        match op % 3 {
            0 => {
                engine
                    .record_refund(&o.id, Money::from_minor(*amount, try_), &ctx)
                    .unwrap();
            }
            1 => {
                let _ = engine.issue_credit_note(
                    &inv.number,
                    Money::from_minor(*amount, try_),
                    "correction",
                    &ctx,
                );
            }
            _ => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn two_engines_on_one_file_number_gaplessly(
        a in proptest::collection::vec((0u8..12, 1i64..30_600), 1..8),
        b in proptest::collection::vec((0u8..12, 1i64..30_600), 1..8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shop.db");
        let first = Arc::new(SqliteStore::open(&path).unwrap());
        let second = Arc::new(SqliteStore::open(&path).unwrap());
        let (ea, eb) = (engine_on(first.clone(), "a"), engine_on(second.clone(), "b"));
        std::thread::scope(|s| {
            s.spawn(|| work(&ea, &first, &a));
            s.spawn(|| work(&eb, &second, &b));
        });
        let series = assert_series_gapless(first.as_ref());
        let invoices = series.get("INV-2026-{seq:06}").map_or(0, Vec::len);
        let failed = a.iter().chain(&b).filter(|(op, _)| op % 4 == 3).count();
        prop_assert!(invoices + failed >= a.len() + b.len());
        for docs in series.values() {
            for d in docs {
                if d.kind == DocumentKind::CreditNote {
                    prop_assert!(d.corrects.is_some());
                }
            }
        }
    }
}

#[test]
fn issued_documents_cannot_be_changed_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let engine = engine_on(store.clone(), "a");
    let numbers = ordersmith_store_conformance::invoices::place_and_invoice(&engine, 1);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let update = conn.execute(
        "UPDATE invoice_documents SET document = '{}' WHERE number = ?1",
        [&numbers[0]],
    );
    assert!(update.unwrap_err().to_string().contains("immutable"));
    let delete = conn.execute("DELETE FROM invoice_documents", []);
    assert!(delete.unwrap_err().to_string().contains("never deleted"));
}
