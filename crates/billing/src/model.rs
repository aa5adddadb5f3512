//! Billing's pure rules: rates as scaled integers parsed from decimal text, billing periods of a
//! cycle, meter usage and its estimation, and the rating of one account's agreements into bill
//! lines. No I/O: the bill run feeds these functions what it read and writes what they return.
//! The rounding rule (every line rounded half-even to minor units) is in DESIGN.md.

use crate::BillingError;
use kernel::Currency;
use ledger::BusinessDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// Rates carry six decimals: 0.1123 is 112_300 millionths of a currency unit per unit used.
pub const RATE_SCALE: i128 = 1_000_000;
/// Tax percentages carry four decimals: 6.25 % is 62_500.
pub const PERCENT_SCALE: i128 = 10_000;

/// `numerator / denominator` rounded to the nearest integer, ties to the even neighbour
/// (banker's rounding). `denominator` must be positive.
pub fn div_half_even(numerator: i128, denominator: i128) -> i128 {
    if denominator <= 0 {
        return 0;
    }
    let quotient = numerator.div_euclid(denominator);
    let remainder = numerator.rem_euclid(denominator);
    let twice = remainder * 2;
    if twice > denominator || (twice == denominator && quotient % 2 != 0) { quotient + 1 } else { quotient }
}

/// Parses non-negative decimal text with at most `decimals` digits after the point into an
/// integer scaled by 10^decimals.
fn parse_scaled(text: &str, decimals: u32) -> Option<i64> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 9 || !digits_only(whole) || !digits_only(fraction) {
        return None;
    }
    if fraction.len() > decimals as usize || (text.contains('.') && fraction.is_empty()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let mut scaled = whole.checked_mul(10_i64.pow(decimals))?;
    let mut place = 10_i64.pow(decimals);
    for digit in fraction.bytes() {
        place /= 10;
        scaled = scaled.checked_add(i64::from(digit - b'0') * place)?;
    }
    Some(scaled)
}

/// Scaled integer back to decimal text without trailing zeros ("0.1123", "6.25", "12").
fn format_scaled(value: i64, decimals: u32) -> String {
    let scale = 10_i64.pow(decimals);
    let fraction = format!("{:0width$}", value.rem_euclid(scale), width = decimals as usize);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{}", value.div_euclid(scale))
    } else {
        format!("{}.{fraction}", value.div_euclid(scale))
    }
}

/// A price per unit, in millionths of a currency unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate(pub i64);

impl Rate {
    pub fn parse(text: &str, field: &'static str) -> Result<Rate, BillingError> {
        parse_scaled(text, 6).map(Rate).ok_or(BillingError::RateInvalid { field })
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_scaled(self.0, 6))
    }
}

/// A tax rate in ten-thousandths of a percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxPercent(pub i64);

impl TaxPercent {
    pub fn parse(text: &str) -> Result<TaxPercent, BillingError> {
        match parse_scaled(text, 4) {
            Some(v) if v <= 100 * PERCENT_SCALE as i64 => Ok(TaxPercent(v)),
            _ => Err(BillingError::TaxInvalid),
        }
    }
}

impl std::fmt::Display for TaxPercent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_scaled(self.0, 4))
    }
}

/// One block of a tiered rate: units up to `up_to` (cumulative; `None` for the rest) at `rate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    pub up_to: Option<i64>,
    pub rate: Rate,
}

/// Blocks written `500:0.1123;*:0.1389`: limits strictly rising, the last one `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tiers(pub Vec<Tier>);

impl Tiers {
    pub fn parse(text: &str) -> Result<Tiers, BillingError> {
        let mut tiers = Vec::new();
        let mut previous = 0;
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (limit, rate) = part.split_once(':').ok_or(BillingError::TiersInvalid)?;
            if tiers.last().is_some_and(|t: &Tier| t.up_to.is_none()) {
                return Err(BillingError::TiersInvalid);
            }
            let up_to = match limit.trim() {
                "*" => None,
                n => match n.parse::<i64>() {
                    Ok(n) if n > previous => {
                        previous = n;
                        Some(n)
                    }
                    _ => return Err(BillingError::TiersInvalid),
                },
            };
            let rate = Rate::parse(rate, "tiers").map_err(|_| BillingError::TiersInvalid)?;
            tiers.push(Tier { up_to, rate });
        }
        if tiers.len() > 10 || tiers.last().is_none_or(|t| t.up_to.is_some()) {
            return Err(BillingError::TiersInvalid);
        }
        Ok(Tiers(tiers))
    }

    /// Splits `quantity` over the blocks: (units, rate) for each block that gets any.
    pub fn split(&self, quantity: i64) -> Vec<(i64, Rate)> {
        let mut out = Vec::new();
        let mut below = 0;
        for tier in &self.0 {
            let top = tier.up_to.unwrap_or(i64::MAX).min(quantity);
            if top > below {
                out.push((top - below, tier.rate));
                below = top;
            }
        }
        out
    }
}

impl std::fmt::Display for Tiers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|t| format!("{}:{}", t.up_to.map(|n| n.to_string()).unwrap_or_else(|| "*".into()), t.rate))
            .collect();
        f.write_str(&parts.join(";"))
    }
}

/// One version of a rate schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateVersion {
    pub rate_code: String,
    pub service_type: String,
    pub effective_from: BusinessDate,
    pub currency: Currency,
    pub unit: String,
    pub fixed_charge_minor: i64,
    pub minimum_charge_minor: i64,
    pub tiers: Tiers,
    pub tax: TaxPercent,
}

/// The version of `rate_code` in effect on `day`: the latest effective on or before it.
pub fn version_on<'a>(versions: &'a [RateVersion], rate_code: &str, day: BusinessDate) -> Option<&'a RateVersion> {
    versions.iter().filter(|v| v.rate_code == rate_code && v.effective_from <= day).max_by_key(|v| v.effective_from)
}

/// Parses a rate or schedule code such as `E-RES-1`.
pub fn parse_code(text: &str, field: &'static str) -> Result<String, BillingError> {
    let text = text.trim();
    let ok =
        (1..=40).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(text.to_string()) } else { Err(BillingError::CodeInvalid { field }) }
}

/// An amount typed as `12.50` into minor units of `currency`.
pub fn parse_amount(text: &str, currency: Currency, field: &'static str) -> Result<i64, BillingError> {
    parse_scaled(text, currency.exponent()).ok_or(BillingError::AmountInvalid { field })
}

/// The billing period of a cycle in a month: cycle C of 2026-11 runs from 2026-11-C to the day
/// before 2026-12-C; the bill is dated the day after the period ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub cycle: u8,
    pub year: i32,
    pub month: u8,
}

impl Period {
    pub fn parse(cycle: i64, month: &str) -> Result<Period, BillingError> {
        if !(1..=28).contains(&cycle) {
            return Err(BillingError::CycleInvalid);
        }
        let (year, mon) = month.trim().split_once('-').ok_or(BillingError::PeriodInvalid)?;
        let year: i32 = year.parse().map_err(|_| BillingError::PeriodInvalid)?;
        let month: u8 = mon.parse().map_err(|_| BillingError::PeriodInvalid)?;
        if !(2000..=2200).contains(&year) || !(1..=12).contains(&month) || mon.len() != 2 {
            return Err(BillingError::PeriodInvalid);
        }
        Ok(Period { cycle: cycle as u8, year, month })
    }

    /// `YYYY-MM`, the period's name on the bill and in its unique key.
    pub fn label(&self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    pub fn start(&self) -> BusinessDate {
        day(self.year, self.month, self.cycle)
    }

    pub fn end(&self) -> BusinessDate {
        let (year, month) = if self.month == 12 { (self.year + 1, 1) } else { (self.year, self.month + 1) };
        day(year, month, self.cycle).plus_days(-1)
    }

    pub fn bill_date(&self) -> BusinessDate {
        self.end().plus_days(1)
    }

    pub fn days(&self) -> i64 {
        self.start().days_until(self.end()) + 1
    }
}

fn day(year: i32, month: u8, day: u8) -> BusinessDate {
    let month = time::Month::try_from(month).unwrap_or(time::Month::January);
    let date = time::Date::from_calendar_date(year, month, day).unwrap_or(time::Date::MIN);
    BusinessDate::from_date(date)
}

/// How a reading came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReadKind {
    Actual,
    /// The dial passed its maximum and restarted at zero.
    Rollover,
    /// A new meter, starting at zero.
    Replacement,
    /// Written by a bill run when no read came in.
    Estimated,
}

impl ReadKind {
    pub fn code(self) -> &'static str {
        match self {
            ReadKind::Actual => "actual",
            ReadKind::Rollover => "rollover",
            ReadKind::Replacement => "replacement",
            ReadKind::Estimated => "estimated",
        }
    }

    /// Kinds a person may enter (estimates come only from bill runs).
    pub fn parse_entered(text: &str) -> Result<ReadKind, BillingError> {
        match text.trim() {
            "" | "actual" => Ok(ReadKind::Actual),
            "rollover" => Ok(ReadKind::Rollover),
            "replacement" => Ok(ReadKind::Replacement),
            _ => Err(BillingError::ReadKindInvalid),
        }
    }

    pub fn from_stored(text: &str) -> ReadKind {
        match text {
            "rollover" => ReadKind::Rollover,
            "replacement" => ReadKind::Replacement,
            "estimated" => ReadKind::Estimated,
            _ => ReadKind::Actual,
        }
    }

    /// The meter restarted at zero with this read.
    pub fn restarts(self) -> bool {
        matches!(self, ReadKind::Rollover | ReadKind::Replacement)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    pub date: BusinessDate,
    pub reading: i64,
    pub kind: ReadKind,
}

/// Refuses a reading below the meter's previous one unless the meter restarted.
pub fn check_new_read(previous: Option<&Read>, new: &Read) -> Result<(), BillingError> {
    if new.reading < 0 {
        return Err(BillingError::ReadingInvalid);
    }
    match previous {
        Some(p) if new.reading < p.reading && !new.kind.restarts() => Err(BillingError::ReadingBelowPrevious),
        _ => Ok(()),
    }
}

/// Daily usage assumed for a meter without history, in thousandths of a unit per day.
pub fn default_daily_usage_milli(service_type: &str) -> i64 {
    match service_type {
        "electric" => 30_000,
        "water" => 500,
        "gas" => 2_000,
        _ => 1_000,
    }
}

/// Usage over `days` from the average daily usage of the reads since the meter last restarted
/// (at least two reads on different days), else from the service's default.
pub fn estimate_usage(history: &[Read], days: i64, service_type: &str) -> i64 {
    let since_restart = history.iter().rposition(|r| r.kind.restarts()).unwrap_or(0);
    let usable = history.get(since_restart..).unwrap_or_default();
    if let (Some(first), Some(last)) = (usable.first(), usable.last()) {
        let span = first.date.days_until(last.date);
        if span > 0 && last.reading >= first.reading {
            let used = i128::from(last.reading - first.reading);
            return div_half_even(used * i128::from(days), i128::from(span)) as i64;
        }
    }
    div_half_even(i128::from(default_daily_usage_milli(service_type)) * i128::from(days), 1000) as i64
}

/// A meter's usage for a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub from: i64,
    pub to: i64,
    pub quantity: i64,
    pub estimated: bool,
    /// The estimated closing read to store, when no read came in.
    pub new_read: Option<Read>,
}

/// Usage between the last read before `first_day` (zero for a meter never read: it was
/// installed at zero) and the last read on or before `last_day`; estimated when there is none.
pub fn meter_usage(reads: &[Read], first_day: BusinessDate, last_day: BusinessDate, service_type: &str) -> Usage {
    let before: Vec<Read> = reads.iter().filter(|r| r.date < first_day).copied().collect();
    let opening = before.last().map(|r| r.reading).unwrap_or(0);
    let closing = reads.iter().rfind(|r| r.date >= first_day && r.date <= last_day);
    match closing {
        Some(c) => {
            let quantity = if c.kind.restarts() { c.reading } else { (c.reading - opening).max(0) };
            Usage { from: opening, to: c.reading, quantity, estimated: c.kind == ReadKind::Estimated, new_read: None }
        }
        None => {
            let days = first_day.days_until(last_day) + 1;
            let quantity = estimate_usage(&before, days, service_type);
            let to = opening.saturating_add(quantity);
            let new_read = Some(Read { date: last_day, reading: to, kind: ReadKind::Estimated });
            Usage { from: opening, to, quantity, estimated: true, new_read }
        }
    }
}

/// An agreement to rate, with its meter's reads (oldest first).
#[derive(Debug, Clone)]
pub struct AgreementToRate {
    pub agreement_id: i64,
    pub service_type: String,
    pub rate_code: String,
    pub start_date: BusinessDate,
    pub end_date: Option<BusinessDate>,
    pub meter: Option<(i64, String)>,
    pub reads: Vec<Read>,
}

/// What a bill line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Fixed,
    Usage,
    Minimum,
    Tax,
}

impl LineKind {
    pub fn code(self) -> &'static str {
        match self {
            LineKind::Fixed => "fixed",
            LineKind::Usage => "usage",
            LineKind::Minimum => "minimum",
            LineKind::Tax => "tax",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillLineDraft {
    pub agreement_id: i64,
    pub service_type: String,
    pub kind: LineKind,
    pub description: String,
    pub quantity: Option<i64>,
    pub rate: Option<String>,
    pub amount_minor: i64,
    pub meter_number: Option<String>,
    pub read_from: Option<i64>,
    pub read_to: Option<i64>,
    pub estimated: bool,
}

/// A rated bill before it is numbered and written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BillDraft {
    pub lines: Vec<BillLineDraft>,
    pub subtotal_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub estimated: bool,
    /// Revenue per service type, before tax: what the journal entry credits.
    pub revenue_by_service: BTreeMap<String, i64>,
    /// Estimated closing reads to store: (meter_id, read).
    pub new_reads: Vec<(i64, Read)>,
}

/// Why an account could not be billed; the run records it and carries on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unbillable {
    RateUnknown(String),
    CurrencyMismatch(String),
}

impl std::fmt::Display for Unbillable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unbillable::RateUnknown(code) => write!(f, "rate code {code} has no version in effect"),
            Unbillable::CurrencyMismatch(code) => write!(f, "rate code {code} bills in another currency"),
        }
    }
}
