//! Conversions shared by every file: times, ids and the call context.

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, TimeDelta, Utc};
use ordersmith::engine::CommandContext;
use ordersmith::order::limits::MAX_RESERVATION_TTL_MINUTES;
use ordersmith::order::Actor;

use crate::errors::OrdersmithError;

/// A host time (`java.time.Instant`, Swift `Date`) as a core time, or
/// `ENGINE_INVALID_INPUT` when it lies outside the core's range.
pub(crate) fn core_time(t: SystemTime) -> Result<DateTime<Utc>, OrdersmithError> {
    let out_of_range = || OrdersmithError::invalid("time", "is outside the supported range");
    let (secs, nanos) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).map_err(|_| out_of_range())?,
            d.subsec_nanos(),
        ),
        Err(before) => {
            let d = before.duration();
            let secs = i64::try_from(d.as_secs()).map_err(|_| out_of_range())?;
            // Whole seconds before the epoch, then the fraction forward again.
            match d.subsec_nanos() {
                0 => (-secs, 0),
                n => (-secs - 1, 1_000_000_000 - n),
            }
        }
    };
    DateTime::from_timestamp(secs, nanos).ok_or_else(out_of_range)
}

/// A span in whole minutes as the core's: a reservation time-to-live or a due-list
/// margin, more than zero and at most 30 days (the core's limit on a reservation's
/// time-to-live), or `ENGINE_INVALID_INPUT` naming `field`. Minutes rather than a
/// host duration: uniffi lowers a negative `java.time.Duration` to an
/// `IllegalArgumentException` and a negative Swift `TimeInterval` to a `fatalError`,
/// before the call could refuse it with a code; an unsigned count cannot be negative.
pub(crate) fn core_minutes(
    field: &'static str,
    minutes: u32,
) -> Result<TimeDelta, OrdersmithError> {
    if minutes == 0 || minutes > MAX_RESERVATION_TTL_MINUTES {
        return Err(OrdersmithError::invalid(
            field,
            "must be more than zero and at most 30 days (43200 minutes)",
        ));
    }
    Ok(TimeDelta::minutes(i64::from(minutes)))
}

/// A core time for the host.
pub(crate) fn host_time(t: DateTime<Utc>) -> SystemTime {
    t.into()
}

/// Who acts and with which idempotency key; both optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct CallContext {
    /// `"system"`, `"customer"`, `"user:<id>"`, `"channel:<id>"` or `"rule:<id>"`;
    /// `None` is the system.
    #[uniffi(default = None)]
    pub actor: Option<String>,
    /// A call repeated with the same key returns its first result and changes nothing.
    #[uniffi(default = None)]
    pub idempotency_key: Option<String>,
}

/// The core context of a call.
pub(crate) fn context(ctx: Option<CallContext>) -> Result<CommandContext, OrdersmithError> {
    let ctx = ctx.unwrap_or_default();
    let actor = match ctx.actor.as_deref() {
        None => Actor::System,
        Some(text) => Actor::parse(text).ok_or_else(|| {
            OrdersmithError::invalid(
                "actor",
                "must be system, customer, user:<id>, channel:<id> or rule:<id>",
            )
        })?,
    };
    Ok(CommandContext {
        actor,
        idempotency_key: ctx.idempotency_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_round_trip_on_both_sides_of_the_epoch() -> Result<(), String> {
        for (secs, nanos) in [
            (0, 0),
            (1_764_000_000, 123_456_000),
            (-1, 500_000_000),
            (-86_400, 0),
        ] {
            let t = DateTime::from_timestamp(secs, nanos).ok_or("range")?;
            let back = core_time(host_time(t)).map_err(|e| e.to_string())?;
            assert_eq!(back, t);
        }
        Ok(())
    }

    #[test]
    fn a_time_beyond_the_core_range_is_invalid_input() {
        let far = UNIX_EPOCH + Duration::from_secs(i64::MAX as u64 / 2);
        let code = core_time(far).map_err(|e| e.code().to_string());
        assert_eq!(code, Err("ENGINE_INVALID_INPUT".to_string()));
    }

    #[test]
    fn minutes_are_checked_against_the_core_limit() {
        assert_eq!(core_minutes("m", 1), Ok(TimeDelta::minutes(1)));
        assert_eq!(
            core_minutes("m", MAX_RESERVATION_TTL_MINUTES),
            Ok(TimeDelta::days(30))
        );
        for bad in [0, MAX_RESERVATION_TTL_MINUTES + 1, u32::MAX] {
            let code = core_minutes("m", bad).map_err(|e| e.code().to_string());
            assert_eq!(code, Err("ENGINE_INVALID_INPUT".to_string()), "{bad}");
        }
    }

    #[test]
    fn actors_parse_or_are_refused() {
        let ctx = context(Some(CallContext {
            actor: Some("user:ayse".into()),
            idempotency_key: Some("k".into()),
        }));
        assert_eq!(ctx.map(|c| c.actor), Ok(Actor::User("ayse".into())));
        let bad = context(Some(CallContext {
            actor: Some("robot".into()),
            idempotency_key: None,
        }));
        assert_eq!(
            bad.map(|_| ()).map_err(|e| e.code().to_string()),
            Err("ENGINE_INVALID_INPUT".into())
        );
    }
}
