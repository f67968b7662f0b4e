//! The Rust side of `benches/python_import.py`: 100,000 orders through
//! `Engine::place_orders_json_lines` (JSON lines read by the core, as
//! `import_orders_jsonl` does), through `Engine::place_orders` built from the flat
//! input format (as `import_orders` does) and built directly, plus the cost of a small
//! read. Each path runs on its own engine, dropped before the next, and the resident
//! set is printed after each (Linux `/proc/self/status`).
//!
//! Run it with `cargo run --release --example bulk_import [N]`; with `--ids-only`, only
//! the import that reports ids runs, and the resident set it adds per order (what the
//! in-memory store holds, allocator included) is printed.

use std::error::Error;
use std::time::Instant;

use ordersmith::engine::{CommandContext, Engine};
use ordersmith::ids::{LocationId, VariantId};
use ordersmith::order::{json_lines, NewOrder, OrderInput};
use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};

fn input(i: usize) -> serde_json::Value {
    serde_json::json!({
        "channel": "web",
        "external_ref": format!("W-{i}"),
        "placed_at": "2026-11-20T09:30:00Z",
        "currency": "TRY",
        "lines": [
            {"variant": "MUG", "quantity": 2, "unit_price": "189.90",
             "tax_lines": [{"name": "KDV", "rate": "0.20"}]},
            {"variant": "TEA-500G", "quantity": 1, "unit_price": "89.90"}
        ]
    })
}

/// `VmRSS` and `VmHWM` (peak) of this process in MB, when Linux says.
fn rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
            .map_or("?".to_string(), |kb| format!("{:.0} MB", kb / 1024.0))
    };
    format!("RSS {}, peak {}", field("VmRSS:"), field("VmHWM:"))
}

/// `VmRSS` in kB, when Linux says.
fn rss_kb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

fn per_order(label: &str, n: usize, took: std::time::Duration) {
    println!(
        "{label:<52} {:.3} s = {:.0} orders/s, {:.2} µs/order",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / n as f64
    );
}

fn engine() -> Result<Engine, Box<dyn Error>> {
    let engine = Engine::in_memory();
    let (mug, ist) = (VariantId::parse("MUG")?, LocationId::parse("IST")?);
    engine.stock_batch(vec![
        StockCommand::AddLocation {
            location: Location::new(
                ist.clone(),
                "Istanbul DC",
                1,
                "TR-34",
                LocationKind::Warehouse,
            ),
        },
        StockCommand::RegisterVariant {
            variant: mug.clone(),
            policy: StockPolicy::Deny,
        },
        StockCommand::Receive {
            variant: mug,
            location: ist,
            quantity: 1_000_000,
            reference: None,
        },
    ])?;
    Ok(engine)
}

fn main() -> Result<(), Box<dyn Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let ids_only = std::env::args().any(|a| a == "--ids-only");
    let ctx = CommandContext::system();

    // JSON lines, as a file holds them and `import_orders_jsonl` hands them over.
    let mut data = Vec::with_capacity(n * 300);
    for i in 0..n {
        serde_json::to_writer(&mut data, &input(i))?;
        data.push(b'\n');
    }
    println!(
        "JSON lines: {} bytes, {:.0} per order",
        data.len(),
        data.len() as f64 / n as f64
    );
    if ids_only {
        // Nothing else has run: the resident set the import adds is the engine's.
        let e = engine()?;
        let before = rss_kb();
        let start = Instant::now();
        let report = e.import_orders_json_lines(&data, &ctx);
        let took = start.elapsed();
        assert!(report.refused.is_empty() && report.placed.len() == n);
        per_order(&format!("import_orders_json_lines({n}), ids"), n, took);
        drop(report);
        println!(
            "  the engine keeps {:.0} B of resident memory per order ({})",
            (rss_kb() - before) * 1024.0 / n as f64,
            rss()
        );
        return Ok(());
    }
    // The reading alone (bytes -> OrderInput -> NewOrder), for the parse's share.
    let start = Instant::now();
    let news = json_lines(&data)
        .map(|(_, read)| Ok(read?.into_new_order()?))
        .collect::<Result<Vec<NewOrder>, Box<dyn Error>>>()?;
    per_order(
        "read JSON lines into NewOrder (no engine)",
        n,
        start.elapsed(),
    );
    drop(news);
    // The same import reporting ids instead of orders (run first, so it is the one that
    // pays for the process's first touch of the memory the engines keep).
    {
        let e = engine()?;
        let start = Instant::now();
        let report = e.import_orders_json_lines(&data, &ctx);
        let took = start.elapsed();
        assert!(report.refused.is_empty() && report.placed.len() == n);
        per_order(&format!("import_orders_json_lines({n}), ids"), n, took);
        println!("  {}", rss());
    }
    {
        let e = engine()?;
        let start = Instant::now();
        let placed = e.place_orders_json_lines(&data, &ctx);
        let took = start.elapsed();
        assert!(placed.iter().all(|r| r.result.is_ok()));
        per_order(&format!("place_orders_json_lines({n})"), n, took);
        println!("  {}", rss());
    }
    drop(data);

    // As `import_orders` does it: JSON value -> OrderInput -> NewOrder -> place_orders.
    {
        let values: Vec<serde_json::Value> = (0..n).map(input).collect();
        let e = engine()?;
        let start = Instant::now();
        let news = values
            .into_iter()
            .map(|v| Ok(serde_json::from_value::<OrderInput>(v)?.into_new_order()?))
            .collect::<Result<Vec<NewOrder>, Box<dyn Error>>>()?;
        let placed = e.place_orders(news, &ctx);
        let took = start.elapsed();
        assert!(placed.iter().all(Result::is_ok));
        per_order(
            &format!("place_orders({n}) from serde_json::Value"),
            n,
            took,
        );
        println!("  {}", rss());
    }

    // Already-built NewOrders: the engine alone.
    let news = (0..n)
        .map(|i| Ok(serde_json::from_value::<OrderInput>(input(i))?.into_new_order()?))
        .collect::<Result<Vec<NewOrder>, Box<dyn Error>>>()?;
    let e = engine()?;
    let start = Instant::now();
    let placed = e.place_orders(news, &ctx);
    per_order(
        &format!("place_orders({n}), NewOrder prebuilt"),
        n,
        start.elapsed(),
    );
    println!("  {}", rss());

    let id = match placed.first() {
        Some(Ok(order)) => order.id.clone(),
        _ => return Err("no order placed".into()),
    };
    let calls = 100_000;
    let start = Instant::now();
    for _ in 0..calls {
        std::hint::black_box(e.order(&id)?);
    }
    println!(
        "engine.order(id):                                    {:.2} µs/call",
        start.elapsed().as_secs_f64() * 1e6 / calls as f64
    );
    let (mug, ist) = (VariantId::parse("MUG")?, LocationId::parse("IST")?);
    let start = Instant::now();
    for _ in 0..calls {
        std::hint::black_box(e.with_stock(|s| s.level(&mug, &ist))??);
    }
    println!(
        "engine.with_stock(level):                            {:.2} µs/call",
        start.elapsed().as_secs_f64() * 1e6 / calls as f64
    );
    Ok(())
}
