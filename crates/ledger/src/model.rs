//! The ledger's pure rules: business dates, the well-known ledger account codes other modules
//! post to, entry drafts that must balance per currency before they reach the database, and the
//! aging buckets.

use crate::LedgerError;
use kernel::{Currency, Money};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A business date (`YYYY-MM-DD`), the day an entry books on or an item falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BusinessDate(time::Date);

const DATE_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

impl BusinessDate {
    pub fn parse(text: &str, field: &'static str) -> Result<BusinessDate, LedgerError> {
        time::Date::parse(text.trim(), DATE_FORMAT).map(BusinessDate).map_err(|_| LedgerError::DateInvalid { field })
    }

    pub fn from_date(date: time::Date) -> BusinessDate {
        BusinessDate(date)
    }

    /// The UTC calendar day of an instant.
    pub fn of(at: kernel::Timestamp) -> BusinessDate {
        BusinessDate(at.to_offset_date_time().date())
    }

    pub fn date(self) -> time::Date {
        self.0
    }

    pub fn plus_days(self, days: i64) -> BusinessDate {
        BusinessDate(self.0.saturating_add(time::Duration::days(days)))
    }

    /// Whole days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: BusinessDate) -> i64 {
        (later.0 - self.0).whole_days()
    }
}

impl fmt::Display for BusinessDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.0.year(), u8::from(self.0.month()), self.0.day())
    }
}

impl TryFrom<String> for BusinessDate {
    type Error = LedgerError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        BusinessDate::parse(&value, "date")
    }
}

impl From<BusinessDate> for String {
    fn from(value: BusinessDate) -> String {
        value.to_string()
    }
}

/// The codes of the seeded chart of accounts that modules post to. Admins may add accounts and
/// rename these, but the codes stay.
pub struct LedgerCode;

impl LedgerCode {
    pub const CASH: &'static str = "1000";
    pub const UNDEPOSITED_FUNDS: &'static str = "1010";
    pub const RECEIVABLE: &'static str = "1100";
    pub const DEPOSITS_HELD: &'static str = "2000";
    pub const REFUNDS_PAYABLE: &'static str = "2100";
    pub const TAXES_PAYABLE: &'static str = "2200";
    pub const CLAIMS_PAYABLE: &'static str = "2300";
    pub const RETAINED_EARNINGS: &'static str = "3000";
    pub const SERVICE_REVENUE: &'static str = "4000";
    pub const FEES_REVENUE: &'static str = "4900";
    pub const ADJUSTMENTS: &'static str = "4950";
    pub const BAD_DEBT: &'static str = "6000";
    pub const CASH_OVER_SHORT: &'static str = "6100";

    /// Revenue account of a service type (`electric`, `water`, …); other services book to
    /// general service revenue.
    pub fn revenue_for_service(service_type: &str) -> &'static str {
        match service_type {
            "electric" => "4010",
            "water" => "4020",
            "gas" => "4030",
            "sewer" => "4040",
            "refuse" => "4050",
            _ => LedgerCode::SERVICE_REVENUE,
        }
    }
}

/// The five kinds of ledger account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    Asset,
    Liability,
    Equity,
    Revenue,
    Expense,
}

impl LedgerKind {
    pub const ALL: [LedgerKind; 5] =
        [LedgerKind::Asset, LedgerKind::Liability, LedgerKind::Equity, LedgerKind::Revenue, LedgerKind::Expense];

    pub fn code(self) -> &'static str {
        match self {
            LedgerKind::Asset => "asset",
            LedgerKind::Liability => "liability",
            LedgerKind::Equity => "equity",
            LedgerKind::Revenue => "revenue",
            LedgerKind::Expense => "expense",
        }
    }

    pub fn parse(text: &str) -> Result<LedgerKind, LedgerError> {
        let text = text.trim().to_ascii_lowercase();
        LedgerKind::ALL.into_iter().find(|k| k.code() == text).ok_or(LedgerError::KindUnknown)
    }
}

/// One line of an entry to post: a debit when the amount is positive, a credit when negative.
/// `account_id` names the customer account for receivable and deposit lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineDraft {
    pub ledger_code: String,
    pub account_id: Option<i64>,
    pub amount: Money,
}

impl LineDraft {
    pub fn debit(ledger_code: &str, account_id: Option<i64>, amount: Money) -> LineDraft {
        LineDraft { ledger_code: ledger_code.to_string(), account_id, amount }
    }

    /// A credit of `amount` (given positive; stored negative).
    pub fn credit(ledger_code: &str, account_id: Option<i64>, amount: Money) -> LineDraft {
        let amount = Money::new(amount.amount_minor.saturating_neg(), amount.currency);
        LineDraft { ledger_code: ledger_code.to_string(), account_id, amount }
    }
}

/// An entry before it is posted. [`EntryDraft::check`] is the rule every posting passes: at
/// least two lines, none zero, and the lines of each currency summing to zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryDraft {
    pub entry_date: BusinessDate,
    pub source_kind: &'static str,
    pub source_ref: String,
    pub memo: String,
    pub lines: Vec<LineDraft>,
}

impl EntryDraft {
    pub fn new(entry_date: BusinessDate, source_kind: &'static str, source_ref: impl Into<String>) -> EntryDraft {
        EntryDraft { entry_date, source_kind, source_ref: source_ref.into(), memo: String::new(), lines: Vec::new() }
    }

    pub fn memo(mut self, memo: impl Into<String>) -> EntryDraft {
        self.memo = memo.into();
        self
    }

    pub fn line(mut self, line: LineDraft) -> EntryDraft {
        self.lines.push(line);
        self
    }

    /// Drops zero lines (a tax of nothing, say) so callers can build entries without special
    /// cases; an entry left with fewer than two lines is still refused by `check`.
    pub fn without_zero_lines(mut self) -> EntryDraft {
        self.lines.retain(|l| l.amount.amount_minor != 0);
        self
    }

    pub fn check(&self) -> Result<(), LedgerError> {
        if self.lines.len() < 2 {
            return Err(LedgerError::EntryNeedsTwoLines);
        }
        let mut sums: BTreeMap<&'static str, i64> = BTreeMap::new();
        for line in &self.lines {
            if line.amount.amount_minor == 0 {
                return Err(LedgerError::LineAmountZero);
            }
            let sum = sums.entry(line.amount.currency.code()).or_insert(0);
            *sum = sum.checked_add(line.amount.amount_minor).ok_or(LedgerError::AmountOverflow)?;
        }
        if sums.values().any(|s| *s != 0) {
            return Err(LedgerError::EntryUnbalanced);
        }
        Ok(())
    }

    /// The opposite entry: every line negated, booked on `entry_date`.
    pub fn reversed(&self, entry_date: BusinessDate, source_ref: String) -> EntryDraft {
        EntryDraft {
            entry_date,
            source_kind: "reversal",
            source_ref,
            memo: format!("Reverses {} {}", self.source_kind, self.source_ref),
            lines: self
                .lines
                .iter()
                .map(|l| LineDraft {
                    ledger_code: l.ledger_code.clone(),
                    account_id: l.account_id,
                    amount: Money::new(l.amount.amount_minor.saturating_neg(), l.amount.currency),
                })
                .collect(),
        }
    }
}

/// Aging buckets by days past the due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgingBucket {
    Current,
    Days1To30,
    Days31To60,
    Days61To90,
    Days91To120,
    Over120,
}

impl AgingBucket {
    pub const ALL: [AgingBucket; 6] = [
        AgingBucket::Current,
        AgingBucket::Days1To30,
        AgingBucket::Days31To60,
        AgingBucket::Days61To90,
        AgingBucket::Days91To120,
        AgingBucket::Over120,
    ];

    pub fn of(days_past_due: i64) -> AgingBucket {
        match days_past_due {
            i64::MIN..=0 => AgingBucket::Current,
            1..=30 => AgingBucket::Days1To30,
            31..=60 => AgingBucket::Days31To60,
            61..=90 => AgingBucket::Days61To90,
            91..=120 => AgingBucket::Days91To120,
            _ => AgingBucket::Over120,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AgingBucket::Current => "Current",
            AgingBucket::Days1To30 => "1–30",
            AgingBucket::Days31To60 => "31–60",
            AgingBucket::Days61To90 => "61–90",
            AgingBucket::Days91To120 => "91–120",
            AgingBucket::Over120 => "120+",
        }
    }
}

/// Parses a currency code, naming the field on failure.
pub fn parse_currency(code: &str) -> Result<Currency, LedgerError> {
    Currency::parse(code).map_err(|_| LedgerError::TextInvalid { field: "currency" })
}
