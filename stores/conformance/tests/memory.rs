//! The conformance suite on the in-memory reference store.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use ordersmith::ports::memory::MemoryStore;
use ordersmith_store_conformance::{conformance_tests, StoreUnderTest};

fn make() -> StoreUnderTest {
    StoreUnderTest::new(Arc::new(MemoryStore::new()), |s| s.fail_next_commits(1))
}

conformance_tests!(make);

#[test]
fn run_all_runs_every_check() {
    ordersmith_store_conformance::run_all(&make);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

    /// Orders and the ledger never disagree, on the memory store.
    #[test]
    fn stock_truth(steps in ordersmith_store_conformance::stock_truth::steps(40)) {
        ordersmith_store_conformance::stock_truth::run(&make(), &steps);
    }
}
