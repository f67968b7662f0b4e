//! Hepsiburada line items of one order.
//!
//! Hepsiburada returns *line items*, each in the status-bucketed feed it is in now
//! (`/orders` paid, payment-awaiting, packages, shipped, delivered, cancelled). The body
//! may be `{"items": [...]}`, a bare array, or one line item; records of several feeds
//! may be concatenated. Records with the same line `id` are **merged**, never replaced:
//! money and SKUs come from the first record that has them (the shipped / delivered
//! feeds send PascalCase minimal records without prices), the status from the most
//! advanced record.
//!
//! - `orderDate` mixes `Z`, no zone and 7 fractional digits; no zone is read as UTC
//!   (\[U\]: could be Turkish local time).
//! - `unitPrice` / `totalPrice` are `{currency, amount}` with number amounts,
//!   VAT-inclusive; `hbDiscount.totalPrice` is a Hepsiburada-funded discount on the
//!   line (\[U\]: taken as not already deducted from `totalPrice`).
//! - Line status is a free string: the table below, anything else `Unknown`.
//! - Paid ([`crate::ChannelStatus::paid`]): a line in the payment-awaiting feed is not
//!   paid. An order whose every line is cancelled is paid only when a record of one of
//!   its lines in the body comes from a paid feed (`Open`, `Paid`, packaged, shipped,
//!   ...): a line cancelled while awaiting payment, or a cancelled record alone, is
//!   read as never paid (nothing in it says the customer paid; its `cancelledBy` says
//!   who cancelled, not whether money was taken). A line intake saw paid before keeps
//!   its payment: intake never takes one back.

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::error::ChannelError;
use crate::json::{At, Items, Value};
use crate::model::{
    Channel, ChannelLine, ChannelOrder, ChannelPart, ChannelStatus, FundedBy, Lifecycle,
    LineDiscount, RefundState, ReportedTotals,
};

/// Line status (lower case, spaces and underscores removed) → lifecycle.
pub const STATUS: &[(&str, Lifecycle)] = &[
    ("paymentawaiting", Lifecycle::Placed),
    ("open", Lifecycle::Confirmed),
    ("paketlenecek", Lifecycle::Confirmed),
    ("paid", Lifecycle::Confirmed),
    ("packaged", Lifecycle::Processing),
    ("unpacked", Lifecycle::Processing),
    ("intransit", Lifecycle::Shipped),
    ("shipped", Lifecycle::Shipped),
    ("undelivered", Lifecycle::Shipped),
    ("delivered", Lifecycle::Delivered),
    ("cancelled", Lifecycle::Cancelled),
    ("cancelledbymerchant", Lifecycle::Cancelled),
    ("cancelledbycustomer", Lifecycle::Cancelled),
    ("cancelledbysap", Lifecycle::Cancelled),
    ("claimed", Lifecycle::Returned),
    ("returned", Lifecycle::Returned),
];

/// What a status ignores before it is looked up (besides case).
const IGNORED: &[char] = &['_', ' ', '-'];

/// The lifecycle of one line status.
pub fn map_status(raw: &str) -> Lifecycle {
    super::table_status(STATUS, raw, IGNORED)
}

/// The members of one line-item record that the adapter reads, found in one pass over
/// its members instead of a lookup each: every field as [`At::get`] finds it (the last
/// written, `null` as absent), and a field with an older or PascalCase name keeps each
/// name apart, read newer first as [`At::first`] does.
#[derive(Clone, Copy)]
struct Record<'a> {
    /// The record itself, for errors naming its path.
    at: At<'a>,
    order_number: [Option<At<'a>>; 2],
    id: [Option<At<'a>>; 4],
    unit_price: Option<At<'a>>,
    total_price: Option<At<'a>>,
    hb_discount: Option<At<'a>>,
    quantity: Option<At<'a>>,
    merchant_sku: [Option<At<'a>>; 2],
    hb_sku: [Option<At<'a>>; 2],
    product_name: Option<At<'a>>,
    vat_rate: Option<At<'a>>,
    order_date: [Option<At<'a>>; 2],
    status: [Option<At<'a>>; 2],
}

impl<'a> Record<'a> {
    fn read(at: At<'a>) -> Self {
        let mut r = Record {
            at,
            order_number: [None; 2],
            id: [None; 4],
            unit_price: None,
            total_price: None,
            hb_discount: None,
            quantity: None,
            merchant_sku: [None; 2],
            hb_sku: [None; 2],
            product_name: None,
            vat_rate: None,
            order_date: [None; 2],
            status: [None; 2],
        };
        for (key, value) in at.members() {
            let slot = match key {
                "orderNumber" => &mut r.order_number[0],
                "OrderNumber" => &mut r.order_number[1],
                "id" => &mut r.id[0],
                "Id" => &mut r.id[1],
                "lineItemId" => &mut r.id[2],
                "LineItemId" => &mut r.id[3],
                "unitPrice" => &mut r.unit_price,
                "totalPrice" => &mut r.total_price,
                "hbDiscount" => &mut r.hb_discount,
                "quantity" => &mut r.quantity,
                "merchantSku" => &mut r.merchant_sku[0],
                "merchantSKU" => &mut r.merchant_sku[1],
                "hbSku" => &mut r.hb_sku[0],
                "sku" => &mut r.hb_sku[1],
                "productName" => &mut r.product_name,
                "vatRate" => &mut r.vat_rate,
                "orderDate" => &mut r.order_date[0],
                "OrderDate" => &mut r.order_date[1],
                "status" => &mut r.status[0],
                "Status" => &mut r.status[1],
                _ => continue,
            };
            *slot = (value.value() != Value::Null).then_some(value);
        }
        r
    }

    /// The first name present among a field's names.
    fn first<const N: usize>(names: &[Option<At<'a>>; N]) -> Option<At<'a>> {
        names.iter().flatten().next().copied()
    }

    /// A required member, or the error naming it.
    fn req(&self, found: Option<At<'a>>, key: &str) -> Result<At<'a>, ChannelError> {
        found.ok_or_else(|| self.at.missing(key))
    }

    /// The first of a field's names with text ([`At::opt_text_first`]'s reading: a
    /// later name is not read once an earlier one gave text).
    fn text<const N: usize>(names: &[Option<At<'a>>; N]) -> Result<Option<String>, ChannelError> {
        for found in names.iter().flatten() {
            if let Some(text) = found.text_or_none()? {
                return Ok(Some(text));
            }
        }
        Ok(None)
    }
}

/// Lines found by a scan of those already met; beyond this many, through an index.
const SCAN: usize = 16;

/// One line's records (their positions in the feed), under its id as the document
/// writes it.
struct Merged<'a> {
    id: &'a str,
    records: Vec<usize>,
}

/// Parses (and merges) the line items of one Hepsiburada order.
pub fn parse(root: &At<'_>) -> Result<ChannelOrder, ChannelError> {
    let items = match root.first(&["items", "Items"]) {
        Some(i) => i.array()?,
        None => root.array().unwrap_or_else(|_| Items::one(*root)),
    };
    super::check_lines(root, items.len())?;
    let records: Vec<Record<'_>> = items.into_iter().map(Record::read).collect();
    let head = records.first().ok_or_else(|| root.missing("items"))?;
    let first = head.at;
    let order_number = head
        .req(Record::first(&head.order_number), "orderNumber")?
        .id_str()?;
    // The lines in the order their ids first appear, each with its records, the ids
    // borrowed from the document: found by a scan while there are a few, through an
    // index built past that (a feed of many lines stays linear).
    let mut by_line: Vec<Merged<'_>> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (n, r) in records.iter().enumerate() {
        let number = r
            .req(Record::first(&r.order_number), "orderNumber")?
            .id_str()?;
        if number != order_number {
            return Err(ChannelError::OrderMismatch {
                channel: r.at.channel,
                path: r.at.sub("orderNumber"),
                expected: order_number.to_string(),
                found: number.to_string(),
            });
        }
        let id = r.req(Record::first(&r.id), "id")?.id_str()?;
        let known = if by_line.len() <= SCAN {
            by_line.iter().position(|m| m.id == id)
        } else {
            if index.is_empty() {
                index.extend(by_line.iter().enumerate().map(|(k, m)| (m.id, k)));
            }
            index.get(id).copied()
        };
        match known.and_then(|k| by_line.get_mut(k)) {
            Some(m) => m.records.push(n),
            None => {
                if !index.is_empty() {
                    index.insert(id, by_line.len());
                }
                by_line.push(Merged {
                    id,
                    records: vec![n],
                });
            }
        }
    }
    let currency = match records.iter().find_map(|r| r.unit_price) {
        Some(p) => p.req("currency")?.currency()?,
        None => return Err(first.missing("unitPrice")),
    };
    let mut lines = Vec::new();
    let mut statuses = Vec::new();
    let mut parts = Vec::new();
    // `line id:status` of every line, comma-separated: the status as sent.
    let mut statuses_raw = String::new();
    let mut marketplace_funded = Decimal::ZERO;
    let mut placed_at = None;
    let mut exception = false;
    // Whether a record of any line is in a paid feed (past payment-awaiting, short of a
    // cancellation): what says a cancelled order was paid.
    let mut paid_seen = false;
    for m in &by_line {
        let id = m.id;
        let mine = m.records.iter().filter_map(|&n| records.get(n));
        let priced = mine
            .clone()
            .find(|r| r.unit_price.is_some())
            .ok_or_else(|| first.missing("unitPrice"))?;
        let quantity = priced.req(priced.quantity, "quantity")?.quantity()?;
        let unit = super::price_obj(
            &priced.req(priced.unit_price, "unitPrice")?,
            &["amount"],
            &["currency"],
            currency,
        )?;
        let mut line = ChannelLine::new(id.to_string(), quantity, unit);
        line.ids.sku = Record::text(&priced.merchant_sku)?;
        line.ids.variant_id = Record::text(&priced.hb_sku)?;
        line.title = priced
            .product_name
            .map(|a| a.text_or_none())
            .transpose()?
            .flatten();
        line.tax_rate = priced.vat_rate.map(|v| v.decimal()).transpose()?.map(|r| {
            if r > Decimal::ONE {
                super::percent(r)
            } else {
                r.normalize()
            }
        });
        if let Some(total) = priced.total_price {
            let total_at = total;
            let total = super::money_obj(&total_at, &["amount"], &["currency"], currency)?;
            let gross = unit.checked_mul(Decimal::from(quantity)).ok_or_else(|| {
                super::too_large(
                    &priced.at,
                    format!("unit price {unit} x quantity {quantity}"),
                )
            })?;
            if total < gross {
                line.discounts.push(LineDiscount {
                    label: "seller discount".into(),
                    amount: super::sub(&total_at, gross, total)?.normalize(),
                    funded_by: FundedBy::Seller,
                });
            }
        }
        if let Some(hb) = priced.hb_discount {
            if let Some(t) = hb.get("totalPrice") {
                let amount = super::money_obj(&t, &["amount"], &["currency"], currency)?;
                if !amount.is_zero() {
                    marketplace_funded = super::add(&t, marketplace_funded, amount)?;
                    line.discounts.push(LineDiscount {
                        label: "hepsiburada discount".into(),
                        amount,
                        funded_by: FundedBy::Marketplace,
                    });
                }
            }
        }
        super::check_net(&priced.at, &line)?;
        if placed_at.is_none() {
            if let Some(d) = Record::first(&priced.order_date) {
                placed_at = Some(d.time_naive_utc()?);
            }
        }
        // The most advanced status among the line's records.
        let mut best: Option<Lifecycle> = None;
        let mut undelivered = false;
        let mut raw_best = "";
        for r in mine {
            if let Some(s) = Record::first(&r.status) {
                let raw = s.str()?;
                undelivered |= super::status_is(raw, "undelivered", IGNORED);
                let l = map_status(raw);
                paid_seen |= matches!(l.rank(), Some(1..=6));
                let better = match (&best, l.rank()) {
                    (None, _) => true,
                    (Some(b), Some(r)) => b.rank().is_none_or(|br| r > br),
                    (Some(_), None) => false,
                };
                if better {
                    best = Some(l);
                    raw_best = raw;
                }
            }
        }
        let life = best.unwrap_or(Lifecycle::Confirmed);
        // A failed delivery is an exception until a record of the line gets past it
        // (delivered, returned, cancelled): another feed's later record clears it.
        exception |= undelivered
            && !matches!(
                life,
                Lifecycle::Delivered | Lifecycle::Returned | Lifecycle::Cancelled
            );
        match life {
            Lifecycle::Shipped => line.shipped = quantity,
            Lifecycle::Delivered => {
                line.shipped = quantity;
                line.delivered = quantity;
            }
            Lifecycle::Returned => {
                line.shipped = quantity;
                line.delivered = quantity;
                line.returned = quantity;
            }
            Lifecycle::Cancelled => line.cancelled = quantity,
            _ => {}
        }
        line.status_raw = Some(raw_best.to_string());
        if !statuses_raw.is_empty() {
            statuses_raw.push_str(", ");
        }
        statuses_raw.push_str(id);
        statuses_raw.push(':');
        statuses_raw.push_str(raw_best);
        // A part is one line: its units are the line's, nothing to add up.
        parts.push(ChannelPart::new(id.to_string(), None, life.clone()));
        statuses.push(life);
        lines.push(line);
    }
    let lifecycle = super::trendyol::aggregate(&statuses);
    let placed_at = placed_at.ok_or_else(|| first.missing("orderDate"))?;
    let fulfilled_by_hb = match first.get("isFulfilledByHB") {
        Some(b) => b.bool()?,
        None => false,
    };
    Ok(ChannelOrder {
        channel: Channel::Hepsiburada,
        external_id: order_number.to_string(),
        display_number: None,
        placed_at,
        updated_at: None,
        currency,
        taxes_included: true,
        test: false,
        lines,
        shipping: Vec::new(),
        status: ChannelStatus {
            // Cancelled while awaiting payment is not paid (see the module docs).
            paid: match lifecycle {
                Lifecycle::Placed | Lifecycle::Unknown(_) => false,
                Lifecycle::Cancelled => paid_seen,
                _ => true,
            },
            refund: if lifecycle == Lifecycle::Returned {
                RefundState::Full
            } else {
                RefundState::None
            },
            lifecycle,
            delivery_exception: exception,
            raw: statuses_raw,
        },
        refunded_amount: Decimal::ZERO,
        reported: ReportedTotals::default(),
        mismatches: Vec::new(),
        events: Vec::new(),
        marketplace_funded,
        discount_basis: None,
        fulfilled_by_marketplace: fulfilled_by_hb,
        parts,
        raw: None,
    })
}
