//! Ship-by deadlines and delivery estimates on a shop's working calendar.
//!
//! Instants are UTC everywhere in ordersmith; a [`ShippingCalendar`] is where the shop's
//! time zone comes in, because a cut-off ("orders before 14:00 ship today"), a working
//! day and a holiday are local notions. The IANA database (`chrono-tz`) makes the
//! conversion correct across daylight-saving changes.
//!
//! ```
//! use chrono::{NaiveTime, TimeZone, Utc, Weekday};
//! use ordersmith::fulfilment::deadline::ShippingCalendar;
//!
//! // Istanbul (UTC+3 all year), cut-off 14:00, one handling day, closed on Sundays.
//! let cal = ShippingCalendar::new(chrono_tz::Europe::Istanbul, NaiveTime::from_hms_opt(14, 0, 0).unwrap(), 1)?
//!     .with_non_working_day(Weekday::Sun)?;
//! // Saturday 2026-03-07 10:00 local, before the cut-off: Saturday counts, one handling
//! // day skips Sunday, so it ships by Monday 14:00 local, 11:00 UTC.
//! let placed = Utc.with_ymd_and_hms(2026, 3, 7, 7, 0, 0).unwrap();
//! assert_eq!(cal.ship_by(placed)?, Utc.with_ymd_and_hms(2026, 3, 9, 11, 0, 0).unwrap());
//! # Ok::<(), ordersmith::fulfilment::deadline::CalendarError>(())
//! ```
//!
//! # A cut-off that does not exist, or exists twice
//!
//! On the day clocks go forward, a local time inside the gap (02:30 in Berlin on
//! 2026-03-29) does not exist; the cut-off is then the earliest valid instant after it,
//! the moment clocks resume (03:00 local, 01:00 UTC). On the day clocks go back, a local
//! time inside the repeated hour exists twice; the cut-off is the earlier of the two
//! instants. Either way the cut-off is never before the local time the shop chose on
//! an ordinary day.

use std::collections::BTreeSet;

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Timelike, Utc,
    Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Why a calendar or an estimate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(untagged)]
pub enum CalendarError {
    /// The calendar cannot work: every weekday closed, too many holidays, or more
    /// handling days than allowed.
    #[error("shipping calendar is invalid: {reason}")]
    Invalid {
        /// What is wrong.
        reason: &'static str,
    },
    /// Transit days with the minimum above the maximum, or above the limit.
    #[error("transit days {min}..={max} are invalid: the minimum must not exceed the maximum, nor the maximum {limit}")]
    InvalidTransitDays {
        /// The minimum given.
        min: u32,
        /// The maximum given.
        max: u32,
        /// The largest maximum allowed.
        limit: u32,
    },
    /// No working day was found where one was needed (holidays cover every day
    /// searched, or the date left the supported range).
    #[error("no working day found after {after}")]
    NoWorkingDay {
        /// The local date the search started from.
        after: NaiveDate,
    },
}

impl CalendarError {
    /// Every code this enum can return.
    pub const CODES: &'static [&'static str] = &[
        "FULFILMENT_CALENDAR_INVALID",
        "FULFILMENT_CALENDAR_INVALID_TRANSIT_DAYS",
        "FULFILMENT_CALENDAR_NO_WORKING_DAY",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "FULFILMENT_CALENDAR_INVALID",
            Self::InvalidTransitDays { .. } => "FULFILMENT_CALENDAR_INVALID_TRANSIT_DAYS",
            Self::NoWorkingDay { .. } => "FULFILMENT_CALENDAR_NO_WORKING_DAY",
        }
    }
}

/// The most handling days a calendar accepts.
pub const MAX_HANDLING_DAYS: u32 = 60;
/// The most transit days an estimate accepts.
pub const MAX_TRANSIT_DAYS: u32 = 180;
/// The most holidays a calendar holds (years of public holidays).
pub const MAX_HOLIDAYS: usize = 2_000;
/// How many days a search for the next working day looks ahead before giving up.
/// With at least one working weekday and at most [`MAX_HOLIDAYS`] holidays, a working
/// day is always found well within it.
const MAX_SEARCH_DAYS: u32 = 7 * (MAX_HOLIDAYS as u32 + 1);

/// A shop's shipping calendar: its time zone, daily cut-off, handling days, closed
/// weekdays and holidays (local dates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CalendarFields")]
pub struct ShippingCalendar {
    tz: Tz,
    cutoff: NaiveTime,
    handling_days: u32,
    non_working: BTreeSet<WeekdayName>,
    holidays: BTreeSet<NaiveDate>,
}

/// A weekday, ordered Monday first, serialised in lower case (`"sunday"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum WeekdayName {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl From<Weekday> for WeekdayName {
    fn from(d: Weekday) -> Self {
        match d {
            Weekday::Mon => WeekdayName::Monday,
            Weekday::Tue => WeekdayName::Tuesday,
            Weekday::Wed => WeekdayName::Wednesday,
            Weekday::Thu => WeekdayName::Thursday,
            Weekday::Fri => WeekdayName::Friday,
            Weekday::Sat => WeekdayName::Saturday,
            Weekday::Sun => WeekdayName::Sunday,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFields {
    tz: Tz,
    cutoff: NaiveTime,
    handling_days: u32,
    #[serde(default)]
    non_working: BTreeSet<WeekdayName>,
    #[serde(default)]
    holidays: BTreeSet<NaiveDate>,
}

impl TryFrom<CalendarFields> for ShippingCalendar {
    type Error = CalendarError;
    fn try_from(f: CalendarFields) -> Result<Self, Self::Error> {
        let cal = ShippingCalendar {
            tz: f.tz,
            cutoff: f.cutoff,
            handling_days: f.handling_days,
            non_working: f.non_working,
            holidays: f.holidays,
        };
        cal.validate()?;
        Ok(cal)
    }
}

impl ShippingCalendar {
    /// A calendar open every day, without holidays. `handling_days` is how many working
    /// days after the day an order counts from it must ship (0: the same day), at most
    /// [`MAX_HANDLING_DAYS`].
    pub fn new(tz: Tz, cutoff: NaiveTime, handling_days: u32) -> Result<Self, CalendarError> {
        let cal = ShippingCalendar {
            tz,
            cutoff,
            handling_days,
            non_working: BTreeSet::new(),
            holidays: BTreeSet::new(),
        };
        cal.validate()?;
        Ok(cal)
    }

    /// Closes a weekday (e.g. Sunday). Refused if it would close all seven.
    pub fn with_non_working_day(mut self, day: Weekday) -> Result<Self, CalendarError> {
        self.non_working.insert(day.into());
        self.validate()?;
        Ok(self)
    }

    /// Adds holidays (local dates). Refused beyond [`MAX_HOLIDAYS`].
    pub fn with_holidays(
        mut self,
        dates: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<Self, CalendarError> {
        for date in dates {
            self.holidays.insert(date);
            if self.holidays.len() > MAX_HOLIDAYS {
                return Err(CalendarError::Invalid {
                    reason: "more than 2000 holidays",
                });
            }
        }
        Ok(self)
    }

    fn validate(&self) -> Result<(), CalendarError> {
        if self.handling_days > MAX_HANDLING_DAYS {
            return Err(CalendarError::Invalid {
                reason: "more than 60 handling days",
            });
        }
        if self.non_working.len() >= 7 {
            return Err(CalendarError::Invalid {
                reason: "every weekday is closed",
            });
        }
        if self.holidays.len() > MAX_HOLIDAYS {
            return Err(CalendarError::Invalid {
                reason: "more than 2000 holidays",
            });
        }
        Ok(())
    }

    /// The time zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The daily cut-off, local time.
    pub fn cutoff(&self) -> NaiveTime {
        self.cutoff
    }

    /// The handling days.
    pub fn handling_days(&self) -> u32 {
        self.handling_days
    }

    /// Whether a local date is a working day: not a closed weekday, not a holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !self.non_working.contains(&date.weekday().into()) && !self.holidays.contains(&date)
    }

    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        let mut day = date;
        for _ in 0..MAX_SEARCH_DAYS {
            day = day
                .succ_opt()
                .ok_or(CalendarError::NoWorkingDay { after: date })?;
            if self.is_working_day(day) {
                return Ok(day);
            }
        }
        Err(CalendarError::NoWorkingDay { after: date })
    }

    /// `date` if it is a working day, else the next one.
    fn working_day_on_or_after(&self, date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        if self.is_working_day(date) {
            Ok(date)
        } else {
            self.next_working_day(date)
        }
    }

    /// The working day `days` working days after `date` (`date` itself for 0 if it is a
    /// working day, else the next one).
    pub fn add_working_days(&self, date: NaiveDate, days: u32) -> Result<NaiveDate, CalendarError> {
        let mut day = self.working_day_on_or_after(date)?;
        if !self.is_working_day(date) && days > 0 {
            // The first working day after a closed one is already day 1.
            for _ in 1..days {
                day = self.next_working_day(day)?;
            }
            return Ok(day);
        }
        for _ in 0..days {
            day = self.next_working_day(day)?;
        }
        Ok(day)
    }

    /// The cut-off on a local date as a UTC instant (see the module documentation for
    /// days when the local time does not exist or exists twice).
    pub fn cutoff_on(&self, date: NaiveDate) -> Result<DateTime<Utc>, CalendarError> {
        local_to_utc(self.tz, date, self.cutoff).ok_or(CalendarError::NoWorkingDay { after: date })
    }

    /// The instant an order placed at `placed_at` must ship by.
    ///
    /// An order placed before the cut-off on a working day counts from that day; one
    /// placed at or after the cut-off, or on a closed day, counts from the next working
    /// day. Then the handling days are added in working days, and the deadline is the
    /// cut-off of that day.
    pub fn ship_by(&self, placed_at: DateTime<Utc>) -> Result<DateTime<Utc>, CalendarError> {
        let local_date = placed_at.with_timezone(&self.tz).date_naive();
        let counts_today =
            self.is_working_day(local_date) && placed_at < self.cutoff_on(local_date)?;
        let start = if counts_today {
            local_date
        } else {
            self.next_working_day(local_date)?
        };
        let mut day = start;
        for _ in 0..self.handling_days {
            day = self.next_working_day(day)?;
        }
        self.cutoff_on(day)
    }

    /// The earliest and latest local delivery dates for a parcel shipped (or due to
    /// ship) at `shipped_or_ship_by`, with `transit_days_min..=transit_days_max` working
    /// days in transit counted from the local shipping date. Closed weekdays and
    /// holidays of this calendar are skipped; when the carrier's calendar differs from
    /// the warehouse's, build a second calendar for it.
    pub fn delivery_estimate(
        &self,
        shipped_or_ship_by: DateTime<Utc>,
        transit_days_min: u32,
        transit_days_max: u32,
    ) -> Result<(NaiveDate, NaiveDate), CalendarError> {
        if transit_days_min > transit_days_max || transit_days_max > MAX_TRANSIT_DAYS {
            return Err(CalendarError::InvalidTransitDays {
                min: transit_days_min,
                max: transit_days_max,
                limit: MAX_TRANSIT_DAYS,
            });
        }
        let shipped = shipped_or_ship_by.with_timezone(&self.tz).date_naive();
        Ok((
            self.add_working_days(shipped, transit_days_min)?,
            self.add_working_days(shipped, transit_days_max)?,
        ))
    }
}

/// The UTC instant of a local date and time in `tz`: the earlier one when the local
/// time exists twice, the first valid instant after it when it does not exist.
fn local_to_utc(tz: Tz, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    let naive = date.and_time(time);
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(dt) => Some(dt.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, _) => Some(earlier.with_timezone(&Utc)),
        LocalResult::None => {
            // Inside a gap: walk forward from the start of its minute to the first
            // local minute that exists, which is the instant clocks resumed. Gaps in
            // the IANA data are whole minutes and at most a day long.
            let start =
                naive
                    .date()
                    .and_time(NaiveTime::from_hms_opt(time.hour(), time.minute(), 0)?);
            (1..=24 * 60).find_map(|m| {
                tz.from_local_datetime(&(start + Duration::minutes(m)))
                    .earliest()
                    .map(|dt| dt.with_timezone(&Utc))
            })
        }
    }
}

/// Whether an order with this ship-by deadline is late at `now` (strictly after it).
pub fn is_late(ship_by: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now > ship_by
}

/// Whether an order is not late yet but will be within `margin` (`now + margin` at or
/// past the deadline). A late order is late, not at risk; a negative margin counts as
/// zero.
pub fn is_at_risk(ship_by: DateTime<Utc>, now: DateTime<Utc>, margin: Duration) -> bool {
    let margin = margin.max(Duration::zero());
    !is_late(ship_by, now)
        && now
            .checked_add_signed(margin)
            .is_none_or(|soon| soon >= ship_by)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Europe::Berlin, Europe::Istanbul};
    use proptest::prelude::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }
    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }
    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn istanbul() -> ShippingCalendar {
        ShippingCalendar::new(Istanbul, hm(14, 0), 1)
            .unwrap()
            .with_non_working_day(Weekday::Sun)
            .unwrap()
            // 23 April, National Sovereignty and Children's Day (a Thursday in 2026).
            .with_holidays([date(2026, 4, 23)])
            .unwrap()
    }

    #[test]
    fn istanbul_cutoff_handling_and_closed_days() {
        let cal = istanbul();
        // Monday 2026-03-02 10:00 local (07:00Z), before 14:00: Monday + 1 → Tuesday
        // 14:00 local = 11:00Z (Istanbul is UTC+3 all year).
        assert_eq!(
            cal.ship_by(utc(2026, 3, 2, 7, 0)).unwrap(),
            utc(2026, 3, 3, 11, 0)
        );
        // Exactly at the cut-off counts as after it: Tuesday + 1 → Wednesday.
        assert_eq!(
            cal.ship_by(utc(2026, 3, 2, 11, 0)).unwrap(),
            utc(2026, 3, 4, 11, 0)
        );
        // Sunday: starts Monday, ships Tuesday.
        assert_eq!(
            cal.ship_by(utc(2026, 3, 8, 7, 0)).unwrap(),
            utc(2026, 3, 10, 11, 0)
        );
        // Saturday 23:30 local is Saturday 20:30Z: after the cut-off, next working day
        // is Monday (Sunday closed), + 1 → Tuesday.
        assert_eq!(
            cal.ship_by(utc(2026, 3, 7, 20, 30)).unwrap(),
            utc(2026, 3, 10, 11, 0)
        );
        // 21:30Z Saturday is already Sunday 00:30 in Istanbul: the same.
        assert_eq!(
            cal.ship_by(utc(2026, 3, 7, 21, 30)).unwrap(),
            utc(2026, 3, 10, 11, 0)
        );
        // Wednesday 22 April before the cut-off: + 1 skips the holiday → Friday 24.
        assert_eq!(
            cal.ship_by(utc(2026, 4, 22, 8, 0)).unwrap(),
            utc(2026, 4, 24, 11, 0)
        );
        // Month end: Friday 30 January 16:00 local → Saturday 31 counts, + 1 skips
        // Sunday 1 February → Monday 2 February.
        assert_eq!(
            cal.ship_by(utc(2026, 1, 30, 13, 0)).unwrap(),
            utc(2026, 2, 2, 11, 0)
        );
        // Istanbul has no DST: the European change days move nothing.
        assert_eq!(
            cal.ship_by(utc(2026, 3, 28, 8, 0)).unwrap(),
            utc(2026, 3, 30, 11, 0)
        );
        assert_eq!(
            cal.ship_by(utc(2026, 10, 24, 8, 0)).unwrap(),
            utc(2026, 10, 26, 11, 0)
        );
        // Year end: Thursday 31 December 2026 after the cut-off → Friday 1 January + 1
        // → Saturday 2 January 2027.
        assert_eq!(
            cal.ship_by(utc(2026, 12, 31, 12, 0)).unwrap(),
            utc(2027, 1, 2, 11, 0)
        );
    }

    #[test]
    fn berlin_across_spring_forward() {
        // Open every day, cut-off 15:00, one handling day. 2026-03-29 (Sunday): CET
        // (UTC+1) becomes CEST (UTC+2) at 02:00 local.
        let cal = ShippingCalendar::new(Berlin, hm(15, 0), 1).unwrap();
        // Saturday 28 10:00 CET (09:00Z) → Sunday 29 15:00 CEST = 13:00Z.
        assert_eq!(
            cal.ship_by(utc(2026, 3, 28, 9, 0)).unwrap(),
            utc(2026, 3, 29, 13, 0)
        );
        // Friday 27 14:59 CET (13:59Z), before the cut-off → Saturday 28 15:00 CET = 14:00Z.
        assert_eq!(
            cal.ship_by(utc(2026, 3, 27, 13, 59)).unwrap(),
            utc(2026, 3, 28, 14, 0)
        );
        // Sunday 29 16:00 CEST (14:00Z), after → Monday 30 + 1 → Tuesday 31 (month
        // end) 15:00 CEST = 13:00Z.
        assert_eq!(
            cal.ship_by(utc(2026, 3, 29, 14, 0)).unwrap(),
            utc(2026, 3, 31, 13, 0)
        );
        // A cut-off at 02:30 does not exist on 29 March: 03:00 CEST = 01:00Z.
        let night = ShippingCalendar::new(Berlin, hm(2, 30), 0).unwrap();
        assert_eq!(
            night.cutoff_on(date(2026, 3, 29)).unwrap(),
            utc(2026, 3, 29, 1, 0)
        );
        // Saturday 03:00 CET (02:00Z) is after Saturday's 02:30 → Sunday's cut-off.
        assert_eq!(
            night.ship_by(utc(2026, 3, 28, 2, 0)).unwrap(),
            utc(2026, 3, 29, 1, 0)
        );
        // A cut-off with seconds inside the gap resolves to the same instant.
        let odd =
            ShippingCalendar::new(Berlin, NaiveTime::from_hms_opt(2, 59, 59).unwrap(), 0).unwrap();
        assert_eq!(
            odd.cutoff_on(date(2026, 3, 29)).unwrap(),
            utc(2026, 3, 29, 1, 0)
        );
    }

    #[test]
    fn berlin_across_fall_back() {
        // 2026-10-25: CEST → CET at 03:00 local, 02:00–03:00 happens twice.
        let night = ShippingCalendar::new(Berlin, hm(2, 30), 0).unwrap();
        // The earlier 02:30 is CEST: 00:30Z.
        assert_eq!(
            night.cutoff_on(date(2026, 10, 25)).unwrap(),
            utc(2026, 10, 25, 0, 30)
        );
        // Placed at 00:40Z (02:40 CEST, the first pass): after the earlier 02:30, so
        // it counts from Monday 26, 02:30 CET = 01:30Z.
        assert_eq!(
            night.ship_by(utc(2026, 10, 25, 0, 40)).unwrap(),
            utc(2026, 10, 26, 1, 30)
        );
        let cal = ShippingCalendar::new(Berlin, hm(15, 0), 1).unwrap();
        // Saturday 24 10:00 CEST (08:00Z) → Sunday 25 15:00 CET = 14:00Z.
        assert_eq!(
            cal.ship_by(utc(2026, 10, 24, 8, 0)).unwrap(),
            utc(2026, 10, 25, 14, 0)
        );
    }

    #[test]
    fn new_york_across_dst_end_and_start() {
        // Closed Saturday and Sunday, cut-off 17:00, one handling day. 2026-11-01
        // (Sunday): EDT (UTC−4) becomes EST (UTC−5) at 02:00 local.
        let cal = ShippingCalendar::new(New_York, hm(17, 0), 1)
            .unwrap()
            .with_non_working_day(Weekday::Sat)
            .unwrap()
            .with_non_working_day(Weekday::Sun)
            .unwrap();
        // Friday 30 October 16:00 EDT (20:00Z), before the cut-off (21:00Z that day)
        // → Monday 2 November 17:00 EST = 22:00Z.
        assert_eq!(
            cal.ship_by(utc(2026, 10, 30, 20, 0)).unwrap(),
            utc(2026, 11, 2, 22, 0)
        );
        // Friday 18:00 EDT (22:00Z), after → Monday counts, + 1 → Tuesday 3 November.
        assert_eq!(
            cal.ship_by(utc(2026, 10, 30, 22, 0)).unwrap(),
            utc(2026, 11, 3, 22, 0)
        );
        // 2026-03-08: EST → EDT at 02:00 local; a 02:30 cut-off is 03:00 EDT = 07:00Z.
        let night = ShippingCalendar::new(New_York, hm(2, 30), 0).unwrap();
        assert_eq!(
            night.cutoff_on(date(2026, 3, 8)).unwrap(),
            utc(2026, 3, 8, 7, 0)
        );
        assert_eq!(
            night.cutoff_on(date(2026, 3, 7)).unwrap(),
            utc(2026, 3, 7, 7, 30)
        );
        // Friday 6 March 17:00 EST is 22:00Z; the same cut-off a week later is 21:00Z.
        assert_eq!(
            cal.cutoff_on(date(2026, 3, 6)).unwrap(),
            utc(2026, 3, 6, 22, 0)
        );
        assert_eq!(
            cal.cutoff_on(date(2026, 3, 13)).unwrap(),
            utc(2026, 3, 13, 21, 0)
        );
    }

    #[test]
    fn delivery_estimates_skip_closed_days() {
        let cal = istanbul();
        // Shipped Friday 30 January 12:00 local; 1 to 3 working days: Saturday 31 January,
        // then Monday 2 and Tuesday 3 February (Sunday skipped).
        assert_eq!(
            cal.delivery_estimate(utc(2026, 1, 30, 9, 0), 1, 3).unwrap(),
            (date(2026, 1, 31), date(2026, 2, 3))
        );
        // 22:30Z Friday is Saturday 01:30 in Istanbul: counted from Saturday.
        assert_eq!(
            cal.delivery_estimate(utc(2026, 1, 30, 22, 30), 1, 2)
                .unwrap(),
            (date(2026, 2, 2), date(2026, 2, 3))
        );
        // Zero transit days: the same day if working, else the next working one.
        assert_eq!(
            cal.delivery_estimate(utc(2026, 2, 1, 9, 0), 0, 1).unwrap(),
            (date(2026, 2, 2), date(2026, 2, 2))
        );
        // Across the holiday.
        assert_eq!(
            cal.delivery_estimate(utc(2026, 4, 22, 9, 0), 1, 2).unwrap(),
            (date(2026, 4, 24), date(2026, 4, 25))
        );
        assert_eq!(
            cal.delivery_estimate(utc(2026, 4, 22, 9, 0), 3, 2)
                .unwrap_err()
                .code(),
            "FULFILMENT_CALENDAR_INVALID_TRANSIT_DAYS"
        );
        assert!(cal
            .delivery_estimate(utc(2026, 4, 22, 9, 0), 0, 181)
            .is_err());
    }

    #[test]
    fn late_and_at_risk() {
        let due = utc(2026, 3, 3, 11, 0);
        assert!(!is_late(due, due));
        assert!(is_late(due, due + Duration::seconds(1)));
        assert!(is_at_risk(
            due,
            due - Duration::hours(1),
            Duration::hours(2)
        ));
        assert!(!is_at_risk(
            due,
            due - Duration::hours(3),
            Duration::hours(2)
        ));
        assert!(is_at_risk(
            due,
            due - Duration::hours(2),
            Duration::hours(2)
        ));
        assert!(!is_at_risk(
            due,
            due + Duration::hours(1),
            Duration::hours(2)
        ));
        assert!(!is_at_risk(
            due,
            due - Duration::hours(1),
            Duration::hours(-5)
        ));
        assert!(is_at_risk(due, due, Duration::zero()));
    }

    #[test]
    fn calendar_refusals_and_serde() {
        let mut cal = ShippingCalendar::new(Istanbul, hm(14, 0), 0).unwrap();
        for d in [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
        ] {
            cal = cal.with_non_working_day(d).unwrap();
        }
        assert_eq!(
            cal.clone()
                .with_non_working_day(Weekday::Sun)
                .unwrap_err()
                .code(),
            "FULFILMENT_CALENDAR_INVALID"
        );
        assert!(ShippingCalendar::new(Istanbul, hm(14, 0), 61).is_err());
        // Only Sundays open and a year of Sundays as holidays: still found, later.
        let sundays = (0..52).map(|w| date(2026, 1, 4) + Duration::weeks(w));
        let cal = cal.with_holidays(sundays).unwrap();
        assert_eq!(
            cal.next_working_day(date(2026, 1, 1)).unwrap(),
            date(2027, 1, 3)
        );
        // Serde round trip, and unknown fields refused.
        let json = serde_json::to_string(&istanbul()).unwrap();
        assert!(json.contains("\"Europe/Istanbul\""), "{json}");
        assert!(json.contains("\"sunday\""), "{json}");
        assert_eq!(
            serde_json::from_str::<ShippingCalendar>(&json).unwrap(),
            istanbul()
        );
        assert!(serde_json::from_str::<ShippingCalendar>(
            r#"{"tz":"Europe/Berlin","cutoff":"15:00:00","handling_days":99}"#
        )
        .is_err());
        assert!(serde_json::from_str::<ShippingCalendar>(
            r#"{"tz":"Europe/Berlin","cutoff":"15:00:00","handling_days":1,"cutof":"x"}"#
        )
        .is_err());
    }

    fn zones() -> impl Strategy<Value = Tz> {
        prop_oneof![Just(Istanbul), Just(Berlin), Just(New_York)]
    }

    proptest! {
        #[test]
        fn ship_by_is_a_later_cutoff_on_a_working_day_and_monotonic(
            tz in zones(),
            cutoff_min in 0u32..(24 * 60),
            handling in 0u32..4,
            sunday_closed in any::<bool>(),
            a in 0i64..(366 * 24 * 60),
            b in 0i64..(366 * 24 * 60),
        ) {
            let cutoff = NaiveTime::from_hms_opt(cutoff_min / 60, cutoff_min % 60, 0).unwrap();
            let mut cal = ShippingCalendar::new(tz, cutoff, handling).unwrap();
            if sunday_closed {
                cal = cal.with_non_working_day(Weekday::Sun).unwrap();
            }
            let base = utc(2026, 1, 1, 0, 0);
            let (a, b) = (base + Duration::minutes(a.min(b)), base + Duration::minutes(a.max(b)));
            let due_a = cal.ship_by(a).unwrap();
            let due_b = cal.ship_by(b).unwrap();
            prop_assert!(due_a > a);
            prop_assert!(due_a <= due_b);
            let local = due_a.with_timezone(&tz);
            prop_assert!(cal.is_working_day(local.date_naive()));
            // The local time is the cut-off, or later on a day it does not exist.
            prop_assert!(local.time() >= cutoff);
            prop_assert_eq!(cal.cutoff_on(local.date_naive()).unwrap(), due_a);
        }
    }
}
