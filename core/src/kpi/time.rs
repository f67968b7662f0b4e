//! Local days, ISO weeks and months in the shop's IANA time zone.
//!
//! An instant's local date comes from the IANA database (chrono-tz), never a fixed
//! offset, so an order at 23:30 local on a month's last day belongs to that month on
//! both sides of a daylight-saving change. Conversions are cached per local day: the
//! cache keeps the exact UTC interval `[start, end)` of a day, and only for days
//! without an offset change inside them, so a hit is always the exact answer.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Day 0 of the local day numbers.
pub(crate) const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// How KPIs are bucketed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grain {
    /// Local calendar days (`2026-01-31`).
    #[default]
    Day,
    /// ISO 8601 weeks, Monday to Sunday (`2026-W05`).
    IsoWeek,
    /// Local calendar months (`2026-01`).
    Month,
}

impl Grain {
    /// Parses `day`, `iso_week` (or `week`) or `month`.
    pub fn parse(text: &str) -> Option<Grain> {
        match text {
            "day" => Some(Grain::Day),
            "iso_week" | "week" => Some(Grain::IsoWeek),
            "month" => Some(Grain::Month),
            _ => None,
        }
    }

    /// The stable name (`day`, `iso_week`, `month`).
    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::IsoWeek => "iso_week",
            Grain::Month => "month",
        }
    }
}

/// The local date of a day number.
pub(crate) fn date_of(day: i32) -> NaiveDate {
    EPOCH
        .checked_add_signed(Duration::days(i64::from(day)))
        .unwrap_or(EPOCH)
}

/// The day number of a local date.
pub(crate) fn day_of_date(date: NaiveDate) -> i32 {
    i32::try_from(date.signed_duration_since(EPOCH).num_days()).unwrap_or(0)
}

/// The local date of `at` in `tz`.
pub fn local_date(tz: Tz, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// The bucket a local day falls in: its first day (the bucket's key) and its label.
pub fn bucket_of(grain: Grain, date: NaiveDate) -> (NaiveDate, String) {
    match grain {
        Grain::Day => (date, date.format("%Y-%m-%d").to_string()),
        Grain::IsoWeek => {
            let w = date.iso_week();
            let monday = NaiveDate::from_isoywd_opt(w.year(), w.week(), chrono::Weekday::Mon)
                .unwrap_or(date);
            (monday, format!("{}-W{:02}", w.year(), w.week()))
        }
        Grain::Month => {
            let first = date.with_day(1).unwrap_or(date);
            (first, date.format("%Y-%m").to_string())
        }
    }
}

/// The first instant of a local date: the earlier one when midnight exists twice, the
/// first existing instant when midnight falls in a gap.
fn day_start(tz: Tz, date: NaiveDate) -> Option<i64> {
    let midnight = date.and_hms_opt(0, 0, 0)?;
    match tz.from_local_datetime(&midnight) {
        LocalResult::Single(t) => Some(t.timestamp()),
        LocalResult::Ambiguous(t, _) => Some(t.timestamp()),
        LocalResult::None => (1..=24 * 60).find_map(|m| {
            tz.from_local_datetime(&(midnight + Duration::minutes(m)))
                .earliest()
                .map(|t| t.timestamp())
        }),
    }
}

/// A small direct-mapped cache of local-day intervals.
#[derive(Debug, Clone)]
pub(crate) struct DayCache {
    slots: Vec<(i64, i64, i32)>,
    /// The slot of the last answer: facts mostly arrive in time order.
    last: (i64, i64, i32),
}

impl Default for DayCache {
    fn default() -> Self {
        DayCache {
            slots: vec![(1, 0, 0); 64],
            last: (1, 0, 0),
        }
    }
}

impl DayCache {
    /// The local day number of the instant `at` (Unix seconds) in `tz`.
    ///
    /// Slots are keyed by local day; a local day is within one day of the UTC day, so
    /// three slots are probed.
    pub(crate) fn day(&mut self, tz: Tz, at: i64) -> i32 {
        let (start, end, day) = self.last;
        if start <= at && at < end {
            return day;
        }
        let utc_day = at.div_euclid(86_400);
        for d in [utc_day, utc_day + 1, utc_day - 1] {
            if let Some(slot) = self.slots.get(d.rem_euclid(64) as usize) {
                if slot.0 <= at && at < slot.1 {
                    self.last = *slot;
                    return slot.2;
                }
            }
        }
        let Some(utc) = DateTime::<Utc>::from_timestamp(at, 0) else {
            return 0;
        };
        let date = local_date(tz, utc);
        let day = day_of_date(date);
        if let (Some(start), Some(next)) = (
            day_start(tz, date),
            date.succ_opt().and_then(|d| day_start(tz, d)),
        ) {
            // Only cache days with one offset throughout: then every instant in
            // [start, next) has this local date.
            let offset_at = |t: i64| {
                DateTime::<Utc>::from_timestamp(t, 0)
                    .map(|t| tz.offset_from_utc_datetime(&t.naive_utc()))
            };
            let same_offset =
                offset_at(start) == offset_at(at) && offset_at(next - 1) == offset_at(at);
            if same_offset && start <= at && at < next {
                if let Some(s) = self.slots.get_mut(i64::from(day).rem_euclid(64) as usize) {
                    *s = (start, next, day);
                }
            }
        }
        day
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Europe::Berlin, Europe::Istanbul};

    fn at(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.timestamp())
            .unwrap_or(0)
    }

    #[test]
    fn cached_days_equal_chrono_tz_every_quarter_hour_around_dst_changes() {
        for tz in [Istanbul, Berlin, New_York] {
            let mut cache = DayCache::default();
            for start in [
                "2026-03-07T00:00:00Z",
                "2026-03-27T00:00:00Z",
                "2026-10-23T00:00:00Z",
                "2026-10-30T00:00:00Z",
            ] {
                for step in 0..(10 * 96) {
                    let t = at(start) + step * 900 + 7;
                    let want = day_of_date(local_date(
                        tz,
                        DateTime::from_timestamp(t, 0).unwrap_or_default(),
                    ));
                    assert_eq!(cache.day(tz, t), want, "{tz} {t}");
                }
            }
        }
    }

    #[test]
    fn iso_weeks_and_months_are_labelled_from_the_local_date() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or(EPOCH);
        assert_eq!(bucket_of(Grain::IsoWeek, d).1, "2026-W01");
        let d = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap_or(EPOCH);
        // 1 January 2027 is a Friday: ISO week 53 of 2026.
        assert_eq!(bucket_of(Grain::IsoWeek, d).1, "2026-W53");
        assert_eq!(bucket_of(Grain::Month, d), (d, "2027-01".to_string()));
    }
}
