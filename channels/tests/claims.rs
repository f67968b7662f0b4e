//! Channel claims and returns become events, reported once per order.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{d, fixture};
use ordersmith::engine::Engine;
use ordersmith_channels::intake::{
    ClaimDecision, ImportOutcome, Intake, IntakeLog, IntakeOptions, MemoryIntakeLog, RmaUpdate,
    SeenClaim, SeenOrder,
};
use ordersmith_channels::mapping::MemoryIdentifierMap;
use ordersmith_channels::{parse_events, Channel, ChannelEvent};

#[test]
fn trendyol_claim_with_its_line_and_status() {
    let events = parse_events(Channel::Trendyol, &fixture("claims/trendyol_claims.json")).unwrap();
    assert_eq!(
        events,
        vec![ChannelEvent {
            kind: "claim".into(),
            order_external_id: Some("10654411111".into()),
            external_id: "8f6a1c2e-0000-4000-8000-0000000000c1".into(),
            status: Some("WaitingInAction".into()),
            amount: None,
            lines: vec![("1001".into(), 1)],
            reason: Some("Damaged product".into()),
            restock: false,
        }]
    );
}

#[test]
fn hepsiburada_and_ebay_returns() {
    let hb = parse_events(
        Channel::Hepsiburada,
        &fixture("claims/hepsiburada_claims.json"),
    )
    .unwrap();
    assert_eq!(
        (hb[0].kind.as_str(), hb[0].external_id.as_str()),
        ("return", "CLM-77")
    );
    assert_eq!(hb[0].amount, Some(d("89.9")));
    assert_eq!(
        hb[0].lines,
        vec![("5f1c2a9e-0000-4000-8000-000000000001".to_string(), 1)]
    );
    let eb = parse_events(Channel::Ebay, &fixture("claims/ebay_returns.json")).unwrap();
    assert_eq!(eb[0].status.as_deref(), Some("RETURN_STARTED"));
    assert_eq!(eb[0].order_external_id.as_deref(), Some("12-12345-12345"));
    assert_eq!(eb[0].reason.as_deref(), Some("NOT_AS_DESCRIBED"));
    // Channels whose refunds live in the order payload have no separate feed.
    assert!(parse_events(Channel::Shopify, b"{}").unwrap().is_empty());
}

#[test]
fn malformed_claims_are_typed_with_their_path() {
    let e = parse_events(Channel::Hepsiburada, br#"{"items": [{"claimNumber": "1", "orderNumber": "2", "quantity": -1, "line": {"lineItemId": "x"}}]}"#).unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        ("CHANNEL_INVALID_QUANTITY", "$.items[0].quantity")
    );
    let e = parse_events(Channel::Ebay, br#"{"members": [{"orderId": "1"}]}"#).unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        ("CHANNEL_MISSING_FIELD", "$.members[0].returnId")
    );
    assert_eq!(
        parse_events(Channel::Trendyol, b"{\"content\": [")
            .unwrap_err()
            .code(),
        "CHANNEL_MALFORMED_JSON"
    );
}

#[test]
fn events_attach_to_imported_orders_once() {
    let engine = Engine::in_memory();
    let (map, log) = (MemoryIdentifierMap::new(), MemoryIntakeLog::default());
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let claims = fixture("claims/trendyol_claims.json");
    // Before the order is imported: reported, with no order.
    let early = intake.import_events(Channel::Trendyol, &claims).unwrap();
    assert_eq!((early[0].order_id.clone(), early[0].new), (None, true));
    let order = imported(&intake, Channel::Trendyol, "trendyol/new_names.json");
    let first = intake.import_events(Channel::Trendyol, &claims).unwrap();
    assert_eq!(
        (first[0].order_id.clone(), first[0].new),
        (Some(order.id.clone()), true)
    );
    let again = intake.import_events(Channel::Trendyol, &claims).unwrap();
    assert!(!again[0].new);
    assert_eq!(
        engine.order(&order.id).unwrap().version,
        order.version,
        "the order itself is unchanged"
    );
}

/// A marketplace claim on a delivered order becomes an RMA in the core's returns
/// workflow: its line mapped, its reason read from the shopper's label, asked once.
#[test]
fn a_claim_on_a_delivered_order_becomes_an_rma_once() {
    use ordersmith::engine::CommandContext;
    use ordersmith::ids::{LocationId, VariantId};
    use ordersmith::order::LineQuantity;
    use ordersmith::returns::{ReturnReason, RmaStatus};
    use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};
    use ordersmith_channels::mapping::Listing;
    let engine = Engine::in_memory();
    let (map, log) = (MemoryIdentifierMap::new(), MemoryIntakeLog::default());
    let wh = LocationId::parse("WH").unwrap();
    let mut cmds = vec![StockCommand::AddLocation {
        location: Location::new(wh.clone(), "Warehouse", 1, "TR-34", LocationKind::Warehouse),
    }];
    for (sku, barcode) in [("TEA", "8690000000011"), ("CUP", "8690000000028")] {
        let v = VariantId::parse(sku).unwrap();
        cmds.push(StockCommand::RegisterVariant {
            variant: v.clone(),
            policy: StockPolicy::Deny,
        });
        cmds.push(StockCommand::Receive {
            variant: v.clone(),
            location: wh.clone(),
            quantity: 10,
            reference: None,
        });
        let listing = Listing {
            barcode: Some(barcode.into()),
            ..Listing::default()
        };
        map.set_listing("trendyol", &v, listing).unwrap();
    }
    engine.stock_batch(cmds).unwrap();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let order = imported(&intake, Channel::Trendyol, "trendyol/new_names.json");
    let l1 = order.lines[0].id.clone();
    let ctx = CommandContext::system();
    let units = vec![LineQuantity::new(l1.clone(), 2)];
    engine
        .record_shipment(&order.id, units.clone(), &ctx)
        .unwrap();
    engine.record_delivery(&order.id, units, &ctx).unwrap();
    let claims = fixture("claims/trendyol_claims.json");
    let first = intake.import_events(Channel::Trendyol, &claims).unwrap();
    assert_eq!(
        first[0].rma.as_deref(),
        Some("R1"),
        "{:?}",
        first[0].rma_failed
    );
    let after = engine.order(&order.id).unwrap();
    let rma = after.rma("R1").unwrap();
    assert_eq!(rma.status, RmaStatus::Approved);
    assert_eq!(rma.lines[0].line_id, l1);
    assert_eq!(rma.lines[0].quantity, 1);
    assert_eq!(rma.lines[0].reason, ReturnReason::Damaged);
    // Delivered again: reported as seen, no second RMA.
    let again = intake.import_events(Channel::Trendyol, &claims).unwrap();
    assert!(!again[0].new && again[0].rma.is_none());
    assert_eq!(engine.order(&order.id).unwrap().rmas.len(), 1);
}

#[test]
fn channel_reason_labels_map_to_reason_codes() {
    use ordersmith::returns::ReturnReason::*;
    use ordersmith_channels::intake::return_reason;
    for (text, reason) in [
        (Some("Beden uymadı"), WrongSize),
        (Some("WRONG_SIZE"), WrongSize),
        (Some("Damaged product"), Damaged),
        (Some("Ürün hasarlı geldi"), Damaged),
        (Some("DEFECTIVE_ITEM"), Defective),
        (Some("NOT_AS_DESCRIBED"), NotAsDescribed),
        (Some("Ürün açıklamadaki gibi değil"), NotAsDescribed),
        (Some("Vazgeçtim"), ChangedMind),
        (Some("Arrived too late"), LateDelivery),
        (Some("Kargo gecikti"), LateDelivery),
        (Some("something else"), Other),
        (None, Other),
    ] {
        assert_eq!(return_reason(text), reason, "{text:?}");
    }
}

/// An engine with `skus` (10 each at WH), each listed on `channel` by its SKU.
fn stocked(channel: &str, skus: &[(&str, &str)]) -> (Engine, MemoryIdentifierMap) {
    use ordersmith::ids::VariantId;
    use ordersmith_channels::mapping::Listing;
    let variants: Vec<&str> = skus.iter().map(|(variant, _)| *variant).collect();
    let engine = common::stocked_engine(&variants, Vec::new());
    let map = MemoryIdentifierMap::new();
    for (variant, sku) in skus {
        let listing = Listing {
            sku: Some((*sku).into()),
            ..Listing::default()
        };
        map.set_listing(channel, &VariantId::parse(*variant).unwrap(), listing)
            .unwrap();
    }
    (engine, map)
}

/// The order `intake` makes of the fixture at `path`.
fn imported(intake: &Intake<'_>, channel: Channel, path: &str) -> ordersmith::order::Order {
    intake
        .import_payload(channel, &fixture(path))
        .unwrap()
        .order
        .unwrap()
}

/// Ships and delivers `units` of the order's line `ext` (its channel line id).
fn deliver(engine: &Engine, order: &ordersmith::order::Order, ext: &str, units: u32) {
    use ordersmith::engine::CommandContext;
    use ordersmith::order::LineQuantity;
    let line = order
        .lines
        .iter()
        .find(|l| l.external_ref.as_deref() == Some(ext))
        .unwrap();
    let units = vec![LineQuantity::new(line.id.clone(), units)];
    let ctx = CommandContext::system();
    engine
        .record_shipment(&order.id, units.clone(), &ctx)
        .unwrap();
    engine.record_delivery(&order.id, units, &ctx).unwrap();
}

/// An eBay return names the listing (`itemId`, the order line's `legacyItemId`), not
/// the order line (`lineItemId`): it becomes an RMA on the line sold from that listing.
#[test]
fn an_ebay_return_becomes_an_rma_on_the_line_sold_from_its_listing() {
    let (engine, map) = stocked("ebay", &[("MUG", "MUG-RED"), ("PIN", "PIN")]);
    let log = MemoryIntakeLog::default();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let order = imported(&intake, Channel::Ebay, "ebay/paid_promotion.json");
    // Line 10000000001 (MUG, listing 110000000001) delivered.
    deliver(&engine, &order, "10000000001", 3);
    let returns = fixture("claims/ebay_returns.json");
    let first = intake.import_events(Channel::Ebay, &returns).unwrap();
    assert_eq!(
        first[0].rma.as_deref(),
        Some("R1"),
        "{:?}",
        first[0].rma_failed
    );
    let after = engine.order(&order.id).unwrap();
    let rma = after.rma("R1").unwrap();
    let mug = after
        .lines
        .iter()
        .find(|l| l.external_ref.as_deref() == Some("10000000001"))
        .unwrap();
    assert_eq!((&rma.lines[0].line_id, rma.lines[0].quantity), (&mug.id, 1));
    assert_eq!(
        rma.lines[0].reason,
        ordersmith::returns::ReturnReason::NotAsDescribed
    );
    let again = intake.import_events(Channel::Ebay, &returns).unwrap();
    assert!(!again[0].new && again[0].rma.is_none() && again[0].rma_failed.is_none());
    assert_eq!(engine.order(&order.id).unwrap().rmas.len(), 1);
}

/// A claim that arrives before the delivery it returns is synced fails, and is asked
/// again on the feed's next delivery once the units are delivered (it was recorded as
/// done and never retried).
#[test]
fn a_claim_before_its_delivery_becomes_an_rma_once_delivered() {
    let (engine, map) = stocked("trendyol", &[("TEA", "TEA-500"), ("CUP", "CUP")]);
    let log = MemoryIntakeLog::default();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let order = imported(&intake, Channel::Trendyol, "trendyol/new_names.json");
    let claims = fixture("claims/trendyol_claims.json");
    let early = intake.import_events(Channel::Trendyol, &claims).unwrap();
    assert!(early[0].new && early[0].rma.is_none());
    assert_eq!(
        early[0].rma_failed.as_ref().map(|f| f.code.as_str()),
        Some("RETURNS_NOT_RETURNABLE")
    );
    deliver(&engine, &order, "1001", 2);
    let later = intake.import_events(Channel::Trendyol, &claims).unwrap();
    assert!(!later[0].new, "reported once");
    assert_eq!(
        later[0].rma.as_deref(),
        Some("R1"),
        "{:?}",
        later[0].rma_failed
    );
    let again = intake.import_events(Channel::Trendyol, &claims).unwrap();
    assert!(again[0].rma.is_none() && again[0].rma_failed.is_none());
    assert_eq!(engine.order(&order.id).unwrap().rmas.len(), 1);
}

/// A return naming a listing the order was not sold from is refused for good: typed,
/// reported once, not asked again, and the order is untouched.
#[test]
fn an_ebay_return_of_another_listing_is_refused_for_good() {
    let (engine, map) = stocked("ebay", &[("MUG", "MUG-RED"), ("PIN", "PIN")]);
    let log = MemoryIntakeLog::default();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let order = imported(&intake, Channel::Ebay, "ebay/paid_promotion.json");
    deliver(&engine, &order, "10000000001", 3);
    let version = engine.order(&order.id).unwrap().version;
    let returns = String::from_utf8(fixture("claims/ebay_returns.json"))
        .unwrap()
        .replace("110000000001", "119999999999");
    let first = intake
        .import_events(Channel::Ebay, returns.as_bytes())
        .unwrap();
    let failed = first[0].rma_failed.as_ref().unwrap();
    assert_eq!(failed.code, "RETURNS_UNKNOWN_LINE");
    assert!(
        failed.message.contains("119999999999"),
        "{}",
        failed.message
    );
    let again = intake
        .import_events(Channel::Ebay, returns.as_bytes())
        .unwrap();
    assert!(again[0].rma_failed.is_none() && again[0].rma.is_none());
    assert_eq!(engine.order(&order.id).unwrap().version, version);
}

/// An engine whose clock the test sets (for the return window), with `skus` (10 each
/// at WH), each listed on `channel` by its SKU.
fn clocked(
    channel: &str,
    skus: &[(&str, &str)],
) -> (
    Engine,
    std::sync::Arc<ordersmith::ports::memory::FixedClock>,
    MemoryIdentifierMap,
) {
    use ordersmith::ids::{LocationId, VariantId};
    use ordersmith::ports::memory::{FixedClock, MemoryStore, SequentialIds};
    use ordersmith::stock::{Location, LocationKind, StockCommand, StockPolicy};
    use ordersmith_channels::mapping::Listing;
    use std::sync::Arc;
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(FixedClock::new(common::utc(2026, 11, 25, 9, 0, 0)));
    let engine = Engine::new(
        store.clone(),
        store,
        clock.clone(),
        Arc::new(SequentialIds::new()),
    );
    let wh = LocationId::parse("WH").unwrap();
    let mut cmds = vec![StockCommand::AddLocation {
        location: Location::new(wh.clone(), "Warehouse", 1, "TR-34", LocationKind::Warehouse),
    }];
    let map = MemoryIdentifierMap::new();
    for (variant, sku) in skus {
        let v = VariantId::parse(*variant).unwrap();
        cmds.push(StockCommand::RegisterVariant {
            variant: v.clone(),
            policy: StockPolicy::Deny,
        });
        cmds.push(StockCommand::Receive {
            variant: v.clone(),
            location: wh.clone(),
            quantity: 10,
            reference: None,
        });
        let listing = Listing {
            sku: Some((*sku).into()),
            ..Listing::default()
        };
        map.set_listing(channel, &v, listing).unwrap();
    }
    engine.stock_batch(cmds).unwrap();
    (engine, clock, map)
}

/// The Trendyol claims fixture with its claim item in `status`.
fn trendyol_claim(status: &str) -> Vec<u8> {
    String::from_utf8(fixture("claims/trendyol_claims.json"))
        .unwrap()
        .replace("WaitingInAction", status)
        .into_bytes()
}

/// The usual order of a Trendyol claim: it arrives `WaitingInAction` outside the
/// shop's return window (the policy rejects its RMA), and Trendyol later accepts it
/// (and refunds the shopper): the RMA follows, approved by override; a third delivery
/// changes nothing.
#[test]
fn a_claim_accepted_later_overrides_the_policy_rejection_once() {
    use ordersmith::returns::RmaStatus;
    let (engine, clock, map) = clocked("trendyol", &[("TEA", "TEA-500"), ("CUP", "CUP")]);
    let log = MemoryIntakeLog::default();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let order = imported(&intake, Channel::Trendyol, "trendyol/new_names.json");
    deliver(&engine, &order, "1001", 2);
    // 30 days later: outside the 14-day window.
    clock.advance(chrono::Duration::days(30));
    let first = intake
        .import_events(Channel::Trendyol, &trendyol_claim("WaitingInAction"))
        .unwrap();
    assert_eq!(first[0].rma.as_deref(), Some("R1"));
    let rma = engine.order(&order.id).unwrap().rma("R1").unwrap().clone();
    assert_eq!(rma.status, RmaStatus::Rejected);
    assert!(rma.policy_failure.is_some());
    // Trendyol accepts the claim.
    let accepted = trendyol_claim("Accepted");
    let later = intake.import_events(Channel::Trendyol, &accepted).unwrap();
    assert!(!later[0].new);
    let after = engine.order(&order.id).unwrap();
    let rma = after.rma("R1").unwrap();
    assert_eq!(rma.status, RmaStatus::Approved, "{:?}", later[0]);
    assert_eq!(
        rma.override_reason.as_deref(),
        Some("accepted on trendyol (claim 8f6a1c2e-0000-4000-8000-0000000000c1)")
    );
    assert_eq!(after.rmas.len(), 1);
    assert_eq!(
        later[0].rma_update,
        Some(RmaUpdate {
            rma: Some("R1".into()),
            decision: ClaimDecision::Accepted,
            step: "override".into(),
            failed: None,
        })
    );
    // Delivered again: nothing more happens, and an older page of the feed (the claim
    // still waiting) changes nothing either.
    for body in [accepted, trendyol_claim("WaitingInAction")] {
        let again = intake.import_events(Channel::Trendyol, &body).unwrap();
        assert!(!again[0].new && again[0].rma.is_none() && again[0].rma_failed.is_none());
        assert_eq!(again[0].rma_update, None);
        assert_eq!(engine.order(&order.id).unwrap().version, after.version);
    }
}

/// A Trendyol order with line 1001 (2 units) delivered, and the intake over it: the
/// engine's clock at delivery, inside the return window.
fn trendyol_delivered(
    log: &dyn IntakeLog,
) -> (
    Engine,
    std::sync::Arc<ordersmith::ports::memory::FixedClock>,
    MemoryIdentifierMap,
    ordersmith::order::Order,
) {
    let (engine, clock, map) = clocked("trendyol", &[("TEA", "TEA-500"), ("CUP", "CUP")]);
    let order = {
        let intake = Intake::new(&engine, &map, log, IntakeOptions::default());
        imported(&intake, Channel::Trendyol, "trendyol/new_names.json")
    };
    deliver(&engine, &order, "1001", 2);
    (engine, clock, map, order)
}

/// The RMA `id` of the order now.
fn rma_now(
    engine: &Engine,
    order: &ordersmith::order::Order,
    id: &str,
) -> ordersmith::returns::Rma {
    engine.order(&order.id).unwrap().rma(id).unwrap().clone()
}

/// The reasons the order's RMAs were rejected with, in order.
fn rejections(engine: &Engine, order: &ordersmith::order::Order) -> Vec<String> {
    use ordersmith::order::OrderEvent;
    use ordersmith::returns::ReturnEvent;
    engine
        .store()
        .order_events(&order.id)
        .unwrap()
        .into_iter()
        .filter_map(|r| match r.event {
            OrderEvent::Return(e) => match *e {
                ReturnEvent::Rejected { reason, .. } => Some(reason),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// A claim the channel accepted (its RMA approved by the policy) and the shopper then
/// cancels: the RMA is closed, once.
#[test]
fn a_claim_cancelled_on_the_channel_closes_its_rma_once() {
    use ordersmith::returns::RmaStatus;
    let log = MemoryIntakeLog::default();
    let (engine, _clock, map, order) = trendyol_delivered(&log);
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let first = intake
        .import_events(Channel::Trendyol, &trendyol_claim("Accepted"))
        .unwrap();
    assert_eq!(first[0].rma.as_deref(), Some("R1"));
    assert_eq!(rma_now(&engine, &order, "R1").status, RmaStatus::Approved);
    // The order's own feed delivered meanwhile keeps the claim's record.
    let delivered = String::from_utf8(fixture("trendyol/new_names.json"))
        .unwrap()
        .replace("\"Created\"", "\"Delivered\"")
        .replace("1763649000000", "1763659000000");
    let report = intake
        .import_payload(Channel::Trendyol, delivered.as_bytes())
        .unwrap();
    assert_ne!(report.outcome, ImportOutcome::Stale);
    let seen = log.get("trendyol", "10654411111").unwrap().unwrap();
    assert_eq!(
        seen.claims["claim:8f6a1c2e-0000-4000-8000-0000000000c1"],
        SeenClaim {
            rma: Some("R1".into()),
            decision: Some(ClaimDecision::Accepted),
        }
    );
    let cancelled = trendyol_claim("Cancelled");
    let later = intake.import_events(Channel::Trendyol, &cancelled).unwrap();
    assert_eq!(
        later[0].rma_update,
        Some(RmaUpdate {
            rma: Some("R1".into()),
            decision: ClaimDecision::Cancelled,
            step: "close".into(),
            failed: None,
        })
    );
    assert_eq!(rma_now(&engine, &order, "R1").status, RmaStatus::Closed);
    let version = engine.order(&order.id).unwrap().version;
    let again = intake.import_events(Channel::Trendyol, &cancelled).unwrap();
    assert_eq!(again[0].rma_update, None);
    assert_eq!(engine.order(&order.id).unwrap().version, version);
    assert_eq!(engine.order(&order.id).unwrap().rmas.len(), 1);
}

/// A claim the channel rejects after its RMA was approved: the RMA is rejected with the
/// channel's rejection as the reason; when the channel accepts it after all (the
/// shopper appealed), the RMA is approved again by override: each step once.
#[test]
fn a_claim_rejected_then_accepted_on_the_channel_is_followed_each_time() {
    use ordersmith::returns::RmaStatus;
    let log = MemoryIntakeLog::default();
    let (engine, _clock, map, order) = trendyol_delivered(&log);
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    intake
        .import_events(Channel::Trendyol, &trendyol_claim("WaitingInAction"))
        .unwrap();
    assert_eq!(rma_now(&engine, &order, "R1").status, RmaStatus::Approved);
    let rejected = trendyol_claim("Rejected");
    for _ in 0..2 {
        intake.import_events(Channel::Trendyol, &rejected).unwrap();
    }
    assert_eq!(rma_now(&engine, &order, "R1").status, RmaStatus::Rejected);
    assert_eq!(
        rejections(&engine, &order),
        vec!["rejected on trendyol (claim 8f6a1c2e-0000-4000-8000-0000000000c1)".to_string()]
    );
    // Trendyol's dispute: undecided for a while, then accepted.
    let disputed = intake
        .import_events(Channel::Trendyol, &trendyol_claim("Unresolved"))
        .unwrap();
    assert_eq!(disputed[0].rma_update, None);
    let accepted = trendyol_claim("Accepted");
    let later = intake.import_events(Channel::Trendyol, &accepted).unwrap();
    assert_eq!(
        later[0]
            .rma_update
            .as_ref()
            .map(|u| (u.step.as_str(), u.failed.is_none())),
        Some(("override", true)),
        "{:?}",
        later[0].rma_update
    );
    let rma = rma_now(&engine, &order, "R1");
    assert_eq!(rma.status, RmaStatus::Approved);
    let version = engine.order(&order.id).unwrap().version;
    intake.import_events(Channel::Trendyol, &accepted).unwrap();
    assert_eq!(engine.order(&order.id).unwrap().version, version);
}

/// A claim rejected (or cancelled) on the channel after its goods arrived: the core
/// allows neither rejecting nor closing a received RMA, so the refusal is reported,
/// once, and nothing is forced.
#[test]
fn a_claim_rejected_after_its_goods_arrived_is_reported_not_forced() {
    use ordersmith::engine::CommandContext;
    use ordersmith::ids::LocationId;
    use ordersmith::order::LineQuantity;
    use ordersmith::returns::RmaStatus;
    let log = MemoryIntakeLog::default();
    let (engine, _clock, map, order) = trendyol_delivered(&log);
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    intake
        .import_events(Channel::Trendyol, &trendyol_claim("Accepted"))
        .unwrap();
    let line = rma_now(&engine, &order, "R1").lines[0].line_id.clone();
    engine
        .receive_return(
            &order.id,
            "R1",
            LocationId::parse("WH").unwrap(),
            vec![LineQuantity::new(line, 1)],
            &CommandContext::system(),
        )
        .unwrap();
    assert_eq!(rma_now(&engine, &order, "R1").status, RmaStatus::Received);
    let version = engine.order(&order.id).unwrap().version;
    for (status, step) in [("Rejected", "reject"), ("Cancelled", "close")] {
        let body = trendyol_claim(status);
        let later = intake.import_events(Channel::Trendyol, &body).unwrap();
        let update = later[0].rma_update.clone().unwrap();
        assert_eq!(
            (update.rma.as_deref(), update.step.as_str()),
            (Some("R1"), step)
        );
        let failed = update.failed.unwrap();
        assert_eq!(
            (failed.step.as_str(), failed.code.as_str()),
            (step, "RETURNS_INVALID_STATE")
        );
        // Reported once: the next delivery of the same decision is quiet.
        let again = intake.import_events(Channel::Trendyol, &body).unwrap();
        assert_eq!(again[0].rma_update, None);
        assert_eq!(rma_now(&engine, &order, "R1").status, RmaStatus::Received);
        assert_eq!(engine.order(&order.id).unwrap().version, version);
    }
}

/// Hepsiburada reports a claim's decision in its `status`: a return accepted and later
/// rejected rejects its RMA; `AwaitingPreApproval` is no acceptance.
#[test]
fn a_hepsiburada_return_rejected_later_rejects_its_rma() {
    use ordersmith::engine::CommandContext;
    use ordersmith::order::LineQuantity;
    use ordersmith::returns::RmaStatus;
    let (engine, clock, map) = clocked("hepsiburada", &[("TEA", "TEA-500"), ("CUP", "CUP")]);
    let log = MemoryIntakeLog::default();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let order = imported(
        &intake,
        Channel::Hepsiburada,
        "hepsiburada/merged_feeds.json",
    );
    let line = order
        .lines
        .iter()
        .find(|l| l.external_ref.as_deref() == Some("5f1c2a9e-0000-4000-8000-000000000001"))
        .unwrap();
    let ctx = CommandContext::system();
    let unshipped = line.quantity - line.fulfilment.shipped;
    if unshipped > 0 {
        engine
            .record_shipment(
                &order.id,
                vec![LineQuantity::new(line.id.clone(), unshipped)],
                &ctx,
            )
            .unwrap();
    }
    engine
        .record_delivery(
            &order.id,
            vec![LineQuantity::new(line.id.clone(), line.quantity)],
            &ctx,
        )
        .unwrap();
    clock.advance(chrono::Duration::days(30));
    let claim = |status: &str| {
        String::from_utf8(fixture("claims/hepsiburada_claims.json"))
            .unwrap()
            .replace("NewRequest", status)
            .into_bytes()
    };
    // Outside the window, awaiting the seller's pre-approval: rejected by the policy,
    // and not overridden.
    let first = intake
        .import_events(Channel::Hepsiburada, &claim("AwaitingPreApproval"))
        .unwrap();
    assert_eq!(
        first[0].rma.as_deref(),
        Some("R1"),
        "{:?}",
        first[0].rma_failed
    );
    assert_eq!(rma_now(&engine, &order, "R1").status, RmaStatus::Rejected);
    // Refunded: accepted, overridden.
    let refunded = intake
        .import_events(Channel::Hepsiburada, &claim("Refunded"))
        .unwrap();
    assert_eq!(
        refunded[0].rma_update.as_ref().map(|u| u.step.as_str()),
        Some("override")
    );
    assert_eq!(rma_now(&engine, &order, "R1").status, RmaStatus::Approved);
    // Rejected after all.
    let rejected = claim("Rejected");
    let later = intake
        .import_events(Channel::Hepsiburada, &rejected)
        .unwrap();
    assert_eq!(
        later[0].rma_update,
        Some(RmaUpdate {
            rma: Some("R1".into()),
            decision: ClaimDecision::Rejected,
            step: "reject".into(),
            failed: None,
        })
    );
    assert_eq!(rma_now(&engine, &order, "R1").status, RmaStatus::Rejected);
    assert_eq!(
        rejections(&engine, &order).last().map(String::as_str),
        Some("rejected on hepsiburada (return CLM-77)")
    );
    let version = engine.order(&order.id).unwrap().version;
    let again = intake
        .import_events(Channel::Hepsiburada, &rejected)
        .unwrap();
    assert_eq!(again[0].rma_update, None);
    assert_eq!(engine.order(&order.id).unwrap().version, version);
}

/// eBay's return states (RETURN_STARTED, ITEM_SHIPPED, ITEM_DELIVERED, CLOSED) state
/// no decision of the kind: its RMA is left as it is.
#[test]
fn an_ebay_return_closed_leaves_its_rma() {
    let (engine, map) = stocked("ebay", &[("MUG", "MUG-RED"), ("PIN", "PIN")]);
    let log = MemoryIntakeLog::default();
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    let order = imported(&intake, Channel::Ebay, "ebay/paid_promotion.json");
    deliver(&engine, &order, "10000000001", 3);
    let returns = fixture("claims/ebay_returns.json");
    intake.import_events(Channel::Ebay, &returns).unwrap();
    let version = engine.order(&order.id).unwrap().version;
    let closed = String::from_utf8(returns)
        .unwrap()
        .replace("RETURN_STARTED", "CLOSED");
    let later = intake
        .import_events(Channel::Ebay, closed.as_bytes())
        .unwrap();
    assert_eq!(later[0].rma_update, None);
    assert_eq!(engine.order(&order.id).unwrap().version, version);
}

/// The statuses each channel reports, read as decisions.
#[test]
fn claim_statuses_read_as_decisions() {
    use ClaimDecision::*;
    for (status, decision) in [
        // Trendyol (one status per claimed unit, joined).
        (Some("Created"), None),
        (Some("WaitingInAction"), None),
        (Some("WaitingFraudCheck"), None),
        (Some("InAnalysis"), None),
        (Some("Unresolved"), None),
        (Some("Accepted"), Some(Accepted)),
        (Some("Rejected"), Some(Rejected)),
        (Some("Cancelled"), Some(Cancelled)),
        (Some("WaitingInAction,Accepted"), Some(Accepted)),
        (Some("Rejected,Accepted"), Some(Accepted)),
        (Some("Rejected,Cancelled"), Some(Rejected)),
        (Some("Cancelled,WaitingInAction"), None),
        // Hepsiburada.
        (Some("NewRequest"), None),
        (Some("AwaitingAction"), None),
        (Some("AwaitingPreApproval"), None),
        (Some("InDispute"), None),
        (Some("Refunded"), Some(Accepted)),
        (Some("ACCEPTED"), Some(Accepted)),
        // eBay.
        (Some("RETURN_STARTED"), None),
        (Some("ITEM_DELIVERED"), None),
        (Some("CLOSED"), None),
        (Some(""), None),
        (None, None),
    ] {
        assert_eq!(ClaimDecision::of_status(status), decision, "{status:?}");
    }
}

/// A log that loses its writes while told to (the store behind it down).
#[derive(Default)]
struct FlakyLog {
    inner: MemoryIntakeLog,
    down: std::sync::atomic::AtomicBool,
}

impl IntakeLog for FlakyLog {
    fn get(&self, channel: &str, external_id: &str) -> Result<Option<SeenOrder>, String> {
        self.inner.get(channel, external_id)
    }
    fn put(&self, channel: &str, external_id: &str, seen: SeenOrder) -> Result<(), String> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err("down".into());
        }
        self.inner.put(channel, external_id, seen)
    }
}

/// The override applied but its record lost (the log down): the next delivery finds
/// the RMA approved already and takes no second step.
#[test]
fn a_follow_up_applied_but_not_recorded_is_not_repeated() {
    use ordersmith::returns::RmaStatus;
    use std::sync::atomic::Ordering;
    let log = FlakyLog::default();
    let (engine, clock, map, order) = trendyol_delivered(&log);
    clock.advance(chrono::Duration::days(30));
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    intake
        .import_events(Channel::Trendyol, &trendyol_claim("WaitingInAction"))
        .unwrap();
    let accepted = trendyol_claim("Accepted");
    log.down.store(true, Ordering::SeqCst);
    let e = intake
        .import_events(Channel::Trendyol, &accepted)
        .unwrap_err();
    assert_eq!(e.code(), "INTAKE_LOG_UNAVAILABLE");
    assert_eq!(rma_now(&engine, &order, "R1").status, RmaStatus::Approved);
    let version = engine.order(&order.id).unwrap().version;
    log.down.store(false, Ordering::SeqCst);
    let again = intake.import_events(Channel::Trendyol, &accepted).unwrap();
    assert_eq!(again[0].rma_update, None);
    assert_eq!(engine.order(&order.id).unwrap().version, version);
    let seen = log.get("trendyol", "10654411111").unwrap().unwrap();
    let claim = &seen.claims["claim:8f6a1c2e-0000-4000-8000-0000000000c1"];
    assert_eq!(
        (claim.rma.as_deref(), claim.decision),
        (Some("R1"), Some(ClaimDecision::Accepted))
    );
}

/// A claim settled before the log kept its RMA (a record without `claims`): its RMA is
/// found by its note, and follows the channel's acceptance.
#[test]
fn a_claim_recorded_before_its_rma_was_kept_still_follows() {
    use ordersmith::returns::RmaStatus;
    let log = MemoryIntakeLog::default();
    let (engine, clock, map, order) = trendyol_delivered(&log);
    clock.advance(chrono::Duration::days(30));
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    intake
        .import_events(Channel::Trendyol, &trendyol_claim("WaitingInAction"))
        .unwrap();
    let mut seen = log.get("trendyol", "10654411111").unwrap().unwrap();
    seen.claims.clear();
    log.put("trendyol", "10654411111", seen).unwrap();
    let later = intake
        .import_events(Channel::Trendyol, &trendyol_claim("Accepted"))
        .unwrap();
    assert_eq!(
        later[0].rma_update.as_ref().and_then(|u| u.rma.as_deref()),
        Some("R1")
    );
    assert_eq!(rma_now(&engine, &order, "R1").status, RmaStatus::Approved);
}

/// A malformed feed after a claim became an RMA: a typed error, and neither the RMA
/// nor the log changes.
#[test]
fn a_malformed_claims_feed_leaves_the_rma_and_the_log_alone() {
    let log = MemoryIntakeLog::default();
    let (engine, _clock, map, order) = trendyol_delivered(&log);
    let intake = Intake::new(&engine, &map, &log, IntakeOptions::default());
    intake
        .import_events(Channel::Trendyol, &trendyol_claim("Accepted"))
        .unwrap();
    let before = (
        engine.order(&order.id).unwrap(),
        log.get("trendyol", "10654411111").unwrap(),
    );
    let no_order_number = String::from_utf8(trendyol_claim("Cancelled"))
        .unwrap()
        .replace("\"orderNumber\"", "\"orderNo\"");
    for (body, code) in [
        (no_order_number.into_bytes(), "CHANNEL_MISSING_FIELD"),
        (b"{\"content\": [".to_vec(), "CHANNEL_MALFORMED_JSON"),
    ] {
        let e = intake.import_events(Channel::Trendyol, &body).unwrap_err();
        assert_eq!(e.code(), code);
        assert_eq!(
            (
                engine.order(&order.id).unwrap(),
                log.get("trendyol", "10654411111").unwrap()
            ),
            before
        );
    }
}
