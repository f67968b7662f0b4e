//! Property tests for money: allocation always sums to its total, currencies never mix.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ordersmith::money::{allocate, Currency, Money, Rounding};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn currency() -> impl Strategy<Value = Currency> {
    prop::sample::select(vec!["TRY", "USD", "JPY", "KWD", "EUR", "CLF"])
        .prop_map(|c| Currency::parse(c).unwrap())
}

fn weight() -> impl Strategy<Value = Decimal> {
    (0u64..1_000_000, 0u32..6).prop_map(|(m, scale)| Decimal::new(m as i64, scale))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn allocation_sums_exactly_and_is_fair(
        cur in currency(),
        minor in -10_000_000_000i64..10_000_000_000,
        weights in prop::collection::vec(weight(), 1..25),
    ) {
        prop_assume!(weights.iter().any(|w| !w.is_zero()));
        let total = Money::from_minor(minor, cur);
        let parts = allocate(&total, &weights).unwrap();
        prop_assert_eq!(parts.len(), weights.len());
        prop_assert_eq!(Money::sum(cur, &parts).unwrap(), total);
        let weight_sum: Decimal = weights.iter().sum();
        let unit = Money::from_minor(1, cur).amount();
        for (part, w) in parts.iter().zip(&weights) {
            prop_assert_eq!(part.currency(), cur);
            // Each part is its exact share rounded down or up by at most one minor unit.
            let exact = total.amount() * *w / weight_sum;
            prop_assert!((part.amount() - exact).abs() < unit, "{} vs {}", part, exact);
            if w.is_zero() {
                prop_assert!(part.is_zero());
            }
            if minor >= 0 {
                prop_assert!(!part.is_negative());
            }
        }
    }

    #[test]
    fn arithmetic_is_exact_and_never_mixes_currencies(
        a in -1_000_000_000i64..1_000_000_000,
        b in -1_000_000_000i64..1_000_000_000,
        q in 0u64..10_000,
        c1 in currency(),
        c2 in currency(),
    ) {
        let x = Money::from_minor(a, c1);
        let y = Money::from_minor(b, c1);
        prop_assert_eq!(x.checked_add(&y).unwrap().to_minor().unwrap(), i128::from(a) + i128::from(b));
        prop_assert_eq!(x.checked_add(&y).unwrap().checked_sub(&y).unwrap(), x);
        prop_assert_eq!(x.times(q).unwrap().to_minor().unwrap(), i128::from(a) * i128::from(q));
        let z = Money::from_minor(b, c2);
        if c1 != c2 {
            prop_assert_eq!(x.checked_add(&z).unwrap_err().code(), "MONEY_CURRENCY_MISMATCH");
            prop_assert!(Money::sum(c1, [&x, &z]).is_err());
        }
    }

    #[test]
    fn rounding_lands_on_the_minor_unit_within_half_a_unit(
        mantissa in -1_000_000_000_000i64..1_000_000_000_000,
        scale in 0u32..8,
        cur in currency(),
    ) {
        let raw = Decimal::new(mantissa, scale);
        let unit = Money::from_minor(1, cur).amount();
        for mode in [Rounding::HalfEven, Rounding::HalfAwayFromZero] {
            let r = Money::rounded(raw, cur, mode);
            prop_assert!(r.amount().scale() <= cur.minor_units());
            prop_assert!((r.amount() - raw).abs() * Decimal::TWO <= unit);
        }
        let down = Money::rounded(raw, cur, Rounding::TowardZero);
        prop_assert!(down.amount().abs() <= raw.abs());
        let up = Money::rounded(raw, cur, Rounding::AwayFromZero);
        prop_assert!(up.amount().abs() >= raw.abs());
    }
}
