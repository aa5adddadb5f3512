//! Business calendars: working hours per weekday, holidays and the time zone (a fixed offset
//! from UTC), and the two sums SLA clocks need — business seconds between two instants, and an
//! instant a number of business seconds after another. Pure arithmetic, tested against weekends,
//! holidays and partial days.

use kernel::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use time::{Date, Weekday};

const DAY_SECONDS: i64 = 86_400;
/// No clock runs further than this many days ahead; a calendar without hours never closes a loop.
const MAX_DAYS: i64 = 3_660;

/// Opening hours of one weekday as minutes after local midnight, `[open, close)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DayHours {
    pub open_minute: u32,
    pub close_minute: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    /// Local time = UTC + this many minutes, when no time zone is named.
    pub utc_offset_minutes: i32,
    /// An IANA time zone (e.g. America/Chicago); when set, it decides local time, daylight
    /// saving included, and the fixed offset is ignored.
    pub time_zone: Option<jiff::tz::TimeZone>,
    /// Monday first.
    pub week: [Option<DayHours>; 7],
    pub holidays: BTreeSet<Date>,
}

impl BusinessCalendar {
    /// Monday to Friday, 08:00 to 17:00, at the given offset, no holidays.
    pub fn office_hours(utc_offset_minutes: i32) -> BusinessCalendar {
        let day = Some(DayHours { open_minute: 8 * 60, close_minute: 17 * 60 });
        BusinessCalendar {
            utc_offset_minutes,
            time_zone: None,
            week: [day, day, day, day, day, None, None],
            holidays: BTreeSet::new(),
        }
    }

    /// Round the clock, every day.
    pub fn always() -> BusinessCalendar {
        let day = Some(DayHours { open_minute: 0, close_minute: 24 * 60 });
        BusinessCalendar { utc_offset_minutes: 0, time_zone: None, week: [day; 7], holidays: BTreeSet::new() }
    }

    fn offset_seconds(&self) -> i64 {
        i64::from(self.utc_offset_minutes) * 60
    }

    /// The open window of a local day (by day number since the Unix epoch) in UTC seconds.
    fn window(&self, local_day: i64) -> Option<(i64, i64)> {
        let date = Date::from_julian_day(i32::try_from(local_day + 2_440_588).ok()?).ok()?;
        if self.holidays.contains(&date) {
            return None;
        }
        let index = match date.weekday() {
            Weekday::Monday => 0,
            Weekday::Tuesday => 1,
            Weekday::Wednesday => 2,
            Weekday::Thursday => 3,
            Weekday::Friday => 4,
            Weekday::Saturday => 5,
            Weekday::Sunday => 6,
        };
        let hours = self.week.get(index).copied().flatten()?;
        if hours.close_minute <= hours.open_minute {
            return None;
        }
        Some((self.to_utc(date, local_day, hours.open_minute)?, self.to_utc(date, local_day, hours.close_minute)?))
    }

    /// The UTC instant (seconds) of `minute` minutes after local midnight on a local day.
    fn to_utc(&self, date: Date, local_day: i64, minute: u32) -> Option<i64> {
        let Some(zone) = &self.time_zone else {
            return Some(local_day * DAY_SECONDS - self.offset_seconds() + i64::from(minute) * 60);
        };
        let civil = jiff::civil::date(date.year() as i16, u8::from(date.month()) as i8, date.day() as i8);
        let at = civil
            .to_datetime(jiff::civil::Time::midnight())
            .checked_add(jiff::Span::new().minutes(i64::from(minute)))
            .ok()?;
        let zoned = zone.to_ambiguous_zoned(at).compatible().ok()?;
        Some(zoned.timestamp().as_second())
    }

    fn local_day(&self, unix_seconds: i64) -> i64 {
        let offset = match &self.time_zone {
            Some(zone) => jiff::Timestamp::from_second(unix_seconds)
                .map(|t| i64::from(zone.to_offset(t).seconds()))
                .unwrap_or(self.offset_seconds()),
            None => self.offset_seconds(),
        };
        (unix_seconds + offset).div_euclid(DAY_SECONDS)
    }

    /// Business seconds in `[from, to)`; zero when `to` is not after `from`.
    pub fn business_seconds_between(&self, from: Timestamp, to: Timestamp) -> i64 {
        let (from, to) = (from.unix_seconds(), to.unix_seconds());
        if to <= from {
            return 0;
        }
        let (first, last) = (self.local_day(from), self.local_day(to));
        (first..=last.min(first + MAX_DAYS))
            .filter_map(|day| self.window(day))
            .map(|(open, close)| (close.min(to) - open.max(from)).max(0))
            .sum()
    }

    /// The instant `seconds` business seconds after `from` (or `None` if the calendar has no
    /// open hours within ten years).
    pub fn add_business_seconds(&self, from: Timestamp, seconds: i64) -> Option<Timestamp> {
        let start = from.unix_seconds();
        let mut remaining = seconds.max(0);
        let first = self.local_day(start);
        for day in first..=first + MAX_DAYS {
            let Some((open, close)) = self.window(day) else { continue };
            let begin = open.max(start);
            if begin >= close {
                continue;
            }
            let available = close - begin;
            if remaining <= available {
                return Some(Timestamp::from_micros((begin + remaining) * 1_000_000));
            }
            remaining -= available;
        }
        None
    }
}
