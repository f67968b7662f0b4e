//! Timestamps written the way chrono's serde support writes them, faster.
//!
//! chrono serialises a `DateTime<Utc>` through `Serializer::collect_str`, and
//! serde_json's `collect_str` escapes every fragment the formatter hands it, character
//! by character: a tenth of the JSON of a new order, and of every event and snapshot a
//! store writes as JSON. [`utc`] asks chrono for the very same text
//! (`to_rfc3339_opts(AutoSi, true)`, the function chrono's `Serialize` itself calls)
//! and writes it as one string. Reading is chrono's own, unchanged.

use chrono::{DateTime, SecondsFormat, Utc};

/// `#[serde(serialize_with = "crate::timefmt::utc")]`: the same text as chrono's
/// `Serialize` for `DateTime<Utc>` (RFC 3339, `Z`, 0, 3, 6 or 9 decimals of seconds).
pub(crate) fn utc<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, TimeZone, Utc};
    use proptest::prelude::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Fast(#[serde(serialize_with = "super::utc")] DateTime<Utc>);

    fn same_as_chrono(at: DateTime<Utc>) {
        let fast = serde_json::to_string(&Fast(at)).unwrap_or_else(|e| panic!("{e}"));
        let chrono = serde_json::to_string(&at).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fast, chrono);
    }

    #[test]
    fn edge_timestamps_are_written_as_chrono_writes_them() {
        for at in [
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            DateTime::<Utc>::UNIX_EPOCH,
            Utc.with_ymd_and_hms(2026, 11, 20, 9, 30, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap(),
        ] {
            same_as_chrono(at);
        }
        // A leap second (nanoseconds past 1e9) and each width of decimals.
        for nano in [
            1_500_000_000,
            1_000_000_000,
            120_000_000,
            123_456_000,
            123_456_789,
            1,
        ] {
            let naive = NaiveDate::from_ymd_opt(2016, 12, 31)
                .and_then(|d| d.and_hms_nano_opt(23, 59, 59, nano))
                .unwrap_or_else(|| panic!("valid time"));
            same_as_chrono(Utc.from_utc_datetime(&naive));
        }
    }

    proptest! {
        #[test]
        fn any_timestamp_is_written_as_chrono_writes_it(
            secs in DateTime::<Utc>::MIN_UTC.timestamp()..=DateTime::<Utc>::MAX_UTC.timestamp(),
            nanos in prop_oneof![Just(0u32), (0u32..1_000).prop_map(|m| m * 1_000_000),
                                 (0u32..1_000_000).prop_map(|u| u * 1_000), 0u32..1_000_000_000],
        ) {
            if let Some(at) = DateTime::from_timestamp(secs, nanos) {
                same_as_chrono(at);
            }
        }
    }
}
