//! Unit tests of rating (blocks, minimum, tax, proration, rounding), periods, read validation
//! and estimates; store tests of the bill run on whichever database the environment selects.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use crate::BillingError;
use crate::model::*;
use crate::rating::*;
use kernel::Currency;
use ledger::BusinessDate;

fn d(text: &str) -> BusinessDate {
    BusinessDate::parse(text, "date").unwrap()
}

fn res_rate() -> RateVersion {
    RateVersion {
        rate_code: "E-RES-1".into(),
        service_type: "electric".into(),
        effective_from: d("2020-01-01"),
        currency: Currency::USD,
        unit: "kWh".into(),
        fixed_charge_minor: 1250,
        minimum_charge_minor: 1500,
        tiers: Tiers::parse("500:0.1123;*:0.1389").unwrap(),
        tax: TaxPercent::parse("6.25").unwrap(),
    }
}

fn agreement(reads: Vec<Read>) -> AgreementToRate {
    AgreementToRate {
        agreement_id: 1,
        service_type: "electric".into(),
        rate_code: "E-RES-1".into(),
        start_date: d("2021-03-01"),
        end_date: None,
        meter: Some((7, "M1".into())),
        reads,
    }
}

fn read(date: &str, reading: i64) -> Read {
    Read { date: d(date), reading, kind: ReadKind::Actual }
}

#[test]
fn half_even_rounds_ties_to_the_even_neighbour() {
    assert_eq!(div_half_even(25, 10), 2);
    assert_eq!(div_half_even(35, 10), 4);
    assert_eq!(div_half_even(26, 10), 3);
    assert_eq!(div_half_even(24, 10), 2);
    assert_eq!(div_half_even(-25, 10), -2);
    assert_eq!(div_half_even(-35, 10), -4);
    assert_eq!(div_half_even(7, 0), 0);
}

#[test]
fn rates_and_percentages_parse_as_scaled_integers_and_print_back() {
    assert_eq!(Rate::parse("0.1123", "rate").unwrap(), Rate(112_300));
    assert_eq!(Rate::parse("2", "rate").unwrap(), Rate(2_000_000));
    assert_eq!(Rate::parse("0.1123", "rate").unwrap().to_string(), "0.1123");
    assert!(Rate::parse("0.1234567", "rate").is_err());
    assert!(Rate::parse("-1", "rate").is_err());
    assert!(Rate::parse("1.", "rate").is_err());
    assert!(Rate::parse("abc", "rate").is_err());
    assert_eq!(TaxPercent::parse("6.25").unwrap(), TaxPercent(62_500));
    assert!(matches!(TaxPercent::parse("101"), Err(BillingError::TaxInvalid)));
    assert_eq!(parse_amount("12.50", Currency::USD, "fixed_charge").unwrap(), 1250);
    assert_eq!(parse_amount("12.5", Currency::USD, "fixed_charge").unwrap(), 1250);
    assert!(parse_amount("12.505", Currency::USD, "fixed_charge").is_err());
}

#[test]
fn tiers_parse_split_and_refuse_bad_blocks() {
    let tiers = Tiers::parse("500:0.1123;*:0.1389").unwrap();
    assert_eq!(tiers.split(800), vec![(500, Rate(112_300)), (300, Rate(138_900))]);
    assert_eq!(tiers.split(200), vec![(200, Rate(112_300))]);
    assert_eq!(tiers.split(0), vec![]);
    assert_eq!(tiers.to_string(), "500:0.1123;*:0.1389");
    for bad in ["", "500:0.1", "500:0.1;400:0.2;*:0.3", "*:0.1;*:0.2", "x:0.1;*:0.2", "500;*:1"] {
        assert!(matches!(Tiers::parse(bad), Err(BillingError::TiersInvalid)), "{bad}");
    }
}

#[test]
fn a_period_of_a_cycle_runs_from_its_day_to_the_day_before_next_month() {
    let p = Period::parse(5, "2026-11").unwrap();
    assert_eq!(p.start().to_string(), "2026-11-05");
    assert_eq!(p.end().to_string(), "2026-12-04");
    assert_eq!(p.bill_date().to_string(), "2026-12-05");
    assert_eq!(p.days(), 30);
    let first = Period::parse(1, "2026-12").unwrap();
    assert_eq!(first.end().to_string(), "2026-12-31");
    assert_eq!(first.days(), 31);
    assert!(matches!(Period::parse(29, "2026-11"), Err(BillingError::CycleInvalid)));
    assert!(matches!(Period::parse(1, "2026-13"), Err(BillingError::PeriodInvalid)));
    assert!(matches!(Period::parse(1, "2026-1"), Err(BillingError::PeriodInvalid)));
}

#[test]
fn blocks_fixed_charge_and_tax_make_the_bill() {
    // cycle 1 of 2026-11: 30 days; 800 kWh read.
    let period = Period::parse(1, "2026-11").unwrap();
    let a = agreement(vec![read("2026-10-31", 1000), read("2026-11-30", 1800)]);
    let bill = rate_account(&[a], &[res_rate()], &period, Currency::USD).unwrap();
    // 500 × 0.1123 = 56.15; 300 × 0.1389 = 41.67; fixed 12.50; base 110.32; tax 6.25 % = 6.895 -> 6.90 (half-even)
    let amounts: Vec<i64> = bill.lines.iter().map(|l| l.amount_minor).collect();
    assert_eq!(amounts, vec![1250, 5615, 4167, 690]);
    assert_eq!(bill.subtotal_minor, 11032);
    assert_eq!(bill.tax_minor, 690);
    assert_eq!(bill.total_minor, 11722);
    assert!(!bill.estimated);
    assert!(bill.new_reads.is_empty());
}

#[test]
fn each_line_rounds_half_even_to_cents() {
    // 1 kWh at 0.1125 = 11.25 cents -> 11 (tie to even); 3 at 0.1125 = 33.75 -> 34.
    assert_eq!(usage_charge(1, Rate(112_500), Currency::USD), 11);
    assert_eq!(usage_charge(3, Rate(112_500), Currency::USD), 34);
    assert_eq!(usage_charge(1, Rate(115_000), Currency::USD), 12);
    assert_eq!(usage_charge(7, Rate(112_300), Currency::JPY), 1);
    assert_eq!(tax_on(10_000, TaxPercent(62_500)), 625);
    assert_eq!(tax_on(8, TaxPercent(62_500)), 0);
    assert_eq!(tax_on(24, TaxPercent(62_500)), 2);
}

#[test]
fn the_minimum_charge_tops_up_a_small_bill() {
    let period = Period::parse(1, "2026-11").unwrap();
    let a = agreement(vec![read("2026-10-31", 1000), read("2026-11-30", 1010)]);
    let bill = rate_account(&[a], &[res_rate()], &period, Currency::USD).unwrap();
    // fixed 12.50 + 10 × 0.1123 = 1.12 -> 13.62; minimum 15.00 adds 1.38; tax on 15.00 = 0.9375 -> 0.94
    let minimum = bill.lines.iter().find(|l| l.kind == LineKind::Minimum).unwrap();
    assert_eq!(minimum.amount_minor, 138);
    assert_eq!(bill.subtotal_minor, 1500);
    assert_eq!(bill.tax_minor, 94);
}

#[test]
fn the_fixed_charge_is_prorated_by_days_for_a_mid_period_start_or_stop() {
    let period = Period::parse(1, "2026-11").unwrap(); // 30 days
    let mut a = agreement(vec![read("2026-11-30", 400)]);
    a.start_date = d("2026-11-21"); // 10 days
    let (_, _, days) = service_days(&a, &period);
    assert_eq!(days, 10);
    let bill = rate_account(&[a.clone()], &[res_rate()], &period, Currency::USD).unwrap();
    assert_eq!(bill.lines[0].amount_minor, 417); // 1250 × 10 / 30 = 416.67
    assert!(bill.lines[0].description.contains("10 of 30 days"));
    a.start_date = d("2021-01-01");
    a.end_date = Some(d("2026-11-15"));
    assert_eq!(service_days(&a, &period).2, 15);
    assert_eq!(prorate(1250, 15, 30), 625);
    assert_eq!(prorate(1, 1, 2), 0);
    assert_eq!(prorate(3, 1, 2), 2);
    a.end_date = Some(d("2026-10-15"));
    let none = rate_account(&[a], &[res_rate()], &period, Currency::USD).unwrap();
    assert!(none.lines.is_empty());
    assert_eq!(none.total_minor, 0);
}

#[test]
fn a_missing_read_is_estimated_from_average_daily_usage_else_the_default() {
    let period = Period::parse(1, "2026-11").unwrap();
    // 600 kWh over 30 days of history: 20 a day; 30 days -> 600.
    let a = agreement(vec![read("2026-09-30", 400), read("2026-10-30", 1000)]);
    let usage = meter_usage(&a.reads, period.start(), period.end(), "electric");
    assert!(usage.estimated);
    assert_eq!(usage.quantity, 600);
    assert_eq!(usage.to, 1600);
    assert_eq!(usage.new_read.unwrap().kind, ReadKind::Estimated);
    let none = meter_usage(&[], period.start(), period.end(), "electric");
    assert_eq!(none.quantity, 900); // 30 kWh a day by default
    assert_eq!(none.from, 0);
    let bill = rate_account(&[agreement(vec![])], &[res_rate()], &period, Currency::USD).unwrap();
    assert!(bill.estimated);
    assert_eq!(bill.new_reads.len(), 1);
    assert_eq!(estimate_usage(&[read("2026-10-01", 5)], 10, "water"), 5);
}

#[test]
fn a_rollover_read_counts_from_zero() {
    let period = Period::parse(1, "2026-11").unwrap();
    let reads = vec![read("2026-10-31", 9900), Read { date: d("2026-11-30"), reading: 150, kind: ReadKind::Rollover }];
    assert_eq!(meter_usage(&reads, period.start(), period.end(), "electric").quantity, 150);
}

#[test]
fn a_read_below_the_previous_is_refused_unless_the_meter_restarted() {
    let previous = read("2026-10-31", 1000);
    let lower = read("2026-11-30", 900);
    assert!(matches!(check_new_read(Some(&previous), &lower), Err(BillingError::ReadingBelowPrevious)));
    assert_eq!(web::Problem::field(&BillingError::ReadingBelowPrevious), Some("reading"));
    let rolled = Read { kind: ReadKind::Rollover, ..lower };
    assert!(check_new_read(Some(&previous), &rolled).is_ok());
    assert!(check_new_read(None, &lower).is_ok());
    assert!(matches!(ReadKind::parse_entered("estimated"), Err(BillingError::ReadKindInvalid)));
}

#[test]
fn an_unknown_rate_or_currency_makes_the_account_unbillable() {
    let period = Period::parse(1, "2026-11").unwrap();
    let mut a = agreement(vec![]);
    a.rate_code = "X-1".into();
    assert_eq!(rate_account(&[a], &[res_rate()], &period, Currency::USD), Err(Unbillable::RateUnknown("X-1".into())));
    let a = agreement(vec![]);
    assert!(matches!(rate_account(&[a], &[res_rate()], &period, Currency::EUR), Err(Unbillable::CurrencyMismatch(_))));
}

#[test]
fn the_version_in_effect_at_the_period_end_applies() {
    let mut newer = res_rate();
    newer.effective_from = d("2026-11-20");
    newer.fixed_charge_minor = 2000;
    let versions = [res_rate(), newer];
    assert_eq!(version_on(&versions, "E-RES-1", d("2026-11-19")).unwrap().fixed_charge_minor, 1250);
    assert_eq!(version_on(&versions, "E-RES-1", d("2026-11-30")).unwrap().fixed_charge_minor, 2000);
    assert!(version_on(&versions, "E-RES-1", d("2019-01-01")).is_none());
}

#[test]
fn the_bill_entry_balances_with_revenue_per_service_and_tax() {
    let period = Period::parse(1, "2026-11").unwrap();
    let mut water = agreement(vec![read("2026-10-31", 0), read("2026-11-30", 12)]);
    water.service_type = "water".into();
    water.rate_code = "W-RES-1".into();
    let water_rate = RateVersion {
        rate_code: "W-RES-1".into(),
        service_type: "water".into(),
        tiers: Tiers::parse("10:1.85;*:2.40").unwrap(),
        tax: TaxPercent(0),
        fixed_charge_minor: 900,
        minimum_charge_minor: 0,
        ..res_rate()
    };
    let electric = agreement(vec![read("2026-10-31", 0), read("2026-11-30", 800)]);
    let bill = rate_account(&[electric, water], &[res_rate(), water_rate], &period, Currency::USD).unwrap();
    assert_eq!(bill.revenue_by_service.get("water"), Some(&(900 + 1850 + 480)));
    let entry = bill_entry(&bill, "BILL-0000001", 3, period.bill_date(), Currency::USD).unwrap();
    assert!(entry.check().is_ok());
    assert_eq!(entry.lines.len(), 4);
    assert_eq!(entry.lines[0].amount.amount_minor, bill.total_minor);
    assert!(bill_entry(&Default::default(), "BILL-2", 3, period.bill_date(), Currency::USD).is_none());
}

#[path = "tests/store.rs"]
mod store_tests;
