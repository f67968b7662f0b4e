//! Builders shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use ordersmith::engine::Engine;
use ordersmith::ids::{ChannelId, LineId, OrderId, VariantId};
use ordersmith::money::{Currency, Money};
use ordersmith::order::{LineQuantity, NewLine, NewOrder, Order, ShippingLine, TaxLine};
use ordersmith::ports::memory::{FixedClock, MemoryStore, SequentialIds};
use ordersmith::returns::{InspectionOutcome, ReturnLineRequest, ReturnReason, UnitInspection};
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

/// The warehouse the stock helpers use.
pub fn ist() -> ordersmith::ids::LocationId {
    ordersmith::ids::LocationId::parse("IST").unwrap()
}

/// SHIRT-M and MUG (the variants of [`sample_order`]) at IST, `units` each, stock
/// policy deny.
pub fn stock_at_ist(engine: &Engine, units: u32) {
    use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};
    let mut commands = vec![StockCommand::AddLocation {
        location: Location::new(ist(), "Istanbul DC", 1, "TR-34", LocationKind::Warehouse),
    }];
    for sku in ["SHIRT-M", "MUG"] {
        commands.push(StockCommand::RegisterVariant {
            variant: variant(sku),
            policy: StockPolicy::Deny,
        });
        commands.push(StockCommand::Receive {
            variant: variant(sku),
            location: ist(),
            quantity: units,
            reference: None,
        });
    }
    engine.stock_batch(commands).unwrap();
}

/// `sku` at IST as `engine` sees it after reading the store: (on hand, reserved).
pub fn level_at_ist(engine: &Engine, sku: &str) -> (i64, i64) {
    engine
        .with_stock(|s| {
            let level = s.level(&variant(sku), &ist()).unwrap();
            (level.on_hand, level.reserved)
        })
        .unwrap()
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

/// Inside an `impl Store for T`: the store's reads, forwarded to `self.$inner`. For the
/// tests' wrapping stores (a gate, a counter, a racing store), which differ only in
/// `commit`, `submit`/`wait` and `stock_log_since`.
#[macro_export]
macro_rules! forward_store_reads {
    ($inner:ident) => {
        fn idempotency_record(
            &self,
            key: &str,
        ) -> Result<Option<ordersmith::ports::IdempotencyRecord>, ordersmith::ports::StoreError> {
            self.$inner.idempotency_record(key)
        }
        forward_store_reads_but_keys!($inner);
    };
}

/// [`forward_store_reads`] but `idempotency_record`, for a wrapping store that watches
/// key lookups.
#[macro_export]
macro_rules! forward_store_reads_but_keys {
    ($inner:ident) => {
        fn load_order(
            &self,
            id: &ordersmith::ids::OrderId,
        ) -> Result<Option<ordersmith::order::Order>, ordersmith::ports::StoreError> {
            self.$inner.load_order(id)
        }
        fn order_events(
            &self,
            id: &ordersmith::ids::OrderId,
        ) -> Result<Vec<ordersmith::order::OrderEventRecord>, ordersmith::ports::StoreError> {
            self.$inner.order_events(id)
        }
        fn query_orders(
            &self,
            query: &ordersmith::ports::OrderQuery,
        ) -> Result<Vec<ordersmith::order::Order>, ordersmith::ports::StoreError> {
            self.$inner.query_orders(query)
        }
        fn order_ids(
            &self,
            after: Option<&ordersmith::ids::OrderId>,
            limit: usize,
        ) -> Result<Vec<ordersmith::ids::OrderId>, ordersmith::ports::StoreError> {
            self.$inner.order_ids(after, limit)
        }
        fn idempotency_records(
            &self,
            after: Option<&str>,
            limit: usize,
        ) -> Result<Vec<ordersmith::ports::IdempotencyRecord>, ordersmith::ports::StoreError> {
            self.$inner.idempotency_records(after, limit)
        }
        fn keyed_record(
            &self,
            namespace: &str,
            key: &str,
        ) -> Result<Option<ordersmith::ports::KeyedRecord>, ordersmith::ports::StoreError> {
            self.$inner.keyed_record(namespace, key)
        }
        fn keyed_records(
            &self,
            namespace: &str,
            after: Option<&str>,
            limit: usize,
        ) -> Result<Vec<ordersmith::ports::KeyedRecord>, ordersmith::ports::StoreError> {
            self.$inner.keyed_records(namespace, after, limit)
        }
        fn record_namespaces(&self) -> Result<Vec<String>, ordersmith::ports::StoreError> {
            self.$inner.record_namespaces()
        }
        fn document_series_last(&self, series: &str) -> Result<u64, ordersmith::ports::StoreError> {
            self.$inner.document_series_last(series)
        }
        fn load_document(
            &self,
            number: &str,
        ) -> Result<Option<ordersmith::invoice::InvoiceDocument>, ordersmith::ports::StoreError> {
            self.$inner.load_document(number)
        }
        fn order_documents(
            &self,
            order: &ordersmith::ids::OrderId,
        ) -> Result<Vec<ordersmith::invoice::InvoiceDocument>, ordersmith::ports::StoreError> {
            self.$inner.order_documents(order)
        }
        fn documents(
            &self,
            after: Option<(&str, u64)>,
            limit: usize,
        ) -> Result<Vec<ordersmith::invoice::InvoiceDocument>, ordersmith::ports::StoreError> {
            self.$inner.documents(after, limit)
        }
    };
}

// Returns: a request, its receipt and inspection, as most return tests begin.

pub fn ask(line: &str, quantity: u32, reason: ReturnReason) -> ReturnLineRequest {
    ReturnLineRequest {
        line_id: line_id(line),
        quantity,
        reason,
        opened: false,
    }
}

pub fn inspected(line: &str, outcome: InspectionOutcome, quantity: u32) -> UnitInspection {
    UnitInspection {
        line_id: line_id(line),
        outcome,
        quantity,
        note: None,
    }
}

pub fn last_rma(order: &Order) -> String {
    order.rmas.last().unwrap().id.clone()
}

/// Requests a return of `quantity` units of `line`, receives them at IST and inspects
/// them as resellable; the return's id.
pub fn returned(
    engine: &Engine,
    id: &OrderId,
    line: &str,
    quantity: u32,
    reason: ReturnReason,
) -> String {
    let system = ordersmith::engine::CommandContext::system();
    let o = engine
        .request_return(id, vec![ask(line, quantity, reason)], None, vec![], &system)
        .unwrap();
    let r = last_rma(&o);
    engine
        .receive_return(id, &r, ist(), vec![lq(line, quantity)], &system)
        .unwrap();
    engine
        .inspect_return(
            id,
            &r,
            vec![inspected(line, InspectionOutcome::Resellable, quantity)],
            &system,
        )
        .unwrap();
    r
}

/// A provider payment of `amount` taken in full: authorised, confirmed, captured and
/// the capture confirmed, as payment `P1` (the steps a paid card order goes through).
pub fn captured_in_full(amount: Money) -> [ordersmith::order::PaymentCommand; 4] {
    use ordersmith::order::PaymentCommand;
    [
        PaymentCommand::Authorise {
            provider: "iyzico".into(),
            method: None,
            amount,
        },
        PaymentCommand::ConfirmAuthorisation {
            payment: "P1".into(),
            provider_ref: "auth-1".into(),
            amount,
        },
        PaymentCommand::Capture {
            payment: "P1".into(),
            amount,
        },
        PaymentCommand::ConfirmCapture {
            payment: "P1".into(),
            provider_ref: "cap-1".into(),
            amount,
        },
    ]
}

/// Defines `bundle` as `parts` (component SKU, units per bundle).
pub fn define_bundle(engine: &Engine, bundle: &str, parts: &[(&str, u32)]) {
    engine
        .stock(ordersmith::stock::StockCommand::DefineBundle {
            bundle: variant(bundle),
            components: parts
                .iter()
                .map(|(sku, quantity)| ordersmith::stock::BundleComponent {
                    variant: variant(sku),
                    quantity: *quantity,
                })
                .collect(),
        })
        .unwrap();
}
