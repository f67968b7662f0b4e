//! # ordersmith-store-conformance
//!
//! One suite of tests for the [`Store`] and [`Outbox`] ports, run against every store
//! (memory, SQLite, PostgreSQL) so they keep the same contract. Each test builds a
//! fresh, empty store through the caller's factory.
//!
//! ```ignore
//! fn make() -> StoreUnderTest {
//!     let store = Arc::new(SqliteStore::in_memory().unwrap());
//!     StoreUnderTest::new(store, |s| s.fail_next_commits(1))
//! }
//! ordersmith_store_conformance::conformance_tests!(make);
//! ```
//!
//! [`conformance_tests!`] expands to one `#[test]` per check (so they run in parallel
//! and fail by name); [`run_all`] runs them in sequence.
//!
//! Beside the suite: [`fixtures`] (a busy demo shop, order builders), [`process`]
//! (re-executing the test binary as child processes, for crash and cross-process tests),
//! [`invoices`] (documents and gapless numbering)
//! and [`stock_truth`] (the property that orders and the ledger never disagree, over
//! random command sequences).
// A test-support crate: a failing unwrap or assert is a failing test, which is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod fixtures;
pub mod invoices;
pub mod process;
pub mod stock_truth;
mod suite;

use std::any::Any;
use std::sync::Arc;

use ordersmith::engine::{Engine, EngineConfig};
use ordersmith::ports::memory::{FixedClock, SequentialIds};
use ordersmith::ports::{Outbox, Store};

pub use invoices::{
    a_failed_commit_takes_no_invoice_number, documents_move_with_a_dump,
    documents_round_trip_and_list_by_order, racing_engines_number_gaplessly,
    stale_series_numbers_are_conflicts_and_change_nothing,
};
pub use suite::*;

/// A store handed to the suite: the two ports, a way to make the next commit fail, and
/// anything that must live as long as the store (a temp dir, a schema to drop).
pub struct StoreUnderTest {
    // Fields drop in this order: the store (and the hook's handle on it) before the
    // guards, so a temp dir or schema outlives the connections to it.
    /// The store.
    pub store: Arc<dyn Store>,
    /// Its outbox (usually the same object).
    pub outbox: Arc<dyn Outbox>,
    fail_next_commit: Box<dyn Fn() + Send + Sync>,
    keep_alive: Vec<Box<dyn Any + Send + Sync>>,
}

impl StoreUnderTest {
    /// Wraps a store that is also its own outbox. `fail_next_commit` must make the next
    /// commit fail with `StoreError::Unavailable` and save nothing (ideally failing
    /// midway, after part of the change set was written inside the transaction).
    pub fn new<S: Store + Outbox + 'static>(store: Arc<S>, fail_next_commit: fn(&S)) -> Self {
        let hook = store.clone();
        StoreUnderTest {
            store: store.clone(),
            outbox: store,
            fail_next_commit: Box::new(move || fail_next_commit(&hook)),
            keep_alive: Vec::new(),
        }
    }

    /// Keeps `guard` alive (dropped after the store) for as long as this value lives.
    pub fn keep_alive(mut self, guard: impl Any + Send + Sync) -> Self {
        self.keep_alive.push(Box::new(guard));
        self
    }

    /// Makes the next commit fail.
    pub fn fail_next_commit(&self) {
        (self.fail_next_commit)();
    }

    /// An engine over this store with a fixed clock (see [`fixtures::start`]),
    /// sequential ids and generous retries (concurrency tests race on purpose).
    pub fn engine(&self) -> (Engine, Arc<FixedClock>) {
        let clock = Arc::new(FixedClock::new(fixtures::start()));
        let engine = Engine::new(
            self.store.clone(),
            self.outbox.clone(),
            clock.clone(),
            Arc::new(SequentialIds::new()),
        )
        .with_config(EngineConfig {
            max_attempts: 1_000,
            ..EngineConfig::default()
        });
        (engine, clock)
    }
}

/// Generates one `#[test]` per conformance check, each on a fresh store from `$make`
/// (a `fn() -> StoreUnderTest` or a closure).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            load_and_commit_round_trip_is_json_exact,
            stale_versions_are_conflicts,
            multi_order_change_sets_are_all_or_nothing,
            many_order_updates_are_all_or_nothing,
            an_injected_failure_midway_leaves_nothing,
            outbox_is_oldest_first_and_acknowledged_once,
            order_events_are_announced_as_themselves,
            idempotency_keys_are_unique_and_round_trip,
            keyed_placements_are_compared_by_their_stored_placed_event,
            queries_filter_order_and_page_like_the_contract,
            listings_are_in_byte_order_and_page_exactly,
            customer_order_counts_follow_the_customer_and_the_time,
            cursor_pages_visit_every_match_once,
            journal_replay_equals_snapshot,
            concurrent_writers_never_lose_an_update,
            dump_and_import_round_trip_byte_for_byte,
            stock_log_appends_in_sequence_and_refuses_a_stale_head,
            orders_and_stock_are_saved_together_or_not_at_all,
            engines_on_one_store_share_one_ledger,
            engines_racing_for_stock_agree_with_a_fresh_replay,
            fulfilment_state_round_trips_and_moves_with_a_dump,
            warehouse_flow_end_to_end,
            keyed_records_are_versioned_paged_and_dumped,
            documents_round_trip_and_list_by_order,
            stale_series_numbers_are_conflicts_and_change_nothing,
            a_failed_commit_takes_no_invoice_number,
            racing_engines_number_gaplessly,
            documents_move_with_a_dump,
            returns_and_store_credit_round_trip_and_move_with_a_dump
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::$name(&$make);
            }
        )*
    };
}

/// Runs every check in sequence, each on a fresh store from `make`.
pub fn run_all(make: &dyn Fn() -> StoreUnderTest) {
    load_and_commit_round_trip_is_json_exact(make);
    stale_versions_are_conflicts(make);
    multi_order_change_sets_are_all_or_nothing(make);
    many_order_updates_are_all_or_nothing(make);
    an_injected_failure_midway_leaves_nothing(make);
    outbox_is_oldest_first_and_acknowledged_once(make);
    order_events_are_announced_as_themselves(make);
    idempotency_keys_are_unique_and_round_trip(make);
    keyed_placements_are_compared_by_their_stored_placed_event(make);
    queries_filter_order_and_page_like_the_contract(make);
    listings_are_in_byte_order_and_page_exactly(make);
    customer_order_counts_follow_the_customer_and_the_time(make);
    cursor_pages_visit_every_match_once(make);
    journal_replay_equals_snapshot(make);
    concurrent_writers_never_lose_an_update(make);
    dump_and_import_round_trip_byte_for_byte(make);
    stock_log_appends_in_sequence_and_refuses_a_stale_head(make);
    orders_and_stock_are_saved_together_or_not_at_all(make);
    engines_on_one_store_share_one_ledger(make);
    engines_racing_for_stock_agree_with_a_fresh_replay(make);
    fulfilment_state_round_trips_and_moves_with_a_dump(make);
    keyed_records_are_versioned_paged_and_dumped(make);
    warehouse_flow_end_to_end(make);
    documents_round_trip_and_list_by_order(make);
    stale_series_numbers_are_conflicts_and_change_nothing(make);
    a_failed_commit_takes_no_invoice_number(make);
    racing_engines_number_gaplessly(make);
    documents_move_with_a_dump(make);
    returns_and_store_credit_round_trip_and_move_with_a_dump(make);
}
