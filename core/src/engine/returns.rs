//! Returns on the engine: the RMA workflow with its stock, money, exchange and store
//! credit sides, saved in one change per step.
//!
//! - Every step decides with [`crate::returns::decide`] against the latest order, the
//!   engine's [`crate::returns::ReturnPolicy`] (`EngineConfig::returns`), the engine
//!   clock and the delivery times in the order's history.
//! - Inspection moves stock at the location the goods arrived at: resellable units are
//!   restocked (`return_restock`), damaged ones quarantined, written-off ones
//!   quarantined and written off from quarantine, so the journal shows each unit.
//!   Variants the ledger does not track move no stock.
//! - Refunds go through the payment refund path (provider refunds requested on the
//!   order's payments, else a recorded refund); never more than was paid.
//! - Exchanges place a replacement order (tagged `exchange`, confirmed so its stock is
//!   reserved) when the policy says: at approval (advance exchange) or at resolution.
//!   The returned value is recorded as paid on it; the rest is charged on it, or what
//!   the return was worth beyond it is refunded on the original order.
//! - Store credit lives in a customer's [`CreditAccount`], its own versioned aggregate
//!   kept as a keyed record (namespace [`CREDIT_NAMESPACE`], key the customer id), saved
//!   in the same change as the order; spending it records a payment on the order being
//!   paid.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CustomerId, LineId, LocationId, OrderId};
use crate::money::Money;
use crate::notify::{Locale, TemplateKey};
use crate::order::{
    place, LineQuantity, NewLine, NewOrder, Order, OrderCommand, OrderError, OrderEvent,
};
use crate::ports::{ChangeSet, IdempotencyRecord, RecordWrite};
use crate::returns::{
    decide, CreditAccount, CreditEntryKind, ExchangeReservation, InspectionOutcome, Replacement,
    Resolution, ResolutionRequest, ReturnCommand, ReturnContext, ReturnEvent, ReturnLineRequest,
    ReturnsError, Rma, RmaStatus, UnitInspection,
};
use crate::stock::{StockCommand, WriteOffSource};

use super::allocation::tracked;
use super::timeline::local;
use super::{
    allocation, check_key, fingerprint, fulfilment, notifications, same_fingerprint,
    CommandContext, Engine, EngineError, TimelineStep, Tx, Written,
};

/// The keyed-record namespace of store-credit accounts (key: the customer id; value:
/// the [`CreditAccount`] as JSON; the record's version is the account's).
pub const CREDIT_NAMESPACE: &str = "returns.store_credit";

/// A customer's store-credit account as stored (`None`: never credited).
/// Store credit the order's customer spent on it and has not been given back as credit
/// for it (issued against this order, by a store-credit resolution or a refund's
/// credit leg); `None` when there is none.
fn credit_paid(engine: &Engine, order: &Order) -> Result<Option<(CustomerId, Money)>, EngineError> {
    let Some(customer) = order.customer.as_ref().and_then(|c| c.id.clone()) else {
        return Ok(None);
    };
    let Some(account) = load_credit(engine, &customer)? else {
        return Ok(None);
    };
    let mut open = Money::zero(order.currency);
    for entry in account.entries.iter().filter(|e| e.order_id == order.id) {
        open = match entry.kind {
            CreditEntryKind::Spent => open.checked_add(&entry.amount),
            CreditEntryKind::Issued => open.checked_sub(&entry.amount),
        }
        .map_err(crate::order::OrderError::from)?;
    }
    Ok((open.amount() > rust_decimal::Decimal::ZERO).then_some((customer, open)))
}

fn load_credit(
    engine: &Engine,
    customer: &CustomerId,
) -> Result<Option<CreditAccount>, EngineError> {
    let Some(record) = engine
        .store
        .keyed_record(CREDIT_NAMESPACE, customer.as_str())?
    else {
        return Ok(None);
    };
    let mut account: CreditAccount = serde_json::from_str(&record.value_json).map_err(|e| {
        crate::ports::StoreError::Corrupt {
            reason: format!("store credit of {customer} does not read back: {e}"),
        }
    })?;
    // The record's version is the account's: the store checks it on every write.
    account.version = record.version;
    Ok(Some(account))
}

/// The record write saving `next`, read at `expected_version`.
fn credit_write(expected_version: u64, next: &CreditAccount) -> Result<RecordWrite, EngineError> {
    Ok(RecordWrite {
        namespace: CREDIT_NAMESPACE.to_string(),
        key: next.customer.to_string(),
        expected_version,
        value_json: Some(super::json(next)?),
    })
}

/// When each line's last units were delivered, from the order's history.
fn delivered_at(
    engine: &Engine,
    id: &OrderId,
) -> Result<BTreeMap<LineId, DateTime<Utc>>, EngineError> {
    let mut at = BTreeMap::new();
    for record in engine.store.order_events(id)? {
        if let OrderEvent::DeliveryRecorded { lines } = &record.event {
            for lq in lines {
                at.insert(lq.line_id.clone(), record.recorded_at);
            }
        }
    }
    Ok(at)
}

/// The stock movements of an inspection, at the location the RMA's goods arrived.
fn inspection_stock(
    tx: &mut Tx<'_>,
    order: &Order,
    rma: &Rma,
    units: &[UnitInspection],
) -> Result<(), EngineError> {
    let Some(location) = &rma.location else {
        return Ok(());
    };
    let reference = Some(format!("return:{}:{}", order.id, rma.id));
    for u in units {
        let Some(line) = order.line(&u.line_id) else {
            continue;
        };
        if !tracked(tx.ledger()?, &line.variant) {
            continue;
        }
        let (variant, location, quantity) = (line.variant.clone(), location.clone(), u.quantity);
        match u.outcome {
            InspectionOutcome::Resellable => {
                tx.stock_effect(StockCommand::RestockReturn {
                    variant,
                    location,
                    quantity,
                    reference: reference.clone(),
                })?;
            }
            InspectionOutcome::Quarantine => {
                tx.stock_effect(StockCommand::Quarantine {
                    variant,
                    location,
                    quantity,
                    reference: reference.clone(),
                })?;
            }
            InspectionOutcome::WriteOff => {
                tx.stock_effect(StockCommand::Quarantine {
                    variant: variant.clone(),
                    location: location.clone(),
                    quantity,
                    reference: reference.clone(),
                })?;
                tx.stock_effect(StockCommand::WriteOff {
                    variant,
                    location,
                    quantity,
                    from: WriteOffSource::Quarantine,
                    reference: reference.clone(),
                })?;
            }
        }
    }
    Ok(())
}

/// Places and confirms the replacement order of an exchange (stock reserved by the
/// engine's rules), returning it and its change.
fn place_replacement(
    engine: &Engine,
    tx: &mut Tx<'_>,
    original: &Order,
    rma: &Rma,
    ctx: &CommandContext,
) -> Result<(Order, ChangeSet), EngineError> {
    let inherited = rma
        .lines
        .first()
        .and_then(|l| original.line(&l.line_id))
        .map(|l| l.tax_lines.to_vec())
        .unwrap_or_default();
    let lines = rma
        .exchange
        .iter()
        .map(|x| NewLine {
            variant: x.variant.clone(),
            quantity: x.quantity,
            unit_price: x.unit_price,
            title: x.title.clone(),
            external_ref: None,
            discounts: Vec::new(),
            tax_lines: if x.tax_lines.is_empty() {
                inherited.clone()
            } else {
                x.tax_lines.clone()
            },
        })
        .collect();
    let mut new = NewOrder::new(original.channel.clone(), tx.now, original.currency, lines);
    new.taxes_included = original.taxes_included;
    new.customer = original.customer.as_deref().cloned();
    new.shipping_address = original.shipping_address.as_deref().cloned();
    new.billing_address = original.billing_address.as_deref().cloned();
    new.tags = vec!["exchange".to_string()];
    new.note = Some(format!(
        "exchange for order {} return {}",
        original.id, rma.id
    ));
    new.notification_opt_outs = original.notification_opt_outs.to_vec();
    let placed = place(&new)?;
    let OrderEvent::Placed(data) = &placed else {
        return Err(EngineError::InvalidInput {
            field: "exchange",
            reason: "place did not produce a placed event",
        });
    };
    let id = super::new_order_id(engine.ids.as_ref())?;
    let before = Order::from_placed(id, data);
    let mut after = before.clone();
    let mut events = vec![placed.clone()];
    for e in crate::order::decide(&after, &OrderCommand::Confirm)? {
        after.apply(&e);
        events.push(e);
    }
    let stock =
        allocation::stock_effects(&engine.config, tx, &before, &after, &OrderCommand::Confirm)?;
    for e in &stock {
        after.apply(e);
    }
    events.extend(stock);
    let synced = fulfilment::sync_fulfilments(&after);
    for e in &synced {
        after.apply(e);
    }
    events.extend(synced);
    let notes = notifications::requests(&engine.config, &after, &events);
    for e in &notes {
        after.apply(e);
    }
    events.extend(notes);
    let changes = engine.changes_for(tx.now, &after, 0, events, ctx)?;
    Ok((after, changes))
}

/// An RMA and what it is worth so far, for a host's screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnView {
    /// The order.
    pub order_id: OrderId,
    /// The RMA.
    pub rma: Rma,
}

/// One return on the customer-facing timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnTimeline {
    /// The RMA.
    pub rma: String,
    /// Where it stands, in the reader's language.
    pub status: String,
    /// Stages passed and to come.
    pub steps: Vec<TimelineStep>,
}

fn stage_label(stage: &str, locale: Locale) -> String {
    let (en, tr) = match stage {
        "requested" => ("Return requested", "İade talep edildi"),
        "approved" => ("Return approved", "İade onaylandı"),
        "rejected" => ("Return rejected", "İade reddedildi"),
        "label_requested" => ("Return label requested", "İade etiketi istendi"),
        "label_ready" => ("Return label ready", "İade etiketi hazır"),
        "in_transit" => ("On its way back", "Geri gönderildi"),
        "partially_received" => ("Partly received", "Kısmen teslim alındı"),
        "received" => ("Received", "Teslim alındı"),
        "inspected" => ("Inspected", "Kontrol edildi"),
        "resolved" => ("Settled", "Sonuçlandı"),
        "closed" => ("Closed", "Kapatıldı"),
        _ => (stage, stage),
    };
    match locale {
        Locale::Tr => tr.to_string(),
        _ => en.to_string(),
    }
}

fn resolution_label(resolution: &Resolution, locale: Locale) -> String {
    let (en, tr) = match resolution {
        Resolution::Refund { .. } => ("refund", "para iadesi"),
        Resolution::StoreCredit { .. } => ("store credit", "mağaza kredisi"),
        Resolution::Exchange { .. } => ("exchange", "değişim"),
    };
    match locale {
        Locale::Tr => tr.to_string(),
        _ => en.to_string(),
    }
}

fn locale_of(order: &Order) -> Locale {
    order
        .customer
        .as_ref()
        .and_then(|c| c.locale.as_deref())
        .map_or(Locale::En, Locale::from_tag)
}

/// A return stage for notifications: the template, the dedupe subject, the values.
pub(crate) type ReturnStage = (TemplateKey, String, Vec<(&'static str, String)>);

/// The customer notification a return event reaches: (stage, subject, values). The
/// subject is the RMA (`rma-R1`), or the RMA and the event's version for receipts
/// (each partial receipt is its own message).
pub(crate) fn notification_stage(
    order: &Order,
    event: &ReturnEvent,
    version: u64,
) -> Option<ReturnStage> {
    let id = event.rma_id();
    let subject = format!("rma-{id}");
    let rma_ref = ("rma_ref", id.to_string());
    let (key, subject, mut extra) = match event {
        ReturnEvent::Requested { .. } => (TemplateKey::ReturnRequested, subject, vec![]),
        ReturnEvent::Approved { .. } => (TemplateKey::ReturnApproved, subject, vec![]),
        ReturnEvent::Rejected { reason, .. } => (
            TemplateKey::ReturnRejected,
            subject,
            vec![("reject_reason", reason.clone())],
        ),
        ReturnEvent::LabelRecorded {
            carrier,
            tracking_number,
            ..
        } => (
            TemplateKey::ReturnLabelReady,
            subject,
            vec![
                ("carrier", carrier.to_uppercase()),
                ("tracking_number", tracking_number.clone()),
            ],
        ),
        ReturnEvent::InTransit { .. } => (TemplateKey::ReturnInTransit, subject, vec![]),
        ReturnEvent::Received { .. } => (
            TemplateKey::ReturnReceived,
            format!("{subject}-v{version}"),
            vec![],
        ),
        ReturnEvent::Inspected { .. } => {
            // One message when the whole return is inspected, not per record.
            let done = order
                .rma(id)
                .is_some_and(|r| r.status == RmaStatus::Inspected);
            if !done {
                return None;
            }
            (TemplateKey::ReturnInspected, subject, vec![])
        }
        ReturnEvent::Resolved { resolution, .. } => (
            TemplateKey::ReturnResolved,
            subject,
            vec![
                ("resolution", resolution_label(resolution, locale_of(order))),
                (
                    "resolution_amount",
                    resolution.breakdown().total.to_string(),
                ),
            ],
        ),
        ReturnEvent::Closed { .. } => (TemplateKey::ReturnClosed, subject, vec![]),
        ReturnEvent::LabelRequested { .. } | ReturnEvent::ReplacementPlaced { .. } => return None,
    };
    extra.push(rma_ref);
    Some((key, subject, extra))
}

impl Engine {
    /// Runs one return step on an order and returns the order after it (its RMAs in
    /// `Order::rmas`), with its stock movements, refunds, replacement order and store
    /// credit saved in the same change. The same idempotency key again returns the
    /// first result. See [`crate::returns`].
    pub fn execute_return(
        &self,
        order_id: &OrderId,
        command: ReturnCommand,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        check_key(ctx)?;
        #[derive(Serialize)]
        struct Keyed<'a> {
            order_id: &'a OrderId,
            return_command: &'a ReturnCommand,
        }
        let keyed = Keyed {
            order_id,
            return_command: &command,
        };
        let fingerprint = match ctx.idempotency_key {
            Some(_) => fingerprint(&keyed)?,
            None => String::new(),
        };
        self.write(|engine, tx| {
            if let Some(key) = &ctx.idempotency_key {
                if let Some(record) = engine.store.idempotency_record(key)? {
                    if !same_fingerprint(&record.fingerprint, &fingerprint, &keyed) {
                        return Err(EngineError::IdempotencyMismatch { key: key.clone() });
                    }
                    return Ok(Written {
                        changes: ChangeSet::default(),
                        value: engine.order_at(&record.order_id, record.order_version)?,
                    });
                }
            }
            let before = engine.load(order_id)?;
            let mut extra = ChangeSet::default();
            // A resolution gives store credit that paid the order back as credit.
            let credit_paid = match &command {
                ReturnCommand::Resolve { .. } => credit_paid(engine, &before)?,
                _ => None,
            };
            let mut rctx = ReturnContext {
                now: tx.now,
                policy: &engine.config.returns,
                delivered_at: delivered_at(engine, order_id)?,
                replacement: None,
                credit_paid,
            };
            // An exchange resolved without an advance replacement places it now.
            let mut placed_now: Option<Order> = None;
            if let ReturnCommand::Resolve {
                rma: id,
                resolution: ResolutionRequest::Exchange,
            } = &command
            {
                let r = crate::returns::rma(&before, id)?;
                let replacement = match &r.replacement_order {
                    Some(existing) => engine.load(existing)?,
                    None if !r.exchange.is_empty() && r.resolution.is_none() => {
                        let (order, changes) = place_replacement(engine, tx, &before, r, ctx)?;
                        super::merge_changes(&mut extra, changes)?;
                        placed_now = Some(order.clone());
                        order
                    }
                    None => before.clone(),
                };
                rctx.replacement = Some(Replacement {
                    order_id: replacement.id.clone(),
                    total: replacement.totals().map_err(OrderError::from)?.total,
                });
            }
            let mut events = decide(&before, &command, &rctx)?;
            let mut after = before.clone();
            for e in &events {
                after.apply(e);
            }
            // Stock, replacement and credit sides of what was decided.
            let mut follow = Vec::new();
            for e in &events {
                let OrderEvent::Return(re) = e else { continue };
                match re.as_ref() {
                    ReturnEvent::Inspected { rma, units } => {
                        if let Some(r) = after.rma(rma) {
                            inspection_stock(tx, &after, r, units)?;
                        }
                    }
                    // An exchange that will not happen (the return rejected, or closed
                    // without a resolution) takes back its advance replacement, as long
                    // as nothing of it shipped: cancelled, its stock released. One that
                    // shipped stays, its price still due from the customer.
                    ReturnEvent::Rejected { rma, .. } | ReturnEvent::Closed { rma } => {
                        let replacement = before
                            .rma(rma)
                            .filter(|r| r.resolution.is_none())
                            .and_then(|r| r.replacement_order.clone());
                        if let Some(replacement) = replacement {
                            cancel_replacement(engine, tx, &mut extra, &replacement, ctx)?;
                        }
                    }
                    ReturnEvent::Approved { rma, .. }
                        if engine.config.returns.exchange_reservation
                            == ExchangeReservation::Advance =>
                    {
                        if let Some(r) = after.rma(rma) {
                            if !r.exchange.is_empty() && r.replacement_order.is_none() {
                                let (order, changes) =
                                    place_replacement(engine, tx, &after, r, ctx)?;
                                super::merge_changes(&mut extra, changes)?;
                                follow.push(OrderEvent::Return(Box::new(
                                    ReturnEvent::ReplacementPlaced {
                                        rma: rma.clone(),
                                        order_id: order.id.clone(),
                                    },
                                )));
                            }
                        }
                    }
                    ReturnEvent::Resolved {
                        rma, resolution, ..
                    } => {
                        // Store credit that paid the order comes back as credit.
                        let legs = match resolution {
                            Resolution::Refund { refunds, .. }
                            | Resolution::Exchange { refunds, .. } => refunds.as_slice(),
                            Resolution::StoreCredit { .. } => &[],
                        };
                        let issue =
                            |extra: &mut ChangeSet, customer: &CustomerId, amount: &Money| {
                                let account = load_credit(engine, customer)?.unwrap_or_else(|| {
                                    CreditAccount::open(customer.clone(), amount.currency())
                                });
                                let next = account.post(
                                    CreditEntryKind::Issued,
                                    *amount,
                                    after.id.clone(),
                                    Some(rma.clone()),
                                    tx.now,
                                )?;
                                extra.records.push(credit_write(account.version, &next)?);
                                Ok::<(), EngineError>(())
                            };
                        for leg in legs {
                            if let crate::returns::RefundLeg::StoreCredit { customer, amount } = leg
                            {
                                issue(&mut extra, customer, amount)?;
                            }
                        }
                        match resolution {
                            // Nothing to credit when every unit's value was kept as fees.
                            Resolution::StoreCredit {
                                customer, amount, ..
                            } if !amount.is_zero() => issue(&mut extra, customer, amount)?,
                            Resolution::Exchange {
                                replacement_order,
                                applied,
                                ..
                            } if !applied.is_zero() => {
                                pay_replacement(
                                    engine,
                                    tx.now,
                                    &mut extra,
                                    placed_now.as_ref(),
                                    replacement_order,
                                    *applied,
                                    ctx,
                                )?;
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
            for e in &follow {
                after.apply(e);
            }
            events.extend(follow);
            // Automation rules (issue 14): a return requested is a trigger.
            let ruled = super::rules::run_for(engine, tx, &mut after, &events, &[])?;
            let first_ruled = events.len();
            events.extend(ruled.iter().map(|c| c.event.clone()));
            let notes = notifications::requests(&engine.config, &after, &events);
            for e in &notes {
                after.apply(e);
            }
            events.extend(notes);
            // Invoicing (issue 11): a refund this step pays issues its credit note in
            // the same commit, exactly as a refund recorded any other way does.
            let (documents, document_effects) =
                super::invoice::credit_notes_for_refunds(engine, tx.now, &after, &events)?;
            let mut changes = if events.is_empty() {
                ChangeSet::default()
            } else {
                engine.changes_for(tx.now, &after, before.version, events, ctx)?
            };
            changes.documents = documents;
            changes.outbox.extend(document_effects);
            super::rules::attribute(&mut changes, first_ruled, &ruled)?;
            super::merge_changes(&mut changes, extra)?;
            if let Some(key) = &ctx.idempotency_key {
                changes.idempotency.push(IdempotencyRecord {
                    key: key.clone(),
                    fingerprint: fingerprint.clone().into(),
                    order_id: order_id.clone(),
                    order_version: after.version,
                });
            }
            Ok(Written {
                changes,
                value: after,
            })
        })
    }

    /// Asks for a return; the policy approves or rejects it at once (the failed rule is
    /// on the RMA). The new RMA is the order's last.
    pub fn request_return(
        &self,
        order_id: &OrderId,
        lines: Vec<ReturnLineRequest>,
        note: Option<String>,
        exchange: Vec<crate::returns::ExchangeLine>,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        self.execute_return(
            order_id,
            ReturnCommand::Request {
                lines,
                note,
                exchange,
            },
            ctx,
        )
    }

    /// A person approves a rejected return against the policy, with a reason.
    pub fn override_return(
        &self,
        order_id: &OrderId,
        rma: &str,
        reason: String,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        let rma = rma.to_string();
        self.execute_return(order_id, ReturnCommand::Override { rma, reason }, ctx)
    }

    /// A person rejects a return before anything arrived, with a reason.
    pub fn reject_return(
        &self,
        order_id: &OrderId,
        rma: &str,
        reason: String,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        let rma = rma.to_string();
        self.execute_return(order_id, ReturnCommand::Reject { rma, reason }, ctx)
    }

    /// Records that the returned goods are on their way back (again: no change).
    pub fn mark_return_in_transit(
        &self,
        order_id: &OrderId,
        rma: &str,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        let rma = rma.to_string();
        self.execute_return(order_id, ReturnCommand::MarkInTransit { rma }, ctx)
    }

    /// Asks the host for a return label (outbox topic `return.label_requested`).
    pub fn request_return_label(
        &self,
        order_id: &OrderId,
        rma: &str,
        service: String,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        let rma = rma.to_string();
        self.execute_return(order_id, ReturnCommand::RequestLabel { rma, service }, ctx)
    }

    /// Records the label the host bought (the same tracking number again changes
    /// nothing).
    pub fn record_return_label(
        &self,
        order_id: &OrderId,
        rma: &str,
        carrier: String,
        tracking_number: String,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        let rma = rma.to_string();
        self.execute_return(
            order_id,
            ReturnCommand::RecordLabel {
                rma,
                carrier,
                tracking_number,
            },
            ctx,
        )
    }

    /// Records units of a return arriving at `location` (partial receipts allowed).
    pub fn receive_return(
        &self,
        order_id: &OrderId,
        rma: &str,
        location: LocationId,
        lines: Vec<LineQuantity>,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        let rma = rma.to_string();
        self.execute_return(
            order_id,
            ReturnCommand::Receive {
                rma,
                location,
                lines,
            },
            ctx,
        )
    }

    /// Records what inspection found, moving stock (restock, quarantine, write-off).
    pub fn inspect_return(
        &self,
        order_id: &OrderId,
        rma: &str,
        units: Vec<UnitInspection>,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        let rma = rma.to_string();
        self.execute_return(order_id, ReturnCommand::Inspect { rma, units }, ctx)
    }

    /// Settles a return as a refund, an exchange or store credit.
    pub fn resolve_return(
        &self,
        order_id: &OrderId,
        rma: &str,
        resolution: ResolutionRequest,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        let rma = rma.to_string();
        self.execute_return(order_id, ReturnCommand::Resolve { rma, resolution }, ctx)
    }

    /// Closes a return: a resolved or rejected one; one nothing has arrived for yet; or
    /// one whose goods were all inspected and that settles nothing more (an earlier
    /// refund already gave back what it was worth, or the shop settled it elsewhere).
    pub fn close_return(
        &self,
        order_id: &OrderId,
        rma: &str,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        let rma = rma.to_string();
        self.execute_return(order_id, ReturnCommand::Close { rma }, ctx)
    }

    /// What the units an RMA received are worth now (the refund it would make), line
    /// by line. Reads only.
    pub fn return_value(
        &self,
        order_id: &OrderId,
        rma: &str,
    ) -> Result<crate::returns::RefundBreakdown, EngineError> {
        let order = self.load(order_id)?;
        let r = crate::returns::rma(&order, rma)?;
        Ok(crate::returns::rma_value(&order, r, &self.config.returns)?)
    }

    /// A customer's store credit (`None`: never credited).
    pub fn store_credit(
        &self,
        customer: &CustomerId,
    ) -> Result<Option<CreditAccount>, EngineError> {
        load_credit(self, customer)
    }

    /// Pays `amount` of an order from its customer's store credit: the account is
    /// debited (never below zero: `RETURNS_CREDIT_INSUFFICIENT`) and a payment is
    /// recorded on the order (never above its balance due), in one change.
    pub fn spend_store_credit(
        &self,
        order_id: &OrderId,
        amount: Money,
        ctx: &CommandContext,
    ) -> Result<Order, EngineError> {
        check_key(ctx)?;
        #[derive(Serialize)]
        struct Keyed<'a> {
            order_id: &'a OrderId,
            spend_store_credit: &'a Money,
        }
        let keyed = Keyed {
            order_id,
            spend_store_credit: &amount,
        };
        let fingerprint = match ctx.idempotency_key {
            Some(_) => fingerprint(&keyed)?,
            None => String::new(),
        };
        self.write(|engine, tx| {
            if let Some(key) = &ctx.idempotency_key {
                if let Some(record) = engine.store.idempotency_record(key)? {
                    if !same_fingerprint(&record.fingerprint, &fingerprint, &keyed) {
                        return Err(EngineError::IdempotencyMismatch { key: key.clone() });
                    }
                    return Ok(Written {
                        changes: ChangeSet::default(),
                        value: engine.order_at(&record.order_id, record.order_version)?,
                    });
                }
            }
            let command = OrderCommand::RecordPayment { amount };
            let before = if command.moves_stock() {
                tx.load_order_for_stock(engine, order_id)?
            } else {
                engine.load(order_id)?
            };
            let customer = before
                .customer
                .as_ref()
                .and_then(|c| c.id.clone())
                .ok_or(ReturnsError::NoCustomerAccount)?;
            let account = load_credit(engine, &customer)?
                .unwrap_or_else(|| CreditAccount::open(customer.clone(), before.currency));
            let next = account.post(
                CreditEntryKind::Spent,
                amount,
                before.id.clone(),
                None,
                tx.now,
            )?;
            // A payment like any other: its stock effects, automation rules (a
            // `payment_received` rule confirms a paid order) and notifications.
            let mut after = before.clone();
            let mut events = Vec::new();
            let super::Step {
                ruled,
                first_ruled,
                documents,
                document_effects,
            } = engine.step_in(tx, &before, &mut after, &command, true, &mut events)?;
            let mut changes = engine.changes_for(tx.now, &after, before.version, events, ctx)?;
            changes.documents = documents;
            changes.outbox.extend(document_effects);
            super::rules::attribute(&mut changes, first_ruled, &ruled)?;
            changes.records.push(credit_write(account.version, &next)?);
            if let Some(key) = &ctx.idempotency_key {
                changes.idempotency.push(IdempotencyRecord {
                    key: key.clone(),
                    fingerprint: fingerprint.clone().into(),
                    order_id: order_id.clone(),
                    order_version: after.version,
                });
            }
            Ok(Written {
                changes,
                value: after,
            })
        })
    }

    /// The order's returns for "where is my order": each RMA's stages with local
    /// times, in `locale`.
    pub(crate) fn return_timelines(
        &self,
        order: &Order,
        history: &[crate::order::OrderEventRecord],
        tz: chrono_tz::Tz,
        locale: Locale,
    ) -> Vec<ReturnTimeline> {
        order
            .rmas
            .iter()
            .map(|r| {
                let when = |pred: &dyn Fn(&ReturnEvent) -> bool| {
                    history
                        .iter()
                        .filter_map(|rec| match &rec.event {
                            OrderEvent::Return(e) if e.rma_id() == r.id && pred(e) => {
                                Some(rec.recorded_at)
                            }
                            _ => None,
                        })
                        .next()
                        .map(|t| local(t, tz))
                };
                let mut steps = vec![(
                    "requested",
                    when(&|e| matches!(e, ReturnEvent::Requested { .. })),
                )];
                let rejected = when(&|e| matches!(e, ReturnEvent::Rejected { .. }));
                let approved = when(&|e| matches!(e, ReturnEvent::Approved { .. }));
                if r.status == RmaStatus::Rejected || (rejected.is_some() && approved.is_none()) {
                    steps.push(("rejected", rejected));
                } else {
                    steps.push(("approved", approved));
                    if r.label.is_some() {
                        steps.push((
                            "label_ready",
                            when(&|e| matches!(e, ReturnEvent::LabelRecorded { .. })),
                        ));
                    }
                    steps.push((
                        "in_transit",
                        when(&|e| matches!(e, ReturnEvent::InTransit { .. })),
                    ));
                    steps.push((
                        "received",
                        when(&|e| matches!(e, ReturnEvent::Received { .. })),
                    ));
                    steps.push((
                        "inspected",
                        when(&|e| matches!(e, ReturnEvent::Inspected { .. })).filter(|_| {
                            r.lines.iter().all(|l| l.uninspected() == 0) && r.received_units() > 0
                        }),
                    ));
                    steps.push((
                        "resolved",
                        when(&|e| matches!(e, ReturnEvent::Resolved { .. })),
                    ));
                }
                steps.push(("closed", when(&|e| matches!(e, ReturnEvent::Closed { .. }))));
                ReturnTimeline {
                    rma: r.id.clone(),
                    status: stage_label(r.status.as_str(), locale),
                    steps: steps
                        .into_iter()
                        .map(|(stage, at)| TimelineStep {
                            stage: stage.to_string(),
                            label: stage_label(stage, locale),
                            done: at.is_some(),
                            at,
                        })
                        .collect(),
                }
            })
            .collect()
    }
}

/// Cancels an advance replacement whose exchange will not happen, unless something of
/// it shipped or it is cancelled already: its reservations released, in the return's
/// change.
fn cancel_replacement(
    engine: &Engine,
    tx: &mut Tx<'_>,
    extra: &mut ChangeSet,
    replacement: &OrderId,
    ctx: &CommandContext,
) -> Result<(), EngineError> {
    let command = OrderCommand::Cancel {
        reason: crate::order::CancelReason::Other,
    };
    let before = tx.load_order_for_stock(engine, replacement)?;
    let shipped = before.lines.iter().any(|l| l.fulfilment.shipped > 0);
    if shipped || before.status == crate::order::OrderStatus::Cancelled {
        return Ok(());
    }
    let mut after = before.clone();
    let mut events = Vec::new();
    engine.step_in(tx, &before, &mut after, &command, false, &mut events)?;
    super::merge_changes(
        extra,
        engine.changes_for(tx.now, &after, before.version, events, ctx)?,
    )
}

/// Records the returned value applied to an exchange's replacement order as paid on it
/// (a new replacement in this change, or an advance one loaded from the store).
fn pay_replacement(
    engine: &Engine,
    now: DateTime<Utc>,
    extra: &mut ChangeSet,
    placed_now: Option<&Order>,
    replacement: &OrderId,
    applied: Money,
    ctx: &CommandContext,
) -> Result<(), EngineError> {
    let command = OrderCommand::RecordPayment { amount: applied };
    if let Some(order) = placed_now.filter(|o| &o.id == replacement) {
        // Extend the replacement's own change in this change set.
        let Some(change) = extra
            .orders
            .iter_mut()
            .find(|c| &c.snapshot.id == replacement)
        else {
            return Ok(());
        };
        let events = crate::order::decide(order, &command)?;
        let mut after = order.clone();
        for e in &events {
            after.apply(e);
        }
        let more = engine.changes_for(now, &after, order.version, events, ctx)?;
        for c in more.orders {
            change.events.append(c.events)?;
            change.snapshot = c.snapshot;
        }
        extra.outbox.extend(more.outbox);
        return Ok(());
    }
    let before = engine.load(replacement)?;
    let events = crate::order::decide(&before, &command)?;
    let mut after = before.clone();
    for e in &events {
        after.apply(e);
    }
    let notes = notifications::requests(&engine.config, &after, &events);
    for e in &notes {
        after.apply(e);
    }
    let mut all = events;
    all.extend(notes);
    super::merge_changes(
        extra,
        engine.changes_for(now, &after, before.version, all, ctx)?,
    )
}
