//! The `rust,ignore` blocks of the repository README ("Stores") and of
//! `stores/postgres/README.md` are code that compiles: the lines between each pair of
//! markers below are one README block. The core crate's README doctest skips them (the
//! core depends on no store); they are compiled here, not run, as they connect to a
//! PostgreSQL server. A test fails when a README and this file drift apart.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use ordersmith::ports::{Clock, IdGenerator, OutboxRecord};

/// The repository README's "Stores" block (not formatted: it is the README's text).
#[allow(dead_code, unused_variables)]
#[rustfmt::skip]
fn stores_block() -> Result<(), Box<dyn Error>> {
    // README BEGIN
    use std::sync::Arc;
    use ordersmith::engine::Engine;
    use ordersmith::ports::memory::SystemClock;

    // SQLite: a file, created and migrated on open.
    let store = Arc::new(ordersmith_sqlite::SqliteStore::open("shop.db")?);
    // or PostgreSQL: a connection string, optionally a schema of its own.
    let store = Arc::new(ordersmith_postgres::PgStore::connect(
        "host=127.0.0.1 user=shop dbname=shop",
        ordersmith_postgres::PgOptions::default(),
    )?);
    // The store is also the id generator: order ids come from blocks of a persistent
    // sequence, so they never repeat across restarts or processes.
    let engine = Engine::new(store.clone(), store.clone(), Arc::new(SystemClock::new()), store);
    // README END
    Ok(())
}

/// `stores/postgres/README.md`'s block: the host brings its clock, ids and effects.
#[allow(dead_code, unused_variables)]
#[rustfmt::skip]
fn postgres_block(
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    perform: impl Fn(&OutboxRecord) -> Result<(), Box<dyn Error>>,
) -> Result<(), Box<dyn Error>> {
    use ordersmith::engine::Engine;
    use ordersmith::ports::Outbox;
    // README BEGIN
    use ordersmith_postgres::{PgOptions, PgStore};
    let store = Arc::new(PgStore::connect(
        "host=127.0.0.1 user=shop dbname=shop",
        PgOptions { schema: Some("shop".into()), pool_size: 8, ..PgOptions::default() },
    )?);
    let engine = Engine::new(store.clone(), store.clone(), clock, ids);
    // Effect workers, each in its own process:
    for record in store.claim_pending("worker-1", 100, Duration::from_secs(60))? {
        perform(&record)?;
        store.acknowledge(&record.id)?;
    }
    // README END
    Ok(())
}

/// Lines without their common indentation, blank lines dropped.
fn dedented(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let indent = lines
        .iter()
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines.iter().map(|l| l[indent..].to_string()).collect()
}

/// The `nth` piece of `text` between `open` and the next `close`, without its
/// indentation; nothing when there is no such piece.
fn between(text: &str, open: &str, close: &str, nth: usize) -> Vec<String> {
    text.split(open)
        .nth(nth + 1)
        .and_then(|rest| rest.split(close).next())
        .map(dedented)
        .unwrap_or_default()
}

#[test]
fn the_readme_blocks_are_the_code_compiled_here() {
    let source = include_str!("readme_blocks.rs");
    let compiled = |nth| between(source, "// README BEGIN\n", "// README END", nth);
    let shown = |readme| between(readme, "```rust,ignore\n", "```", 0);
    assert!(
        !compiled(1).is_empty(),
        "both blocks are marked in this file"
    );
    assert_eq!(shown(include_str!("../../README.md")), compiled(0));
    assert_eq!(
        shown(include_str!("../../stores/postgres/README.md")),
        compiled(1)
    );
}
