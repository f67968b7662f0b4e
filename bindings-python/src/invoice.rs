//! Invoices and credit notes on `Engine`: configure invoicing, issue invoices and
//! credit notes, read documents as dicts (their serde form), printable HTML and the
//! EN 16931 CII XML. Refunds issue their credit notes in the core; nothing is decided
//! here.

use ordersmith::invoice::InvoiceConfig;
use ordersmith::notify::Locale;
use pyo3::prelude::*;

use crate::args::{names, Text};
use crate::convert::{context, decimal_arg, extract_as, to_py};
use crate::engine::{parse_order_id, PyEngine};
use crate::errors::{core_error, detached};

#[pymethods]
impl PyEngine {
    /// Lets this engine issue invoices and credit notes: `config` is a mapping with
    /// `seller` (`name`, `vat_id` or `tax_id`, `address_lines`, `city`, `postal_code`,
    /// `country`, `email`) and optionally `invoice_number_format` (`"INV-{year}-{seq:06}"`),
    /// `credit_note_number_format`, `mode` (`"per_order"` or `"per_shipment"`),
    /// `tax_rounding` (`"per_rate"` or `"per_line"`), `rounding` (`"half_up"` or
    /// `"half_even"`), `time_zone` (IANA name) and `anonymous_buyer`.
    fn configure_invoicing(&self, py: Python<'_>, config: &Bound<'_, PyAny>) -> PyResult<()> {
        let config: InvoiceConfig = extract_as(config, "invoicing")?;
        let engine = self.engine(py)?;
        let engine = engine
            .with_invoicing(config)
            .map_err(|e| core_error(py, &e))?;
        self.replace_engine(py, engine)
    }

    /// The invoicing configuration in effect, as a dict with the defaults filled in
    /// (the shape `configure_invoicing` takes), or `None` before `configure_invoicing`.
    fn invoicing<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.engine(py)?;
        to_py(py, &engine.invoicing())
    }

    /// Issues the next invoice of an order (per order: once; per shipment: the units
    /// shipped since its last invoice, `shipment` labels it) and returns it as a dict.
    #[pyo3(signature = (order_id, *, shipment=None, actor=None))]
    fn issue_invoice<'py>(
        &self,
        py: Python<'py>,
        order_id: Text<names::order_id>,
        shipment: Option<Text<names::shipment>>,
        actor: Option<Text<names::actor>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = parse_order_id(py, order_id.as_str())?;
        let ctx = context(py, actor.as_ref().map(Text::as_str), None)?;
        let shipment = shipment.map(|s| s.0);
        let engine = self.engine(py)?;
        let doc = detached(py, || engine.issue_invoice(&id, shipment.as_deref(), &ctx))?;
        to_py(py, &doc)
    }

    /// Issues a credit note of `amount` (with VAT, in the invoice's currency) against
    /// invoice `number`, for a correction the shop still owes; more than the invoice has
    /// left to credit raises `INVOICE_CREDIT_EXCEEDS_INVOICE` and changes nothing.
    #[pyo3(signature = (number, amount, reason, *, actor=None))]
    fn issue_credit_note<'py>(
        &self,
        py: Python<'py>,
        number: Text<names::number>,
        amount: &Bound<'_, PyAny>,
        reason: Text<names::reason>,
        actor: Option<Text<names::actor>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ctx = context(py, actor.as_ref().map(Text::as_str), None)?;
        let amount = decimal_arg(amount, "amount")?;
        let engine = self.engine(py)?;
        let doc = detached(py, || {
            let invoice = engine.document(number.as_str())?;
            let amount = engine.in_order_currency(&invoice.order_id, amount)?;
            engine.issue_credit_note(number.as_str(), amount, reason.as_str(), &ctx)
        })?;
        to_py(py, &doc)
    }

    /// The invoice or credit note numbered `number`, as a dict.
    fn document<'py>(
        &self,
        py: Python<'py>,
        number: Text<names::number>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.engine(py)?;
        let doc = detached(py, || engine.document(number.as_str()))?;
        to_py(py, &doc)
    }

    /// The invoice or credit note numbered `number` as JSON text (its serde form).
    fn document_json(&self, py: Python<'_>, number: Text<names::number>) -> PyResult<String> {
        let engine = self.engine(py)?;
        detached(py, || {
            let doc = engine.document(number.as_str())?;
            doc.to_json().map_err(ordersmith::engine::EngineError::from)
        })
    }

    /// An order's invoices and credit notes, oldest first, as dicts.
    fn order_documents<'py>(
        &self,
        py: Python<'py>,
        order_id: Text<names::order_id>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = parse_order_id(py, order_id.as_str())?;
        let engine = self.engine(py)?;
        let docs = detached(py, || engine.order_documents(&id))?;
        to_py(py, &docs)
    }

    /// The document as one printable, self-contained HTML page in `locale` (`"en"` or
    /// `"tr"`; other tags fall back to English).
    #[pyo3(signature = (number, locale=None))]
    fn document_html(
        &self,
        py: Python<'_>,
        number: Text<names::number>,
        locale: Option<Text<names::locale>>,
    ) -> PyResult<String> {
        let locale = Locale::from_tag(locale.as_ref().map_or("en", Text::as_str));
        let engine = self.engine(py)?;
        detached(py, || engine.document_html(number.as_str(), locale))
    }

    /// The document as EN 16931 CII XML (Factur-X / ZUGFeRD profile "EN 16931").
    fn document_cii(&self, py: Python<'_>, number: Text<names::number>) -> PyResult<String> {
        let engine = self.engine(py)?;
        detached(py, || engine.document_cii(number.as_str()))
    }
}
