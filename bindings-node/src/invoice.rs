//! Invoices and credit notes on `Engine` (the engine's `invoice.rs`): configure
//! invoicing, issue invoices and credit notes (store writes, Promises), read documents
//! as plain objects (the core's serde form), printable HTML and EN 16931 CII XML
//! (reads, synchronous). Refunds issue their credit notes in the core; nothing is
//! decided here.

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;
use ordersmith::invoice::InvoiceConfig;
use ordersmith::money::Money;
use ordersmith::notify::Locale;
use serde::Deserialize;
use serde_json::Value;

use crate::convert::{
    amount as decimal, context, from_json, oid, opts, refuse_numbers_for_money, to_json, JsonArg,
};
use crate::engine::JsEngine;
use crate::errors::{shielded, Job, Out};

/// `{shipment?, actor?}`: what `issueInvoice` takes besides the order.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct IssueOptions {
    shipment: Option<String>,
    actor: Option<String>,
}

/// `{actor?}`: documents take no idempotency key (the core refuses one).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ActorOptions {
    actor: Option<String>,
}

fn actor_context(actor: Option<String>) -> Out<ordersmith::engine::CommandContext> {
    context(actor.map(|a| serde_json::json!({ "actor": a })))
}

/// A document's JSON (a plain string result, e.g. HTML, crosses as a JSON string).
fn text(value: String) -> Out<Value> {
    Ok(Value::String(value))
}

#[napi]
impl JsEngine {
    /// Lets this engine issue invoices and credit notes: `config` is the core's
    /// `InvoiceConfig` (`seller` with `name`, `vat_id` or `tax_id`, `address_lines`,
    /// `city`, `postal_code`, `country`, `email`; optionally `invoice_number_format`
    /// (`"INV-{year}-{seq:06}"`), `credit_note_number_format`, `mode` (`"per_order"` or
    /// `"per_shipment"`), `tax_rounding`, `rounding`, `time_zone` (IANA) and
    /// `anonymous_buyer`). Refused with `INVOICE_BAD_CONFIG` if the seller cannot appear
    /// on an EN 16931 invoice. Every handle on this engine (a `ChannelIntake` too) sees
    /// the change.
    #[napi(ts_args_type = "config: InvoiceConfig")]
    pub fn configure_invoicing(&self, config: JsonArg) -> napi::Result<()> {
        shielded(|| {
            let config: InvoiceConfig = from_json(config, "config")?;
            self.replace(|engine| Ok(engine.with_invoicing(config)?))
        })
    }

    /// The invoicing configuration in effect (the core's `InvoiceConfig`, defaults
    /// filled in), or `null` before `configureInvoicing`.
    #[napi(ts_return_type = "InvoiceConfig | null")]
    pub fn invoicing(&self) -> napi::Result<String> {
        self.read(|e| to_json(&e.invoicing()))
    }

    /// Issues the next invoice of an order, off the event loop: all of it (mode
    /// `per_order`, once) or the units shipped since its last invoice (`per_shipment`;
    /// `shipment` labels it). The number is taken in the commit that saves it; an
    /// `invoice.issued` effect tells the host.
    #[napi(
        ts_args_type = "orderId: string, options?: { shipment?: string; actor?: string }",
        ts_return_type = "Promise<InvoiceDocument>"
    )]
    pub fn issue_invoice(&self, order_id: String, options: Option<JsonArg>) -> AsyncTask<Job> {
        self.write(move |e| {
            let id = oid(&order_id)?;
            let o: IssueOptions = opts(options, "options")?;
            let ctx = actor_context(o.actor)?;
            to_json(&e.issue_invoice(&id, o.shipment.as_deref(), &ctx)?)
        })
    }

    /// Issues a credit note of `amount` (with VAT: a decimal string in the invoice's
    /// currency, or `{amount, currency}`) against invoice `number`, for a correction the
    /// shop still owes; `reason` is printed on it. More than the invoice has left to
    /// credit is `INVOICE_CREDIT_EXCEEDS_INVOICE` and changes nothing. Refunds need no
    /// call: they issue their credit notes themselves.
    #[napi(
        ts_args_type = "number: string, amount: Decimal | Money, reason: string, options?: { actor?: string }",
        ts_return_type = "Promise<InvoiceDocument>"
    )]
    pub fn issue_credit_note(
        &self,
        number: String,
        amount: JsonArg,
        reason: String,
        options: Option<JsonArg>,
    ) -> AsyncTask<Job> {
        self.write(move |e| {
            let o: ActorOptions = opts(options, "options")?;
            let ctx = actor_context(o.actor)?;
            refuse_numbers_for_money(&amount, "amount")?;
            let money: Money = match &*amount {
                Value::String(_) => {
                    let invoice = e.document(&number)?;
                    e.in_order_currency(&invoice.order_id, decimal(&amount, "amount")?)?
                }
                _ => from_json(amount, "amount")?,
            };
            to_json(&e.issue_credit_note(&number, money, &reason, &ctx)?)
        })
    }

    /// The invoice or credit note numbered `number` (`INVOICE_NOT_FOUND` if none).
    #[napi(ts_return_type = "InvoiceDocument")]
    pub fn document(&self, number: String) -> napi::Result<String> {
        self.read(|e| to_json(&e.document(&number)?))
    }

    /// An order's invoices and credit notes, oldest first (empty when it has none).
    #[napi(ts_return_type = "InvoiceDocument[]")]
    pub fn order_documents(&self, order_id: String) -> napi::Result<String> {
        self.read(|e| to_json(&e.order_documents(&oid(&order_id)?)?))
    }

    /// The document as one printable, self-contained HTML page in `locale` (`"en"` or
    /// `"tr"`; other tags fall back to English).
    #[napi(
        ts_args_type = "number: string, locale?: 'en' | 'tr' | string",
        ts_return_type = "string"
    )]
    pub fn document_html(&self, number: String, locale: Option<String>) -> napi::Result<String> {
        self.read(|e| {
            let locale = Locale::from_tag(locale.as_deref().unwrap_or("en"));
            text(e.document_html(&number, locale)?)
        })
    }

    /// The document as EN 16931 CII XML (Factur-X / ZUGFeRD profile "EN 16931").
    #[napi(ts_return_type = "string")]
    pub fn document_cii(&self, number: String) -> napi::Result<String> {
        self.read(|e| text(e.document_cii(&number)?))
    }
}
