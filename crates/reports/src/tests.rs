//! Unit tests for the report rules.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::model::*;
use crate::ops::Period;
use kernel::Timestamp;
use std::collections::HashMap;

#[test]
fn a_spike_stands_far_above_a_steady_week() {
    assert!(!is_spike(2, &[0, 0, 0, 0, 0, 0, 0]), "too few to matter");
    assert!(is_spike(3, &[0, 0, 0, 0, 0, 0, 0]));
    assert!(!is_spike(12, &[10, 9, 11, 10, 12, 8, 10]), "within the usual spread");
    assert!(is_spike(30, &[10, 9, 11, 10, 12, 8, 10]));
    assert!(!is_spike(20, &[2, 30, 1, 25, 3, 28, 2]), "a noisy reason needs more");
}

#[test]
fn daily_counts_fill_gaps_and_judge_each_day() {
    let mut counts = HashMap::new();
    for day in 100..107 {
        counts.insert((day, "outage".to_string()), 1);
    }
    counts.insert((107, "outage".to_string()), 9);
    counts.insert((105, "payment".to_string()), 2);
    let rows = daily(&counts, 106, 107);
    let outage: Vec<_> = rows.iter().filter(|r| r.reason_code == "outage").collect();
    assert_eq!(outage.len(), 2);
    assert!(!outage[0].spike && outage[1].spike);
    assert_eq!(outage[1].trailing_mean, 1.0);
    let payment: Vec<_> = rows.iter().filter(|r| r.reason_code == "payment").map(|r| r.count).collect();
    assert_eq!(payment, vec![0, 0], "zero days are reported too");
    assert_eq!(day_to_date(0), "1970-01-01");
    assert_eq!(iso_week("2026-11-25"), "2026-W48");
}

#[test]
fn rising_words_ignore_stop_words_and_rank_by_rise() {
    let recent: Vec<String> = vec![
        "Streetlight out on Elm".into(),
        "Another streetlight out".into(),
        "streetlight flickering near school".into(),
        "asked about bill".into(),
        "bill question about the bill".into(),
        "bill high".into(),
    ];
    let prior: Vec<String> = (0..20).map(|_| "bill explanation".to_string()).collect();
    let rising = rising_words(&recent, &prior, 7, 28, 10);
    assert_eq!(rising.first().map(|w| w.word.as_str()), Some("streetlight"));
    assert!(rising.iter().all(|w| w.word != "asked" && w.word != "about"));
    assert_eq!(words("The CUSTOMER's meter-reading"), vec!["meter", "reading"]);
}

#[test]
fn csv_cells_never_become_formulas() {
    assert_eq!(csv_cell("=SUM(A1)"), "'=SUM(A1)");
    assert_eq!(csv_cell("a,b"), "\"a,b\"");
    assert_eq!(csv_cell("plain"), "plain");
}

#[test]
fn periods_default_to_four_weeks_and_are_checked() {
    let today = Timestamp::from_micros(1_795_392_000 * 1_000_000 + 3_600_000_000);
    let p = Period::parse(None, None, today).unwrap();
    assert_eq!(p.to_day - p.from_day, 27);
    assert!(Period::parse(Some("2026-02-30"), None, today).is_err());
    assert!(Period::parse(Some("2026-11-20"), Some("2026-11-10"), today).is_err());
    assert!(Period::parse(Some("2024-01-01"), Some("2026-11-10"), today).is_err());
}
