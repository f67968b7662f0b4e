//! Helpers shared by the integration tests.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use chrono::{DateTime, TimeZone, Utc};
use ordersmith::engine::Engine;
use ordersmith::ids::{LocationId, VariantId};
use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};
use rust_decimal::Decimal;

/// The bytes of `tests/fixtures/<path>`.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// A decimal from text.
pub fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// A UTC time.
pub fn utc(y: i32, mo: u32, da: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, da, h, mi, s).unwrap()
}

/// An in-memory engine with one warehouse, `WH`, holding 10 of each of `variants`
/// (policy deny), and `extra` stock commands after them, in one batch.
pub fn stocked_engine(variants: &[&str], extra: Vec<StockCommand>) -> Engine {
    let engine = Engine::in_memory();
    let wh = LocationId::parse("WH").unwrap();
    let mut cmds = vec![StockCommand::AddLocation {
        location: Location::new(wh.clone(), "Warehouse", 1, "TR-34", LocationKind::Warehouse),
    }];
    for variant in variants {
        let v = VariantId::parse(*variant).unwrap();
        cmds.push(StockCommand::RegisterVariant {
            variant: v.clone(),
            policy: StockPolicy::Deny,
        });
        cmds.push(StockCommand::Receive {
            variant: v,
            location: wh.clone(),
            quantity: 10,
            reference: None,
        });
    }
    cmds.extend(extra);
    engine.stock_batch(cmds).unwrap();
    engine
}
