//! Contact domain types, each built only through `parse`, and the rules on a contact's times and
//! summary. No I/O here: time is handed in.

use crate::ContactError;
use kernel::Timestamp;
use serde::{Deserialize, Serialize};

/// The longest summary an agent may write.
pub const MAX_SUMMARY_CHARS: usize = 4_000;
/// The longest a single contact may last; anything longer is a typing mistake.
pub const MAX_CONTACT_SECONDS: i64 = 24 * 3_600;
/// How far ahead of the server clock a time may be (clocks of agents' machines drift).
pub const FUTURE_TOLERANCE_SECONDS: i64 = 5 * 60;
const MAX_CODE_CHARS: usize = 40;
const MAX_LABEL_CHARS: usize = 80;

/// How the interaction happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Phone,
    Email,
    Chat,
    Letter,
    InPerson,
    Portal,
    /// Logged by the system itself for a business event (bill sent, notice, payment reversed).
    System,
}

impl Channel {
    pub const ALL: [Channel; 7] = [
        Channel::Phone,
        Channel::Email,
        Channel::Chat,
        Channel::Letter,
        Channel::InPerson,
        Channel::Portal,
        Channel::System,
    ];

    pub fn parse(text: &str) -> Result<Channel, ContactError> {
        let text = text.trim();
        Channel::ALL.into_iter().find(|c| c.code() == text).ok_or(ContactError::ChannelUnknown)
    }

    pub fn code(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Email => "email",
            Channel::Chat => "chat",
            Channel::Letter => "letter",
            Channel::InPerson => "in_person",
            Channel::Portal => "portal",
            Channel::System => "system",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::Phone => "Phone",
            Channel::Email => "Email",
            Channel::Chat => "Chat",
            Channel::Letter => "Letter",
            Channel::InPerson => "In person",
            Channel::Portal => "Portal",
            Channel::System => "System",
        }
    }

    /// A person handled it (everything but system); the panel offers only these.
    pub fn is_worked(self) -> bool {
        self != Channel::System
    }
}

/// Who started the interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn parse(text: &str) -> Result<Direction, ContactError> {
        match text.trim() {
            "inbound" => Ok(Direction::Inbound),
            "outbound" => Ok(Direction::Outbound),
            _ => Err(ContactError::DirectionUnknown),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// An admin-defined code (reason, sub-reason or disposition): lower-case letters, digits and
/// underscores, starting with a letter, 2 to 40 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Code(String);

impl Code {
    pub fn parse(text: &str, field: &'static str) -> Result<Code, ContactError> {
        let text = text.trim();
        let valid = (2..=MAX_CODE_CHARS).contains(&text.len())
            && text.starts_with(|c: char| c.is_ascii_lowercase())
            && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if valid { Ok(Code(text.to_string())) } else { Err(ContactError::CodeInvalid { field }) }
    }

    /// An optional code: absent or blank is `None`.
    pub fn parse_optional(text: Option<&str>, field: &'static str) -> Result<Option<Code>, ContactError> {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            Some(text) => Code::parse(text, field).map(Some),
            None => Ok(None),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The words shown for a code: 1 to 80 characters, no control characters.
pub fn parse_label(text: &str) -> Result<String, ContactError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_LABEL_CHARS || text.chars().any(char::is_control) {
        return Err(ContactError::LabelInvalid);
    }
    Ok(text.to_string())
}

/// What was said and done, in the agent's words. May be empty; line breaks and tabs are kept,
/// other control characters are refused.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary(String);

impl Summary {
    pub fn parse(text: &str) -> Result<Summary, ContactError> {
        let text = text.trim();
        if text.chars().count() > MAX_SUMMARY_CHARS {
            return Err(ContactError::SummaryTooLong);
        }
        if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(ContactError::SummaryInvalid);
        }
        Ok(Summary(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// When the contact started and ended; the duration is derived, never stored apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactTimes {
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
}

impl ContactTimes {
    /// Checks the times against `now`: an absent end is now, an absent start is the end.
    pub fn parse(
        started_at: Option<Timestamp>,
        ended_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<ContactTimes, ContactError> {
        let ended_at = ended_at.unwrap_or(now);
        let started_at = started_at.unwrap_or(ended_at);
        let latest = now.plus_seconds(FUTURE_TOLERANCE_SECONDS);
        if started_at > latest {
            return Err(ContactError::TimeInFuture { field: "started_at" });
        }
        if ended_at > latest {
            return Err(ContactError::TimeInFuture { field: "ended_at" });
        }
        if ended_at < started_at {
            return Err(ContactError::EndedBeforeStarted);
        }
        let times = ContactTimes { started_at, ended_at };
        if times.duration_seconds() > MAX_CONTACT_SECONDS {
            return Err(ContactError::ContactTooLong);
        }
        Ok(times)
    }

    /// Whole seconds between start and end.
    pub fn duration_seconds(&self) -> i64 {
        self.ended_at.micros().saturating_sub(self.started_at.micros()) / kernel::clock::MICROS_PER_SECOND
    }
}

/// Reads an RFC 3339 instant (`2026-11-25T09:52:00Z`); blank is `None`.
pub fn parse_time(text: Option<&str>, field: &'static str) -> Result<Option<Timestamp>, ContactError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| ContactError::TimeInvalid { field })?;
    let micros =
        i64::try_from(parsed.unix_timestamp_nanos() / 1_000).map_err(|_| ContactError::TimeInvalid { field })?;
    Ok(Some(Timestamp::from_micros(micros)))
}

/// A link to another record (case, order, payment, account): a positive id or nothing.
pub fn parse_link(id: Option<i64>, field: &'static str) -> Result<Option<i64>, ContactError> {
    match id {
        Some(id) if id <= 0 => Err(ContactError::IdInvalid { field }),
        other => Ok(other),
    }
}

/// `m:ss` or `h:mm:ss` for a duration in seconds, as the timeline shows it.
pub fn format_duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (h, m, s) = (seconds / 3_600, (seconds % 3_600) / 60, seconds % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m}:{s:02}") }
}
