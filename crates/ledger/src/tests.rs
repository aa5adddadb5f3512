//! Unit tests of the ledger's pure rules.

use crate::LedgerError;
use crate::model::{AgingBucket, BusinessDate, EntryDraft, LedgerCode, LineDraft};
use kernel::{Currency, Money};

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

fn day() -> BusinessDate {
    BusinessDate::parse("2026-11-30", "date").unwrap_or_else(|_| unreachable!())
}

#[test]
fn a_balanced_entry_passes_and_an_unbalanced_one_is_refused() {
    let good = EntryDraft::new(day(), "payment", "PAY-1")
        .line(LineDraft::debit(LedgerCode::UNDEPOSITED_FUNDS, None, usd(1000)))
        .line(LineDraft::credit(LedgerCode::RECEIVABLE, Some(1), usd(1000)));
    assert!(good.check().is_ok());
    let bad = good.clone().line(LineDraft::debit(LedgerCode::CASH, None, usd(1)));
    assert!(matches!(bad.check(), Err(LedgerError::EntryUnbalanced)));
    let one = EntryDraft::new(day(), "payment", "PAY-2").line(LineDraft::debit(LedgerCode::CASH, None, usd(1)));
    assert!(matches!(one.check(), Err(LedgerError::EntryNeedsTwoLines)));
}

#[test]
fn each_currency_must_balance_on_its_own() {
    let mixed = EntryDraft::new(day(), "manual", "M-1")
        .line(LineDraft::debit(LedgerCode::CASH, None, usd(100)))
        .line(LineDraft::credit(LedgerCode::RECEIVABLE, Some(1), Money::new(100, Currency::EUR)));
    assert!(matches!(mixed.check(), Err(LedgerError::EntryUnbalanced)));
}

#[test]
fn zero_lines_are_refused_unless_dropped() {
    let draft = EntryDraft::new(day(), "bill", "BILL-1")
        .line(LineDraft::debit(LedgerCode::RECEIVABLE, Some(1), usd(500)))
        .line(LineDraft::credit("4020", None, usd(500)))
        .line(LineDraft::credit(LedgerCode::TAXES_PAYABLE, None, usd(0)));
    assert!(matches!(draft.check(), Err(LedgerError::LineAmountZero)));
    assert!(draft.without_zero_lines().check().is_ok());
}

#[test]
fn a_reversal_negates_every_line() {
    let draft = EntryDraft::new(day(), "payment", "PAY-1")
        .line(LineDraft::debit(LedgerCode::UNDEPOSITED_FUNDS, None, usd(1000)))
        .line(LineDraft::credit(LedgerCode::RECEIVABLE, Some(1), usd(1000)));
    let reversed = draft.reversed(day(), "payment:PAY-1".into());
    assert!(reversed.check().is_ok());
    assert_eq!(reversed.lines.first().map(|l| l.amount.amount_minor), Some(-1000));
    assert_eq!(reversed.source_kind, "reversal");
}

#[test]
fn aging_buckets_by_days_past_due() {
    assert_eq!(AgingBucket::of(-3), AgingBucket::Current);
    assert_eq!(AgingBucket::of(0), AgingBucket::Current);
    assert_eq!(AgingBucket::of(1), AgingBucket::Days1To30);
    assert_eq!(AgingBucket::of(30), AgingBucket::Days1To30);
    assert_eq!(AgingBucket::of(31), AgingBucket::Days31To60);
    assert_eq!(AgingBucket::of(90), AgingBucket::Days61To90);
    assert_eq!(AgingBucket::of(120), AgingBucket::Days91To120);
    assert_eq!(AgingBucket::of(121), AgingBucket::Over120);
}

#[test]
fn business_dates_parse_and_count_days() {
    let a = day();
    assert_eq!(a.to_string(), "2026-11-30");
    assert_eq!(a.plus_days(2).to_string(), "2026-12-02");
    assert_eq!(a.days_until(a.plus_days(45)), 45);
    assert!(BusinessDate::parse("2026-13-01", "due_date").is_err());
}
