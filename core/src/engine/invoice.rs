//! The engine's invoicing: issue invoices and credit notes with gapless numbers, credit
//! refunds automatically, read and render documents. See [`crate::invoice`].
//!
//! Every document is saved in one commit with its series' next number
//! ([`DocumentAppend`]) and a version check of its order (a change without events), so
//! two engines racing for a number, or for the same order's invoice, make one of them
//! reload and retry; a failed commit takes no number.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{json, CommandContext, Engine, EngineError, Written};
use crate::ids::OrderId;
use crate::invoice::build::{credit_note_toward, returned_toward};
use crate::invoice::{
    credit_note_for, invoice_for, render_cii, render_html, CreditSource, DocumentKind,
    InvoiceConfig, InvoiceDocument, InvoiceError, Numbering,
};
use crate::money::Money;
use crate::notify::Locale;
use crate::order::{Order, OrderEvent};
use crate::ports::{ChangeSet, DocumentAppend, NewEvents, OrderChange, OutboxRecord, OutboxWrite};
use crate::returns::{Resolution, ReturnEvent};

/// Longest reason accepted on a manual credit note, in bytes.
pub const MAX_CREDIT_REASON_LEN: usize = 500;

#[derive(Serialize)]
struct Issued<'a> {
    kind: DocumentKind,
    number: &'a str,
    order_id: &'a OrderId,
    #[serde(skip_serializing_if = "Option::is_none")]
    corrects: Option<&'a str>,
    grand_total: &'a Money,
}

/// The outbox record telling the host a document was issued (to send or archive it):
/// topic `invoice.issued` or `credit_note.issued`.
fn issued_record(doc: &InvoiceDocument, now: DateTime<Utc>) -> Result<OutboxWrite, EngineError> {
    Ok(OutboxWrite::Record(OutboxRecord {
        // Unique without a generator: document numbers never repeat.
        id: format!("document:{}", doc.number),
        topic: format!("{}.issued", doc.kind.as_str()),
        aggregate_id: doc.order_id.to_string(),
        aggregate_version: doc.sequence,
        created_at: now,
        payload_json: json(&Issued {
            kind: doc.kind,
            number: &doc.number,
            order_id: &doc.order_id,
            corrects: doc.corrects.as_ref().map(|c| c.number.as_str()),
            grand_total: &doc.totals.grand_total,
        })?,
    }))
}

fn no_key(ctx: &CommandContext) -> Result<(), EngineError> {
    if ctx.idempotency_key.is_some() {
        return Err(EngineError::InvalidInput {
            field: "idempotency_key",
            reason: "document calls take no key: an order is invoiced once per unit, and a retried credit note is refused once the invoice is fully credited",
        });
    }
    Ok(())
}

impl Engine {
    /// This engine, issuing documents with `config` (seller, numbering, mode, rounding);
    /// refused with [`InvoiceError::BadConfig`] if the seller cannot appear on an
    /// EN 16931 invoice.
    pub fn with_invoicing(mut self, config: InvoiceConfig) -> Result<Self, EngineError> {
        config.validate()?;
        self.invoicing = Some(Arc::new(config));
        Ok(self)
    }

    /// The invoicing configuration, if any.
    pub fn invoicing(&self) -> Option<&InvoiceConfig> {
        self.invoicing.as_deref()
    }

    fn invoice_config(&self) -> Result<&InvoiceConfig, EngineError> {
        Ok(self
            .invoicing
            .as_deref()
            .ok_or(InvoiceError::NotConfigured)?)
    }

    /// Issues the next invoice of an order: all of it ([`crate::invoice::InvoiceMode::PerOrder`],
    /// once) or the units shipped since its last invoice
    /// ([`crate::invoice::InvoiceMode::PerShipment`], `shipment` labels it). The number is
    /// taken in the commit that saves the invoice; an outbox record `invoice.issued`
    /// tells the host.
    pub fn issue_invoice(
        &self,
        order_id: &OrderId,
        shipment: Option<&str>,
        ctx: &CommandContext,
    ) -> Result<InvoiceDocument, EngineError> {
        no_key(ctx)?;
        let config = self.invoice_config()?;
        if shipment.is_some_and(|s| s.trim().is_empty() || s.len() > 200) {
            return Err(EngineError::InvalidInput {
                field: "shipment",
                reason: "must be 1 to 200 bytes",
            });
        }
        self.write(|engine, tx| {
            let order = engine.load(order_id)?;
            let earlier = engine.store.order_documents(order_id)?;
            let series = Numbering::series_at(config, DocumentKind::Invoice, tx.now);
            let last = engine.store.document_series_last(&series)?;
            let numbering = Numbering::next(config, DocumentKind::Invoice, tx.now, last);
            let doc = invoice_for(
                config,
                &order,
                &earlier,
                numbering.clone(),
                tx.now,
                shipment.map(str::to_string),
            )?;
            // What was given back before the order had an invoice to credit it on (a
            // refund, a return settled) is credited now, on credit notes issued with
            // this invoice, as far as the invoices have room: the invoice counts it as
            // paid and the credit notes as paid back.
            let uncredited = crate::invoice::build::given_back_uncredited(&order, &earlier)?;
            if uncredited.is_zero() {
                return Ok(Written {
                    changes: document_changes(&order, vec![(last, doc.clone())], tx.now)?,
                    value: doc,
                });
            }
            let mut room = doc.totals.grand_total;
            for invoice in earlier.iter().filter(|d| d.kind == DocumentKind::Invoice) {
                let left = crate::invoice::build::creditable(invoice, &earlier)?;
                if !left.is_negative() {
                    room = room.checked_add(&left).map_err(InvoiceError::from)?;
                }
            }
            let crediting = if uncredited.amount() > room.amount() {
                room
            } else {
                uncredited
            };
            let doc = crate::invoice::build::invoice_crediting(
                config,
                &order,
                &earlier,
                numbering,
                tx.now,
                shipment.map(str::to_string),
                crediting,
            )?;
            let mut all = earlier;
            all.push(doc.clone());
            let (notes, notes_issued) =
                credit_amounts(engine, tx.now, &order, vec![crediting], all)?;
            let mut changes = document_changes(&order, vec![(last, doc.clone())], tx.now)?;
            changes.documents.extend(notes);
            changes.outbox.extend(notes_issued);
            Ok(Written {
                changes,
                value: doc,
            })
        })
    }

    /// Issues a credit note of `amount` (with VAT) against invoice `number`, for a
    /// correction the shop still owes (`reason` is printed on it; no personal data). A
    /// credit note larger than what the invoice has left to credit is
    /// [`InvoiceError::CreditExceedsInvoice`] and changes nothing. Refunds need no call:
    /// they issue their credit notes themselves.
    pub fn issue_credit_note(
        &self,
        number: &str,
        amount: Money,
        reason: &str,
        ctx: &CommandContext,
    ) -> Result<InvoiceDocument, EngineError> {
        no_key(ctx)?;
        let config = self.invoice_config()?;
        if reason.trim().is_empty() || reason.len() > MAX_CREDIT_REASON_LEN {
            return Err(EngineError::InvalidInput {
                field: "reason",
                reason: "must be 1 to 500 bytes",
            });
        }
        self.write(|engine, tx| {
            let invoice = engine.document(number)?;
            let order = engine.load(&invoice.order_id)?;
            let earlier = engine.store.order_documents(&invoice.order_id)?;
            let series = Numbering::series_at(config, DocumentKind::CreditNote, tx.now);
            let last = engine.store.document_series_last(&series)?;
            let numbering = Numbering::next(config, DocumentKind::CreditNote, tx.now, last);
            let doc = credit_note_for(
                config,
                &order,
                &invoice,
                &earlier,
                amount,
                CreditSource::Correction {
                    reason: reason.to_string(),
                },
                numbering,
                tx.now,
            )?;
            Ok(Written {
                changes: document_changes(&order, vec![(last, doc.clone())], tx.now)?,
                value: doc,
            })
        })
    }

    /// The invoice or credit note numbered `number` ([`InvoiceError::NotFound`] if none).
    pub fn document(&self, number: &str) -> Result<InvoiceDocument, EngineError> {
        self.store.load_document(number)?.ok_or_else(|| {
            InvoiceError::NotFound {
                number: number.to_string(),
            }
            .into()
        })
    }

    /// An order's invoices and credit notes, oldest first (empty when it has none;
    /// an unknown order is `ORDER_NOT_FOUND`).
    pub fn order_documents(&self, order_id: &OrderId) -> Result<Vec<InvoiceDocument>, EngineError> {
        self.load(order_id)?;
        Ok(self.store.order_documents(order_id)?)
    }

    /// The document as a printable HTML page in `locale`.
    pub fn document_html(&self, number: &str, locale: Locale) -> Result<String, EngineError> {
        Ok(render_html(&self.document(number)?, locale)?)
    }

    /// The document as EN 16931 CII XML (Factur-X / ZUGFeRD "EN 16931" profile).
    pub fn document_cii(&self, number: &str) -> Result<String, EngineError> {
        Ok(render_cii(&self.document(number)?)?)
    }
}

/// A change set saving `documents` (each with the series' last number it expects),
/// with a version check of their order and the `*.issued` outbox records.
fn document_changes(
    order: &Order,
    documents: Vec<(u64, InvoiceDocument)>,
    now: DateTime<Utc>,
) -> Result<ChangeSet, EngineError> {
    let outbox = documents
        .iter()
        .map(|(_, d)| issued_record(d, now))
        .collect::<Result<_, _>>()?;
    Ok(ChangeSet {
        orders: vec![OrderChange {
            expected_version: order.version,
            events: NewEvents::new(order.id.clone(), order.version),
            snapshot: order.clone(),
        }],
        outbox,
        documents: documents
            .into_iter()
            .map(|(expected_last, document)| DocumentAppend {
                expected_last,
                document,
            })
            .collect(),
        ..ChangeSet::default()
    })
}

/// The credit notes the refunds among `events` issue on `order` (after the events):
/// money refunded, and what a return gave back in kind (store credit, value applied to
/// an exchange's replacement: the goods came back either way, so the invoice is
/// corrected either way). Each is credited against the order's invoices, those
/// holding returned goods not yet credited first, then newest first, up to what each
/// has left to credit, and on each invoice first at the rates of returned goods not yet
/// credited (`invoice::build::returned_toward`). A refund beyond what was invoiced (an
/// overpayment, or units not yet invoiced per shipment) credits only the invoiced part.
/// Orders without invoices get none. Called by [`Engine::execute`] so the credit notes are saved in the commit
/// that records the refund, with their `credit_note.issued` outbox records. An engine
/// without an invoicing configuration refuses a refund on an invoiced order
/// (`INVOICE_NOT_CONFIGURED`) rather than leave the invoice uncorrected.
pub(crate) fn credit_notes_for_refunds(
    engine: &Engine,
    now: DateTime<Utc>,
    order: &Order,
    events: &[OrderEvent],
) -> Result<(Vec<DocumentAppend>, Vec<OutboxWrite>), EngineError> {
    let refunds: Vec<Money> = events
        .iter()
        .flat_map(|e| match e {
            OrderEvent::Return(r) => match r.as_ref() {
                ReturnEvent::Resolved { resolution, .. } => {
                    // Money moves as refund events of their own, read below; store
                    // credit given back (a whole resolution, or a refund's credit leg)
                    // and value applied to a replacement move as none.
                    let credit_legs = |legs: &[crate::returns::RefundLeg]| -> Vec<Money> {
                        legs.iter()
                            .filter_map(|l| match l {
                                crate::returns::RefundLeg::StoreCredit { amount, .. } => {
                                    Some(*amount)
                                }
                                _ => None,
                            })
                            .collect()
                    };
                    match resolution {
                        Resolution::StoreCredit { amount, .. } => vec![*amount],
                        Resolution::Exchange {
                            applied, refunds, ..
                        } => {
                            let mut v = vec![*applied];
                            v.extend(credit_legs(refunds));
                            v
                        }
                        Resolution::Refund { refunds, .. } => credit_legs(refunds),
                    }
                }
                _ => Vec::new(),
            },
            e => e.refunded_amount().into_iter().collect(),
        })
        .filter(|m| !m.is_zero() && !m.is_negative())
        .collect();
    if refunds.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let all = engine.store.order_documents(&order.id)?;
    credit_amounts(engine, now, order, refunds, all)
}

/// Credit notes for `refunds` on `order`'s invoices among `all` (its documents), as
/// [`credit_notes_for_refunds`] spreads them.
fn credit_amounts(
    engine: &Engine,
    now: DateTime<Utc>,
    order: &Order,
    refunds: Vec<Money>,
    mut all: Vec<InvoiceDocument>,
) -> Result<(Vec<DocumentAppend>, Vec<OutboxWrite>), EngineError> {
    let invoices: Vec<InvoiceDocument> = all
        .iter()
        .filter(|d| d.kind == DocumentKind::Invoice)
        .cloned()
        .collect();
    if invoices.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let config = engine.invoice_config()?;
    let mut series_last: HashMap<String, u64> = HashMap::new();
    let mut appends = Vec::new();
    let mut outbox = Vec::new();
    for refund in refunds {
        let mut left = refund;
        // The invoices holding returned goods not yet credited first (most such value
        // first), so a return is credited on the invoice that billed it; the rest
        // newest first.
        let mut by_return = Vec::with_capacity(invoices.len());
        for (k, invoice) in invoices.iter().enumerate().rev() {
            let toward = returned_toward(order, invoice, &all)?;
            let value: rust_decimal::Decimal = toward.values().map(Money::amount).sum();
            by_return.push((value, k));
        }
        by_return.sort_by_key(|(value, _)| std::cmp::Reverse(*value));
        for invoice in by_return.iter().filter_map(|(_, k)| invoices.get(*k)) {
            if left.is_zero() {
                break;
            }
            let room = crate::invoice::build::creditable(invoice, &all)?;
            if room.is_zero() || room.is_negative() {
                continue;
            }
            let amount = if left.amount() > room.amount() {
                room
            } else {
                left
            };
            let series = Numbering::series_at(config, DocumentKind::CreditNote, now);
            let last = match series_last.get(&series) {
                Some(n) => *n,
                None => engine.store.document_series_last(&series)?,
            };
            let numbering = Numbering::next(config, DocumentKind::CreditNote, now, last);
            // Goods that came back credit their own rates first.
            let toward = returned_toward(order, invoice, &all)?;
            let doc = credit_note_toward(
                config,
                order,
                invoice,
                &all,
                amount,
                CreditSource::Refund,
                numbering,
                now,
                &toward,
            )?;
            series_last.insert(series, doc.sequence);
            outbox.push(issued_record(&doc, now)?);
            appends.push(DocumentAppend {
                expected_last: last,
                document: doc.clone(),
            });
            all.push(doc);
            left = left.checked_sub(&amount).map_err(InvoiceError::from)?;
        }
    }
    Ok((appends, outbox))
}
