//! Money as integer minor units plus an ISO 4217 currency, never floating point: every amount is exact,
//! and arithmetic across currencies or past `i64` is an error, not a silent wrap.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The currencies Caredesk books in, with their minor-unit exponents (ISO 4217).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    USD,
    EUR,
    GBP,
    CAD,
    AUD,
    MXN,
    CHF,
    JPY,
}

impl Currency {
    pub const ALL: [Currency; 8] = [
        Currency::USD,
        Currency::EUR,
        Currency::GBP,
        Currency::CAD,
        Currency::AUD,
        Currency::MXN,
        Currency::CHF,
        Currency::JPY,
    ];

    /// Digits after the decimal point in the currency's minor unit.
    pub fn exponent(self) -> u32 {
        match self {
            Currency::JPY => 0,
            _ => 2,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Currency::USD => "USD",
            Currency::EUR => "EUR",
            Currency::GBP => "GBP",
            Currency::CAD => "CAD",
            Currency::AUD => "AUD",
            Currency::MXN => "MXN",
            Currency::CHF => "CHF",
            Currency::JPY => "JPY",
        }
    }

    pub fn parse(code: &str) -> Result<Currency, MoneyError> {
        let code = code.trim().to_ascii_uppercase();
        Currency::ALL.into_iter().find(|c| c.code() == code).ok_or(MoneyError::UnknownCurrency)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currency is not one Caredesk books in")]
    UnknownCurrency,
    #[error("amounts are in different currencies")]
    CurrencyMismatch,
    #[error("amount is too large")]
    Overflow,
    #[error("amount is not a valid decimal number for its currency")]
    InvalidAmount,
}

/// An exact amount: `amount_minor` units of the currency's minor unit (cents for USD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount_minor: i64, currency: Currency) -> Money {
        Money { amount_minor, currency }
    }

    pub fn zero(currency: Currency) -> Money {
        Money::new(0, currency)
    }

    pub fn is_zero(self) -> bool {
        self.amount_minor == 0
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch);
        }
        let amount_minor = self.amount_minor.checked_add(other.amount_minor).ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount_minor, self.currency))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.checked_add(other.checked_neg()?)
    }

    pub fn checked_neg(self) -> Result<Money, MoneyError> {
        let amount_minor = self.amount_minor.checked_neg().ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount_minor, self.currency))
    }

    /// Parses a decimal text such as `"12.30"` or `"-5"` in the given currency. More fractional
    /// digits than the currency has is an error rather than a rounding.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let text = text.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let exponent = currency.exponent() as usize;
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(MoneyError::InvalidAmount);
        }
        if fraction.len() > exponent || (digits.contains('.') && fraction.is_empty()) {
            return Err(MoneyError::InvalidAmount);
        }
        let scale = 10_i64.pow(currency.exponent());
        let whole: i64 = whole.parse().map_err(|_| MoneyError::Overflow)?;
        let padded = format!("{fraction:0<exponent$}");
        let fraction: i64 =
            if padded.is_empty() { 0 } else { padded.parse().map_err(|_| MoneyError::InvalidAmount)? };
        let magnitude = whole.checked_mul(scale).and_then(|w| w.checked_add(fraction)).ok_or(MoneyError::Overflow)?;
        Ok(Money::new(if negative { -magnitude } else { magnitude }, currency))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exponent = self.currency.exponent();
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let magnitude = self.amount_minor.unsigned_abs();
        if exponent == 0 {
            return write!(f, "{sign}{magnitude} {}", self.currency.code());
        }
        let scale = 10_u64.pow(exponent);
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            magnitude / scale,
            magnitude % scale,
            self.currency.code(),
            width = exponent as usize
        )
    }
}
