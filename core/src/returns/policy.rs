//! The shop's return policy, overridable per variant: the window in days from delivery,
//! non-returnable items, who pays return shipping per reason, the restocking fee,
//! whether opened goods come back, and when an exchange's replacement is reserved.
//!
//! A policy is plain data read from JSON (`deny_unknown_fields`, so a typo is an error,
//! never a silently ignored rule) and checked by [`ReturnPolicy::validate`].

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{LineId, VariantId};

use super::ReturnsError;

/// Why a customer sends goods back: the standard list every report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    /// The size does not fit.
    WrongSize,
    /// Arrived damaged.
    Damaged,
    /// Does not work.
    Defective,
    /// Not what the listing described.
    NotAsDescribed,
    /// The customer no longer wants it.
    ChangedMind,
    /// Arrived too late to be of use.
    LateDelivery,
    /// Anything else (the free text says what).
    Other,
}

impl ReturnReason {
    /// Every reason, in the order reports list them.
    pub const ALL: [ReturnReason; 7] = [
        ReturnReason::WrongSize,
        ReturnReason::Damaged,
        ReturnReason::Defective,
        ReturnReason::NotAsDescribed,
        ReturnReason::ChangedMind,
        ReturnReason::LateDelivery,
        ReturnReason::Other,
    ];

    /// The snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnReason::WrongSize => "wrong_size",
            ReturnReason::Damaged => "damaged",
            ReturnReason::Defective => "defective",
            ReturnReason::NotAsDescribed => "not_as_described",
            ReturnReason::ChangedMind => "changed_mind",
            ReturnReason::LateDelivery => "late_delivery",
            ReturnReason::Other => "other",
        }
    }

    /// Reads a code; `None` if it is not one of [`ReturnReason::ALL`].
    pub fn parse(code: &str) -> Option<ReturnReason> {
        ReturnReason::ALL.into_iter().find(|r| r.as_str() == code)
    }

    /// Whether the shop is at fault (damaged, defective, not as described, late): by
    /// default the shop then pays return shipping, refunds the shipping share and
    /// charges no restocking fee.
    pub fn shop_at_fault(self) -> bool {
        matches!(
            self,
            ReturnReason::Damaged
                | ReturnReason::Defective
                | ReturnReason::NotAsDescribed
                | ReturnReason::LateDelivery
        )
    }
}

impl std::fmt::Display for ReturnReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who pays for sending goods back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShippingPayer {
    /// The shop: it pays the return label, refunds the original shipping share (by
    /// policy) and charges no restocking fee.
    Shop,
    /// The customer: the restocking fee applies and the original shipping is kept.
    Customer,
}

/// When an exchange's replacement is reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExchangeReservation {
    /// As soon as the return is approved (advance exchange): the replacement order is
    /// placed and confirmed, so its stock is held before the return arrives.
    Advance,
    /// Only when the return is resolved as an exchange, after inspection.
    #[default]
    AfterInspection,
}

/// One variant's exceptions to the shop's policy; `None` keeps the shop's rule.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantReturnPolicy {
    /// Whether the variant may come back at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returnable: Option<bool>,
    /// Its own return window, in days from delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_days: Option<u32>,
    /// Its own restocking fee rate (0 to 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restocking_fee_rate: Option<Decimal>,
    /// Whether opened units are accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_accepted: Option<bool>,
}

/// A shop's return policy (`EngineConfig::returns`).
///
/// ```
/// use ordersmith::returns::{ReturnPolicy, ReturnReason, ShippingPayer};
///
/// let policy: ReturnPolicy = serde_json::from_str(
///     r#"{"window_days": 30, "restocking_fee_rate": "0.10",
///         "variants": {"GIFT-CARD": {"returnable": false}}}"#,
/// )?;
/// policy.validate()?;
/// assert_eq!(policy.shipping_payer(ReturnReason::Defective), ShippingPayer::Shop);
/// assert_eq!(policy.shipping_payer(ReturnReason::ChangedMind), ShippingPayer::Customer);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnPolicy {
    /// Days from delivery during which a return may be requested (1 to 3650).
    #[serde(default = "default_window_days")]
    pub window_days: u32,
    /// Variants that never come back (gift cards, underwear, perishables).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub non_returnable: BTreeSet<VariantId>,
    /// Who pays return shipping per reason; a reason not listed: the shop when it is
    /// at fault ([`ReturnReason::shop_at_fault`]), else the customer.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub return_shipping: BTreeMap<ReturnReason, ShippingPayer>,
    /// Restocking fee as a fraction of the goods' price (0 to 1), kept only when the
    /// customer pays return shipping (their reason, not the shop's fault).
    #[serde(
        default,
        deserialize_with = "crate::money::decimal_text_or_int",
        skip_serializing_if = "Decimal::is_zero"
    )]
    pub restocking_fee_rate: Decimal,
    /// Refund each returned unit's share of the original shipping when the shop pays
    /// return shipping.
    #[serde(default = "yes")]
    pub refund_shipping_when_shop_pays: bool,
    /// Whether opened goods are accepted.
    #[serde(default = "yes")]
    pub opened_accepted: bool,
    /// When an exchange's replacement is reserved.
    #[serde(default)]
    pub exchange_reservation: ExchangeReservation,
    /// Per-variant exceptions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<VariantId, VariantReturnPolicy>,
}

fn default_window_days() -> u32 {
    14
}

fn yes() -> bool {
    true
}

impl Default for ReturnPolicy {
    fn default() -> Self {
        ReturnPolicy {
            window_days: default_window_days(),
            non_returnable: BTreeSet::new(),
            return_shipping: BTreeMap::new(),
            restocking_fee_rate: Decimal::ZERO,
            refund_shipping_when_shop_pays: true,
            opened_accepted: true,
            exchange_reservation: ExchangeReservation::AfterInspection,
            variants: BTreeMap::new(),
        }
    }
}

/// Longest return window a policy may set, in days (ten years).
pub const MAX_WINDOW_DAYS: u32 = 3_650;

/// A policy rule a return request broke: the rule's stable name and the line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyFailure {
    /// The rule: `return_window`, `non_returnable` or `opened_goods`.
    pub rule: String,
    /// The line that broke it.
    pub line_id: LineId,
    /// What a person reads, e.g. `"delivered 40 days ago; the window is 30 days"`.
    pub detail: String,
}

impl ReturnPolicy {
    /// Checks the numbers: window 1 to [`MAX_WINDOW_DAYS`] days, fee rates 0 to 1.
    pub fn validate(&self) -> Result<(), ReturnsError> {
        let bad_window = |d: u32| d == 0 || d > MAX_WINDOW_DAYS;
        let bad_rate = |r: Decimal| r < Decimal::ZERO || r > Decimal::ONE;
        if bad_window(self.window_days)
            || self
                .variants
                .values()
                .any(|v| v.window_days.is_some_and(bad_window))
        {
            return Err(ReturnsError::InvalidPolicy {
                reason: "a return window must be 1 to 3650 days",
            });
        }
        if bad_rate(self.restocking_fee_rate)
            || self
                .variants
                .values()
                .any(|v| v.restocking_fee_rate.is_some_and(bad_rate))
        {
            return Err(ReturnsError::InvalidPolicy {
                reason: "a restocking fee rate must be 0 to 1",
            });
        }
        Ok(())
    }

    /// Who pays return shipping for `reason`.
    pub fn shipping_payer(&self, reason: ReturnReason) -> ShippingPayer {
        self.return_shipping
            .get(&reason)
            .copied()
            .unwrap_or(if reason.shop_at_fault() {
                ShippingPayer::Shop
            } else {
                ShippingPayer::Customer
            })
    }

    fn variant(&self, variant: &VariantId) -> Option<&VariantReturnPolicy> {
        self.variants.get(variant)
    }

    /// Whether `variant` may come back.
    pub fn returnable(&self, variant: &VariantId) -> bool {
        self.variant(variant)
            .and_then(|v| v.returnable)
            .unwrap_or(!self.non_returnable.contains(variant))
    }

    /// `variant`'s return window in days.
    pub fn window_days(&self, variant: &VariantId) -> u32 {
        self.variant(variant)
            .and_then(|v| v.window_days)
            .unwrap_or(self.window_days)
    }

    /// Whether opened units of `variant` are accepted.
    pub fn opened_accepted(&self, variant: &VariantId) -> bool {
        self.variant(variant)
            .and_then(|v| v.opened_accepted)
            .unwrap_or(self.opened_accepted)
    }

    /// The restocking fee rate for `variant` returned for `reason` (zero when the shop
    /// pays return shipping).
    pub fn restocking_fee_rate(&self, variant: &VariantId, reason: ReturnReason) -> Decimal {
        if self.shipping_payer(reason) == ShippingPayer::Shop {
            return Decimal::ZERO;
        }
        self.variant(variant)
            .and_then(|v| v.restocking_fee_rate)
            .unwrap_or(self.restocking_fee_rate)
    }

    /// Whether the original shipping share is refunded for `reason`.
    pub fn refunds_shipping(&self, reason: ReturnReason) -> bool {
        self.refund_shipping_when_shop_pays && self.shipping_payer(reason) == ShippingPayer::Shop
    }

    /// The rules one requested line breaks, first one first (non-returnable, then the
    /// window, then opened goods). `delivered_at` is when the line's last units were
    /// delivered (`None`: the check of the window cannot pass).
    pub fn check_line(
        &self,
        line_id: &LineId,
        variant: &VariantId,
        delivered_at: Option<DateTime<Utc>>,
        requested_at: DateTime<Utc>,
        opened: bool,
    ) -> Option<PolicyFailure> {
        let fail = |rule: &str, detail: String| {
            Some(PolicyFailure {
                rule: rule.to_string(),
                line_id: line_id.clone(),
                detail,
            })
        };
        if !self.returnable(variant) {
            return fail("non_returnable", format!("{variant} is not returnable"));
        }
        let window = self.window_days(variant);
        match delivered_at {
            None => return fail("return_window", "no delivery recorded".to_string()),
            Some(at) => {
                let days = days_between(at, requested_at);
                if days > i64::from(window) {
                    return fail(
                        "return_window",
                        format!("delivered {days} days ago; the window is {window} days"),
                    );
                }
            }
        }
        if opened && !self.opened_accepted(variant) {
            return fail("opened_goods", format!("opened {variant} is not accepted"));
        }
        None
    }
}

/// Whole days from `from` to `to` (0 on the same day, never negative).
pub fn days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_days().max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0).unwrap()
    }

    #[test]
    fn rules_are_checked_in_order_and_variants_override_the_shop() {
        let tee = VariantId::parse("TEE").unwrap();
        let card = VariantId::parse("CARD").unwrap();
        let l1 = LineId::parse("L1").unwrap();
        let mut policy = ReturnPolicy {
            window_days: 10,
            opened_accepted: false,
            ..ReturnPolicy::default()
        };
        policy.non_returnable.insert(card.clone());
        assert!(policy
            .check_line(&l1, &tee, Some(at(1)), at(11), false)
            .is_none());
        let late = policy
            .check_line(&l1, &tee, Some(at(1)), at(12), false)
            .unwrap();
        assert_eq!(late.rule, "return_window");
        assert_eq!(late.detail, "delivered 11 days ago; the window is 10 days");
        assert_eq!(
            policy
                .check_line(&l1, &card, Some(at(1)), at(2), true)
                .unwrap()
                .rule,
            "non_returnable"
        );
        assert_eq!(
            policy
                .check_line(&l1, &tee, Some(at(1)), at(2), true)
                .unwrap()
                .rule,
            "opened_goods"
        );
        assert_eq!(
            policy
                .check_line(&l1, &tee, None, at(2), false)
                .unwrap()
                .rule,
            "return_window"
        );
        policy.variants.insert(
            tee.clone(),
            VariantReturnPolicy {
                window_days: Some(30),
                opened_accepted: Some(true),
                ..VariantReturnPolicy::default()
            },
        );
        assert!(policy
            .check_line(&l1, &tee, Some(at(1)), at(25), true)
            .is_none());
        policy.variants.insert(
            card.clone(),
            VariantReturnPolicy {
                returnable: Some(true),
                ..VariantReturnPolicy::default()
            },
        );
        assert!(policy
            .check_line(&l1, &card, Some(at(1)), at(2), false)
            .is_none());
    }

    #[test]
    fn fees_and_shipping_follow_who_is_at_fault() {
        let tee = VariantId::parse("TEE").unwrap();
        let mut policy = ReturnPolicy {
            restocking_fee_rate: Decimal::new(10, 2),
            ..ReturnPolicy::default()
        };
        assert_eq!(
            policy.restocking_fee_rate(&tee, ReturnReason::ChangedMind),
            Decimal::new(10, 2)
        );
        assert_eq!(
            policy.restocking_fee_rate(&tee, ReturnReason::Damaged),
            Decimal::ZERO
        );
        assert!(policy.refunds_shipping(ReturnReason::Defective));
        assert!(!policy.refunds_shipping(ReturnReason::WrongSize));
        policy
            .return_shipping
            .insert(ReturnReason::WrongSize, ShippingPayer::Shop);
        assert!(policy.refunds_shipping(ReturnReason::WrongSize));
        assert_eq!(
            policy.restocking_fee_rate(&tee, ReturnReason::WrongSize),
            Decimal::ZERO
        );
    }

    #[test]
    fn policies_read_from_json_strictly_and_validate_their_numbers() {
        let p: ReturnPolicy = serde_json::from_str(
            r#"{"window_days":30,"return_shipping":{"wrong_size":"shop"},"restocking_fee_rate":"0.15"}"#,
        )
        .unwrap();
        assert_eq!(p.window_days, 30);
        assert!(p.validate().is_ok());
        assert!(serde_json::from_str::<ReturnPolicy>(r#"{"windw_days":30}"#).is_err());
        let bad = ReturnPolicy {
            restocking_fee_rate: Decimal::new(15, 1),
            ..ReturnPolicy::default()
        };
        assert_eq!(bad.validate().unwrap_err().code(), "RETURNS_INVALID_POLICY");
        let bad = ReturnPolicy {
            window_days: 0,
            ..ReturnPolicy::default()
        };
        assert_eq!(bad.validate().unwrap_err().code(), "RETURNS_INVALID_POLICY");
        for r in ReturnReason::ALL {
            assert_eq!(ReturnReason::parse(r.as_str()), Some(r));
        }
    }
}
