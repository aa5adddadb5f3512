//! Customer domain types, each built only through `parse`, and the service agreement state
//! machine. No I/O here.

use crate::CustomerError;
use serde::{Deserialize, Serialize};

const MAX_TEXT_CHARS: usize = 200;

/// Trims a text field; empty becomes `None`; too long or control characters are refused.
pub fn optional_text(text: Option<&str>, field: &'static str) -> Result<Option<String>, CustomerError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_TEXT_CHARS || text.chars().any(char::is_control) {
        return Err(CustomerError::TextInvalid { field });
    }
    Ok(Some(text.to_string()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomerKind {
    Person,
    Business,
}

impl CustomerKind {
    pub fn parse(text: &str) -> Result<CustomerKind, CustomerError> {
        match text.trim() {
            "person" => Ok(CustomerKind::Person),
            "business" => Ok(CustomerKind::Business),
            _ => Err(CustomerError::KindUnknown),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            CustomerKind::Person => "person",
            CustomerKind::Business => "business",
        }
    }
}

/// Who the customer is, with the name shown on every screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerName {
    pub kind: CustomerKind,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub business_name: Option<String>,
    pub contact_person: Option<String>,
}

impl CustomerName {
    pub fn parse(
        kind: &str,
        first: Option<&str>,
        last: Option<&str>,
        business: Option<&str>,
        contact: Option<&str>,
    ) -> Result<CustomerName, CustomerError> {
        let kind = CustomerKind::parse(kind)?;
        let name = CustomerName {
            kind,
            first_name: optional_text(first, "first_name")?,
            last_name: optional_text(last, "last_name")?,
            business_name: optional_text(business, "business_name")?,
            contact_person: optional_text(contact, "contact_person")?,
        };
        match kind {
            CustomerKind::Person if name.first_name.is_none() && name.last_name.is_none() => {
                Err(CustomerError::PersonNameMissing)
            }
            CustomerKind::Business if name.business_name.is_none() => Err(CustomerError::BusinessNameMissing),
            _ => Ok(name),
        }
    }

    pub fn display(&self) -> String {
        match self.kind {
            CustomerKind::Business => self.business_name.clone().unwrap_or_default(),
            CustomerKind::Person => [self.first_name.as_deref(), self.last_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// A phone number in E.164 form. Ten digits, or eleven starting with 1, are taken as North
/// American numbers; anything else must start with `+` and the country code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(text: &str) -> Result<PhoneNumber, CustomerError> {
        let text = text.trim();
        let international = text.starts_with('+');
        let allowed = |c: char| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '+');
        if !text.chars().all(allowed) || text.chars().skip(1).any(|c| c == '+') {
            return Err(CustomerError::PhoneInvalid);
        }
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        let e164 = match (international, digits.len()) {
            (true, 8..=15) if !digits.starts_with('0') => format!("+{digits}"),
            (false, 10) => format!("+1{digits}"),
            (false, 11) if digits.starts_with('1') => format!("+{digits}"),
            _ => return Err(CustomerError::PhoneInvalid),
        };
        Ok(PhoneNumber(e164))
    }

    pub fn e164(&self) -> &str {
        &self.0
    }

    /// The digits without the plus, as the search index keeps them.
    pub fn digits(&self) -> &str {
        self.0.trim_start_matches('+')
    }
}

/// A lower-cased email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(text: &str) -> Result<EmailAddress, CustomerError> {
        let text = text.trim().to_lowercase();
        let valid = text.len() <= 254
            && !text.contains(char::is_whitespace)
            && text.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            });
        if !valid {
            return Err(CustomerError::EmailInvalid);
        }
        Ok(EmailAddress(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PostalAddress {
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    /// ISO 3166 alpha-2, upper case.
    pub country: String,
}

impl PostalAddress {
    pub fn parse(
        line1: &str,
        line2: Option<&str>,
        city: &str,
        region: Option<&str>,
        postal_code: &str,
        country: Option<&str>,
    ) -> Result<PostalAddress, CustomerError> {
        let required = |text: &str, field| optional_text(Some(text), field);
        let (Some(line1), Some(city), Some(postal_code)) =
            (required(line1, "line1")?, required(city, "city")?, required(postal_code, "postal_code")?)
        else {
            return Err(CustomerError::AddressIncomplete);
        };
        let country = country.map(str::trim).filter(|c| !c.is_empty()).unwrap_or("US").to_ascii_uppercase();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(CustomerError::CountryInvalid);
        }
        Ok(PostalAddress {
            line1,
            line2: optional_text(line2, "line2")?,
            city,
            region: optional_text(region, "region")?,
            postal_code,
            country,
        })
    }

    /// One line for lists and search.
    pub fn one_line(&self) -> String {
        let mut parts = vec![self.line1.clone()];
        parts.extend(self.line2.clone());
        parts.push(self.city.clone());
        parts.extend(self.region.clone());
        parts.push(self.postal_code.clone());
        parts.join(", ")
    }
}

pub const CHANNELS: [&str; 6] = ["phone", "email", "chat", "letter", "in_person", "portal"];

pub fn parse_channel(text: &str) -> Result<String, CustomerError> {
    let text = text.trim();
    CHANNELS.iter().find(|c| **c == text).map(|c| c.to_string()).ok_or(CustomerError::ChannelUnknown)
}

pub fn parse_language(text: &str) -> Result<String, CustomerError> {
    let text = text.trim().to_ascii_lowercase();
    if !(2..=5).contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
        return Err(CustomerError::LanguageInvalid);
    }
    Ok(text)
}

/// Luhn check digit of a string of digits.
pub fn luhn_check_digit(digits: &str) -> Option<u32> {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let mut d = c.to_digit(10)?;
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    Some((10 - sum % 10) % 10)
}

/// An account number: nine digits derived from the account's key, then a Luhn check digit, so a
/// mistyped digit or swapped pair is caught before any look-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountNumber(String);

impl AccountNumber {
    const BASE: i64 = 100_000_000;

    pub fn for_key(key: i64) -> AccountNumber {
        let body = format!("{:09}", Self::BASE + key);
        let check = luhn_check_digit(&body).unwrap_or(0);
        AccountNumber(format!("{body}{check}"))
    }

    pub fn parse(text: &str) -> Result<AccountNumber, CustomerError> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() < 2 {
            return Err(CustomerError::AccountNumberInvalid);
        }
        let (body, check) = digits.split_at(digits.len() - 1);
        let expected = luhn_check_digit(body).ok_or(CustomerError::AccountNumberInvalid)?;
        if check.parse::<u32>().ok() != Some(expected) || digits.len() != 10 {
            return Err(CustomerError::AccountNumberInvalid);
        }
        Ok(AccountNumber(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The customer's public number, `CUS-0000123`.
pub fn customer_number(key: i64) -> String {
    format!("CUS-{key:07}")
}

pub const ACCOUNT_STATUSES: [&str; 4] = ["pending", "active", "inactive", "closed"];
pub const COLLECTION_CLASSES: [&str; 3] = ["residential", "commercial", "government"];
pub const CREDIT_RATINGS: [&str; 4] = ["excellent", "good", "fair", "poor"];
pub const SERVICE_TYPES: [&str; 5] = ["electric", "water", "gas", "sewer", "refuse"];
pub const ALERT_KINDS: [&str; 6] =
    ["bankruptcy_stay", "fraud_watch", "hard_of_hearing", "medical_need", "do_not_disconnect", "other"];

/// Picks `text` from `allowed`, or names the field.
pub fn one_of(text: &str, allowed: &[&str], field: &'static str) -> Result<String, CustomerError> {
    let text = text.trim();
    allowed.iter().find(|a| **a == text).map(|a| a.to_string()).ok_or(CustomerError::ValueUnknown { field })
}

/// A business date as `YYYY-MM-DD`.
pub fn parse_date(text: &str, field: &'static str) -> Result<String, CustomerError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), &format).map_err(|_| CustomerError::DateInvalid { field })?;
    Ok(text.trim().to_string())
}

/// Where a service agreement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgreementStatus {
    PendingStart,
    Active,
    PendingStop,
    Stopped,
    Cancelled,
}

impl AgreementStatus {
    pub const ALL: [AgreementStatus; 5] = [
        AgreementStatus::PendingStart,
        AgreementStatus::Active,
        AgreementStatus::PendingStop,
        AgreementStatus::Stopped,
        AgreementStatus::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AgreementStatus::PendingStart => "pending_start",
            AgreementStatus::Active => "active",
            AgreementStatus::PendingStop => "pending_stop",
            AgreementStatus::Stopped => "stopped",
            AgreementStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<AgreementStatus> {
        AgreementStatus::ALL.into_iter().find(|s| s.code() == text.trim())
    }

    /// The one transition rule: start, then stop; a pending start may be cancelled; a pending
    /// stop may be withdrawn.
    pub fn can_become(self, next: AgreementStatus) -> bool {
        use AgreementStatus as S;
        matches!(
            (self, next),
            (S::PendingStart, S::Active)
                | (S::PendingStart, S::Cancelled)
                | (S::Active, S::PendingStop)
                | (S::PendingStop, S::Active)
                | (S::PendingStop, S::Stopped)
        )
    }

    pub fn transition(self, next: AgreementStatus) -> Result<AgreementStatus, CustomerError> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(CustomerError::AgreementTransitionNotAllowed { from: self.code(), to: next.code() })
        }
    }
}

/// The text the search index keeps for a customer: lower case, phones as digits, so a name,
/// any fragment of a phone, an email, an account number or an address finds them.
pub fn search_document(parts: &[String]) -> String {
    parts.iter().map(|p| p.trim().to_lowercase()).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" | ")
}
