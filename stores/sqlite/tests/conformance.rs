//! The Store/Outbox conformance suite on SQLite, in memory and on files.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use ordersmith_sqlite::SqliteStore;
use ordersmith_store_conformance::{conformance_tests, StoreUnderTest};

fn fail(store: &SqliteStore) {
    store.fail_next_commits(1);
}

mod in_memory {
    use super::*;

    fn make() -> StoreUnderTest {
        StoreUnderTest::new(Arc::new(SqliteStore::in_memory().unwrap()), fail)
    }

    conformance_tests!(make);
}

mod on_file {
    use super::*;

    fn make() -> StoreUnderTest {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("shop.db")).unwrap();
        StoreUnderTest::new(Arc::new(store), fail).keep_alive(dir)
    }

    conformance_tests!(make);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

    /// Orders and the ledger never disagree, on SQLite (a file, so every step commits
    /// through a real transaction).
    #[test]
    fn stock_truth(steps in ordersmith_store_conformance::stock_truth::steps(30)) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("shop.db")).unwrap();
        let sut = StoreUnderTest::new(Arc::new(store), fail).keep_alive(dir);
        ordersmith_store_conformance::stock_truth::run(&sut, &steps);
    }
}
