//! Durability: a child process imports orders through the engine into a SQLite file and
//! prints each acknowledged order id; the parent kills it (SIGKILL) mid-way, reopens the
//! file and checks every acknowledged order is there and complete.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ordersmith::engine::{CommandContext, Engine};
use ordersmith::ids::OrderId;
use ordersmith::order::Order;
use ordersmith::ports::memory::SystemClock;
use ordersmith::ports::Store;
use ordersmith_sqlite::SqliteStore;
use ordersmith_store_conformance::fixtures;
use ordersmith_store_conformance::process::{spawn_test_child, PrefixedIds};

const CHILD_DB: &str = "ORDERSMITH_CRASH_CHILD_DB";
const CHILD_THREADS: &str = "ORDERSMITH_CRASH_CHILD_THREADS";
const ORDERS: usize = 5_000;

/// The order id in an `ACK <id>` line, wherever the line starts.
fn ack(line: &str) -> Option<String> {
    let id = line.split("ACK ").nth(1)?.trim();
    (!id.is_empty()).then(|| id.to_string())
}

/// The child: runs only when re-executed by `acknowledged_orders_survive_sigkill`.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_DB) else {
        return;
    };
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let engine = Engine::new(
        store.clone(),
        store,
        Arc::new(SystemClock::new()),
        Arc::new(PrefixedIds::new(std::process::id().to_string())),
    );
    let ctx = CommandContext::system();
    // libtest may have printed "test crash_child ... " without a newline: end that line.
    println!();
    // Several writer threads on one engine share commits (group commit, ADR 0013).
    let threads: usize = std::env::var(CHILD_THREADS)
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    std::thread::scope(|s| {
        for t in 0..threads {
            let (engine, ctx) = (&engine, &ctx);
            s.spawn(move || {
                for i in (t..ORDERS).step_by(threads) {
                    let mut new = fixtures::new_order("web", fixtures::start());
                    new.external_ref = Some(format!("W-{i:05}"));
                    let order = engine.place_order(new, ctx).unwrap();
                    engine.confirm_order(&order.id, ctx).unwrap();
                    engine
                        .add_note(&order.id, format!("imported #{i}"), ctx)
                        .unwrap();
                    // Acknowledged only after the last command returned.
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ACK {}", order.id).unwrap();
                    out.flush().unwrap();
                }
            });
        }
    });
}

#[test]
fn acknowledged_orders_survive_sigkill() {
    if std::env::var(CHILD_DB).is_ok() {
        return;
    }
    kill_and_check(1);
}

/// The same with 8 writer threads on one engine, whose commits are grouped: a group's
/// orders are acknowledged only once its one COMMIT returned.
#[test]
fn acknowledged_orders_survive_sigkill_with_grouped_commits() {
    if std::env::var(CHILD_DB).is_ok() {
        return;
    }
    kill_and_check(8);
}

fn kill_and_check(threads: usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    // Vary the kill point between runs: somewhere in the first 40-600 acknowledgements.
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let kill_after = 40 + usize::try_from(nanos % 560).unwrap();
    let mut child = spawn_test_child(
        "crash_child",
        &[
            (CHILD_DB, path.display().to_string()),
            (CHILD_THREADS, threads.to_string()),
        ],
    )
    .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut reader = BufReader::new(stdout);
    let mut acked: Vec<String> = Vec::new();
    let started = Instant::now();
    let mut line = String::new();
    while acked.len() < kill_after && started.elapsed() < Duration::from_secs(120) {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(id) = ack(&line) {
            acked.push(id);
        }
    }
    // Let the child get a random way into its next order (0-4 ms: a commit or two), so
    // the kill lands before, inside or after a commit, not always right after a print.
    std::thread::sleep(Duration::from_micros(u64::from(nanos % 4_000)));
    // std's Child::kill sends SIGKILL on Unix: no destructor, no flush, no checkpoint.
    child.kill().unwrap();
    child.wait().unwrap();
    // Lines the child printed before it died were acknowledged too.
    for line in reader.lines() {
        if let Some(id) = ack(&line.unwrap()) {
            acked.push(id);
        }
    }
    assert!(
        acked.len() >= kill_after.min(ORDERS),
        "the child acknowledged only {} orders",
        acked.len()
    );
    assert!(
        acked.len() < ORDERS,
        "the child finished before it was killed; raise ORDERS"
    );

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.integrity_check().unwrap(), ["ok"]);
    let stored: BTreeSet<OrderId> = store
        .order_ids(None, usize::MAX)
        .unwrap()
        .into_iter()
        .collect();
    for id in &acked {
        let id = OrderId::parse(id.as_str()).unwrap();
        assert!(stored.contains(&id), "acknowledged order {id} was lost");
        let snapshot = store.load_order(&id).unwrap().unwrap();
        assert_eq!(snapshot.version, 3, "acknowledged order {id} is incomplete");
    }
    // Every order in the file, acknowledged or caught mid-flight, is whole.
    for id in &stored {
        let snapshot = store.load_order(id).unwrap().unwrap();
        let events = store.order_events(id).unwrap();
        let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
        assert_eq!(versions, (1..=snapshot.version).collect::<Vec<_>>(), "{id}");
        assert_eq!(Order::replay(&events).unwrap(), snapshot, "{id}");
    }
    // At most one order per writer thread was in flight when the child died.
    assert!(
        stored.len() <= acked.len() + threads,
        "{} stored, {} acknowledged",
        stored.len(),
        acked.len()
    );
    eprintln!(
        "crash test: killed after {} acknowledged orders; {} stored; integrity ok",
        acked.len(),
        stored.len()
    );
}
