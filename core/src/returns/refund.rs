//! Refunds a finance person would sign: for returned units, what the customer paid for
//! each unit after its share of the line's discounts, with its tax, and (by policy) its
//! share of shipping, minus a restocking fee — returned as a breakdown, not just a
//! total.
//!
//! Every amount is split per unit with [`crate::money::allocate`] (largest remainder),
//! and the k-th unit of a line to come back always gets the k-th share, whichever
//! return it comes back in. So returns split over several requests add up, to the minor
//! unit, to exactly what returning everything at once refunds: three units at 10.00
//! with a 10.00 discount refund 6.67 + 6.67 + 6.66, never 20.01.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use ordersmith::ids::{ChannelId, LineId, OrderId, VariantId};
//! use ordersmith::money::{Currency, Money};
//! use ordersmith::order::{decide, place, LineQuantity, NewLine, NewOrder, Order, OrderCommand, OrderEvent};
//! use ordersmith::returns::{refund_for, RefundPolicy};
//!
//! let try_ = Currency::parse("TRY")?;
//! let new = NewOrder::new(
//!     ChannelId::parse("web")?,
//!     Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap(),
//!     try_,
//!     vec![NewLine::new(VariantId::parse("TEE")?, 3, Money::parse("10.00", try_)?)
//!         .with_discount(None, Money::parse("10.00", try_)?)],
//! );
//! let OrderEvent::Placed(placed) = place(&new)? else { unreachable!() };
//! let mut order = Order::from_placed(OrderId::parse("o-1")?, &placed);
//! let l1 = LineId::parse("L1")?;
//! for command in [
//!     OrderCommand::Confirm,
//!     OrderCommand::RecordShipment { lines: vec![LineQuantity::new(l1.clone(), 3)] },
//!     OrderCommand::RecordDelivery { lines: vec![LineQuantity::new(l1.clone(), 3)] },
//! ] {
//!     for e in decide(&order, &command)? { order.apply(&e); }
//! }
//! let first = refund_for(&order, &[LineQuantity::new(l1.clone(), 2)], &RefundPolicy::default())?;
//! assert_eq!(first.total.to_string(), "13.34 TRY");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::LineId;
use crate::invoice::tax::units_share;
use crate::money::{Money, Rounding};
use crate::order::{LineQuantity, Order};

use super::ReturnsError;

/// What a refund includes beside the goods.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundPolicy {
    /// Refund each returned unit's share of the order's shipping.
    #[serde(default)]
    pub refund_shipping: bool,
    /// Restocking fee as a fraction of the goods refunded (`0.10` is 10 %), 0 to 1.
    #[serde(default)]
    pub restocking_fee_rate: Decimal,
}

/// The refund of one line's returned units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRefund {
    /// The line.
    pub line_id: LineId,
    /// Units refunded.
    pub quantity: u32,
    /// What the customer paid for them, after discounts, tax included.
    pub paid: Money,
    /// Of which tax.
    pub tax: Money,
    /// Their share of shipping as charged, its tax included when prices exclude tax
    /// (zero unless the policy refunds shipping).
    pub shipping: Money,
    /// The restocking fee kept.
    pub restocking_fee: Money,
    /// `paid + shipping − restocking_fee`.
    pub total: Money,
}

/// A refund, line by line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundBreakdown {
    /// Per line, in the order the lines were asked.
    pub lines: Vec<LineRefund>,
    /// The sum of the lines' totals.
    pub total: Money,
}

/// The refund for returning `returning` units of `order` now, after what the order
/// already records as returned (`fulfilment.returned` per line). See the module docs.
pub fn refund_for(
    order: &Order,
    returning: &[LineQuantity],
    policy: &RefundPolicy,
) -> Result<RefundBreakdown, ReturnsError> {
    if returning.is_empty() {
        return Err(ReturnsError::InvalidRequest {
            reason: "no units to refund",
        });
    }
    let mut asked: BTreeMap<&LineId, u32> = BTreeMap::new();
    let mut windows = Vec::with_capacity(returning.len());
    for lq in returning {
        let line = order
            .line(&lq.line_id)
            .ok_or_else(|| ReturnsError::UnknownLine {
                line_id: lq.line_id.clone(),
            })?;
        let earlier = asked.entry(&line.id).or_insert(0);
        let already = line.fulfilment.returned.saturating_add(*earlier);
        let returnable = line.fulfilment.delivered.saturating_sub(already);
        if lq.quantity == 0 || lq.quantity > returnable {
            return Err(ReturnsError::NotReturnable {
                line_id: line.id.clone(),
                requested: lq.quantity,
                returnable,
            });
        }
        *earlier += lq.quantity;
        windows.push(UnitWindow {
            line_id: line.id.clone(),
            first_unit: already,
            quantity: lq.quantity,
            policy: policy.clone(),
        });
    }
    refund_units(order, &windows)
}

/// Units of one line to refund: the `first_unit`-th (0-based, in the order units of the
/// line are settled) and the `quantity − 1` after it, under `policy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnitWindow {
    pub(crate) line_id: LineId,
    pub(crate) first_unit: u32,
    pub(crate) quantity: u32,
    pub(crate) policy: RefundPolicy,
}

/// The refund of the given unit windows: each amount of a line (paid, tax, shipping
/// share, restocking fee) is split per unit as [`crate::money::allocate`] splits it
/// and the window's shares summed ([`units_share`], without a part per unit), so
/// windows that together cover every unit add up to the whole.
///
/// Shipping is each active unit's share of the order's shipping as charged (its tax
/// included when prices exclude tax), across lines in line order.
pub(crate) fn refund_units(
    order: &Order,
    windows: &[UnitWindow],
) -> Result<RefundBreakdown, ReturnsError> {
    let zero = Money::zero(order.currency);
    let active_units: u32 = order
        .lines
        .iter()
        .map(|l| l.active_quantity())
        .fold(0u32, u32::saturating_add);
    let totals = order.totals()?;
    let shipping_tax = if order.taxes_included {
        zero
    } else {
        let mut tax = zero;
        if active_units > 0 {
            for s in &order.shipping_lines {
                tax = tax.checked_add(&crate::order::tax_on(&s.price, &s.tax_lines, false)?)?;
            }
        }
        tax
    };
    let shipping_total = totals.shipping_total.checked_add(&shipping_tax)?;
    let mut lines = Vec::with_capacity(windows.len());
    for w in windows {
        let p = &w.policy;
        if p.restocking_fee_rate < Decimal::ZERO || p.restocking_fee_rate > Decimal::ONE {
            return Err(ReturnsError::InvalidRequest {
                reason: "the restocking fee rate must be 0 to 1",
            });
        }
        let (index, line) = order
            .lines
            .iter()
            .enumerate()
            .find(|(_, l)| l.id == w.line_id)
            .ok_or_else(|| ReturnsError::UnknownLine {
                line_id: w.line_id.clone(),
            })?;
        let n = line.active_quantity();
        if w.quantity == 0 || w.first_unit.saturating_add(w.quantity) > n {
            return Err(ReturnsError::NotReturnable {
                line_id: line.id.clone(),
                requested: w.quantity,
                returnable: n.saturating_sub(w.first_unit),
            });
        }
        let amounts = line.amounts(order.taxes_included)?;
        let (from, count) = (w.first_unit, w.quantity);
        let paid = units_share(&amounts.total, n, from, count)?;
        let tax = units_share(&amounts.tax, n, from, count)?;
        let shipping = if p.refund_shipping {
            // The line's units follow the active units of the lines before it (each
            // line's active quantity is at most the order's, whose sum is
            // `active_units`, itself a u32: the offset fits).
            let offset = order
                .lines
                .iter()
                .take(index)
                .map(|l| l.active_quantity())
                .fold(0u32, u32::saturating_add);
            units_share(
                &shipping_total,
                active_units,
                offset.saturating_add(from),
                count,
            )?
        } else {
            zero
        };
        let goods_total = amounts.total.checked_sub(&amounts.tax)?;
        let fee_total = goods_total.times_rate(p.restocking_fee_rate, Rounding::HalfEven)?;
        let restocking_fee = units_share(&fee_total, n, from, count)?;
        let total = paid.checked_add(&shipping)?.checked_sub(&restocking_fee)?;
        lines.push(LineRefund {
            line_id: line.id.clone(),
            quantity: w.quantity,
            paid,
            tax,
            shipping,
            restocking_fee,
            total,
        });
    }
    let total = Money::sum(
        order.currency,
        lines.iter().map(|l| &l.total).chain(std::iter::once(&zero)),
    )?;
    Ok(RefundBreakdown { lines, total })
}
