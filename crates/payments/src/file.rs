//! Payment files from the bank's lockbox, parsed before anything is posted: every bad line is
//! found and reported (line number, field, message), so a file is fixed once, not line by line.
//! Format: `account_number,amount,reference,date` with an optional header line, a UTF-8 BOM
//! stripped, and `;` accepted as the delimiter.

use kernel::{Currency, Money};
use ledger::BusinessDate;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;

/// The most lines one file may hold.
pub const MAX_LINES: usize = 2_000_000;
/// The most errors reported for one file (the count is always exact).
pub const MAX_REPORTED_ERRORS: usize = 1_000;

/// One good line. Its texts borrow from the file's text where they can: a million-line file
/// would otherwise hold two million small strings in fresh memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLine<'a> {
    pub line: usize,
    /// Ten digits: the field itself, or the field without its spaces and dashes.
    pub account_number: Cow<'a, str>,
    pub amount: Money,
    pub reference: &'a str,
    pub date: BusinessDate,
}

/// One bad line's fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LineError {
    /// 1-based, counting the header line.
    pub line: usize,
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl LineError {
    pub fn new(line: usize, field: &'static str, code: &'static str, message: impl Into<String>) -> LineError {
        LineError { line, field, code, message: message.into() }
    }
}

/// What parsing found: the good lines, and every error (empty when the file may be posted).
#[derive(Debug, Default)]
pub struct Parsed<'a> {
    pub lines: Vec<FileLine<'a>>,
    pub errors: Vec<LineError>,
    pub error_count: usize,
}

impl Parsed<'_> {
    fn fault(&mut self, error: LineError) {
        self.error_count += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(error);
        }
    }
}

/// Parses the text of a file. Account numbers are checked for shape here and for existence by
/// the import; references must be unique within the file.
pub fn parse(text: &str, currency: Currency) -> Parsed<'_> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Sized for every line at once: a million lines grown by doubling would copy them over and
    // over into fresh memory.
    let expected = text.bytes().filter(|b| *b == b'\n').count().saturating_add(1).min(MAX_LINES + 1);
    let mut parsed = Parsed { lines: Vec::with_capacity(expected), ..Parsed::default() };
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(expected);
    // A file's lines mostly share one date: the last one parsed is kept.
    let mut last_date: Option<(&str, BusinessDate)> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() {
            continue;
        }
        if number == 1 && raw.to_ascii_lowercase().starts_with("account") {
            continue;
        }
        let delimiter = if raw.contains(';') && !raw.contains(',') { ';' } else { ',' };
        let mut split = raw.split(delimiter).map(|f| f.trim().trim_matches('"').trim());
        let fields = [split.next(), split.next(), split.next(), split.next(), split.next()];
        let [Some(account), Some(amount), Some(reference), Some(date_text), None] = fields else {
            parsed.fault(LineError::new(
                number,
                "line",
                "field_count",
                "must have 4 fields: account_number,amount,reference,date",
            ));
            continue;
        };
        let before = parsed.error_count;
        let account = match customers::model::AccountNumber::parse(account) {
            Ok(number) if number.as_str() == account => Some(Cow::Borrowed(account)),
            Ok(number) => Some(Cow::Owned(number.as_str().to_string())),
            Err(_) => {
                let message = "must be a 10-digit account number with its check digit";
                parsed.fault(LineError::new(number, "account_number", "account_number_invalid", message));
                None
            }
        };
        let amount = match Money::parse(amount, currency) {
            Ok(m) if m.amount_minor > 0 => Some(m),
            Ok(_) => {
                parsed.fault(LineError::new(number, "amount", "amount_must_be_positive", "must be more than zero"));
                None
            }
            Err(_) => {
                parsed.fault(LineError::new(number, "amount", "amount_invalid", "must be an amount such as 12.30"));
                None
            }
        };
        let reference_ok = !reference.is_empty()
            && reference.len() <= 60
            && reference.bytes().all(|b| b.is_ascii_graphic())
            && !crate::model::looks_like_pan(reference);
        if !reference_ok {
            parsed.fault(LineError::new(
                number,
                "reference",
                "reference_invalid",
                "must be 1 to 60 printable characters",
            ));
        } else if let Some(first) = seen.insert(reference, number) {
            parsed.fault(LineError::new(
                number,
                "reference",
                "reference_repeated",
                format!("repeats the reference of line {first}"),
            ));
        }
        let date = match last_date {
            Some((text, parsed)) if text == date_text => Some(parsed),
            _ => BusinessDate::parse(date_text, "date").ok(),
        };
        if let Some(parsed) = date {
            last_date = Some((date_text, parsed));
        }
        if date.is_none() {
            parsed.fault(LineError::new(number, "date", "date_invalid", "must be a date such as 2026-11-30"));
        }
        if let (Some(account), Some(amount), Some(date), true) = (account, amount, date, parsed.error_count == before) {
            parsed.lines.push(FileLine { line: number, account_number: account, amount, reference, date });
        }
    }
    parsed
}
