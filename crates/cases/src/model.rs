//! Case domain types and rules: the status state machine, priorities, tiers, the case number,
//! and the SLA clock state. No I/O here.

use crate::CaseError;
use serde::{Deserialize, Serialize};

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    New,
    Open,
    PendingCustomer,
    PendingInternal,
    Resolved,
    Closed,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 6] = [
        CaseStatus::New,
        CaseStatus::Open,
        CaseStatus::PendingCustomer,
        CaseStatus::PendingInternal,
        CaseStatus::Resolved,
        CaseStatus::Closed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CaseStatus::New => "new",
            CaseStatus::Open => "open",
            CaseStatus::PendingCustomer => "pending_customer",
            CaseStatus::PendingInternal => "pending_internal",
            CaseStatus::Resolved => "resolved",
            CaseStatus::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CaseStatus::New => "New",
            CaseStatus::Open => "Open",
            CaseStatus::PendingCustomer => "Pending customer",
            CaseStatus::PendingInternal => "Pending internal",
            CaseStatus::Resolved => "Resolved",
            CaseStatus::Closed => "Closed",
        }
    }

    pub fn parse(text: &str) -> Result<CaseStatus, CaseError> {
        CaseStatus::ALL.into_iter().find(|s| s.code() == text.trim()).ok_or(CaseError::ValueUnknown { field: "status" })
    }

    /// The one transition rule. Work moves a case between open and the two waiting states;
    /// any live case may be resolved; a resolved case is closed or reopened; closed is final.
    pub fn can_become(self, next: CaseStatus) -> bool {
        use CaseStatus as S;
        matches!(
            (self, next),
            (S::New, S::Open | S::PendingCustomer | S::PendingInternal | S::Resolved)
                | (S::Open, S::PendingCustomer | S::PendingInternal | S::Resolved)
                | (S::PendingCustomer | S::PendingInternal, S::Open | S::Resolved)
                | (S::PendingCustomer, S::PendingInternal)
                | (S::PendingInternal, S::PendingCustomer)
                | (S::Resolved, S::Closed | S::Open)
        )
    }

    pub fn transition(self, next: CaseStatus) -> Result<CaseStatus, CaseError> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(CaseError::StatusTransitionNotAllowed { from: self.code(), to: next.code() })
        }
    }

    /// Whether the SLA clock stands still: waiting on the customer, or finished.
    pub fn clock_paused(self) -> bool {
        matches!(self, CaseStatus::PendingCustomer | CaseStatus::Resolved | CaseStatus::Closed)
    }

    pub fn is_live(self) -> bool {
        !matches!(self, CaseStatus::Resolved | CaseStatus::Closed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent];

    pub fn code(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(text: &str) -> Result<Priority, CaseError> {
        Priority::ALL.into_iter().find(|p| p.code() == text.trim()).ok_or(CaseError::ValueUnknown { field: "priority" })
    }

    /// One step more urgent (used when an SLA is breached).
    pub fn raised(self) -> Priority {
        match self {
            Priority::Low => Priority::Normal,
            Priority::Normal => Priority::High,
            Priority::High | Priority::Urgent => Priority::Urgent,
        }
    }
}

pub fn parse_tier(tier: i32) -> Result<i32, CaseError> {
    if matches!(tier, 1 | 2) { Ok(tier) } else { Err(CaseError::ValueUnknown { field: "tier" }) }
}

/// `CASE-000123`.
pub fn case_number(key: i64) -> String {
    format!("CASE-{key:06}")
}

/// Trims a required text; empty, too long or control characters (other than line breaks in
/// long texts) are refused with the field named.
pub fn required_text(text: &str, field: &'static str, max_chars: usize) -> Result<String, CaseError> {
    let text = text.trim();
    let bad_char = text.chars().any(|c| c.is_control() && (max_chars <= 200 || !matches!(c, '\n' | '\r' | '\t')));
    if text.is_empty() || text.chars().count() > max_chars || bad_char {
        return Err(CaseError::TextInvalid { field, max_chars });
    }
    Ok(text.to_string())
}

pub const RESOLUTION_CODES: [&str; 7] =
    ["answered", "fixed", "credit_issued", "duplicate", "no_response", "referred", "wont_fix"];
pub const CATEGORIES: [&str; 8] = ["billing", "payment", "service", "outage", "order", "claim", "complaint", "other"];

pub fn one_of(text: &str, allowed: &[&str], field: &'static str) -> Result<String, CaseError> {
    allowed.iter().find(|a| **a == text.trim()).map(|a| a.to_string()).ok_or(CaseError::ValueUnknown { field })
}

/// How a case stands against its SLA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    OnTrack,
    AtRisk,
    Breached,
}

impl SlaState {
    pub fn code(self) -> &'static str {
        match self {
            SlaState::OnTrack => "on_track",
            SlaState::AtRisk => "at_risk",
            SlaState::Breached => "breached",
        }
    }

    /// At risk once less than a fifth of the target is left (and at most an hour).
    pub fn of(remaining_business_seconds: i64, target_seconds: i64) -> SlaState {
        let threshold = (target_seconds / 5).min(3_600);
        if remaining_business_seconds <= 0 {
            SlaState::Breached
        } else if remaining_business_seconds <= threshold {
            SlaState::AtRisk
        } else {
            SlaState::OnTrack
        }
    }
}

/// Attachments: the types accepted, recognised by their first bytes, and the size limit.
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;

pub fn sniff_content_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if !bytes.is_empty() && std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) {
        Some("text/plain")
    } else {
        None
    }
}

/// A file name safe to show and to send back in a header: no paths, no control characters.
pub fn safe_file_name(name: &str) -> Result<String, CaseError> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    let cleaned: String =
        base.chars().filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ')).take(120).collect();
    if cleaned.trim_matches('.').is_empty() {
        return Err(CaseError::TextInvalid { field: "file_name", max_chars: 120 });
    }
    Ok(cleaned)
}
