//! Walks every (status, command) pair against the documented transition table, and
//! drives random command sequences through the engine checking the order invariants.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use ordersmith::engine::{CommandContext, Engine};
use ordersmith::ids::OrderId;
use ordersmith::money::Money;
use ordersmith::order::{
    decide, place, transition, CancelReason, FulfilmentCommand, HoldReason, LineEdit, NewLine,
    Order, OrderCommand, OrderCommandKind, OrderError, OrderEvent, OrderStatus, PaymentCommand,
    Target,
};
use proptest::prelude::*;

fn apply_all(order: &mut Order, command: OrderCommand) {
    for e in decide(order, &command).unwrap() {
        order.apply(&e);
    }
}

fn base() -> Order {
    let OrderEvent::Placed(placed) = place(&sample_order("web")).unwrap() else {
        unreachable!()
    };
    let mut o = Order::from_placed(oid("o-1"), &placed);
    // A fulfilment order to run warehouse steps on (the engine opens it on confirm).
    o.apply(&OrderEvent::FulfilmentOpened {
        fulfilment: "F1".into(),
        location: ordersmith::ids::LocationId::parse("IST").unwrap(),
    });
    apply_all(
        &mut o,
        OrderCommand::RecordPayment {
            amount: money("10"),
        },
    );
    // A provider payment of 5, captured: something to refund in every status.
    for step in captured_in_full(money("5")) {
        apply_all(&mut o, OrderCommand::Pay(step));
    }
    o
}

fn with(mut o: Order, commands: Vec<OrderCommand>) -> Order {
    for c in commands {
        apply_all(&mut o, c);
    }
    o
}

fn ship(lines: &[(&str, u32)]) -> OrderCommand {
    OrderCommand::RecordShipment {
        lines: lines.iter().map(|(l, q)| lq(l, *q)).collect(),
    }
}

fn deliver(lines: &[(&str, u32)]) -> OrderCommand {
    OrderCommand::RecordDelivery {
        lines: lines.iter().map(|(l, q)| lq(l, *q)).collect(),
    }
}

fn hold() -> OrderCommand {
    OrderCommand::Hold {
        reason: HoldReason::FraudReview,
        note: None,
    }
}

/// Orders in `status`, in the situations the guards care about.
fn fixtures(status: OrderStatus) -> Vec<Order> {
    let confirmed = with(base(), vec![OrderCommand::Confirm]);
    let partly = with(confirmed.clone(), vec![ship(&[("L1", 1)])]);
    let fully = with(confirmed.clone(), vec![ship(&[("L1", 2), ("L2", 1)])]);
    let delivered = with(fully.clone(), vec![deliver(&[("L1", 1)])]);
    let orders = match status {
        OrderStatus::Pending => vec![base()],
        OrderStatus::Confirmed => vec![confirmed],
        OrderStatus::OnHold => vec![with(base(), vec![hold()]), with(confirmed, vec![hold()])],
        OrderStatus::Processing => vec![partly, fully, delivered.clone()],
        OrderStatus::Completed => vec![with(delivered, vec![OrderCommand::Complete])],
        OrderStatus::Cancelled => vec![with(
            base(),
            vec![OrderCommand::Cancel {
                reason: CancelReason::Customer,
            }],
        )],
    };
    for o in &orders {
        assert_eq!(o.status, status);
    }
    orders
}

fn candidates(kind: OrderCommandKind) -> Vec<OrderCommand> {
    let one = |l: &str| vec![lq(l, 1)];
    match kind {
        OrderCommandKind::Place => vec![OrderCommand::Place {
            order_id: oid("o-1"),
            order: Box::new(sample_order("web")),
        }],
        OrderCommandKind::Confirm => vec![OrderCommand::Confirm],
        OrderCommandKind::Hold => vec![hold()],
        OrderCommandKind::ReleaseHold => vec![OrderCommand::ReleaseHold],
        OrderCommandKind::Cancel => vec![OrderCommand::Cancel {
            reason: CancelReason::Staff,
        }],
        OrderCommandKind::CancelLines => ["L1", "L2"]
            .iter()
            .map(|l| OrderCommand::CancelLines {
                lines: one(l),
                reason: CancelReason::Inventory,
            })
            .collect(),
        OrderCommandKind::EditLines => vec![OrderCommand::EditLines {
            edits: vec![LineEdit::Add {
                line: NewLine::new(variant("SOCKS"), 1, money("5")),
            }],
        }],
        OrderCommandKind::RecordPayment => vec![OrderCommand::RecordPayment { amount: money("1") }],
        OrderCommandKind::RecordRefund => vec![OrderCommand::RecordRefund { amount: money("1") }],
        OrderCommandKind::RecordShipment => ["L1", "L2"]
            .iter()
            .map(|l| OrderCommand::RecordShipment { lines: one(l) })
            .collect(),
        OrderCommandKind::RecordDelivery => ["L1", "L2"]
            .iter()
            .map(|l| OrderCommand::RecordDelivery { lines: one(l) })
            .collect(),
        OrderCommandKind::RecordReturn => ["L1", "L2"]
            .iter()
            .map(|l| OrderCommand::RecordReturn { lines: one(l) })
            .collect(),
        OrderCommandKind::Complete => vec![OrderCommand::Complete],
        OrderCommandKind::Tag => vec![OrderCommand::Tag {
            add: vec!["vip".into()],
            remove: vec![],
        }],
        OrderCommandKind::AddNote => vec![OrderCommand::AddNote {
            note: "called the customer".into(),
        }],
        OrderCommandKind::Pay => vec![
            OrderCommand::Pay(PaymentCommand::Authorise {
                provider: "iyzico".into(),
                method: Some("card".into()),
                amount: money("1"),
            }),
            OrderCommand::Pay(PaymentCommand::Refund {
                payment: "P1".into(),
                amount: money("1"),
            }),
        ],
        OrderCommandKind::Fulfil => vec![OrderCommand::Fulfil(FulfilmentCommand::Hold {
            fulfilment: "F1".into(),
            reason: "waiting for gift wrap".into(),
        })],
    }
}

/// The status `target` leads to from `before`, given the order after the events.
fn target_allows(target: Target, before: &Order, after: &Order) -> bool {
    match target {
        Target::To(s) => after.status == s,
        Target::Same => after.status == before.status,
        Target::Previous => before.hold.as_ref().map(|h| h.previous) == Some(after.status),
        Target::SameOrCancelled => {
            after.status == before.status || after.status == OrderStatus::Cancelled
        }
        Target::SameOrProcessing => {
            after.status == before.status || after.status == OrderStatus::Processing
        }
    }
}

#[test]
fn every_status_command_pair_follows_the_table() {
    let mut checked = 0;
    for status in OrderStatus::ALL {
        for kind in OrderCommandKind::ALL {
            let row = transition(status, kind);
            let mut successes = 0;
            for order in fixtures(status) {
                for command in candidates(kind) {
                    checked += 1;
                    match (decide(&order, &command), row) {
                        (Err(OrderError::AlreadyExists { .. }), _)
                            if kind == OrderCommandKind::Place => {}
                        (Err(e @ OrderError::InvalidTransition { .. }), None) => {
                            assert_eq!(
                                e,
                                OrderError::InvalidTransition {
                                    status,
                                    command: kind
                                }
                            );
                            let text = e.to_string();
                            assert!(text.contains(status.as_str()) && text.contains(kind.as_str()));
                        }
                        (Ok(events), Some(target)) => {
                            let mut after = order.clone();
                            for e in &events {
                                after.apply(e);
                            }
                            assert!(
                                target_allows(target, &order, &after),
                                "{status} --{kind}--> {} breaks {target:?}",
                                after.status
                            );
                            successes += 1;
                        }
                        (Err(e), Some(_)) => assert_ne!(e.code(), "ORDER_INVALID_TRANSITION"),
                        (other, None) => {
                            panic!("{status} + {kind} has no table row but gave {other:?}")
                        }
                    }
                }
            }
            if row.is_some() {
                assert!(
                    successes > 0,
                    "{status} + {kind} is in the table but never succeeded"
                );
            }
        }
    }
    assert!(checked > 150);
}

// ---- random command sequences through the engine ----

#[derive(Debug, Clone)]
enum Op {
    Confirm,
    Hold(u8),
    Release,
    Cancel,
    CancelLine(u8, u32),
    EditAdd(u32),
    EditSet(u8, u32),
    EditRemove(u8),
    Pay(u32),
    Refund(u32),
    Ship(u8, u32),
    Deliver(u8, u32),
    Return(u8, u32),
    Complete,
    Tag(u8),
    Note,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Confirm),
        (0u8..3).prop_map(Op::Hold),
        Just(Op::Release),
        Just(Op::Cancel),
        (0u8..4, 0u32..4).prop_map(|(l, q)| Op::CancelLine(l, q)),
        (0u32..4).prop_map(Op::EditAdd),
        (0u8..4, 0u32..5).prop_map(|(l, q)| Op::EditSet(l, q)),
        (0u8..4).prop_map(Op::EditRemove),
        (0u32..40_000).prop_map(Op::Pay),
        (0u32..40_000).prop_map(Op::Refund),
        (0u8..4, 0u32..4).prop_map(|(l, q)| Op::Ship(l, q)),
        (0u8..4, 0u32..4).prop_map(|(l, q)| Op::Deliver(l, q)),
        (0u8..4, 0u32..4).prop_map(|(l, q)| Op::Return(l, q)),
        Just(Op::Complete),
        (0u8..4).prop_map(Op::Tag),
        Just(Op::Note),
    ]
}

fn command(op: &Op) -> OrderCommand {
    let line = |l: &u8| line_id(&format!("L{}", l + 1));
    let lines = |l: &u8, q: &u32| vec![ordersmith::order::LineQuantity::new(line(l), *q)];
    match op {
        Op::Confirm => OrderCommand::Confirm,
        Op::Hold(r) => OrderCommand::Hold {
            reason: [
                HoldReason::FraudReview,
                HoldReason::AddressCheck,
                HoldReason::Payment,
            ][usize::from(*r)],
            note: None,
        },
        Op::Release => OrderCommand::ReleaseHold,
        Op::Cancel => OrderCommand::Cancel {
            reason: CancelReason::Customer,
        },
        Op::CancelLine(l, q) => OrderCommand::CancelLines {
            lines: lines(l, q),
            reason: CancelReason::Inventory,
        },
        Op::EditAdd(q) => OrderCommand::EditLines {
            edits: vec![LineEdit::Add {
                line: NewLine::new(variant("SOCKS"), *q, money("12.99"))
                    .with_tax("KDV", dec("0.10"))
                    .with_discount(None, money("0.01")),
            }],
        },
        Op::EditSet(l, q) => OrderCommand::EditLines {
            edits: vec![LineEdit::SetQuantity {
                line_id: line(l),
                quantity: *q,
            }],
        },
        Op::EditRemove(l) => OrderCommand::EditLines {
            edits: vec![LineEdit::Remove { line_id: line(l) }],
        },
        Op::Pay(cents) => OrderCommand::RecordPayment {
            amount: Money::from_minor(i64::from(*cents), try_()),
        },
        Op::Refund(cents) => OrderCommand::RecordRefund {
            amount: Money::from_minor(i64::from(*cents), try_()),
        },
        Op::Ship(l, q) => OrderCommand::RecordShipment { lines: lines(l, q) },
        Op::Deliver(l, q) => OrderCommand::RecordDelivery { lines: lines(l, q) },
        Op::Return(l, q) => OrderCommand::RecordReturn { lines: lines(l, q) },
        Op::Complete => OrderCommand::Complete,
        Op::Tag(t) => OrderCommand::Tag {
            add: vec![format!("tag{t}")],
            remove: vec![format!("tag{}", (t + 1) % 4)],
        },
        Op::Note => OrderCommand::AddNote {
            note: "note".into(),
        },
    }
}

fn check_invariants(order: &Order) {
    let totals = order.totals().unwrap();
    let mut expected = totals
        .subtotal
        .checked_sub(&totals.discount_total)
        .unwrap()
        .checked_add(&totals.shipping_total)
        .unwrap();
    if !order.taxes_included {
        expected = expected.checked_add(&totals.tax_total).unwrap();
    }
    assert_eq!(totals.total, expected, "total is the sum of its parts");
    let line_sum = Money::sum(
        order.currency,
        &order
            .lines
            .iter()
            .map(|l| l.amounts(order.taxes_included).unwrap().total)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(line_sum.amount() <= totals.total.amount());
    for l in &order.lines {
        let q = l.fulfilment;
        assert!(q.cancelled + q.shipped <= l.quantity, "{l:?}");
        assert!(q.delivered <= q.shipped && q.returned <= q.shipped, "{l:?}");
    }
    assert!(order.amount_refunded.amount() <= order.amount_paid.amount());
    assert_eq!(order.hold.is_some(), order.status == OrderStatus::OnHold);
}

fn snapshot(engine: &Engine, id: &OrderId) -> (String, usize) {
    (
        serde_json::to_string(&engine.order(id).unwrap()).unwrap(),
        engine.order_history(id).unwrap().len(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_command_sequences_keep_every_invariant(
        taxes_included in any::<bool>(),
        ops in prop::collection::vec((op(), any::<bool>()), 1..40),
    ) {
        let t = test_engine();
        let mut new = sample_order("web");
        new.taxes_included = taxes_included;
        let id = t.engine.place_order(new, &CommandContext::system()).unwrap().id;
        for (i, (op, keyed)) in ops.iter().enumerate() {
            let before = t.engine.order(&id).unwrap();
            let before_snapshot = snapshot(&t.engine, &id);
            let ctx = if *keyed {
                CommandContext::system().with_idempotency_key(format!("k{i}"))
            } else {
                CommandContext::system()
            };
            let cmd = command(op);
            match t.engine.execute(&id, cmd.clone(), &ctx) {
                Ok(after) => {
                    // The table was not bypassed.
                    let target = transition(before.status, cmd.kind());
                    prop_assert!(target.is_some(), "{} + {} succeeded without a row", before.status, cmd.kind());
                    if let Some(target) = target {
                        prop_assert!(target_allows(target, &before, &after));
                    }
                    check_invariants(&after);
                    // State is the fold of events.
                    let history = t.engine.order_history(&id).unwrap();
                    prop_assert_eq!(Order::replay(&history).unwrap(), after.clone());
                    // Repeating a keyed command changes nothing and returns the first result.
                    if *keyed {
                        let after_snapshot = snapshot(&t.engine, &id);
                        let again = t.engine.execute(&id, cmd, &ctx).unwrap();
                        prop_assert_eq!(again, after);
                        prop_assert_eq!(snapshot(&t.engine, &id), after_snapshot);
                    }
                }
                Err(e) => {
                    // A refused command leaves the order byte-for-byte unchanged.
                    prop_assert_eq!(snapshot(&t.engine, &id), before_snapshot, "{} changed state", e.code());
                    prop_assert!(!e.to_string().is_empty());
                }
            }
        }
    }
}
