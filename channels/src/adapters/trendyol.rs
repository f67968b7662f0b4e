//! Trendyol shipment packages.
//!
//! Accepted bodies: one package object (a webhook), an array of packages, or a
//! `getShipmentPackages` page (`{"content": [...]}`). Every package must carry the same
//! `orderNumber`: they are merged into one order, because one order can be split
//! across packages. A package in `UnPacked` status was replaced by the packages made
//! from it and is ignored when any other package is present.
//!
//! - Field names: the new names (December 2025) first, the old names accepted too
//!   (`lineId`/`id`, `stockCode`/`merchantSku`, `lineGrossAmount`/`amount`,
//!   `lineSellerDiscount`/`discount`, `lineTyDiscount`/`tyDiscount`, `vatRate`/
//!   `vatBaseAmount` (a rate despite the old name), `packageTotalPrice`/`totalPrice`, ...).
//! - Money is JSON numbers, read as exact text. Prices are VAT-inclusive (assumed \[U\]).
//! - `lineGrossAmount` is the unit gross price; `lineSellerDiscount` and
//!   `lineTyDiscount` are the sums over the line's units (Trendyol's "discount
//!   representations" guide: net unit = gross − seller − TY; `packageTotalPrice` is the
//!   net amount payable). The Trendyol-funded part is a marketplace-funded discount.
//!   Not handled: the Romanian SGR fee (`lineSgrFee`, international orders), which
//!   would show as a total mismatch.
//! - `orderDate` is Turkish wall-clock time (GMT+3) written as epoch milliseconds, as
//!   Trendyol's `getShipmentPackages` page states ("orderDate, Timestamp (milliseconds)
//!   formatında GMT +3 olarak iletilir. createdDate bilgileri ise GMT formatında
//!   iletilir"; its own sample has `orderDate` 3 h after the package's `Created`
//!   history entry). [`ORDER_DATE_OFFSET_MS`] is subtracted to get the UTC instant
//!   (Turkey keeps UTC+3 all year since 2016). `lastModifiedDate` is undocumented
//!   either way; it is only compared with other Trendyol values (staleness), so it is
//!   read as given. A poller's `startDate` / `endDate` filters are GMT+3 too.
//! - Status per package (`shipmentPackageStatus`, else `status`); the order's status
//!   aggregates its packages' statuses.

use rust_decimal::Decimal;

use crate::error::ChannelError;
use crate::json::At;
use crate::model::{
    Channel, ChannelLine, ChannelOrder, ChannelStatus, FundedBy, Lifecycle, LineDiscount,
    RefundState, ReportedTotals,
};

/// What Trendyol adds to `orderDate`: it sends Turkish local time (UTC+3, no daylight
/// saving since 2016) as if it were a UTC epoch.
pub const ORDER_DATE_OFFSET_MS: i64 = 3 * 60 * 60 * 1000;

/// Package status → lifecycle (compared without case or underscores, so the webhook's
/// `AT_COLLECTION_POINT` matches `AtCollectionPoint`).
pub const STATUS: &[(&str, Lifecycle)] = &[
    ("awaiting", Lifecycle::Placed),
    ("created", Lifecycle::Confirmed),
    ("picking", Lifecycle::Processing),
    ("invoiced", Lifecycle::Processing),
    ("repack", Lifecycle::Processing),
    ("unpacked", Lifecycle::Processing),
    ("verified", Lifecycle::Processing),
    ("shipped", Lifecycle::Shipped),
    ("atcollectionpoint", Lifecycle::Shipped),
    ("undelivered", Lifecycle::Shipped),
    ("delivered", Lifecycle::Delivered),
    ("returned", Lifecycle::Returned),
    ("cancelled", Lifecycle::Cancelled),
    ("unsupplied", Lifecycle::Cancelled),
];

fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '_' && *c != ' ')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The lifecycle of one package status.
pub fn map_status(raw: &str) -> Lifecycle {
    let n = norm(raw);
    STATUS
        .iter()
        .find(|(k, _)| *k == n)
        .map_or_else(|| Lifecycle::Unknown(raw.to_string()), |(_, l)| l.clone())
}

/// One order's status from its packages' statuses (cancelled units aside): every
/// package cancelled → cancelled; all delivered → delivered; all at least shipped →
/// shipped; some shipped → partially shipped; else the least advanced.
pub fn aggregate(statuses: &[Lifecycle]) -> Lifecycle {
    if let Some(u) = statuses.iter().find(|s| matches!(s, Lifecycle::Unknown(_))) {
        return u.clone();
    }
    let live: Vec<&Lifecycle> = statuses
        .iter()
        .filter(|s| **s != Lifecycle::Cancelled)
        .collect();
    if live.is_empty() {
        return Lifecycle::Cancelled;
    }
    if live.iter().all(|s| **s == Lifecycle::Returned) {
        return Lifecycle::Returned;
    }
    let shipped = |s: &Lifecycle| {
        matches!(
            s,
            Lifecycle::Shipped | Lifecycle::Delivered | Lifecycle::Returned
        )
    };
    if live
        .iter()
        .all(|s| matches!(s, Lifecycle::Delivered | Lifecycle::Returned))
    {
        return Lifecycle::Delivered;
    }
    if live.iter().all(|s| shipped(s)) {
        return Lifecycle::Shipped;
    }
    if live.iter().any(|s| shipped(s)) {
        return Lifecycle::PartiallyShipped;
    }
    live.into_iter()
        .min_by_key(|s| s.rank())
        .cloned()
        .unwrap_or(Lifecycle::Placed)
}

fn packages<'a>(root: &At<'a>) -> Result<Vec<At<'a>>, ChannelError> {
    if let Some(content) = root.get("content") {
        return content.array();
    }
    match root.array() {
        Ok(list) => Ok(list),
        Err(_) => Ok(vec![root.clone()]),
    }
}

/// Parses one or more packages of one Trendyol order.
pub fn parse(root: &At<'_>) -> Result<ChannelOrder, ChannelError> {
    let all = packages(root)?;
    super::check_lines(root, all.len())?;
    let mut statuses_of = Vec::new();
    for p in &all {
        let raw = p
            .req_any(&["shipmentPackageStatus", "status"])?
            .str()?
            .to_string();
        statuses_of.push(raw);
    }
    let superseded = |raw: &str| norm(raw) == "unpacked";
    let keep_all = statuses_of.iter().all(|s| superseded(s));
    let first = all.first().ok_or_else(|| root.missing("orderNumber"))?;
    let order_number = first.req("orderNumber")?.id_text()?;
    let currency = match first.get("currencyCode") {
        Some(c) => c.currency()?,
        None => {
            ordersmith::money::Currency::parse("TRY").map_err(|_| root.missing("currencyCode"))?
        }
    };
    let mut lines: Vec<ChannelLine> = Vec::new();
    let mut statuses = Vec::new();
    let mut raw_status = Vec::new();
    let mut reported = ReportedTotals {
        total: Some(Decimal::ZERO),
        discount: Some(Decimal::ZERO),
        shipping: None,
        tax: None,
    };
    let mut marketplace_funded = Decimal::ZERO;
    let mut updated_at = None;
    let mut exception = false;
    for (p, raw) in all.iter().zip(&statuses_of) {
        let number = p.req("orderNumber")?.id_text()?;
        if number != order_number {
            return Err(ChannelError::OrderMismatch {
                channel: p.channel,
                path: p.sub("orderNumber"),
                expected: order_number,
                found: number,
            });
        }
        if let Some(c) = p.get("currencyCode") {
            super::same_currency(&c, currency, c.currency()?)?;
        }
        let package_id = p.req_any(&["shipmentPackageId", "id"])?.id_text()?;
        raw_status.push(format!("{package_id}:{raw}"));
        if superseded(raw) && !keep_all {
            continue;
        }
        let lifecycle = map_status(raw);
        exception |= norm(raw) == "undelivered";
        statuses.push(lifecycle.clone());
        if let Some(t) = p.get("lastModifiedDate") {
            let t = t.time_epoch_ms()?;
            updated_at = Some(updated_at.map_or(t, |u: chrono::DateTime<chrono::Utc>| u.max(t)));
        }
        let add = |acc: &mut Option<Decimal>, v: Option<Decimal>| {
            *acc = match (*acc, v) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            }
        };
        add(
            &mut reported.total,
            p.first(&["packageTotalPrice", "totalPrice"])
                .map(|v| v.money(currency))
                .transpose()?,
        );
        let seller = p
            .first(&["packageSellerDiscount", "totalDiscount"])
            .map(|v| v.money(currency))
            .transpose()?;
        let ty = p
            .first(&["packageTyDiscount", "totalTyDiscount"])
            .map(|v| v.money(currency))
            .transpose()?;
        add(
            &mut reported.discount,
            seller.map(|s| s + ty.unwrap_or_default()),
        );

        let items = p.req("lines")?;
        for l in items.array()? {
            let quantity = l.req("quantity")?.quantity()?;
            let line_id = l.req_any(&["lineId", "id"])?.id_text()?;
            let gross = l.req_any(&["lineGrossAmount", "amount"])?.price(currency)?;
            let seller = l
                .first(&["lineSellerDiscount", "discount"])
                .map(|v| v.money(currency))
                .transpose()?
                .unwrap_or_default();
            let ty = l
                .first(&["lineTyDiscount", "tyDiscount"])
                .map(|v| v.money(currency))
                .transpose()?
                .unwrap_or_default();
            let vat = l
                .first(&["vatRate", "vatBaseAmount"])
                .map(|v| v.decimal())
                .transpose()?;
            let line_status = l.opt_text("orderLineItemStatusName")?;
            let line_life = line_status
                .as_deref()
                .map(map_status)
                .unwrap_or_else(|| lifecycle.clone());
            let existing = lines.iter().position(|x| x.external_line_id == line_id);
            let idx = match existing {
                Some(i) => {
                    // The same line split across packages: units add up.
                    if let Some(x) = lines.get_mut(i) {
                        x.quantity = x.quantity.saturating_add(quantity);
                    }
                    i
                }
                None => {
                    let mut line = ChannelLine::new(line_id, quantity, gross);
                    line.ids.sku = l.opt_text("stockCode")?.or(l.opt_text("merchantSku")?);
                    line.ids.barcode = l.opt_text("barcode")?;
                    line.ids.variant_id = l.opt_text("contentId")?.or(l.opt_text("productCode")?);
                    line.title = l.opt_text("productName")?;
                    line.tax_rate = vat.map(super::percent);
                    line.status_raw = line_status.clone();
                    lines.push(line);
                    lines.len() - 1
                }
            };
            let Some(line) = lines.get_mut(idx) else {
                continue;
            };
            if line.unit_price != gross {
                return Err(ChannelError::InvalidAmount {
                    channel: l.channel,
                    path: l.sub("lineGrossAmount"),
                    text: format!(
                        "{gross} differs from {} in another package of line {}",
                        line.unit_price, line.external_line_id
                    ),
                });
            }
            for (label, amount, funded_by) in [
                ("seller discount", seller, FundedBy::Seller),
                ("trendyol discount", ty, FundedBy::Marketplace),
            ] {
                if amount.is_zero() {
                    continue;
                }
                if funded_by == FundedBy::Marketplace {
                    marketplace_funded += amount;
                }
                match line.discounts.iter_mut().find(|d| d.label == label) {
                    Some(d) => d.amount += amount,
                    None => line.discounts.push(LineDiscount {
                        label: label.into(),
                        amount,
                        funded_by,
                    }),
                }
            }
            match line_life {
                Lifecycle::Shipped => line.shipped += quantity,
                Lifecycle::Delivered => {
                    line.shipped += quantity;
                    line.delivered += quantity;
                }
                Lifecycle::Returned => {
                    line.shipped += quantity;
                    line.delivered += quantity;
                    line.returned += quantity;
                }
                Lifecycle::Cancelled => line.cancelled += quantity,
                _ => {}
            }
        }
    }
    let lifecycle = aggregate(&statuses);
    let paid = !matches!(lifecycle, Lifecycle::Placed | Lifecycle::Unknown(_));
    Ok(ChannelOrder {
        channel: Channel::Trendyol,
        external_id: order_number,
        display_number: None,
        placed_at: first.req("orderDate")?.time_epoch_ms()?
            - chrono::TimeDelta::milliseconds(ORDER_DATE_OFFSET_MS),
        updated_at,
        currency,
        taxes_included: true,
        test: false,
        lines,
        shipping: Vec::new(),
        status: ChannelStatus {
            refund: if lifecycle == Lifecycle::Returned {
                RefundState::Full
            } else {
                RefundState::None
            },
            lifecycle,
            paid,
            delivery_exception: exception,
            raw: raw_status.join(", "),
        },
        refunded_amount: Decimal::ZERO,
        reported,
        mismatches: Vec::new(),
        events: Vec::new(),
        marketplace_funded,
        fulfilled_by_marketplace: false,
        raw: None,
    })
}
