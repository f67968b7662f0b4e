//! Choosing a carrier service from rate quotes the host fetched: the cheapest service
//! that meets the delivery promise, or the fastest under a price cap, explained in a
//! sentence. Pure: the quotes come in, a choice goes out; no carrier is called.
//!
//! ```
//! use ordersmith::fulfilment::carrier::{choose_service, CarrierPolicy, RateQuote};
//! use ordersmith::money::{Currency, Money};
//!
//! let try_ = Currency::parse("TRY")?;
//! let quotes = vec![
//!     RateQuote::new("ptt", "standard", Money::parse("59.90", try_)?, 2, 4),
//!     RateQuote::new("ups", "express", Money::parse("149.00", try_)?, 1, 1),
//!     RateQuote::new("yurtici", "standard", Money::parse("64.90", try_)?, 1, 2),
//! ];
//! // Promised within 3 working days: PTT's 4 is too slow, Yurtiçi is the cheapest left.
//! let choice = choose_service(&quotes, &CarrierPolicy::CheapestMeetingPromise { max_transit_days: 3 })?;
//! assert_eq!(choice.quote.carrier, "yurtici");
//! assert!(choice.explanation.contains("cheapest"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// Quotes accepted in one choice.
pub const MAX_QUOTES: usize = 100;

/// One service a carrier offered for a parcel, as the host fetched it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateQuote {
    /// The carrier's code (`"ups"`, `"ptt"`, ...).
    pub carrier: String,
    /// The service (`"standard"`, `"express"`, ...).
    pub service: String,
    /// The price.
    pub price: Money,
    /// Fewest working days in transit.
    pub transit_days_min: u32,
    /// Most working days in transit.
    pub transit_days_max: u32,
}

impl RateQuote {
    /// A quote.
    pub fn new(
        carrier: &str,
        service: &str,
        price: Money,
        transit_days_min: u32,
        transit_days_max: u32,
    ) -> Self {
        RateQuote {
            carrier: carrier.to_string(),
            service: service.to_string(),
            price,
            transit_days_min,
            transit_days_max,
        }
    }
}

/// How to choose among quotes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "policy", rename_all = "snake_case")]
pub enum CarrierPolicy {
    /// The cheapest service whose slowest transit meets the promise; ties go to the
    /// faster, then to the first quoted.
    CheapestMeetingPromise {
        /// Working days in transit the shop promised, at most.
        max_transit_days: u32,
    },
    /// The fastest service (by slowest transit, then fastest) at or under the cap;
    /// ties go to the cheaper.
    FastestUnderCap {
        /// The most the shop pays.
        cap: Money,
    },
}

/// The chosen quote and why, in a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarrierChoice {
    /// The quote chosen.
    pub quote: RateQuote,
    /// Why, in words.
    pub explanation: String,
}

/// Why no quote could be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(untagged)]
pub enum CarrierChoiceError {
    /// No quotes, too many, or a quote with transit days out of order.
    #[error("rate quotes are invalid: {reason}")]
    InvalidQuotes {
        /// Why.
        reason: &'static str,
    },
    /// Quotes (or the cap) in more than one currency.
    #[error("rate quotes mix currencies: prices cannot be compared")]
    MixedCurrencies,
    /// No quote meets the policy.
    #[error("no quote meets the policy: {reason}")]
    NoneEligible {
        /// What was asked, in words.
        reason: String,
    },
}

impl CarrierChoiceError {
    /// Every code this enum can return.
    pub const CODES: &'static [&'static str] = &[
        "FULFILMENT_INVALID_QUOTES",
        "FULFILMENT_QUOTES_MIX_CURRENCIES",
        "FULFILMENT_NO_ELIGIBLE_QUOTE",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidQuotes { .. } => "FULFILMENT_INVALID_QUOTES",
            Self::MixedCurrencies => "FULFILMENT_QUOTES_MIX_CURRENCIES",
            Self::NoneEligible { .. } => "FULFILMENT_NO_ELIGIBLE_QUOTE",
        }
    }
}

fn days(min: u32, max: u32) -> String {
    if min == max {
        format!("{max} working day{}", if max == 1 { "" } else { "s" })
    } else {
        format!("{min}–{max} working days")
    }
}

/// Chooses a quote under `policy`; see [`CarrierPolicy`] for the tie-breaks.
pub fn choose_service(
    quotes: &[RateQuote],
    policy: &CarrierPolicy,
) -> Result<CarrierChoice, CarrierChoiceError> {
    let invalid = |reason| Err(CarrierChoiceError::InvalidQuotes { reason });
    let Some(first) = quotes.first() else {
        return invalid("there are none");
    };
    if quotes.len() > MAX_QUOTES {
        return invalid("more than 100 quotes");
    }
    if quotes
        .iter()
        .any(|q| q.transit_days_min > q.transit_days_max)
    {
        return invalid("a quote's fewest transit days exceed its most");
    }
    if quotes.iter().any(|q| q.price.is_negative()) {
        return invalid("a quote has a negative price");
    }
    let currency = first.price.currency();
    if quotes.iter().any(|q| q.price.currency() != currency) {
        return Err(CarrierChoiceError::MixedCurrencies);
    }
    let described = |q: &RateQuote| {
        format!(
            "{} {} ({}, {})",
            q.carrier,
            q.service,
            q.price,
            days(q.transit_days_min, q.transit_days_max)
        )
    };
    match policy {
        CarrierPolicy::CheapestMeetingPromise { max_transit_days } => {
            let eligible: Vec<(usize, &RateQuote)> = quotes
                .iter()
                .enumerate()
                .filter(|(_, q)| q.transit_days_max <= *max_transit_days)
                .collect();
            let best = eligible.iter().min_by(|(i, a), (j, b)| {
                (a.price.amount(), a.transit_days_max, *i).cmp(&(
                    b.price.amount(),
                    b.transit_days_max,
                    *j,
                ))
            });
            let Some((_, q)) = best else {
                return Err(CarrierChoiceError::NoneEligible {
                    reason: format!(
                        "none of {} quotes delivers within {}",
                        quotes.len(),
                        days(*max_transit_days, *max_transit_days)
                    ),
                });
            };
            Ok(CarrierChoice {
                quote: (*q).clone(),
                explanation: format!(
                    "{} is the cheapest of {} quotes that deliver within the promised {}",
                    described(q),
                    eligible.len(),
                    days(*max_transit_days, *max_transit_days)
                ),
            })
        }
        CarrierPolicy::FastestUnderCap { cap } => {
            if cap.currency() != currency {
                return Err(CarrierChoiceError::MixedCurrencies);
            }
            let eligible: Vec<(usize, &RateQuote)> = quotes
                .iter()
                .enumerate()
                .filter(|(_, q)| q.price.amount() <= cap.amount())
                .collect();
            let best = eligible.iter().min_by(|(i, a), (j, b)| {
                (a.transit_days_max, a.transit_days_min, a.price.amount(), *i).cmp(&(
                    b.transit_days_max,
                    b.transit_days_min,
                    b.price.amount(),
                    *j,
                ))
            });
            let Some((_, q)) = best else {
                return Err(CarrierChoiceError::NoneEligible {
                    reason: format!("none of {} quotes costs {cap} or less", quotes.len()),
                });
            };
            Ok(CarrierChoice {
                quote: (*q).clone(),
                explanation: format!(
                    "{} is the fastest of {} quotes at or under the {cap} cap",
                    described(q),
                    eligible.len()
                ),
            })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn q(carrier: &str, price: &str, min: u32, max: u32) -> RateQuote {
        let try_ = Currency::parse("TRY").unwrap();
        RateQuote::new(carrier, "svc", Money::parse(price, try_).unwrap(), min, max)
    }

    #[test]
    fn cheapest_meeting_the_promise_and_fastest_under_a_cap() {
        let quotes = vec![
            q("a", "50", 3, 5),
            q("b", "70", 1, 2),
            q("c", "60", 2, 3),
            q("d", "60", 1, 3),
        ];
        let c = choose_service(
            &quotes,
            &CarrierPolicy::CheapestMeetingPromise {
                max_transit_days: 3,
            },
        )
        .unwrap();
        assert_eq!(
            c.quote.carrier, "c",
            "cheapest within 3 days; tie on price goes to the first"
        );
        assert_eq!(
            c.explanation,
            "c svc (60.00 TRY, 2–3 working days) is the cheapest of 3 quotes that deliver within the promised 3 working days"
        );
        let try_ = Currency::parse("TRY").unwrap();
        let c = choose_service(
            &quotes,
            &CarrierPolicy::FastestUnderCap {
                cap: Money::parse("65", try_).unwrap(),
            },
        )
        .unwrap();
        assert_eq!(
            c.quote.carrier, "d",
            "fastest at or under 65: d (1–3) beats c (2–3)"
        );
        let err = choose_service(
            &quotes,
            &CarrierPolicy::CheapestMeetingPromise {
                max_transit_days: 1,
            },
        )
        .unwrap_err();
        assert_eq!(err.code(), "FULFILMENT_NO_ELIGIBLE_QUOTE");
    }

    #[test]
    fn bad_quotes_are_typed_errors() {
        let p = CarrierPolicy::CheapestMeetingPromise {
            max_transit_days: 3,
        };
        assert_eq!(
            choose_service(&[], &p).unwrap_err().code(),
            "FULFILMENT_INVALID_QUOTES"
        );
        assert_eq!(
            choose_service(&[q("a", "5", 3, 2)], &p).unwrap_err().code(),
            "FULFILMENT_INVALID_QUOTES"
        );
        let usd = RateQuote::new(
            "x",
            "s",
            Money::parse("5", Currency::parse("USD").unwrap()).unwrap(),
            1,
            1,
        );
        assert_eq!(
            choose_service(&[q("a", "5", 1, 1), usd], &p)
                .unwrap_err()
                .code(),
            "FULFILMENT_QUOTES_MIX_CURRENCIES"
        );
    }
}
