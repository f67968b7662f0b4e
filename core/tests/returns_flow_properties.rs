//! Properties of the RMA workflow over random orders, splits and inspections, through
//! the engine: refunds never exceed what was captured; returning everything in any
//! split refunds exactly the captured total minus the policy's fees; restocked +
//! quarantined + written off never exceed received, and the ledger moved exactly as
//! inspected; store credit never goes below zero, also with threads racing to spend it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;

use common::*;
use ordersmith::engine::{CommandContext, Engine, EngineConfig};
use ordersmith::ids::{ChannelId, CustomerId, LocationId, OrderId};
use ordersmith::money::{Money, Rounding};
use ordersmith::order::{NewLine, NewOrder, Order, PaymentCommand, ShippingLine};
use ordersmith::pii::Customer;
use ordersmith::returns::{
    InspectionOutcome, ResolutionRequest, ReturnLineRequest, ReturnPolicy, ReturnReason,
    UnitInspection,
};
use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn ctx() -> CommandContext {
    CommandContext::system()
}

fn ist() -> LocationId {
    LocationId::parse("IST").unwrap()
}

/// (quantity, unit cents, discount %, tax rate index) per line.
type LineSpec = (u32, u32, u32, usize);

const RATES: [&str; 4] = ["0", "0.01", "0.10", "0.20"];

fn config(fee: &str) -> EngineConfig {
    EngineConfig {
        returns: ReturnPolicy {
            restocking_fee_rate: dec(fee),
            ..ReturnPolicy::default()
        },
        max_attempts: 1_000,
        ..EngineConfig::default()
    }
}

fn engine(fee: &str) -> Engine {
    engine_and_store(fee).0
}

fn engine_and_store(fee: &str) -> (Engine, Arc<ordersmith::ports::memory::MemoryStore>) {
    let t = test_engine();
    let engine = t.engine.clone().with_config(config(fee));
    let mut setup = vec![StockCommand::AddLocation {
        location: Location::new(ist(), "Istanbul", 1, "TR-34", LocationKind::Warehouse),
    }];
    for k in 0..3 {
        setup.push(StockCommand::RegisterVariant {
            variant: variant(&format!("SKU-{k}")),
            policy: StockPolicy::Deny,
        });
        setup.push(StockCommand::Receive {
            variant: variant(&format!("SKU-{k}")),
            location: ist(),
            quantity: 100,
            reference: None,
        });
    }
    engine.stock_batch(setup).unwrap();
    (engine, t.store)
}

/// Places, confirms, captures in full through a provider, ships and delivers.
fn delivered(engine: &Engine, lines: &[LineSpec], included: bool, shipping: u32) -> Order {
    let mut new = NewOrder::new(
        ChannelId::parse("web").unwrap(),
        at(20, 10),
        try_(),
        lines
            .iter()
            .enumerate()
            .map(|(k, (q, cents, pct, rate))| {
                let unit = Money::from_minor(i64::from(*cents), try_());
                let discount = unit
                    .times(u64::from(*q))
                    .unwrap()
                    .times_rate(Decimal::new(i64::from(*pct), 2), Rounding::TowardZero)
                    .unwrap();
                let mut line = NewLine::new(variant(&format!("SKU-{k}")), *q, unit)
                    .with_tax("KDV", dec(RATES[*rate]));
                if !discount.is_zero() {
                    line = line.with_discount(None, discount);
                }
                line
            })
            .collect(),
    );
    new.taxes_included = included;
    new.customer = Some(Customer {
        id: Some(CustomerId::parse("cust").unwrap()),
        ..Customer::default()
    });
    if shipping > 0 {
        new.shipping_lines.push(ShippingLine {
            title: "Kargo".into(),
            price: Money::from_minor(i64::from(shipping), try_()),
            tax_lines: vec![ordersmith::order::TaxLine {
                name: "KDV".into(),
                rate: dec("0.20"),
            }],
        });
    }
    let o = engine.place_order(new, &ctx()).unwrap();
    let id = o.id.clone();
    engine.confirm_order(&id, &ctx()).unwrap();
    let total = o.totals().unwrap().total;
    for step in captured_in_full(total) {
        engine.pay(&id, step, &ctx()).unwrap();
    }
    let all: Vec<_> = o
        .lines
        .iter()
        .map(|l| ordersmith::order::LineQuantity::new(l.id.clone(), l.quantity))
        .collect();
    engine.record_shipment(&id, all.clone(), &ctx()).unwrap();
    engine.record_delivery(&id, all, &ctx()).unwrap()
}

/// Units per (RMA, line): every unit of every line goes to the RMA its index names.
fn split(order: &Order, assignment: &[usize], rmas: usize) -> Vec<Vec<(String, u32)>> {
    let mut out = vec![Vec::<(String, u32)>::new(); rmas];
    let mut k = 0;
    for line in &order.lines {
        for _ in 0..line.quantity {
            let r = assignment[k % assignment.len()] % rmas;
            k += 1;
            match out[r].iter_mut().find(|(l, _)| l == line.id.as_str()) {
                Some((_, q)) => *q += 1,
                None => out[r].push((line.id.to_string(), 1)),
            }
        }
    }
    out.into_iter().filter(|r| !r.is_empty()).collect()
}

fn confirm_pending(engine: &Engine, id: &OrderId, tag: &str) {
    let o = engine.order(id).unwrap();
    let pending = o.payments[0].refund_pending;
    if !pending.is_zero() {
        engine
            .pay(
                id,
                PaymentCommand::ConfirmRefund {
                    payment: "P1".into(),
                    provider_ref: tag.into(),
                    amount: pending,
                },
                &ctx(),
            )
            .unwrap();
    }
}

/// Runs one RMA through to a refund; inspection outcomes cycle through `outcomes`.
fn refund_rma(
    engine: &Engine,
    id: &OrderId,
    lines: &[(String, u32)],
    reason: ReturnReason,
    outcomes: &[u8],
) -> Money {
    let asked = lines
        .iter()
        .map(|(l, q)| ReturnLineRequest {
            line_id: line_id(l),
            quantity: *q,
            reason,
            opened: false,
        })
        .collect();
    let o = engine
        .request_return(id, asked, None, vec![], &ctx())
        .unwrap();
    let r = o.rmas.last().unwrap().id.clone();
    let got = lines.iter().map(|(l, q)| lq(l, *q)).collect();
    engine.receive_return(id, &r, ist(), got, &ctx()).unwrap();
    let mut units = Vec::new();
    let mut k = 0;
    for (l, q) in lines {
        for _ in 0..*q {
            let outcome = match outcomes[k % outcomes.len()] % 3 {
                0 => InspectionOutcome::Resellable,
                1 => InspectionOutcome::Quarantine,
                _ => InspectionOutcome::WriteOff,
            };
            k += 1;
            units.push(UnitInspection {
                line_id: line_id(l),
                outcome,
                quantity: 1,
                note: None,
            });
        }
    }
    engine.inspect_return(id, &r, units, &ctx()).unwrap();
    let o = engine
        .resolve_return(id, &r, ResolutionRequest::Refund, &ctx())
        .unwrap();
    confirm_pending(engine, id, &r);
    o.rma(&r)
        .unwrap()
        .resolution
        .as_ref()
        .unwrap()
        .breakdown()
        .total
}

fn line_specs() -> impl Strategy<Value = Vec<LineSpec>> {
    prop::collection::vec((1u32..5, 1u32..20_000, 0u32..40, 0usize..4), 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Returning everything, split at random over up to four RMAs, refunds exactly the
    /// captured total when the shop is at fault (shipping refunded, no fee), and the
    /// captured total minus shipping minus each line's fee (rounded half-even on the
    /// goods without tax) when the customer is; never more than captured on the way.
    #[test]
    fn returning_everything_in_any_split_refunds_captured_minus_policy_fees(
        lines in line_specs(),
        included in any::<bool>(),
        shipping in 0u32..3_000,
        assignment in prop::collection::vec(0usize..4, 1..16),
        rmas in 1usize..5,
        shop_at_fault in any::<bool>(),
        outcomes in prop::collection::vec(0u8..3, 1..8),
    ) {
        let engine = engine("0.15");
        let order = delivered(&engine, &lines, included, shipping);
        let id = order.id.clone();
        let captured = order.amount_paid;
        let reason = if shop_at_fault { ReturnReason::Defective } else { ReturnReason::ChangedMind };
        let mut refunded = Money::zero(try_());
        for part in split(&order, &assignment, rmas) {
            refunded = refunded.checked_add(&refund_rma(&engine, &id, &part, reason, &outcomes)).unwrap();
            let now = engine.order(&id).unwrap();
            prop_assert!(now.amount_refunded.amount() <= captured.amount());
            prop_assert_eq!(now.amount_refunded, refunded);
        }
        let expected = if shop_at_fault {
            captured
        } else {
            let mut fees = Money::zero(try_());
            for l in &order.lines {
                let a = l.amounts(order.taxes_included).unwrap();
                let goods = a.total.checked_sub(&a.tax).unwrap();
                fees = fees.checked_add(&goods.times_rate(dec("0.15"), Rounding::HalfEven).unwrap()).unwrap();
            }
            let totals = order.totals().unwrap();
            let shipping_gross = if order.taxes_included {
                totals.shipping_total
            } else {
                // Shipping tax is 20 % of each shipping line, as charged.
                totals.shipping_total.checked_add(
                    &totals.shipping_total.times_rate(dec("0.20"), Rounding::HalfEven).unwrap(),
                ).unwrap()
            };
            captured.checked_sub(&shipping_gross).unwrap().checked_sub(&fees).unwrap()
        };
        prop_assert_eq!(refunded, expected);
        // The ledger moved exactly as inspected, and no RMA line inspected more than it received.
        let o = engine.order(&id).unwrap();
        let (mut restocked, mut quarantined, mut written_off) = (0i64, 0i64, 0i64);
        for r in &o.rmas {
            for l in &r.lines {
                prop_assert!(l.restocked + l.quarantined + l.written_off <= l.received);
                restocked += i64::from(l.restocked);
                quarantined += i64::from(l.quarantined);
                written_off += i64::from(l.written_off);
            }
        }
        let (on_hand, q) = engine.with_stock(|ledger| {
            (0..lines.len()).fold((0i64, 0i64), |(a, b), k| {
                let bal = ledger.balance(&variant(&format!("SKU-{k}")), &ist());
                (a + bal.on_hand, b + bal.quarantined)
            })
        }).unwrap();
        let sold: i64 = lines.iter().map(|l| i64::from(l.0)).sum();
        prop_assert_eq!(on_hand, 100 * lines.len() as i64 - sold + restocked);
        prop_assert_eq!(q, quarantined);
        let _ = written_off;
    }

    /// Random return steps, some out of order or too large: every refused step changes
    /// nothing, refunds (asked and confirmed) never exceed what was captured, and
    /// inspected units never exceed received ones.
    #[test]
    fn random_steps_never_refund_more_than_captured_nor_inspect_more_than_received(
        lines in line_specs(),
        steps in prop::collection::vec((0u8..5, 0usize..3, 0u32..4, 0u8..3), 1..30),
    ) {
        let engine = engine("0.10");
        let order = delivered(&engine, &lines, true, 990);
        let id = order.id.clone();
        let captured = order.amount_paid;
        for (k, (kind, line, qty, outcome)) in steps.into_iter().enumerate() {
            let before = engine.order(&id).unwrap();
            let line_name = format!("L{}", line + 1);
            let rma = before.rmas.last().map(|r| r.id.clone()).unwrap_or_else(|| "R1".into());
            let result = match kind {
                0 => engine.request_return(
                    &id,
                    vec![ReturnLineRequest { line_id: line_id(&line_name), quantity: qty, reason: ReturnReason::Damaged, opened: false }],
                    None, vec![], &ctx()),
                1 => engine.receive_return(&id, &rma, ist(), vec![lq(&line_name, qty)], &ctx()),
                2 => engine.inspect_return(&id, &rma, vec![UnitInspection {
                    line_id: line_id(&line_name),
                    outcome: [InspectionOutcome::Resellable, InspectionOutcome::Quarantine, InspectionOutcome::WriteOff][outcome as usize],
                    quantity: qty, note: None }], &ctx()),
                3 => engine.resolve_return(&id, &rma, ResolutionRequest::Refund, &ctx()),
                _ => {
                    confirm_pending(&engine, &id, &format!("x{k}"));
                    engine.order(&id)
                }
            };
            let after = engine.order(&id).unwrap();
            if result.is_err() {
                prop_assert_eq!(&after, &before);
            }
            let pending = after.payments[0].refund_pending;
            prop_assert!(after.amount_refunded.checked_add(&pending).unwrap().amount() <= captured.amount());
            for r in &after.rmas {
                for l in &r.lines {
                    prop_assert!(l.restocked + l.quarantined + l.written_off <= l.received);
                    prop_assert!(l.received <= l.quantity);
                }
            }
        }
    }

    /// Store credit issued and spent in any order never goes below zero; a refused
    /// spend changes nothing.
    #[test]
    fn store_credit_never_goes_below_zero(ops in prop::collection::vec((any::<bool>(), 1i64..5_000), 1..40)) {
        use ordersmith::returns::{CreditAccount, CreditEntryKind};
        let mut account = CreditAccount::open(CustomerId::parse("c").unwrap(), try_());
        let order = OrderId::parse("o-1").unwrap();
        for (issue, cents) in ops {
            let amount = Money::from_minor(cents, try_());
            let kind = if issue { CreditEntryKind::Issued } else { CreditEntryKind::Spent };
            match account.post(kind, amount, order.clone(), None, at(20, 10)) {
                Ok(next) => {
                    prop_assert_eq!(next.version, account.version + 1);
                    account = next;
                }
                Err(e) => {
                    prop_assert!(!issue);
                    prop_assert_eq!(e.code(), "RETURNS_CREDIT_INSUFFICIENT");
                    prop_assert!(amount.amount() > account.balance.amount());
                }
            }
            prop_assert!(!account.balance.is_negative());
        }
    }
}

/// Eight engines on one store (each its own writer, as in separate processes), on
/// eight threads, race to spend the same 100.00 of store credit, 30.00 each, on their
/// own orders: exactly three win, and the balance ends at 10.00.
#[test]
fn engines_racing_to_spend_store_credit_never_overdraw_it() {
    let (engine, store) = engine_and_store("0");
    let order = delivered(&engine, &[(4, 5_000, 0, 0)], true, 0);
    let o = engine
        .request_return(
            &order.id,
            vec![ReturnLineRequest {
                line_id: line_id("L1"),
                quantity: 2,
                reason: ReturnReason::Defective,
                opened: false,
            }],
            None,
            vec![],
            &ctx(),
        )
        .unwrap();
    let r = o.rmas.last().unwrap().id.clone();
    engine
        .receive_return(&order.id, &r, ist(), vec![lq("L1", 2)], &ctx())
        .unwrap();
    engine
        .inspect_return(
            &order.id,
            &r,
            vec![UnitInspection {
                line_id: line_id("L1"),
                outcome: InspectionOutcome::Resellable,
                quantity: 2,
                note: None,
            }],
            &ctx(),
        )
        .unwrap();
    engine
        .resolve_return(&order.id, &r, ResolutionRequest::StoreCredit, &ctx())
        .unwrap();
    let customer = CustomerId::parse("cust").unwrap();
    assert_eq!(
        engine.store_credit(&customer).unwrap().unwrap().balance,
        money("100.00")
    );
    let orders: Vec<OrderId> = (0..8)
        .map(|_| {
            let mut new = NewOrder::new(
                ChannelId::parse("web").unwrap(),
                at(21, 10),
                try_(),
                vec![NewLine::new(variant("SKU-0"), 1, money("30.00"))],
            );
            new.customer = Some(Customer {
                id: Some(customer.clone()),
                ..Customer::default()
            });
            engine.place_order(new, &ctx()).unwrap().id
        })
        .collect();
    let barrier = Arc::new(std::sync::Barrier::new(orders.len()));
    let handles: Vec<_> = orders
        .into_iter()
        .map(|id| {
            let own = Engine::new(
                store.clone(),
                store.clone(),
                Arc::new(ordersmith::ports::memory::FixedClock::new(at(21, 11))),
                Arc::new(ordersmith::ports::memory::SequentialIds::new()),
            )
            .with_config(config("0"));
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                own.spend_store_credit(&id, money("30.00"), &ctx())
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 3);
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(r.code(), "RETURNS_CREDIT_INSUFFICIENT");
    }
    let account = engine.store_credit(&customer).unwrap().unwrap();
    assert_eq!(account.balance, money("10.00"));
    assert_eq!(account.entries.len(), 4);
}
