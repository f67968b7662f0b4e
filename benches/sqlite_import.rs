//! Durable bulk import into SQLite (issue 9, goal 4): `Engine::place_orders` into a
//! file with `synchronous=FULL`, the store as the id source, every order with a channel
//! reference (so an idempotency record each), the conformance fixture's 2-line order
//! with customer, address and shipping. Reports the cost per order over segments of the
//! import (flat cost), the same orders placed one call each as the baseline of the same
//! run, and the file's size per order after the import (history and outbox included,
//! WAL checkpointed), against the order's own JSON size; then, after the import, the
//! engine alone (into memory) and the store alone (the change sets committed).
//!
//! Run: `cargo bench -p ordersmith-sqlite --bench sqlite_import` (1,000,000 orders;
//! `ORDERSMITH_IMPORT_ORDERS=100000` for fewer). Not criterion: one import of a million
//! orders is the measurement, and criterion would repeat it.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Instant;

use chrono::Duration;
use ordersmith::engine::{CommandContext, Engine, WRITE_BATCH};
use ordersmith::ids::VariantId;
use ordersmith::order::NewOrder;
use ordersmith::pii::Redacted;
use std::collections::HashMap;

use ordersmith::ids::OrderId;
use ordersmith::ports::memory::{FixedClock, MemoryStore, SequentialIds};
use ordersmith::ports::{
    ChangeSet, IdempotencyRecord, NewEvents, OrderChange, Outbox, OutboxRecord, Store,
};
use ordersmith_sqlite::SqliteStore;
use ordersmith_store_conformance::fixtures;

/// The process's CPU time so far (every thread, user and kernel), from
/// `/proc/self/stat` (fields 14 and 15, in the kernel's fixed 100 ticks a second);
/// `None` elsewhere. Shows how much of the import's wall time ran on both cores.
fn process_cpu() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let kernel: f64 = fields.next()?.parse().ok()?;
    Some((user + kernel) / 100.0)
}

/// Orders per `place_orders` call.
const CALL: usize = 10_000;

const FIRST: [&str; 8] = [
    "Ayşe", "Mehmet", "Zeynep", "Mustafa", "Elif", "Ahmet", "Fatma", "Can",
];
const LAST: [&str; 8] = [
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Aydın", "Öztürk",
];
const CITIES: [(&str, &str); 4] = [
    ("İstanbul", "TR-34"),
    ("Ankara", "TR-06"),
    ("İzmir", "TR-35"),
    ("Bursa", "TR-16"),
];

/// Order `i`: the conformance fixture's shape (2 lines with tax and a discount,
/// shipping, customer, address, tags, note) with what varies between real orders varied
/// (names, e-mail, street, city, variants out of 500, quantities, prices), so packing is
/// measured on documents that differ, not on one order repeated.
fn order(i: usize) -> NewOrder {
    let mut new = fixtures::new_order("web", fixtures::start() + Duration::seconds(i as i64));
    let h = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let pick = |shift: u32, n: u64| usize::try_from((h >> shift) % n).unwrap();
    new.external_ref = Some(format!("W-{i:07}"));
    for (k, line) in new.lines.iter_mut().enumerate() {
        line.variant = VariantId::parse(format!(
            "SKU-{:03}-{}",
            pick(8 + 8 * k as u32, 500),
            ["S", "M", "L"][k]
        ))
        .unwrap();
        line.quantity = 1 + u32::try_from(pick(24 + 4 * k as u32, 3)).unwrap();
        line.unit_price = fixtures::money(&format!("{}.{:02}", 20 + pick(32, 480), pick(40, 100)));
    }
    let (first, last) = (FIRST[pick(48, 8)], LAST[pick(52, 8)]);
    let (city, region) = CITIES[pick(56, 4)];
    let name = format!("{first} {last}");
    if let Some(customer) = new.customer.as_mut() {
        customer.name = Redacted::new(name.clone());
        customer.email = Some(Redacted::new(format!("customer{i}@example.com")));
    }
    if let Some(address) = new.shipping_address.as_mut() {
        address.name = Redacted::new(name);
        address.lines = Redacted::new(vec![
            format!("Cumhuriyet Cd. {}", 1 + pick(12, 300)),
            format!("D:{}", 1 + pick(20, 40)),
        ]);
        address.city = Redacted::new(city.to_string());
        address.region = Some(region.to_string());
    }
    new.note = i
        .is_multiple_of(3)
        .then(|| format!("call before delivery, ref {i}"));
    new
}

fn orders(from: usize, count: usize) -> Vec<NewOrder> {
    (from..from + count).map(order).collect()
}

fn engine(store: Arc<SqliteStore>) -> Engine {
    Engine::new(
        store.clone(),
        store.clone(),
        Arc::new(FixedClock::new(fixtures::start())),
        store,
    )
}

fn main() {
    let n: usize = std::env::var("ORDERSMITH_IMPORT_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let ctx = CommandContext::system();

    // Baseline, same run: one call (one commit, one fsync) per order.
    let base_n = 2_000;
    let base = Arc::new(SqliteStore::open(dir.path().join("baseline.db")).unwrap());
    let e = engine(base);
    let batch = orders(0, base_n);
    let started = Instant::now();
    for new in batch {
        e.place_order(new, &ctx).unwrap();
    }
    let base_per = started.elapsed().as_secs_f64() / base_n as f64;
    println!(
        "baseline: place_order one call each, {base_n} orders: {:.1} µs/order = {:.0} orders/s",
        base_per * 1e6,
        1.0 / base_per
    );

    let path = dir.path().join("import.db");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let e = engine(store.clone());
    let marks = [10_000, 100_000, 1_000_000];
    let (mut done, mut segment_start, mut segment_time) = (0usize, 0usize, 0.0f64);
    let mut total = 0.0f64;
    let mut cpu = 0.0f64;
    while done < n {
        let count = CALL.min(n - done);
        let batch = orders(done, count);
        let (cpu_before, started) = (process_cpu(), Instant::now());
        let placed = e.place_orders(batch, &ctx);
        let took = started.elapsed().as_secs_f64();
        cpu += process_cpu()
            .zip(cpu_before)
            .map_or(0.0, |(after, before)| after - before);
        assert!(placed.iter().all(Result::is_ok));
        done += count;
        segment_time += took;
        total += took;
        if marks.contains(&done) || done == n {
            let orders = done - segment_start;
            println!(
                "place_orders, orders {segment_start}..{done}: {:.1} µs/order = {:.0} orders/s",
                segment_time * 1e6 / orders as f64,
                orders as f64 / segment_time
            );
            segment_start = done;
            segment_time = 0.0;
        }
    }
    println!(
        "place_orders, all {n}: {:.2} s = {:.0} orders/s ({:.1}x the one-call-each baseline); \
         CPU {cpu:.2} s, {:.2} cores busy",
        total,
        n as f64 / total,
        base_per * n as f64 / total,
        cpu / total
    );

    // What one order is as JSON: its snapshot as the store returns it.
    let sample = store
        .order_ids(None, 1)
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    let snapshot = store.load_order(&sample).unwrap().unwrap();
    let json = serde_json::to_string(&snapshot).unwrap().len();
    drop(e);
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let _: (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    let file = std::fs::metadata(&path).unwrap().len();
    let wal = std::fs::metadata(path.with_extension("db-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "file after {n} orders: {:.1} MB + WAL {:.1} MB = {:.0} bytes/order; order JSON {json} bytes; ratio {:.2}",
        file as f64 / 1e6,
        wal as f64 / 1e6,
        (file + wal) as f64 / n as f64,
        (file + wal) as f64 / n as f64 / json as f64
    );
    for (table, column) in [
        ("orders", "snapshot"),
        ("order_events", "record"),
        ("outbox", "record"),
        ("idempotency_records", "fingerprint"),
        ("stock_log", "entry"),
    ] {
        let (rows, bytes): (i64, i64) = conn
            .query_row(
                &format!("SELECT count(*), coalesce(sum(length({column})), 0) FROM {table}"),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        println!(
            "  {table}.{column}: {rows} rows, {:.0} bytes/order stored",
            bytes as f64 / n as f64
        );
    }

    // The baselines of the same run that hold many orders in memory come after the
    // import: run before it, the 100,000-order in-memory engine they build and drop
    // left the allocator's free lists long enough that the import's first call ran
    // at about twice the cost of its later ones (15.6-18.5 against 8.6-8.8 µs an
    // order; 8.9 against 7.7-7.9 without them).
    // The engine alone, same run: the same orders into the in-memory store.
    let mem_n = n.min(100_000);
    let mem_store = Arc::new(MemoryStore::new());
    let mem = Engine::new(
        mem_store.clone(),
        mem_store.clone(),
        Arc::new(FixedClock::new(fixtures::start())),
        Arc::new(SequentialIds::new()),
    );
    let mut mem_time = 0.0f64;
    for from in (0..mem_n).step_by(CALL) {
        let batch = orders(from, CALL.min(mem_n - from));
        let started = Instant::now();
        let placed = mem.place_orders(batch, &ctx);
        mem_time += started.elapsed().as_secs_f64();
        assert!(placed.iter().all(Result::is_ok));
    }
    println!(
        "engine alone: place_orders into memory, {mem_n} orders: {:.1} µs/order = {:.0} orders/s",
        mem_time * 1e6 / mem_n as f64,
        mem_n as f64 / mem_time
    );
    // The store alone, same run: what the engine saved in memory, committed to a
    // SQLite file (FULL) in change sets of `WRITE_BATCH` orders, as `place_orders` commits
    // them.
    // The ceiling of a durable import once the engine is fast.
    let store_only = Arc::new(SqliteStore::open(dir.path().join("store_only.db")).unwrap());
    let mut keys: HashMap<OrderId, Vec<IdempotencyRecord>> = HashMap::new();
    for record in mem_store.idempotency_records(None, usize::MAX).unwrap() {
        keys.entry(record.order_id.clone())
            .or_default()
            .push(record);
    }
    let mut outbox: HashMap<String, Vec<OutboxRecord>> = HashMap::new();
    for record in mem_store.pending(usize::MAX).unwrap() {
        outbox
            .entry(record.aggregate_id.clone())
            .or_default()
            .push(record);
    }
    let mut sets = Vec::new();
    let ids = mem_store.order_ids(None, usize::MAX).unwrap();
    for chunk in ids.chunks(WRITE_BATCH) {
        let mut set = ChangeSet::default();
        for id in chunk {
            set.orders.push(OrderChange {
                expected_version: 0,
                events: NewEvents::from_records(id.clone(), 0, mem_store.order_events(id).unwrap())
                    .unwrap(),
                snapshot: mem_store.load_order(id).unwrap().unwrap(),
            });
            set.idempotency.extend(keys.remove(id).unwrap_or_default());
            set.outbox.extend(
                outbox
                    .remove(id.as_str())
                    .unwrap_or_default()
                    .into_iter()
                    .map(Into::into),
            );
        }
        sets.push(set);
    }
    let started = Instant::now();
    for set in sets {
        store_only.commit(set).unwrap();
    }
    let took = started.elapsed().as_secs_f64();
    println!(
        "store alone: the same {} orders' change sets committed to SQLite FULL, {WRITE_BATCH} per commit: {:.1} µs/order = {:.0} orders/s",
        ids.len(),
        took * 1e6 / ids.len() as f64,
        ids.len() as f64 / took
    );
    drop((mem, mem_store, store_only));
}
