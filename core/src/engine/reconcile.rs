//! Stock events that change orders: expiry sweeps, shortfalls after a count, damage or
//! loss, and raw stock commands on reservations an order owns.
//!
//! The invariant these keep: an order's allocations are exactly the ledger's live
//! reservations for it. A path that changes one changes the other in the same change
//! set, or is refused:
//!
//! - a raw stock command on an order's reservation (commit, release, new expiry, or a
//!   reserve claiming an order) is refused with
//!   [`EngineError::ReservationOwnedByOrder`], naming the order: such reservations
//!   change through the order (cancel, edit, ship);
//! - an expiry sweep releases lapsed reservations and records `allocation_expired` on
//!   their orders, which go on hold (or are cancelled) with reason
//!   `reservation_expired`;
//! - a shortfall (on hand fell below what is reserved at a location) releases the
//!   newest order reservations there until the rest is covered, and re-sources those
//!   orders from other locations, holding them with `insufficient_stock` for what
//!   cannot be found.

use std::collections::BTreeSet;

use crate::ids::{LocationId, OrderId, ReservationId, VariantId};
use crate::order::{
    decide, CancelReason, HoldReason, Order, OrderCommand, OrderEvent, OrderStatus,
};
use crate::ports::ChangeSet;
use crate::stock::{
    ReservationFilter, StockCommand, StockEvent, StockLedger, StockOutcome, StockPolicy,
};

use super::allocation::{allocate_open, stock_effects, OnShort};
use super::{CommandContext, Engine, EngineError, ExpiryPolicy, Tx};

/// Orders a stock write changes: each loaded once, changed in memory, and saved in
/// the write's change set with the version it was loaded at.
#[derive(Default)]
pub(crate) struct Touched {
    orders: Vec<(u64, Order, Vec<OrderEvent>)>,
    /// Automation rules (issue 14): per order, where its rule-caused events start and
    /// which rule caused each.
    ruled: Vec<(OrderId, usize, Vec<crate::rules::ChainEvent>)>,
}

impl Touched {
    fn index(&mut self, engine: &Engine, id: &OrderId) -> Result<usize, EngineError> {
        if let Some(k) = self.orders.iter().position(|(_, o, _)| &o.id == id) {
            return Ok(k);
        }
        let order = engine.load(id)?;
        self.orders.push((order.version, order, Vec::new()));
        Ok(self.orders.len() - 1)
    }

    fn order(&self, k: usize) -> Option<&Order> {
        self.orders.get(k).map(|(_, o, _)| o)
    }

    fn record(&mut self, k: usize, events: Vec<OrderEvent>) {
        if let Some((_, order, recorded)) = self.orders.get_mut(k) {
            for e in &events {
                order.apply(e);
            }
            recorded.extend(events);
        }
    }

    /// Runs the live automation rules on the triggers each changed order's events
    /// raise (issue 14); once per write, before [`Touched::sync`].
    pub(crate) fn run_rules(
        &mut self,
        engine: &Engine,
        tx: &mut Tx<'_>,
    ) -> Result<(), EngineError> {
        for (_, order, events) in &mut self.orders {
            if events.is_empty() {
                continue;
            }
            let snapshot = events.clone();
            let ruled = super::rules::run_for(engine, tx, order, &snapshot, &[])?;
            if ruled.is_empty() {
                continue;
            }
            let start = events.len();
            events.extend(ruled.iter().map(|c| c.event.clone()));
            self.ruled.push((order.id.clone(), start, ruled));
        }
        Ok(())
    }

    /// Opens and closes fulfilment orders of every changed order so they match its
    /// allocations (idempotent).
    pub(crate) fn sync(&mut self, config: &super::EngineConfig) {
        for (_, order, events) in &mut self.orders {
            if events.is_empty() {
                continue;
            }
            let synced = super::fulfilment::sync_fulfilments(order);
            for e in &synced {
                order.apply(e);
            }
            events.extend(synced);
            let notes = super::notifications::requests(config, order, events);
            for e in &notes {
                order.apply(e);
            }
            events.extend(notes);
        }
    }

    /// The orders as they are now, in the order they were first touched.
    pub(crate) fn orders(&self) -> Vec<Order> {
        self.orders
            .iter()
            .filter(|(_, _, events)| !events.is_empty())
            .map(|(_, o, _)| o.clone())
            .collect()
    }

    /// The change set saving every touched order (the system acting).
    pub(crate) fn into_changes(
        mut self,
        engine: &Engine,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<ChangeSet, EngineError> {
        let mut changes = ChangeSet::default();
        let ctx = CommandContext::system();
        self.sync(&engine.config);
        for (expected, order, events) in self.orders {
            if events.is_empty() {
                continue;
            }
            let mut c = engine.changes_for(now, &order, expected, events, &ctx)?;
            if let Some((_, start, ruled)) = self.ruled.iter().find(|(id, _, _)| id == &order.id) {
                super::rules::attribute(&mut c, *start, ruled)?;
            }
            changes.orders.extend(c.orders);
            changes.outbox.extend(c.outbox);
        }
        Ok(changes)
    }
}

/// The order that owns `reservation`, if one does.
fn owner(ledger: &StockLedger, reservation: &ReservationId) -> Option<OrderId> {
    ledger
        .reservation(reservation)
        .and_then(|r| r.order.clone())
}

/// Refuses a raw stock command that would change a reservation an order owns.
pub(crate) fn guard_raw(ledger: &StockLedger, command: &StockCommand) -> Result<(), EngineError> {
    let (reservation, order) = match command {
        StockCommand::Reserve { request } => match &request.order {
            Some(order) => (request.id.clone(), Some(order.clone())),
            None => return Ok(()),
        },
        StockCommand::Commit { reservation }
        | StockCommand::CommitPartial { reservation, .. }
        | StockCommand::Release { reservation }
        | StockCommand::ReleasePartial { reservation, .. }
        | StockCommand::SetReservationExpiry { reservation, .. } => {
            (reservation.clone(), owner(ledger, reservation))
        }
        _ => return Ok(()),
    };
    match order {
        Some(order_id) => Err(EngineError::ReservationOwnedByOrder {
            reservation,
            order_id,
        }),
        None => Ok(()),
    }
}

/// Releases every reservation past its expiry and tells the orders that owned them.
pub(crate) fn sweep_expired(
    engine: &Engine,
    tx: &mut Tx<'_>,
    touched: &mut Touched,
) -> Result<(Vec<ReservationId>, StockOutcome), EngineError> {
    let now = tx.now;
    let due: Vec<(ReservationId, Option<OrderId>)> = tx
        .ledger()?
        .due_expiries(now)
        .into_iter()
        .map(|r| (r.id.clone(), r.order.clone()))
        .collect();
    if due.is_empty() {
        return Ok((Vec::new(), StockOutcome::default()));
    }
    let outcome = tx.stock(StockCommand::Expire)?;
    let expired: BTreeSet<&ReservationId> = due.iter().map(|(r, _)| r).collect();
    let mut orders: Vec<&OrderId> = Vec::new();
    for (_, order) in &due {
        if let Some(o) = order {
            if !orders.contains(&o) {
                orders.push(o);
            }
        }
    }
    for order_id in orders {
        let k = touched.index(engine, order_id)?;
        let Some(order) = touched.order(k) else {
            continue;
        };
        let mut events = Vec::new();
        for line in &order.lines {
            for a in &line.allocations {
                if expired.contains(&a.reservation) {
                    events.push(OrderEvent::AllocationExpired {
                        line_id: line.id.clone(),
                        reservation: a.reservation.clone(),
                        quantity: a.quantity,
                    });
                }
            }
        }
        if events.is_empty() {
            continue;
        }
        touched.record(k, events);
        let Some(order) = touched.order(k).cloned() else {
            continue;
        };
        if !matches!(
            order.status,
            OrderStatus::Confirmed | OrderStatus::Processing
        ) {
            // Already on hold (releasing it re-reserves) or closed.
            continue;
        }
        let shipped = order.lines.iter().any(|l| l.fulfilment.shipped > 0);
        if engine.config.on_reservation_expiry == ExpiryPolicy::Cancel && !shipped {
            let command = OrderCommand::Cancel {
                reason: CancelReason::ReservationExpired,
            };
            let mut events = decide(&order, &command)?;
            let mut after = order.clone();
            for e in &events {
                after.apply(e);
            }
            events.extend(stock_effects(&engine.config, tx, &order, &after, &command)?);
            touched.record(k, events);
        } else {
            touched.record(
                k,
                vec![OrderEvent::Held {
                    reason: HoldReason::ReservationExpired,
                    note: Some(format!(
                        "not paid in time: the reserved stock was released at {}",
                        tx.now.format("%Y-%m-%d %H:%M UTC")
                    )),
                    from: order.status,
                }],
            );
        }
    }
    Ok((due.into_iter().map(|(r, _)| r).collect(), outcome))
}

/// Re-sources the orders whose reservations a shortfall left uncovered: releases the
/// newest order reservations at the short (variant, location) until what is reserved
/// there fits what is on hand, then reserves those orders' open units again wherever
/// stock is (holding them with `insufficient_stock` for what is not found).
/// Reservations the host made by hand are left alone: the `stock.shortfall` outbox
/// record tells the host about them.
pub(crate) fn resource_shortfalls(
    engine: &Engine,
    tx: &mut Tx<'_>,
    events: &[StockEvent],
    touched: &mut Touched,
) -> Result<(), EngineError> {
    let mut short: Vec<(VariantId, LocationId)> = Vec::new();
    for e in events {
        if let StockEvent::Shortfall {
            variant, location, ..
        } = e
        {
            let key = (variant.clone(), location.clone());
            if !short.contains(&key) {
                short.push(key);
            }
        }
    }
    let mut to_resource: Vec<usize> = Vec::new();
    for (variant, location) in short {
        loop {
            if tx.ledger()?.policy(&variant) != Some(StockPolicy::Deny) {
                break;
            }
            let b = tx.ledger()?.balance(&variant, &location);
            if b.reserved <= b.on_hand {
                break;
            }
            let filter = ReservationFilter {
                variant: Some(variant.clone()),
                location: Some(location.clone()),
                ..ReservationFilter::default()
            };
            let newest = tx
                .ledger()?
                .live_reservations(&filter)
                .into_iter()
                .filter(|r| r.order.is_some())
                .max_by_key(|r| r.first_seq)
                .map(|r| (r.id.clone(), r.order.clone()));
            let Some((reservation, Some(order_id))) = newest else {
                break;
            };
            let k = touched.index(engine, &order_id)?;
            let held: Vec<OrderEvent> = touched
                .order(k)
                .into_iter()
                .flat_map(|o| &o.lines)
                .flat_map(|l| {
                    l.allocations
                        .iter()
                        .filter(|a| a.reservation == reservation)
                        .map(|a| OrderEvent::Deallocated {
                            line_id: l.id.clone(),
                            reservation: a.reservation.clone(),
                            quantity: a.quantity,
                        })
                })
                .collect();
            tx.stock_effect(StockCommand::Release {
                reservation: reservation.clone(),
            })?;
            touched.record(k, held);
            if !to_resource.contains(&k) {
                to_resource.push(k);
            }
        }
    }
    // Released newest first; re-sourced oldest first, so earlier customers get the
    // first pick of what is left.
    for k in to_resource.into_iter().rev() {
        let Some(order) = touched.order(k).cloned() else {
            continue;
        };
        let on_short = if order.status == OrderStatus::OnHold {
            OnShort::Partial
        } else {
            OnShort::Hold
        };
        let events = allocate_open(&engine.config, tx, &order, on_short)?;
        touched.record(k, events);
    }
    Ok(())
}

/// What an expiry sweep did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExpirySweep {
    /// Reservations released because they lapsed, earliest expiry first.
    pub released: Vec<ReservationId>,
    /// The orders that lost reservations, as they are after the sweep (on hold or
    /// cancelled with reason `reservation_expired`, or already on hold before).
    pub orders: Vec<Order>,
    /// The ledger's movements and alerts.
    pub outcome: StockOutcome,
}
