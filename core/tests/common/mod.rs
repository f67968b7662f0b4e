//! Builders shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use ordersmith::engine::Engine;
use ordersmith::ids::{ChannelId, LineId, OrderId, VariantId};
use ordersmith::money::{Currency, Money};
use ordersmith::order::{LineQuantity, NewLine, NewOrder, ShippingLine, TaxLine};
use ordersmith::ports::memory::{FixedClock, MemoryStore, SequentialIds};
use rust_decimal::Decimal;

pub fn try_() -> Currency {
    Currency::parse("TRY").unwrap()
}

pub fn money(s: &str) -> Money {
    Money::parse(s, try_()).unwrap()
}

pub fn usd(s: &str) -> Money {
    Money::parse(s, Currency::parse("USD").unwrap()).unwrap()
}

pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

pub fn variant(s: &str) -> VariantId {
    VariantId::parse(s).unwrap()
}

pub fn line_id(s: &str) -> LineId {
    LineId::parse(s).unwrap()
}

pub fn oid(s: &str) -> OrderId {
    OrderId::parse(s).unwrap()
}

pub fn lq(line: &str, quantity: u32) -> LineQuantity {
    LineQuantity::new(line_id(line), quantity)
}

/// Two lines (2 × 100.00 with 20 % VAT and a 10.00 discount; 1 × 50.00), 15.00 shipping.
pub fn sample_order(channel: &str) -> NewOrder {
    let mut order = NewOrder::new(
        ChannelId::parse(channel).unwrap(),
        at(20, 10),
        try_(),
        vec![
            NewLine::new(variant("SHIRT-M"), 2, money("100"))
                .with_tax("KDV", dec("0.20"))
                .with_discount(Some("WELCOME"), money("10")),
            NewLine::new(variant("MUG"), 1, money("50")).with_tax("KDV", dec("0.20")),
        ],
    );
    order.shipping_lines.push(ShippingLine {
        title: "Standard".into(),
        price: money("15"),
        tax_lines: vec![TaxLine {
            name: "KDV".into(),
            rate: dec("0.20"),
        }],
    });
    order
}

pub struct TestEngine {
    pub engine: Engine,
    pub store: Arc<MemoryStore>,
    pub clock: Arc<FixedClock>,
}

pub fn test_engine() -> TestEngine {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(FixedClock::new(at(20, 12)));
    let engine = Engine::new(
        store.clone(),
        store.clone(),
        clock.clone(),
        Arc::new(SequentialIds::new()),
    );
    TestEngine {
        engine,
        store,
        clock,
    }
}
