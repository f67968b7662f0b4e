//! Invoices and credit notes: the documents a finance person signs and a machine reads.
//!
//! An [`InvoiceDocument`] is built from an order (one per order, or one per shipment:
//! [`InvoiceMode`]) by [`invoice_for`], or from an invoice by [`credit_note_for`]. It
//! carries the seller (configured, [`Seller`]), the buyer (from the order, personal data
//! kept in [`crate::pii::Redacted`]), lines with one VAT rate each (several rates on one
//! document, e.g. Turkey's 1, 10 and 20 %), the VAT breakdown per rate and the totals,
//! rounded by the configured [`TaxRounding`] rule and [`RoundingMode`].
//!
//! Rules a reader relies on:
//!
//! - **Immutable once issued.** Nothing in ordersmith changes a stored document; only a
//!   credit note corrects an invoice, and the credit notes against one invoice never add
//!   up to more than it ([`InvoiceError::CreditExceedsInvoice`]).
//! - **Gapless numbers per series.** A number is `{series}` + sequence, rendered by a
//!   [`NumberFormat`] such as `INV-{year}-{seq:06}`; the year (in the configured time
//!   zone) makes the series, so numbering restarts each year. The engine takes the number
//!   in the same atomic store commit that saves the document (see
//!   [`crate::ports::DocumentAppend`]), so a failed save leaves no gap and two engines
//!   never take the same number.
//! - **EN 16931 arithmetic holds** for every document built here: [`check_en16931`] runs
//!   on each one before it is returned (line totals, the breakdown per VAT rate, total
//!   with VAT = without VAT + VAT, amount due = total − paid + rounding).
//! - **Documents for people and machines:** JSON through serde, a printable HTML page
//!   ([`render_html`]) and the EN 16931 electronic invoice or credit note in UN/CEFACT
//!   CII syntax, Factur-X / ZUGFeRD profile "EN 16931" ([`render_cii`]).
//!
//! How amounts are worked out ([`tax`]): prices that exclude tax give each line's net
//! amount directly, and VAT per rate is `round(basis × rate)` ([`TaxRounding::PerRate`],
//! EN 16931's own way) or the sum of each line's rounded VAT ([`TaxRounding::PerLine`],
//! what the order's own totals do). Prices that include tax are split per rate into net
//! and VAT so that net + VAT is exactly what the customer was charged; each line's net
//! share is then allocated with [`crate::money::allocate`]. Discounts of a line are
//! spread over its units by largest remainder, so invoicing a line in several shipments
//! adds up to the minor unit. Shipping is a line of the first invoice of an order.
//!
//! A credit note for a refund (the engine issues one automatically for every refund on
//! an invoiced order) credits first the VAT rates of what came back: each resolved
//! return's goods (after its restocking fee) at their invoice line's rate, its shipping
//! share at the shipping rate, less what earlier credit notes credit at those rates. So
//! returning the 1 % bread of an order with 20 % goods credits 1 % VAT, not a slice of
//! both. What a refund gives beyond that (a goodwill refund, an overpayment) is spread
//! over the invoice's rates in proportion to what is still creditable at each, and a
//! full refund in any number of parts credits every rate exactly.
//!
//! # Errors
//!
//! [`InvoiceError`] codes: `INVOICE_NOT_CONFIGURED`, `INVOICE_BAD_CONFIG`,
//! `INVOICE_BAD_NUMBER_FORMAT`, `INVOICE_ALREADY_ISSUED`, `INVOICE_NOTHING_TO_INVOICE`,
//! `INVOICE_SEVERAL_TAXES_ON_LINE`, `INVOICE_NOT_FOUND`, `INVOICE_NOT_AN_INVOICE`,
//! `INVOICE_CREDIT_EXCEEDS_INVOICE`, `INVOICE_BAD_AMOUNT`, `INVOICE_MONEY`,
//! `INVOICE_RULE_VIOLATED`, `INVOICE_RENDER`. No message carries personal data.
//!
//! ```
//! use ordersmith::invoice::NumberFormat;
//! let format = NumberFormat::parse("INV-{year}-{seq:06}")?;
//! assert_eq!(format.series(2026), "INV-2026-{seq:06}");
//! assert_eq!(format.number(2026, 42), "INV-2026-000042");
//! # Ok::<(), ordersmith::invoice::InvoiceError>(())
//! ```

pub(crate) mod build;
mod check;
mod cii;
mod html;
pub mod tax;

pub use build::{credit_note_for, invoice_for, CreditSource, Numbering};
pub use check::check_en16931;
pub use cii::render_cii;
pub use html::render_html;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{LineId, OrderId};
use crate::money::{Currency, Money, MoneyError, Rounding};
use crate::pii::{Address, Redacted};

/// Whether a document is an invoice or a credit note (invoices order first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// A commercial invoice (UNTDID 1001 code 380).
    Invoice,
    /// A credit note correcting an invoice (UNTDID 1001 code 381).
    CreditNote,
}

impl DocumentKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::CreditNote => "credit_note",
        }
    }

    /// The UNTDID 1001 document type code EN 16931 uses (BT-3).
    pub fn type_code(self) -> &'static str {
        match self {
            Self::Invoice => "380",
            Self::CreditNote => "381",
        }
    }
}

/// The VAT category of a line or of a breakdown entry (UNTDID 5305, BT-151/BT-118).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VatCategory {
    /// Standard or reduced rate (`S`): any rate above zero.
    Standard,
    /// Zero rated goods (`Z`): rate zero.
    ZeroRated,
}

impl VatCategory {
    /// The UNTDID 5305 code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Standard => "S",
            Self::ZeroRated => "Z",
        }
    }

    /// The category of a rate: zero is zero rated, anything else standard.
    pub fn for_rate(rate: Decimal) -> Self {
        if rate.is_zero() {
            Self::ZeroRated
        } else {
            Self::Standard
        }
    }
}

/// Whether invoices cover a whole order or what each shipment shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceMode {
    /// One invoice per order, for its active (not cancelled) units and its shipping.
    #[default]
    PerOrder,
    /// One invoice per shipment: each invoice covers the units shipped and not yet
    /// invoiced; shipping is on the first.
    PerShipment,
}

/// Where VAT is rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxRounding {
    /// Once per VAT rate, on the sum of the lines at that rate (EN 16931's BR-CO-17).
    #[default]
    PerRate,
    /// On each line, then summed per rate (as the order's own totals do).
    PerLine,
}

/// How a rounding site rounds money in a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// Half away from zero ("commercial rounding", what tax offices expect).
    #[default]
    HalfUp,
    /// Half to even ("banker's rounding").
    HalfEven,
}

impl RoundingMode {
    /// The money rounding this mode means.
    pub fn rounding(self) -> Rounding {
        match self {
            Self::HalfUp => Rounding::HalfAwayFromZero,
            Self::HalfEven => Rounding::HalfEven,
        }
    }
}

/// The seller: the shop's own company data, from configuration (not personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seller {
    /// Legal name (BT-27).
    pub name: String,
    /// VAT identifier with its country prefix, e.g. `"DE123456789"` (BT-31).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<String>,
    /// National tax registration, e.g. a Turkish VKN (BT-32).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    /// Street lines (BT-35, BT-36, BT-162), at most three.
    #[serde(default)]
    pub address_lines: Vec<String>,
    /// City (BT-37).
    pub city: String,
    /// Post code (BT-38).
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code (BT-40).
    pub country: String,
    /// E-mail address for invoices (BT-34).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The buyer, taken from the order. Personal data: `Debug` prints `[redacted]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buyer {
    /// Name (BT-44): the billing address's, else the customer's, else the configured
    /// name for anonymous buyers.
    pub name: Redacted<String>,
    /// E-mail address (BT-49).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Redacted<String>>,
    /// Postal address (BG-8): the billing address, else the shipping address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// What a document line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// Goods from an order line.
    Item,
    /// A shipping charge.
    Shipping,
    /// A credit against an invoice at one VAT rate.
    Credit,
}

/// One line of a document (BG-25).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// Line number in the document, from `"1"` (BT-126).
    pub id: String,
    /// What the line is for.
    pub kind: LineKind,
    /// The order line it invoices, for items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_line: Option<LineId>,
    /// The seller's item id (the variant), for items (BT-155).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// What was sold (BT-153).
    pub description: String,
    /// Units (BT-129).
    pub quantity: u32,
    /// Net price of one unit, after the line's discount, without VAT, to 4 decimal
    /// places (BT-146); informative: the line's net amount is exact.
    pub net_unit_price: Decimal,
    /// Net amount of the line without VAT, after its discount (BT-131).
    pub net_amount: Money,
    /// The line's discount, as quoted on the order (with tax when prices include it).
    pub discount: Money,
    /// What the order charged for these units (with tax when prices include it).
    pub quoted_amount: Money,
    /// VAT rate as a fraction: `0.20` is 20 % (BT-152).
    pub vat_rate: Decimal,
    /// VAT category (BT-151).
    pub vat_category: VatCategory,
}

/// One entry of the VAT breakdown (BG-23): the lines at one rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VatBreakdown {
    /// VAT category (BT-118).
    pub category: VatCategory,
    /// Rate as a fraction (BT-119 is this × 100).
    pub rate: Decimal,
    /// Taxable amount: the sum of the lines' net amounts (BT-116).
    pub basis: Money,
    /// VAT at this rate (BT-117).
    pub tax: Money,
}

/// The document totals (BG-22).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentTotals {
    /// Sum of line net amounts (BT-106).
    pub line_total: Money,
    /// Total without VAT (BT-109).
    pub tax_basis_total: Money,
    /// Total VAT (BT-110).
    pub tax_total: Money,
    /// Total with VAT (BT-112).
    pub grand_total: Money,
    /// Paid already (BT-113).
    pub paid: Money,
    /// Rounding amount (BT-114).
    pub rounding: Money,
    /// Amount due (BT-115) = grand total − paid + rounding.
    pub due: Money,
}

/// The invoice a credit note corrects (BG-3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectedInvoice {
    /// Its number (BT-25).
    pub number: String,
    /// Its issue date (BT-26).
    pub issue_date: NaiveDate,
}

/// An issued invoice or credit note. Immutable: corrections are new credit notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceDocument {
    /// Invoice or credit note.
    pub kind: DocumentKind,
    /// The number, unique across documents (BT-1).
    pub number: String,
    /// The numbering series it belongs to.
    pub series: String,
    /// Its place in the series, from 1, without gaps.
    pub sequence: u64,
    /// The order it concerns.
    pub order_id: OrderId,
    /// The channel's reference of the order (BT-13), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_ref: Option<String>,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// Issue date in the shop's time zone (BT-2).
    pub issue_date: NaiveDate,
    /// Currency (BT-5).
    pub currency: Currency,
    /// Whether the order's prices included tax.
    pub prices_include_tax: bool,
    /// The rounding rule the VAT was worked out with.
    pub tax_rounding: TaxRounding,
    /// The seller.
    pub seller: Seller,
    /// The buyer.
    pub buyer: Buyer,
    /// Lines.
    pub lines: Vec<InvoiceLine>,
    /// VAT breakdown, one entry per category and rate, by rate.
    pub vat: Vec<VatBreakdown>,
    /// Totals.
    pub totals: DocumentTotals,
    /// For a credit note: the invoice it corrects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<CorrectedInvoice>,
    /// For a per-shipment invoice: the shipment's label given by the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment: Option<String>,
    /// Free text for the reader (e.g. why a credit note was issued), no personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl InvoiceDocument {
    /// The document as JSON (the serde form; money as `{amount, currency}`).
    pub fn to_json(&self) -> Result<String, InvoiceError> {
        serde_json::to_string(self).map_err(|e| InvoiceError::Render {
            reason: format!("JSON: {e}"),
        })
    }
}

/// A number format such as `INV-{year}-{seq:06}`.
///
/// `{year}` is the issue year in the shop's time zone (any number of times, or none for
/// one series forever); `{seq}` or `{seq:0N}` (N from 1 to 12: zero-padded to N digits)
/// is the place in the series and must appear exactly once. Other braces are refused.
/// The series is the format with its year filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NumberFormat {
    text: String,
    seq_token: String,
    width: usize,
}

/// Longest number format accepted, in bytes.
pub const MAX_NUMBER_FORMAT_LEN: usize = 64;

impl NumberFormat {
    /// Reads a format; [`InvoiceError::BadNumberFormat`] says what is wrong.
    pub fn parse(text: &str) -> Result<Self, InvoiceError> {
        let bad = |reason: &'static str| InvoiceError::BadNumberFormat { reason };
        if text.is_empty() || text.len() > MAX_NUMBER_FORMAT_LEN {
            return Err(bad("must be 1 to 64 bytes"));
        }
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(bad("must not contain spaces or control characters"));
        }
        let mut seq_token = None;
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let after = rest.get(open..).unwrap_or("");
            let close = after.find('}').ok_or(bad("a { is not closed"))?;
            let token = after.get(..=close).unwrap_or("");
            match token {
                "{year}" => {}
                "{seq}" => {
                    if seq_token.replace((token.to_string(), 1)).is_some() {
                        return Err(bad("{seq} must appear exactly once"));
                    }
                }
                t if t.starts_with("{seq:0") => {
                    let digits = t.get(6..t.len() - 1).unwrap_or("");
                    let width: usize = digits
                        .parse()
                        .map_err(|_| bad("{seq:0N} needs a width N from 1 to 12"))?;
                    if !(1..=12).contains(&width) {
                        return Err(bad("{seq:0N} needs a width N from 1 to 12"));
                    }
                    if seq_token.replace((t.to_string(), width)).is_some() {
                        return Err(bad("{seq} must appear exactly once"));
                    }
                }
                _ => return Err(bad("only {year}, {seq} and {seq:0N} may appear in braces")),
            }
            rest = after.get(close + 1..).unwrap_or("");
        }
        if rest.contains('}') || text.matches('}').count() != text.matches('{').count() {
            return Err(bad("a } is not opened"));
        }
        let (seq_token, width) = seq_token.ok_or(bad("{seq} must appear exactly once"))?;
        Ok(NumberFormat {
            text: text.to_string(),
            seq_token,
            width,
        })
    }

    /// The format as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The series of documents issued in `year`.
    pub fn series(&self, year: i32) -> String {
        self.text.replace("{year}", &format!("{year:04}"))
    }

    /// The number of the `sequence`th document of `year`.
    pub fn number(&self, year: i32, sequence: u64) -> String {
        let seq = format!("{sequence:0width$}", width = self.width);
        self.series(year).replacen(&self.seq_token, &seq, 1)
    }
}

impl TryFrom<String> for NumberFormat {
    type Error = InvoiceError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        NumberFormat::parse(&text)
    }
}

impl From<NumberFormat> for String {
    fn from(f: NumberFormat) -> String {
        f.text
    }
}

/// How an engine issues documents: the seller, numbering, mode and rounding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceConfig {
    /// The seller printed on every document.
    pub seller: Seller,
    /// Invoice numbers, e.g. `INV-{year}-{seq:06}`.
    #[serde(default = "default_invoice_format")]
    pub invoice_number_format: NumberFormat,
    /// Credit note numbers, e.g. `CN-{year}-{seq:06}` (the same format as invoices
    /// puts both in one series).
    #[serde(default = "default_credit_note_format")]
    pub credit_note_number_format: NumberFormat,
    /// Per order or per shipment.
    #[serde(default)]
    pub mode: InvoiceMode,
    /// Where VAT is rounded.
    #[serde(default)]
    pub tax_rounding: TaxRounding,
    /// How it is rounded.
    #[serde(default)]
    pub rounding: RoundingMode,
    /// The shop's time zone: issue dates and the year of a series.
    #[serde(default = "default_time_zone")]
    pub time_zone: chrono_tz::Tz,
    /// Buyer name when an order names no customer and no billing address.
    #[serde(default = "default_anonymous_buyer")]
    pub anonymous_buyer: String,
}

fn default_invoice_format() -> NumberFormat {
    NumberFormat {
        text: "INV-{year}-{seq:06}".to_string(),
        seq_token: "{seq:06}".to_string(),
        width: 6,
    }
}

fn default_credit_note_format() -> NumberFormat {
    NumberFormat {
        text: "CN-{year}-{seq:06}".to_string(),
        seq_token: "{seq:06}".to_string(),
        width: 6,
    }
}

fn default_time_zone() -> chrono_tz::Tz {
    chrono_tz::UTC
}

fn default_anonymous_buyer() -> String {
    "Consumer".to_string()
}

impl InvoiceConfig {
    /// A configuration with the defaults: per order, VAT rounded half up per rate,
    /// numbers `INV-{year}-{seq:06}` and `CN-{year}-{seq:06}`, UTC.
    pub fn new(seller: Seller) -> Self {
        InvoiceConfig {
            seller,
            invoice_number_format: default_invoice_format(),
            credit_note_number_format: default_credit_note_format(),
            mode: InvoiceMode::PerOrder,
            tax_rounding: TaxRounding::PerRate,
            rounding: RoundingMode::HalfUp,
            time_zone: default_time_zone(),
            anonymous_buyer: default_anonymous_buyer(),
        }
    }

    /// Reads a configuration from JSON (the form the bindings pass).
    pub fn from_json(text: &str) -> Result<Self, InvoiceError> {
        let config: InvoiceConfig =
            serde_json::from_str(text).map_err(|e| InvoiceError::BadConfig {
                field: "invoicing",
                reason: e.to_string(),
            })?;
        config.validate()?;
        Ok(config)
    }

    /// Refuses a configuration that could not produce a valid document.
    pub fn validate(&self) -> Result<(), InvoiceError> {
        let bad = |field: &'static str, reason: &str| InvoiceError::BadConfig {
            field,
            reason: reason.to_string(),
        };
        if self.seller.name.trim().is_empty() {
            return Err(bad("seller.name", "must not be empty"));
        }
        let country = &self.seller.country;
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(bad(
                "seller.country",
                "must be an ISO 3166-1 alpha-2 code such as TR",
            ));
        }
        if self.seller.vat_id.is_none() && self.seller.tax_id.is_none() {
            return Err(bad(
                "seller.vat_id",
                "a VAT identifier or a tax registration is required (EN 16931 BR-CO-26)",
            ));
        }
        if self.seller.address_lines.len() > 3 {
            return Err(bad("seller.address_lines", "at most three lines"));
        }
        if self.anonymous_buyer.trim().is_empty() {
            return Err(bad("anonymous_buyer", "must not be empty"));
        }
        Ok(())
    }

    /// The issue date of a document issued at `at`, in the shop's time zone.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.time_zone).date_naive()
    }

    /// The format for documents of `kind`.
    pub fn format(&self, kind: DocumentKind) -> &NumberFormat {
        match kind {
            DocumentKind::Invoice => &self.invoice_number_format,
            DocumentKind::CreditNote => &self.credit_note_number_format,
        }
    }
}

/// Why a document could not be issued or rendered. Messages name numbers, orders and
/// amounts, never personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(untagged)]
pub enum InvoiceError {
    /// The engine was not given an [`InvoiceConfig`].
    #[error(
        "invoicing is not configured: give the engine an invoice configuration (seller, numbering)"
    )]
    NotConfigured,
    /// A configuration value is unusable.
    #[error("invoice configuration {field} is invalid: {reason}")]
    BadConfig {
        /// Which setting.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A number format is unusable.
    #[error("invoice number format is invalid: {reason}")]
    BadNumberFormat {
        /// Why.
        reason: &'static str,
    },
    /// The order already has its invoice (per-order mode).
    #[error("order {order_id} is already invoiced as {number}")]
    AlreadyIssued {
        /// The order.
        order_id: OrderId,
        /// Its invoice.
        number: String,
    },
    /// Nothing on the order is left to invoice (no active or no newly shipped units).
    #[error("order {order_id} has nothing left to invoice")]
    NothingToInvoice {
        /// The order.
        order_id: OrderId,
    },
    /// A line carries more than one tax; EN 16931 allows one VAT rate per line.
    #[error("line {line} of order {order_id} carries {count} taxes; an invoice line has exactly one VAT rate")]
    SeveralTaxesOnLine {
        /// The order.
        order_id: OrderId,
        /// The line (`shipping` for a shipping charge).
        line: String,
        /// How many.
        count: usize,
    },
    /// No document with this number.
    #[error("no invoice or credit note numbered {number}")]
    NotFound {
        /// The number.
        number: String,
    },
    /// A credit note was asked against a credit note.
    #[error("{number} is a credit note; credit notes correct invoices only")]
    NotAnInvoice {
        /// The number.
        number: String,
    },
    /// A credit note would credit more than the invoice has left to credit.
    #[error("a credit note of {requested} exceeds what invoice {number} has left to credit ({creditable})")]
    CreditExceedsInvoice {
        /// The invoice.
        number: String,
        /// The amount asked.
        requested: Money,
        /// What the invoice has left: its total minus earlier credit notes.
        creditable: Money,
    },
    /// An amount is not usable here (zero, negative, or in another currency).
    #[error("amount {amount} is invalid: {reason}")]
    BadAmount {
        /// The amount.
        amount: Money,
        /// Why.
        reason: &'static str,
    },
    /// Money arithmetic failed (overflow, mixed currencies).
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// A built document broke an EN 16931 business rule (a bug: nothing is saved).
    #[error("document {number} breaks EN 16931 rule {rule}: {detail}")]
    RuleViolated {
        /// The document.
        number: String,
        /// The rule, e.g. `BR-CO-15`.
        rule: &'static str,
        /// What disagrees.
        detail: String,
    },
    /// Rendering failed.
    #[error("rendering the document failed: {reason}")]
    Render {
        /// Why.
        reason: String,
    },
}

impl InvoiceError {
    /// Every code this enum can return itself (wrapped money errors keep `INVOICE_MONEY`).
    pub const CODES: &'static [&'static str] = &[
        "INVOICE_NOT_CONFIGURED",
        "INVOICE_BAD_CONFIG",
        "INVOICE_BAD_NUMBER_FORMAT",
        "INVOICE_ALREADY_ISSUED",
        "INVOICE_NOTHING_TO_INVOICE",
        "INVOICE_SEVERAL_TAXES_ON_LINE",
        "INVOICE_NOT_FOUND",
        "INVOICE_NOT_AN_INVOICE",
        "INVOICE_CREDIT_EXCEEDS_INVOICE",
        "INVOICE_BAD_AMOUNT",
        "INVOICE_MONEY",
        "INVOICE_RULE_VIOLATED",
        "INVOICE_RENDER",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotConfigured => "INVOICE_NOT_CONFIGURED",
            Self::BadConfig { .. } => "INVOICE_BAD_CONFIG",
            Self::BadNumberFormat { .. } => "INVOICE_BAD_NUMBER_FORMAT",
            Self::AlreadyIssued { .. } => "INVOICE_ALREADY_ISSUED",
            Self::NothingToInvoice { .. } => "INVOICE_NOTHING_TO_INVOICE",
            Self::SeveralTaxesOnLine { .. } => "INVOICE_SEVERAL_TAXES_ON_LINE",
            Self::NotFound { .. } => "INVOICE_NOT_FOUND",
            Self::NotAnInvoice { .. } => "INVOICE_NOT_AN_INVOICE",
            Self::CreditExceedsInvoice { .. } => "INVOICE_CREDIT_EXCEEDS_INVOICE",
            Self::BadAmount { .. } => "INVOICE_BAD_AMOUNT",
            Self::Money(_) => "INVOICE_MONEY",
            Self::RuleViolated { .. } => "INVOICE_RULE_VIOLATED",
            Self::Render { .. } => "INVOICE_RENDER",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formats_render_and_refuse_what_they_cannot_number() {
        let f = NumberFormat::parse("TR{year}/{seq:04}").unwrap();
        assert_eq!(f.number(2026, 7), "TR2026/0007");
        assert_eq!(f.number(2026, 123_456), "TR2026/123456");
        let plain = NumberFormat::parse("F{seq}").unwrap();
        assert_eq!(plain.series(2027), "F{seq}");
        assert_eq!(plain.number(2027, 12), "F12");
        for bad in [
            "",
            "INV-{year}",
            "{seq}-{seq}",
            "{seq:0}",
            "{seq:013}",
            "{month}-{seq}",
            "A {seq}",
            "{seq",
            "seq}",
        ] {
            let err = NumberFormat::parse(bad).unwrap_err();
            assert_eq!(err.code(), "INVOICE_BAD_NUMBER_FORMAT", "{bad}");
        }
    }

    #[test]
    fn a_config_without_seller_identity_is_refused() {
        let mut config = InvoiceConfig::new(Seller {
            name: "Çay Evi Ltd.".into(),
            vat_id: None,
            tax_id: None,
            address_lines: vec!["Bağdat Cd. 1".into()],
            city: "İstanbul".into(),
            postal_code: "34710".into(),
            country: "TR".into(),
            email: None,
        });
        assert_eq!(config.validate().unwrap_err().code(), "INVOICE_BAD_CONFIG");
        config.seller.tax_id = Some("1234567890".into());
        config.validate().unwrap();
        config.seller.country = "Turkey".into();
        assert_eq!(config.validate().unwrap_err().code(), "INVOICE_BAD_CONFIG");
    }

    #[test]
    fn config_json_round_trips_and_rejects_bad_formats() {
        let json = r#"{"seller":{"name":"S","tax_id":"1","city":"C","postal_code":"1","country":"TR"},
            "invoice_number_format":"F-{year}-{seq:05}","time_zone":"Europe/Istanbul","tax_rounding":"per_line"}"#;
        let config = InvoiceConfig::from_json(json).unwrap();
        assert_eq!(config.invoice_number_format.number(2026, 3), "F-2026-00003");
        assert_eq!(config.tax_rounding, TaxRounding::PerLine);
        let bad = json.replace("{seq:05}", "{sequence}");
        assert_eq!(
            InvoiceConfig::from_json(&bad).unwrap_err().code(),
            "INVOICE_BAD_CONFIG"
        );
    }
}
