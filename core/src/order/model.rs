//! The order aggregate's state and its derived figures.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, LineId, LocationId, OrderId, ReservationId, VariantId};
use crate::money::{allocate, Currency, Money, MoneyError, Rounding};
use crate::pii::{Address, Customer};
use crate::sparse::Sparse;

/// The order's own lifecycle. Payment and fulfilment are separate dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed, not yet confirmed (awaiting payment or review).
    Pending,
    /// Accepted by the shop; ready to fulfil.
    Confirmed,
    /// Fulfilment has started: something has shipped.
    Processing,
    /// Stopped for a reason (fraud review, address check, payment, stock); released to
    /// the status it came from.
    OnHold,
    /// Every line that was not cancelled has shipped, and the shop closed the order.
    Completed,
    /// Cancelled as a whole (explicitly, or because every line was cancelled).
    Cancelled,
}

impl OrderStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::Pending,
        OrderStatus::Confirmed,
        OrderStatus::Processing,
        OrderStatus::OnHold,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
    ];

    /// The snake_case name used in JSON and in the transition table.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Processing => "processing",
            OrderStatus::OnHold => "on_hold",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// True for statuses no command leaves (only notes, tags and refunds still apply).
    pub fn is_terminal(self) -> bool {
        matches!(self, OrderStatus::Completed | OrderStatus::Cancelled)
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Payment dimension, derived from amounts paid and refunded against the order total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Nothing paid.
    Unpaid,
    /// Some, not all, of the total paid.
    PartiallyPaid,
    /// The total (or more, after a partial cancellation) paid.
    Paid,
    /// Part of what was paid has been refunded.
    PartiallyRefunded,
    /// Everything paid has been refunded.
    Refunded,
    /// Authorised by a provider, nothing captured yet.
    Authorised,
    /// Every authorisation was voided and nothing was paid.
    Voided,
}

impl PaymentStatus {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Unpaid => "unpaid",
            PaymentStatus::PartiallyPaid => "partially_paid",
            PaymentStatus::Paid => "paid",
            PaymentStatus::PartiallyRefunded => "partially_refunded",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::Authorised => "authorised",
            PaymentStatus::Voided => "voided",
        }
    }
}

/// Fulfilment dimension of the whole order, derived from its lines' quantities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfilmentStatus {
    /// Nothing shipped.
    Unfulfilled,
    /// Some of the open quantity shipped.
    PartiallyFulfilled,
    /// All quantity that was not cancelled shipped.
    Fulfilled,
    /// Some shipped units came back.
    PartiallyReturned,
    /// Every shipped unit came back.
    Returned,
}

impl FulfilmentStatus {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            FulfilmentStatus::Unfulfilled => "unfulfilled",
            FulfilmentStatus::PartiallyFulfilled => "partially_fulfilled",
            FulfilmentStatus::Fulfilled => "fulfilled",
            FulfilmentStatus::PartiallyReturned => "partially_returned",
            FulfilmentStatus::Returned => "returned",
        }
    }
}

/// Why an order is on hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    /// Waiting for a fraud review.
    FraudReview,
    /// The shipping address needs checking.
    AddressCheck,
    /// Waiting for payment.
    Payment,
    /// Not enough stock to fulfil.
    InsufficientStock,
    /// The customer asked to wait.
    CustomerRequest,
    /// The order's stock reservations lapsed before it was paid; the stock went back
    /// on sale. Paying re-reserves if stock allows; releasing the hold tries again.
    ReservationExpired,
    /// A sales channel sent a line whose SKU / barcode / listing id maps to no variant;
    /// release the hold once the mapping is fixed.
    UnmappedSku,
    /// Anything else; say why in the note.
    Other,
}

/// Why an order or some of its lines were cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// The customer changed their mind.
    Customer,
    /// Fraudulent order.
    Fraud,
    /// Out of stock.
    Inventory,
    /// Payment declined.
    Declined,
    /// Cancelled by shop staff.
    Staff,
    /// The order was not paid before its stock reservations lapsed.
    ReservationExpired,
    /// Anything else.
    Other,
}

/// An active hold: why, and the status the order returns to when released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// Why the order is held.
    pub reason: HoldReason,
    /// Free text for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The status before the hold; release returns here.
    pub previous: OrderStatus,
}

/// A discount on one line, as a total amount for the line's ordered quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discount {
    /// Code or label, e.g. `"SUMMER10"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Amount off the line (non-negative, in the order's currency).
    pub amount: Money,
}

/// A tax applied to a line or a shipping line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxLine {
    /// Name, e.g. `"KDV"` or `"VAT"`.
    pub name: String,
    /// Rate as a fraction: `0.20` is 20 %.
    pub rate: Decimal,
}

/// Quantities of one line as it moves through fulfilment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LineQuantities {
    /// Units cancelled (never shipped).
    pub cancelled: u32,
    /// Units reserved in stock for this line.
    pub allocated: u32,
    /// Units shipped.
    pub shipped: u32,
    /// Units delivered to the customer.
    pub delivered: u32,
    /// Units returned by the customer.
    pub returned: u32,
}

/// Stock held for a line: a reservation at one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// The stock reservation.
    pub reservation: ReservationId,
    /// Where the units are held.
    pub location: LocationId,
    /// Units still held (not yet shipped or released).
    pub quantity: u32,
}

/// One line of an order: a variant, a quantity and its price.
///
/// Kept for every line of every order, twice once the order changes (its `placed`
/// event keeps the lines as placed), so its texts and lists are not growable, and what
/// no command changes (texts, discounts, taxes) is shared (`Arc`): the copy a change
/// makes of an order's lines copies counts, not texts. An empty list allocates nothing.
/// 160 bytes a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// Line id, unique in the order (`L1`, `L2`, ...).
    pub id: LineId,
    /// The variant sold.
    pub variant: VariantId,
    /// The channel's own line id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<Arc<str>>,
    /// Product title as the customer saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Arc<str>>,
    /// Units ordered (including any later cancelled).
    pub quantity: u32,
    /// Price of one unit before discounts.
    pub unit_price: Money,
    /// Discounts on the line.
    #[serde(default, deserialize_with = "shared_list")]
    pub discounts: Arc<[Discount]>,
    /// Taxes on the line.
    #[serde(default, deserialize_with = "shared_list")]
    pub tax_lines: Arc<[TaxLine]>,
    /// Fulfilment quantities.
    #[serde(default)]
    pub fulfilment: LineQuantities,
    /// Stock reservations held for the line.
    #[serde(default, skip_serializing_if = "<[Allocation]>::is_empty")]
    pub allocations: Box<[Allocation]>,
}

/// A list no command changes, shared between an order's copies (from a slice, copied,
/// or a vector, moved): empty lists share std's allocation-free empty value instead of
/// each allocating their counts.
pub(crate) fn shared<T, L: AsRef<[T]> + Into<Arc<[T]>>>(items: L) -> Arc<[T]> {
    if items.as_ref().is_empty() {
        Arc::default()
    } else {
        items.into()
    }
}

/// Reads a [`shared`] list (serde's own `Arc<[T]>` allocates for an empty one).
fn shared_list<'de, D, T>(d: D) -> Result<Arc<[T]>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Vec::<T>::deserialize(d).map(shared)
}

/// An order's lines, shared between copies of the order until one of them changes.
///
/// An order's snapshot, its `placed` event and every copy handed to a caller start out
/// with the same lines; cloning an order or an event bumps a reference count instead of
/// copying every line. A change (an allocation, a shipment, an edit) copies the lines of
/// the one order it changes, once. Reads go through `Deref<Target = [OrderLine]>`; the
/// JSON is a plain array.
///
/// ```
/// use ordersmith::order::{OrderLine, OrderLines};
/// let lines = OrderLines::from(Vec::<OrderLine>::new());
/// let copy = lines.clone();
/// assert!(copy.is_empty() && lines.shares_with(&copy));
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderLines(Arc<[OrderLine]>);

impl OrderLines {
    /// Whether both hold the very same lines (not copies): how a test or a memory
    /// profile tells sharing from equality.
    pub fn shares_with(&self, other: &OrderLines) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The lines to change in place; copied first if any other order or event shares
    /// them.
    pub fn make_mut(&mut self) -> &mut [OrderLine] {
        Arc::make_mut(&mut self.0)
    }

    /// Adds a line at the end (copies the lines: edits are rare).
    pub fn push(&mut self, line: OrderLine) {
        let mut lines = self.0.to_vec();
        lines.push(line);
        self.0 = lines.into();
    }

    /// Keeps only the lines `keep` accepts (copies the lines when one goes). `keep` is
    /// asked once per line.
    pub fn retain(&mut self, mut keep: impl FnMut(&OrderLine) -> bool) {
        let Some(first_dropped) = self.0.iter().position(|l| !keep(l)) else {
            return;
        };
        let (kept, rest) = self.0.split_at(first_dropped);
        let mut lines = kept.to_vec();
        lines.extend(rest.iter().skip(1).filter(|l| keep(l)).cloned());
        self.0 = lines.into();
    }
}

impl Default for OrderLines {
    fn default() -> Self {
        OrderLines(Arc::from(Vec::new()))
    }
}

impl std::fmt::Debug for OrderLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl std::ops::Deref for OrderLines {
    type Target = [OrderLine];
    fn deref(&self) -> &[OrderLine] {
        &self.0
    }
}

impl From<Vec<OrderLine>> for OrderLines {
    fn from(lines: Vec<OrderLine>) -> Self {
        OrderLines(lines.into())
    }
}

impl FromIterator<OrderLine> for OrderLines {
    fn from_iter<I: IntoIterator<Item = OrderLine>>(iter: I) -> Self {
        OrderLines(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a OrderLines {
    type Item = &'a OrderLine;
    type IntoIter = std::slice::Iter<'a, OrderLine>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// The money of one line for its active (not cancelled) quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineAmounts {
    /// Unit price × active quantity.
    pub subtotal: Money,
    /// Discounts on the active quantity.
    pub discount: Money,
    /// Tax on the discounted amount.
    pub tax: Money,
    /// What the customer pays for the line.
    pub total: Money,
}

impl OrderLine {
    /// Units not cancelled.
    pub fn active_quantity(&self) -> u32 {
        self.quantity.saturating_sub(self.fulfilment.cancelled)
    }

    /// Open units not yet covered by a stock reservation.
    pub fn unallocated_quantity(&self) -> u32 {
        self.open_quantity()
            .saturating_sub(self.fulfilment.allocated)
    }

    /// Units that may still be cancelled: not cancelled and not shipped.
    pub fn open_quantity(&self) -> u32 {
        self.active_quantity()
            .saturating_sub(self.fulfilment.shipped)
    }

    /// The line's money for its active quantity; `taxes_included` is the order's tax mode.
    ///
    /// The discount of a partly cancelled line is split between active and cancelled
    /// units with [`allocate`], so the cancelled part plus the active part is exactly the
    /// original discount. Tax rounds half-even per tax line.
    pub fn amounts(&self, taxes_included: bool) -> Result<LineAmounts, MoneyError> {
        let currency = self.unit_price.currency();
        let active = self.active_quantity();
        let subtotal = self.unit_price.times(u64::from(active))?;
        let full_discount = Money::sum(currency, self.discounts.iter().map(|d| &d.amount))?;
        let discount = if self.fulfilment.cancelled == 0 || full_discount.is_zero() {
            full_discount
        } else {
            let parts = allocate(
                &full_discount,
                &[
                    Decimal::from(active),
                    Decimal::from(self.fulfilment.cancelled),
                ],
            )?;
            parts.first().copied().unwrap_or(full_discount)
        };
        let discounted = subtotal.checked_sub(&discount)?;
        let tax = tax_on(&discounted, &self.tax_lines, taxes_included)?;
        let total = if taxes_included {
            discounted
        } else {
            discounted.checked_add(&tax)?
        };
        Ok(LineAmounts {
            subtotal,
            discount,
            tax,
            total,
        })
    }
}

/// Tax on `base` for the given tax lines, in inclusive or exclusive mode.
pub(crate) fn tax_on(
    base: &Money,
    tax_lines: &[TaxLine],
    taxes_included: bool,
) -> Result<Money, MoneyError> {
    let currency = base.currency();
    if tax_lines.is_empty() {
        return Ok(Money::zero(currency));
    }
    if taxes_included {
        let rate_sum: Decimal = tax_lines.iter().map(|t| t.rate).sum();
        let net = base.divided_by(Decimal::ONE + rate_sum, Rounding::HalfEven)?;
        base.checked_sub(&net)
    } else {
        // Each line's tax rounded on its own, then added (no vector of parts: this runs
        // for every line each time an order's totals are read).
        tax_lines.iter().try_fold(Money::zero(currency), |sum, t| {
            sum.checked_add(&base.times_rate(t.rate, Rounding::HalfEven)?)
        })
    }
}

/// A shipping charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingLine {
    /// Method shown to the customer, e.g. `"Standard"`.
    pub title: String,
    /// Price of shipping (non-negative).
    pub price: Money,
    /// Taxes on shipping.
    #[serde(default)]
    pub tax_lines: Vec<TaxLine>,
}

/// The derived totals of an order. Never stored: always computed from the lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderTotals {
    /// Sum of line subtotals (unit price × active quantity).
    pub subtotal: Money,
    /// Sum of line discounts.
    pub discount_total: Money,
    /// Sum of shipping prices.
    pub shipping_total: Money,
    /// Sum of line and shipping taxes.
    pub tax_total: Money,
    /// What the customer pays: subtotal − discounts + shipping (+ tax when prices exclude it).
    pub total: Money,
}

/// The canonical order: the fold of its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// ordersmith's id.
    pub id: OrderId,
    /// Number of events applied; the version a save names as expected.
    pub version: u64,
    /// Sales channel it came from.
    pub channel: ChannelId,
    /// The channel's own reference (e.g. Shopify `#1005`, a Trendyol order number);
    /// set when placed and never changed (shared with the `placed` event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<Arc<str>>,
    /// When the customer placed it (UTC).
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub placed_at: DateTime<Utc>,
    /// The one currency of every amount on the order.
    pub currency: Currency,
    /// Whether unit prices include tax (EU/TR retail) or exclude it (US).
    pub taxes_included: bool,
    /// The customer (personal data, redacted in `Debug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Arc<Customer>>,
    /// Where to ship.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Arc<Address>>,
    /// Where to invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Arc<Address>>,
    /// Lines. Shared with the `placed` event (and with copies of the order) until one
    /// of them changes: a clone of an order does not copy its lines.
    pub lines: OrderLines,
    /// Shipping charges.
    #[serde(default)]
    pub shipping_lines: Sparse<Vec<ShippingLine>>,
    /// Tags for rules and reports.
    #[serde(default)]
    pub tags: Sparse<BTreeSet<String>>,
    /// Notes for staff, oldest first.
    #[serde(default)]
    pub notes: Sparse<Vec<String>>,
    /// Order status.
    pub status: OrderStatus,
    /// The active hold, when `status` is `on_hold`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<Hold>,
    /// Why the order was cancelled, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<CancelReason>,
    /// Sum of payments recorded.
    pub amount_paid: Money,
    /// Sum of refunds recorded.
    pub amount_refunded: Money,
    /// Next line number for lines added by edits.
    pub next_line_number: u32,
    /// How long this order's unpaid reservations hold, overriding the engine's and the
    /// channel's time-to-live (`EngineConfig::reservation_ttl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation_ttl_minutes: Option<u32>,
    /// Fulfilment orders: the parts of the order each location ships, oldest first
    /// (closed ones included, as history).
    #[serde(default, skip_serializing_if = "Sparse::is_empty")]
    pub fulfilments: Sparse<Vec<crate::fulfilment::FulfilmentOrder>>,
    /// Dedupe keys of the customer notifications already asked for: a stage reached
    /// again, or a retried call, never messages the customer twice.
    #[serde(default, skip_serializing_if = "Sparse::is_empty")]
    pub notified: Sparse<BTreeSet<String>>,
    /// Channels the customer asked not to be messaged on.
    #[serde(default, skip_serializing_if = "Sparse::is_empty")]
    pub notification_opt_outs: Sparse<Vec<crate::notify::NotificationChannel>>,
    /// Payments through a provider, oldest first (money "captured outside" through
    /// `record_payment` is only in `amount_paid`).
    #[serde(default, skip_serializing_if = "Sparse::is_empty")]
    pub payments: Sparse<Vec<crate::payment::Payment>>,
    /// What automation rules set on the order (priority, carrier, routing, review):
    /// the fold of its `rule.applied` events.
    #[serde(default, skip_serializing_if = "crate::rules::AutomationBox::is_empty")]
    pub automation: crate::rules::AutomationBox,
    /// Returns (RMAs), oldest first, closed ones included (see [`crate::returns`]).
    #[serde(default, skip_serializing_if = "Sparse::is_empty")]
    pub rmas: Sparse<Vec<crate::returns::Rma>>,
}

impl Order {
    /// The customer this order counts toward, as rules count a customer's orders
    /// (`customer_order_count`) and stores index them: `id:<customer id>` when the
    /// customer has an id, else `email:<e-mail in lower case>`; `None` without a
    /// customer or with neither.
    ///
    /// ```
    /// use chrono::Utc;
    /// use ordersmith::ids::{ChannelId, OrderId, VariantId};
    /// use ordersmith::money::{Currency, Money};
    /// use ordersmith::order::{place, NewLine, NewOrder, Order, OrderEvent};
    /// use ordersmith::pii::{Customer, Redacted};
    ///
    /// let try_ = Currency::parse("TRY")?;
    /// let line = NewLine::new(VariantId::parse("MUG")?, 1, Money::new("10.00".parse()?, try_)?);
    /// let mut new = NewOrder::new(ChannelId::parse("web")?, Utc::now(), try_, vec![line]);
    /// new.customer = Some(Customer {
    ///     email: Some(Redacted::new("Ayse@Example.com".to_string())),
    ///     ..Customer::default()
    /// });
    /// let OrderEvent::Placed(placed) = place(&new)? else { unreachable!() };
    /// let order = Order::from_placed(OrderId::parse("o-1")?, &placed);
    /// assert_eq!(order.customer_key().as_deref(), Some("email:ayse@example.com"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn customer_key(&self) -> Option<String> {
        let c = self.customer.as_ref()?;
        if let Some(id) = &c.id {
            return Some(format!("id:{id}"));
        }
        c.email
            .as_ref()
            .map(|e| format!("email:{}", e.expose().to_lowercase()))
    }

    /// The derived totals. Shipping counts only while the order has active units.
    pub fn totals(&self) -> Result<OrderTotals, MoneyError> {
        let zero = Money::zero(self.currency);
        let (mut subtotal, mut discount_total, mut tax_total, mut total) = (zero, zero, zero, zero);
        for line in &self.lines {
            let a = line.amounts(self.taxes_included)?;
            subtotal = subtotal.checked_add(&a.subtotal)?;
            discount_total = discount_total.checked_add(&a.discount)?;
            tax_total = tax_total.checked_add(&a.tax)?;
            total = total.checked_add(&a.total)?;
        }
        let mut shipping_total = zero;
        // Shipping is charged only while something is left to ship or shipped: a fully
        // cancelled order owes nothing.
        let charged_shipping: &[ShippingLine] = if self.active_units() == 0 {
            &[]
        } else {
            &self.shipping_lines
        };
        for s in charged_shipping {
            let tax = tax_on(&s.price, &s.tax_lines, self.taxes_included)?;
            shipping_total = shipping_total.checked_add(&s.price)?;
            tax_total = tax_total.checked_add(&tax)?;
            total = total.checked_add(&s.price)?;
            if !self.taxes_included {
                total = total.checked_add(&tax)?;
            }
        }
        Ok(OrderTotals {
            subtotal,
            discount_total,
            shipping_total,
            tax_total,
            total,
        })
    }

    /// What is still owed: total − (paid − refunded). Negative when the shop owes a refund.
    pub fn balance_due(&self) -> Result<Money, MoneyError> {
        let net_paid = self.amount_paid.checked_sub(&self.amount_refunded)?;
        self.totals()?.total.checked_sub(&net_paid)
    }

    /// What may still be paid in: the balance due, less the provider captures asked
    /// for and not yet confirmed (each will be paid once its provider confirms it). A
    /// recorded payment, a marked payment and a new capture are held to it, so the
    /// paths together never take more than the order's total.
    pub(crate) fn payable(&self) -> Result<Money, MoneyError> {
        let mut due = self.balance_due()?;
        for p in &self.payments {
            due = due.checked_sub(&p.capture_pending)?;
        }
        Ok(due)
    }

    /// What may still be refunded: paid − refunded, less the provider refunds asked for
    /// and not yet confirmed, less what returns already gave back in kind (store
    /// credit, a refund's credit leg, value applied to an exchange's replacement). A
    /// recorded refund, a new provider refund and a return's resolution are held to it,
    /// so every path together never gives back more than was paid.
    pub(crate) fn refundable(&self) -> Result<Money, MoneyError> {
        use crate::returns::Resolution;
        let mut left = self.amount_paid.checked_sub(&self.amount_refunded)?;
        for p in &self.payments {
            left = left.checked_sub(&p.refund_pending)?;
        }
        for r in &self.rmas {
            let legs = match &r.resolution {
                Some(Resolution::StoreCredit { amount, .. }) => {
                    left = left.checked_sub(amount)?;
                    continue;
                }
                Some(Resolution::Exchange {
                    applied, refunds, ..
                }) => {
                    left = left.checked_sub(applied)?;
                    refunds
                }
                Some(Resolution::Refund { refunds, .. }) => refunds,
                None => continue,
            };
            // Store credit that paid the order, given back as credit (no refund event).
            for leg in legs {
                if let crate::returns::RefundLeg::StoreCredit { amount, .. } = leg {
                    left = left.checked_sub(amount)?;
                }
            }
        }
        Ok(left)
    }

    /// The payment dimension.
    pub fn payment_status(&self) -> PaymentStatus {
        if !self.amount_refunded.is_zero() {
            return if self.amount_refunded.amount() >= self.amount_paid.amount() {
                PaymentStatus::Refunded
            } else {
                PaymentStatus::PartiallyRefunded
            };
        }
        if self.amount_paid.is_zero() {
            use crate::payment::PaymentState as P;
            let authorised = self.payments.iter().any(|p| {
                matches!(p.state, P::Authorised | P::PartiallyCaptured) && !p.authorised.is_zero()
            });
            if authorised {
                return PaymentStatus::Authorised;
            }
            if !self.payments.is_empty() && self.payments.iter().all(|p| p.state == P::Voided) {
                return PaymentStatus::Voided;
            }
            return PaymentStatus::Unpaid;
        }
        match self.totals() {
            Ok(t) if self.amount_paid.amount() < t.total.amount() => PaymentStatus::PartiallyPaid,
            _ => PaymentStatus::Paid,
        }
    }

    /// The fulfilment dimension, derived from line quantities.
    pub fn fulfilment_status(&self) -> FulfilmentStatus {
        let (mut active, mut shipped, mut returned) = (0u64, 0u64, 0u64);
        for l in &self.lines {
            active += u64::from(l.active_quantity());
            shipped += u64::from(l.fulfilment.shipped);
            returned += u64::from(l.fulfilment.returned);
        }
        if returned > 0 {
            if returned >= shipped && shipped >= active {
                FulfilmentStatus::Returned
            } else {
                FulfilmentStatus::PartiallyReturned
            }
        } else if shipped == 0 {
            FulfilmentStatus::Unfulfilled
        } else if shipped < active {
            FulfilmentStatus::PartiallyFulfilled
        } else {
            FulfilmentStatus::Fulfilled
        }
    }

    /// The fulfilment order with this id.
    pub fn fulfilment(&self, id: &str) -> Option<&crate::fulfilment::FulfilmentOrder> {
        self.fulfilments.iter().find(|f| f.id == id)
    }

    /// Units of `line` picked and not yet handed over in the order's open fulfilment
    /// orders (open, in progress or held), with the first of those holding any: units
    /// on a trolley or in a parcel, which only a hand-over or the fulfilment order's
    /// cancellation may take off the line.
    pub(crate) fn picked_in_hand(&self, line: &LineId) -> Option<(u32, &str)> {
        use crate::fulfilment::FulfilmentOrderStatus as S;
        let mut first = None;
        let mut units = 0u32;
        for fo in self.fulfilments.iter() {
            if !matches!(fo.status, S::Open | S::InProgress | S::OnHold) {
                continue;
            }
            let here = fo.picked_open(line);
            if here > 0 {
                units = units.saturating_add(here);
                first.get_or_insert(fo.id.as_str());
            }
        }
        first.map(|fo| (units, fo))
    }

    /// Units of `line` held for it at `location` (its live allocations there).
    pub fn held_at(&self, line: &LineId, location: &LocationId) -> u32 {
        self.line(line).map_or(0, |l| {
            l.allocations
                .iter()
                .filter(|a| &a.location == location)
                .map(|a| a.quantity)
                .fold(0u32, u32::saturating_add)
        })
    }

    /// The return (RMA) with this id.
    pub fn rma(&self, id: &str) -> Option<&crate::returns::Rma> {
        self.rmas.iter().find(|r| r.id == id)
    }

    /// The line with this id.
    pub fn line(&self, id: &LineId) -> Option<&OrderLine> {
        self.lines.iter().find(|l| &l.id == id)
    }

    /// Total active units across lines.
    pub fn active_units(&self) -> u64 {
        self.lines
            .iter()
            .map(|l| u64::from(l.active_quantity()))
            .sum()
    }
}
