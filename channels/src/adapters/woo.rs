//! WooCommerce REST v3 order (the body of `order.*` webhooks too).
//!
//! - The line `price` is a float (`total / quantity`, repeating decimals and float
//!   noise such as `10.799999999999999`) and is never read: the unit price comes from
//!   `subtotal` (pre-discount, ex-tax) and the discount from `subtotal − total`.
//! - `subtotal`/`total` are always ex-tax; with `prices_include_tax` the line taxes are
//!   added back so the canonical prices are gross, as the shop shows them.
//! - `date_created_gmt` has no zone and is UTC.
//! - A line listed twice with the same `id` is read once.
//! - Fractional quantities (a plugin feature) are refused with `CHANNEL_INVALID_QUANTITY`:
//!   the ledger counts whole units.
//! - `refunds[].total` is a negative string without currency: its absolute value, in
//!   the order's currency.

use rust_decimal::Decimal;

use crate::error::ChannelError;
use crate::json::At;
use crate::model::{
    Channel, ChannelEvent, ChannelLine, ChannelOrder, ChannelShipping, ChannelStatus, FundedBy,
    Lifecycle, LineDiscount, RefundState, ReportedTotals,
};

/// `status` → (lifecycle, paid).
///
/// `failed` (the payment failed) is `placed`, not `cancelled`: in WooCommerce the
/// customer retries payment on the same order, which then moves to `processing`, so
/// the order is left pending (awaiting payment, nothing reserved) rather than
/// cancelled for good.
pub const STATUS: &[(&str, Lifecycle, bool)] = &[
    ("pending", Lifecycle::Placed, false),
    ("on-hold", Lifecycle::Placed, false),
    ("failed", Lifecycle::Placed, false),
    ("processing", Lifecycle::Confirmed, true),
    ("completed", Lifecycle::Shipped, true),
    ("cancelled", Lifecycle::Cancelled, false),
    ("refunded", Lifecycle::Cancelled, true),
];

/// Whether a body is WooCommerce's unsigned creation ping (`webhook_id=N`,
/// form-encoded), which must be answered 200 and not parsed as an order.
pub fn is_ping(body: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let text = text.trim();
    text.strip_prefix("webhook_id=")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn status(
    order: &At<'_>,
    refunded: Decimal,
    total: Option<Decimal>,
) -> Result<ChannelStatus, ChannelError> {
    let raw = order.req("status")?.str()?.to_ascii_lowercase();
    let row = STATUS.iter().find(|(k, _, _)| *k == raw);
    let refund = if raw == "refunded" || (total.is_some_and(|t| !t.is_zero() && refunded >= t)) {
        RefundState::Full
    } else if refunded.is_zero() {
        RefundState::None
    } else {
        RefundState::Partial
    };
    Ok(ChannelStatus {
        lifecycle: row.map_or_else(|| Lifecycle::Unknown(raw.clone()), |(_, l, _)| l.clone()),
        paid: row.is_some_and(|(_, _, p)| *p) || order.get("date_paid_gmt").is_some(),
        refund,
        delivery_exception: false,
        raw,
    })
}

/// Parses a WooCommerce order.
pub fn parse(order: &At<'_>) -> Result<ChannelOrder, ChannelError> {
    let currency = order.req("currency")?.currency()?;
    let inclusive = match order.get("prices_include_tax") {
        Some(v) => v.bool()?,
        None => false,
    };
    let items = order.req("line_items")?;
    let mut lines: Vec<ChannelLine> = Vec::new();
    for item in items.array()? {
        let id = item.req("id")?.id_text()?;
        if lines.iter().any(|l| l.external_line_id == id) {
            continue;
        }
        let quantity = item.req("quantity")?.quantity()?;
        let subtotal = item.req("subtotal")?.price(currency)?;
        let total = item.req("total")?.price(currency)?;
        let subtotal_tax = item
            .opt_money("subtotal_tax", currency)?
            .unwrap_or_default();
        let total_tax = item.opt_money("total_tax", currency)?.unwrap_or_default();
        let (gross_sub, gross_total) = if inclusive {
            (
                super::add(&item, subtotal, subtotal_tax)?,
                super::add(&item, total, total_tax)?,
            )
        } else {
            (subtotal, total)
        };
        let (unit, rounding) = super::unit_from_total(&item, gross_sub, quantity, currency)?;
        let mut line = ChannelLine::new(id, quantity, unit);
        line.discounts.extend(rounding);
        let discount = super::sub(&item, gross_sub, gross_total)?;
        if discount < Decimal::ZERO {
            return Err(ChannelError::InvalidAmount {
                channel: order.channel,
                path: item.sub("total"),
                text: format!("{total} exceeds subtotal {subtotal}"),
            });
        }
        if !discount.is_zero() {
            line.discounts.push(LineDiscount {
                label: "coupon".into(),
                amount: discount.normalize(),
                funded_by: FundedBy::Seller,
            });
        }
        line.tax_amount = Some(total_tax);
        line.ids.sku = item.opt_text("sku")?;
        line.ids.variant_id = match item.opt_text("variation_id")? {
            Some(v) if v != "0" => Some(v),
            _ => item.opt_text("product_id")?,
        };
        line.title = item.opt_text("name")?;
        super::check_net(&item, &line)?;
        lines.push(line);
    }
    super::check_lines(&items, lines.len())?;

    let mut shipping = Vec::new();
    for s in order.list("shipping_lines")? {
        let price = s.req("total")?.money(currency)?;
        let tax = s.opt_money("total_tax", currency)?.unwrap_or_default();
        shipping.push(ChannelShipping {
            title: s
                .opt_text_first(&["method_title", "method_id"])?
                .unwrap_or_else(|| "Shipping".into()),
            price: if inclusive {
                super::add(&s, price, tax)?
            } else {
                price
            },
            tax_rate: None,
            tax_amount: Some(tax),
        });
    }

    let mut events = Vec::new();
    let mut refunded = Decimal::ZERO;
    for r in order.list("refunds")? {
        let amount = r.req("total")?.money(currency)?.abs();
        refunded = super::add(&r, refunded, amount)?;
        events.push(ChannelEvent {
            kind: "refund".into(),
            order_external_id: None,
            external_id: r.req("id")?.id_text()?,
            status: None,
            amount: Some(amount),
            lines: Vec::new(),
            reason: r.opt_text("reason")?,
            restock: false,
        });
    }

    let total = order.opt_money("total", currency)?;
    let status = status(order, refunded, total)?;
    if status.lifecycle == Lifecycle::Shipped {
        // Woo has no shipped/delivered distinction: `completed` means everything went.
        for l in &mut lines {
            l.shipped = l.quantity;
        }
    }
    let shipping_reported = match (order.opt_money("shipping_total", currency)?, inclusive) {
        (Some(s), true) => Some(match order.get("shipping_tax") {
            Some(tax) => super::add(&tax, s, tax.money(currency)?)?,
            None => s,
        }),
        (s, _) => s,
    };
    let discount_reported = match (order.opt_money("discount_total", currency)?, inclusive) {
        (Some(d), true) => Some(match order.get("discount_tax") {
            Some(tax) => super::add(&tax, d, tax.money(currency)?)?,
            None => d,
        }),
        (d, _) => d,
    };
    Ok(ChannelOrder {
        channel: Channel::WooCommerce,
        external_id: order.req("id")?.id_text()?,
        display_number: order.opt_text("number")?,
        placed_at: order.req("date_created_gmt")?.time_naive_utc()?,
        updated_at: order
            .get("date_modified_gmt")
            .map(|t| t.time_naive_utc())
            .transpose()?,
        currency,
        taxes_included: inclusive,
        test: false,
        lines,
        shipping,
        status,
        refunded_amount: refunded,
        reported: ReportedTotals {
            total,
            discount: discount_reported,
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
