//! Live-channel domain types, each built only through `parse`, and the two state machines: a
//! chat session (waiting → active → ended) and a phone call (ringing → answered → transferred →
//! ended). No I/O here: time is handed in.

use crate::LiveError;
use kernel::Timestamp;
use serde::{Deserialize, Serialize};

/// The longest chat message either side may send.
pub const MAX_MESSAGE_CHARS: usize = 2_000;
const MAX_NAME_CHARS: usize = 80;
const MAX_ACCOUNT_CHARS: usize = 30;
const MAX_EXTENSION_CHARS: usize = 20;
const MAX_URL_CHARS: usize = 500;
const MAX_CALL_ID_CHARS: usize = 100;

/// Where a chat session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChatStatus {
    /// In the queue; no agent yet.
    Waiting,
    /// An agent took it.
    Active,
    /// Closed by the agent or the visitor; the transcript is final.
    Ended,
}

impl ChatStatus {
    pub fn code(self) -> &'static str {
        match self {
            ChatStatus::Waiting => "waiting",
            ChatStatus::Active => "active",
            ChatStatus::Ended => "ended",
        }
    }

    pub fn parse(text: &str) -> Option<ChatStatus> {
        [ChatStatus::Waiting, ChatStatus::Active, ChatStatus::Ended].into_iter().find(|s| s.code() == text.trim())
    }

    /// A waiting chat may be taken or abandoned; an active one only ends; an ended one is final.
    pub fn can_become(self, next: ChatStatus) -> bool {
        matches!(
            (self, next),
            (ChatStatus::Waiting, ChatStatus::Active)
                | (ChatStatus::Waiting, ChatStatus::Ended)
                | (ChatStatus::Active, ChatStatus::Ended)
        )
    }
}

/// What a phone system reports about a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    Ringing,
    Answered,
    Transferred,
    Ended,
}

impl CallState {
    pub const ALL: [CallState; 4] = [CallState::Ringing, CallState::Answered, CallState::Transferred, CallState::Ended];

    pub fn code(self) -> &'static str {
        match self {
            CallState::Ringing => "ringing",
            CallState::Answered => "answered",
            CallState::Transferred => "transferred",
            CallState::Ended => "ended",
        }
    }

    pub fn parse(text: &str) -> Result<CallState, LiveError> {
        CallState::ALL.into_iter().find(|s| s.code() == text.trim()).ok_or(LiveError::CallEventUnknown)
    }

    /// A transfer rings the next extension, which answers again; any live state may end.
    pub fn can_become(self, next: CallState) -> bool {
        use CallState as S;
        matches!(
            (self, next),
            (S::Ringing, S::Answered | S::Transferred | S::Ended)
                | (S::Answered, S::Transferred | S::Ended)
                | (S::Transferred, S::Answered | S::Transferred | S::Ended)
        )
    }
}

/// What one call event does to the call it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallStep {
    /// The first event of a call (phone systems report ringing first; a call first seen at a
    /// later state is recorded from there).
    Start(CallState),
    /// A permitted transition.
    Move(CallState),
    /// The same state reported again (a retried webhook): nothing changes. A repeated transfer
    /// is a new transfer, never a repeat.
    Repeat,
}

/// The one transition function of a call.
pub fn call_step(current: Option<CallState>, event: CallState) -> Result<CallStep, LiveError> {
    match current {
        None => Ok(CallStep::Start(event)),
        Some(state) if state == event && state != CallState::Transferred => Ok(CallStep::Repeat),
        Some(state) if state.can_become(event) => Ok(CallStep::Move(event)),
        Some(_) => Err(LiveError::CallEventOutOfOrder),
    }
}

/// A caller or called number as a phone system writes it (`+15551234567`, `5551234567`,
/// `tel:+1-555-123-4567`, `sip:+15551234567@pbx.example.org`), in E.164 when it is one.
pub fn normalise_number(text: &str) -> Option<String> {
    let text = text.trim();
    let text = text.strip_prefix("tel:").or_else(|| text.strip_prefix("sip:")).unwrap_or(text);
    let text = text.split(['@', ';']).next().unwrap_or_default();
    // Many systems dial out with the international prefix 00 instead of +.
    let text = match text.strip_prefix("00") {
        Some(rest) if rest.len() >= 8 => format!("+{rest}"),
        _ => text.to_string(),
    };
    customers::model::PhoneNumber::parse(&text).ok().map(|p| p.e164().to_string())
}

/// A staff telephone extension: 1 to 20 digits, letters, `*` or `#` (`201`, `SIP/201`
/// written as `201`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension(String);

impl Extension {
    pub fn parse(text: &str) -> Result<Extension, LiveError> {
        let text = text.trim();
        let valid = !text.is_empty()
            && text.chars().count() <= MAX_EXTENSION_CHARS
            && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '#' | '-' | '_'));
        if valid { Ok(Extension(text.to_string())) } else { Err(LiveError::ExtensionInvalid) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One call event as the webhook receives it, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct CallEvent {
    pub call_id: String,
    pub state: CallState,
    pub caller_number: String,
    pub called_number: String,
    pub extension: Option<Extension>,
    pub recording_url: String,
    pub at: Timestamp,
}

/// The raw fields of a call event, as text.
#[derive(Debug, Clone, Default)]
pub struct CallEventInput<'a> {
    pub call_id: &'a str,
    pub event: &'a str,
    pub caller_number: &'a str,
    pub called_number: &'a str,
    pub extension: &'a str,
    pub recording_url: &'a str,
    pub at: Option<Timestamp>,
}

impl CallEvent {
    pub fn parse(input: &CallEventInput<'_>, now: Timestamp) -> Result<CallEvent, LiveError> {
        let call_id = input.call_id.trim();
        if call_id.is_empty() || call_id.chars().count() > MAX_CALL_ID_CHARS || call_id.chars().any(char::is_control) {
            return Err(LiveError::CallIdInvalid);
        }
        let state = CallState::parse(input.event)?;
        let caller_number = short_text(input.caller_number, 40, "caller_number")?;
        let called_number = short_text(input.called_number, 40, "called_number")?;
        let extension = match input.extension.trim() {
            "" => None,
            text => Some(Extension::parse(text)?),
        };
        let recording_url = input.recording_url.trim();
        let url_ok = recording_url.is_empty()
            || ((recording_url.starts_with("https://") || recording_url.starts_with("http://"))
                && recording_url.len() <= MAX_URL_CHARS
                && !recording_url.chars().any(|c| c.is_control() || c.is_whitespace()));
        if !url_ok {
            return Err(LiveError::RecordingUrlInvalid);
        }
        Ok(CallEvent {
            call_id: call_id.to_string(),
            state,
            caller_number,
            called_number,
            extension,
            recording_url: recording_url.to_string(),
            at: input.at.unwrap_or(now),
        })
    }
}

fn short_text(text: &str, max: usize, field: &'static str) -> Result<String, LiveError> {
    let text = text.trim();
    if text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(LiveError::TextInvalid { field });
    }
    Ok(text.to_string())
}

/// Who a visitor says they are when the chat starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    pub name: String,
    pub email: String,
    pub account: String,
}

impl Visitor {
    pub fn parse(name: &str, email: &str, account: &str) -> Result<Visitor, LiveError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(LiveError::NameMissing);
        }
        if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(LiveError::TextInvalid { field: "name" });
        }
        let email = customers::model::EmailAddress::parse(email).map_err(|_| LiveError::EmailInvalid)?;
        let account = short_text(account, MAX_ACCOUNT_CHARS, "account")?;
        Ok(Visitor { name: name.to_string(), email: email.as_str().to_string(), account })
    }
}

/// A chat message's text: 1 to 2,000 characters; line breaks and tabs kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(text: &str) -> Result<MessageBody, LiveError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(LiveError::MessageEmpty);
        }
        if text.chars().count() > MAX_MESSAGE_CHARS {
            return Err(LiveError::MessageTooLong);
        }
        if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(LiveError::TextInvalid { field: "body" });
        }
        Ok(MessageBody(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The chat widget's allowed origins, one per line (`https://www.example.org`). No origins listed
/// means any site may embed the widget.
pub fn parse_origins(text: &str) -> Result<Vec<String>, LiveError> {
    let mut origins = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let line = line.trim_end_matches('/');
        let rest = line.strip_prefix("https://").or_else(|| line.strip_prefix("http://"));
        let valid = rest.is_some_and(|host| {
            !host.is_empty()
                && !host.contains('/')
                && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        });
        if !valid {
            return Err(LiveError::OriginInvalid);
        }
        origins.push(line.to_ascii_lowercase());
    }
    Ok(origins)
}

/// Whether a browser page at `origin` may open a visitor chat. Programs that send no origin (the
/// load generator, tests) are let through: the origin check protects against other web pages,
/// and only browsers can be made to connect on a page's behalf.
pub fn origin_allowed(origin: Option<&str>, allowed: &[String]) -> bool {
    match origin {
        None => true,
        Some(_) if allowed.is_empty() => true,
        Some(origin) => {
            let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
            allowed.contains(&origin)
        }
    }
}

/// The chat queue of one node: sessions in the order they started waiting.
#[derive(Debug, Clone, Default)]
pub struct Queue {
    waiting: Vec<i64>,
}

impl Queue {
    /// Adds a session at the back (or keeps its place when it is already waiting).
    pub fn push(&mut self, session_id: i64) {
        if !self.waiting.contains(&session_id) {
            self.waiting.push(session_id);
        }
    }

    /// Puts a session back at the place its start time gives it (after a restart, a reconnect).
    pub fn insert_in_order(&mut self, session_id: i64) {
        if self.waiting.contains(&session_id) {
            return;
        }
        // Session ids grow with start time, so the id orders the queue.
        let at = self.waiting.iter().position(|id| *id > session_id).unwrap_or(self.waiting.len());
        self.waiting.insert(at, session_id);
    }

    /// The queue as the database has it (ids in start order), after other nodes changed it.
    pub fn replace(&mut self, mut waiting: Vec<i64>) {
        waiting.sort_unstable();
        waiting.dedup();
        self.waiting = waiting;
    }

    pub fn remove(&mut self, session_id: i64) -> bool {
        let before = self.waiting.len();
        self.waiting.retain(|id| *id != session_id);
        self.waiting.len() != before
    }

    /// The first waiting session, taken off the queue.
    pub fn take_next(&mut self) -> Option<i64> {
        if self.waiting.is_empty() { None } else { Some(self.waiting.remove(0)) }
    }

    /// 1 for the next to be answered.
    pub fn position(&self, session_id: i64) -> Option<usize> {
        self.waiting.iter().position(|id| *id == session_id).map(|i| i + 1)
    }

    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    pub fn ids(&self) -> &[i64] {
        &self.waiting
    }
}
