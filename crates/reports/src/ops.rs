//! Builds the inquiries report for a period.

use crate::model::{self, DayCount, RisingWord};
use crate::{ReportError, store};
use db::Tx;
use kernel::Timestamp;
use serde::Serialize;
use std::collections::HashMap;

const MAX_DAYS: i64 = 366;
/// The rising-words comparison: the last week of the period against the four weeks before it.
const RECENT_DAYS: i64 = 7;
const PRIOR_DAYS: i64 = 28;

/// The period asked for, as day numbers since the Unix epoch (UTC), inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from_day: i64,
    pub to_day: i64,
}

fn parse_day(text: &str, field: &'static str) -> Result<i64, ReportError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text.trim(), &format).map_err(|_| ReportError::DateInvalid { field })?;
    Ok(i64::from(date.to_julian_day()) - 2_440_588)
}

impl Period {
    /// From optional `from`/`to` dates; by default the 28 days ending today.
    pub fn parse(from: Option<&str>, to: Option<&str>, today: Timestamp) -> Result<Period, ReportError> {
        let today = today.unix_seconds().div_euclid(86_400);
        let to_day = match to.filter(|t| !t.trim().is_empty()) {
            Some(t) => parse_day(t, "to")?,
            None => today,
        };
        let from_day = match from.filter(|f| !f.trim().is_empty()) {
            Some(f) => parse_day(f, "from")?,
            None => to_day - 27,
        };
        if to_day < from_day {
            return Err(ReportError::PeriodReversed);
        }
        if to_day - from_day >= MAX_DAYS {
            return Err(ReportError::PeriodTooLong);
        }
        Ok(Period { from_day, to_day })
    }
}

/// One reason's total over the period, with its label and spike days.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReasonTotal {
    pub reason_code: String,
    pub label: String,
    pub total: i64,
    pub spike_days: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WeekCount {
    /// ISO week, e.g. 2026-W48
    pub week: String,
    pub reason_code: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InquiriesReport {
    pub from: String,
    pub to: String,
    pub reasons: Vec<ReasonTotal>,
    pub days: Vec<DayCount>,
    pub weeks: Vec<WeekCount>,
    pub spikes: Vec<DayCount>,
    pub rising_words: Vec<RisingWord>,
    /// Total contacts per day of the period, for the chart.
    pub daily_totals: Vec<(String, i64)>,
}

pub async fn inquiries(tx: &mut Tx, period: Period) -> Result<InquiriesReport, ReportError> {
    let history_from = period.from_day - model::TRAILING_DAYS as i64;
    let mut counts: HashMap<(i64, String), i64> = HashMap::new();
    for (day, reason, count) in store::counts_by_day(tx, history_from, period.to_day).await? {
        counts.insert((day, reason), count);
    }
    let days = model::daily(&counts, period.from_day, period.to_day);
    let labels: HashMap<String, String> = store::reason_labels(tx).await?.into_iter().collect();
    let mut reasons: Vec<ReasonTotal> = Vec::new();
    for day in &days {
        let entry = match reasons.iter_mut().find(|r| r.reason_code == day.reason_code) {
            Some(entry) => entry,
            None => {
                reasons.push(ReasonTotal {
                    reason_code: day.reason_code.clone(),
                    label: labels.get(&day.reason_code).cloned().unwrap_or_else(|| day.reason_code.clone()),
                    total: 0,
                    spike_days: Vec::new(),
                });
                let last = reasons.len() - 1;
                match reasons.get_mut(last) {
                    Some(entry) => entry,
                    None => continue,
                }
            }
        };
        entry.total += day.count;
        if day.spike {
            entry.spike_days.push(day.date.clone());
        }
    }
    reasons.retain(|r| r.total > 0);
    reasons.sort_by(|a, b| b.total.cmp(&a.total).then(a.reason_code.cmp(&b.reason_code)));
    let weeks = model::weekly(&days)
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|((week, reason_code), count)| WeekCount { week, reason_code, count })
        .collect();
    let recent_from = (period.to_day - RECENT_DAYS + 1).max(period.from_day);
    let recent = store::summaries(tx, recent_from, period.to_day).await?;
    let prior = store::summaries(tx, recent_from - PRIOR_DAYS, recent_from - 1).await?;
    let rising_words = model::rising_words(&recent, &prior, period.to_day - recent_from + 1, PRIOR_DAYS, 15);
    let daily_totals = (period.from_day..=period.to_day)
        .map(|day| {
            let date = model::day_to_date(day);
            let total = days.iter().filter(|d| d.date == date).map(|d| d.count).sum();
            (date, total)
        })
        .collect();
    let spikes = days.iter().filter(|d| d.spike).cloned().collect();
    Ok(InquiriesReport {
        from: model::day_to_date(period.from_day),
        to: model::day_to_date(period.to_day),
        reasons,
        days: days.into_iter().filter(|d| d.count > 0).collect(),
        weeks,
        spikes,
        rising_words,
        daily_totals,
    })
}

/// The report as CSV: one row per reason and day with a count, then the rising words.
pub fn csv(report: &InquiriesReport) -> String {
    let mut out = String::from("date,reason_code,count,trailing_mean,spike\n");
    for d in &report.days {
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            model::csv_cell(&d.date),
            model::csv_cell(&d.reason_code),
            d.count,
            d.trailing_mean,
            d.spike
        ));
    }
    out.push_str("\nword,recent_count,prior_count,rise\n");
    for w in &report.rising_words {
        out.push_str(&format!("{},{},{},{}\n", model::csv_cell(&w.word), w.recent_count, w.prior_count, w.rise));
    }
    out
}
