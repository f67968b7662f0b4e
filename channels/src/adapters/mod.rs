//! One pure translation per channel: payload bytes in, [`ChannelOrder`] out.
//!
//! Each adapter's status table is a `const` array of `(raw, mapped)` rows beside its
//! parser, so the mapping can be read (and tested) as data.

pub mod amazon;
pub mod claims;
pub mod ebay;
pub mod hepsiburada;
pub mod shopify;
pub mod trendyol;
pub mod woo;

use std::sync::Arc;

use ordersmith::money::Currency;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::ChannelError;
use crate::json::{At, Json};
use crate::model::FundedBy;
use crate::model::{Channel, ChannelOrder, Lifecycle, LineDiscount, RawPayload};

/// Largest payload read, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 4 * 1024 * 1024;

/// Most lines one imported order may have.
pub const MAX_LINES: usize = 1000;

/// Parses one order payload of `channel`. See each adapter module for the shapes it
/// accepts. The raw bytes are kept on the result for support.
///
/// ```
/// use ordersmith_channels::{parse_order, Channel, Lifecycle};
///
/// let body = br##"{"id": 5160000000000012345, "name": "#1001", "created_at": "2026-11-20T09:30:00-04:00",
///   "currency": "USD", "taxes_included": false, "test": false, "total_price": "21.60",
///   "financial_status": "paid", "fulfillment_status": null,
///   "line_items": [{"id": 1, "variant_id": 11, "sku": "MUG", "quantity": 2, "price": "10.00",
///                   "discount_allocations": [], "tax_lines": [{"price": "1.60", "rate": 0.08, "title": "Tax"}]}]}"##;
/// let order = parse_order(Channel::Shopify, body)?;
/// assert_eq!(order.external_id, "5160000000000012345");
/// assert_eq!(order.status.lifecycle, Lifecycle::Confirmed);
/// assert!(order.mismatches.is_empty());
/// # Ok::<(), ordersmith_channels::ChannelError>(())
/// ```
pub fn parse_order(channel: Channel, body: &[u8]) -> Result<ChannelOrder, ChannelError> {
    let name = channel.as_str();
    if body.len() > MAX_PAYLOAD_BYTES {
        return Err(ChannelError::PayloadTooLarge {
            channel: name,
            bytes: body.len(),
            max: MAX_PAYLOAD_BYTES,
        });
    }
    let json = Json::parse(body).map_err(|e| ChannelError::MalformedJson {
        channel: name,
        offset: e.offset,
        reason: e.reason,
    })?;
    let root = At::root(&json, name);
    let mut order = match channel {
        Channel::Shopify => shopify::parse(&root)?,
        Channel::WooCommerce => woo::parse(&root)?,
        Channel::Trendyol => trendyol::parse(&root)?,
        Channel::Hepsiburada => hepsiburada::parse(&root)?,
        Channel::AmazonV0 => amazon::parse_v0(&root)?,
        Channel::Amazon2026 => amazon::parse_2026(&root)?,
        Channel::Ebay => ebay::parse(&root)?,
    };
    derive_tax_rates(&mut order);
    order.check_totals()?;
    order.raw = Some(RawPayload(Arc::from(body)));
    Ok(order)
}

/// Decimal places of a tax rate derived from amounts: enough that the core, taxing
/// the line at that rate, rounds back to the channel's own tax amount.
pub const DERIVED_RATE_DP: u32 = 6;

/// A rate from a tax amount on a base (net of tax when exclusive, gross when
/// inclusive), for lines and charges whose channel gives amounts but no rate
/// (WooCommerce, Amazon, eBay).
pub(crate) fn derived_rate(tax: Decimal, base: Decimal, inclusive: bool) -> Option<Decimal> {
    let net = if inclusive {
        base.checked_sub(tax)?
    } else {
        base
    };
    if tax.is_zero() || net <= Decimal::ZERO {
        return None;
    }
    tax.checked_div(net)
        .map(|r| r.round_dp(DERIVED_RATE_DP).normalize())
}

fn derive_tax_rates(order: &mut ChannelOrder) {
    let inclusive = order.taxes_included;
    for l in &mut order.lines {
        if let (None, Some(tax), Some(net)) = (l.tax_rate, l.tax_amount, l.net()) {
            l.tax_rate = derived_rate(tax, net, inclusive);
        }
    }
    for s in &mut order.shipping {
        if let (None, Some(tax)) = (s.tax_rate, s.tax_amount) {
            s.tax_rate = derived_rate(tax, s.price, inclusive);
        }
    }
}

/// Checks the line count of an order being built.
pub(crate) fn check_lines(at: &At<'_>, count: usize) -> Result<(), ChannelError> {
    if count == 0 {
        return Err(ChannelError::NoLines {
            channel: at.channel,
            path: at.path(),
        });
    }
    if count > MAX_LINES {
        return Err(ChannelError::TooManyLines {
            channel: at.channel,
            path: at.path(),
            count,
            max: MAX_LINES,
        });
    }
    Ok(())
}

/// The unit price of a line a channel gives only as a total (Amazon `ItemPrice`, eBay
/// `lineItemCost`, WooCommerce `subtotal`): `total / quantity`, rounded *up* to the
/// currency's minor unit, and the rounding (`unit × quantity − total`, never negative)
/// as a discount, so the line still adds up to the channel's total to the minor unit.
/// A total so near the largest decimal that the rounded-up units no longer fit one is
/// refused as `CHANNEL_INVALID_AMOUNT` on `line`.
pub(crate) fn unit_from_total(
    line: &At<'_>,
    total: Decimal,
    quantity: u32,
    currency: Currency,
) -> Result<(Decimal, Option<LineDiscount>), ChannelError> {
    if quantity == 0 {
        return Ok((total, None));
    }
    let q = Decimal::from(quantity);
    let split = || -> Option<(Decimal, Decimal)> {
        let unit = total
            .checked_div(q)?
            .round_dp_with_strategy(currency.minor_units(), RoundingStrategy::AwayFromZero)
            .normalize();
        Some((unit, unit.checked_mul(q)?.checked_sub(total)?))
    };
    let (unit, rounding) = split().ok_or_else(|| {
        too_large(
            line,
            format!("line total {total} over {quantity} units rounded up"),
        )
    })?;
    let discount = (!rounding.is_zero()).then(|| LineDiscount {
        label: crate::model::ROUNDING_LABEL.to_string(),
        amount: rounding.normalize(),
        funded_by: FundedBy::Seller,
    });
    Ok((unit, discount))
}

/// The error for figures that are each a decimal but whose product, sum or difference
/// (`what`) is not: `CHANNEL_INVALID_AMOUNT` naming `at`, where `*`, `+` and `-` on a
/// [`Decimal`] would panic.
pub(crate) fn too_large(at: &At<'_>, what: String) -> ChannelError {
    ChannelError::InvalidAmount {
        channel: at.channel,
        path: at.path(),
        text: format!("{what} does not fit a decimal"),
    }
}

/// `a + b`, or [`too_large`] naming `at`.
pub(crate) fn add(at: &At<'_>, a: Decimal, b: Decimal) -> Result<Decimal, ChannelError> {
    a.checked_add(b)
        .ok_or_else(|| too_large(at, format!("{a} + {b}")))
}

/// `a - b`, or [`too_large`] naming `at`.
pub(crate) fn sub(at: &At<'_>, a: Decimal, b: Decimal) -> Result<Decimal, ChannelError> {
    a.checked_sub(b)
        .ok_or_else(|| too_large(at, format!("{a} - {b}")))
}

/// A line's net ([`crate::ChannelLine::net`]) checked once the adapter has built it:
/// unit price × quantity − discounts must fit a decimal, or the payload is refused as
/// `CHANNEL_INVALID_AMOUNT` naming the line (`line`).
pub(crate) fn check_net(line: &At<'_>, l: &crate::model::ChannelLine) -> Result<(), ChannelError> {
    match l.net() {
        Some(_) => Ok(()),
        None => Err(too_large(
            line,
            format!(
                "unit price {} x quantity {} - discounts",
                l.unit_price, l.quantity
            ),
        )),
    }
}

/// A rate given in percent (`20` → `0.20`).
pub(crate) fn percent(p: Decimal) -> Decimal {
    (p / Decimal::ONE_HUNDRED).normalize()
}

/// Checks that an amount's currency is the order's.
pub(crate) fn same_currency(
    at: &At<'_>,
    expected: Currency,
    found: Currency,
) -> Result<(), ChannelError> {
    if expected == found {
        Ok(())
    } else {
        Err(ChannelError::CurrencyMismatch {
            channel: at.channel,
            path: at.path(),
            expected: expected.code().to_string(),
            found: found.code().to_string(),
        })
    }
}

/// A `{amount|value|Amount, currency|currencyCode|CurrencyCode}` object in `currency`
/// (another currency is an error naming the path).
pub(crate) fn money_obj(
    at: &At<'_>,
    amount_keys: &[&str],
    currency_keys: &[&str],
    currency: Currency,
) -> Result<Decimal, ChannelError> {
    if let Some(c) = at.first(currency_keys) {
        same_currency(&c, currency, c.currency()?)?;
    }
    at.req_any(amount_keys)?.money(currency)
}

/// Like [`money_obj`], for a price: never negative.
pub(crate) fn price_obj(
    at: &At<'_>,
    amount_keys: &[&str],
    currency_keys: &[&str],
    currency: Currency,
) -> Result<Decimal, ChannelError> {
    if let Some(c) = at.first(currency_keys) {
        same_currency(&c, currency, c.currency()?)?;
    }
    at.req_any(amount_keys)?.price(currency)
}

/// Whether a channel's free-text status reads as `key` once the characters in `ignored`
/// are dropped and the rest lower-cased (Unicode's lower case, as `str::to_lowercase`),
/// compared as it goes: a status is read on every import, so it is not copied.
pub(crate) fn status_is(raw: &str, key: &str, ignored: &[char]) -> bool {
    if raw.is_ascii() {
        // Statuses are ASCII in practice: byte by byte, where an ASCII letter's lower
        // case is its ASCII lower case (and a key with other characters cannot match).
        let mut want = key.bytes();
        for b in raw.bytes() {
            if ignored.contains(&char::from(b)) {
                continue;
            }
            if want.next() != Some(b.to_ascii_lowercase()) {
                return false;
            }
        }
        return want.next().is_none();
    }
    raw.chars()
        .filter(|c| !ignored.contains(c))
        .flat_map(char::to_lowercase)
        .eq(key.chars())
}

/// The lifecycle a status table gives a free-text status ([`status_is`]'s reading), or
/// `Unknown` with the status as sent.
pub(crate) fn table_status(table: &[(&str, Lifecycle)], raw: &str, ignored: &[char]) -> Lifecycle {
    table
        .iter()
        .find(|(k, _)| status_is(raw, k, ignored))
        .map_or_else(|| Lifecycle::Unknown(raw.to_string()), |(_, l)| l.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_from_total_rounds_up_and_discounts_the_rest() {
        let usd = Currency::parse("USD").unwrap();
        let json = Json::parse(b"{}").unwrap();
        let line = At::root(&json, "test");
        let (unit, d) = unit_from_total(&line, Decimal::new(1000, 2), 3, usd).unwrap();
        assert_eq!(unit, Decimal::new(334, 2));
        assert_eq!(d.unwrap().amount, Decimal::new(2, 2));
        let (unit, d) = unit_from_total(&line, Decimal::new(1998, 2), 2, usd).unwrap();
        assert_eq!((unit, d), (Decimal::new(999, 2), None));
        let jpy = Currency::parse("JPY").unwrap();
        let (unit, d) = unit_from_total(&line, Decimal::from(19940), 3, jpy).unwrap();
        assert_eq!(unit, Decimal::from(6647));
        assert_eq!(d.unwrap().amount, Decimal::from(1));
    }

    // The status lookups compare as they go; they must read a status exactly as the
    // copy-then-compare they replaced did, Unicode case included (the Kelvin sign
    // lower-cases to an ASCII `k`, a dotted capital I to two characters).
    fn normalised(raw: &str, ignored: &[char]) -> String {
        raw.chars()
            .filter(|c| !ignored.contains(c))
            .flat_map(char::to_lowercase)
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn statuses_read_as_their_normalised_copies(
            raw in "([a-zA-Z_ -]|\u{212A}|\u{130}|[çğışöüÇĞİŞÖÜ]){0,24}",
            key in proptest::sample::select(vec![
                "paid", "cancelledbymerchant", "undelivered", "unpacked", "k", "i\u{307}", "",
            ]),
        ) {
            for ignored in [&['_', ' '][..], &['_', ' ', '-'][..]] {
                proptest::prop_assert_eq!(
                    status_is(&raw, key, ignored),
                    normalised(&raw, ignored) == key
                );
            }
        }
    }

    #[test]
    fn statuses_ignore_case_and_separators() {
        let table = [
            ("cancelledbymerchant", Lifecycle::Cancelled),
            ("paid", Lifecycle::Confirmed),
        ];
        let ignored = &['_', ' ', '-'];
        assert_eq!(
            table_status(&table, "Cancelled_By-Merchant", ignored),
            Lifecycle::Cancelled
        );
        assert_eq!(table_status(&table, "PAID", ignored), Lifecycle::Confirmed);
        assert_eq!(
            table_status(&table, "Paid Twice", ignored),
            Lifecycle::Unknown("Paid Twice".into())
        );
        assert!(status_is("\u{212A}", "k", ignored));
    }
}
