//! Shopify: the REST-shaped order that `orders/*` webhooks deliver (the same object
//! GraphQL apps receive by webhook).
//!
//! - Money: shop currency (`currency`) and the plain (shop money) fields, decimal
//!   strings; `tax_lines[].rate` is a JSON number read as exact text.
//! - Line `price` is the unit price before discounts; `discount_allocations` (line and
//!   order-level discounts spread over lines) are the line's discounts; without any,
//!   the legacy `total_discount` is used.
//! - `taxes_included` decides gross or net prices.
//! - Ids may exceed 2^53 and are kept as text.
//! - `test: true` orders are flagged ([`crate::ChannelOrder::test`]); intake skips them
//!   unless told otherwise.
//! - `refunds[]` become `refund` events; successful refund transactions add up to the
//!   refunded amount, in shop money like every other figure: a transaction's `amount`
//!   is in its own `currency`, the customer's (presentment) currency on a
//!   multi-currency order, so its `amount_set.shop_money` is read when present; a
//!   plain `amount` is read only when its `currency` is the shop's or not given (a
//!   single-currency shop's transactions), and one in another currency without a shop
//!   money amount is refused (`CHANNEL_CURRENCY_MISMATCH`), never booked as shop money;
//!   `refund_line_items` with `restock_type` `cancel` count as
//!   cancelled units, `return` as returned units, `legacy_restock` as returned when
//!   shipped and cancelled otherwise; `no_restock` returns nothing (the customer keeps
//!   what shipped).
//! - Shipped units are the successful `fulfillments[]`' line items when the order lists
//!   any (else the line's `fulfillment_status` and `fulfillable_quantity` say); units
//!   neither shipped nor fulfillable any more left the order (a `cancel` refund, or a
//!   `no_restock` one before shipping) and count as cancelled.

use rust_decimal::Decimal;

use crate::error::ChannelError;
use crate::json::At;
use crate::model::{
    Channel, ChannelEvent, ChannelLine, ChannelOrder, ChannelShipping, ChannelStatus, FundedBy,
    Lifecycle, LineDiscount, RefundState, ReportedTotals,
};

/// `financial_status` → (lifecycle when nothing else decides, paid).
pub const FINANCIAL_STATUS: &[(&str, Lifecycle, bool)] = &[
    ("pending", Lifecycle::Placed, false),
    ("authorized", Lifecycle::Confirmed, false),
    ("partially_paid", Lifecycle::Confirmed, false),
    ("paid", Lifecycle::Confirmed, true),
    ("partially_refunded", Lifecycle::Confirmed, true),
    ("refunded", Lifecycle::Confirmed, true),
    ("voided", Lifecycle::Cancelled, false),
    ("expired", Lifecycle::Cancelled, false),
];

/// `fulfillment_status` → lifecycle (null is unfulfilled: the financial status decides).
pub const FULFILLMENT_STATUS: &[(&str, Lifecycle)] = &[
    ("fulfilled", Lifecycle::Shipped),
    ("partial", Lifecycle::PartiallyShipped),
    ("in_progress", Lifecycle::Processing),
    ("on_hold", Lifecycle::Processing),
    ("scheduled", Lifecycle::Processing),
    ("restocked", Lifecycle::Cancelled),
];

fn lower_opt(at: &At<'_>, key: &str) -> Result<Option<String>, ChannelError> {
    Ok(match at.get(key) {
        Some(v) => Some(v.str()?.to_ascii_lowercase()),
        None => None,
    })
}

/// The mapped status (rule order: cancelled, fulfilment, payment).
pub fn status(order: &At<'_>) -> Result<ChannelStatus, ChannelError> {
    let financial = lower_opt(order, "financial_status")?;
    let fulfillment = lower_opt(order, "fulfillment_status")?;
    let cancelled = order.get("cancelled_at").is_some();
    let raw = format!(
        "financial_status={}, fulfillment_status={}{}",
        financial.as_deref().unwrap_or("null"),
        fulfillment.as_deref().unwrap_or("null"),
        if cancelled { ", cancelled" } else { "" }
    );
    let fin_row = financial
        .as_deref()
        .and_then(|f| FINANCIAL_STATUS.iter().find(|(k, _, _)| *k == f));
    let paid = fin_row.is_some_and(|(_, _, p)| *p);
    let refund = match financial.as_deref() {
        Some("refunded") => RefundState::Full,
        Some("partially_refunded") => RefundState::Partial,
        _ => RefundState::None,
    };
    let lifecycle = if cancelled {
        Lifecycle::Cancelled
    } else if let Some(f) = fulfillment.as_deref() {
        match FULFILLMENT_STATUS.iter().find(|(k, _)| *k == f) {
            Some((_, l)) => l.clone(),
            None => Lifecycle::Unknown(format!("fulfillment_status={f}")),
        }
    } else {
        match (fin_row, financial) {
            (Some((_, l, _)), _) => l.clone(),
            (None, Some(f)) => Lifecycle::Unknown(format!("financial_status={f}")),
            (None, None) => Lifecycle::Placed,
        }
    };
    Ok(ChannelStatus {
        lifecycle,
        paid,
        refund,
        delivery_exception: false,
        raw,
    })
}

/// A transaction's amount in shop money (`currency`), with where it was read: its
/// `amount_set.shop_money` (whose `currency_code` must be the shop's) when it has one,
/// else its `amount` when its `currency` is the shop's or absent. An `amount` in another
/// currency (the customer's, on a multi-currency order) with no shop-money amount is
/// refused with `CHANNEL_CURRENCY_MISMATCH` on that `currency`.
fn shop_amount<'a>(
    t: &At<'a>,
    currency: ordersmith::money::Currency,
) -> Result<(At<'a>, Decimal), ChannelError> {
    if let Some(set) = t.get("amount_set") {
        let shop = set.req("shop_money")?;
        let amount = super::money_obj(&shop, &["amount"], &["currency_code"], currency)?;
        return Ok((shop, amount));
    }
    if let Some(c) = t.get("currency") {
        super::same_currency(&c, currency, c.currency()?)?;
    }
    let amount = t.req("amount")?;
    Ok((amount, amount.money(currency)?))
}

/// Parses a Shopify order.
pub fn parse(root: &At<'_>) -> Result<ChannelOrder, ChannelError> {
    // Some tools wrap the order: {"order": {...}}.
    let order = root.get("order").unwrap_or(*root);
    let currency = order.req("currency")?.currency()?;
    let taxes_included = match order.get("taxes_included") {
        Some(v) => v.bool()?,
        None => false,
    };
    let mut lines = Vec::new();
    let mut fulfillable_of = Vec::new();
    let items = order.req("line_items")?;
    for item in items.array()? {
        let quantity = item.req("quantity")?.quantity()?;
        let mut line = ChannelLine::new(
            item.req("id")?.id_text()?,
            quantity,
            item.req("price")?.price(currency)?,
        );
        line.ids.sku = item.opt_text("sku")?;
        line.ids.variant_id = item.opt_text("variant_id")?;
        line.title = item.opt_text_first(&["name", "title"])?;
        for (k, d) in item.list("discount_allocations")?.enumerate() {
            let amount = d.req("amount")?.money(currency)?;
            if !amount.is_zero() {
                line.discounts.push(LineDiscount {
                    label: format!("allocation {}", k + 1),
                    amount,
                    funded_by: FundedBy::Seller,
                });
            }
        }
        if line.discounts.is_empty() {
            if let Some(d) = item.opt_money("total_discount", currency)? {
                if !d.is_zero() {
                    line.discounts.push(LineDiscount {
                        label: "total_discount".into(),
                        amount: d,
                        funded_by: FundedBy::Seller,
                    });
                }
            }
        }
        let taxes = item.list("tax_lines")?;
        if !taxes.is_empty() {
            let mut amount = Decimal::ZERO;
            let mut rate = Decimal::ZERO;
            for t in &taxes {
                let price = t.req("price")?;
                amount = super::add(&price, amount, price.money(currency)?)?;
                if let Some(r) = t.get("rate") {
                    rate = super::add(&r, rate, r.decimal()?)?;
                }
            }
            line.tax_amount = Some(amount);
            line.tax_rate = Some(rate.normalize());
        } else {
            line.tax_amount = Some(Decimal::ZERO);
        }
        let fulfillable = item
            .get("fulfillable_quantity")
            .map(|f| f.quantity())
            .transpose()?;
        line.status_raw = lower_opt(&item, "fulfillment_status")?;
        super::check_net(&item, &line)?;
        fulfillable_of.push(fulfillable);
        lines.push(line);
    }
    super::check_lines(&items, lines.len())?;

    let mut shipping = Vec::new();
    for s in order.list("shipping_lines")? {
        let price = match s.opt_money("discounted_price", currency)? {
            Some(p) => p,
            None => s.req("price")?.money(currency)?,
        };
        let mut rate = None;
        let mut tax = Decimal::ZERO;
        for t in s.list("tax_lines")? {
            let price = t.req("price")?;
            tax = super::add(&price, tax, price.money(currency)?)?;
            if let Some(r) = t.get("rate") {
                rate = Some(super::add(&r, rate.unwrap_or(Decimal::ZERO), r.decimal()?)?);
            }
        }
        shipping.push(ChannelShipping {
            title: s.opt_text("title")?.unwrap_or_else(|| "Shipping".into()),
            price,
            tax_rate: rate,
            tax_amount: Some(tax),
        });
    }

    // Refunds: events, refunded money, cancelled and returned units.
    let mut legacy = vec![0u32; lines.len()];
    let mut events = Vec::new();
    let mut refunded = Decimal::ZERO;
    for r in order.list("refunds")? {
        let mut ev = ChannelEvent {
            kind: "refund".into(),
            order_external_id: None,
            external_id: r.req("id")?.id_text()?,
            status: None,
            amount: None,
            lines: Vec::new(),
            reason: r.opt_text("note")?,
            restock: false,
        };
        let mut sum = Decimal::ZERO;
        for t in r.list("transactions")? {
            let kind = t.get("kind").map(|k| k.str()).transpose()?;
            let ok = t.get("status").map(|k| k.str()).transpose()?;
            if kind == Some("refund") && ok.is_none_or(|s| s == "success") {
                let (at, amount) = shop_amount(&t, currency)?;
                sum = super::add(&at, sum, amount)?;
            }
        }
        refunded = super::add(&r, refunded, sum)?;
        ev.amount = Some(sum);
        for rl in r.list("refund_line_items")? {
            let line_id = rl.req("line_item_id")?.id_str()?;
            let q = rl.req("quantity")?.quantity()?;
            let restock = rl
                .get("restock_type")
                .map(|k| k.str().map(str::to_ascii_lowercase))
                .transpose()?;
            if let Some(k) = lines.iter().position(|l| l.external_line_id == line_id) {
                let (Some(line), Some(legacy)) = (lines.get_mut(k), legacy.get_mut(k)) else {
                    continue;
                };
                match restock.as_deref() {
                    Some("cancel") => line.cancelled = line.cancelled.saturating_add(q),
                    Some("return") => {
                        line.returned = line.returned.saturating_add(q);
                        ev.restock = true;
                    }
                    // Restocked the old way: returned if shipped, else cancelled (settled
                    // below, once the shipped units are known).
                    Some("legacy_restock") => {
                        *legacy = legacy.saturating_add(q);
                        ev.restock = true;
                    }
                    // `no_restock`: the customer keeps shipped units (a refund, no
                    // return); unshipped ones left the order, which its fulfillable
                    // quantity shows (below).
                    _ => {}
                }
            }
            ev.lines.push((line_id.to_string(), q));
        }
        events.push(ev);
    }

    // Units of the successful fulfillments, per line, when the order lists them.
    let fulfilled: Option<Vec<u32>> = match order.get("fulfillments") {
        None => None,
        Some(_) => {
            let mut done = vec![0u32; lines.len()];
            for f in order.list("fulfillments")? {
                if !matches!(lower_opt(&f, "status")?.as_deref(), None | Some("success")) {
                    continue;
                }
                for fl in f.list("line_items")? {
                    let line_id = fl.req("id")?.id_str()?;
                    let q = fl.req("quantity")?.quantity()?;
                    if let Some(k) = lines.iter().position(|l| l.external_line_id == line_id) {
                        if let Some(d) = done.get_mut(k) {
                            *d = d.saturating_add(q);
                        }
                    }
                }
            }
            Some(done)
        }
    };
    let order_cancelled = order.get("cancelled_at").is_some();
    for (k, (line, fulfillable)) in lines.iter_mut().zip(fulfillable_of).enumerate() {
        // A line the status calls (partly) fulfilled that no successful fulfillment
        // lists is a payload without its fulfillments' detail: its status decides.
        let done = fulfilled
            .as_ref()
            .and_then(|d| d.get(k).copied())
            .filter(|d| *d > 0 || line.status_raw.is_none());
        let legacy = legacy.get(k).copied().unwrap_or(0);
        // Units neither shipped nor still to ship left the order: refunded with
        // `cancel`, or with `no_restock` before they shipped (Shopify lowers the
        // fulfillable quantity either way, and only `cancel` says so in the refund).
        let explicit = line.cancelled;
        let removed = match (done, fulfillable, order_cancelled) {
            (Some(done), Some(f), false) => {
                Some(line.quantity.saturating_sub(done).saturating_sub(f))
            }
            _ => None,
        };
        if let Some(removed) = removed {
            line.cancelled = line.cancelled.max(removed);
        }
        // Shipped units: the fulfillments' when there are any; else what is neither
        // still fulfillable nor cancelled by a refund, by the line's status.
        line.shipped = match (done, line.status_raw.as_deref(), fulfillable) {
            (Some(done), _, _) if done > 0 => {
                done.min(line.quantity.saturating_sub(line.cancelled))
            }
            (_, Some("fulfilled"), _) => line.quantity.saturating_sub(line.cancelled),
            (_, Some("partial"), Some(f)) => line
                .quantity
                .saturating_sub(f)
                .saturating_sub(line.cancelled),
            _ => 0,
        };
        if legacy > 0 {
            // The units that left the order beyond the `cancel` refunds' were restocked
            // unshipped; the rest of the legacy refund came back after shipping.
            let unshipped = match removed {
                Some(removed) => legacy.min(removed.saturating_sub(explicit)),
                None => legacy.saturating_sub(line.shipped.saturating_sub(line.returned)),
            };
            let back = (legacy - unshipped).min(line.shipped.saturating_sub(line.returned));
            line.returned = line.returned.saturating_add(back);
            if removed.is_none() {
                line.cancelled = line.cancelled.saturating_add(unshipped);
                line.shipped = line
                    .shipped
                    .min(line.quantity.saturating_sub(line.cancelled));
            }
        }
    }
    // Delivered units: a successful fulfillment whose carrier reports `shipment_status`
    // delivered (or picked_up, for local pickup) delivered its line items' quantities.
    // Shopify's order has no delivered status of its own; this is the only signal.
    let mut any_delivered = false;
    for f in order.list("fulfillments")? {
        let status = lower_opt(&f, "status")?;
        let shipment = lower_opt(&f, "shipment_status")?;
        if !matches!(status.as_deref(), None | Some("success"))
            || !matches!(shipment.as_deref(), Some("delivered" | "picked_up"))
        {
            continue;
        }
        for fl in f.list("line_items")? {
            let line_id = fl.req("id")?.id_str()?;
            let q = fl.req("quantity")?.quantity()?;
            if let Some(line) = lines.iter_mut().find(|l| l.external_line_id == line_id) {
                line.delivered = line.delivered.saturating_add(q).min(line.shipped);
                any_delivered = true;
            }
        }
    }
    let mut mapped = status(&order)?;
    let all_delivered = any_delivered
        && lines
            .iter()
            .all(|l| l.delivered >= l.quantity.saturating_sub(l.cancelled));
    if all_delivered && mapped.lifecycle == Lifecycle::Shipped {
        mapped.lifecycle = Lifecycle::Delivered;
    }
    let shipping_reported = match order.get("total_shipping_price_set") {
        Some(set) => Some(set.req("shop_money")?.req("amount")?.money(currency)?),
        None => None,
    };
    let placed_at = order
        .req_any(&["created_at", "processed_at"])?
        .time_rfc3339()?;
    let updated_at = order
        .get("updated_at")
        .map(|t| t.time_rfc3339())
        .transpose()?;
    let test = match order.get("test") {
        Some(t) => t.bool()?,
        None => false,
    };
    Ok(ChannelOrder {
        channel: Channel::Shopify,
        external_id: order.req("id")?.id_text()?,
        display_number: order.opt_text("name")?,
        placed_at,
        updated_at,
        currency,
        taxes_included,
        test,
        lines,
        shipping,
        status: mapped,
        refunded_amount: refunded,
        reported: ReportedTotals {
            total: order.opt_money("total_price", currency)?,
            discount: order.opt_money("total_discounts", currency)?,
            shipping: shipping_reported,
            tax: order.opt_money("total_tax", currency)?,
        },
        mismatches: Vec::new(),
        events,
        marketplace_funded: Decimal::ZERO,
        discount_basis: None,
        fulfilled_by_marketplace: false,
        parts: Vec::new(),
        raw: None,
    })
}
