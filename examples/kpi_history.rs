//! Writes the deterministic KPI history of `benches/kpi_gen.rs` as CSV (the polars
//! oracle's input) and ordersmith's KPI tables for it as JSON (what the oracle must
//! equal), and times ordersmith on it.
//!
//! ```text
//! cargo run --release --example kpi_history -- <orders> <out-dir> [--time-only]
//! ```
//!
//! The work timed is the one `benches/peers/kpi_polars.py` times: from the facts, every
//! KPI table for two queries (day grain; month grain with an `as_of` instant for late
//! shipments), i.e. a full recomputation and then the tables. `--time-only` writes
//! nothing and prints the timings as one JSON line. `--per-table` adds each table's
//! time for each query (built one by one after the timed work, not part of it), to
//! see where the time goes.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "../benches/kpi_gen.rs"]
mod kpi_gen;

use std::time::Instant;

use chrono::{TimeZone, Utc};
use ordersmith::kpi::{Grain, KpiBook, KpiQuery};

/// The process's CPU time so far (user + system, from `/proc/self/stat`, in 10 ms
/// ticks; Linux only): on a shared machine it leaves out the time spent waiting for
/// a core, which wall-clock time does not.
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which ends at the last ')'): state is field 3,
    // utime and stime are fields 14 and 15.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) * 10.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let time_only = args.iter().any(|a| a == "--time-only");
    let per_table = args.iter().any(|a| a == "--per-table");
    let mut positional = args.iter().filter(|a| !a.starts_with("--"));
    let n: usize = positional.next().map_or("2000", |s| s.as_str()).parse()?;
    let dir = std::path::PathBuf::from(
        positional
            .next()
            .map_or("target/kpi-history", |s| s.as_str()),
    );
    let history = kpi_gen::History::generate(n, 42);
    if !time_only {
        kpi_gen::write_csv(&history, &dir)?;
    }
    let mut book = KpiBook::new(chrono_tz::Europe::Istanbul);
    let started = Instant::now();
    history.for_each_fact(|f| book.push(f).unwrap());
    let fed = started.elapsed();
    let queries = [
        ("day", KpiQuery::default()),
        (
            "month",
            KpiQuery {
                grain: Grain::Month,
                // Two days after the history ends: orders still open then are late.
                as_of: Some(Utc.with_ymd_and_hms(2027, 1, 3, 0, 0, 0).unwrap()),
                ..KpiQuery::default()
            },
        ),
    ];
    // The timed work: recompute from the log, then every table of both queries.
    let cpu_started = cpu_ms();
    let started = Instant::now();
    book.recompute();
    let recompute = started.elapsed();
    let mut tables = Vec::new();
    let mut table_ms = serde_json::Map::new();
    for (name, q) in &queries {
        let t = Instant::now();
        tables.push((name, q, book.tables(q)?));
        table_ms.insert((*name).into(), (t.elapsed().as_secs_f64() * 1e3).into());
    }
    let total = started.elapsed();
    let cpu = cpu_ms().zip(cpu_started).map(|(b, a)| b - a);
    let mut per_table_ms = serde_json::Map::new();
    if per_table {
        for (name, q) in &queries {
            let mut ms = serde_json::Map::new();
            for table in ordersmith::kpi::TABLE_NAMES {
                let t = Instant::now();
                let built = book.table(table, q)?;
                ms.insert(table.into(), (t.elapsed().as_secs_f64() * 1e3).into());
                drop(built);
            }
            per_table_ms.insert((*name).into(), ms.into());
        }
    }
    if !time_only {
        let mut out = serde_json::Map::new();
        let mut qs = serde_json::Map::new();
        for (name, q, t) in &tables {
            out.insert((**name).into(), serde_json::from_str(&t.to_json())?);
            qs.insert((**name).into(), serde_json::to_value(q)?);
        }
        out.insert("queries".into(), qs.into());
        std::fs::write(dir.join("ordersmith.json"), serde_json::to_string(&out)?)?;
    }
    println!(
        "{}",
        serde_json::json!({
            "orders": n,
            "facts": book.fact_count(),
            "feed_ns_per_fact": fed.as_nanos() as f64 / book.fact_count() as f64,
            "recompute_ms": recompute.as_secs_f64() * 1e3,
            "tables_ms": table_ms,
            "recompute_and_tables_ms": total.as_secs_f64() * 1e3,
            "recompute_and_tables_cpu_ms": cpu,
            "per_table_ms": per_table_ms,
        })
    );
    Ok(())
}
