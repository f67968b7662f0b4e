//! The canonical shape every adapter produces: a [`ChannelOrder`], independent of the
//! channel it came from.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use ordersmith::ids::{ChannelId, IdError};
use ordersmith::money::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::ChannelError;

/// The label of the discount that absorbs the rounding of a unit price derived from
/// a line total (see [`crate::adapters`]).
pub const ROUNDING_LABEL: &str = "unit price rounding";

/// A sales channel ordersmith has an adapter for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Shopify (REST-shaped order, as webhooks deliver it).
    Shopify,
    /// WooCommerce REST v3 order.
    WooCommerce,
    /// Trendyol shipment package(s) of one order.
    Trendyol,
    /// Hepsiburada line items of one order (merged across status feeds).
    Hepsiburada,
    /// Amazon SP-API Orders v0 (order plus `OrderItems`).
    AmazonV0,
    /// Amazon SP-API Orders 2026-01-01 (items inline).
    Amazon2026,
    /// eBay Sell Fulfillment order.
    Ebay,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 7] = [
        Channel::Shopify,
        Channel::WooCommerce,
        Channel::Trendyol,
        Channel::Hepsiburada,
        Channel::AmazonV0,
        Channel::Amazon2026,
        Channel::Ebay,
    ];

    /// The snake_case name (also the default `ChannelId` of imported orders; both
    /// Amazon shapes import as `amazon`, so an order fetched through either API is one
    /// order).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Shopify => "shopify",
            Channel::WooCommerce => "woo_commerce",
            Channel::Trendyol => "trendyol",
            Channel::Hepsiburada => "hepsiburada",
            Channel::AmazonV0 => "amazon_v0",
            Channel::Amazon2026 => "amazon_2026",
            Channel::Ebay => "ebay",
        }
    }

    /// The channel id orders from this channel get (`amazon` for both Amazon shapes).
    pub fn channel_id(self) -> &'static str {
        match self {
            Channel::AmazonV0 | Channel::Amazon2026 => "amazon",
            c => c.as_str(),
        }
    }

    /// [`Channel::channel_id`] as a [`ChannelId`] made once per process and shared:
    /// every order imported from the channel holds the same text (a clone is a count
    /// bump), where parsing it for each order allocated it twice and kept one copy per
    /// order.
    pub(crate) fn shared_channel_id(self) -> Result<ChannelId, IdError> {
        static IDS: OnceLock<Vec<(Channel, ChannelId)>> = OnceLock::new();
        let ids = IDS.get_or_init(|| {
            Channel::ALL
                .iter()
                .filter_map(|c| Some((*c, ChannelId::try_from(c.channel_id()).ok()?)))
                .collect()
        });
        match ids.iter().find(|(c, _)| *c == self) {
            Some((_, id)) => Ok(id.clone()),
            None => ChannelId::try_from(self.channel_id()),
        }
    }

    /// Whether one delivery carries the whole order, so that a line missing from it, or
    /// fewer units, means the channel removed them. Trendyol delivers one shipment
    /// package at a time (an order split across packages arrives in parts) and
    /// Hepsiburada one status feed at a time: for them only added lines count.
    pub fn delivers_whole_order(self) -> bool {
        !matches!(self, Channel::Trendyol | Channel::Hepsiburada)
    }

    /// Whether the channel's return feed names a line by the listing it was sold from
    /// rather than by the order line's id: eBay's Post-Order returns give
    /// `creationInfo.item.itemId`, the order line's `legacyItemId` (its
    /// [`ExternalIds::variant_id`]), not its `lineItemId`.
    pub fn returns_name_listings(self) -> bool {
        matches!(self, Channel::Ebay)
    }

    /// The channel named `name` (as [`Channel::as_str`]).
    pub fn parse(name: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a channel says the order is in the canonical lifecycle
/// (`placed → confirmed → processing → partially_shipped → shipped → delivered`,
/// terminals `cancelled`, `returned`). A status the table does not know is
/// `Unknown(raw)`: it never fails an import; the order is imported and left as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "stage", content = "raw", rename_all = "snake_case")]
pub enum Lifecycle {
    /// Placed, awaiting payment or confirmation.
    Placed,
    /// Paid or accepted.
    Confirmed,
    /// Being prepared (picking, invoiced, packed).
    Processing,
    /// Some units shipped.
    PartiallyShipped,
    /// Everything shipped.
    Shipped,
    /// Delivered.
    Delivered,
    /// Cancelled.
    Cancelled,
    /// Came back to the seller.
    Returned,
    /// A status the adapter's table does not list, as the channel sent it.
    Unknown(String),
}

impl Lifecycle {
    /// Position in the lifecycle, for "is this update older than what is stored"
    /// (`None` for `Unknown`, which is never compared).
    pub fn rank(&self) -> Option<u8> {
        Some(match self {
            Lifecycle::Placed => 0,
            Lifecycle::Confirmed => 1,
            Lifecycle::Processing => 2,
            Lifecycle::PartiallyShipped => 3,
            Lifecycle::Shipped => 4,
            Lifecycle::Delivered => 5,
            Lifecycle::Returned => 6,
            Lifecycle::Cancelled => 7,
            Lifecycle::Unknown(_) => return None,
        })
    }

    /// The snake_case name (`unknown` for unknown statuses).
    pub fn as_str(&self) -> &str {
        match self {
            Lifecycle::Placed => "placed",
            Lifecycle::Confirmed => "confirmed",
            Lifecycle::Processing => "processing",
            Lifecycle::PartiallyShipped => "partially_shipped",
            Lifecycle::Shipped => "shipped",
            Lifecycle::Delivered => "delivered",
            Lifecycle::Cancelled => "cancelled",
            Lifecycle::Returned => "returned",
            Lifecycle::Unknown(_) => "unknown",
        }
    }
}

/// How much of the order the channel says was refunded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundState {
    /// Nothing refunded.
    #[default]
    None,
    /// Part refunded.
    Partial,
    /// All refunded.
    Full,
}

/// The channel's status, mapped, with what it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelStatus {
    /// The canonical stage.
    pub lifecycle: Lifecycle,
    /// Whether the channel says the order is paid (marketplaces: once payment was
    /// taken, e.g. a Trendyol package past `Awaiting`; an order cancelled with nothing
    /// in the payload saying it was paid first is not paid).
    pub paid: bool,
    /// Refund flag, separate from the lifecycle.
    pub refund: RefundState,
    /// Delivery failed or was refused (Trendyol `UnDelivered`, Hepsiburada undelivered).
    pub delivery_exception: bool,
    /// The raw status field(s) as the channel sent them, for support.
    pub raw: String,
}

/// Who pays for a discount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FundedBy {
    /// The seller gives it up.
    Seller,
    /// The marketplace pays it (Trendyol `tyDiscount`, Hepsiburada `hbDiscount`): the
    /// customer pays less, the seller is still paid the amount.
    Marketplace,
}

/// How an adapter read line discounts whose documentation allows two readings
/// (Trendyol: see [`crate::adapters::trendyol`]): the reading the payload's own totals
/// confirm, or why none could be chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscountBasis {
    /// Both readings give the same amounts (single units, or one `discountDetails[]`
    /// entry per unit, or no discount).
    Unambiguous,
    /// The amounts are the line's totals over its units; the totals confirm it.
    LineSum,
    /// The amounts are per unit (multiplied by the units they stand for); the totals
    /// confirm it.
    PerUnit,
    /// The readings differ and the payload states no total to choose by: the line-total
    /// reading (the guide's "sum of items") was kept.
    Undetermined,
    /// Neither reading makes the payload's totals add up: the line-total reading was
    /// kept and [`ChannelOrder::mismatches`] says which figure differs and by how much.
    Unreconciled,
}

impl DiscountBasis {
    /// One order's basis from its packages': the first of `unreconciled`,
    /// `undetermined`, `per_unit`, `line_sum` that any package has, else
    /// `unambiguous`.
    pub fn combine(parts: &[DiscountBasis]) -> DiscountBasis {
        use DiscountBasis as B;
        [B::Unreconciled, B::Undetermined, B::PerUnit, B::LineSum]
            .into_iter()
            .find(|b| parts.contains(b))
            .unwrap_or(B::Unambiguous)
    }
}

/// A discount on one line, for its whole quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineDiscount {
    /// Code or label.
    pub label: String,
    /// Amount off the line.
    pub amount: Decimal,
    /// Who pays it.
    pub funded_by: FundedBy,
}

/// The identifiers a channel gives a line, for [`crate::mapping`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExternalIds {
    /// Seller SKU (Shopify `sku`, Trendyol `stockCode`, Amazon `SellerSKU`, ...).
    pub sku: Option<String>,
    /// Barcode / GTIN (Trendyol `barcode`).
    pub barcode: Option<String>,
    /// The channel's variant or listing id (Shopify `variant_id`, Woo `variation_id`,
    /// Hepsiburada `sku`, Amazon `ASIN`, eBay `legacyItemId`).
    pub variant_id: Option<String>,
}

/// One line as the channel sent it, translated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelLine {
    /// The channel's line id (dedupe key of the line within the order).
    pub external_line_id: String,
    /// Identifiers to resolve the variant.
    pub ids: ExternalIds,
    /// Title.
    pub title: Option<String>,
    /// Units ordered.
    pub quantity: u32,
    /// Price of one unit before discounts, in the order's tax mode.
    pub unit_price: Decimal,
    /// Discounts on the line.
    pub discounts: Vec<LineDiscount>,
    /// Tax rate as a fraction (`0.20`), when the channel gives one.
    pub tax_rate: Option<Decimal>,
    /// The channel's tax amount for the line, when it gives one.
    pub tax_amount: Option<Decimal>,
    /// Units shipped (as the channel reports).
    pub shipped: u32,
    /// Units delivered.
    pub delivered: u32,
    /// Units cancelled.
    pub cancelled: u32,
    /// Units returned.
    pub returned: u32,
    /// The line's own status, as sent, when the channel has one.
    pub status_raw: Option<String>,
    /// The channel has not priced the line yet: Amazon's `getOrderItems` gives no
    /// `ItemPrice` (nor tax, promotion or shipping) while an order is `Pending`.
    /// `unit_price` is then zero as a placeholder, not a price: intake never places an
    /// order with such a line ([`crate::intake::ImportOutcome::Unpriced`]) and never
    /// adds one to an order, and [`ChannelOrder::mismatches`] compares no figure of an
    /// order that has one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unpriced: bool,
}

impl ChannelLine {
    /// A line with no discount, tax or fulfilment yet.
    pub fn new(external_line_id: String, quantity: u32, unit_price: Decimal) -> Self {
        ChannelLine {
            external_line_id,
            ids: ExternalIds::default(),
            title: None,
            quantity,
            unit_price,
            discounts: Vec::new(),
            tax_rate: None,
            tax_amount: None,
            shipped: 0,
            delivered: 0,
            cancelled: 0,
            returned: 0,
            status_raw: None,
            unpriced: false,
        }
    }

    /// Unit price × quantity − discounts; `None` when a step does not fit a
    /// [`Decimal`] (never for a line of an order [`crate::parse_order`] returned: it
    /// refuses such a payload with `CHANNEL_INVALID_AMOUNT`).
    pub fn net(&self) -> Option<Decimal> {
        let gross = self.unit_price.checked_mul(Decimal::from(self.quantity))?;
        gross.checked_sub(checked_sum(self.discounts.iter().map(|d| d.amount))?)
    }
}

/// A shipping charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelShipping {
    /// Method.
    pub title: String,
    /// Price, in the order's tax mode, after shipping discounts.
    pub price: Decimal,
    /// Tax rate, when given.
    pub tax_rate: Option<Decimal>,
    /// The channel's tax amount on shipping, when given.
    pub tax_amount: Option<Decimal>,
}

/// A figure of the payload's own totals and what the canonical order computes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotalMismatch {
    /// Which figure (`total`, `discount`, `shipping`, `tax`, `subtotal`).
    pub figure: String,
    /// The payload's value.
    pub channel_amount: Decimal,
    /// What the canonical order's lines add up to.
    pub computed_amount: Decimal,
    /// `computed − channel`.
    pub difference: Decimal,
}

/// The payload's own totals, as the channel states them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReportedTotals {
    /// What the customer pays.
    pub total: Option<Decimal>,
    /// Discounts (positive).
    pub discount: Option<Decimal>,
    /// Shipping.
    pub shipping: Option<Decimal>,
    /// Tax.
    pub tax: Option<Decimal>,
}

/// Something the channel reports that is not a status of the order itself: a refund,
/// a claim, a return, a cancellation request. The returns capability has not landed in
/// the core, so these are data for the host (and the money part of refunds is recorded
/// on the order where exact, see [`crate::intake`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelEvent {
    /// `refund`, `claim`, `return`, `cancel_request`.
    pub kind: String,
    /// The channel order it concerns, when the event arrived on its own (a claim or
    /// return feed); `None` for events read from the order's own payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_external_id: Option<String>,
    /// The channel's id of the refund / claim / return.
    pub external_id: String,
    /// The channel's status of it (e.g. `WaitingInAction`, `RETURN_STARTED`).
    pub status: Option<String>,
    /// Money involved, when given.
    pub amount: Option<Decimal>,
    /// The channel's line ids and units concerned.
    pub lines: Vec<(String, u32)>,
    /// Why, as the channel says.
    pub reason: Option<String>,
    /// Whether the goods come back to stock (Shopify `restock_type = return`).
    pub restock: bool,
}

/// The raw payload, kept for support: the bytes as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPayload(pub Arc<[u8]>);

impl RawPayload {
    /// The payload as text (lossy for non-UTF-8 bytes).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

impl Serialize for RawPayload {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

/// One part of an order that a channel delivers on its own (a Trendyol shipment
/// package, a Hepsiburada line item), for channels whose delivery is a part of the
/// order ([`Channel::delivers_whole_order`] is `false`): intake judges staleness per
/// part, since parts of one order change independently, and counts a line split
/// across parts by the sum over every part of it seen ([`ChannelPart::lines`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelPart {
    /// The channel's id of the part (Trendyol `shipmentPackageId`, Hepsiburada line
    /// `id`).
    pub id: String,
    /// When the channel last changed the part (Trendyol `lastModifiedDate`), in UTC.
    pub updated_at: Option<DateTime<Utc>>,
    /// The part's own status.
    pub lifecycle: Lifecycle,
    /// The part was replaced by the parts made from it (a Trendyol package in
    /// `UnPacked` status, or named in the `originPackageIds` of another package of the
    /// same delivery): its units are counted in theirs.
    pub superseded: bool,
    /// The ids of the parts this one was made from (Trendyol `originPackageIds`):
    /// they are superseded, whatever status of theirs was seen last.
    pub replaces: Vec<String>,
    /// The units of each line the part carries and how many reached each stage, for
    /// adapters whose parts can share a line (Trendyol: one line split across
    /// packages); `None` when the adapter does not say (Hepsiburada, whose parts are
    /// the lines themselves) or did not read them (a superseded package left out).
    pub lines: Option<Vec<PartLine>>,
}

impl ChannelPart {
    /// A part that replaces none, is not superseded and says nothing of its lines.
    pub fn new(id: String, updated_at: Option<DateTime<Utc>>, lifecycle: Lifecycle) -> Self {
        ChannelPart {
            id,
            updated_at,
            lifecycle,
            superseded: false,
            replaces: Vec::new(),
            lines: None,
        }
    }
}

/// The units of one line that one part of an order carries (a Trendyol package's share
/// of a line split across packages), and how many of them reached each stage, as
/// [`ChannelLine`] counts them. Kept in the intake log per part
/// ([`crate::intake::SeenPart::lines`]): stage counts of zero are left out of it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PartLine {
    /// The channel's line id ([`ChannelLine::external_line_id`]).
    pub line: String,
    /// Units of the line in the part.
    pub quantity: u32,
    /// Of them, shipped.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shipped: u32,
    /// Delivered.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delivered: u32,
    /// Returned.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub returned: u32,
    /// Cancelled.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cancelled: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// An order as a channel delivered it, in canonical terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelOrder {
    /// The adapter that read it.
    pub channel: Channel,
    /// The channel's order id: with the channel, the dedupe key of the order
    /// (see [`crate::intake`] for each channel's choice).
    pub external_id: String,
    /// The number shown to people (Shopify `#1005`), when different.
    pub display_number: Option<String>,
    /// When placed, in UTC.
    pub placed_at: DateTime<Utc>,
    /// When the channel last changed it (orders newer than stored win), in UTC.
    pub updated_at: Option<DateTime<Utc>>,
    /// The order's currency.
    pub currency: Currency,
    /// Whether unit prices include tax.
    pub taxes_included: bool,
    /// A test order (Shopify `test`, or an Amazon/Trendyol sandbox marker).
    pub test: bool,
    /// Lines.
    pub lines: Vec<ChannelLine>,
    /// Shipping charges.
    pub shipping: Vec<ChannelShipping>,
    /// Status.
    pub status: ChannelStatus,
    /// Sum refunded, as the channel says.
    pub refunded_amount: Decimal,
    /// The payload's own totals.
    pub reported: ReportedTotals,
    /// Figures where the payload's totals and the canonical order differ. Empty means
    /// the canonical totals equal the payload's to the minor unit.
    pub mismatches: Vec<TotalMismatch>,
    /// Refunds, claims, returns.
    pub events: Vec<ChannelEvent>,
    /// Sum of marketplace-funded discounts (income for the seller, paid by the
    /// marketplace).
    pub marketplace_funded: Decimal,
    /// How ambiguous line discounts were read (Trendyol); `None` for channels whose
    /// discounts have one reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_basis: Option<DiscountBasis>,
    /// The marketplace ships it from its own stock (Amazon AFN, Hepsiburada
    /// `isFulfilledByHB`): intake skips it unless told otherwise, so it never
    /// reserves the shop's stock.
    pub fulfilled_by_marketplace: bool,
    /// The parts this delivery carries, for channels that deliver an order in parts
    /// (see [`ChannelPart`]); empty for channels whose delivery is the whole order.
    /// Not serialised: it repeats what `lines` and `status.raw` already say.
    #[serde(skip)]
    pub parts: Vec<ChannelPart>,
    /// The payload, as received.
    #[serde(skip)]
    pub raw: Option<RawPayload>,
}

impl ChannelOrder {
    /// Canonical figures: (line nets, tax, shipping, total) as the core will compute
    /// them, given the line tax amounts the channel reported; `None` when they add up
    /// beyond what a [`Decimal`] holds (never for an order [`crate::parse_order`]
    /// returned: it refuses such a payload with `CHANNEL_INVALID_AMOUNT`).
    pub fn computed_total(&self) -> Option<Decimal> {
        let lines = self
            .lines
            .iter()
            .try_fold(Decimal::ZERO, |sum, l| sum.checked_add(l.net()?))?;
        let shipping = checked_sum(self.shipping.iter().map(|s| s.price))?;
        let goods = lines.checked_add(shipping)?;
        if self.taxes_included {
            Some(goods)
        } else {
            goods.checked_add(self.itemised_tax().ok()?.unwrap_or_default())
        }
    }

    /// The tax of lines and shipping as the channel itemises it (`None` when some line
    /// or shipping charge has no tax amount, or when the amounts add up beyond what a
    /// [`Decimal`] holds, which [`crate::parse_order`] refuses).
    pub fn reported_line_tax(&self) -> Option<Decimal> {
        self.itemised_tax().ok().flatten()
    }

    /// The itemised tax: `Ok(None)` when some line or shipping charge has no tax
    /// amount, `Err` when the sum does not fit a [`Decimal`].
    fn itemised_tax(&self) -> Result<Option<Decimal>, DoesNotFit> {
        let lines = self.lines.iter().map(|l| l.tax_amount);
        let ship = self.shipping.iter().map(|s| s.tax_amount);
        let mut sum = Decimal::ZERO;
        for amount in lines.chain(ship) {
            let Some(amount) = amount else {
                return Ok(None);
            };
            sum = sum.checked_add(amount).ok_or(DoesNotFit)?;
        }
        Ok(Some(sum))
    }

    /// Compares the payload's totals with the lines and records every difference.
    /// A payload whose figures (or their differences) add up beyond what a [`Decimal`]
    /// holds is refused with `CHANNEL_INVALID_AMOUNT` on the whole body (`$`): no
    /// single value is wrong, their sum is. The order is left as it was then.
    pub(crate) fn check_totals(&mut self) -> Result<(), ChannelError> {
        let channel = self.channel.as_str();
        let too_large = |figure: &str| ChannelError::InvalidAmount {
            channel,
            path: "$".to_string(),
            text: format!("the order's {figure} adds up beyond the largest decimal"),
        };
        for l in &self.lines {
            if l.net().is_none() {
                return Err(ChannelError::InvalidAmount {
                    channel,
                    path: "$".to_string(),
                    text: format!(
                        "line {}: unit price x quantity - discounts does not fit a decimal",
                        l.external_line_id
                    ),
                });
            }
        }
        // A line the channel has not priced yet (its unit price a placeholder zero): the
        // payload's figures cannot be compared with the lines'.
        if self.lines.iter().any(|l| l.unpriced) {
            self.mismatches = Vec::new();
            return Ok(());
        }
        let mut out = Vec::new();
        let mut cmp = |figure: &str, reported: Option<Decimal>, computed: Decimal| {
            if let Some(r) = reported {
                if r != computed {
                    out.push(TotalMismatch {
                        figure: figure.to_string(),
                        channel_amount: r,
                        computed_amount: computed,
                        difference: computed.checked_sub(r).ok_or_else(|| {
                            ChannelError::InvalidAmount {
                                channel,
                                path: "$".to_string(),
                                text: format!(
                                    "the payload's {figure} {r} and the lines' {computed} \
                                     differ by more than the largest decimal"
                                ),
                            }
                        })?,
                    });
                }
            }
            Ok::<(), ChannelError>(())
        };
        // The rounding of a unit price derived from a line total is not a discount the
        // channel gave: it is left out of the discount figure (it is in the total).
        let discount = checked_sum(
            self.lines
                .iter()
                .flat_map(|l| &l.discounts)
                .filter(|d| d.label != ROUNDING_LABEL)
                .map(|d| d.amount),
        )
        .ok_or_else(|| too_large("discount"))?;
        let shipping = checked_sum(self.shipping.iter().map(|s| s.price))
            .ok_or_else(|| too_large("shipping"))?;
        let total = self.computed_total().ok_or_else(|| too_large("total"))?;
        let tax = self.itemised_tax().map_err(|_| too_large("tax"))?;
        cmp("total", self.reported.total, total)?;
        cmp("discount", self.reported.discount, discount)?;
        cmp("shipping", self.reported.shipping, shipping)?;
        if let Some(tax) = tax {
            cmp("tax", self.reported.tax, tax)?;
        }
        self.mismatches = out;
        Ok(())
    }
}

/// A sum that does not fit a [`Decimal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DoesNotFit;

/// The sum of `values`, `None` when it does not fit a [`Decimal`] (where
/// `Iterator::sum` would panic).
pub(crate) fn checked_sum(values: impl IntoIterator<Item = Decimal>) -> Option<Decimal> {
    values
        .into_iter()
        .try_fold(Decimal::ZERO, |sum, v| sum.checked_add(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every channel's shared id is its `channel_id`, and the orders of a channel get
    /// the same text, not copies of it.
    #[test]
    fn each_channel_has_one_shared_id() {
        for channel in Channel::ALL {
            let (a, b) = (
                channel.shared_channel_id().unwrap(),
                channel.shared_channel_id().unwrap(),
            );
            assert_eq!(a.as_str(), channel.channel_id());
            assert!(std::ptr::eq(a.as_str(), b.as_str()), "{channel:?}");
        }
    }
}
