//! VAT arithmetic for documents: from what the order charged per line to net amounts
//! per line and net + VAT per rate.
//!
//! ```
//! use ordersmith::invoice::tax::{split, Charged};
//! use ordersmith::invoice::{RoundingMode, TaxRounding};
//! use ordersmith::money::{Currency, Money};
//! use rust_decimal::Decimal;
//!
//! let try_ = Currency::parse("TRY")?;
//! let lines = [
//!     Charged { amount: Money::parse("120.00", try_)?, rate: Decimal::new(20, 2) },
//!     Charged { amount: Money::parse("11.00", try_)?, rate: Decimal::new(10, 2) },
//! ];
//! // Prices include tax: net + VAT per rate is exactly what was charged.
//! let split = split(&lines, true, TaxRounding::PerRate, RoundingMode::HalfUp)?;
//! assert_eq!(split.rates[0].basis.amount().to_string(), "10.00");
//! assert_eq!(split.rates[1].basis.amount().to_string(), "100.00");
//! assert_eq!(split.rates[1].tax.amount().to_string(), "20.00");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{RoundingMode, TaxRounding, VatCategory};
use crate::money::{allocate, Currency, Money, MoneyError};

/// What the order charged for one line, and the line's VAT rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charged {
    /// The amount charged after discounts: with VAT when prices include it, else without.
    pub amount: Money,
    /// The VAT rate as a fraction (`0.20`).
    pub rate: Decimal,
}

/// Net and VAT of the lines at one rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateTotal {
    /// VAT category.
    pub category: VatCategory,
    /// The rate.
    pub rate: Decimal,
    /// Sum of the lines' net amounts.
    pub basis: Money,
    /// VAT.
    pub tax: Money,
}

/// The outcome of [`split`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Net amount per input line, in input order.
    pub net: Vec<Money>,
    /// Net and VAT per rate, ascending by rate.
    pub rates: Vec<RateTotal>,
}

/// Splits charged amounts into net amounts per line and net + VAT per rate.
///
/// - Prices without tax: each line's net is what was charged; VAT per rate is
///   `round(Σ net × rate)` ([`TaxRounding::PerRate`]) or `Σ round(net × rate)`
///   ([`TaxRounding::PerLine`]).
/// - Prices with tax: per rate, net is `round(Σ charged / (1 + rate))` and VAT the rest
///   ([`TaxRounding::PerRate`]; the lines' nets are that basis allocated by what each
///   was charged), or the same per line and summed ([`TaxRounding::PerLine`]). Either
///   way net + VAT per rate equals what was charged at that rate, to the minor unit.
///
/// All amounts must share one currency; the lines may be empty.
pub fn split(
    lines: &[Charged],
    prices_include_tax: bool,
    rule: TaxRounding,
    mode: RoundingMode,
) -> Result<Split, MoneyError> {
    let rounding = mode.rounding();
    let currency: Option<Currency> = lines.first().map(|l| l.amount.currency());
    let mut net: Vec<Option<Money>> = vec![None; lines.len()];
    let mut groups: BTreeMap<Decimal, Vec<usize>> = BTreeMap::new();
    for (i, line) in lines.iter().enumerate() {
        groups.entry(line.rate.normalize()).or_default().push(i);
    }
    let mut rates = Vec::with_capacity(groups.len());
    for (rate, members) in &groups {
        let Some(currency) = currency else { break };
        let charged: Vec<Money> = members
            .iter()
            .filter_map(|i| lines.get(*i).map(|l| l.amount))
            .collect();
        let gross = Money::sum(currency, &charged)?;
        let (basis, tax) = match (prices_include_tax, rule) {
            (false, TaxRounding::PerRate) => {
                for i in members {
                    if let (Some(slot), Some(line)) = (net.get_mut(*i), lines.get(*i)) {
                        *slot = Some(line.amount);
                    }
                }
                (gross, gross.times_rate(*rate, rounding)?)
            }
            (false, TaxRounding::PerLine) => {
                let mut tax = Money::zero(currency);
                for i in members {
                    if let (Some(slot), Some(line)) = (net.get_mut(*i), lines.get(*i)) {
                        *slot = Some(line.amount);
                        tax = tax.checked_add(&line.amount.times_rate(*rate, rounding)?)?;
                    }
                }
                (gross, tax)
            }
            (true, TaxRounding::PerRate) => {
                let basis = gross.divided_by(Decimal::ONE + *rate, rounding)?;
                let weights: Vec<Decimal> = charged.iter().map(|m| m.amount()).collect();
                let parts = if basis.is_zero() || weights.iter().all(|w| w.is_zero()) {
                    vec![Money::zero(currency); members.len()]
                } else {
                    allocate(&basis, &weights)?
                };
                for (i, part) in members.iter().zip(parts) {
                    if let Some(slot) = net.get_mut(*i) {
                        *slot = Some(part);
                    }
                }
                (basis, gross.checked_sub(&basis)?)
            }
            (true, TaxRounding::PerLine) => {
                let mut basis = Money::zero(currency);
                for i in members {
                    if let (Some(slot), Some(line)) = (net.get_mut(*i), lines.get(*i)) {
                        let n = line.amount.divided_by(Decimal::ONE + *rate, rounding)?;
                        basis = basis.checked_add(&n)?;
                        *slot = Some(n);
                    }
                }
                (basis, gross.checked_sub(&basis)?)
            }
        };
        rates.push(RateTotal {
            category: VatCategory::for_rate(*rate),
            rate: *rate,
            basis,
            tax,
        });
    }
    let net = net
        .into_iter()
        .zip(lines)
        .map(|(n, l)| n.unwrap_or(Money::zero(l.amount.currency())))
        .collect();
    Ok(Split { net, rates })
}

/// The units `[first, first + count)` of `total` split evenly over `units` by largest
/// remainder (earlier units get the extra minor units): exactly what
/// [`crate::money::allocate`] with equal weights gives those units, without building
/// one part per unit (an order may hold millions of units). A negative total is split
/// as its absolute value and negated, as `allocate` does; `units` 0 gives zero.
pub fn units_share(total: &Money, units: u32, first: u32, count: u32) -> Result<Money, MoneyError> {
    let currency = total.currency();
    if units == 0 || count == 0 {
        return Ok(Money::zero(currency));
    }
    let signed = total.to_minor()?;
    let minor = signed.checked_abs().ok_or(MoneyError::Overflow)?;
    let n = i128::from(units);
    let (base, extra) = (minor / n, minor % n);
    let first = i128::from(first);
    let end = (first + i128::from(count)).min(n);
    let with_extra = (end.min(extra) - first.min(extra)).max(0);
    let share = base
        .checked_mul(end - first)
        .and_then(|s| s.checked_add(with_extra))
        .ok_or(MoneyError::Overflow)?;
    let share = if signed < 0 { -share } else { share };
    let share = i64::try_from(share).map_err(|_| MoneyError::Overflow)?;
    Ok(Money::from_minor(share, currency))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn try_() -> Currency {
        Currency::parse("TRY").unwrap()
    }

    fn m(minor: i64) -> Money {
        Money::from_minor(minor, try_())
    }

    fn rate(percent: i64) -> Decimal {
        Decimal::new(percent, 2)
    }

    #[test]
    fn exclusive_per_rate_rounds_once_per_rate_and_per_line_rounds_each_line() {
        // Three lines of 0.05 at 10 %: per rate 0.15 × 10 % = 0.015 → 0.02; per line
        // 3 × round(0.005) = 3 × 0.01 = 0.03.
        let lines = [Charged {
            amount: m(5),
            rate: rate(10),
        }; 3];
        let per_rate = split(&lines, false, TaxRounding::PerRate, RoundingMode::HalfUp).unwrap();
        assert_eq!(per_rate.rates[0].tax, m(2));
        let per_line = split(&lines, false, TaxRounding::PerLine, RoundingMode::HalfUp).unwrap();
        assert_eq!(per_line.rates[0].tax, m(3));
        let even = split(&lines, false, TaxRounding::PerLine, RoundingMode::HalfEven).unwrap();
        assert_eq!(even.rates[0].tax, m(0));
    }

    #[test]
    fn turkish_rates_one_ten_and_twenty_percent_on_one_document() {
        let lines = [
            Charged {
                amount: m(10_100),
                rate: rate(1),
            },
            Charged {
                amount: m(11_000),
                rate: rate(10),
            },
            Charged {
                amount: m(12_000),
                rate: rate(20),
            },
            Charged {
                amount: m(2_400),
                rate: rate(20),
            },
        ];
        let s = split(&lines, true, TaxRounding::PerRate, RoundingMode::HalfUp).unwrap();
        let got: Vec<(i64, i64)> = s
            .rates
            .iter()
            .map(|r| {
                (
                    i64::try_from(r.basis.to_minor().unwrap()).unwrap(),
                    i64::try_from(r.tax.to_minor().unwrap()).unwrap(),
                )
            })
            .collect();
        assert_eq!(got, vec![(10_000, 100), (10_000, 1_000), (12_000, 2_400)]);
        assert_eq!(s.net, vec![m(10_000), m(10_000), m(10_000), m(2_000)]);
    }

    #[test]
    fn unit_shares_match_allocate() {
        let total = m(1_000);
        let parts = allocate(&total, &[Decimal::ONE; 3]).unwrap();
        assert_eq!(units_share(&total, 3, 0, 1).unwrap(), parts[0]);
        assert_eq!(
            units_share(&total, 3, 1, 2).unwrap(),
            parts[1].checked_add(&parts[2]).unwrap()
        );
        assert_eq!(units_share(&total, 0, 0, 1).unwrap(), m(0));
    }

    proptest! {
        #[test]
        fn inclusive_net_plus_vat_is_what_was_charged(
            amounts in proptest::collection::vec((0i64..1_000_000, prop_oneof![Just(0i64), Just(1), Just(8), Just(10), Just(18), Just(20)]), 1..12),
            per_line in any::<bool>(),
        ) {
            let lines: Vec<Charged> = amounts.iter().map(|(a, r)| Charged { amount: m(*a), rate: rate(*r) }).collect();
            let rule = if per_line { TaxRounding::PerLine } else { TaxRounding::PerRate };
            let s = split(&lines, true, rule, RoundingMode::HalfUp).unwrap();
            let charged: i64 = amounts.iter().map(|(a, _)| a).sum();
            let got: i128 = s.rates.iter().map(|r| r.basis.to_minor().unwrap() + r.tax.to_minor().unwrap()).sum();
            prop_assert_eq!(got, i128::from(charged));
            for r in &s.rates {
                let nets: i128 = lines.iter().zip(&s.net).filter(|(l, _)| l.rate.normalize() == r.rate).map(|(_, n)| n.to_minor().unwrap()).sum();
                prop_assert_eq!(nets, r.basis.to_minor().unwrap());
            }
        }

        #[test]
        fn unit_shares_are_what_allocate_gives_those_units(total in -10_000_000i64..10_000_000, units in 1u32..60, first in 0u32..60, count in 0u32..60) {
            let first = first.min(units);
            let count = count.min(units - first);
            let parts = allocate(&m(total), &vec![Decimal::ONE; units as usize]).unwrap();
            let want = parts.iter().skip(first as usize).take(count as usize).fold(m(0), |a, p| a.checked_add(p).unwrap());
            prop_assert_eq!(units_share(&m(total), units, first, count).unwrap(), want);
        }

        #[test]
        fn unit_shares_add_up_to_the_total(total in -10_000_000i64..10_000_000, units in 1u32..200, cut in 0u32..200) {
            let cut = cut.min(units);
            let a = units_share(&m(total), units, 0, cut).unwrap();
            let b = units_share(&m(total), units, cut, units - cut).unwrap();
            prop_assert_eq!(a.checked_add(&b).unwrap(), m(total));
        }
    }
}
