//! Orders placed and confirmed per second by 1, 2, 4, ... OS processes on one PostgreSQL
//! database, each process with its own engine and store, one-line orders spread over
//! many variants (issue 9, goal 5: throughput grows with processes). Also the hot case:
//! every process on one variant with little stock, checking that exactly the stock is
//! sold.
//!
//! ```bash
//! ORDERSMITH_PG_URL='host=127.0.0.1 port=54533 user=postgres dbname=postgres' \
//!   cargo run --release -p ordersmith-postgres --example pg_processes -- 1,4 10 1000
//! ```
//!
//! Arguments: process counts (comma-separated), seconds per run, variants. Each run uses
//! a fresh schema (dropped afterwards). Prints per run: orders/s, the ratio to the first
//! run, transactions rolled back on the server, and the client CPU time of the processes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{TimeZone, Utc};
use ordersmith::engine::{CommandContext, Engine, EngineConfig};
use ordersmith::ids::{ChannelId, LocationId, VariantId};
use ordersmith::money::{Currency, Money};
use ordersmith::order::{NewLine, NewOrder};
use ordersmith::ports::memory::SystemClock;
use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};
use ordersmith_postgres::{PgOptions, PgStore};

fn url() -> String {
    std::env::var("ORDERSMITH_PG_URL").expect("set ORDERSMITH_PG_URL")
}

fn open(schema: &str) -> Arc<PgStore> {
    Arc::new(
        PgStore::connect(
            &url(),
            PgOptions {
                schema: Some(schema.to_string()),
                pool_size: 2,
                ..PgOptions::default()
            },
        )
        .unwrap(),
    )
}

fn engine(store: Arc<PgStore>) -> Engine {
    Engine::new(
        store.clone(),
        store.clone(),
        Arc::new(SystemClock::new()),
        store,
    )
    .with_config(EngineConfig {
        max_attempts: 10_000,
        ..EngineConfig::default()
    })
}

fn sku(k: u64) -> VariantId {
    VariantId::parse(format!("V-{k:05}")).unwrap()
}

fn unix_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// User + system CPU of this process, in milliseconds (Linux `/proc/self/stat`).
fn cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(") ").next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Fields 14 and 15 of the line (utime, stime) are 11 and 12 after the name.
    (ticks(11) + ticks(12)) * 10
}

/// One process: places and confirms one-line orders on its spread of variants (or the
/// one hot variant) from `start_ms` for `seconds`, and prints what it did.
fn child(args: &[String]) {
    let (schema, worker, start_ms, seconds, variants): (&str, u64, u64, u64, u64) = (
        &args[0],
        args[1].parse().unwrap(),
        args[2].parse().unwrap(),
        args[3].parse().unwrap(),
        args[4].parse().unwrap(),
    );
    let engine = engine(open(schema));
    // Catch up before the clock starts, as a long-running process would have.
    engine.with_stock(|_| ()).unwrap();
    let try_ = Currency::parse("TRY").unwrap();
    let price = Money::parse("10.00", try_).unwrap();
    let ctx = CommandContext::system();
    while unix_ms() < start_ms {
        std::thread::sleep(Duration::from_millis(1));
    }
    let cpu_before = cpu_ms();
    let end = Instant::now() + Duration::from_secs(seconds);
    let (mut sold, mut refused, mut i) = (0_u64, 0_u64, 0_u64);
    while Instant::now() < end {
        // Spread: each process walks the variants from its own offset.
        let k = (worker * 7919 + i * 31) % variants;
        i += 1;
        let new = NewOrder::new(
            ChannelId::parse("web").unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap(),
            try_,
            vec![NewLine::new(sku(k), 1, price)],
        );
        let order = engine.place_order(new, &ctx).unwrap();
        match engine.confirm_order(&order.id, &ctx) {
            Ok(_) => sold += 1,
            Err(e) if e.code() == "STOCK_INSUFFICIENT" => refused += 1,
            Err(e) => panic!("worker {worker}: {e}"),
        }
    }
    println!(
        "RESULT sold={sold} refused={refused} cpu_ms={}",
        cpu_ms() - cpu_before
    );
}

fn field(line: &str, name: &str) -> u64 {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(name))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn rollbacks(admin: &mut postgres::Client) -> i64 {
    // The statistics are flushed about once a second.
    std::thread::sleep(Duration::from_millis(1500));
    admin
        .query_one(
            "SELECT xact_rollback FROM pg_stat_database WHERE datname = current_database()",
            &[],
        )
        .unwrap()
        .get(0)
}

/// Sets up a schema with `variants` variants, `units` each, runs `processes` children for
/// `seconds`, and returns (sold, refused, rollbacks, client cpu ms).
fn run(processes: u64, seconds: u64, variants: u64, units: u32) -> (u64, u64, i64, u64) {
    let schema = format!("bench_procs_{}_{processes}_{units}", std::process::id());
    let mut admin = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    let setup = engine(open(&schema));
    let ist = LocationId::parse("IST").unwrap();
    let mut commands = vec![StockCommand::AddLocation {
        location: Location::new(
            ist.clone(),
            "Istanbul DC",
            1,
            "TR-34",
            LocationKind::Warehouse,
        ),
    }];
    for k in 0..variants {
        commands.push(StockCommand::RegisterVariant {
            variant: sku(k),
            policy: StockPolicy::Deny,
        });
        commands.push(StockCommand::Receive {
            variant: sku(k),
            location: ist.clone(),
            quantity: units,
            reference: None,
        });
    }
    setup.stock_batch(commands).unwrap();
    drop(setup);
    let rolled_back = rollbacks(&mut admin);
    let start_ms = unix_ms() + 3000;
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..processes)
        .map(|w| {
            Command::new(&exe)
                .args([
                    "child",
                    &schema,
                    &w.to_string(),
                    &start_ms.to_string(),
                    &seconds.to_string(),
                    &variants.to_string(),
                ])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let (mut sold, mut refused, mut cpu) = (0, 0, 0);
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "a child failed");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let line = text.lines().find(|l| l.starts_with("RESULT")).unwrap();
        sold += field(line, "sold=");
        refused += field(line, "refused=");
        cpu += field(line, "cpu_ms=");
    }
    let rolled_back = rollbacks(&mut admin) - rolled_back;
    admin
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .unwrap();
    (sold, refused, rolled_back, cpu)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("child") {
        return child(&args[1..]);
    }
    let counts: Vec<u64> = args
        .first()
        .map_or("1,4", String::as_str)
        .split(',')
        .map(|c| c.parse().unwrap())
        .collect();
    let seconds: u64 = args.get(1).map_or(10, |s| s.parse().unwrap());
    let variants: u64 = args.get(2).map_or(1000, |s| s.parse().unwrap());
    println!("spread: one-line orders over {variants} variants, {seconds} s per run");
    let mut first = None;
    for &n in &counts {
        let (sold, _, rolled_back, cpu) = run(n, seconds, variants, 1_000_000);
        let rate = sold as f64 / seconds as f64;
        let base = *first.get_or_insert(rate);
        println!(
            "processes={n} orders/s={rate:.0} ratio={:.2} rolled_back={rolled_back} client_cpu_s={:.1}",
            rate / base,
            cpu as f64 / 1000.0
        );
    }
    // The hot case: every process on one variant holding 100 units.
    let n = *counts.last().unwrap_or(&4);
    let (sold, refused, rolled_back, _) = run(n, 3, 1, 100);
    println!(
        "hot: processes={n} on one variant with 100 units: sold={sold} refused={refused} rolled_back={rolled_back}"
    );
    assert_eq!(sold, 100, "sold exactly the stock");
}
