//! The rules of the inquiries report, pure: spike detection on daily counts, words rising in
//! contact summaries, weekly roll-ups and CSV cells that cannot be read as formulas.

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Days of history a day is compared with.
pub const TRAILING_DAYS: usize = 7;
/// A day is a spike when it has at least this many contacts for the reason...
pub const SPIKE_MIN_COUNT: i64 = 3;
/// ...and reaches the trailing mean plus this many standard deviations (at least one contact each).
pub const SPIKE_SIGMAS: f64 = 3.0;

/// Mean and standard deviation of the trailing window.
pub fn trailing_stats(window: &[i64]) -> (f64, f64) {
    if window.is_empty() {
        return (0.0, 0.0);
    }
    let n = window.len() as f64;
    let mean = window.iter().sum::<i64>() as f64 / n;
    let variance = window.iter().map(|c| (*c as f64 - mean).powi(2)).sum::<f64>() / n;
    (mean, variance.sqrt())
}

/// Whether `count` stands far above its trailing window.
pub fn is_spike(count: i64, window: &[i64]) -> bool {
    let (mean, deviation) = trailing_stats(window);
    count >= SPIKE_MIN_COUNT && (count as f64) >= mean + SPIKE_SIGMAS * deviation.max(1.0)
}

/// One reason on one day.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DayCount {
    /// YYYY-MM-DD (UTC)
    pub date: String,
    pub reason_code: String,
    pub count: i64,
    /// Mean of the previous seven days for this reason.
    pub trailing_mean: f64,
    pub spike: bool,
}

/// Day numbers since the Unix epoch to YYYY-MM-DD.
pub fn day_to_date(day: i64) -> String {
    time::Date::from_julian_day(i32::try_from(day + 2_440_588).unwrap_or(2_440_588))
        .map(|d| d.to_string())
        .unwrap_or_default()
}

/// Daily counts per reason (with zero days filled in), each judged against its trailing week.
/// `counts` maps (day, reason) to a count; `from_day..=to_day` is the reported range.
pub fn daily(counts: &HashMap<(i64, String), i64>, from_day: i64, to_day: i64) -> Vec<DayCount> {
    let mut reasons: Vec<&String> = counts.keys().map(|(_, r)| r).collect();
    reasons.sort();
    reasons.dedup();
    let mut rows = Vec::new();
    for reason in reasons {
        let count_on = |day: i64| counts.get(&(day, reason.clone())).copied().unwrap_or(0);
        for day in from_day..=to_day {
            let window: Vec<i64> = (day - TRAILING_DAYS as i64..day).map(count_on).collect();
            let count = count_on(day);
            let (mean, _) = trailing_stats(&window);
            rows.push(DayCount {
                date: day_to_date(day),
                reason_code: reason.clone(),
                count,
                trailing_mean: (mean * 100.0).round() / 100.0,
                spike: is_spike(count, &window),
            });
        }
    }
    rows
}

/// ISO week label (`2026-W48`) of a YYYY-MM-DD date.
pub fn iso_week(date: &str) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(date, &format) {
        Ok(d) => {
            let (year, week, _) = d.to_iso_week_date();
            format!("{year}-W{week:02}")
        }
        Err(_) => String::new(),
    }
}

/// Weekly totals per reason: (week, reason) → count, in order.
pub fn weekly(days: &[DayCount]) -> BTreeMap<(String, String), i64> {
    let mut weeks = BTreeMap::new();
    for d in days {
        *weeks.entry((iso_week(&d.date), d.reason_code.clone())).or_insert(0) += d.count;
    }
    weeks
}

const STOP_WORDS: &[&str] = &[
    "about", "after", "again", "also", "asked", "because", "been", "before", "call", "called", "calling", "could",
    "customer", "from", "have", "help", "into", "just", "know", "like", "more", "need", "needs", "said", "says",
    "should", "some", "than", "that", "their", "them", "then", "there", "they", "this", "wants", "were", "what",
    "when", "which", "will", "with", "would", "your",
];

/// The words of a summary that carry meaning: lower case, letters only, four or more letters.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphabetic())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 4 && !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

/// A word whose use rose in the recent window.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RisingWord {
    pub word: String,
    pub recent_count: i64,
    pub prior_count: i64,
    /// Recent uses per day over prior uses per day, each plus one.
    pub rise: f64,
}

/// Words used at least three times recently, ranked by how much faster they are used now.
pub fn rising_words(
    recent: &[String],
    prior: &[String],
    recent_days: i64,
    prior_days: i64,
    limit: usize,
) -> Vec<RisingWord> {
    let tally = |texts: &[String]| {
        let mut counts: HashMap<String, i64> = HashMap::new();
        for text in texts {
            let mut seen: Vec<String> = words(text);
            seen.sort();
            seen.dedup();
            for word in seen {
                *counts.entry(word).or_insert(0) += 1;
            }
        }
        counts
    };
    let (now, before) = (tally(recent), tally(prior));
    let mut rising: Vec<RisingWord> = now
        .into_iter()
        .filter(|(_, n)| *n >= 3)
        .map(|(word, recent_count)| {
            let prior_count = before.get(&word).copied().unwrap_or(0);
            let recent_rate = recent_count as f64 / recent_days.max(1) as f64;
            let prior_rate = prior_count as f64 / prior_days.max(1) as f64;
            let rise = ((recent_rate + 1.0) / (prior_rate + 1.0) * 100.0).round() / 100.0;
            RisingWord { word, recent_count, prior_count, rise }
        })
        .filter(|w| w.rise > 1.0)
        .collect();
    rising
        .sort_by(|a, b| b.rise.total_cmp(&a.rise).then(b.recent_count.cmp(&a.recent_count)).then(a.word.cmp(&b.word)));
    rising.truncate(limit);
    rising
}

/// A CSV cell that a spreadsheet will not run as a formula.
pub fn csv_cell(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_string() };
    if guarded.contains([',', '"', '\n']) { format!("\"{}\"", guarded.replace('"', "\"\"")) } else { guarded }
}
