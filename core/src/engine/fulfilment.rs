//! Fulfilment on the engine: the warehouse flow per fulfilment order, and the stock
//! side of each step.
//!
//! - Fulfilment orders follow the order's allocations: after every change, a location
//!   holding stock for the order without an open fulfilment order gets one, and an open
//!   one whose location holds nothing more is closed (shipped, or cancelled with its
//!   picked units put back on the shelf). So a fulfilment order never claims units the
//!   ledger does not hold for it.
//! - Handing a parcel over commits exactly its units at the fulfilment order's
//!   location; the order's shipped quantities follow from parcels.
//! - A short pick releases the missing units and writes them off at the location
//!   (release first, so no other order's reservation is left short), then applies
//!   [`ShortPickPolicy`]: re-source, backorder (hold), or cancel the units.
//! - Moving an unpicked fulfilment order releases its units here and reserves them at
//!   the new location in the same change; if the new location cannot hold them, nothing
//!   changes.

use crate::fulfilment::{
    FulfilmentOrder, FulfilmentOrderStatus, ParcelStatus, ShortPick, ShortPickPolicy,
};
use crate::ids::{LineId, LocationId, OrderId};
use crate::order::{
    Allocation, CancelReason, FulfilmentClosure, FulfilmentCommand, HoldReason, LineQuantity,
    Order, OrderCommand, OrderEvent, OrderStatus, ParcelIdentity,
};
use crate::stock::{AdjustmentReason, ReserveRequest, StockCommand};

use super::allocation::{
    allocate_open_avoiding, release_units, reservation_expiry, reservation_id, tracked, OnShort,
};
use super::{CommandContext, Engine, EngineConfig, EngineError, Tx};

/// The events that open and close fulfilment orders so they match the order's
/// allocations (see the module docs).
pub(crate) fn sync_fulfilments(order: &Order) -> Vec<OrderEvent> {
    let mut events = Vec::new();
    sync_fulfilments_into(order, &mut events);
    events
}

/// [`sync_fulfilments`] appended to `events` (a write's own list: no vector of its
/// own to make, move and free).
pub(crate) fn sync_fulfilments_into(order: &Order, events: &mut Vec<OrderEvent>) {
    let held_at = |location: &LocationId| -> u32 {
        order
            .lines
            .iter()
            .map(|l| order.held_at(&l.id, location))
            .fold(0u32, u32::saturating_add)
    };
    for fo in order.fulfilments.iter().filter(|f| !f.status.is_closed()) {
        if held_at(&fo.location) > 0 {
            continue;
        }
        let shipped = fo.shipped.values().any(|q| *q > 0);
        let put_back: Vec<LineQuantity> = fo
            .picked
            .keys()
            .filter_map(|line| {
                let q = fo.picked_open(line);
                (q > 0).then(|| LineQuantity::new(line.clone(), q))
            })
            .collect();
        events.push(OrderEvent::FulfilmentClosed(Box::new(FulfilmentClosure {
            fulfilment: fo.id.clone(),
            status: if shipped && put_back.is_empty() {
                FulfilmentOrderStatus::Shipped
            } else {
                FulfilmentOrderStatus::Cancelled
            },
            moved_to: None,
            put_back,
        })));
    }
    // Each location holding stock for the order, once, in order of first appearance:
    // the first eight kept on the stack (an order rarely ships from more), any more
    // in a vector.
    let mut few: [Option<&LocationId>; 8] = [None; 8];
    let mut more: Vec<&LocationId> = Vec::new();
    let mut next = order.fulfilments.len();
    for a in order.lines.iter().flat_map(|l| l.allocations.iter()) {
        let location = &a.location;
        let mut seen = few.iter().map_while(|l| *l);
        if seen.any(|l| l == location) || more.contains(&location) {
            continue;
        }
        match few.iter_mut().find(|l| l.is_none()) {
            Some(free) => *free = Some(location),
            None => more.push(location),
        }
        let open = order
            .fulfilments
            .iter()
            .any(|f| &f.location == location && !f.status.is_closed());
        if !open {
            next += 1;
            events.push(OrderEvent::FulfilmentOpened {
                fulfilment: ["F", itoa::Buffer::new().format(next)].concat(),
                location: location.clone(),
            });
        }
    }
}

/// The next serial of `kind` from the engine's id source: the number in its
/// `"{kind}-{n}"` id (the [`crate::ports::IdGenerator`] contract), so serials never
/// repeat across restarts and processes either.
fn next_serial(tx: &Tx<'_>, kind: &str) -> Result<u64, EngineError> {
    let id = tx.ids.next_id(kind)?;
    id.rsplit('-')
        .next()
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or(EngineError::InvalidInput {
            field: "id generator",
            reason: "returned an id without a numeric suffix",
        })
}

/// Releases up to `quantity` units of `line` held at `location`, newest first.
fn release_at(
    tx: &mut Tx<'_>,
    order: &Order,
    line: &LineId,
    location: &LocationId,
    quantity: u32,
) -> Result<Vec<OrderEvent>, EngineError> {
    match order.line(line) {
        Some(l) => release_units(tx, l, Some(location), quantity),
        None => Ok(Vec::new()),
    }
}

/// Commits `quantity` units of `line` held at `location`, oldest first.
fn commit_at(
    tx: &mut Tx<'_>,
    order: &Order,
    line: &LineId,
    location: &LocationId,
    quantity: u32,
) -> Result<Vec<OrderEvent>, EngineError> {
    let mut events = Vec::new();
    let Some(l) = order.line(line) else {
        return Ok(events);
    };
    let mut rest = quantity;
    for a in l.allocations.iter().filter(|a| &a.location == location) {
        if rest == 0 {
            break;
        }
        let take = a.quantity.min(rest);
        tx.stock_effect(StockCommand::CommitPartial {
            reservation: a.reservation.clone(),
            quantity: take,
        })?;
        events.push(OrderEvent::AllocationCommitted {
            line_id: line.clone(),
            reservation: a.reservation.clone(),
            quantity: take,
        });
        rest -= take;
    }
    if rest > 0 && tracked(tx.ledger()?, &l.variant) {
        return Err(EngineError::InvalidInput {
            field: "parcel",
            reason: "holds more units than are reserved at its location",
        });
    }
    Ok(events)
}

fn applied(order: &Order, events: &[OrderEvent]) -> Order {
    let mut scratch = order.clone();
    for e in events {
        scratch.apply(e);
    }
    scratch
}

/// The stock side of a fulfilment step, after its own events were applied to `after`.
pub(crate) fn step_effects(
    config: &EngineConfig,
    tx: &mut Tx<'_>,
    before: &Order,
    after: &Order,
    step: &FulfilmentCommand,
) -> Result<Vec<OrderEvent>, EngineError> {
    let Some(fo) = before.fulfilment(step.fulfilment()).cloned() else {
        return Ok(Vec::new());
    };
    match step {
        // A parcel handed over (by the step, or implied by a carrier's first moving
        // event): commit exactly its units at its location.
        FulfilmentCommand::HandOver { parcel, .. } | FulfilmentCommand::Track { parcel, .. } => {
            let (Some(p), Some(now)) = (
                fo.parcel(parcel),
                after.fulfilment(&fo.id).and_then(|f| f.parcel(parcel)),
            ) else {
                return Ok(Vec::new());
            };
            let handed_over =
                p.status != ParcelStatus::HandedOver && now.status == ParcelStatus::HandedOver;
            let mut events = Vec::new();
            if handed_over {
                for (line, q) in &p.units {
                    events.extend(commit_at(tx, before, line, &fo.location, *q)?);
                }
            }
            Ok(events)
        }
        FulfilmentCommand::Pack { .. } => {
            let Some(sscc_config) = &config.sscc else {
                return Ok(Vec::new());
            };
            let Some(parcel) = after
                .fulfilment(&fo.id)
                .and_then(|f| f.parcels.last())
                .filter(|p| {
                    before
                        .fulfilment(&fo.id)
                        .and_then(|f| f.parcel(&p.id))
                        .is_none()
                })
            else {
                return Ok(Vec::new());
            };
            let serial = next_serial(tx, "sscc")?;
            let sscc = crate::fulfilment::Sscc::generate(sscc_config, serial)
                .map_err(crate::order::OrderError::from)?;
            Ok(vec![OrderEvent::ParcelIdentified(Box::new(
                ParcelIdentity {
                    fulfilment: fo.id.clone(),
                    parcel: parcel.id.clone(),
                    sscc,
                },
            ))])
        }
        FulfilmentCommand::Pick { short, .. } if !short.is_empty() => {
            short_picked(config, tx, after, &fo, short)
        }
        FulfilmentCommand::Move { to, .. } => moved(config, tx, after, &fo, to),
        FulfilmentCommand::Cancel { .. } => {
            // Release what the cancelled units held here: exactly the open units the
            // order no longer has, at this location.
            let mut events = Vec::new();
            for line in &before.lines {
                let keep = after.line(&line.id).map_or(0, |l| l.open_quantity());
                let held_here = before.held_at(&line.id, &fo.location);
                let held_total = line.fulfilment.allocated;
                let excess = held_total.saturating_sub(keep).min(held_here);
                if excess > 0 {
                    let scratch = applied(after, &events);
                    events.extend(release_at(tx, &scratch, &line.id, &fo.location, excess)?);
                }
            }
            Ok(events)
        }
        _ => Ok(Vec::new()),
    }
}

fn short_picked(
    config: &EngineConfig,
    tx: &mut Tx<'_>,
    after: &Order,
    fo: &FulfilmentOrder,
    short: &[LineQuantity],
) -> Result<Vec<OrderEvent>, EngineError> {
    let policy = config.short_pick;
    let mut events = Vec::new();
    for lq in short {
        let scratch = applied(after, &events);
        events.push(OrderEvent::FulfilmentShortPicked {
            fulfilment: fo.id.clone(),
            short: ShortPick {
                line_id: lq.line_id.clone(),
                quantity: lq.quantity,
                handled_by: policy,
            },
        });
        events.extend(release_at(
            tx,
            &scratch,
            &lq.line_id,
            &fo.location,
            lq.quantity,
        )?);
        // The units are not where the ledger says: write them off here (after the
        // release, so what stays reserved still fits what is on hand). Only what the
        // ledger counts on the shelf and unclaimed once they are released can be lost:
        // units reserved ahead of stock (a backorder or pre-order policy) were never
        // on the shelf, and the units still reserved (this order's picked ones, other
        // orders') are there. A bundle's missing units are its components'.
        if let Some(line) = after.line(&lq.line_id) {
            let losses: Vec<(crate::ids::VariantId, i64)> = {
                let ledger = tx.ledger()?;
                let parts = match ledger.bundle(&line.variant) {
                    Some(b) if !b.components.is_empty() => b.components.clone(),
                    _ if ledger.policy(&line.variant).is_some() => vec![(line.variant.clone(), 1)],
                    _ => Vec::new(),
                };
                parts
                    .into_iter()
                    .filter_map(|(variant, per)| {
                        let b = ledger.balance(&variant, &fo.location);
                        let unclaimed = b.on_hand.saturating_sub(b.reserved).max(0);
                        let missing = i64::from(lq.quantity).saturating_mul(i64::from(per));
                        let lost = missing.min(unclaimed);
                        (lost > 0).then_some((variant, lost))
                    })
                    .collect()
            };
            for (variant, lost) in losses {
                tx.stock_effect(StockCommand::Adjust {
                    variant,
                    location: fo.location.clone(),
                    delta: -lost,
                    reason: AdjustmentReason::Loss,
                    reference: Some(format!("short pick {} {}", after.id, fo.id)),
                })?;
            }
        }
    }
    let scratch = applied(after, &events);
    match policy {
        ShortPickPolicy::Resource => {
            let on_short = if scratch.status == OrderStatus::OnHold {
                OnShort::Partial
            } else {
                OnShort::Hold
            };
            // Elsewhere: the ledger may still count more units here than the shelf has.
            events.extend(allocate_open_avoiding(
                config,
                tx,
                &scratch,
                on_short,
                Some(&fo.location),
            )?);
        }
        ShortPickPolicy::Backorder => {
            if scratch.status != OrderStatus::OnHold {
                let missing: Vec<String> = short
                    .iter()
                    .map(|s| format!("{} × line {}", s.quantity, s.line_id))
                    .collect();
                events.push(OrderEvent::Held {
                    reason: HoldReason::InsufficientStock,
                    note: Some(format!(
                        "short pick at {}: {} awaiting stock",
                        fo.location,
                        missing.join(", ")
                    )),
                    from: scratch.status,
                });
            }
        }
        ShortPickPolicy::CancelLine => {
            let cancel = OrderEvent::LinesCancelled {
                lines: short.to_vec(),
                reason: CancelReason::Inventory,
            };
            let after_cancel = applied(&scratch, std::slice::from_ref(&cancel));
            events.push(cancel);
            let shipped: u64 = after_cancel
                .lines
                .iter()
                .map(|l| u64::from(l.fulfilment.shipped))
                .sum();
            if shipped == 0 && after_cancel.active_units() == 0 {
                events.push(OrderEvent::Cancelled {
                    reason: CancelReason::Inventory,
                });
            }
        }
    }
    Ok(events)
}

fn moved(
    config: &EngineConfig,
    tx: &mut Tx<'_>,
    after: &Order,
    fo: &FulfilmentOrder,
    to: &LocationId,
) -> Result<Vec<OrderEvent>, EngineError> {
    if tx.ledger()?.location(to).is_none() {
        return Err(crate::order::OrderError::from(
            crate::fulfilment::FulfilmentError::InvalidMove {
                fulfilment: fo.id.clone(),
                location: to.clone(),
                reason: "the ledger knows no such location",
            },
        )
        .into());
    }
    let mut events = Vec::new();
    // Each line's units, and the deadline their hold had: a move keeps it (an unpaid
    // order does not earn a fresh time-to-live by changing warehouse).
    let mut moving: Vec<(LineId, u32, Option<chrono::DateTime<chrono::Utc>>)> = Vec::new();
    for line in &after.lines {
        let q = after.held_at(&line.id, &fo.location);
        if q > 0 {
            let deadline = {
                let ledger = tx.ledger()?;
                line.allocations
                    .iter()
                    .filter(|a| a.location == fo.location)
                    .filter_map(|a| ledger.reservation(&a.reservation)?.expires_at)
                    .min()
            };
            let scratch = applied(after, &events);
            events.extend(release_at(tx, &scratch, &line.id, &fo.location, q)?);
            moving.push((line.id.clone(), q, deadline));
        }
    }
    // The units join the open fulfilment order at the new location, or a new one.
    let next = after
        .fulfilments
        .iter()
        .find(|f| &f.location == to && !f.status.is_closed() && f.id != fo.id)
        .map_or_else(
            || format!("F{}", after.fulfilments.len() + 1),
            |f| f.id.clone(),
        );
    events.push(OrderEvent::FulfilmentClosed(Box::new(FulfilmentClosure {
        fulfilment: fo.id.clone(),
        status: FulfilmentOrderStatus::Moved,
        moved_to: Some(next),
        put_back: Vec::new(),
    })));
    let scratch = applied(after, &events);
    let fresh = reservation_expiry(config, &scratch, tx.now);
    for (k, (line_id, q, deadline)) in moving.into_iter().enumerate() {
        // No clock runs for the order (paid, or no time-to-live): none. Else the
        // hold's own deadline when it had one, never later than a fresh one.
        let expires_at = match (fresh, deadline) {
            (None, _) => None,
            (Some(fresh), Some(kept)) => Some(kept.min(fresh)),
            (Some(fresh), None) => Some(fresh),
        };
        let Some(line) = scratch.line(&line_id) else {
            continue;
        };
        let id = reservation_id(&scratch, &line_id, k)?;
        let request = ReserveRequest::new(id.clone(), line.variant.clone(), to.clone(), q)
            .with_reference(format!("order {} line {}", scratch.id, line_id))
            .for_order(scratch.id.clone())
            .expiring(expires_at);
        tx.stock_effect(StockCommand::Reserve { request })?;
        events.push(OrderEvent::Allocated {
            line_id,
            allocation: Allocation {
                reservation: id,
                location: to.clone(),
                quantity: q,
            },
        });
    }
    Ok(events)
}

impl Engine {
    /// Runs one warehouse step on a fulfilment order of an order.
    pub fn fulfil(
        &self,
        order_id: &OrderId,
        step: FulfilmentCommand,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute(order_id, OrderCommand::Fulfil(step), ctx)
    }

    /// Records a carrier's event for a parcel: its raw code is mapped with the
    /// engine's carrier table ([`super::EngineConfig::carrier_statuses`]); a repeat is
    /// ignored; an out-of-order or nonsensical event is kept in the parcel's history
    /// without moving it backwards. The first moving event of a labelled parcel counts
    /// as its hand-over; delivered records the parcel's units as delivered.
    pub fn record_tracking_event(
        &self,
        order_id: &OrderId,
        fulfilment: &str,
        parcel: &str,
        event: crate::fulfilment::CarrierEvent,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        let order = self.load(order_id)?;
        let carrier = order
            .fulfilment(fulfilment)
            .and_then(|f| f.parcel(parcel))
            .and_then(|p| p.label.as_ref())
            .map_or_else(
                || crate::fulfilment::Carrier::Other("unknown".into()),
                |l| crate::fulfilment::Carrier::from_code(&l.carrier),
            );
        let mapped = self.config.carrier_statuses.map(&carrier, event.raw_code());
        self.fulfil(
            order_id,
            FulfilmentCommand::Track {
                fulfilment: fulfilment.to_string(),
                parcel: parcel.to_string(),
                event,
                mapped,
            },
            ctx,
        )
    }

    /// The order's fulfilment orders, open and closed.
    pub fn fulfilment_orders(
        &self,
        order_id: &OrderId,
    ) -> Result<Vec<FulfilmentOrder>, EngineError> {
        Ok(self.load(order_id)?.fulfilments.into_inner())
    }

    /// What a picker walks for one fulfilment order: per line still to pick, the SKU,
    /// units and title, sorted for walking (by SKU: the catalog has no bins yet).
    pub fn pick_list(
        &self,
        order_id: &OrderId,
        fulfilment: &str,
    ) -> Result<Vec<PickListLine>, EngineError> {
        let order = self.load(order_id)?;
        let fo = order.fulfilment(fulfilment).ok_or_else(|| {
            EngineError::from(crate::order::OrderError::from(
                crate::fulfilment::FulfilmentError::UnknownFulfilment {
                    fulfilment: fulfilment.to_string(),
                },
            ))
        })?;
        let mut lines: Vec<PickListLine> = order
            .lines
            .iter()
            .filter_map(|l| {
                let quantity = crate::order::to_pick(&order, fo, &l.id);
                (quantity > 0).then(|| PickListLine {
                    line_id: l.id.clone(),
                    sku: l.variant.to_string(),
                    title: l.title.as_deref().map(str::to_string),
                    quantity,
                })
            })
            .collect();
        lines.sort_by(|a, b| (&a.sku, &a.line_id).cmp(&(&b.sku, &b.line_id)));
        Ok(lines)
    }
}

/// One line of a pick list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PickListLine {
    /// The order line.
    pub line_id: LineId,
    /// What to pick.
    pub sku: String,
    /// The product title, if the order has one.
    pub title: Option<String>,
    /// Units still to pick.
    pub quantity: u32,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::ids::{ChannelId, ReservationId, VariantId};
    use crate::money::{Currency, Money};
    use crate::order::{place, Allocation, NewLine, NewOrder};

    // A confirmation opens one fulfilment per location that holds stock for the order,
    // in the order the lines name them, however many locations (the first eight are
    // tracked on the stack, the rest in a vector) and however often one repeats.
    #[test]
    fn a_fulfilment_opens_once_per_location_in_order_of_first_appearance() {
        let try_ = Currency::parse("TRY").unwrap();
        let lines: Vec<NewLine> = (0..14)
            .map(|i| {
                NewLine::new(
                    VariantId::parse(format!("SKU-{i}")).unwrap(),
                    1,
                    Money::new("10.00".parse().unwrap(), try_).unwrap(),
                )
            })
            .collect();
        let new = NewOrder::new(
            ChannelId::parse("web").unwrap(),
            chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
            try_,
            lines,
        );
        let OrderEvent::Placed(placed) = place(&new).unwrap() else {
            panic!("place gives a placed event");
        };
        let mut order = Order::from_placed(OrderId::parse("o-1").unwrap(), &placed);
        // Lines 0..14 held at W0, W1, W0, W2, ... : ten distinct locations, repeats
        // before and after the eighth.
        let at = [0, 1, 0, 2, 3, 4, 5, 6, 7, 1, 8, 9, 8, 0];
        for (k, line) in order.lines.make_mut().iter_mut().enumerate() {
            line.allocations = Box::new([Allocation {
                reservation: ReservationId::parse(format!("r-{k}")).unwrap(),
                location: LocationId::parse(format!("W{}", at[k])).unwrap(),
                quantity: 1,
            }]);
        }
        let opened: Vec<(String, String)> = sync_fulfilments(&order)
            .into_iter()
            .map(|e| match e {
                OrderEvent::FulfilmentOpened {
                    fulfilment,
                    location,
                } => (fulfilment, location.to_string()),
                other => panic!("{other:?}"),
            })
            .collect();
        let expected: Vec<(String, String)> = (0..10)
            .map(|n| (format!("F{}", n + 1), format!("W{n}")))
            .collect();
        assert_eq!(opened, expected);
    }
}
