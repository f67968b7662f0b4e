//! The Store/Outbox conformance suite on PostgreSQL, one schema per test.
//! Needs `--features pg-tests` and ORDERSMITH_PG_URL (scripts/test sets both).
#![cfg(feature = "pg-tests")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

ordersmith_store_conformance::conformance_tests!(common::make);
