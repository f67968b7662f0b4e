//! The Rust side of the per-call overhead benchmark (see `bench/run`): a small read,
//! `order(id)` on an in-memory SQLite store, called from Rust directly on the core
//! engine and through this crate's glue (same conversions as a Kotlin call, no FFI).
//! Prints nanoseconds per call: the best and the median of several rounds.

use std::time::Instant;

use chrono::{TimeZone, Utc};
use ordersmith::engine::{CommandContext, Engine};
use ordersmith::ids::{ChannelId, VariantId};
use ordersmith::money::{Currency, Money};
use ordersmith::order::{NewLine, NewOrder};
use ordersmith::ports::memory::SystemClock;
use ordersmith_sqlite::SqliteStore;

const ROUNDS: usize = 7;
const CALLS: u32 = 20_000;

fn rounds(mut call: impl FnMut()) -> (f64, f64) {
    for _ in 0..CALLS {
        call();
    }
    let mut per_call: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..CALLS {
                call();
            }
            started.elapsed().as_nanos() as f64 / f64::from(CALLS)
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    let at = |k: usize| per_call.get(k).copied().unwrap_or(f64::NAN);
    (at(0), at(ROUNDS / 2))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = std::sync::Arc::new(SqliteStore::in_memory()?);
    let core = Engine::new(
        store.clone(),
        store.clone(),
        std::sync::Arc::new(SystemClock::new()),
        store,
    );
    let try_ = Currency::parse("TRY")?;
    let placed_at = Utc
        .with_ymd_and_hms(2026, 11, 20, 12, 0, 0)
        .single()
        .ok_or("time")?;
    let lines = vec![NewLine::new(
        VariantId::parse("TEA-500G")?,
        2,
        Money::parse("89.90", try_)?,
    )];
    let new = NewOrder::new(ChannelId::parse("pos")?, placed_at, try_, lines);
    let id = core.place_order(new, &CommandContext::system())?.id;
    let (best, median) = rounds(|| {
        let _ = std::hint::black_box(core.order(std::hint::black_box(&id)));
    });
    println!("rust core engine.order(id): best {best:.0} ns, median {median:.0} ns");

    let glue = ordersmith_mobile::engine::Engine::in_memory(None, None)?;
    let order = ordersmith_mobile::order::NewOrder {
        channel: "pos".into(),
        external_ref: None,
        placed_at: placed_at.into(),
        currency: "TRY".into(),
        lines: vec![ordersmith_mobile::order::NewLine {
            variant: "TEA-500G".into(),
            quantity: 2,
            unit_price: ordersmith_mobile::money::ExactDecimal("89.90".into()),
            title: None,
        }],
        note: None,
    };
    let glue_id = glue.place_order(order, None)?.id;
    let (best, median) = rounds(|| {
        let _ = std::hint::black_box(glue.order(std::hint::black_box(glue_id.clone())));
    });
    println!("rust glue  Engine::order(id): best {best:.0} ns, median {median:.0} ns");
    let (best, median) = rounds(|| {
        let _ = std::hint::black_box(ordersmith_mobile::catalog::parse_gtin(
            std::hint::black_box("8690000000012".to_string()),
        ));
    });
    println!("rust glue  parse_gtin:          best {best:.0} ns, median {median:.0} ns");
    Ok(())
}
