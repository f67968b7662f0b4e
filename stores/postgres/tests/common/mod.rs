//! Connection and per-test schema helpers for the PostgreSQL tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ordersmith::engine::{Engine, EngineConfig};
use ordersmith::ports::memory::SystemClock;
use ordersmith_postgres::{PgOptions, PgStore};
use ordersmith_store_conformance::process::PrefixedIds;
use ordersmith_store_conformance::StoreUnderTest;

/// The server to test against, from `ORDERSMITH_PG_URL`.
pub fn url() -> String {
    match std::env::var("ORDERSMITH_PG_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "ORDERSMITH_PG_URL is not set: run the PostgreSQL tests through scripts/test, \
             which starts a throwaway server and sets it \
             (or set it yourself, e.g. ORDERSMITH_PG_URL='host=127.0.0.1 port=54329 user=postgres dbname=postgres')"
        ),
    }
}

/// A schema name no other test (or test process) uses.
pub fn unique_schema(label: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "t_{label}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// Drops its schema (and everything in it) when dropped.
pub struct SchemaGuard {
    pub schema: String,
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&url(), postgres::NoTls) {
            let _ = client.batch_execute(&format!(
                "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                self.schema
            ));
        }
    }
}

/// A store in a fresh schema, and the guard that drops the schema.
pub fn store_in_new_schema(label: &str, pool_size: usize) -> (Arc<PgStore>, SchemaGuard) {
    let schema = unique_schema(label);
    let guard = SchemaGuard {
        schema: schema.clone(),
    };
    let store = PgStore::connect(
        &url(),
        PgOptions {
            schema: Some(schema),
            pool_size,
            ..PgOptions::default()
        },
    )
    .unwrap();
    (Arc::new(store), guard)
}

/// The same schema opened again, as another process would.
pub fn reopen(schema: &str, pool_size: usize) -> PgStore {
    PgStore::connect(
        &url(),
        PgOptions {
            schema: Some(schema.to_string()),
            pool_size,
            ..PgOptions::default()
        },
    )
    .unwrap()
}

/// A fresh store for the conformance suite.
pub fn make() -> StoreUnderTest {
    let (store, guard) = store_in_new_schema("conf", 4);
    StoreUnderTest::new(store, |s| s.fail_next_commits(1)).keep_alive(guard)
}

/// Has the schema's `ordersmith_commit` (migration 7) run `statement` before anything
/// else: a `RAISE` makes every one-call commit refuse (so each change set is committed
/// statement by statement) or fail.
pub fn prefix_commit_function(schema: &str, statement: &str) {
    let mut client = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    let def: String = client
        .query_one(
            &format!("SELECT pg_get_functiondef('\"{schema}\".ordersmith_commit'::regproc)"),
            &[],
        )
        .unwrap()
        .get(0);
    assert!(def.contains("\nBEGIN\n"), "unexpected function text: {def}");
    client
        .batch_execute(&def.replacen("\nBEGIN\n", &format!("\nBEGIN\n    {statement};\n"), 1))
        .unwrap();
}

/// Has the schema's `ordersmith_commit` refuse every call as a failed check does
/// (SQLSTATE `OS409`, nothing written), so every change set is then committed statement
/// by statement.
pub fn refuse_one_call_commits(schema: &str) {
    prefix_commit_function(
        schema,
        "RAISE EXCEPTION USING ERRCODE = 'OS409', MESSAGE = 'refused by the test'",
    );
}

/// A fresh store for the conformance suite whose one-call commits always refuse, so
/// every change set takes the statement-by-statement path.
pub fn make_statement_by_statement() -> StoreUnderTest {
    let (store, guard) = store_in_new_schema("stmt", 4);
    refuse_one_call_commits(&guard.schema);
    StoreUnderTest::new(store, |s| s.fail_next_commits(1)).keep_alive(guard)
}

/// An engine on `store` as a racing worker runs it: its ids carry `worker` (unique
/// across processes), and it has attempts enough that a lost race is never the end.
pub fn racing_engine(store: Arc<PgStore>, worker: &str) -> Engine {
    Engine::new(
        store.clone(),
        store,
        Arc::new(SystemClock::new()),
        Arc::new(PrefixedIds::new(worker)),
    )
    .with_config(EngineConfig {
        max_attempts: 10_000,
        ..EngineConfig::default()
    })
}
