//! Instants and the clock. Logic never reads the wall clock itself: it is handed a `Clock` (the
//! system clock in production, a fixed or advancing one in tests), so time-based rules such as
//! session timeouts and lockouts are testable to the microsecond.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicI64, Ordering};
use time::OffsetDateTime;

/// A UTC instant as integer microseconds since the Unix epoch; stored as such in both databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

pub const MICROS_PER_SECOND: i64 = 1_000_000;

impl Timestamp {
    pub fn from_micros(micros: i64) -> Timestamp {
        Timestamp(micros)
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    pub fn plus_seconds(self, seconds: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(seconds.saturating_mul(MICROS_PER_SECOND)))
    }

    pub fn minus_seconds(self, seconds: i64) -> Timestamp {
        self.plus_seconds(-seconds)
    }

    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(MICROS_PER_SECOND)
    }

    pub fn to_offset_date_time(self) -> OffsetDateTime {
        let nanos = i128::from(self.0) * 1_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// RFC 3339 text in UTC, as shown in the API.
    pub fn to_rfc3339(self) -> String {
        self.to_offset_date_time().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
    }

    /// A short human form for screens: `2026-11-25 09:52 UTC`.
    pub fn to_display(self) -> String {
        let t = self.to_offset_date_time();
        format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
    }
}

/// Where "now" comes from.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Timestamp(i64::try_from(nanos / 1_000).unwrap_or(i64::MAX))
    }
}

/// A clock for tests: stands still until advanced.
#[derive(Debug, Default)]
pub struct FixedClock {
    micros: AtomicI64,
}

impl FixedClock {
    pub fn at(at: Timestamp) -> FixedClock {
        FixedClock { micros: AtomicI64::new(at.0) }
    }

    pub fn advance_seconds(&self, seconds: i64) {
        self.micros.fetch_add(seconds * MICROS_PER_SECOND, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.micros.load(Ordering::SeqCst))
    }
}
