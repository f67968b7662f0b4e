//! Trendyol shipment packages.
//!
//! Accepted bodies: one package object (a webhook), an array of packages, or a
//! `getShipmentPackages` page (`{"content": [...]}`). Every package must carry the same
//! `orderNumber`: they are merged into one order, because one order can be split
//! across packages. A package in `UnPacked` status, or named in another package's
//! `originPackageIds` (the packages a split made from it name it there; a body naming
//! more than [`super::MAX_LINES`] in all is refused as `CHANNEL_TOO_MANY_LINES`), was
//! replaced by the packages made from it and is ignored when any other package is
//! present.
//! Each package is also a [`ChannelPart`] with the units of each line it carries and
//! their stage ([`PartLine`]): a webhook delivers one package per call, so intake adds
//! a line split across packages up over every package of it seen (see
//! [`crate::intake`]), where one body only adds up its own packages.
//!
//! - Field names: the new names (December 2025) first, the old names accepted too
//!   (`lineId`/`id`, `stockCode`/`merchantSku`, `lineGrossAmount`/`amount`,
//!   `lineSellerDiscount`/`discount`, `lineTyDiscount`/`tyDiscount`, `vatRate`/
//!   `vatBaseAmount` (a rate despite the old name), `packageTotalPrice`/`totalPrice`, ...).
//! - Money is JSON numbers, read as exact text. Prices are VAT-inclusive (assumed \[U\]).
//! - `lineGrossAmount` is the unit gross price. Line discounts come from
//!   `discountDetails[]` when present (`lineItemSellerDiscount`, old name
//!   `lineItemDiscount`, seller-funded; `lineItemTyDiscount`, Trendyol-funded), else
//!   from the line's `lineSellerDiscount` / `lineTyDiscount` (old `discount` /
//!   `tyDiscount`). The Trendyol-funded part is a marketplace-funded discount.
//! - **What the documentation says, and how it is read.** Trendyol's guide "Discount
//!   representations in the getShipmentPackages service" (developers.trendyol.com,
//!   v2.0 and v3.0, and its Turkish version) contradicts itself: it calls `lines[]`
//!   "per-product unit totals", describes `lineSellerDiscount` / `lineTyDiscount` as
//!   "sum of items" but `lineTotalDiscount` as "total unit discount", and gives
//!   `lineItemPrice = lineGrossAmount − lineItemSellerDiscount − lineItemTyDiscount`
//!   as the "net unit price", while saying `discountDetails[]` has one entry per unit
//!   (N entries for quantity N). With one entry per unit both readings agree; with one
//!   entry for several units, or line fields on a line of several units, an amount can
//!   be the line's total or one unit's. Both readings are computed and the one that
//!   makes the package's own `packageTotalPrice` and seller + TY discount totals add up
//!   to the minor unit is used ([`DiscountBasis::LineSum`] or
//!   [`DiscountBasis::PerUnit`]); when neither does, the line-total reading is kept,
//!   the order is flagged [`DiscountBasis::Unreconciled`] and the mismatches say by how
//!   much; with no package totals at all it is [`DiscountBasis::Undetermined`]. The
//!   guide also notes `packageTyDiscount` may be filled only for `commercial` (B2B)
//!   orders; when it is absent, only the total decides.
//! - `packageTotalPrice` is the net amount payable.
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
//! - Paid ([`crate::ChannelStatus::paid`]): an `Awaiting` package is "for stock
//!   reservation only" (payment not taken), so the order is paid once a package got
//!   past it: `Created` or any later stage. An order whose every package is cancelled
//!   (`Cancelled`, `UnSupplied`) is paid only when a package of the body shows it got
//!   past `Awaiting`: a live or `UnPacked` package, or a cancelled package whose
//!   `packageHistories[].status` lists a paid stage. A cancelled package without such
//!   a history is read as never paid: the payload does not say it was (its lines'
//!   `cancelledBy` / `cancelReason` / `cancelReasonCode` name who cancelled and why,
//!   not whether the customer had paid), and recording a payment nobody took would
//!   leave a refund owed that is not. A package cancelled after intake saw it paid
//!   keeps its payment: intake never takes one back.

use std::collections::BTreeSet;

use rust_decimal::Decimal;

use crate::error::ChannelError;
use crate::json::{At, Items};
use crate::model::{
    Channel, ChannelLine, ChannelOrder, ChannelPart, ChannelStatus, DiscountBasis, FundedBy,
    Lifecycle, LineDiscount, PartLine, RefundState, ReportedTotals,
};

/// The label of a seller-funded Trendyol line discount.
pub const SELLER_LABEL: &str = "seller discount";
/// The label of a Trendyol-funded (marketplace-funded) line discount.
pub const TRENDYOL_LABEL: &str = "trendyol discount";

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

/// What a status ignores before it is looked up (besides case).
const IGNORED: &[char] = &['_', ' '];

/// The lifecycle of one package status.
pub fn map_status(raw: &str) -> Lifecycle {
    super::table_status(STATUS, raw, IGNORED)
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

/// One line's discounts (seller, Trendyol) under both readings of the documentation.
struct LineDiscounts {
    /// Unit gross price.
    gross: Decimal,
    /// The amounts read as the line's totals (the guide's "sum of items").
    sum: (Decimal, Decimal),
    /// The amounts read as per unit, times the units they stand for; `None` when this
    /// reading gives the same amounts (one unit, or one `discountDetails[]` entry per
    /// unit) or is not a whole number of minor units.
    per_unit: Option<(Decimal, Decimal)>,
}

/// Reads a line's discounts: from `discountDetails[]` when present (one entry per
/// unit, `lineItemSellerDiscount` / old `lineItemDiscount` and `lineItemTyDiscount`),
/// else from the line's `lineSellerDiscount` / `lineTyDiscount` (old `discount` /
/// `tyDiscount`).
fn line_discounts(
    l: &At<'_>,
    quantity: u32,
    currency: ordersmith::money::Currency,
) -> Result<LineDiscounts, ChannelError> {
    let gross = l.req_any(&["lineGrossAmount", "amount"])?.price(currency)?;
    let amount = |at: &At<'_>, keys: &[&str]| -> Result<Decimal, ChannelError> {
        let v = at.first(keys).map(|v| v.money(currency)).transpose()?;
        let v = v.unwrap_or_default();
        if v < Decimal::ZERO {
            return Err(ChannelError::InvalidAmount {
                channel: at.channel,
                path: at.sub(keys.first().copied().unwrap_or("?")),
                text: format!("{v} is a negative discount"),
            });
        }
        Ok(v)
    };
    let q = Decimal::from(quantity);
    // `units`: how many of the line's units the amounts were given for under the
    // per-unit reading (1 for the line fields; entries for `discountDetails[]`).
    let (sum, units) = match l.get("discountDetails") {
        Some(details) => {
            let entries = details.array()?;
            let (mut seller, mut ty) = (Decimal::ZERO, Decimal::ZERO);
            for e in &entries {
                let too_large = || ChannelError::InvalidAmount {
                    channel: e.channel,
                    path: e.path(),
                    text: "discounts too large to add up".into(),
                };
                seller = seller
                    .checked_add(amount(&e, &["lineItemSellerDiscount", "lineItemDiscount"])?)
                    .ok_or_else(too_large)?;
                ty = ty
                    .checked_add(amount(&e, &["lineItemTyDiscount"])?)
                    .ok_or_else(too_large)?;
            }
            (
                (seller, ty),
                Decimal::from(u32::try_from(entries.len()).unwrap_or(u32::MAX)),
            )
        }
        None => (
            (
                amount(l, &["lineSellerDiscount", "discount"])?,
                amount(l, &["lineTyDiscount", "tyDiscount"])?,
            ),
            Decimal::ONE,
        ),
    };
    let scale = |v: Decimal| -> Option<Decimal> {
        let vq = v.checked_mul(q)?;
        let r = vq.checked_div(units)?;
        (r.round_dp(currency.minor_units()) == r && r.checked_mul(units)? == vq)
            .then(|| r.normalize())
    };
    let per_unit = if units.is_zero() || units == q {
        None
    } else {
        match (scale(sum.0), scale(sum.1)) {
            (Some(s), Some(t)) if (s, t) != sum => Some((s, t)),
            _ => None,
        }
    };
    Ok(LineDiscounts {
        gross,
        sum,
        per_unit,
    })
}

/// Which reading of a package's line discounts its own totals confirm, and whether to
/// use the per-unit amounts. See [`DiscountBasis`].
fn decide_basis(
    read: &[(At<'_>, u32, LineDiscounts)],
    reported_total: Option<Decimal>,
    reported_discount: Option<Decimal>,
) -> (DiscountBasis, bool) {
    if read.iter().all(|(_, _, d)| d.per_unit.is_none()) {
        return (DiscountBasis::Unambiguous, false);
    }
    if reported_total.is_none() && reported_discount.is_none() {
        return (DiscountBasis::Undetermined, false);
    }
    let reconciles = |per_unit: bool| -> Option<bool> {
        let (mut total, mut discount) = (Decimal::ZERO, Decimal::ZERO);
        for (_, q, d) in read {
            let (s, t) = match (&d.per_unit, per_unit) {
                (Some(pu), true) => *pu,
                _ => d.sum,
            };
            let off = s.checked_add(t)?;
            let net = d.gross.checked_mul(Decimal::from(*q))?.checked_sub(off)?;
            total = total.checked_add(net)?;
            discount = discount.checked_add(off)?;
        }
        Some(
            reported_total.is_none_or(|r| r == total)
                && reported_discount.is_none_or(|r| r == discount),
        )
    };
    match (
        reconciles(false).unwrap_or(false),
        reconciles(true).unwrap_or(false),
    ) {
        (true, _) => (DiscountBasis::LineSum, false),
        (false, true) => (DiscountBasis::PerUnit, true),
        (false, false) => (DiscountBasis::Unreconciled, false),
    }
}

/// `have + more` units of one line added up across packages (the line's quantity, or
/// its shipped, delivered, returned or cancelled units), refused as
/// `CHANNEL_INVALID_QUANTITY` on the package line's `quantity` when the sum exceeds
/// what a `u32` holds.
fn units_add(line: &At<'_>, have: u32, more: u32) -> Result<u32, ChannelError> {
    have.checked_add(more)
        .ok_or_else(|| ChannelError::InvalidQuantity {
            channel: line.channel,
            path: line.sub("quantity"),
            text: more.to_string(),
            reason: "too large: the line's units across packages exceed 4294967295",
        })
}

/// How many of a package line's `units` its status puts at each stage, as a line
/// counts them (shipped, delivered, returned, cancelled): a delivered unit was
/// shipped, a returned one shipped and delivered.
fn stage_units(life: &Lifecycle, units: u32) -> [u32; 4] {
    match life {
        Lifecycle::Shipped => [units, 0, 0, 0],
        Lifecycle::Delivered => [units, units, 0, 0],
        Lifecycle::Returned => [units, units, units, 0],
        Lifecycle::Cancelled => [0, 0, 0, units],
        _ => [0; 4],
    }
}

/// Adds `stages` ([`stage_units`]) of `line` to the line's counts.
fn add_stages(line: &At<'_>, counts: [&mut u32; 4], stages: [u32; 4]) -> Result<(), ChannelError> {
    for (count, more) in counts.into_iter().zip(stages) {
        *count = units_add(line, *count, more)?;
    }
    Ok(())
}

/// Whether a package stage means the customer's payment was taken: `Created` or any
/// later stage short of a cancellation (`Awaiting` is a reservation before payment).
fn paid_stage(life: &Lifecycle) -> bool {
    matches!(
        life,
        Lifecycle::Confirmed
            | Lifecycle::Processing
            | Lifecycle::PartiallyShipped
            | Lifecycle::Shipped
            | Lifecycle::Delivered
            | Lifecycle::Returned
    )
}

/// Whether package `p`, in stage `life`, shows its order was paid: its stage is a paid
/// one ([`paid_stage`]), or it is cancelled and its `packageHistories[]` lists a paid
/// stage before that. A history that is not an array of `{status: string}` entries is
/// refused (read only for a cancelled package, the one whose payment it decides).
fn was_paid(p: &At<'_>, life: &Lifecycle) -> Result<bool, ChannelError> {
    if paid_stage(life) {
        return Ok(true);
    }
    if *life != Lifecycle::Cancelled {
        return Ok(false);
    }
    let mut paid = false;
    for entry in p.list("packageHistories")? {
        paid |= paid_stage(&map_status(entry.req("status")?.str()?));
    }
    Ok(paid)
}

fn packages<'a>(root: &At<'a>) -> Result<Items<'a>, ChannelError> {
    if let Some(content) = root.get("content") {
        return content.array();
    }
    match root.array() {
        Ok(list) => Ok(list),
        Err(_) => Ok(Items::one(*root)),
    }
}

/// Parses one or more packages of one Trendyol order.
pub fn parse(root: &At<'_>) -> Result<ChannelOrder, ChannelError> {
    let all = packages(root)?;
    super::check_lines(root, all.len())?;
    // Each package's status and the packages it was made from (`originPackageIds`):
    // no more of those in a body than packages an order may have.
    let mut statuses_of = Vec::new();
    let mut origins = 0usize;
    for p in &all {
        let raw = p
            .req_any(&["shipmentPackageStatus", "status"])?
            .str()?
            .to_string();
        let listed = p.list("originPackageIds")?;
        origins = origins.saturating_add(listed.len());
        if origins > super::MAX_LINES {
            return Err(ChannelError::TooManyLines {
                channel: p.channel,
                path: p.sub("originPackageIds"),
                count: origins,
                max: super::MAX_LINES,
            });
        }
        let mut replaces = Vec::with_capacity(listed.len());
        for origin in listed {
            replaces.push(origin.id_text()?);
        }
        statuses_of.push((raw, replaces));
    }
    let named: BTreeSet<&str> = statuses_of
        .iter()
        .flat_map(|(_, replaces)| replaces.iter().map(String::as_str))
        .collect();
    let mut superseded = Vec::with_capacity(statuses_of.len());
    for (p, (raw, _)) in all.zip(&statuses_of) {
        let id = p.req_any(&["shipmentPackageId", "id"])?.id_str()?;
        superseded.push(super::status_is(raw, "unpacked", IGNORED) || named.contains(id));
    }
    drop(named);
    let keep_all = superseded.iter().all(|s| *s);
    let first = all.first().ok_or_else(|| root.missing("orderNumber"))?;
    let order_number = first.req("orderNumber")?.id_str()?;
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
    let mut bases = Vec::new();
    let mut parts = Vec::new();
    // Whether a package of the body shows the order was paid (`was_paid`); a
    // superseded package too (it was split, so it had been `Created`).
    let mut paid_seen = false;
    for ((p, (raw, replaces)), gone) in all.zip(statuses_of).zip(superseded) {
        let number = p.req("orderNumber")?.id_str()?;
        if number != order_number {
            return Err(ChannelError::OrderMismatch {
                channel: p.channel,
                path: p.sub("orderNumber"),
                expected: order_number.to_string(),
                found: number.to_string(),
            });
        }
        if let Some(c) = p.get("currencyCode") {
            super::same_currency(&c, currency, c.currency()?)?;
        }
        let package_id = p.req_any(&["shipmentPackageId", "id"])?.id_str()?;
        let raw = raw.as_str();
        raw_status.push(format!("{package_id}:{raw}"));
        let lifecycle = map_status(raw);
        let modified = p
            .get("lastModifiedDate")
            .map(|t| t.time_epoch_ms())
            .transpose()?;
        paid_seen |= was_paid(&p, &lifecycle)?;
        // Every package is a part, a superseded one too: its status is news of it. Its
        // lines are set once read below.
        parts.push(ChannelPart {
            id: package_id.to_string(),
            updated_at: modified,
            lifecycle: lifecycle.clone(),
            superseded: gone,
            replaces,
            lines: None,
        });
        if gone && !keep_all {
            continue;
        }
        exception |= super::status_is(raw, "undelivered", IGNORED);
        statuses.push(lifecycle.clone());
        if let Some(t) = modified {
            updated_at = Some(updated_at.map_or(t, |u: chrono::DateTime<chrono::Utc>| u.max(t)));
        }
        // The packages' totals add up; a package without one leaves the order's unknown.
        let add = |acc: &mut Option<Decimal>,
                   v: Option<Decimal>,
                   at: &At<'_>|
         -> Result<(), ChannelError> {
            *acc = match (*acc, v) {
                (Some(a), Some(b)) => Some(super::add(at, a, b)?),
                _ => None,
            };
            Ok(())
        };
        let package_total = p.first(&["packageTotalPrice", "totalPrice"]);
        let total = package_total.map(|v| v.money(currency)).transpose()?;
        add(&mut reported.total, total, &package_total.unwrap_or(p))?;
        let seller = p
            .first(&["packageSellerDiscount", "totalDiscount"])
            .map(|v| v.money(currency))
            .transpose()?;
        let ty_at = p.first(&["packageTyDiscount", "totalTyDiscount"]);
        let ty = ty_at.map(|v| v.money(currency)).transpose()?;
        let ty_at = ty_at.unwrap_or(p);
        let package_discount = seller
            .map(|s| super::add(&ty_at, s, ty.unwrap_or_default()))
            .transpose()?;
        add(&mut reported.discount, package_discount, &ty_at)?;

        let items = p.req("lines")?;
        let mut read = Vec::new();
        for l in items.array()? {
            let quantity = l.req("quantity")?.quantity()?;
            let discounts = line_discounts(&l, quantity, currency)?;
            read.push((l, quantity, discounts));
        }
        let (basis, per_unit) = decide_basis(
            &read,
            total,
            // Both figures given: their sum, checked above.
            package_discount.filter(|_| ty.is_some()),
        );
        bases.push(basis);
        let mut part_lines: Vec<PartLine> = Vec::with_capacity(read.len());
        for (l, quantity, discounts) in read {
            let (seller, ty) = match (&discounts.per_unit, per_unit) {
                (Some(pu), true) => *pu,
                _ => discounts.sum,
            };
            let line_id = l.req_any(&["lineId", "id"])?.id_text()?;
            let gross = l.req_any(&["lineGrossAmount", "amount"])?.price(currency)?;
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
                        x.quantity = units_add(&l, x.quantity, quantity)?;
                    }
                    i
                }
                None => {
                    let mut line = ChannelLine::new(line_id, quantity, gross);
                    line.ids.sku = l.opt_text_first(&["stockCode", "merchantSku"])?;
                    line.ids.barcode = l.opt_text("barcode")?;
                    line.ids.variant_id = l.opt_text_first(&["contentId", "productCode"])?;
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
                (SELLER_LABEL, seller, FundedBy::Seller),
                (TRENDYOL_LABEL, ty, FundedBy::Marketplace),
            ] {
                if amount.is_zero() {
                    continue;
                }
                if funded_by == FundedBy::Marketplace {
                    marketplace_funded = super::add(&l, marketplace_funded, amount)?;
                }
                match line.discounts.iter_mut().find(|d| d.label == label) {
                    Some(d) => d.amount = super::add(&l, d.amount, amount)?,
                    None => line.discounts.push(LineDiscount {
                        label: label.into(),
                        amount,
                        funded_by,
                    }),
                }
            }
            super::check_net(&l, line)?;
            let stages = stage_units(&line_life, quantity);
            add_stages(
                &l,
                [
                    &mut line.shipped,
                    &mut line.delivered,
                    &mut line.returned,
                    &mut line.cancelled,
                ],
                stages,
            )?;
            // The package's own share of the line (a line listed twice in one package
            // adds up there too).
            let at = match part_lines
                .iter()
                .position(|x| x.line == line.external_line_id)
            {
                Some(i) => i,
                None => {
                    part_lines.push(PartLine {
                        line: line.external_line_id.clone(),
                        ..PartLine::default()
                    });
                    part_lines.len() - 1
                }
            };
            if let Some(share) = part_lines.get_mut(at) {
                share.quantity = units_add(&l, share.quantity, quantity)?;
                add_stages(
                    &l,
                    [
                        &mut share.shipped,
                        &mut share.delivered,
                        &mut share.returned,
                        &mut share.cancelled,
                    ],
                    stages,
                )?;
            }
        }
        if let Some(part) = parts.last_mut() {
            part.lines = Some(part_lines);
        }
    }
    let order_date = first.req("orderDate")?;
    let local = order_date.time_epoch_ms()?;
    // The UTC instant is 3 h before the wall-clock time sent; a time within 3 h of the
    // earliest one chrono holds has none.
    let placed_at = local
        .checked_sub_signed(chrono::TimeDelta::milliseconds(ORDER_DATE_OFFSET_MS))
        .ok_or_else(|| order_date.bad_time(&local.timestamp_millis().to_string()))?;
    let lifecycle = aggregate(&statuses);
    // Cancelled before payment (`Awaiting` → `Cancelled`) is not paid; see the module
    // docs.
    let paid = match lifecycle {
        Lifecycle::Placed | Lifecycle::Unknown(_) => false,
        Lifecycle::Cancelled => paid_seen,
        _ => true,
    };
    Ok(ChannelOrder {
        channel: Channel::Trendyol,
        external_id: order_number.to_string(),
        display_number: None,
        placed_at,
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
        discount_basis: Some(DiscountBasis::combine(&bases)),
        fulfilled_by_marketplace: false,
        parts,
        raw: None,
    })
}
