//! The Store/Outbox conformance suite on PostgreSQL, one schema per test, on both ways
//! a change set is committed: one call of `ordersmith_commit` (migration 7), and
//! statement by statement (the way a refused call, or a change set the function does
//! not cover, takes).
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

mod statement_by_statement {
    use super::common;
    ordersmith_store_conformance::conformance_tests!(common::make_statement_by_statement);
}
