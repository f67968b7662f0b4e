//! Idempotent intake of channel orders through the engine.
//!
//! **Dedupe key**: `(channel id, external id)`, placed as the order's `external_ref`, so
//! the engine itself guarantees one order per channel order (even if the host's
//! [`IntakeLog`] is lost). The external id per channel: Shopify `id`, WooCommerce `id`,
//! Trendyol `orderNumber` (not the package id: an order's packages merge into one
//! order), Hepsiburada `orderNumber`, Amazon `AmazonOrderId` / `orderId` (both shapes
//! import as channel `amazon`), eBay `orderId`.
//!
//! **Updates**: a re-delivery is compared with the order as stored and only the
//! difference is applied, each step through the state machine with an idempotency
//! key derived from the step and its target (so a retried delivery is a no-op):
//! confirm, mark paid, cancel (whole order, or the open units once some shipped),
//! cancel units, ship, deliver, return units, refund the difference of the refunded
//! amount. Steps the state machine refuses are reported, never forced.
//!
//! **Partial deliveries**: Trendyol and Hepsiburada deliver one package / status feed
//! at a time ([`crate::Channel::delivers_whole_order`] is `false`), so a delivery whose
//! status is `cancelled` cancels only the units of the lines it carries, never the
//! whole order; the engine cancels the order once no unit of any of its lines is left.
//! Lines of such a delivery the order does not have yet are added before its
//! cancellations are applied.
//!
//! **A line split across parts**: one Trendyol order line can be split across
//! packages (2 units packed as two packages of 1), and a webhook delivers one package
//! per call. Such a delivery's line counts (units, shipped, delivered, returned,
//! cancelled) are those of its own packages only, so intake judges a line the order
//! already has by the sum over every part of the order it has seen, each at its newest
//! reading ([`SeenPart::lines`]): the log's parts updated with this delivery's (a part
//! whose reading here is stale keeps the one applied), leaving out superseded parts (a
//! package `UnPacked`, or named in another package's `originPackageIds`, even when
//! its `UnPacked` news has not arrived).
//!
//! The shipped, delivered, returned and cancelled units are always those sums: the
//! package a split was made from is one not shipped yet (Trendyol splits `Created`,
//! `Picking` and `Invoiced` packages only), so while its `UnPacked` news is missing it
//! adds none of them. The line's units are the sum only when no part of it could be
//! that missing origin: when every part of the line but at most one names the packages
//! it was made from (`originPackageIds`), or the parts that name none have shipped.
//! Otherwise (a package without `originPackageIds` next to one not shipped: the first
//! may have been made from the second) they are the delivery's own, as before, so a
//! split is never counted twice. A line the order does not have yet is added as the
//! delivery carries it (its units with its own discounts). A part whose lines the log
//! does not know (a record written before they were kept) counts for nothing in those
//! sums, and a Hepsiburada part is one line, so its counts are the delivery's. A sum
//! beyond a `u32` is refused as `CHANNEL_INVALID_QUANTITY` before any change.
//!
//! **Line edits on the channel**: fewer live units on a line, or a line gone, cancels
//! the difference (`cancel_lines`, releasing its reservation); more units, or a new line,
//! go through `edit_order` (reserved like the rest when the order is confirmed). Each
//! difference is reported in [`ImportReport::line_changes`]; what the engine cannot
//! express (units already shipped, an order already being fulfilled, an added SKU that
//! maps to nothing) is left with a typed [`LineChangeBlocked`] reason. Trendyol and
//! Hepsiburada deliver one package / status feed at a time, so for them a missing line
//! or fewer units is not a removal; only added lines and more units count. A Trendyol
//! line has more units when a package of it the order had not seen arrives (the order
//! was first seen through another package of a split line): when the sum over its
//! packages is sure (see below), it raises the line's quantity through `edit_order`
//! like any raise, so the units are reserved and can ship. The engine keeps the line's
//! discounts as they were (an edit changes only the quantity), so a discount of the
//! added units is not on the order, and it edits no order that has started shipping:
//! the raise is then reported refused ([`LineChangeBlocked::Refused`]) and the line
//! keeps its units (its stages are capped at them).
//!
//! **Staleness**: an update whose channel `updated_at` is older than the last one
//! applied, or (without timestamps) whose lifecycle stage is behind the stored one, is
//! ignored and reported as [`ImportOutcome::Stale`]. For channels that deliver an
//! order in parts it is judged per part ([`crate::ChannelPart`]: a Trendyol package by
//! its `lastModifiedDate`, as Trendyol's dedupe key `(shipmentPackageId, status,
//! lastModifiedDate)` implies; a Hepsiburada line item by its stage): a delivery is
//! stale only when every part it carries is, and a part never seen is never stale.
//!
//! **Unmapped SKUs**: a line whose identifiers map to no variant gets a placeholder
//! variant (its SKU) and the order is held with reason `unmapped_sku`; status updates
//! other than cancellation and money wait until the hold is released.
//!
//! **Unpriced lines**: a channel order not placed yet with a line the channel has not
//! priced ([`ChannelLine::unpriced`]: Amazon v0 gives no `ItemPrice` while an order is
//! `Pending`) is not placed: the report says [`ImportOutcome::Unpriced`] and lists the
//! lines in [`ImportReport::unpriced`], and nothing is changed or recorded in the log
//! (there is no order to record), so every later delivery is judged as a first one.
//! The first delivery that prices every line places the order at the channel's prices
//! (the engine's order edits change quantities and lines, never a unit price, so an
//! order placed at placeholder prices could not be corrected); one cancelled before
//! that is never placed. An order already placed keeps its prices whatever a later
//! delivery lacks (its status is still synchronised: a cancellation without prices
//! cancels it), and a line such a delivery adds unpriced is not added
//! ([`LineChangeBlocked::Unpriced`]). That needs the log's record of the order: with
//! the log lost, an unpriced delivery cannot find the order without placing one, so it
//! is reported unpriced and the order is left as it is until a priced delivery.
//!
//! Stock while an order waits for its prices: nothing is reserved for it in the
//! engine's ledger, exactly as before this wait existed (a `Pending` channel order was
//! placed but not confirmed, and the engine reserves on confirmation). Amazon holds
//! the units against its own listing while the order is pending (\[U\]: Amazon's
//! seller documentation, not CHANNELS.md). The units are reserved when the priced
//! delivery confirms the order; if another channel sold them meanwhile, that
//! confirmation is refused (`STOCK_INSUFFICIENT`) or holds the order
//! (`insufficient_stock`), as the engine's shortage policy says, and the report's
//! `failed` names it: never an oversale nobody sees.
//!
//! **Returns, claims, refunds**: reported as [`crate::ChannelEvent`]s (each once, by id);
//! a claim or return of an imported order becomes an RMA on it through the core's
//! returns workflow ([`Intake::import_events`]), and the RMA follows the channel's later
//! decision on the claim (accepted, rejected, cancelled: [`ClaimDecision`]); refunded
//! money and returned or cancelled units are recorded on the order where the payload
//! states them exactly.

use std::collections::BTreeMap;

use ordersmith::engine::{CommandContext, Engine, EngineError};
use ordersmith::errors::{ErrorKind, OrdersmithError};
use ordersmith::ids::{ChannelId, LineId, OrderId, VariantId};
use ordersmith::money::Money;
use ordersmith::order::{
    CancelReason, Discount, HoldReason, LineEdit, LineQuantity, NewLine, NewOrder, Order,
    OrderCommand, OrderStatus, ShippingLine, TaxLine,
};
use ordersmith::returns::{ReturnLineRequest, ReturnReason, RmaStatus};
use ordersmith::stock::StockCommand;
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ChannelError;
use crate::mapping::{IdKind, IdentifierMap, MappingError};
use crate::model::{ChannelEvent, ChannelLine, ChannelOrder, ChannelPart, Lifecycle, PartLine};
use crate::push::PushAck;

mod log;
mod report;

pub use log::{IntakeLog, MemoryIntakeLog, SeenClaim, SeenOrder, SeenPart};
pub use report::{
    ClaimDecision, EventReport, ImportOutcome, ImportReport, IntakeOptions, LineChange,
    LineChangeBlocked, LineChangeKind, RmaUpdate, StepFailure,
};

/// Why an import failed as a whole (nothing of it was applied, or, for `Engine`
/// after placing, the report of a later call tells what was).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(untagged)]
pub enum IntakeError {
    /// The payload could not be read.
    #[error(transparent)]
    Channel(#[from] ChannelError),
    /// The engine refused to place or load the order.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The identifier map failed.
    #[error(transparent)]
    Mapping(#[from] MappingError),
    /// The intake log failed.
    #[error("intake log unavailable: {reason}")]
    LogUnavailable {
        /// Why.
        reason: String,
    },
}

impl IntakeError {
    /// Codes this enum returns itself (wrapped errors keep theirs).
    pub const CODES: &'static [&'static str] = &["INTAKE_LOG_UNAVAILABLE"];

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Channel(e) => e.code(),
            Self::Engine(e) => e.code(),
            Self::Mapping(e) => e.code(),
            Self::LogUnavailable { .. } => "INTAKE_LOG_UNAVAILABLE",
        }
    }
}

impl OrdersmithError for IntakeError {
    fn code(&self) -> &'static str {
        IntakeError::code(self)
    }
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Engine(e) => e.kind(),
            _ => crate::error::kind_of(self.code()),
        }
    }
}

/// Imports channel orders into an engine.
pub struct Intake<'a> {
    engine: &'a Engine,
    map: &'a dyn IdentifierMap,
    log: &'a dyn IntakeLog,
    options: IntakeOptions,
}

fn key_for(parts: &str) -> String {
    if parts.len() <= 120 {
        return format!("channel:{parts}");
    }
    let digest = Sha256::digest(parts.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "channel:{}:{hex}",
        parts.chars().take(80).collect::<String>()
    )
}

impl<'a> Intake<'a> {
    /// Intake into `engine`, resolving identifiers with `map`, remembering with `log`.
    pub fn new(
        engine: &'a Engine,
        map: &'a dyn IdentifierMap,
        log: &'a dyn IntakeLog,
        options: IntakeOptions,
    ) -> Self {
        Intake {
            engine,
            map,
            log,
            options,
        }
    }

    /// Parses and imports one payload.
    pub fn import_payload(
        &self,
        channel: crate::Channel,
        body: &[u8],
    ) -> Result<ImportReport, IntakeError> {
        let order = crate::parse_order(channel, body)?;
        self.import(&order)
    }

    /// Reads a claims / returns feed ([`crate::parse_events`]) and reports each event
    /// with the order it concerns, once: an event already reported for an imported
    /// order comes back with `new: false`. Events of orders never imported are reported
    /// every time (there is no order to remember them on).
    ///
    /// A claim or return of an imported order becomes an RMA on it (the core's
    /// returns workflow, [`Engine::request_return`]): its lines mapped to the order's
    /// lines (by the channel's line id, or for eBay by the listing id the return names,
    /// the order line's `legacyItemId`), its reason read from the channel's text
    /// ([`return_reason`]), keyed by the channel's claim id so a re-delivery never asks
    /// twice. When the return policy rejects it but the channel reports the claim
    /// accepted (the marketplace decided), the rejection is overridden with that as the
    /// reason. A claim that cannot become an RMA is reported in `rma_failed`; it is
    /// tried again on each later delivery of the feed while the cause may still go away
    /// (the order's delivery, or the package holding its line, not imported yet; the
    /// store unavailable), and no more once it became an RMA or the refusal is for good
    /// (a line the order does not have, more units than the line has).
    ///
    /// Once a claim is an RMA, later deliveries follow the channel's decision on it
    /// ([`ClaimDecision::of_status`]) when it differs from the one the RMA last
    /// followed (the log keeps it, [`SeenClaim`]; at first the claim's decision when
    /// its RMA was made): a claim accepted whose RMA is rejected (by the policy, or
    /// after an earlier rejection on the channel) is approved by override, the
    /// channel's acceptance as the reason, as when it was made; a claim rejected
    /// rejects its RMA (`reject_return`, the channel's rejection as the reason) unless
    /// it is rejected or closed already; a claim cancelled closes its RMA
    /// (`close_return`) unless it is closed already. A status that states no decision
    /// (waiting, in analysis, in dispute; eBay's return states) changes nothing. Where
    /// the RMA already is where the decision leads, nothing is done. Each step runs
    /// with an idempotency key naming the order's version and the step (as intake's
    /// order steps), so a re-delivery racing it replays it; what the core refuses (an
    /// RMA whose goods arrived cannot be rejected or closed before inspection, a closed
    /// one cannot be approved) is reported in [`EventReport::rma_update`], never
    /// forced. Applied or refused for good, the decision is recorded and not acted on
    /// again until the channel's decision changes; a step that failed for a passing
    /// cause (the store unavailable, a lost race) is tried on the next delivery. A
    /// claim first delivered already rejected or cancelled keeps the RMA its request
    /// made (as before this was followed): only a later change is followed.
    pub fn import_events(
        &self,
        channel: crate::Channel,
        body: &[u8],
    ) -> Result<Vec<EventReport>, IntakeError> {
        let events = crate::parse_events(channel, body)?;
        let channel_id = channel.channel_id();
        let log_err = |reason: String| IntakeError::LogUnavailable { reason };
        let mut out = Vec::new();
        for event in events {
            let Some(order_ref) = event.order_external_id.clone() else {
                out.push(EventReport {
                    event,
                    order_id: None,
                    new: true,
                    rma: None,
                    rma_failed: None,
                    rma_update: None,
                });
                continue;
            };
            match self.log.get(channel_id, &order_ref).map_err(log_err)? {
                Some(mut seen) => {
                    let id = format!("{}:{}", event.kind, event.external_id);
                    // The RMA is settled (made, or refused for good) under its own
                    // entry: reporting the event and asking for its RMA are apart, so
                    // an RMA that could not be made yet is asked again next time.
                    let settled = format!("rma:{id}");
                    let new = seen.events.insert(id.clone());
                    let mut changed = new;
                    let order_id = seen.order_id.clone();
                    let claim = matches!(event.kind.as_str(), "claim" | "return");
                    let (rma, rma_failed, rma_update) = if !claim {
                        (None, None, None)
                    } else if !seen.events.contains(&settled) {
                        let attempt = self.return_for(channel, &order_id, &seen, &event);
                        if attempt.settled {
                            seen.events.insert(settled);
                            // What the RMA follows from now on: the channel's decision
                            // as it made it (an acceptance was applied by override).
                            let record = SeenClaim {
                                rma: attempt.rma.clone(),
                                decision: ClaimDecision::of_status(event.status.as_deref()),
                            };
                            seen.claims.insert(id, record);
                            changed = true;
                        }
                        (attempt.rma, attempt.failed, None)
                    } else {
                        let known = seen.claims.get(&id);
                        let follow = self.follow_claim(channel, &order_id, known, &event);
                        if let Some(record) = follow.record {
                            seen.claims.insert(id, record);
                            changed = true;
                        }
                        (None, None, follow.update)
                    };
                    if changed {
                        self.log
                            .put(channel_id, &order_ref, seen)
                            .map_err(log_err)?;
                    }
                    out.push(EventReport {
                        event,
                        order_id: Some(order_id),
                        new,
                        rma,
                        rma_failed,
                        rma_update,
                    });
                }
                None => out.push(EventReport {
                    event,
                    order_id: None,
                    new: true,
                    rma: None,
                    rma_failed: None,
                    rma_update: None,
                }),
            }
        }
        Ok(out)
    }

    /// Asks for the RMA a channel's claim or return stands for (see
    /// [`Intake::import_events`]).
    fn return_for(
        &self,
        channel: crate::Channel,
        order_id: &OrderId,
        seen: &SeenOrder,
        event: &ChannelEvent,
    ) -> ReturnAttempt {
        let channel_id = channel.channel_id();
        let order = match self.engine.order(order_id) {
            Ok(o) => o,
            // The order the log names is not there (yet): asked again next time.
            Err(e) => return ReturnAttempt::failed("return", &e, false),
        };
        let reason = return_reason(event.reason.as_deref());
        let mut lines = Vec::with_capacity(event.lines.len());
        for (external, quantity) in &event.lines {
            let by_ref = |ext: &str| {
                order
                    .lines
                    .iter()
                    .find(|l| l.external_ref.as_deref() == Some(ext))
            };
            let alias = seen.line_aliases.get(external.as_str());
            let line = by_ref(external).or_else(|| alias.and_then(|a| by_ref(a)));
            let Some(line) = line else {
                let why = if alias.is_some_and(|a| a.is_empty()) {
                    "names a listing more than one line of the order was sold from"
                } else {
                    "names a line the order does not have"
                };
                // A channel delivering an order in parts may not have delivered the
                // part holding that line yet; a whole order lacks it for good.
                return ReturnAttempt {
                    rma: None,
                    failed: Some(StepFailure {
                        step: "return".to_string(),
                        code: "RETURNS_UNKNOWN_LINE".to_string(),
                        message: format!(
                            "{channel_id} {} {}: line {external} {why} ({order_id})",
                            event.kind, event.external_id
                        ),
                    }),
                    settled: alias.is_some()
                        || (channel.delivers_whole_order()
                            && !(channel.returns_name_listings() && seen.line_aliases.is_empty())),
                };
            };
            lines.push(ReturnLineRequest {
                line_id: line.id.clone(),
                quantity: *quantity,
                reason,
                opened: false,
            });
        }
        let key = key_for(&format!("return:{channel_id}:{}", event.external_id));
        let ctx = CommandContext::system().with_idempotency_key(key);
        let note = format!(
            "{}{}",
            rma_note(channel_id, event),
            event
                .reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
        // Units not delivered yet on a line asked for: the channel's delivery may
        // simply not be imported yet.
        let awaiting_delivery = lines.iter().any(|r| {
            order
                .line(&r.line_id)
                .is_some_and(|l| l.fulfilment.delivered < l.active_quantity())
        });
        let after = match self
            .engine
            .request_return(order_id, lines, Some(note), Vec::new(), &ctx)
        {
            Ok(o) => o,
            Err(e) => {
                let not_yet = e.code() == "RETURNS_NOT_RETURNABLE" && awaiting_delivery;
                return ReturnAttempt::failed("return", &e, !not_yet);
            }
        };
        let Some(rma) = after.rmas.last() else {
            return ReturnAttempt {
                rma: None,
                failed: None,
                settled: true,
            };
        };
        let accepted =
            ClaimDecision::of_status(event.status.as_deref()) == Some(ClaimDecision::Accepted);
        if rma.status == RmaStatus::Rejected && accepted {
            let key = key_for(&format!(
                "return-override:{channel_id}:{}",
                event.external_id
            ));
            let ctx = CommandContext::system().with_idempotency_key(key);
            let why = decision_reason(ClaimDecision::Accepted, channel_id, event);
            if let Err(e) = self.engine.override_return(order_id, &rma.id, why, &ctx) {
                let mut attempt = ReturnAttempt::failed("override", &e, true);
                attempt.rma = Some(rma.id.clone());
                return attempt;
            }
        }
        ReturnAttempt {
            rma: Some(rma.id.clone()),
            failed: None,
            settled: true,
        }
    }

    /// Brings the RMA a claim became to the channel's decision on it when that decision
    /// changed since the RMA followed one (see [`Intake::import_events`]); `known` is
    /// the log's record of the claim (`None` for a record written before claims were
    /// kept).
    fn follow_claim(
        &self,
        channel: crate::Channel,
        order_id: &OrderId,
        known: Option<&SeenClaim>,
        event: &ChannelEvent,
    ) -> ClaimFollow {
        let nothing = ClaimFollow {
            update: None,
            record: None,
        };
        // Undecided (waiting, in analysis, in dispute): the RMA stays as it is.
        let Some(decision) = ClaimDecision::of_status(event.status.as_deref()) else {
            return nothing;
        };
        let mut record = known.cloned().unwrap_or_default();
        if record.decision == Some(decision) {
            return nothing;
        }
        // Refused for good when it was asked for: there is no RMA to follow.
        if known.is_some() && record.rma.is_none() {
            return nothing;
        }
        let step = match decision {
            ClaimDecision::Accepted => "override",
            ClaimDecision::Rejected => "reject",
            ClaimDecision::Cancelled => "close",
        };
        let failure = |rma: Option<String>, e: &EngineError| RmaUpdate {
            rma,
            decision,
            step: step.to_string(),
            failed: Some(StepFailure {
                step: step.to_string(),
                code: e.code().to_string(),
                message: e.to_string(),
            }),
        };
        let order = match self.engine.order(order_id) {
            Ok(o) => o,
            // Asked again on the next delivery: nothing recorded.
            Err(e) => {
                return ClaimFollow {
                    update: Some(failure(record.rma, &e)),
                    record: None,
                }
            }
        };
        let rma_id = match &record.rma {
            Some(id) => id.clone(),
            // A record written before claims were kept: the RMA is the one whose note
            // names the claim (as `return_for` writes it).
            None => {
                let named = rma_note(channel.channel_id(), event);
                let found = order.rmas.iter().find(|r| {
                    r.note.as_deref().is_some_and(|n| {
                        n == named
                            || n.strip_prefix(named.as_str())
                                .is_some_and(|rest| rest.starts_with(": "))
                    })
                });
                match found {
                    Some(r) => r.id.clone(),
                    // It became no RMA (refused for good): nothing to follow, ever.
                    None => {
                        record.decision = Some(decision);
                        return ClaimFollow {
                            update: None,
                            record: Some(record),
                        };
                    }
                }
            }
        };
        record.rma = Some(rma_id.clone());
        // Where the RMA stands decides whether a step is needed; whether the core
        // allows it is the core's to say (its refusal is reported, never forced).
        let needed = order.rma(&rma_id).is_none_or(|r| match decision {
            // Closed: a later acceptance cannot reopen it, which the core says.
            ClaimDecision::Accepted => matches!(r.status, RmaStatus::Rejected | RmaStatus::Closed),
            ClaimDecision::Rejected => !matches!(r.status, RmaStatus::Rejected | RmaStatus::Closed),
            ClaimDecision::Cancelled => r.status != RmaStatus::Closed,
        });
        if !needed {
            record.decision = Some(decision);
            return ClaimFollow {
                update: None,
                record: Some(record),
            };
        }
        // Keyed like intake's order steps (the order's version and the step), so a
        // retried delivery replays the step, and a later change of mind on the channel
        // (the order has moved on) is a step of its own.
        let key = key_for(&format!(
            "{}:{}:rma {step} {rma_id}",
            order.id, order.version
        ));
        let ctx = CommandContext::system().with_idempotency_key(key);
        let why = decision_reason(decision, channel.channel_id(), event);
        let done = match decision {
            ClaimDecision::Accepted => self.engine.override_return(order_id, &rma_id, why, &ctx),
            ClaimDecision::Rejected => self.engine.reject_return(order_id, &rma_id, why, &ctx),
            ClaimDecision::Cancelled => self.engine.close_return(order_id, &rma_id, &ctx),
        };
        let update = match done {
            Ok(_) => RmaUpdate {
                rma: Some(rma_id),
                decision,
                step: step.to_string(),
                failed: None,
            },
            Err(e) => {
                let passing = matches!(
                    e.kind(),
                    ErrorKind::Unavailable | ErrorKind::Conflict | ErrorKind::NotFound
                ) && e.code() != "RETURNS_UNKNOWN_RMA";
                let update = failure(Some(rma_id), &e);
                if passing {
                    // The store unavailable, a lost race: tried again next time.
                    return ClaimFollow {
                        update: Some(update),
                        record: None,
                    };
                }
                update
            }
        };
        // Applied, or refused for good: not tried again until the channel decides
        // otherwise.
        record.decision = Some(decision);
        ClaimFollow {
            update: Some(update),
            record: Some(record),
        }
    }

    fn resolve(
        &self,
        channel: &str,
        line: &ChannelLine,
    ) -> Result<Option<VariantId>, MappingError> {
        for (kind, id) in [
            (IdKind::Sku, &line.ids.sku),
            (IdKind::Barcode, &line.ids.barcode),
            (IdKind::VariantId, &line.ids.variant_id),
        ] {
            if let Some(id) = id {
                if let Some(v) = self.map.resolve(channel, kind, id)? {
                    return Ok(Some(v));
                }
            }
        }
        Ok(None)
    }

    /// The core's line for a channel line of `quantity` units, and the identifier
    /// shown for it when it maps to no variant (it then gets a placeholder variant).
    fn new_line(
        &self,
        channel: &str,
        c: ordersmith::money::Currency,
        l: &ChannelLine,
        quantity: u32,
    ) -> Result<(NewLine, Option<String>), IntakeError> {
        let money = |d: Decimal| {
            Money::new(d, c).map_err(|e| EngineError::from(ordersmith::order::OrderError::from(e)))
        };
        let mut missing = None;
        let variant = match self.resolve(channel, l)? {
            Some(v) => v,
            None => {
                let shown = shown_id(l);
                let v = VariantId::parse(format!("UNMAPPED:{shown}"))
                    .or_else(|_| VariantId::parse("UNMAPPED"))
                    .map_err(|e| EngineError::from(ordersmith::order::OrderError::from(e)))?;
                missing = Some(shown);
                v
            }
        };
        let mut new = NewLine::new(variant, quantity, money(l.unit_price)?);
        new.title = l.title.clone();
        new.external_ref = Some(l.external_line_id.clone());
        // Exact sizes: these lists are copied into the order's shared ones, so growing
        // them one push at a time was only reallocation.
        new.discounts = l
            .discounts
            .iter()
            .map(|d| {
                Ok(Discount {
                    code: Some(d.label.clone()),
                    amount: money(d.amount)?,
                })
            })
            .collect::<Result<_, IntakeError>>()?;
        if let Some(rate) = l.tax_rate.filter(|r| !r.is_zero()) {
            new.tax_lines = vec![TaxLine {
                name: "tax".into(),
                rate,
            }];
        }
        Ok((new, missing))
    }

    fn new_order(
        &self,
        order: &ChannelOrder,
        unmapped: &mut Vec<String>,
    ) -> Result<NewOrder, IntakeError> {
        let channel = order.channel.channel_id();
        let c = order.currency;
        let money = |d: Decimal| {
            Money::new(d, c).map_err(|e| EngineError::from(ordersmith::order::OrderError::from(e)))
        };
        let mut lines = Vec::with_capacity(order.lines.len());
        for l in order.lines.iter().filter(|l| l.quantity > 0) {
            let (new, missing) = self.new_line(channel, c, l, l.quantity)?;
            unmapped.extend(missing);
            lines.push(new);
        }
        let mut shipping_lines = Vec::with_capacity(order.shipping.len());
        for s in &order.shipping {
            shipping_lines.push(ShippingLine {
                title: s.title.clone(),
                price: money(s.price)?,
                tax_lines: s
                    .tax_rate
                    .filter(|r| !r.is_zero())
                    .map(|rate| {
                        vec![TaxLine {
                            name: "tax".into(),
                            rate,
                        }]
                    })
                    .unwrap_or_default(),
            });
        }
        let channel_id = order
            .channel
            .shared_channel_id()
            .map_err(|e| EngineError::from(ordersmith::order::OrderError::from(e)))?;
        let mut new = NewOrder::new(channel_id, order.placed_at, c, lines);
        new.external_ref = Some(order.external_id.clone());
        new.taxes_included = order.taxes_included;
        new.shipping_lines = shipping_lines;
        if order.test {
            new.tags.push("test".into());
        }
        new.note = order
            .display_number
            .as_ref()
            .map(|n| [channel, " order ", n].concat());
        Ok(new)
    }

    /// Imports one parsed channel order: creates it, or brings the existing one up to
    /// the channel's state.
    pub fn import(&self, order: &ChannelOrder) -> Result<ImportReport, IntakeError> {
        let channel = order.channel.channel_id();
        let mut report = ImportReport {
            outcome: ImportOutcome::Unchanged,
            dedupe_key: (channel.to_string(), order.external_id.clone()),
            order: None,
            applied: Vec::new(),
            failed: Vec::new(),
            unmapped: Vec::new(),
            mismatches: order.mismatches.clone(),
            discount_basis: order.discount_basis,
            total_difference: None,
            new_events: Vec::new(),
            content_changed: false,
            stale_reason: None,
            line_changes: Vec::new(),
            unpriced: Vec::new(),
        };
        if order.test && !self.options.import_test_orders {
            report.outcome = ImportOutcome::SkippedTest;
            return Ok(report);
        }
        if order.fulfilled_by_marketplace && !self.options.import_marketplace_fulfilled {
            report.outcome = ImportOutcome::SkippedMarketplaceFulfilled;
            return Ok(report);
        }
        let log_err = |reason: String| IntakeError::LogUnavailable { reason };
        let seen = self.log.get(channel, &order.external_id).map_err(log_err)?;
        let rank = order.status.lifecycle.rank();
        if let Some(s) = &seen {
            let stale = if order.channel.delivers_whole_order() {
                stale_order(order, s, rank)
            } else {
                stale_parts(order, s)
            };
            if let Some(reason) = stale {
                report.outcome = ImportOutcome::Stale;
                report.stale_reason = Some(reason);
                report.order = Some(self.engine.order(&s.order_id)?);
                return Ok(report);
            }
        }
        // The delivery's parts are merged into the record seen (a first delivery's in
        // `finish`), and lines split across parts get their counts over every part
        // seen, worked out (and refused when beyond a `u32`) before anything changes.
        let mut seen = seen;
        if let Some(s) = seen.as_mut() {
            merge_parts(&mut s.parts, &order.parts);
        }
        let across = across_parts(order, seen.as_ref())?;
        // A channel order the log has seen is loaded, not placed again: placing it
        // would only be refused as a duplicate after the engine validated it whole.
        if let Some(s) = &seen {
            if let Ok(current) = self.engine.order(&s.order_id) {
                for l in order.lines.iter().filter(|l| l.quantity > 0) {
                    if self.resolve(channel, l)?.is_none() {
                        report.unmapped.push(shown_id(l));
                    }
                }
                report.content_changed = true;
                let summed = across
                    .as_ref()
                    .and_then(|a| with_counts(order, a, &current));
                let current = self.sync(summed.as_ref().unwrap_or(order), current, &mut report);
                return self.finish(order, current, false, seen, rank, report);
            }
        }
        // Not placed at placeholder prices: placed by the first delivery with prices.
        report.unpriced = order
            .lines
            .iter()
            .filter(|l| l.unpriced && l.quantity > 0)
            .map(|l| l.external_line_id.clone())
            .collect();
        if !report.unpriced.is_empty() {
            report.outcome = ImportOutcome::Unpriced;
            return Ok(report);
        }
        let mut unmapped = Vec::new();
        let mut new = self.new_order(order, &mut unmapped)?;
        report.unmapped = unmapped;
        let ctx = CommandContext::system();
        // A channel order seen for the first time usually arrives whole (paid,
        // confirmed, maybe shipped): placed with every step in one write. If any step is
        // refused, that write saved nothing and the step-by-step path below reports
        // which step failed, exactly as before.
        if seen.is_none() {
            if let Some((then, names)) = fast_plan(order, &new, &report.unmapped) {
                match self.engine.place_order_then(new, then, &ctx) {
                    Ok((placed, true)) => {
                        report.applied = names;
                        return self.finish(order, placed, true, seen, rank, report);
                    }
                    // Refused, or placed meanwhile by another importer: built again
                    // for the step-by-step path (rare, so the common path moves the
                    // order into the write instead of copying it).
                    _ => new = self.new_order(order, &mut Vec::new())?,
                }
            }
        }
        let (mut current, created) = match self.engine.place_order(new, &ctx) {
            Ok(o) => {
                let created = o.version == 1 && seen.is_none();
                (o, created)
            }
            Err(EngineError::DuplicateExternalRef { order_id, .. }) => {
                report.content_changed = true;
                // Same channel order the log did not know (a lost log): the existing
                // order is brought up to date like any re-delivery.
                (self.engine.order(&order_id)?, false)
            }
            Err(e) => return Err(e.into()),
        };
        if created {
            report.applied.push("place".into());
            if !report.unmapped.is_empty() {
                let note = format!("unmapped: {}", report.unmapped.join(", "));
                current = self.step(&mut report, current, "hold:unmapped_sku", |e, id, ctx| {
                    e.hold_order(id, HoldReason::UnmappedSku, Some(note.clone()), ctx)
                });
            }
        }
        let summed = across
            .as_ref()
            .and_then(|a| with_counts(order, a, &current));
        current = self.sync(summed.as_ref().unwrap_or(order), current, &mut report);
        self.finish(order, current, created, seen, rank, report)
    }

    /// Compares totals, records new channel events and the intake log, and settles the
    /// outcome.
    fn finish(
        &self,
        order: &ChannelOrder,
        current: Order,
        created: bool,
        seen: Option<SeenOrder>,
        rank: Option<u8>,
        mut report: ImportReport,
    ) -> Result<ImportReport, IntakeError> {
        let channel = order.channel.channel_id();
        let log_err = |reason: String| IntakeError::LogUnavailable { reason };
        // Totals are derived (taxes, discounts, shipping): worked out only when the channel
        // reported a total to compare with.
        if let Some(reported) = order.reported.total {
            // Compare the order as placed (cancellations and refunds aside).
            if current.status != OrderStatus::Cancelled
                && current.lines.iter().all(|l| l.fulfilment.cancelled == 0)
            {
                // A new order paid as it was placed paid exactly its total: `mark_paid`
                // records the balance due, which is the total of an order nothing was
                // paid on, and no other step of a first delivery (confirm, ship,
                // deliver, return, nor a rule's action) changes a total. Its payment is
                // read instead of working the totals out a second time. A refund, or a
                // payment through the payment workflow (authorised, captured), sends it
                // the long way.
                let paid_whole = created
                    && current.payments.is_empty()
                    && current.amount_refunded.is_zero()
                    && report.applied.iter().any(|s| s == "mark_paid");
                let total = if paid_whole {
                    Some(current.amount_paid.amount())
                } else {
                    current.totals().ok().map(|t| t.total.amount())
                };
                if let Some(total) = total {
                    // The payload's total is the channel's: one so far from the order's
                    // that their difference does not fit a decimal is reported as the
                    // largest difference of its sign (parsing already refused a payload
                    // whose own lines are that far from it).
                    let diff = total.checked_sub(reported).unwrap_or(if total > reported {
                        Decimal::MAX
                    } else {
                        Decimal::MIN
                    });
                    if !diff.is_zero() {
                        report.total_difference = Some(diff);
                    }
                }
            }
        }
        // A record seen before has this delivery's parts merged already (`import`).
        let merged = seen.is_some();
        // The record is owned here: its events are taken, not copied.
        let (seen_rank, seen_time, mut events, mut parts, mut line_aliases, claims) = match seen {
            Some(s) => (
                s.rank,
                s.updated_at,
                s.events,
                s.parts,
                s.line_aliases,
                s.claims,
            ),
            None => (
                None,
                None,
                Default::default(),
                Default::default(),
                Default::default(),
                Default::default(),
            ),
        };
        if order.channel.returns_name_listings() {
            for l in &order.lines {
                let Some(listing) = l.ids.variant_id.as_ref() else {
                    continue;
                };
                match line_aliases.get(listing) {
                    Some(line) if *line == l.external_line_id || line.is_empty() => {}
                    // Two lines sold from one listing (its variations): the return's
                    // listing id cannot tell them apart.
                    Some(_) => {
                        line_aliases.insert(listing.clone(), String::new());
                    }
                    None => {
                        line_aliases.insert(listing.clone(), l.external_line_id.clone());
                    }
                }
            }
        }
        if !merged {
            merge_parts(&mut parts, &order.parts);
        }
        for ev in &order.events {
            let id = format!("{}:{}", ev.kind, ev.external_id);
            if events.insert(id) {
                report.new_events.push(ev.clone());
            }
        }
        let best_rank = match (rank, seen_rank) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let best_time = match (order.updated_at, seen_time) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.log
            .put(
                channel,
                &order.external_id,
                SeenOrder {
                    order_id: current.id.clone(),
                    updated_at: best_time,
                    rank: best_rank,
                    events,
                    parts,
                    line_aliases,
                    claims,
                },
            )
            .map_err(log_err)?;
        report.outcome = if created {
            ImportOutcome::Created
        } else if report.applied.is_empty() {
            ImportOutcome::Unchanged
        } else {
            ImportOutcome::Updated
        };
        report.order = Some(current);
        Ok(report)
    }

    /// Runs one step with an idempotency key naming it; a refusal is reported and the
    /// order returned as it was.
    fn step(
        &self,
        report: &mut ImportReport,
        order: Order,
        step: &str,
        run: impl FnOnce(&Engine, &OrderId, &CommandContext) -> Result<Order, EngineError>,
    ) -> Order {
        let key = key_for(&format!("{}:{}:{step}", order.id, order.version));
        let ctx = CommandContext::system().with_idempotency_key(key);
        match run(self.engine, &order.id, &ctx) {
            Ok(after) => {
                report.applied.push(step.to_string());
                after
            }
            Err(e) => {
                report.failed.push(StepFailure {
                    step: step.to_string(),
                    code: e.code().to_string(),
                    message: e.to_string(),
                });
                order
            }
        }
    }

    /// Brings the order's lines to the channel's (see [`LineChange`]): units the
    /// channel took away are cancelled (their reservation released), raised quantities
    /// and new lines go through `edit_order`; what the engine refuses, or an added line
    /// whose SKU maps to nothing, is reported with its reason and left. Lines absent
    /// from the delivery, or fewer units, only count as removals on channels whose
    /// payload is the whole order ([`crate::Channel::delivers_whole_order`]).
    fn line_edits(&self, ch: &ChannelOrder, mut cur: Order, report: &mut ImportReport) -> Order {
        let whole = ch.channel.delivers_whole_order();
        let channel = ch.channel.channel_id();
        let mut changes: Vec<LineChange> = Vec::new();
        let mut cancel = Vec::new();
        let mut edits = Vec::new();
        let mut added_cancelled: Vec<(String, u32)> = Vec::new();
        for line in &cur.lines {
            let Some(ext) = line.external_ref.as_deref() else {
                continue;
            };
            let from = line.active_quantity();
            let theirs = ch.lines.iter().find(|l| l.external_line_id == ext);
            let to = match theirs {
                Some(l) => l.quantity.saturating_sub(l.cancelled),
                None if whole => 0,
                None => continue,
            };
            if to == from || (!whole && to < from) {
                continue;
            }
            let kind = if to > from {
                LineChangeKind::QuantityIncreased
            } else if to == 0 {
                LineChangeKind::Removed
            } else {
                LineChangeKind::QuantityReduced
            };
            let mut change = LineChange {
                kind,
                external_line_id: ext.to_string(),
                line_id: Some(line.id.clone()),
                from,
                to,
                applied: true,
                blocked: None,
            };
            if to > from {
                edits.push(LineEdit::SetQuantity {
                    line_id: line.id.clone(),
                    // Past `u32::MAX` the engine refuses the quantity (it is above
                    // its limit either way) and the change is reported refused.
                    quantity: line.quantity.saturating_add(to - from),
                });
            } else {
                let take = (from - to).min(line.open_quantity());
                if take > 0 {
                    cancel.push(LineQuantity::new(line.id.clone(), take));
                }
                if take < from - to {
                    change.applied = false;
                    change.blocked = Some(LineChangeBlocked::UnitsShipped {
                        units: from - to - take,
                    });
                }
            }
            changes.push(change);
        }
        for l in &ch.lines {
            let known = cur
                .lines
                .iter()
                .any(|x| x.external_ref.as_deref() == Some(l.external_line_id.as_str()));
            let to = l.quantity.saturating_sub(l.cancelled);
            if known || to == 0 {
                continue;
            }
            let mut change = LineChange {
                kind: LineChangeKind::Added,
                external_line_id: l.external_line_id.clone(),
                line_id: None,
                from: 0,
                to,
                applied: true,
                blocked: None,
            };
            if l.unpriced {
                change.applied = false;
                change.blocked = Some(LineChangeBlocked::Unpriced);
                changes.push(change);
                continue;
            }
            match self.new_line(channel, ch.currency, l, l.quantity) {
                Ok((_, Some(id))) => {
                    change.applied = false;
                    change.blocked = Some(LineChangeBlocked::UnmappedSku { id });
                }
                Ok((line, None)) => {
                    edits.push(LineEdit::Add { line });
                    if l.cancelled > 0 {
                        added_cancelled.push((l.external_line_id.clone(), l.cancelled));
                    }
                }
                Err(e) => {
                    change.applied = false;
                    change.blocked = Some(LineChangeBlocked::Refused {
                        step: "add".into(),
                        code: e.code().to_string(),
                    });
                }
            }
            changes.push(change);
        }
        let refused = |report: &mut ImportReport, changes: &mut [LineChange], cancels: bool| {
            let Some(f) = report.failed.last() else {
                return;
            };
            for c in changes.iter_mut().filter(|c| {
                c.blocked.is_none()
                    && matches!(
                        c.kind,
                        LineChangeKind::QuantityReduced | LineChangeKind::Removed
                    ) == cancels
            }) {
                c.applied = false;
                c.blocked = Some(LineChangeBlocked::Refused {
                    step: f.step.clone(),
                    code: f.code.clone(),
                });
            }
        };
        if !cancel.is_empty() {
            let name = describe("cancel units (channel edit)", &cancel);
            let failed = report.failed.len();
            cur = self.step(report, cur, &name, |e, id, ctx| {
                e.cancel_lines(id, cancel, CancelReason::Other, ctx)
            });
            if report.failed.len() > failed {
                refused(report, &mut changes, true);
            }
        }
        if !edits.is_empty() {
            let parts: Vec<String> = edits
                .iter()
                .map(|e| match e {
                    LineEdit::Add { line } => format!(
                        "add {}x{}",
                        line.external_ref.as_deref().unwrap_or("?"),
                        line.quantity
                    ),
                    LineEdit::SetQuantity { line_id, quantity } => {
                        format!("{line_id} qty {quantity}")
                    }
                    LineEdit::Remove { line_id } => format!("remove {line_id}"),
                })
                .collect();
            let name = format!("edit {}", parts.join(","));
            let failed = report.failed.len();
            cur = self.step(report, cur, &name, |e, id, ctx| {
                e.edit_order(id, edits, ctx)
            });
            if report.failed.len() > failed {
                refused(report, &mut changes, false);
            }
        }
        for c in &mut changes {
            if c.line_id.is_none() {
                c.line_id = cur
                    .lines
                    .iter()
                    .find(|l| l.external_ref.as_deref() == Some(c.external_line_id.as_str()))
                    .map(|l| l.id.clone());
            }
        }
        // Units of an added line the channel already reports cancelled.
        let cancel_added: Vec<LineQuantity> = added_cancelled
            .iter()
            .filter_map(|(ext, n)| {
                let line = cur
                    .lines
                    .iter()
                    .find(|l| l.external_ref.as_deref() == Some(ext.as_str()))?;
                Some(LineQuantity::new(
                    line.id.clone(),
                    (*n).min(line.open_quantity()),
                ))
            })
            .filter(|l| l.quantity > 0)
            .collect();
        if !cancel_added.is_empty() {
            let name = describe("cancel units", &cancel_added);
            cur = self.step(report, cur, &name, |e, id, ctx| {
                e.cancel_lines(id, cancel_added, CancelReason::Other, ctx)
            });
        }
        report.line_changes.extend(changes);
        cur
    }

    fn sync(&self, ch: &ChannelOrder, mut cur: Order, report: &mut ImportReport) -> Order {
        let life = &ch.status.lifecycle;
        let held = cur.status == OrderStatus::OnHold;
        let by_ref = |o: &Order, ext: &str| {
            o.lines
                .iter()
                .find(|l| l.external_ref.as_deref() == Some(ext))
                .map(|l| (l.id.clone(), l.fulfilment, l.active_quantity()))
        };
        // Paid first: a channel order that was paid, cancelled and refunded is recorded
        // in that order, so the refund has a payment to refund.
        if ch.status.paid && cur.amount_paid.is_zero() && cur.status != OrderStatus::Cancelled {
            cur = self.step(report, cur, "mark_paid", |e, id, ctx| e.mark_paid(id, ctx));
        }
        // A channel whose delivery is a part of the order (a Trendyol package, a
        // Hepsiburada status feed) says `cancelled` of the lines it carries, not of the
        // order: those units are cancelled below, and the engine cancels the order once
        // no unit of any line is left.
        let whole = ch.channel.delivers_whole_order();
        let cancels_order = whole && *life == Lifecycle::Cancelled;
        // A part's lines the order does not have yet are added before the part's own
        // cancellations, so cancelling them never leaves an order of only those lines.
        if !whole && cur.status != OrderStatus::Cancelled {
            cur = self.line_edits(ch, cur, report);
        }
        if cancels_order && cur.status != OrderStatus::Cancelled {
            if cur.lines.iter().all(|l| l.fulfilment.shipped == 0) {
                cur = self.step(report, cur, "cancel", |e, id, ctx| {
                    e.cancel_order(id, CancelReason::Other, ctx)
                });
            } else {
                // Something shipped: the order cannot be cancelled whole; its open
                // units are.
                let open: Vec<LineQuantity> = cur
                    .lines
                    .iter()
                    .filter(|l| l.open_quantity() > 0)
                    .map(|l| LineQuantity::new(l.id.clone(), l.open_quantity()))
                    .collect();
                if !open.is_empty() {
                    cur = self.step(report, cur, "cancel open units", |e, id, ctx| {
                        e.cancel_lines(id, open, CancelReason::Other, ctx)
                    });
                }
            }
        }
        let wants_confirmed = matches!(life.rank(), Some(1..=6)) && *life != Lifecycle::Cancelled;
        // The channel says the order is live and the engine's order is cancelled (a
        // channel that reopens an order, or one cancelled on an earlier reading): the
        // engine refuses to confirm it, and that refusal is reported, never left as
        // an unchanged import.
        if wants_confirmed && matches!(cur.status, OrderStatus::Pending | OrderStatus::Cancelled) {
            cur = self.step(report, cur, "confirm", |e, id, ctx| {
                e.confirm_order(id, ctx)
            });
        }
        // Units the channel cancelled on lines (partial cancellation).
        let mut cancel = Vec::new();
        for l in &ch.lines {
            if let Some((id, f, _)) = by_ref(&cur, &l.external_line_id) {
                let delta = l.cancelled.saturating_sub(f.cancelled);
                if delta > 0 && !cancels_order {
                    cancel.push(LineQuantity::new(id, delta));
                }
            }
        }
        if !cancel.is_empty() && cur.status != OrderStatus::Cancelled {
            let name = describe("cancel units", &cancel);
            cur = self.step(report, cur, &name, |e, id, ctx| {
                e.cancel_lines(id, cancel, CancelReason::Other, ctx)
            });
        }
        if whole && !cancels_order && cur.status != OrderStatus::Cancelled {
            cur = self.line_edits(ch, cur, report);
        }
        if !held {
            type Pick = fn(&ChannelLine) -> u32;
            type Have = fn(&ordersmith::order::LineQuantities) -> u32;
            let stages: [(&str, Pick, Have); 3] = [
                ("ship", |l| l.shipped, |f| f.shipped),
                ("deliver", |l| l.delivered, |f| f.delivered),
                ("return", |l| l.returned, |f| f.returned),
            ];
            for (stage, pick, have) in stages {
                let mut delta_lines = Vec::new();
                for l in &ch.lines {
                    if let Some((id, f, active)) = by_ref(&cur, &l.external_line_id) {
                        let want = pick(l).min(active);
                        let delta = want.saturating_sub(have(&f));
                        if delta > 0 {
                            delta_lines.push(LineQuantity::new(id, delta));
                        }
                    }
                }
                if delta_lines.is_empty() {
                    continue;
                }
                let name = describe(stage, &delta_lines);
                cur = self.step(report, cur, &name, |e, id, ctx| match stage {
                    "ship" => e.record_shipment(id, delta_lines, ctx),
                    "deliver" => e.record_delivery(id, delta_lines, ctx),
                    _ => e.record_return(id, delta_lines, ctx),
                });
            }
        }
        // A difference below the largest negative decimal is no refund either.
        let refunded_delta = ch
            .refunded_amount
            .checked_sub(cur.amount_refunded.amount())
            .unwrap_or(Decimal::ZERO);
        if refunded_delta > Decimal::ZERO {
            let name = format!("refund {refunded_delta}");
            cur = self.step(report, cur, &name, |e, id, ctx| {
                e.record_refund_amount(id, refunded_delta, ctx)
            });
        }
        cur
    }
}

/// Why a delivery of the whole order is older than what was applied: its channel
/// `updated_at` is older, or (without timestamps) its stage is behind.
fn stale_order(order: &ChannelOrder, seen: &SeenOrder, rank: Option<u8>) -> Option<String> {
    match (order.updated_at, seen.updated_at) {
        (Some(new), Some(old)) if new < old => Some(format!(
            "updated_at {new} is older than {old} already applied"
        )),
        (None, _) | (_, None) => match (rank, seen.rank) {
            (Some(n), Some(o)) if n < o => Some(format!(
                "status {} is behind the stage already applied",
                order.status.lifecycle.as_str()
            )),
            _ => None,
        },
        _ => None,
    }
}

/// Why a delivery of parts of an order (Trendyol packages, Hepsiburada line items) is
/// older than what was applied: every part it carries was applied before with a newer
/// `updated_at`, or the same one (or none) and a further stage. A part the order has
/// not seen is never stale, so one package arriving after a newer package of the same
/// order is applied.
fn stale_parts(order: &ChannelOrder, seen: &SeenOrder) -> Option<String> {
    let mut behind = Vec::with_capacity(order.parts.len());
    for part in &order.parts {
        let was = seen.parts.get(&part.id)?;
        if !part_behind(part, was) {
            return None;
        }
        behind.push(part.id.as_str());
    }
    if behind.is_empty() {
        return None;
    }
    Some(format!(
        "every part it carries ({}) is older than, or behind, the one already applied",
        behind.join(", ")
    ))
}

/// Whether this reading of a part is older than the one applied: a newer `updated_at`
/// was applied, or the same one (or none) and a further stage.
fn part_behind(part: &ChannelPart, was: &SeenPart) -> bool {
    let rank_behind = matches!(
        (part.lifecycle.rank(), was.rank),
        (Some(n), Some(o)) if n < o
    );
    match (part.updated_at, was.updated_at) {
        (Some(new), Some(old)) => new < old || (new == old && rank_behind),
        _ => rank_behind,
    }
}

/// Brings the log's `parts` up to a delivery's: each part's newest `updated_at` and
/// furthest stage, its lines at its newest reading (a reading behind the one applied
/// keeps the lines applied, unless none are known), and which parts are superseded
/// (their lines are then dropped: they count no more).
fn merge_parts(parts: &mut BTreeMap<String, SeenPart>, delivered: &[ChannelPart]) {
    for part in delivered {
        let was = parts.entry(part.id.clone()).or_default();
        if part.lines.is_some() && (was.lines.is_none() || !part_behind(part, was)) {
            was.lines = part.lines.as_deref().map(Box::from);
        }
        was.updated_at = was.updated_at.max(part.updated_at);
        was.rank = was.rank.max(part.lifecycle.rank());
        if part.superseded {
            was.superseded = true;
        }
        if !part.replaces.is_empty() {
            was.names_origin = true;
        }
        if was.superseded {
            was.lines = None;
        }
        for origin in &part.replaces {
            let was = parts.entry(origin.clone()).or_default();
            was.superseded = true;
            was.lines = None;
        }
    }
}

/// One line's counts over every live part of its order seen ([`across_parts`]).
#[derive(Debug, Default)]
struct Across {
    /// The sums.
    sum: PartLine,
    /// Whether `sum.quantity` is the line's units: no part of the line could have been
    /// made from another one of them whose `UnPacked` news is missing (see the module
    /// docs).
    quantity_sure: bool,
}

/// The counts of each line of a delivery over every part of its order seen (see the
/// module docs: a line split across parts), by line id, from `seen`'s parts with the
/// delivery's merged in ([`merge_parts`]); `None` for a channel whose delivery is the
/// whole order, or whose parts say nothing of their lines (Hepsiburada), and for a
/// first delivery. A line no live part carries (only superseded ones) has none.
fn across_parts(
    order: &ChannelOrder,
    seen: Option<&SeenOrder>,
) -> Result<Option<BTreeMap<String, Across>>, ChannelError> {
    if order.channel.delivers_whole_order() || order.parts.iter().all(|p| p.lines.is_none()) {
        return Ok(None);
    }
    // A first delivery has only its own parts, which the adapter added up already.
    let Some(parts) = seen.map(|s| &s.parts) else {
        return Ok(None);
    };
    let channel = order.channel.as_str();
    // Per line: the sums, and of its parts how many name no origin, how many could
    // still be split (not shipped: a stage below shipped, or none known), and how many
    // both.
    let mut sums: BTreeMap<String, (PartLine, [u32; 3])> = BTreeMap::new();
    for part in parts.values().filter(|p| !p.superseded) {
        let open = part.rank.is_none_or(|r| r <= 2);
        for share in part.lines.iter().flatten() {
            if !order.lines.iter().any(|l| l.external_line_id == share.line) {
                continue;
            }
            let (sum, kinds) = sums.entry(share.line.clone()).or_default();
            let add = |have: u32, more: u32| {
                have.checked_add(more)
                    .ok_or_else(|| ChannelError::InvalidQuantity {
                        channel,
                        path: "$".to_string(),
                        text: format!("line {}: {have} + {more}", share.line),
                        reason: "too large: the line's units across packages exceed 4294967295",
                    })
            };
            sum.quantity = add(sum.quantity, share.quantity)?;
            sum.shipped = add(sum.shipped, share.shipped)?;
            sum.delivered = add(sum.delivered, share.delivered)?;
            sum.returned = add(sum.returned, share.returned)?;
            sum.cancelled = add(sum.cancelled, share.cancelled)?;
            let unnamed = !part.names_origin;
            for (count, is) in kinds.iter_mut().zip([unnamed, open, unnamed && open]) {
                *count = count.saturating_add(u32::from(is));
            }
        }
    }
    let across = sums
        .into_iter()
        .map(|(line, (sum, [unnamed, open, both]))| {
            // Some part naming no origin (maybe made from another), and some other
            // part still open (maybe that origin): not sure.
            let doubt = unnamed > 0 && open > 0 && !(unnamed == 1 && open == 1 && both == 1);
            let quantity_sure = !doubt;
            (line, Across { sum, quantity_sure })
        })
        .collect();
    Ok(Some(across))
}

/// `order` with the counts of each line `current` already has replaced by its counts
/// over every part seen ([`across_parts`]; its units only when they are sure); `None`
/// when none differs. A line `current` lacks keeps the delivery's counts: it is added
/// as delivered, with the discounts of the units the delivery carries.
fn with_counts(
    order: &ChannelOrder,
    across: &BTreeMap<String, Across>,
    current: &Order,
) -> Option<ChannelOrder> {
    let on_order = |ext: &str| {
        current
            .lines
            .iter()
            .any(|l| l.external_ref.as_deref() == Some(ext))
    };
    let counts = |l: &ChannelLine| (l.quantity, l.shipped, l.delivered, l.returned, l.cancelled);
    let of = |l: &ChannelLine, a: &Across| {
        (
            if a.quantity_sure {
                a.sum.quantity
            } else {
                l.quantity
            },
            a.sum.shipped,
            a.sum.delivered,
            a.sum.returned,
            a.sum.cancelled,
        )
    };
    let summed_of = |l: &ChannelLine| {
        across
            .get(&l.external_line_id)
            .filter(|_| on_order(&l.external_line_id))
    };
    let differs = order
        .lines
        .iter()
        .any(|l| summed_of(l).is_some_and(|a| of(l, a) != counts(l)));
    if !differs {
        return None;
    }
    let mut summed = order.clone();
    for l in &mut summed.lines {
        if let Some(a) = summed_of(l) {
            (l.quantity, l.shipped, l.delivered, l.returned, l.cancelled) = of(l, a);
        }
    }
    Some(summed)
}

/// What following a claim's later decision came to ([`Intake::follow_claim`]).
struct ClaimFollow {
    /// The step taken or refused, for the report.
    update: Option<RmaUpdate>,
    /// The claim's record to keep, when it changed (`None`: keep the old one, and try
    /// again on the next delivery when a step is still due).
    record: Option<SeenClaim>,
}

/// How an RMA made of a channel's claim or return names it on its note (the channel's
/// reason, when it gives one, follows after `": "`).
fn rma_note(channel_id: &str, event: &ChannelEvent) -> String {
    format!("{channel_id} {} {}", event.kind, event.external_id)
}

/// The reason given to the core for following a channel's decision on a claim.
fn decision_reason(decision: ClaimDecision, channel_id: &str, event: &ChannelEvent) -> String {
    format!(
        "{} on {channel_id} ({} {})",
        decision.as_str(),
        event.kind,
        event.external_id
    )
}

/// What asking for a claim's RMA came to.
struct ReturnAttempt {
    /// The RMA made (or found, for a retry of the same claim).
    rma: Option<String>,
    /// Why it was not made, or its override not applied.
    failed: Option<StepFailure>,
    /// Whether nothing is left to try: made, or refused for good. A refusal whose
    /// cause may go away (the store unavailable, a lost race, the order or its
    /// delivery not imported yet) is not settled.
    settled: bool,
}

impl ReturnAttempt {
    /// A failed `step`; settled when `permanent` and the error is not one of the
    /// kinds that pass (unavailable, conflict, not found).
    fn failed(step: &str, e: &EngineError, permanent: bool) -> Self {
        let passing = matches!(
            e.kind(),
            ErrorKind::Unavailable | ErrorKind::Conflict | ErrorKind::NotFound
        );
        ReturnAttempt {
            rma: None,
            failed: Some(StepFailure {
                step: step.to_string(),
                code: e.code().to_string(),
                message: e.to_string(),
            }),
            settled: permanent && !passing,
        }
    }
}

/// The steps a first delivery needs, in the order the step-by-step path runs them,
/// with their names; `None` when the delivery is one the fast path does not cover
/// (cancelled, or units cancelled on the channel).
fn fast_plan(
    ch: &ChannelOrder,
    new: &NewOrder,
    unmapped: &[String],
) -> Option<(Vec<OrderCommand>, Vec<String>)> {
    let life = &ch.status.lifecycle;
    if *life == Lifecycle::Cancelled || ch.lines.iter().any(|l| l.cancelled > 0) {
        return None;
    }
    // At most: hold, pay, confirm, three line stages and a refund.
    let mut then = Vec::with_capacity(7);
    let mut names = Vec::with_capacity(8);
    names.push("place".to_string());
    let held = !unmapped.is_empty();
    if held {
        then.push(OrderCommand::Hold {
            reason: HoldReason::UnmappedSku,
            note: Some(format!("unmapped: {}", unmapped.join(", "))),
        });
        names.push("hold:unmapped_sku".into());
    }
    if ch.status.paid {
        then.push(OrderCommand::MarkPaid);
        names.push("mark_paid".into());
    }
    if !held && matches!(life.rank(), Some(1..=6)) {
        then.push(OrderCommand::Confirm);
        names.push("confirm".into());
    }
    if !held {
        // Placed lines are numbered L1, L2, ... in the order of `new.lines`: each
        // channel line's number and placed quantity, found once (not per stage), and
        // its id made only for a stage that has units of it.
        let placed: Vec<Option<(usize, u32)>> = ch
            .lines
            .iter()
            .map(|l| {
                new.lines
                    .iter()
                    .position(|n| n.external_ref.as_deref() == Some(&l.external_line_id))
                    .and_then(|k| Some((k + 1, new.lines.get(k)?.quantity)))
            })
            .collect();
        type Pick = fn(&ChannelLine) -> u32;
        let stages: [(&str, Pick); 3] = [
            ("ship", |l| l.shipped),
            ("deliver", |l| l.delivered),
            ("return", |l| l.returned),
        ];
        for (stage, pick) in stages {
            let lines: Vec<LineQuantity> = ch
                .lines
                .iter()
                .zip(&placed)
                .filter_map(|(l, placed)| {
                    let (number, quantity) = (*placed)?;
                    let want = pick(l).min(quantity);
                    if want == 0 {
                        return None;
                    }
                    let number = u32::try_from(number).ok()?;
                    Some(LineQuantity::new(LineId::numbered(number), want))
                })
                .collect();
            if lines.is_empty() {
                continue;
            }
            names.push(describe(stage, &lines));
            then.push(match stage {
                "ship" => OrderCommand::RecordShipment { lines },
                "deliver" => OrderCommand::RecordDelivery { lines },
                _ => OrderCommand::RecordReturn { lines },
            });
        }
    }
    if ch.refunded_amount > Decimal::ZERO {
        let amount = Money::new(ch.refunded_amount, new.currency).ok()?;
        names.push(format!("refund {}", ch.refunded_amount));
        then.push(OrderCommand::RecordRefund { amount });
    }
    Some((then, names))
}

/// A channel's free-text return reason as one of the core's reason codes, by keywords
/// in English and Turkish (marketplaces send the shopper's chosen label, e.g. Trendyol
/// "Beden uymadı", eBay "WRONG_SIZE"); anything else is [`ReturnReason::Other`], and
/// the text itself stays on the RMA's note.
pub fn return_reason(text: Option<&str>) -> ReturnReason {
    let Some(text) = text else {
        return ReturnReason::Other;
    };
    let t = text.to_lowercase().replace('_', " ");
    let any = |words: &[&str]| words.iter().any(|w| t.contains(w));
    if any(&["size", "beden", "kalıp", "küçük", "büyük", "fit"]) {
        ReturnReason::WrongSize
    } else if any(&["damage", "hasar", "kırık", "broken", "ezik"]) {
        ReturnReason::Damaged
    } else if any(&[
        "defect",
        "arıza",
        "kusur",
        "çalışmıyor",
        "not working",
        "faulty",
    ]) {
        ReturnReason::Defective
    } else if any(&[
        "describ",
        "açıklama",
        "farklı",
        "wrong item",
        "yanlış ürün",
        "not as",
    ]) {
        ReturnReason::NotAsDescribed
    } else if any(&[
        "changed",
        "vazgeç",
        "no longer",
        "istemiyorum",
        "beğenmedim",
        "remorse",
    ]) {
        ReturnReason::ChangedMind
    } else if any(&["late", "geç geldi", "geç kaldı", "gecik"]) {
        ReturnReason::LateDelivery
    } else {
        ReturnReason::Other
    }
}

/// How an unmapped line is named in reports: its SKU, else barcode, else variant id.
fn shown_id(l: &ChannelLine) -> String {
    l.ids
        .sku
        .clone()
        .or(l.ids.barcode.clone())
        .or(l.ids.variant_id.clone())
        .unwrap_or_else(|| format!("line {}", l.external_line_id))
}

fn describe(stage: &str, lines: &[LineQuantity]) -> String {
    // `{stage} L1x2,L2x1`: step names are part of the steps' idempotency keys, so the
    // shape never changes.
    let mut name = String::with_capacity(stage.len() + 1 + 8 * lines.len());
    name.push_str(stage);
    name.push(' ');
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            name.push(',');
        }
        name.push_str(l.line_id.as_str());
        name.push('x');
        name.push_str(itoa::Buffer::new().format(l.quantity));
    }
    name
}

/// The quantities of `channel` that changed since its last acknowledged push.
pub fn changed_since_last_push(
    engine: &Engine,
    channel: &str,
) -> Result<BTreeMap<VariantId, u64>, EngineError> {
    let channel = ChannelId::parse(channel)
        .map_err(|e| EngineError::from(ordersmith::order::OrderError::from(e)))?;
    engine
        .with_stock(|ledger| ledger.changed_since_last_push(&channel))?
        .map_err(EngineError::from)
}

/// Records in the ledger what a channel accepted ([`PushAck::pushed`]).
pub fn mark_pushed(engine: &Engine, channel: &str, ack: &PushAck) -> Result<(), EngineError> {
    if ack.pushed.is_empty() {
        return Ok(());
    }
    let channel = ChannelId::parse(channel)
        .map_err(|e| EngineError::from(ordersmith::order::OrderError::from(e)))?;
    engine.stock(StockCommand::MarkPushed {
        channel,
        quantities: ack.pushed.clone(),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Step names are part of the steps' idempotency keys: their shape is fixed.
    #[test]
    fn step_names_keep_their_shape() {
        let line = |n: u32, q: u32| LineQuantity::new(LineId::numbered(n), q);
        assert_eq!(
            describe("ship", &[line(1, 2), line(12, 1)]),
            "ship L1x2,L12x1"
        );
        assert_eq!(
            describe("cancel units", &[line(3, 40)]),
            "cancel units L3x40"
        );
        assert_eq!(describe("return", &[]), "return ");
    }
}
