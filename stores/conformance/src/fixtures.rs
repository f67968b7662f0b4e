//! Builders and a busy demo shop, shared by the suite, the crash and cross-process
//! tests, the dump round trips and the benchmarks.

use std::str::FromStr;

use chrono::{DateTime, Duration, TimeZone, Utc};
use ordersmith::engine::{lines, CommandContext, Engine};
use ordersmith::ids::{ChannelId, LineId, LocationId, OrderId, TransferId, VariantId};
use ordersmith::money::{Currency, Money};
use ordersmith::order::{
    place, Actor, CancelReason, HoldReason, LineEdit, NewLine, NewOrder, Order, OrderEvent,
    ShippingLine, TaxLine,
};
use ordersmith::pii::{Address, Customer, Redacted};
use ordersmith::ports::memory::FixedClock;
use ordersmith::ports::{Clock, NewEvents, OrderChange};
use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};
use rust_decimal::Decimal;

/// 2026-11-20 09:00:00 UTC: where fixture clocks start.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

/// Turkish lira.
pub fn try_() -> Currency {
    Currency::parse("TRY").unwrap()
}

/// An amount in lira.
pub fn money(text: &str) -> Money {
    Money::parse(text, try_()).unwrap()
}

/// A line id.
pub fn line(id: &str) -> LineId {
    LineId::parse(id).unwrap()
}

/// A new order with two lines (2 × 100.00 with 20 % KDV and a 10.00 discount; 1 ×
/// 50.00), shipping, a customer and an address: every optional part filled, so JSON
/// round trips are tested on the whole shape.
pub fn new_order(channel: &str, placed_at: DateTime<Utc>) -> NewOrder {
    let kdv = Decimal::from_str("0.20").unwrap();
    let mut order = NewOrder::new(
        ChannelId::parse(channel).unwrap(),
        placed_at,
        try_(),
        vec![
            NewLine::new(VariantId::parse("SHIRT-M").unwrap(), 2, money("100.00"))
                .with_title("Shirt M")
                .with_tax("KDV", kdv)
                .with_discount(Some("WELCOME"), money("10.00")),
            NewLine::new(VariantId::parse("MUG").unwrap(), 1, money("50.00")).with_tax("KDV", kdv),
        ],
    );
    order.shipping_lines.push(ShippingLine {
        title: "Kargo".into(),
        price: money("15.00"),
        tax_lines: vec![TaxLine {
            name: "KDV".into(),
            rate: kdv,
        }],
    });
    order.customer = Some(Customer {
        name: Redacted::new("Ayşe Yılmaz".to_string()),
        email: Some(Redacted::new("ayse@example.com".to_string())),
        locale: Some("tr-TR".into()),
        ..Customer::default()
    });
    order.shipping_address = Some(Address {
        name: Redacted::new("Ayşe Yılmaz".to_string()),
        lines: Redacted::new(vec!["Bağdat Cd. 1".to_string(), "D:4".to_string()]),
        city: Redacted::new("İstanbul".to_string()),
        region: Some("TR-34".into()),
        country: "TR".into(),
        ..Address::default()
    });
    order.tags = vec!["vip".into()];
    order.note = Some("leave at the door \"please\" \\ ✓".into());
    order
}

/// A change set part that creates order `id` directly (no engine): version 1, its
/// `placed` event recorded at `placed_at`.
pub fn new_order_change(id: &str, channel: &str, placed_at: DateTime<Utc>) -> OrderChange {
    placed_change(id, &new_order(channel, placed_at))
}

/// Like [`new_order_change`] on the `web` channel, with `customer` as the order's
/// customer (`None`: none).
pub fn new_order_change_for(
    id: &str,
    placed_at: DateTime<Utc>,
    customer: Option<Customer>,
) -> OrderChange {
    let mut new = new_order("web", placed_at);
    new.customer = customer;
    placed_change(id, &new)
}

/// `new` placed as order `id`: its snapshot and its `placed` event, recorded when it
/// was placed.
fn placed_change(id: &str, new: &NewOrder) -> OrderChange {
    let event = place(new).unwrap();
    let OrderEvent::Placed(data) = &event else {
        panic!("place returned {event:?}")
    };
    let order_id = OrderId::parse(id).unwrap();
    OrderChange {
        expected_version: 0,
        snapshot: Order::from_placed(order_id.clone(), data),
        events: NewEvents::recorded(
            order_id,
            0,
            new.placed_at,
            &Actor::System,
            None,
            vec![event],
        ),
    }
}

/// A customer with the host id `id` and the e-mail address `email`, either optional.
pub fn customer(id: Option<&str>, email: Option<&str>) -> Customer {
    Customer {
        id: id.map(|i| ordersmith::ids::CustomerId::parse(i).unwrap()),
        name: Redacted::new("Ayşe Yılmaz".to_string()),
        email: email.map(|e| Redacted::new(e.to_string())),
        ..Customer::default()
    }
}

/// The next change of `order` (at `version`): one note added.
pub fn note_change(order: &Order, note: &str, at: DateTime<Utc>) -> OrderChange {
    let event = OrderEvent::NoteAdded {
        note: note.to_string(),
    };
    let mut snapshot = order.clone();
    snapshot.apply(&event);
    OrderChange {
        expected_version: order.version,
        events: NewEvents::recorded(
            order.id.clone(),
            order.version,
            at,
            &Actor::System,
            None,
            vec![event],
        ),
        snapshot,
    }
}

/// Two locations (IST priority 1, ANK priority 2), SHIRT-M and MUG registered (deny
/// policy) with `units` of each received at both, a transfer between them and a
/// low-stock threshold: enough for the orders of [`busy_shop`] to reserve, and a stock
/// log with every kind of entry a dump must carry.
pub fn stock_two_warehouses(engine: &Engine, units: u32) {
    let ist = LocationId::parse("IST").unwrap();
    let ank = LocationId::parse("ANK").unwrap();
    let mut commands = vec![
        StockCommand::AddLocation {
            location: Location::new(
                ist.clone(),
                "Istanbul DC",
                1,
                "TR-34",
                LocationKind::Warehouse,
            ),
        },
        StockCommand::AddLocation {
            location: Location::new(ank.clone(), "Ankara store", 2, "TR-06", LocationKind::Store),
        },
    ];
    for sku in ["SHIRT-M", "MUG"] {
        let variant = VariantId::parse(sku).unwrap();
        commands.push(StockCommand::RegisterVariant {
            variant: variant.clone(),
            policy: StockPolicy::Deny,
        });
        for location in [&ist, &ank] {
            commands.push(StockCommand::Receive {
                variant: variant.clone(),
                location: location.clone(),
                quantity: units,
                reference: Some("PO-1".into()),
            });
        }
    }
    commands.push(StockCommand::Transfer {
        id: TransferId::parse("TR-1").unwrap(),
        variant: VariantId::parse("MUG").unwrap(),
        from: ist,
        to: ank,
        quantity: 1,
    });
    commands.push(StockCommand::ReceiveTransfer {
        id: TransferId::parse("TR-1").unwrap(),
    });
    commands.push(StockCommand::SetLowStockThreshold {
        variant: VariantId::parse("MUG").unwrap(),
        threshold: Some(units / 2),
    });
    engine.stock_batch(commands).unwrap();
}

/// A busy day: `count` orders from four channels through many commands (holds, edits,
/// partial cancellations and payments, shipments, deliveries, returns, refunds,
/// completions, tags, notes, idempotent repeats), then the first ten effects
/// acknowledged. Deterministic for a given fresh store, clock and id generator.
pub fn busy_shop(engine: &Engine, clock: &FixedClock, count: usize) {
    stock_two_warehouses(engine, 1_000);
    let channels = ["web", "trendyol", "shopify", "hepsiburada"];
    let staff = CommandContext::by(Actor::User("ayse".into()));
    for i in 0..count {
        clock.advance(Duration::minutes(7));
        let channel = channels[i % channels.len()];
        // Every fifth order shares its placed time with the one before (id breaks ties),
        // and one in three carries nanoseconds.
        let mut placed_at = start() + Duration::minutes(13 * i64::try_from(i / 5 * 5).unwrap());
        if i % 3 == 0 {
            placed_at += Duration::nanoseconds(123_456_789);
        }
        let mut new = new_order(channel, placed_at);
        new.external_ref = Some(format!("{}-{i:04}", channel.to_uppercase()));
        let ctx = CommandContext::by(Actor::Channel(new.channel.clone()));
        let order = engine.place_order(new.clone(), &ctx).unwrap();
        // A redelivered webhook is the same order.
        assert_eq!(engine.place_order(new, &ctx).unwrap().id, order.id);
        let id = &order.id;
        match i % 7 {
            0 => {
                engine.confirm_order(id, &staff).unwrap();
                engine.mark_paid(id, &staff).unwrap();
                clock.advance(Duration::hours(2));
                engine
                    .record_shipment(id, lines(&[("L1", 2), ("L2", 1)]).unwrap(), &staff)
                    .unwrap();
                engine
                    .record_delivery(id, lines(&[("L1", 2), ("L2", 1)]).unwrap(), &staff)
                    .unwrap();
                engine.complete_order(id, &staff).unwrap();
            }
            1 => {
                engine
                    .hold_order(
                        id,
                        HoldReason::FraudReview,
                        Some("far apart".into()),
                        &staff,
                    )
                    .unwrap();
                engine
                    .cancel_order(id, CancelReason::Fraud, &staff)
                    .unwrap();
            }
            2 => {
                engine.confirm_order(id, &staff).unwrap();
                engine.record_payment(id, money("100.00"), &staff).unwrap();
                engine
                    .cancel_lines(
                        id,
                        lines(&[("L2", 1)]).unwrap(),
                        CancelReason::Inventory,
                        &staff,
                    )
                    .unwrap();
            }
            3 => {
                engine
                    .edit_order(
                        id,
                        vec![
                            LineEdit::SetQuantity {
                                line_id: line("L1"),
                                quantity: 3,
                            },
                            LineEdit::Add {
                                line: NewLine::new(
                                    VariantId::parse("CAP").unwrap(),
                                    1,
                                    money("75.50"),
                                ),
                            },
                        ],
                        &staff,
                    )
                    .unwrap();
                engine.confirm_order(id, &staff).unwrap();
                engine.mark_paid(id, &staff).unwrap();
                engine
                    .record_shipment(id, lines(&[("L1", 1)]).unwrap(), &staff)
                    .unwrap();
            }
            4 => {
                let keyed = staff.clone().with_idempotency_key(format!("confirm-{i}"));
                engine.confirm_order(id, &keyed).unwrap();
                engine.confirm_order(id, &keyed).unwrap();
                engine
                    .tag_order(id, vec!["gift".into()], vec!["vip".into()], &staff)
                    .unwrap();
                engine
                    .add_note(id, format!("call before delivery #{i}"), &staff)
                    .unwrap();
            }
            5 => {
                engine.confirm_order(id, &staff).unwrap();
                engine.mark_paid(id, &staff).unwrap();
                engine
                    .record_shipment(id, lines(&[("L1", 2), ("L2", 1)]).unwrap(), &staff)
                    .unwrap();
                engine
                    .record_return(id, lines(&[("L2", 1)]).unwrap(), &staff)
                    .unwrap();
                engine.record_refund(id, money("60.00"), &staff).unwrap();
            }
            _ => {}
        }
    }
    for effect in engine.pending_effects(10).unwrap() {
        assert!(engine.acknowledge_effect(&effect.id).unwrap());
    }
}

/// Now on `clock`.
pub fn now(clock: &FixedClock) -> DateTime<Utc> {
    clock.now()
}
