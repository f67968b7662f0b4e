//! eBay Sell Fulfillment order (`getOrder` / `getOrders` element).
//!
//! - Money is `{value: string, currency}`; `value` is what the seller is paid in (a
//!   converted amount when `convertedFromValue` is present: the seller's currency
//!   is used throughout).
//! - `lineItemCost` is unit × quantity, before discounts: the unit price is derived from
//!   it; `appliedPromotions[].discountAmount` are the line's discounts.
//! - Prices exclude tax; line `taxes[]` is seller-collected tax.
//!   `ebayCollectAndRemitTaxes` is not part of `pricingSummary.total` and is ignored.
//! - Status: `cancelStatus.cancelState = CANCELED` → cancelled, then the payment and
//!   fulfilment statuses (table below).
//! - `lineItems[].refunds[]` become refund events (keyed by `refundId`, else by
//!   `refundReferenceId`, else by their place among the line's refunds);
//!   `paymentSummary.refunds[]` that no line lists and whose `refundStatus` is
//!   `REFUNDED` become order-level refund events (eBay lists a refund issued per line
//!   item on the line, an order's own in the summary).

use rust_decimal::Decimal;

use crate::error::ChannelError;
use crate::json::At;
use crate::model::{
    Channel, ChannelEvent, ChannelLine, ChannelOrder, ChannelShipping, ChannelStatus, FundedBy,
    Lifecycle, LineDiscount, RefundState, ReportedTotals,
};

/// `orderFulfillmentStatus` → lifecycle (for paid orders).
pub const FULFILMENT_STATUS: &[(&str, Lifecycle)] = &[
    ("NOT_STARTED", Lifecycle::Confirmed),
    ("IN_PROGRESS", Lifecycle::PartiallyShipped),
    ("FULFILLED", Lifecycle::Shipped),
];

/// `orderPaymentStatus` → (lifecycle override, paid, refund).
pub const PAYMENT_STATUS: &[(&str, Option<Lifecycle>, bool, RefundState)] = &[
    ("PENDING", Some(Lifecycle::Placed), false, RefundState::None),
    (
        "FAILED",
        Some(Lifecycle::Cancelled),
        false,
        RefundState::None,
    ),
    ("PAID", None, true, RefundState::None),
    ("PARTIALLY_REFUNDED", None, true, RefundState::Partial),
    ("FULLY_REFUNDED", None, true, RefundState::Full),
];

fn amount(at: &At<'_>, currency: ordersmith::money::Currency) -> Result<Decimal, ChannelError> {
    super::money_obj(at, &["value"], &["currency"], currency)
}

fn opt_amount(
    at: &At<'_>,
    key: &str,
    currency: ordersmith::money::Currency,
) -> Result<Option<Decimal>, ChannelError> {
    at.get(key).map(|a| amount(&a, currency)).transpose()
}

/// A refund's key among the order's refunds and the event id it gets: its `refundId`,
/// else its `refundReferenceId`; `None` when it has neither.
fn refund_key(r: &At<'_>) -> Result<Option<(String, String)>, ChannelError> {
    Ok(match r.opt_text("refundId")? {
        Some(id) => Some((id.clone(), id)),
        None => r
            .opt_text("refundReferenceId")?
            .map(|reference| (reference.clone(), format!("refund-ref:{reference}"))),
    })
}

/// A refund event of `amount` for `lines` (a line with 0 units: money only).
fn refund_event(external_id: String, amount: Decimal, lines: Vec<(String, u32)>) -> ChannelEvent {
    ChannelEvent {
        kind: "refund".into(),
        order_external_id: None,
        external_id,
        status: None,
        amount: Some(amount),
        lines,
        reason: None,
        restock: false,
    }
}

/// Parses an eBay order.
pub fn parse(order: &At<'_>) -> Result<ChannelOrder, ChannelError> {
    let pricing = order.req("pricingSummary")?;
    let currency = pricing.req("total")?.req("currency")?.currency()?;
    let items = order.req("lineItems")?;
    let list = items.array()?;
    super::check_lines(&items, list.len())?;
    let pay_raw = order.req("orderPaymentStatus")?.str()?.to_string();
    let ful_raw = order.req("orderFulfillmentStatus")?.str()?.to_string();
    let cancelled = match order.get("cancelStatus").and_then(|c| c.get("cancelState")) {
        Some(s) => s.str()? == "CANCELED",
        None => false,
    };
    let pay = PAYMENT_STATUS.iter().find(|(k, _, _, _)| *k == pay_raw);
    let lifecycle = if cancelled {
        Lifecycle::Cancelled
    } else {
        match pay {
            None => Lifecycle::Unknown(format!("orderPaymentStatus={pay_raw}")),
            Some((_, Some(l), _, _)) => l.clone(),
            Some((_, None, _, _)) => FULFILMENT_STATUS
                .iter()
                .find(|(k, _)| *k == ful_raw)
                .map_or_else(
                    || Lifecycle::Unknown(format!("orderFulfillmentStatus={ful_raw}")),
                    |(_, l)| l.clone(),
                ),
        }
    };
    let mut lines = Vec::new();
    let mut events = Vec::new();
    let mut refunded = Decimal::ZERO;
    let mut ship = Decimal::ZERO;
    let mut seen_refunds: Vec<String> = Vec::new();
    for it in list {
        let quantity = it.req("quantity")?.quantity()?;
        let cost = super::price_obj(
            &it.req("lineItemCost")?,
            &["value"],
            &["currency"],
            currency,
        )?;
        let (unit, rounding) = super::unit_from_total(&it, cost, quantity, currency)?;
        let id = it.req("lineItemId")?.id_text()?;
        let mut line = ChannelLine::new(id.clone(), quantity, unit);
        line.discounts.extend(rounding);
        for (k, p) in it.list("appliedPromotions")?.enumerate() {
            if let Some(d) = opt_amount(&p, "discountAmount", currency)? {
                if !d.is_zero() {
                    line.discounts.push(LineDiscount {
                        label: p
                            .opt_text("promotionId")?
                            .unwrap_or_else(|| format!("promotion {}", k + 1)),
                        amount: d.abs(),
                        funded_by: FundedBy::Seller,
                    });
                }
            }
        }
        let mut tax = Decimal::ZERO;
        for t in it.list("taxes")? {
            let a = t.req("amount")?;
            tax = super::add(&a, tax, amount(&a, currency)?)?;
        }
        line.tax_amount = Some(tax);
        line.ids.sku = it.opt_text("sku")?;
        line.ids.variant_id = it.opt_text("legacyItemId")?;
        line.title = it.opt_text("title")?;
        let status = it.opt_text("lineItemFulfillmentStatus")?;
        if status.as_deref() == Some("FULFILLED") {
            line.shipped = quantity;
        }
        if cancelled {
            line.cancelled = quantity.saturating_sub(line.shipped);
        }
        line.status_raw = status;
        if let Some(d) = it.get("deliveryCost") {
            if let Some(s) = d.get("shippingCost") {
                ship = super::add(&s, ship, amount(&s, currency)?)?;
            }
            if let Some(s) = d.get("discountAmount") {
                ship = super::sub(&s, ship, amount(&s, currency)?.abs())?;
            }
        }
        super::check_net(&it, &line)?;
        for (k, r) in it.list("refunds")?.enumerate() {
            let value = r.req("amount")?;
            let a = amount(&value, currency)?;
            refunded = super::add(&value, refunded, a)?;
            // Each refund its own event: without a refund id, its reference, else its
            // place among the line's refunds (eBay appends them), so two refunds of one
            // line never share an id and the second is never taken for the first.
            let external_id = match refund_key(&r)? {
                Some((key, external_id)) => {
                    seen_refunds.push(key);
                    external_id
                }
                None => format!("{id}:refund:{}", k + 1),
            };
            events.push(refund_event(external_id, a, vec![(id.clone(), 0)]));
        }
        lines.push(line);
    }
    // Refunds of the order as a whole (eBay lists a refund issued per line item on its
    // line instead): the payment summary's refunds that no line lists, once refunded (a
    // pending or failed one has moved no money). Keyed by `refundId`, else by
    // `refundReferenceId`; one with neither cannot be told from a line's and is left.
    if let Some(summary) = order.get("paymentSummary") {
        for r in summary.list("refunds")? {
            let Some((key, external_id)) = refund_key(&r)? else {
                continue;
            };
            let status = r.get("refundStatus").map(|s| s.str()).transpose()?;
            if seen_refunds.contains(&key) || status.is_some_and(|s| s != "REFUNDED") {
                continue;
            }
            let value = r.req("amount")?;
            let a = amount(&value, currency)?;
            refunded = super::add(&value, refunded, a)?;
            seen_refunds.push(key);
            events.push(refund_event(external_id, a, Vec::new()));
        }
    }
    let mut shipping = Vec::new();
    if !ship.is_zero() {
        shipping.push(ChannelShipping {
            title: "Shipping".into(),
            price: ship,
            tax_rate: None,
            tax_amount: Some(Decimal::ZERO),
        });
    }
    let reported_shipping = match opt_amount(&pricing, "deliveryCost", currency)? {
        Some(c) => Some(match pricing.get("deliveryDiscount") {
            Some(d) => super::sub(&d, c, amount(&d, currency)?.abs())?,
            None => c,
        }),
        None => None,
    };
    let pay_row = pay.map(|(_, _, p, r)| (*p, *r));
    Ok(ChannelOrder {
        channel: Channel::Ebay,
        external_id: order.req("orderId")?.id_text()?,
        display_number: order.opt_text("salesRecordReference")?,
        placed_at: order.req("creationDate")?.time_rfc3339()?,
        updated_at: order
            .get("lastModifiedDate")
            .map(|t| t.time_rfc3339())
            .transpose()?,
        currency,
        taxes_included: false,
        test: false,
        lines,
        shipping,
        status: ChannelStatus {
            lifecycle,
            paid: pay_row.is_some_and(|(p, _)| p),
            refund: pay_row.map_or(RefundState::None, |(_, r)| r),
            delivery_exception: false,
            raw: format!(
                "orderPaymentStatus={pay_raw}, orderFulfillmentStatus={ful_raw}{}",
                if cancelled { ", CANCELED" } else { "" }
            ),
        },
        refunded_amount: refunded,
        reported: ReportedTotals {
            total: Some(amount(&pricing.req("total")?, currency)?),
            discount: opt_amount(&pricing, "priceDiscount", currency)?.map(|d| d.abs()),
            shipping: reported_shipping,
            tax: opt_amount(&pricing, "tax", currency)?,
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
