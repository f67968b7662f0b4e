//! Invoices and credit notes for Kotlin and Swift: issue them, read them as records
//! (with their full JSON form), and render the printable HTML page and the EN 16931
//! CII XML. Invoicing is switched on by `EngineOptions.invoicing_json` when the engine
//! opens (or later, `with_invoicing`); refunds issue their credit notes in the core.

use std::sync::Arc;

use ordersmith::invoice::{self as core, InvoiceConfig};
use ordersmith::notify::Locale;

use crate::convert::{context, CallContext};
use crate::engine::Engine;
use crate::errors::OrdersmithError;
use crate::money::{ExactDecimal, Money};

/// Invoice or credit note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DocumentKind {
    /// An invoice (type code 380).
    Invoice,
    /// A credit note correcting an invoice (type code 381).
    CreditNote,
}

/// One line of a document.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DocumentLine {
    /// Line number (`"1"`).
    pub id: String,
    /// What was sold or credited.
    pub description: String,
    /// Units.
    pub quantity: u32,
    /// Net amount without VAT.
    pub net_amount: Money,
    /// VAT rate as a fraction (`0.2` is 20 %).
    pub vat_rate: ExactDecimal,
}

/// The lines at one VAT rate.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VatTotal {
    /// The rate as a fraction.
    pub rate: ExactDecimal,
    /// UNTDID 5305 category code (`S`, `Z`).
    pub category: String,
    /// Taxable amount.
    pub basis: Money,
    /// VAT.
    pub tax: Money,
}

/// An issued invoice or credit note.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InvoiceDocument {
    /// Its number, unique.
    pub number: String,
    /// Invoice or credit note.
    pub kind: DocumentKind,
    /// The order.
    pub order_id: String,
    /// Issue date in the shop's time zone, `YYYY-MM-DD`.
    pub issue_date: String,
    /// For a credit note: the invoice it corrects.
    pub corrects: Option<String>,
    /// Lines.
    pub lines: Vec<DocumentLine>,
    /// VAT per rate.
    pub vat: Vec<VatTotal>,
    /// Total without VAT.
    pub total_without_vat: Money,
    /// Total VAT.
    pub tax_total: Money,
    /// Total with VAT.
    pub grand_total: Money,
    /// Paid already.
    pub paid: Money,
    /// Amount due.
    pub due: Money,
    /// The whole document as JSON (the core's serde form).
    pub json: String,
}

impl TryFrom<core::InvoiceDocument> for InvoiceDocument {
    type Error = OrdersmithError;
    fn try_from(d: core::InvoiceDocument) -> Result<Self, OrdersmithError> {
        let json = d.to_json().map_err(ordersmith::engine::EngineError::from)?;
        Ok(InvoiceDocument {
            number: d.number,
            kind: match d.kind {
                core::DocumentKind::Invoice => DocumentKind::Invoice,
                core::DocumentKind::CreditNote => DocumentKind::CreditNote,
            },
            order_id: d.order_id.to_string(),
            issue_date: d.issue_date.format("%Y-%m-%d").to_string(),
            corrects: d.corrects.map(|c| c.number),
            lines: d
                .lines
                .into_iter()
                .map(|l| DocumentLine {
                    id: l.id,
                    description: l.description,
                    quantity: l.quantity,
                    net_amount: l.net_amount.into(),
                    vat_rate: l.vat_rate.into(),
                })
                .collect(),
            vat: d
                .vat
                .into_iter()
                .map(|v| VatTotal {
                    rate: v.rate.into(),
                    category: v.category.code().to_string(),
                    basis: v.basis.into(),
                    tax: v.tax.into(),
                })
                .collect(),
            total_without_vat: d.totals.tax_basis_total.into(),
            tax_total: d.totals.tax_total.into(),
            grand_total: d.totals.grand_total.into(),
            paid: d.totals.paid.into(),
            due: d.totals.due.into(),
            json,
        })
    }
}

/// The invoicing configuration from its JSON form (seller, numbering, mode, rounding,
/// time zone), checked by the core.
pub(crate) fn invoice_config(json: &str) -> Result<InvoiceConfig, OrdersmithError> {
    Ok(InvoiceConfig::from_json(json).map_err(ordersmith::engine::EngineError::from)?)
}

#[uniffi::export]
impl Engine {
    /// The invoicing configuration in effect, as the core's JSON with the defaults
    /// filled in (the shape `EngineOptions.invoicing_json` takes); `None` when
    /// invoicing is not configured.
    pub fn invoicing_json(&self) -> Result<Option<String>, OrdersmithError> {
        let config = self.call(|e| Ok(e.invoicing().cloned()))?;
        config
            .map(|c| {
                serde_json::to_string(&c)
                    .map_err(|_| OrdersmithError::invalid("invoicing", "could not be serialised"))
            })
            .transpose()
    }

    /// The same engine (same file, same clock) issuing documents with `json`, the
    /// core's invoicing configuration (checked: `INVOICE_BAD_CONFIG`), for a shop that
    /// sets up invoicing after it started selling. Use the returned engine from then
    /// on, as with `with_rules`; this one is unchanged.
    pub fn with_invoicing(&self, json: String) -> Result<Arc<Engine>, OrdersmithError> {
        let config = invoice_config(&json)?;
        Ok(Arc::new(self.try_with_core(|e| e.with_invoicing(config))?))
    }

    /// Issues the next invoice of an order (per order once; per shipment the units
    /// shipped since its last invoice, `shipment` labels it).
    #[uniffi::method(default(shipment = None, ctx = None))]
    pub fn issue_invoice(
        &self,
        order_id: String,
        shipment: Option<String>,
        ctx: Option<CallContext>,
    ) -> Result<InvoiceDocument, OrdersmithError> {
        let id = ordersmith::ids::OrderId::parse(order_id)?;
        let ctx = context(ctx)?;
        self.call(|e| e.issue_invoice(&id, shipment.as_deref(), &ctx))?
            .try_into()
    }

    /// Issues a credit note of `amount` (with VAT) against invoice `number`, for a
    /// correction the shop still owes; more than the invoice has left to credit is
    /// refused with `INVOICE_CREDIT_EXCEEDS_INVOICE` and changes nothing.
    #[uniffi::method(default(ctx = None))]
    pub fn issue_credit_note(
        &self,
        number: String,
        amount: ExactDecimal,
        reason: String,
        ctx: Option<CallContext>,
    ) -> Result<InvoiceDocument, OrdersmithError> {
        let amount = amount.parse()?;
        let ctx = context(ctx)?;
        self.call(|e| {
            let invoice = e.document(&number)?;
            let amount = e.in_order_currency(&invoice.order_id, amount)?;
            e.issue_credit_note(&number, amount, &reason, &ctx)
        })?
        .try_into()
    }

    /// The invoice or credit note numbered `number`.
    pub fn document(&self, number: String) -> Result<InvoiceDocument, OrdersmithError> {
        self.call(|e| e.document(&number))?.try_into()
    }

    /// An order's invoices and credit notes, oldest first.
    pub fn order_documents(
        &self,
        order_id: String,
    ) -> Result<Vec<InvoiceDocument>, OrdersmithError> {
        let id = ordersmith::ids::OrderId::parse(order_id)?;
        self.call(|e| e.order_documents(&id))?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// The document as one printable HTML page in `locale` (`"en"`, `"tr"`).
    pub fn document_html(&self, number: String, locale: String) -> Result<String, OrdersmithError> {
        let locale = Locale::from_tag(&locale);
        self.call(|e| e.document_html(&number, locale))
    }

    /// The document as EN 16931 CII XML (Factur-X / ZUGFeRD profile "EN 16931").
    pub fn document_cii(&self, number: String) -> Result<String, OrdersmithError> {
        self.call(|e| e.document_cii(&number))
    }
}
