//! Building documents: an invoice from an order, a credit note from an invoice.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

use super::tax::{split, units_share, Charged};
use super::{
    check_en16931, Buyer, CorrectedInvoice, DocumentKind, DocumentTotals, InvoiceConfig,
    InvoiceDocument, InvoiceError, InvoiceLine, InvoiceMode, LineKind, VatBreakdown, VatCategory,
};
use crate::ids::LineId;
use crate::money::{allocate, Currency, Money};
use crate::order::{Order, TaxLine};
use crate::pii::Redacted;

/// The number a new document takes: its series and its place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numbering {
    /// The series, e.g. `INV-2026-{seq:06}`.
    pub series: String,
    /// The place in the series (the store's last + 1).
    pub sequence: u64,
    /// The rendered number.
    pub number: String,
}

impl Numbering {
    /// The number of the next document of `kind` issued at `at`, after `last` in its
    /// series; the series is `config.format(kind).series(year)`.
    pub fn next(config: &InvoiceConfig, kind: DocumentKind, at: DateTime<Utc>, last: u64) -> Self {
        let year = config.local_date(at).year();
        let format = config.format(kind);
        let sequence = last.saturating_add(1);
        Numbering {
            series: format.series(year),
            sequence,
            number: format.number(year, sequence),
        }
    }

    /// The series a document of `kind` issued at `at` belongs to.
    pub fn series_at(config: &InvoiceConfig, kind: DocumentKind, at: DateTime<Utc>) -> String {
        config.format(kind).series(config.local_date(at).year())
    }
}

/// The one VAT rate of a line's tax lines (zero without any).
fn vat_rate(order: &Order, line: &str, taxes: &[TaxLine]) -> Result<Decimal, InvoiceError> {
    match taxes {
        [] => Ok(Decimal::ZERO),
        [one] => Ok(one.rate),
        several => Err(InvoiceError::SeveralTaxesOnLine {
            order_id: order.id.clone(),
            line: line.to_string(),
            count: several.len(),
        }),
    }
}

fn buyer(order: &Order, config: &InvoiceConfig) -> Buyer {
    let address = order
        .billing_address
        .as_deref()
        .or(order.shipping_address.as_deref())
        .cloned();
    let from_address = address
        .as_ref()
        .map(|a| a.name.expose().trim().to_string())
        .filter(|n| !n.is_empty());
    let from_customer = order
        .customer
        .as_ref()
        .map(|c| c.name.expose().trim().to_string())
        .filter(|n| !n.is_empty());
    let name = from_address
        .or(from_customer)
        .unwrap_or_else(|| config.anonymous_buyer.clone());
    Buyer {
        name: Redacted::new(name),
        email: order.customer.as_ref().and_then(|c| c.email.clone()),
        address,
    }
}

fn net_unit_price(net: &Money, quantity: u32) -> Decimal {
    if quantity == 0 {
        return Decimal::ZERO;
    }
    (net.amount() / Decimal::from(quantity))
        .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

struct Draft {
    kind: LineKind,
    order_line: Option<LineId>,
    sku: Option<String>,
    description: String,
    quantity: u32,
    discount: Money,
    charged: Money,
    rate: Decimal,
}

/// Finishes a document from its drafted lines: VAT split, breakdown, totals, the check.
#[allow(clippy::too_many_arguments)]
fn finish(
    config: &InvoiceConfig,
    order: &Order,
    kind: DocumentKind,
    numbering: Numbering,
    now: DateTime<Utc>,
    drafts: Vec<Draft>,
    prices_include_tax: bool,
    paid: PaidRule,
    corrects: Option<CorrectedInvoice>,
    shipment: Option<String>,
    note: Option<String>,
) -> Result<InvoiceDocument, InvoiceError> {
    let currency = order.currency;
    let charged: Vec<Charged> = drafts
        .iter()
        .map(|d| Charged {
            amount: d.charged,
            rate: d.rate,
        })
        .collect();
    let split = split(
        &charged,
        prices_include_tax,
        config.tax_rounding,
        config.rounding,
    )?;
    let lines: Vec<InvoiceLine> = drafts
        .into_iter()
        .zip(&split.net)
        .enumerate()
        .map(|(i, (d, net))| InvoiceLine {
            id: (i + 1).to_string(),
            kind: d.kind,
            order_line: d.order_line,
            sku: d.sku,
            description: d.description,
            quantity: d.quantity,
            net_unit_price: net_unit_price(net, d.quantity),
            net_amount: *net,
            discount: d.discount,
            quoted_amount: d.charged,
            vat_rate: d.rate.normalize(),
            vat_category: VatCategory::for_rate(d.rate),
        })
        .collect();
    let vat: Vec<VatBreakdown> = split
        .rates
        .iter()
        .map(|r| VatBreakdown {
            category: r.category,
            rate: r.rate,
            basis: r.basis,
            tax: r.tax,
        })
        .collect();
    let zero = Money::zero(currency);
    let line_total = Money::sum(currency, lines.iter().map(|l| &l.net_amount))?;
    let tax_total = Money::sum(currency, vat.iter().map(|v| &v.tax))?;
    let grand_total = line_total.checked_add(&tax_total)?;
    let PaidRule::UpTo(available) = paid;
    let paid = if available.is_negative() {
        zero
    } else if available.amount() > grand_total.amount() {
        grand_total
    } else {
        available
    };
    let due = grand_total.checked_sub(&paid)?;
    let document = InvoiceDocument {
        kind,
        number: numbering.number,
        series: numbering.series,
        sequence: numbering.sequence,
        order_id: order.id.clone(),
        order_ref: order.external_ref.as_deref().map(str::to_string),
        issued_at: now,
        issue_date: config.local_date(now),
        currency,
        prices_include_tax,
        tax_rounding: config.tax_rounding,
        seller: config.seller.clone(),
        buyer: buyer(order, config),
        lines,
        vat,
        totals: DocumentTotals {
            line_total,
            tax_basis_total: line_total,
            tax_total,
            grand_total,
            paid,
            rounding: zero,
            due,
        },
        corrects,
        shipment,
        note,
    };
    check_en16931(&document)?;
    Ok(document)
}

enum PaidRule {
    /// Paid is what the order has paid and earlier invoices have not claimed, capped at
    /// the document's total.
    UpTo(Money),
}

/// The next invoice of `order`: in [`InvoiceMode::PerOrder`] its active units and
/// shipping (once); in [`InvoiceMode::PerShipment`] the units shipped and not yet on an
/// invoice in `earlier`, with shipping on the first. `earlier` are the order's documents
/// already issued. Paid (BT-113) is what the customer paid and kept, less what earlier
/// invoices claimed, plus what credit notes gave back against them, capped at the
/// total.
pub fn invoice_for(
    config: &InvoiceConfig,
    order: &Order,
    earlier: &[InvoiceDocument],
    numbering: Numbering,
    now: DateTime<Utc>,
    shipment: Option<String>,
) -> Result<InvoiceDocument, InvoiceError> {
    let zero = Money::zero(order.currency);
    invoice_crediting(config, order, earlier, numbering, now, shipment, zero)
}

/// [`invoice_for`], with `crediting` given back before this invoice and credited on
/// credit notes issued with it (a refund made before the order was invoiced): the
/// invoice counts it as paid, and the credit notes as paid back.
pub(crate) fn invoice_crediting(
    config: &InvoiceConfig,
    order: &Order,
    earlier: &[InvoiceDocument],
    numbering: Numbering,
    now: DateTime<Utc>,
    shipment: Option<String>,
    crediting: Money,
) -> Result<InvoiceDocument, InvoiceError> {
    let invoices: Vec<&InvoiceDocument> = earlier
        .iter()
        .filter(|d| d.kind == DocumentKind::Invoice && d.order_id == order.id)
        .collect();
    if config.mode == InvoiceMode::PerOrder {
        if let Some(first) = invoices.first() {
            return Err(InvoiceError::AlreadyIssued {
                order_id: order.id.clone(),
                number: first.number.clone(),
            });
        }
    }
    let mut invoiced: BTreeMap<&LineId, u32> = BTreeMap::new();
    for line in invoices.iter().flat_map(|d| &d.lines) {
        if let Some(id) = &line.order_line {
            let n = invoiced.entry(id).or_default();
            *n = n.saturating_add(line.quantity);
        }
    }
    let mut drafts = Vec::new();
    for line in &order.lines {
        let active = line.active_quantity();
        let billable = match config.mode {
            InvoiceMode::PerOrder => active,
            InvoiceMode::PerShipment => line.fulfilment.shipped.min(active),
        };
        let done = invoiced.get(&line.id).copied().unwrap_or(0);
        let quantity = billable.saturating_sub(done);
        if quantity == 0 {
            continue;
        }
        let rate = vat_rate(order, line.id.as_str(), &line.tax_lines)?;
        let amounts = line.amounts(order.taxes_included)?;
        let discounted = amounts.subtotal.checked_sub(&amounts.discount)?;
        drafts.push(Draft {
            kind: LineKind::Item,
            order_line: Some(line.id.clone()),
            sku: Some(line.variant.to_string()),
            description: line
                .title
                .as_deref()
                .map_or_else(|| line.variant.to_string(), str::to_string),
            quantity,
            discount: units_share(&amounts.discount, active, done, quantity)?,
            charged: units_share(&discounted, active, done, quantity)?,
            rate,
        });
    }
    let shipping_invoiced = invoices
        .iter()
        .any(|d| d.lines.iter().any(|l| l.kind == LineKind::Shipping));
    let has_items = !drafts.is_empty();
    if has_items && !shipping_invoiced && order.active_units() > 0 {
        for s in &order.shipping_lines {
            drafts.push(Draft {
                kind: LineKind::Shipping,
                order_line: None,
                sku: None,
                description: format!("Shipping: {}", s.title),
                quantity: 1,
                discount: Money::zero(order.currency),
                charged: s.price,
                rate: vat_rate(order, "shipping", &s.tax_lines)?,
            });
        }
    }
    if !has_items {
        return Err(InvoiceError::NothingToInvoice {
            order_id: order.id.clone(),
        });
    }
    // What the customer's payments still cover: what they paid and kept (less money
    // refunded and value given back in kind), less what earlier invoices claimed, plus
    // what credit notes gave back against those invoices (a refund credited on
    // invoice 1 reduced what invoice 1 keeps, not what is left for the next one).
    let (kept, credited) = kept_and_credited(order, earlier)?;
    let claimed = Money::sum(order.currency, invoices.iter().map(|d| &d.totals.paid))?;
    let available = kept
        .checked_sub(&claimed)?
        .checked_add(&credited)?
        .checked_add(&crediting)?;
    finish(
        config,
        order,
        DocumentKind::Invoice,
        numbering,
        now,
        drafts,
        order.taxes_included,
        PaidRule::UpTo(available),
        None,
        shipment,
        None,
    )
}

/// What the customer paid on `order` and kept (less money refunded and value given
/// back in kind; provider refunds still pending count as kept), and what credit notes
/// among `documents` gave back as paid.
fn kept_and_credited(
    order: &Order,
    documents: &[InvoiceDocument],
) -> Result<(Money, Money), InvoiceError> {
    let pending = Money::sum(
        order.currency,
        order.payments.iter().map(|p| &p.refund_pending),
    )?;
    let kept = order.refundable()?.checked_add(&pending)?;
    let credited = Money::sum(
        order.currency,
        documents
            .iter()
            .filter(|d| d.kind == DocumentKind::CreditNote && d.order_id == order.id)
            .map(|d| &d.totals.paid),
    )?;
    Ok((kept, credited))
}

/// What was given back on `order` (money refunded, value given back in kind) that no
/// credit note among `documents` credits yet: given back before the order had an
/// invoice to credit it on.
pub(crate) fn given_back_uncredited(
    order: &Order,
    documents: &[InvoiceDocument],
) -> Result<Money, InvoiceError> {
    let (kept, credited) = kept_and_credited(order, documents)?;
    let given_back = order.amount_paid.checked_sub(&kept)?;
    let left = given_back.checked_sub(&credited)?;
    Ok(if left.is_negative() {
        Money::zero(order.currency)
    } else {
        left
    })
}

/// Why a credit note is issued, which decides its paid amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreditSource {
    /// A refund already paid out: the credit note is settled (due zero).
    Refund,
    /// A correction the shop still owes: nothing paid yet (due is its total).
    Correction {
        /// Why, for the reader (no personal data).
        reason: String,
    },
}

/// Net and VAT per (rate, category).
type ByRate = BTreeMap<(Decimal, VatCategory), (Money, Money)>;

/// A document's net and VAT per (rate, category).
fn net_and_vat_by_rate(doc: &InvoiceDocument) -> ByRate {
    doc.vat
        .iter()
        .map(|v| ((v.rate.normalize(), v.category), (v.basis, v.tax)))
        .collect()
}

/// A credit note of `amount` (with VAT) against `invoice`. `earlier_credits` are the
/// credit notes already issued against it; together with this one they never credit
/// more than the invoice's total ([`InvoiceError::CreditExceedsInvoice`] otherwise).
///
/// The amount is spread over the invoice's VAT rates in proportion to what is still
/// creditable at each rate (largest remainder), and each rate's share split into net
/// and VAT; the share that empties a rate credits exactly its remaining net and VAT, so
/// any sequence of credit notes adding up to the invoice reverses it to the minor unit.
/// One line per rate.
#[allow(clippy::too_many_arguments)] // each is one fact of the credit note; a struct would only rename them
pub fn credit_note_for(
    config: &InvoiceConfig,
    order: &Order,
    invoice: &InvoiceDocument,
    earlier_credits: &[InvoiceDocument],
    amount: Money,
    source: CreditSource,
    numbering: Numbering,
    now: DateTime<Utc>,
) -> Result<InvoiceDocument, InvoiceError> {
    credit_note_toward(
        config,
        order,
        invoice,
        earlier_credits,
        amount,
        source,
        numbering,
        now,
        &Toward::new(),
    )
}

/// Gross amounts (with VAT) per (rate, category) that a credit goes to first: what came
/// back at each rate and was not yet credited ([`returned_toward`]).
pub(crate) type Toward = BTreeMap<(Decimal, VatCategory), Money>;

/// [`credit_note_for`], with the amount going first to the rates in `toward` (each up
/// to its figure and to what the invoice has left at that rate), and only what is
/// beyond them spread over what every rate still has left, in proportion. So a refund
/// for a returned book credits the book's VAT rate, not a slice of every rate on the
/// invoice; and as before, the share that empties a rate credits exactly its remaining
/// net and VAT.
#[allow(clippy::too_many_arguments)] // as credit_note_for, plus where the credit goes first
pub(crate) fn credit_note_toward(
    config: &InvoiceConfig,
    order: &Order,
    invoice: &InvoiceDocument,
    earlier_credits: &[InvoiceDocument],
    amount: Money,
    source: CreditSource,
    numbering: Numbering,
    now: DateTime<Utc>,
    toward: &Toward,
) -> Result<InvoiceDocument, InvoiceError> {
    if invoice.kind != DocumentKind::Invoice {
        return Err(InvoiceError::NotAnInvoice {
            number: invoice.number.clone(),
        });
    }
    let currency: Currency = invoice.currency;
    if amount.currency() != currency {
        return Err(InvoiceError::BadAmount {
            amount,
            reason: "not in the invoice's currency",
        });
    }
    if amount.is_negative() || amount.is_zero() {
        return Err(InvoiceError::BadAmount {
            amount,
            reason: "a credit note credits a positive amount",
        });
    }
    // What is left per rate: the invoice's net and VAT minus earlier credits at that rate.
    let mut left = net_and_vat_by_rate(invoice);
    for credit in earlier_credits.iter().filter(|c| {
        c.kind == DocumentKind::CreditNote
            && c.corrects
                .as_ref()
                .is_some_and(|r| r.number == invoice.number)
    }) {
        for v in &credit.vat {
            if let Some((basis, tax)) = left.get_mut(&(v.rate.normalize(), v.category)) {
                *basis = basis.checked_sub(&v.basis)?;
                *tax = tax.checked_sub(&v.tax)?;
            }
        }
    }
    let remaining: Vec<Remaining> = left
        .into_iter()
        .map(|(k, (basis, tax))| Ok((k, basis, tax, basis.checked_add(&tax)?)))
        .collect::<Result<_, InvoiceError>>()?;
    let creditable = Money::sum(currency, remaining.iter().map(|r| &r.3))?;
    if amount.amount() > creditable.amount() {
        return Err(InvoiceError::CreditExceedsInvoice {
            number: invoice.number.clone(),
            requested: amount,
            creditable,
        });
    }
    let shares = spread(&amount, &remaining, toward)?;
    let rounding = config.rounding.rounding();
    let mut lines = Vec::new();
    let mut vat = Vec::new();
    for (((rate, category), basis_left, tax_left, gross_left), share) in
        remaining.iter().zip(shares)
    {
        if share.is_zero() {
            continue;
        }
        let (basis, tax) = if share == *gross_left {
            (*basis_left, *tax_left)
        } else {
            let mut basis = share.divided_by(Decimal::ONE + *rate, rounding)?;
            if basis.amount() > basis_left.amount() {
                basis = *basis_left;
            }
            let tax = share.checked_sub(&basis)?;
            (basis, tax)
        };
        let percent = (*rate * Decimal::ONE_HUNDRED).normalize();
        lines.push(InvoiceLine {
            id: (lines.len() + 1).to_string(),
            kind: LineKind::Credit,
            order_line: None,
            sku: None,
            description: format!(
                "Credit against invoice {} at {percent} % VAT",
                invoice.number
            ),
            quantity: 1,
            net_unit_price: basis.amount(),
            net_amount: basis,
            discount: Money::zero(currency),
            quoted_amount: share,
            vat_rate: *rate,
            vat_category: *category,
        });
        vat.push(VatBreakdown {
            category: *category,
            rate: *rate,
            basis,
            tax,
        });
    }
    let zero = Money::zero(currency);
    let line_total = Money::sum(currency, lines.iter().map(|l| &l.net_amount))?;
    let tax_total = Money::sum(currency, vat.iter().map(|v| &v.tax))?;
    let grand_total = line_total.checked_add(&tax_total)?;
    let (paid, note) = match source {
        CreditSource::Refund => (grand_total, Some("Refund".to_string())),
        CreditSource::Correction { reason } => (zero, Some(reason)),
    };
    let document = InvoiceDocument {
        kind: DocumentKind::CreditNote,
        number: numbering.number,
        series: numbering.series,
        sequence: numbering.sequence,
        order_id: invoice.order_id.clone(),
        order_ref: invoice.order_ref.clone(),
        issued_at: now,
        issue_date: config.local_date(now),
        currency,
        prices_include_tax: invoice.prices_include_tax,
        tax_rounding: invoice.tax_rounding,
        seller: config.seller.clone(),
        buyer: if order.id == invoice.order_id {
            buyer(order, config)
        } else {
            invoice.buyer.clone()
        },
        lines,
        vat,
        totals: DocumentTotals {
            line_total,
            tax_basis_total: line_total,
            tax_total,
            grand_total,
            paid,
            rounding: zero,
            due: grand_total.checked_sub(&paid)?,
        },
        corrects: Some(CorrectedInvoice {
            number: invoice.number.clone(),
            issue_date: invoice.issue_date,
        }),
        shipment: None,
        note,
    };
    check_en16931(&document)?;
    Ok(document)
}

/// What is left to credit at one (rate, category): its key, net, VAT and gross.
type Remaining = ((Decimal, VatCategory), Money, Money, Money);

/// `amount` split over the rates of `remaining`: first over the rates of `toward`, each
/// up to the smaller of its figure and its gross left, in proportion to those; what is
/// beyond them over the gross each rate still has left after that, in proportion
/// (largest remainder both times). Never more than a rate's gross left when `amount`
/// is at most their sum.
fn spread(
    amount: &Money,
    remaining: &[Remaining],
    toward: &Toward,
) -> Result<Vec<Money>, InvoiceError> {
    let currency = amount.currency();
    let left: Vec<Decimal> = remaining
        .iter()
        .map(|r| r.3.amount().max(Decimal::ZERO))
        .collect();
    let first_weights: Vec<Decimal> = remaining
        .iter()
        .zip(&left)
        .map(|(r, left)| {
            toward
                .get(&r.0)
                .map_or(Decimal::ZERO, |t| t.amount().max(Decimal::ZERO).min(*left))
        })
        .collect();
    let first_total: Decimal = first_weights.iter().sum();
    let first_amount = Money::new(first_total.min(amount.amount()), currency)?;
    let first = if first_amount.is_zero() {
        vec![Money::zero(currency); remaining.len()]
    } else {
        allocate(&first_amount, &first_weights)?
    };
    let rest = amount.checked_sub(&first_amount)?;
    if rest.is_zero() {
        return Ok(first);
    }
    let rest_weights: Vec<Decimal> = left
        .iter()
        .zip(&first)
        .map(|(left, taken)| (*left - taken.amount()).max(Decimal::ZERO))
        .collect();
    let second = allocate(&rest, &rest_weights)?;
    first
        .iter()
        .zip(second)
        .map(|(a, b)| Ok(a.checked_add(&b)?))
        .collect()
}

/// What came back of `order` and is valued at each rate of `invoice`, less what the
/// credit notes among `documents` already credit at that rate: where a refund of it
/// should be credited. What came back is each resolved return's breakdown (goods after
/// the restocking fee, at the rate of the invoice line of the same order line; the
/// shipping share at the invoice's shipping rate when it has a single one), whichever
/// way the return was settled. Rates no return reaches are not in it.
pub(crate) fn returned_toward(
    order: &Order,
    invoice: &InvoiceDocument,
    documents: &[InvoiceDocument],
) -> Result<Toward, InvoiceError> {
    let currency = invoice.currency;
    let key = |l: &InvoiceLine| (l.vat_rate.normalize(), l.vat_category);
    let line_rate: BTreeMap<&LineId, (Decimal, VatCategory)> = invoice
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Item)
        .filter_map(|l| l.order_line.as_ref().map(|id| (id, key(l))))
        .collect();
    let shipping: Vec<(Decimal, VatCategory)> = invoice
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Shipping)
        .map(key)
        .collect();
    let shipping_rate = shipping
        .first()
        .filter(|first| shipping.iter().all(|k| k == *first))
        .copied();
    let mut toward = Toward::new();
    let mut add = |k: (Decimal, VatCategory), m: &Money| -> Result<(), InvoiceError> {
        if m.is_zero() || m.is_negative() {
            return Ok(());
        }
        let entry = toward.entry(k).or_insert_with(|| Money::zero(currency));
        *entry = entry.checked_add(m)?;
        Ok(())
    };
    for rma in order.rmas.iter() {
        let Some(resolution) = &rma.resolution else {
            continue;
        };
        for line in &resolution.breakdown().lines {
            if line.paid.currency() != currency {
                continue;
            }
            if let Some(k) = line_rate.get(&line.line_id) {
                add(*k, &line.paid.checked_sub(&line.restocking_fee)?)?;
            }
            if let Some(k) = shipping_rate {
                add(k, &line.shipping)?;
            }
        }
    }
    for credit in documents.iter().filter(|c| {
        c.kind == DocumentKind::CreditNote
            && c.corrects
                .as_ref()
                .is_some_and(|r| r.number == invoice.number)
    }) {
        for v in &credit.vat {
            if let Some(t) = toward.get_mut(&(v.rate.normalize(), v.category)) {
                *t = t.checked_sub(&v.basis)?.checked_sub(&v.tax)?;
            }
        }
    }
    toward.retain(|_, m| !m.is_zero() && !m.is_negative());
    Ok(toward)
}

/// What `invoice` has left to credit after `credits` (credit notes against it).
pub(crate) fn creditable(
    invoice: &InvoiceDocument,
    credits: &[InvoiceDocument],
) -> Result<Money, InvoiceError> {
    let credited = Money::sum(
        invoice.currency,
        credits
            .iter()
            .filter(|c| {
                c.kind == DocumentKind::CreditNote
                    && c.corrects
                        .as_ref()
                        .is_some_and(|r| r.number == invoice.number)
            })
            .map(|c| &c.totals.grand_total),
    )?;
    Ok(invoice.totals.grand_total.checked_sub(&credited)?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn try_(minor: i64) -> Money {
        Money::from_minor(minor, Currency::parse("TRY").unwrap())
    }

    fn remaining(gross: &[i64]) -> Vec<Remaining> {
        gross
            .iter()
            .enumerate()
            .map(|(k, g)| {
                let rate = Decimal::new(k as i64 + 1, 2);
                ((rate, VatCategory::Standard), try_(0), try_(*g), try_(*g))
            })
            .collect()
    }

    #[test]
    fn a_credit_goes_to_the_returned_rate_first_and_the_rest_in_proportion() {
        let left = remaining(&[1_000, 3_000]);
        let toward: Toward = [((Decimal::new(2, 2), VatCategory::Standard), try_(500))].into();
        // Within the returned value: all at its rate.
        assert_eq!(
            spread(&try_(400), &left, &toward).unwrap(),
            vec![try_(0), try_(400)]
        );
        // Beyond it: the rest over what each rate has left after (1,000 and 2,500).
        assert_eq!(
            spread(&try_(1_200), &left, &toward).unwrap(),
            vec![try_(200), try_(1_000)]
        );
        // No returns: in proportion, as before.
        assert_eq!(
            spread(&try_(400), &left, &Toward::new()).unwrap(),
            vec![try_(100), try_(300)]
        );
    }

    proptest! {
        /// Any amount up to what is left is spread whole, no rate beyond its gross left,
        /// the returned rates served first up to their figures, and the whole of what is
        /// left credits every rate exactly.
        #[test]
        fn spreads_add_up_and_stay_within_each_rate(
            gross in proptest::collection::vec(0i64..100_000, 1..5),
            returned in proptest::collection::vec(0i64..150_000, 1..5),
            cut in 0u32..=100,
        ) {
            let left = remaining(&gross);
            let toward: Toward = left
                .iter()
                .zip(&returned)
                .map(|(r, t)| (r.0, try_(*t)))
                .collect();
            let total: i64 = gross.iter().sum();
            prop_assume!(total > 0);
            let amount = try_(total * i64::from(cut) / 100);
            prop_assume!(!amount.is_zero());
            let shares = spread(&amount, &left, &toward).unwrap();
            let sum: i64 = shares.iter().map(|s| s.to_minor().unwrap() as i64).sum();
            prop_assert_eq!(sum, amount.to_minor().unwrap() as i64);
            let first: i64 = left
                .iter()
                .zip(&gross)
                .map(|(r, g)| toward.get(&r.0).map_or(0, |t| (t.to_minor().unwrap() as i64).min(*g)))
                .sum();
            for ((share, g), r) in shares.iter().zip(&gross).zip(&left) {
                let s = share.to_minor().unwrap() as i64;
                prop_assert!(s >= 0 && s <= *g);
                if amount.to_minor().unwrap() as i64 >= first {
                    let want = toward.get(&r.0).map_or(0, |t| (t.to_minor().unwrap() as i64).min(*g));
                    prop_assert!(s >= want);
                }
            }
            let whole = spread(&try_(total), &left, &toward).unwrap();
            let whole: Vec<i64> = whole.iter().map(|s| s.to_minor().unwrap() as i64).collect();
            prop_assert_eq!(whole, gross);
        }
    }
}
