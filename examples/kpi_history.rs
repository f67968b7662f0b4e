//! Writes the deterministic KPI history of `benches/kpi_gen.rs` as CSV (the polars
//! oracle's input) and ordersmith's KPI tables for it as JSON (what the oracle must
//! equal), and times ordersmith on it.
//!
//! ```text
//! cargo run --release --example kpi_history -- <orders> <out-dir>
//! ```
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

use ordersmith::kpi::{Grain, KpiBook, KpiQuery, KpiTables};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().unwrap_or_else(|| "2000".into()).parse()?;
    let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| "target/kpi-history".into()));
    let history = kpi_gen::History::generate(n, 42);
    kpi_gen::write_csv(&history, &dir)?;
    if std::env::var("KPI_PROFILE").is_ok() {
        let mut book = KpiBook::new(chrono_tz::Europe::Istanbul);
        let mut per: std::collections::BTreeMap<String, (u64, u128)> = Default::default();
        history.for_each_fact(|f| {
            let name = format!("{f:?}");
            let kind = name.split([' ', '{']).next().unwrap_or("").to_string();
            let t = Instant::now();
            book.push(f).unwrap();
            let e = per.entry(kind).or_default();
            e.0 += 1;
            e.1 += t.elapsed().as_nanos();
        });
        for (k, (n, ns)) in per {
            eprintln!("{k}: {n} facts, {} ns each", ns / u128::from(n));
        }
    }
    let mut book = KpiBook::new(chrono_tz::Europe::Istanbul);
    let started = Instant::now();
    history.for_each_fact(|f| book.push(f).unwrap());
    let fed = started.elapsed();
    let started = Instant::now();
    book.recompute();
    let recompute = started.elapsed();
    let mut out = serde_json::Map::new();
    for grain in [Grain::Day, Grain::Month] {
        let started = Instant::now();
        let tables: KpiTables = book.tables(&KpiQuery {
            grain,
            ..KpiQuery::default()
        })?;
        eprintln!("tables ({}) in {:?}", grain.as_str(), started.elapsed());
        out.insert(
            grain.as_str().into(),
            serde_json::from_str(&tables.to_json())?,
        );
    }
    std::fs::write(dir.join("ordersmith.json"), serde_json::to_string(&out)?)?;
    eprintln!(
        "{n} orders, {} facts: fed in {fed:?} ({:.0} ns per fact), recomputed in {recompute:?}",
        book.fact_count(),
        fed.as_nanos() as f64 / book.fact_count() as f64
    );
    println!(
        "{}",
        serde_json::json!({"orders": n, "facts": book.fact_count(), "feed_ms": fed.as_secs_f64() * 1e3, "recompute_ms": recompute.as_secs_f64() * 1e3})
    );
    Ok(())
}
