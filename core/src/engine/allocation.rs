//! Orders meet stock: reserve on confirm, release on cancel and edit, commit on shipment.
//!
//! Each function reads the order before and after its command's events, executes the
//! stock commands on the write's ledger, and returns the order events that record them
//! (`allocated`, `deallocated`, `allocation_committed`, or `held` on a shortage). The
//! engine saves both in one change set, so an order and its reservations are stored
//! together or not at all.
//!
//! Variants the ledger does not know (never registered, not a bundle) are not
//! stock-tracked: they are never reserved, like a product without "track quantity".

use std::sync::Arc;

use crate::stock::FastMap;

use chrono::{DateTime, TimeDelta, Utc};

use crate::ids::{LineId, LocationId, ReservationId, VariantId};
use crate::order::{
    Allocation, HoldReason, LineQuantity, Order, OrderCommand, OrderError, OrderEvent, OrderLine,
    OrderStatus,
};
use smallvec::SmallVec;

use crate::sourcing::{plan_with, Ranked, SourcingLine, SourcingPlan, SourcingStrategy};
use crate::stock::{ReserveRequest, StockCommand, StockError, StockLedger, StockPolicy};

use super::{EngineConfig, EngineError, ShortagePolicy, SourcingConfig, Tx};

/// What to do with a shortage in [`allocate_open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnShort {
    /// Refuse with `STOCK_INSUFFICIENT`.
    Fail,
    /// Reserve what can be, and hold the order.
    Hold,
    /// Reserve what can be (the order is already on hold).
    Partial,
}

pub(crate) fn tracked(ledger: &StockLedger, variant: &VariantId) -> bool {
    ledger.policy(variant).is_some() || ledger.bundle(variant).is_some()
}

/// [`stock_effects`] appended to `events` (the step's own events): a confirmation's
/// allocations join the vector the step already holds instead of coming in one of
/// their own, copied over and freed. On an error `events` is as it was.
pub(crate) fn stock_effects_into(
    config: &EngineConfig,
    tx: &mut Tx<'_>,
    before: &Order,
    after: &Order,
    command: &OrderCommand,
    events: &mut Vec<OrderEvent>,
) -> Result<(), EngineError> {
    if let OrderCommand::Confirm = command {
        if config.reserve_on_confirm {
            let on_short = confirm_on_short(config);
            return allocate_open_into(config, tx, after, on_short, None, events);
        }
    }
    let effects = stock_effects(config, tx, before, after, command)?;
    if events.is_empty() {
        *events = effects;
    } else {
        events.extend(effects);
    }
    Ok(())
}

/// What a confirmation does with a shortage, by the engine's policy.
fn confirm_on_short(config: &EngineConfig) -> OnShort {
    match config.on_shortage {
        ShortagePolicy::Fail => OnShort::Fail,
        ShortagePolicy::Hold => OnShort::Hold,
    }
}

/// The stock side of an order command; see the module docs.
pub(crate) fn stock_effects(
    config: &EngineConfig,
    tx: &mut Tx<'_>,
    before: &Order,
    after: &Order,
    command: &OrderCommand,
) -> Result<Vec<OrderEvent>, EngineError> {
    match command {
        OrderCommand::Confirm if config.reserve_on_confirm => {
            allocate_open(config, tx, after, confirm_on_short(config))
        }
        OrderCommand::ReleaseHold
            if config.reserve_on_confirm
                && matches!(
                    after.status,
                    OrderStatus::Confirmed | OrderStatus::Processing
                ) =>
        {
            allocate_open(config, tx, after, OnShort::Fail)
        }
        OrderCommand::Cancel { .. } | OrderCommand::CancelLines { .. } => {
            release_excess(tx, before, after)
        }
        OrderCommand::EditLines { .. } => {
            let mut events = release_excess(tx, before, after)?;
            let was_confirmed = match after.status {
                OrderStatus::Confirmed => true,
                OrderStatus::OnHold => after
                    .hold
                    .as_ref()
                    .is_some_and(|h| h.previous != OrderStatus::Pending),
                _ => false,
            };
            if config.reserve_on_confirm && was_confirmed {
                let mut scratch = after.clone();
                for e in &events {
                    scratch.apply(e);
                }
                let on_short = if after.status == OrderStatus::OnHold {
                    OnShort::Partial
                } else {
                    OnShort::Fail
                };
                events.extend(allocate_open(config, tx, &scratch, on_short)?);
            }
            Ok(events)
        }
        OrderCommand::RecordShipment { lines } => commit_shipped(tx, before, lines),
        OrderCommand::RecordPayment { .. }
        | OrderCommand::MarkPaid
        | OrderCommand::Pay(crate::order::PaymentCommand::ConfirmCapture { .. }) => {
            payment_effects(config, tx, before, after)
        }
        OrderCommand::Fulfil(step) => {
            super::fulfilment::step_effects(config, tx, before, after, step)
        }
        _ => Ok(Vec::new()),
    }
}

/// Whether [`stock_effects`] of `command` on `order` reads only the order after it,
/// never the order before (so a caller that owns the order need not keep a copy of
/// it): a confirmation or a released hold reserves what the order after it still
/// needs, and a payment compares before and after only to stop the clock of
/// reservations the order holds (a channel order is paid before it is confirmed,
/// when it holds none).
pub(crate) fn reads_only_after(command: &OrderCommand, order: &Order) -> bool {
    match command {
        OrderCommand::Confirm | OrderCommand::ReleaseHold => true,
        OrderCommand::RecordPayment { .. }
        | OrderCommand::MarkPaid
        | OrderCommand::Pay(crate::order::PaymentCommand::ConfirmCapture { .. }) => {
            order.lines.iter().all(|l| l.allocations.is_empty())
        }
        _ => false,
    }
}

pub(crate) fn reservation_id(
    order: &Order,
    line: &LineId,
    k: usize,
) -> Result<ReservationId, EngineError> {
    // `<order>:<line>:v<version>:<k>`, joined on the stack (`format!` was a fifth of
    // the cost of reserving a line, `write!` of the two numbers another tenth, a joined
    // `String` an allocation freed at once), then copied once into the id.
    let (mut version, mut index) = (itoa::Buffer::new(), itoa::Buffer::new());
    // Valid parts (two ids, digits and `:`) make a valid id: only its length is checked.
    ReservationId::joined_valid(&[
        order.id.as_str(),
        ":",
        line.as_str(),
        ":v",
        version.format(order.version),
        ":",
        index.format(k),
    ])
    .map_err(|e| EngineError::Order(OrderError::from(e)))
}

/// The reservation's reference text, `order <order> line <line>`, joined on the stack
/// and copied once into the text the stock log and the ledger share.
fn reservation_reference(order: &Order, line: &LineId) -> Arc<str> {
    crate::ids::on_stack(
        &["order ", order.id.as_str(), " line ", line.as_str()],
        |text: &str| Arc::from(text),
    )
}

fn ranked_locations<'a>(ledger: &'a StockLedger, avoid: Option<&LocationId>) -> Ranked<'a> {
    let mut locations: Ranked<'a> = ledger
        .locations()
        .filter(|l| Some(&l.id) != avoid)
        .collect();
    locations.sort_by(|a, b| (a.priority, &a.id).cmp(&(b.priority, &b.id)));
    locations
}

/// Units the variant's policy still allows at `location` beyond `planned`.
fn reservable(
    ledger: &StockLedger,
    variant: &VariantId,
    location: &LocationId,
    planned: u64,
) -> (i64, StockPolicy) {
    let policy = ledger.policy(variant).unwrap_or(StockPolicy::Deny);
    let balance = ledger.balance(variant, location);
    let can = policy.reservable(&balance, ledger.safety_stock(variant, location));
    (
        can.saturating_sub(i64::try_from(planned).unwrap_or(i64::MAX)),
        policy,
    )
}

/// Units of `variant` its policy still allows at `location`: for a bundle, how many
/// whole bundles its components' policies allow there (a bundle has no stock of its
/// own).
fn reservable_units(ledger: &StockLedger, variant: &VariantId, location: &LocationId) -> i64 {
    stock_lines(ledger, variant)
        .iter()
        .map(|(v, per)| reservable(ledger, v, location, 0).0 / i64::from((*per).max(1)))
        .min()
        .unwrap_or(0)
}

struct Reserve {
    line: LineId,
    variant: VariantId,
    location: LocationId,
    quantity: u32,
    /// Reserved under a backorder or pre-order policy, beyond sellable stock.
    ahead_of_stock: bool,
}

/// The plan for `lines` of `order` under the engine's sourcing configuration.
fn plan_lines(
    config: &EngineConfig,
    ledger: &StockLedger,
    order: &Order,
    lines: &[&OrderLine],
    avoid: Option<&LocationId>,
    explain: bool,
) -> Result<SourcingPlan, EngineError> {
    let requests: SmallVec<[SourcingLine; 4]> = lines
        .iter()
        .map(|l| SourcingLine::new(l.id.clone(), l.variant.clone(), l.unallocated_quantity()))
        .collect();
    let strategy = match &config.sourcing {
        SourcingConfig::Priority => SourcingStrategy::Priority,
        SourcingConfig::FewestShipments => SourcingStrategy::FewestShipments,
        SourcingConfig::NearestRegion => order
            .shipping_address
            .as_ref()
            .and_then(|a| a.region.clone())
            .map_or(SourcingStrategy::Priority, |customer_region| {
                SourcingStrategy::NearestRegion { customer_region }
            }),
    };
    let locations = ranked_locations(ledger, avoid);
    // Automation rules (issue 14): routes and excluded locations set on the order.
    if !order.automation.routes.is_empty() || !order.automation.excluded_locations.is_empty() {
        return super::rules::plan_routed(
            order,
            &requests,
            &locations,
            ledger,
            &strategy,
            config.allow_split,
        );
    }
    Ok(plan_with(
        &requests,
        &locations,
        ledger,
        &strategy,
        config.allow_split,
        explain,
    )?)
}

/// The plan confirming `order` would use for its open, unreserved tracked units, or
/// `None` when nothing needs stock. Reads only.
pub(crate) fn preview(
    config: &EngineConfig,
    ledger: &StockLedger,
    order: &Order,
) -> Result<Option<SourcingPlan>, EngineError> {
    let needs: Vec<&OrderLine> = order
        .lines
        .iter()
        .filter(|l| l.unallocated_quantity() > 0 && tracked(ledger, &l.variant))
        .collect();
    if needs.is_empty() {
        return Ok(None);
    }
    // The plan as confirming would reserve it: sourcing's choice, then what policies
    // reserve ahead of stock, and what stays short.
    let Decided {
        mut plan,
        reserves,
        short,
    } = decide_reservations(config, ledger, order, &needs, None, true)?;
    for r in reserves.iter().filter(|r| r.ahead_of_stock) {
        let name = ledger
            .location(&r.location)
            .map_or_else(|| r.location.to_string(), |l| l.name.clone());
        plan.explanation.push(format!(
            "Line {}: {} reserved at {name} ahead of stock, as the {} policy allows",
            r.line,
            plural_units(r.quantity),
            ledger
                .policy(&r.variant)
                .map_or_else(|| "components'".to_string(), |p| p.to_string())
        ));
    }
    for (what, err) in &short {
        plan.explanation
            .push(format!("Confirming would find {what} short: {err}"));
    }
    Ok(Some(plan))
}

fn plural_units(n: u32) -> String {
    if n == 1 {
        "1 unit".to_string()
    } else {
        format!("{n} units")
    }
}

/// The stock a unit of `variant` draws on: a bundle's components with units per
/// bundle, or the variant itself once.
fn stock_lines(ledger: &StockLedger, variant: &VariantId) -> Vec<(VariantId, u32)> {
    match ledger.bundle(variant) {
        Some(b) if !b.components.is_empty() => b.components.clone(),
        _ => vec![(variant.clone(), 1)],
    }
}

/// When reservations made at `now` for `order` lapse: never when no time-to-live
/// applies, or when the order is paid and payment stops the clock.
pub(crate) fn reservation_expiry(
    config: &EngineConfig,
    order: &Order,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let ttl = match order.reservation_ttl_minutes {
        Some(minutes) => Some(TimeDelta::minutes(i64::from(minutes))),
        None => match config.reservation_ttl_by_channel.get(&order.channel) {
            Some(per_channel) => *per_channel,
            None => config.reservation_ttl,
        },
    }?;
    // Only a clock that runs needs the order's totals (the dearer question).
    if config.payment_stops_reservation_clock && is_paid(order) {
        return None;
    }
    now.checked_add_signed(ttl)
}

/// Nothing is left to pay (a free order counts as paid).
pub(crate) fn is_paid(order: &Order) -> bool {
    order
        .balance_due()
        .is_ok_and(|due| due.is_zero() || due.is_negative())
}

/// Why units of a line could not be reserved: the first stock variant short at the
/// location the rest would be reserved at, with the units needed and free there.
fn shortage(
    ledger: &StockLedger,
    line: &OrderLine,
    units: u32,
    location: &LocationId,
    planned: &FastMap<(VariantId, LocationId), u64>,
) -> StockError {
    let lines = stock_lines(ledger, &line.variant);
    let mut first = None;
    for (v, per) in &lines {
        let already = planned
            .get(&(v.clone(), location.clone()))
            .copied()
            .unwrap_or(0);
        let (can, policy) = reservable(ledger, v, location, already);
        let needed = u64::from(units) * u64::from(*per);
        let err = StockError::Insufficient {
            variant: v.clone(),
            location: location.clone(),
            requested: needed,
            available: can.max(0),
            policy,
        };
        if can < i64::try_from(needed).unwrap_or(i64::MAX) {
            return err;
        }
        first.get_or_insert(err);
    }
    first.unwrap_or(StockError::Insufficient {
        variant: line.variant.clone(),
        location: location.clone(),
        requested: u64::from(units),
        available: 0,
        policy: StockPolicy::Deny,
    })
}

/// What confirming would reserve: the sourcing plan, the reservations it implies
/// (backorder and pre-order ones included), and the units no policy covers.
struct Decided {
    plan: SourcingPlan,
    reserves: SmallVec<[Reserve; 4]>,
    short: Vec<(String, StockError)>,
}

/// Decides the reservations for `needs` without touching the ledger: what sellable
/// stock covers, per the plan; then what a backorder or pre-order policy still allows
/// at the preferred location (for a bundle, every component's policy must allow it);
/// the rest is short, with the error naming the stock variant, location and units.
fn decide_reservations(
    config: &EngineConfig,
    ledger: &StockLedger,
    order: &Order,
    needs: &[&OrderLine],
    avoid: Option<&LocationId>,
    explain: bool,
) -> Result<Decided, EngineError> {
    let plan = plan_lines(config, ledger, order, needs, avoid, explain)?;
    let mut reserves: SmallVec<[Reserve; 4]> = SmallVec::with_capacity(plan.assignments.len());
    for a in &plan.assignments {
        let Some(line) = needs.iter().find(|l| l.id == a.line) else {
            continue;
        };
        reserves.push(Reserve {
            line: a.line.clone(),
            variant: line.variant.clone(),
            location: a.location.clone(),
            quantity: a.quantity,
            ahead_of_stock: false,
        });
    }
    let mut short: Vec<(String, StockError)> = Vec::new();
    if plan.unfilled.is_empty() {
        // Everything is sourced from stock (the common case): no backorder to judge.
        return Ok(Decided {
            plan,
            reserves,
            short,
        });
    }
    let locations = ranked_locations(ledger, avoid);
    // Units of each stock variant (a bundle's components counted as such) this plan
    // takes per location, so what is left for backorders is judged on the same stock.
    let mut planned: FastMap<(VariantId, LocationId), u64> = FastMap::default();
    let take = |planned: &mut FastMap<(VariantId, LocationId), u64>,
                variant: &VariantId,
                location: &LocationId,
                quantity: u32| {
        for (v, per) in stock_lines(ledger, variant) {
            *planned.entry((v, location.clone())).or_default() +=
                u64::from(quantity) * u64::from(per);
        }
    };
    for a in &plan.assignments {
        if let Some(line) = needs.iter().find(|l| l.id == a.line) {
            take(&mut planned, &line.variant, &a.location, a.quantity);
        }
    }
    // A backorder goes to the first location by priority the order's rules allow for
    // the line (its route's, none excluded), as its stock would have.
    let automation = &order.automation;
    for u in &plan.unfilled {
        let Some(line) = needs.iter().find(|l| l.id == u.line) else {
            continue;
        };
        let route = automation.route_for(line.variant.as_str());
        let allowed = |l: &&&crate::stock::Location| {
            !automation.excluded_locations.contains(&l.id) && route.is_none_or(|r| r == &l.id)
        };
        let Some(best) = locations.iter().find(allowed).or(locations.first()) else {
            continue;
        };
        if !allowed(&best) {
            // No location the rules allow: short, judged where the route points.
            let at = route.unwrap_or(&best.id);
            let err = shortage(ledger, line, u.quantity, at, &planned);
            short.push((format!("{} × {}", u.quantity, line.variant), err));
            continue;
        }
        let fits = stock_lines(ledger, &line.variant).iter().all(|(v, per)| {
            let already = planned
                .get(&(v.clone(), best.id.clone()))
                .copied()
                .unwrap_or(0);
            let (can, policy) = reservable(ledger, v, &best.id, already);
            policy != StockPolicy::Deny
                && can >= i64::from(u.quantity).saturating_mul(i64::from(*per))
        });
        if fits {
            take(&mut planned, &line.variant, &best.id, u.quantity);
            reserves.push(Reserve {
                line: u.line.clone(),
                variant: line.variant.clone(),
                location: best.id.clone(),
                quantity: u.quantity,
                ahead_of_stock: true,
            });
            continue;
        }
        let err = shortage(ledger, line, u.quantity, &best.id, &planned);
        short.push((format!("{} × {}", u.quantity, line.variant), err));
    }
    Ok(Decided {
        plan,
        reserves,
        short,
    })
}

/// Reserves stock for every open, unreserved unit of tracked lines.
pub(crate) fn allocate_open(
    config: &EngineConfig,
    tx: &mut Tx<'_>,
    order: &Order,
    on_short: OnShort,
) -> Result<Vec<OrderEvent>, EngineError> {
    allocate_open_avoiding(config, tx, order, on_short, None)
}

/// [`allocate_open`] without `avoid` (a location where a picker just failed to find
/// units: the ledger may still believe in more of them there).
pub(crate) fn allocate_open_avoiding(
    config: &EngineConfig,
    tx: &mut Tx<'_>,
    order: &Order,
    on_short: OnShort,
    avoid: Option<&LocationId>,
) -> Result<Vec<OrderEvent>, EngineError> {
    let mut events = Vec::new();
    allocate_open_into(config, tx, order, on_short, avoid, &mut events)?;
    Ok(events)
}

/// [`allocate_open_avoiding`] appended to `events`; on an error `events` is as it was.
fn allocate_open_into(
    config: &EngineConfig,
    tx: &mut Tx<'_>,
    order: &Order,
    on_short: OnShort,
    avoid: Option<&LocationId>,
    events: &mut Vec<OrderEvent>,
) -> Result<(), EngineError> {
    let start = events.len();
    // The allocation itself: an error anywhere in it takes back what it appended.
    let allocated = (|| {
        // Unread (`Tx::skip_read`), the plan is checked by its reservations only if
        // every open line is tracked and reserved in full: each reservation appends to
        // its variant's partition. A line left untracked or short decided nothing the
        // commit checks, so then the plan is made again on the log as read.
        let unread = tx.unread();
        let ledger = &*tx.ledger_checked()?;
        let open = order
            .lines
            .iter()
            .filter(|l| l.unallocated_quantity() > 0)
            .count();
        let needs: SmallVec<[&OrderLine; 8]> = order
            .lines
            .iter()
            .filter(|l| l.unallocated_quantity() > 0 && tracked(ledger, &l.variant))
            .collect();
        if unread && needs.len() < open {
            return Ok(false);
        }
        if needs.is_empty() {
            return Ok(true);
        }
        // Confirming reads the plan's assignments only: no sentences are written.
        let Decided {
            reserves,
            mut short,
            ..
        } = decide_reservations(config, ledger, order, &needs, avoid, false)?;
        if unread && !short.is_empty() {
            return Ok(false);
        }
        if on_short == OnShort::Fail {
            if let Some((_, err)) = short.into_iter().next() {
                return Err(err.into());
            }
            short = Vec::new();
        }
        let expires_at = reservation_expiry(config, order, tx.now);
        events.reserve(reserves.len() + 1);
        for (k, r) in reserves.into_iter().enumerate() {
            let id = reservation_id(order, &r.line, k)?;
            let request = ReserveRequest::new(
                id.clone(),
                r.variant.clone(),
                r.location.clone(),
                r.quantity,
            )
            .with_reference(reservation_reference(order, &r.line))
            .for_order(order.id.clone())
            .expiring(expires_at);
            match tx.stock_effect(StockCommand::Reserve { request }) {
                Ok(_) => {}
                // The plan is checked against the same ledger, so this is a safety net:
                // under a hold policy a refused reservation is a shortage, not a failure.
                Err(EngineError::Stock(e @ StockError::Insufficient { .. }))
                    if on_short != OnShort::Fail =>
                {
                    short.push((format!("{} × {}", r.quantity, r.variant), e));
                    continue;
                }
                Err(e) => return Err(e),
            }
            events.push(OrderEvent::Allocated {
                line_id: r.line,
                allocation: Allocation {
                    reservation: id,
                    location: r.location,
                    quantity: r.quantity,
                },
            });
        }
        if !short.is_empty() && on_short == OnShort::Hold && order.status != OrderStatus::OnHold {
            let detail: Vec<String> = short
                .iter()
                .map(|(what, err)| format!("{what} ({err})"))
                .collect();
            events.push(OrderEvent::Held {
                reason: HoldReason::InsufficientStock,
                note: Some(format!("short: {}", detail.join("; "))),
                from: order.status,
            });
        }
        Ok(true)
    })();
    match allocated {
        Ok(true) => Ok(()),
        // Not wholly made of reservations, decided unread: read (the write then no
        // longer skips its read, so this happens once) and planned again.
        Ok(false) => {
            events.truncate(start);
            tx.ledger()?;
            allocate_open_into(config, tx, order, on_short, avoid, events)
        }
        Err(e) => {
            events.truncate(start);
            Err(e)
        }
    }
}

/// A payment's stock side. Paying in full stops the reservations' clock (when
/// configured). A payment on an order held because its reservations lapsed re-reserves
/// what stock allows: everything found releases the hold; otherwise the order stays on
/// hold, with a note saying the stock was released and what is short.
fn payment_effects(
    config: &EngineConfig,
    tx: &mut Tx<'_>,
    before: &Order,
    after: &Order,
) -> Result<Vec<OrderEvent>, EngineError> {
    // Whether the payment stops a clock: only a reservation with an expiry has one, and
    // only then is it worth computing the order's totals (twice) to see whether this
    // payment settled it. A channel order is paid before it is confirmed, when it holds
    // nothing yet.
    // (The ledger is asked only when the order holds reservations: a write that never
    // asks never reads the store's stock log, see `Tx::ledger`.)
    let holds = after.lines.iter().any(|l| !l.allocations.is_empty());
    let expiring: Vec<&ReservationId> = if config.payment_stops_reservation_clock && holds {
        let ledger = &*tx.ledger()?;
        after
            .lines
            .iter()
            .flat_map(|l| &l.allocations)
            .map(|a| &a.reservation)
            .filter(|r| ledger.reservation_expiry(r).flatten().is_some())
            .collect()
    } else {
        Vec::new()
    };
    if !expiring.is_empty() && is_paid(after) && !is_paid(before) {
        for reservation in expiring {
            tx.stock_effect(StockCommand::SetReservationExpiry {
                reservation: reservation.clone(),
                expires_at: None,
            })?;
        }
    }
    let Some(hold) = &after.hold else {
        return Ok(Vec::new());
    };
    let resumable = matches!(
        hold.previous,
        OrderStatus::Confirmed | OrderStatus::Processing
    );
    if hold.reason != HoldReason::ReservationExpired || !resumable || !config.reserve_on_confirm {
        return Ok(Vec::new());
    }
    let mut events = allocate_open(config, tx, after, OnShort::Partial)?;
    let mut scratch = after.clone();
    for e in &events {
        scratch.apply(e);
    }
    let ledger = &*tx.ledger()?;
    let missing: Vec<String> = scratch
        .lines
        .iter()
        .filter(|l| l.unallocated_quantity() > 0 && tracked(ledger, &l.variant))
        .map(|l| format!("{} × {}", l.unallocated_quantity(), l.variant))
        .collect();
    if missing.is_empty() {
        events.push(OrderEvent::HoldReleased { to: hold.previous });
    } else {
        events.push(OrderEvent::NoteAdded {
            note: format!(
                "payment arrived after the reservation expired and its stock was released; still short: {}",
                missing.join(", ")
            ),
        });
    }
    Ok(events)
}

/// Releases reservations a line no longer needs (cancelled or edited units, removed
/// lines), newest first; a reservation only partly needed is partly released.
fn release_excess(
    tx: &mut Tx<'_>,
    before: &Order,
    after: &Order,
) -> Result<Vec<OrderEvent>, EngineError> {
    let mut events = Vec::new();
    for line in &before.lines {
        let keep = after.line(&line.id).map_or(0, OrderLine::open_quantity);
        let excess = line.fulfilment.allocated.saturating_sub(keep);
        events.extend(release_units(tx, line, None, excess)?);
    }
    Ok(events)
}

/// Releases up to `quantity` units a line holds (at `location` only, when given),
/// newest reservation first; a reservation only partly needed is partly released.
pub(crate) fn release_units(
    tx: &mut Tx<'_>,
    line: &OrderLine,
    location: Option<&LocationId>,
    quantity: u32,
) -> Result<Vec<OrderEvent>, EngineError> {
    let mut events = Vec::new();
    let mut rest = quantity;
    for a in line
        .allocations
        .iter()
        .rev()
        .filter(|a| location.is_none_or(|l| &a.location == l))
    {
        if rest == 0 {
            break;
        }
        let take = a.quantity.min(rest);
        let command = if take == a.quantity {
            StockCommand::Release {
                reservation: a.reservation.clone(),
            }
        } else {
            StockCommand::ReleasePartial {
                reservation: a.reservation.clone(),
                quantity: take,
            }
        };
        tx.stock_effect(command)?;
        events.push(OrderEvent::Deallocated {
            line_id: line.id.clone(),
            reservation: a.reservation.clone(),
            quantity: take,
        });
        rest -= take;
    }
    Ok(events)
}

/// Commits reservations for shipped units, oldest first. Units of a tracked line that
/// shipped without a reservation are reserved at the preferred location that can hold
/// them and committed at once, so the ledger always records the sale.
fn commit_shipped(
    tx: &mut Tx<'_>,
    before: &Order,
    shipped: &[LineQuantity],
) -> Result<Vec<OrderEvent>, EngineError> {
    let mut events = Vec::new();
    for (k, lq) in shipped.iter().enumerate() {
        let Some(line) = before.line(&lq.line_id) else {
            continue;
        };
        if !tracked(tx.ledger()?, &line.variant) {
            continue;
        }
        let mut rest = lq.quantity;
        for a in &line.allocations {
            if rest == 0 {
                break;
            }
            let take = a.quantity.min(rest);
            tx.stock_effect(StockCommand::CommitPartial {
                reservation: a.reservation.clone(),
                quantity: take,
            })?;
            events.push(OrderEvent::AllocationCommitted {
                line_id: line.id.clone(),
                reservation: a.reservation.clone(),
                quantity: take,
            });
            rest -= take;
        }
        if rest == 0 {
            continue;
        }
        let location = {
            // Scoped: the ranking borrows the ledger, which the reservation below changes.
            let ledger = &*tx.ledger()?;
            let locations = ranked_locations(ledger, None);
            let chosen = locations
                .iter()
                .find(|l| reservable_units(ledger, &line.variant, &l.id) >= i64::from(rest));
            let Some(location) = chosen.map(|l| l.id.clone()) else {
                let Some(best) = locations.first() else {
                    return Err(EngineError::InvalidInput {
                        field: "stock",
                        reason: "a tracked variant shipped but no stock location exists",
                    });
                };
                let (_, policy) = reservable(ledger, &line.variant, &best.id, 0);
                return Err(StockError::Insufficient {
                    variant: line.variant.clone(),
                    location: best.id.clone(),
                    requested: u64::from(rest),
                    available: reservable_units(ledger, &line.variant, &best.id).max(0),
                    policy,
                }
                .into());
            };
            location
        };
        let id = reservation_id(before, &line.id, 1000 + k)?;
        let request = ReserveRequest::new(id.clone(), line.variant.clone(), location.clone(), rest)
            .with_reference(format!(
                "order {} line {} (shipped unreserved)",
                before.id, line.id
            ));
        tx.stock_effect(StockCommand::Reserve { request })?;
        tx.stock_effect(StockCommand::Commit {
            reservation: id.clone(),
        })?;
        events.push(OrderEvent::Allocated {
            line_id: line.id.clone(),
            allocation: Allocation {
                reservation: id.clone(),
                location: location.clone(),
                quantity: rest,
            },
        });
        events.push(OrderEvent::AllocationCommitted {
            line_id: line.id.clone(),
            reservation: id,
            quantity: rest,
        });
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ChannelId;
    use crate::ids::OrderId;
    use crate::money::{Currency, Money};
    use crate::order::{place, NewLine, NewOrder, OrderEvent};

    // Reservation ids and references are saved and read back by hosts: their text
    // must not change with how it is built.
    #[test]
    fn reservation_ids_and_references_keep_their_text() {
        let try_ = Currency::parse("TRY").unwrap();
        let line = NewLine::new(
            VariantId::parse("MUG").unwrap(),
            1,
            Money::new("10.00".parse().unwrap(), try_).unwrap(),
        );
        let new = NewOrder::new(
            ChannelId::parse("web").unwrap(),
            chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
            try_,
            vec![line],
        );
        let OrderEvent::Placed(placed) = place(&new).unwrap() else {
            panic!("place gives a placed event");
        };
        let mut order = Order::from_placed(OrderId::parse("o-17").unwrap(), &placed);
        order.version = 12;
        let line = LineId::parse("L3").unwrap();
        assert_eq!(
            reservation_id(&order, &line, 1004).unwrap().as_str(),
            "o-17:L3:v12:1004"
        );
        assert_eq!(&*reservation_reference(&order, &line), "order o-17 line L3");
    }
}
