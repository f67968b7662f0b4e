//! A token bucket that tells the host when the next request may go. Pure: the time
//! is always passed in.
//!
//! ```
//! use chrono::{TimeDelta, TimeZone, Utc};
//! use ordersmith_channels::rate::TokenBucket;
//!
//! // Amazon listings PATCH: 5 requests per second, burst 5.
//! let mut bucket = TokenBucket::new(5, 200);
//! let t0 = Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap();
//! for _ in 0..5 {
//!     assert_eq!(bucket.take(t0, 1), t0);
//! }
//! assert_eq!(bucket.take(t0, 1), t0 + TimeDelta::milliseconds(200));
//! ```

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// Tokens are counted in thousandths, so refills of less than a token are kept.
const MILLI: u64 = 1000;

/// A bucket of `capacity` tokens, refilled one token every `refill_interval_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenBucket {
    capacity: u64,
    refill_interval_ms: u64,
    milli_tokens: u64,
    at: Option<DateTime<Utc>>,
}

impl TokenBucket {
    /// A full bucket. `capacity` and the interval are at least 1.
    pub fn new(capacity: u64, refill_interval_ms: u64) -> Self {
        let capacity = capacity.max(1);
        TokenBucket {
            capacity,
            refill_interval_ms: refill_interval_ms.max(1),
            milli_tokens: capacity.saturating_mul(MILLI),
            at: None,
        }
    }

    /// Tokens the bucket holds at most.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    fn refill(&mut self, now: DateTime<Utc>) {
        let Some(at) = self.at else {
            self.at = Some(now);
            return;
        };
        if now <= at {
            return;
        }
        let elapsed_ms = u64::try_from((now - at).num_milliseconds()).unwrap_or(u64::MAX);
        let added = elapsed_ms.saturating_mul(MILLI) / self.refill_interval_ms;
        self.milli_tokens = self
            .milli_tokens
            .saturating_add(added)
            .min(self.capacity.saturating_mul(MILLI));
        self.at = Some(now);
    }

    /// When `cost` tokens will be available, without taking them.
    pub fn next_allowed(&self, now: DateTime<Utc>, cost: u64) -> DateTime<Utc> {
        let mut probe = self.clone();
        probe.refill(now);
        let need = cost.min(self.capacity).saturating_mul(MILLI);
        if probe.milli_tokens >= need {
            return probe.at.unwrap_or(now).max(now);
        }
        let missing = need - probe.milli_tokens;
        let wait_ms = missing
            .saturating_mul(self.refill_interval_ms)
            .div_ceil(MILLI);
        probe.at.unwrap_or(now).max(now)
            + TimeDelta::milliseconds(i64::try_from(wait_ms).unwrap_or(i64::MAX / 2))
    }

    /// The channel said "too many requests, retry after `until`" (HTTP 429 with
    /// `Retry-After`): nothing goes before `until`, and from then the bucket holds
    /// only `cost` tokens (one request) and refills at its rate, instead of releasing a
    /// full burst into a channel that just refused one. An `until` earlier than what
    /// the bucket already waits for changes nothing.
    pub fn pause_until(&mut self, until: DateTime<Utc>, cost: u64) {
        if self.at.is_some_and(|at| at >= until) {
            return;
        }
        self.at = Some(until);
        self.milli_tokens = cost.min(self.capacity).saturating_mul(MILLI);
    }

    /// Reserves `cost` tokens (capped at the capacity) and returns when the request
    /// may go: `now`, or later if the bucket must refill first. Reservations queue:
    /// the next call's answer comes after this one's.
    pub fn take(&mut self, now: DateTime<Utc>, cost: u64) -> DateTime<Utc> {
        let at = self.next_allowed(now, cost);
        self.refill(at);
        let need = cost.min(self.capacity).saturating_mul(MILLI);
        self.milli_tokens = self.milli_tokens.saturating_sub(need);
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap()
    }

    #[test]
    fn a_retry_after_holds_everything_then_releases_one_request_at_the_rate() {
        let mut b = TokenBucket::new(10, 1_000);
        assert_eq!(b.take(t0(), 1), t0());
        let until = t0() + TimeDelta::seconds(30);
        b.pause_until(until, 1);
        assert_eq!(b.next_allowed(t0(), 1), until);
        assert_eq!(b.take(t0() + TimeDelta::seconds(5), 1), until);
        assert_eq!(b.take(until, 1), until + TimeDelta::seconds(1));
        // An earlier Retry-After does not shorten the wait.
        b.pause_until(t0(), 1);
        assert!(b.next_allowed(t0(), 1) > until);
    }

    #[test]
    fn burst_then_steady_rate() {
        // Amazon createFeed: 0.0083 rps (one per 120 s), burst 15.
        let mut b = TokenBucket::new(15, 120_000);
        let times: Vec<_> = (0..17).map(|_| b.take(t0(), 1)).collect();
        assert!(times.iter().take(15).all(|t| *t == t0()));
        assert_eq!(times.get(15), Some(&(t0() + TimeDelta::seconds(120))));
        assert_eq!(times.get(16), Some(&(t0() + TimeDelta::seconds(240))));
    }

    #[test]
    fn refills_up_to_capacity_only() {
        let mut b = TokenBucket::new(2, 1000);
        b.take(t0(), 2);
        let later = t0() + TimeDelta::hours(1);
        assert_eq!(b.take(later, 1), later);
        assert_eq!(b.take(later, 1), later);
        assert_eq!(b.take(later, 1), later + TimeDelta::seconds(1));
    }

    #[test]
    fn time_going_backwards_never_adds_tokens() {
        let mut b = TokenBucket::new(1, 1000);
        b.take(t0(), 1);
        assert_eq!(
            b.take(t0() - TimeDelta::seconds(10), 1),
            t0() + TimeDelta::seconds(1)
        );
    }

    #[test]
    fn cost_above_capacity_is_capped() {
        let mut b = TokenBucket::new(3, 10);
        assert_eq!(b.take(t0(), 50), t0());
        assert_eq!(b.next_allowed(t0(), 1), t0() + TimeDelta::milliseconds(10));
    }
}
