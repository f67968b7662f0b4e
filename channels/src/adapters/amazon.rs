//! Amazon SP-API orders, in both shapes.
//!
//! **Orders v0**: the order object (optionally wrapped in `{"payload": ...}`) with the
//! `getOrderItems` result inline as `OrderItems` (the host makes the second call and
//! joins them). `ItemPrice` is the *line* total (unit × quantity): the unit price is
//! derived from it. `OrderTotal` may be absent; then the first priced item's currency
//! is the order's, and without any, the marketplace's ([`MARKETPLACE_CURRENCY`]).
//! Amounts are `{CurrencyCode, Amount}` with string amounts (JPY both as `"19940"`
//! and `"25.99"`: the second is refused as too precise for JPY).
//!
//! While an order is `Pending` (payment not authorised yet), `getOrderItems` returns
//! no pricing, taxes, shipping charges or promotions for its items (Amazon's
//! `getOrderItems` reference; CHANNELS.md §5 does not say either way). An item without
//! `ItemPrice` is therefore not a free item but an unpriced one: its line is
//! [`crate::ChannelLine::unpriced`], with a placeholder unit price of zero, and intake
//! waits for a delivery with prices before placing the order
//! ([`crate::intake::ImportOutcome::Unpriced`]). A free item has an `ItemPrice` of
//! `"0.00"`.
//!
//! **Orders 2026-01-01** (`searchOrders`/`getOrder`): items inline (`orderItems`), unit
//! price in `product.price.unitPrice`, money as `{amount, currencyCode}`, per-item
//! `proceeds.breakdowns` (`ITEM`, `SHIPPING`, `TAX`, `DISCOUNT`, ...), order-level
//! `proceeds.breakdowns` that can hold a `DELIVERY_TIP` no item carries (imported as a
//! charge so totals still match). Status is `fulfillment.fulfillmentStatus`.
//!
//! Tax mode by marketplace: prices exclude tax in the US, Canada, Mexico and Brazil,
//! include it elsewhere (EU, UK, Turkey, Japan, ...) (\[U\]: from seller documentation,
//! not the models). `FulfillmentChannel = AFN` / `fulfilledBy = AMAZON` orders are
//! flagged as fulfilled by the marketplace.

use rust_decimal::Decimal;

use crate::error::ChannelError;
use crate::json::At;
use crate::model::{
    Channel, ChannelLine, ChannelOrder, ChannelShipping, ChannelStatus, FundedBy, Lifecycle,
    LineDiscount, RefundState, ReportedTotals,
};

/// v0 `OrderStatus` → (lifecycle, paid).
pub const STATUS_V0: &[(&str, Lifecycle, bool)] = &[
    ("PendingAvailability", Lifecycle::Placed, false),
    ("Pending", Lifecycle::Placed, false),
    ("Unshipped", Lifecycle::Confirmed, true),
    ("PartiallyShipped", Lifecycle::PartiallyShipped, true),
    ("Shipped", Lifecycle::Shipped, true),
    ("InvoiceUnconfirmed", Lifecycle::Shipped, true),
    ("Canceled", Lifecycle::Cancelled, false),
    ("Unfulfillable", Lifecycle::Cancelled, false),
];

/// 2026-01-01 `fulfillmentStatus` → (lifecycle, paid).
pub const STATUS_2026: &[(&str, Lifecycle, bool)] = &[
    ("PENDING_AVAILABILITY", Lifecycle::Placed, false),
    ("PENDING", Lifecycle::Placed, false),
    ("UNSHIPPED", Lifecycle::Confirmed, true),
    ("PARTIALLY_SHIPPED", Lifecycle::PartiallyShipped, true),
    ("SHIPPED", Lifecycle::Shipped, true),
    ("CANCELLED", Lifecycle::Cancelled, false),
    ("UNFULFILLABLE", Lifecycle::Cancelled, false),
];

/// The tax a line or charge carries, as far as the payload tells. In VAT-inclusive
/// marketplaces (EU, UK) `ItemPrice` includes VAT but `ItemTax` often comes back zero
/// or empty (Amazon's VAT Calculation Service page; selling-partner-api-models issues
/// 1766, 3004, 4858): a zero there means "not itemised", not "0 % VAT", so it is
/// `None`. In tax-exclusive marketplaces a zero is a real zero.
fn itemised(inclusive: bool, tax: Decimal) -> Option<Decimal> {
    if inclusive && tax.is_zero() {
        None
    } else {
        Some(tax)
    }
}

/// Marketplaces whose prices exclude tax (US, CA, MX, BR; Mexico and Brazil are not
/// confirmed from Amazon's documentation: check one real order of each).
pub const TAX_EXCLUSIVE_MARKETPLACES: &[&str] = &[
    "ATVPDKIKX0DER",
    "A2EUQ1WTGCTBG2",
    "A1AM78C64UM0Y8",
    "A2Q3Y263D00KWC",
];

/// Each marketplace's own currency, for an order whose payload names none: an
/// unpriced order (`Pending`, or cancelled before it was priced) without `OrderTotal`
/// has no amount at all. Marketplace ids from Amazon's SP-API "Marketplace IDs" list
/// (\[U\]: not in CHANNELS.md; only an unpriced order's currency comes from here, and
/// intake places no unpriced order).
pub const MARKETPLACE_CURRENCY: &[(&str, &str)] = &[
    ("A2EUQ1WTGCTBG2", "CAD"),
    ("ATVPDKIKX0DER", "USD"),
    ("A1AM78C64UM0Y8", "MXN"),
    ("A2Q3Y263D00KWC", "BRL"),
    ("A1RKKUPIHCS9HS", "EUR"),
    ("A1F83G8C2ARO7P", "GBP"),
    ("A13V1IB3VIYZZH", "EUR"),
    ("AMEN7PMS3EDWL", "EUR"),
    ("A1805IZSGTT6HS", "EUR"),
    ("A1PA6795UKMFR9", "EUR"),
    ("APJ6JRA9NG5V4", "EUR"),
    ("A2NODRKZP88ZB9", "SEK"),
    ("A1C3SOZRARQ6R3", "PLN"),
    ("ARBP9OOSHTCHU", "EGP"),
    ("A33AVAJ2PDY3EV", "TRY"),
    ("A17E79C6D8DWNP", "SAR"),
    ("A2VIGQ35RCS4UG", "AED"),
    ("A21TJRUUN4KGV", "INR"),
    ("A19VAU5U5O7RUS", "SGD"),
    ("A39IBJ37TRP1C6", "AUD"),
    ("A1VC38T7YXB528", "JPY"),
];

/// A v0 order's currency: `OrderTotal`'s, else the first priced item's, else (an
/// order with no amount at all) its marketplace's ([`MARKETPLACE_CURRENCY`]); with
/// none of these, the first item's missing `ItemPrice` is the error, as it always was.
fn v0_currency(
    order: &At<'_>,
    items: &At<'_>,
    list: crate::json::Items<'_>,
) -> Result<ordersmith::money::Currency, ChannelError> {
    if let Some(t) = order.get("OrderTotal") {
        return t.req("CurrencyCode")?.currency();
    }
    if let Some(price) = list.into_iter().find_map(|it| it.get("ItemPrice")) {
        return price.req("CurrencyCode")?.currency();
    }
    let first = list.first().ok_or_else(|| items.missing("[0]"))?;
    let marketplace = order.get("MarketplaceId").map(|m| m.str()).transpose()?;
    let code = MARKETPLACE_CURRENCY
        .iter()
        .find(|(id, _)| Some(*id) == marketplace)
        .map(|(_, code)| *code);
    match code.map(ordersmith::money::Currency::parse) {
        Some(Ok(currency)) => Ok(currency),
        _ => Err(first.missing("ItemPrice")),
    }
}

fn status(table: &[(&str, Lifecycle, bool)], raw: &str) -> ChannelStatus {
    let row = table.iter().find(|(k, _, _)| *k == raw);
    ChannelStatus {
        lifecycle: row.map_or_else(
            || Lifecycle::Unknown(raw.to_string()),
            |(_, l, _)| l.clone(),
        ),
        paid: row.is_some_and(|(_, _, p)| *p),
        refund: RefundState::None,
        delivery_exception: false,
        raw: raw.to_string(),
    }
}

fn v0_money(
    at: &At<'_>,
    key: &str,
    currency: ordersmith::money::Currency,
) -> Result<Decimal, ChannelError> {
    match at.get(key) {
        Some(m) => super::money_obj(&m, &["Amount"], &["CurrencyCode"], currency),
        None => Ok(Decimal::ZERO),
    }
}

/// Parses a v0 order with its `OrderItems`.
pub fn parse_v0(root: &At<'_>) -> Result<ChannelOrder, ChannelError> {
    let order = root.get("payload").unwrap_or(*root);
    let items = order.req("OrderItems")?;
    let list = items.array()?;
    super::check_lines(&items, list.len())?;
    let currency = v0_currency(&order, &items, list)?;
    let inclusive = match order.get("MarketplaceId") {
        Some(m) => !TAX_EXCLUSIVE_MARKETPLACES.contains(&m.str()?),
        None => false,
    };
    let raw = order.req("OrderStatus")?.str()?.to_string();
    let st = status(STATUS_V0, &raw);
    let mut lines = Vec::new();
    let mut ship_price = Decimal::ZERO;
    let mut ship_tax = Decimal::ZERO;
    for it in list {
        let quantity = it.req("QuantityOrdered")?.quantity()?;
        // No `ItemPrice`: not priced yet (a `Pending` order), not free.
        let item_price = match it.get("ItemPrice") {
            Some(m) => Some(super::price_obj(
                &m,
                &["Amount"],
                &["CurrencyCode"],
                currency,
            )?),
            None => None,
        };
        let (unit, rounding) =
            super::unit_from_total(&it, item_price.unwrap_or(Decimal::ZERO), quantity, currency)?;
        let mut line = ChannelLine::new(it.req("OrderItemId")?.id_text()?, quantity, unit);
        line.unpriced = item_price.is_none();
        line.discounts.extend(rounding);
        let promo = v0_money(&it, "PromotionDiscount", currency)?;
        if !promo.is_zero() {
            line.discounts.push(LineDiscount {
                label: "promotion".into(),
                amount: promo,
                funded_by: FundedBy::Seller,
            });
        }
        line.tax_amount = itemised(
            inclusive,
            super::sub(
                &it,
                v0_money(&it, "ItemTax", currency)?,
                v0_money(&it, "PromotionDiscountTax", currency)?,
            )?,
        );
        if line.unpriced {
            // Nor is its tax known.
            line.tax_amount = None;
        }
        line.ids.sku = it.opt_text("SellerSKU")?;
        line.ids.variant_id = it.opt_text("ASIN")?;
        line.title = it.opt_text("Title")?;
        line.shipped = match it.get("QuantityShipped") {
            Some(q) => q.quantity()?.min(quantity),
            None => 0,
        };
        if st.lifecycle == Lifecycle::Cancelled {
            line.cancelled = quantity.saturating_sub(line.shipped);
        }
        let item_ship = super::sub(
            &it,
            v0_money(&it, "ShippingPrice", currency)?,
            v0_money(&it, "ShippingDiscount", currency)?,
        )?;
        ship_price = super::add(&it, ship_price, item_ship)?;
        let item_ship_tax = super::sub(
            &it,
            v0_money(&it, "ShippingTax", currency)?,
            v0_money(&it, "ShippingDiscountTax", currency)?,
        )?;
        ship_tax = super::add(&it, ship_tax, item_ship_tax)?;
        super::check_net(&it, &line)?;
        lines.push(line);
    }
    let shipping = if ship_price.is_zero() && ship_tax.is_zero() {
        Vec::new()
    } else {
        vec![ChannelShipping {
            title: order
                .opt_text("ShipServiceLevel")?
                .unwrap_or_else(|| "Shipping".into()),
            price: ship_price,
            tax_rate: None,
            tax_amount: itemised(inclusive, ship_tax),
        }]
    };
    let total = match order.get("OrderTotal") {
        Some(t) => Some(super::money_obj(
            &t,
            &["Amount"],
            &["CurrencyCode"],
            currency,
        )?),
        None => None,
    };
    let afn = order
        .get("FulfillmentChannel")
        .map(|f| f.str())
        .transpose()?
        == Some("AFN");
    Ok(ChannelOrder {
        channel: Channel::AmazonV0,
        external_id: order.req("AmazonOrderId")?.id_text()?,
        display_number: order.opt_text("SellerOrderId")?,
        placed_at: order.req("PurchaseDate")?.time_rfc3339()?,
        updated_at: order
            .get("LastUpdateDate")
            .map(|t| t.time_rfc3339())
            .transpose()?,
        currency,
        taxes_included: inclusive,
        test: false,
        lines,
        shipping,
        status: st,
        refunded_amount: Decimal::ZERO,
        reported: ReportedTotals {
            total,
            ..ReportedTotals::default()
        },
        mismatches: Vec::new(),
        events: Vec::new(),
        marketplace_funded: Decimal::ZERO,
        discount_basis: None,
        fulfilled_by_marketplace: afn,
        parts: Vec::new(),
        raw: None,
    })
}

fn money26(at: &At<'_>, currency: ordersmith::money::Currency) -> Result<Decimal, ChannelError> {
    super::money_obj(at, &["amount"], &["currencyCode"], currency)
}

/// Parses a 2026-01-01 order.
pub fn parse_2026(root: &At<'_>) -> Result<ChannelOrder, ChannelError> {
    let order = root.get("order").unwrap_or(*root);
    let items = order.req("orderItems")?;
    let list = items.array()?;
    super::check_lines(&items, list.len())?;
    let first = list.first().ok_or_else(|| items.missing("[0]"))?;
    let currency = match order.get("proceeds").and_then(|p| p.get("grandTotal")) {
        Some(t) => t.req("currencyCode")?.currency()?,
        None => first
            .req("product")?
            .req("price")?
            .req("unitPrice")?
            .req("currencyCode")?
            .currency()?,
    };
    let marketplace = match order
        .get("salesChannel")
        .and_then(|s| s.get("marketplaceId"))
    {
        Some(m) => Some(m.str()?.to_string()),
        None => None,
    };
    let inclusive = marketplace
        .as_deref()
        .is_some_and(|m| !TAX_EXCLUSIVE_MARKETPLACES.contains(&m));
    let fulfillment = order.req("fulfillment")?;
    let raw = fulfillment.req("fulfillmentStatus")?.str()?.to_string();
    let st = status(STATUS_2026, &raw);
    let mut lines = Vec::new();
    let mut ship_price = Decimal::ZERO;
    let mut ship_tax = Decimal::ZERO;
    for it in list {
        let quantity = it.req("quantityOrdered")?.quantity()?;
        let product = it.req("product")?;
        let unit = super::price_obj(
            &product.req("price")?.req("unitPrice")?,
            &["amount"],
            &["currencyCode"],
            currency,
        )?;
        let mut line = ChannelLine::new(it.req("orderItemId")?.id_text()?, quantity, unit);
        line.ids.sku = product.opt_text("sellerSku")?;
        line.ids.variant_id = product.opt_text("asin")?;
        line.title = product.opt_text("title")?;
        let mut tax = Decimal::ZERO;
        if let Some(p) = it.get("proceeds") {
            for b in p.list("breakdowns")? {
                let kind = b.req("type")?.str()?;
                let subtotal = b.req("subtotal")?;
                let amount = money26(&subtotal, currency)?;
                match kind {
                    "DISCOUNT" if !amount.is_zero() => line.discounts.push(LineDiscount {
                        label: "promotion".into(),
                        amount: amount.abs(),
                        funded_by: FundedBy::Seller,
                    }),
                    "SHIPPING" => ship_price = super::add(&subtotal, ship_price, amount)?,
                    "TAX" => {
                        // Tax on shipping is the shipping charge's; the rest the item's.
                        let mut shipping_part = Decimal::ZERO;
                        for d in b.list("detailedBreakdowns")? {
                            if d.get("subtype").map(|s| s.str()).transpose()? == Some("SHIPPING") {
                                let value = d.req("value")?;
                                shipping_part =
                                    super::add(&value, shipping_part, money26(&value, currency)?)?;
                            }
                        }
                        ship_tax = super::add(&b, ship_tax, shipping_part)?;
                        let item_part = super::sub(&subtotal, amount, shipping_part)?;
                        tax = super::add(&subtotal, tax, item_part)?;
                    }
                    _ => {}
                }
            }
        }
        line.tax_amount = itemised(inclusive, tax);
        if let Some(f) = it.get("fulfillment") {
            line.shipped = match f.get("quantityFulfilled") {
                Some(q) => q.quantity()?.min(quantity),
                None => 0,
            };
        }
        if st.lifecycle == Lifecycle::Cancelled {
            line.cancelled = quantity.saturating_sub(line.shipped);
        }
        super::check_net(&it, &line)?;
        lines.push(line);
    }
    let mut shipping = Vec::new();
    if !ship_price.is_zero() || !ship_tax.is_zero() {
        shipping.push(ChannelShipping {
            title: fulfillment
                .opt_text("fulfillmentServiceLevel")?
                .unwrap_or_else(|| "Shipping".into()),
            price: ship_price,
            tax_rate: None,
            tax_amount: itemised(inclusive, ship_tax),
        });
    }
    let mut total = None;
    if let Some(p) = order.get("proceeds") {
        if let Some(g) = p.get("grandTotal") {
            total = Some(money26(&g, currency)?);
        }
        for b in p.list("breakdowns")? {
            if b.req("type")?.str()? == "DELIVERY_TIP" {
                shipping.push(ChannelShipping {
                    title: "Delivery tip".into(),
                    price: money26(&b.req("subtotal")?, currency)?,
                    tax_rate: None,
                    tax_amount: Some(Decimal::ZERO),
                });
            }
        }
    }
    let by_amazon = fulfillment
        .get("fulfilledBy")
        .map(|f| f.str())
        .transpose()?
        == Some("AMAZON");
    Ok(ChannelOrder {
        channel: Channel::Amazon2026,
        external_id: order.req("orderId")?.id_text()?,
        display_number: None,
        placed_at: order.req("createdTime")?.time_rfc3339()?,
        updated_at: order
            .get("lastUpdatedTime")
            .map(|t| t.time_rfc3339())
            .transpose()?,
        currency,
        taxes_included: inclusive,
        test: false,
        lines,
        shipping,
        status: st,
        refunded_amount: Decimal::ZERO,
        reported: ReportedTotals {
            total,
            ..ReportedTotals::default()
        },
        mismatches: Vec::new(),
        events: Vec::new(),
        marketplace_funded: Decimal::ZERO,
        discount_basis: None,
        fulfilled_by_marketplace: by_amazon,
        parts: Vec::new(),
        raw: None,
    })
}
