//! Store credit: a balance per customer that returns add to and later orders spend,
//! never below zero.
//!
//! A [`CreditAccount`] is its own versioned aggregate in the store (not part of an
//! order: many orders share it). Every change names the version it read, so two
//! engines spending the same credit at once cannot both succeed: the loser reloads,
//! sees the lower balance and, if it no longer covers the amount, gets
//! `RETURNS_CREDIT_INSUFFICIENT`.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use ordersmith::ids::{CustomerId, OrderId};
//! use ordersmith::money::{Currency, Money};
//! use ordersmith::returns::{CreditAccount, CreditEntryKind};
//!
//! let try_ = Currency::parse("TRY")?;
//! let at = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
//! let account = CreditAccount::open(CustomerId::parse("c-1")?, try_);
//! let account = account.post(CreditEntryKind::Issued, Money::parse("40", try_)?, OrderId::parse("o-1")?, Some("R1".into()), at)?;
//! let account = account.post(CreditEntryKind::Spent, Money::parse("25", try_)?, OrderId::parse("o-2")?, None, at)?;
//! assert_eq!(account.balance.to_string(), "15.00 TRY");
//! let err = account.post(CreditEntryKind::Spent, Money::parse("16", try_)?, OrderId::parse("o-3")?, None, at).unwrap_err();
//! assert_eq!(err.code(), "RETURNS_CREDIT_INSUFFICIENT");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CustomerId, OrderId};
use crate::money::{Currency, Money};

use super::ReturnsError;

/// Entries an account keeps; older ones stay in the store's history of snapshots only
/// as their effect on the balance.
pub const MAX_ENTRIES: usize = 1_000;

/// What an entry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditEntryKind {
    /// Credit issued (a return resolved as store credit).
    Issued,
    /// Credit spent on an order.
    Spent,
}

/// One change of a balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditEntry {
    /// Issued or spent.
    pub kind: CreditEntryKind,
    /// The amount (positive).
    pub amount: Money,
    /// The balance after it.
    pub balance_after: Money,
    /// The order it came from or was spent on.
    pub order_id: OrderId,
    /// The RMA that issued it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rma: Option<String>,
    /// When (the engine's clock).
    pub at: DateTime<Utc>,
}

/// A customer's store credit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditAccount {
    /// The customer (the host's id).
    pub customer: CustomerId,
    /// Changes saved; the version a save names as expected (0: not stored yet).
    pub version: u64,
    /// The one currency of the account.
    pub currency: Currency,
    /// What the customer may spend; never negative.
    pub balance: Money,
    /// Entries, oldest first (the latest [`MAX_ENTRIES`]).
    #[serde(default)]
    pub entries: Vec<CreditEntry>,
}

impl CreditAccount {
    /// A new, empty account (version 0).
    pub fn open(customer: CustomerId, currency: Currency) -> Self {
        CreditAccount {
            customer,
            version: 0,
            currency,
            balance: Money::zero(currency),
            entries: Vec::new(),
        }
    }

    /// The account after one more entry (version + 1), or why not: a non-positive
    /// amount, another currency, or spending more than the balance.
    pub fn post(
        &self,
        kind: CreditEntryKind,
        amount: Money,
        order_id: OrderId,
        rma: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<CreditAccount, ReturnsError> {
        if amount.currency() != self.currency {
            return Err(crate::money::MoneyError::CurrencyMismatch {
                left: self.currency,
                right: amount.currency(),
            }
            .into());
        }
        if amount.is_zero() || amount.is_negative() {
            return Err(ReturnsError::InvalidRequest {
                reason: "a store credit amount must be greater than zero",
            });
        }
        let balance = match kind {
            CreditEntryKind::Issued => self.balance.checked_add(&amount)?,
            CreditEntryKind::Spent => {
                if amount.amount() > self.balance.amount() {
                    return Err(ReturnsError::CreditInsufficient {
                        requested: amount,
                        available: self.balance,
                    });
                }
                self.balance.checked_sub(&amount)?
            }
        };
        let mut next = self.clone();
        next.version += 1;
        next.balance = balance;
        next.entries.push(CreditEntry {
            kind,
            amount,
            balance_after: balance,
            order_id,
            rma,
            at,
        });
        if next.entries.len() > MAX_ENTRIES {
            let drop = next.entries.len() - MAX_ENTRIES;
            next.entries.drain(..drop);
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spending_never_goes_below_zero_and_currencies_never_mix() {
        let try_ = Currency::parse("TRY").unwrap();
        let usd = Currency::parse("USD").unwrap();
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let o = OrderId::parse("o-1").unwrap();
        let a = CreditAccount::open(CustomerId::parse("c").unwrap(), try_);
        assert_eq!(
            a.post(
                CreditEntryKind::Spent,
                Money::parse("0.01", try_).unwrap(),
                o.clone(),
                None,
                at
            )
            .unwrap_err()
            .code(),
            "RETURNS_CREDIT_INSUFFICIENT"
        );
        let a = a
            .post(
                CreditEntryKind::Issued,
                Money::parse("10", try_).unwrap(),
                o.clone(),
                None,
                at,
            )
            .unwrap();
        assert_eq!(a.version, 1);
        assert_eq!(
            a.post(
                CreditEntryKind::Issued,
                Money::parse("1", usd).unwrap(),
                o.clone(),
                None,
                at
            )
            .unwrap_err()
            .code(),
            "MONEY_CURRENCY_MISMATCH"
        );
        assert_eq!(
            a.post(
                CreditEntryKind::Issued,
                Money::zero(try_),
                o.clone(),
                None,
                at
            )
            .unwrap_err()
            .code(),
            "RETURNS_INVALID_REQUEST"
        );
        let a = a
            .post(
                CreditEntryKind::Spent,
                Money::parse("10", try_).unwrap(),
                o,
                None,
                at,
            )
            .unwrap();
        assert!(a.balance.is_zero());
        assert_eq!(a.entries.len(), 2);
    }
}
