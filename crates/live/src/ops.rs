//! The chat operations, called alike by the WebSocket handlers, the API and tests: start a chat,
//! take it, end it (the transcript becomes a contact and, on request, a case), and the module's
//! settings. Each write appends its audit record in the caller's transaction.

use crate::LiveError;
use crate::model::{ChatStatus, Visitor};
use crate::store::{self, MessageRow, SessionEnd, SessionRow};
use contacts::model::{Channel, Code, ContactTimes, Direction, Summary};
use db::Tx;
use db::audit::{self, AuditEvent};
use kernel::{Actor, Timestamp};
use serde_json::json;

/// The setting names in `live_setting`.
pub const SETTING_ORIGINS: &str = "widget_origins";
pub const SETTING_SECRET: &str = "telephony_secret_sha256";
pub const SETTING_CHATS_PER_MINUTE: &str = "visitor_chats_per_minute";
/// New chats one client address may start per minute unless an administrator changes it.
pub const DEFAULT_CHATS_PER_MINUTE: u32 = 20;
/// The longest transcript a contact summary holds; the whole one stays on the chat session.
const SUMMARY_TRANSCRIPT_CHARS: usize = 3_800;

pub(crate) async fn record(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity: &str,
    id: String,
    detail: serde_json::Value,
    now: Timestamp,
) -> Result<(), LiveError> {
    audit::append(tx, actor, AuditEvent { action, entity, entity_id: id, detail }, now).await?;
    Ok(())
}

/// Starts a chat for a visitor: matched to a customer by email, waiting in the queue. Yields the
/// session and the resume token the visitor's browser keeps (only its hash is stored).
pub async fn start_chat(
    tx: &mut Tx,
    visitor: &Visitor,
    origin: &str,
    now: Timestamp,
) -> Result<(SessionRow, String), LiveError> {
    let token = db::random_token(24);
    let customer_id = store::customer_by_email(tx, &visitor.email).await?;
    let new = store::NewSession { token_hash: &db::sha256_hex(&token), visitor, origin, customer_id };
    let id = store::insert_session(tx, &new, now).await?;
    let detail = json!({ "customer_id": customer_id, "origin": origin });
    record(tx, &Actor::system("chat"), "chat.started", "chat_session", id.to_string(), detail, now).await?;
    let session = store::find_session(tx, id).await?.ok_or(LiveError::ChatNotFound)?;
    Ok((session, token))
}

/// The session a resume token names, with its transcript.
pub async fn resume_chat(tx: &mut Tx, token: &str) -> Result<(SessionRow, Vec<MessageRow>), LiveError> {
    let session =
        store::find_session_by_token(tx, &db::sha256_hex(token.trim())).await?.ok_or(LiveError::ResumeTokenUnknown)?;
    let messages = store::visitor_messages(tx, session.chat_session_id).await?;
    Ok((session, messages))
}

/// Gives a waiting chat to the agent.
pub async fn take_chat(tx: &mut Tx, actor: &Actor, session_id: i64, now: Timestamp) -> Result<SessionRow, LiveError> {
    let agent = actor.user_id().ok_or(LiveError::UserNotFound)?.get();
    if store::take_session(tx, session_id, agent, now).await? == 0 {
        let session = store::find_session(tx, session_id).await?.ok_or(LiveError::ChatNotFound)?;
        return Err(match ChatStatus::parse(&session.status) {
            Some(ChatStatus::Ended) => LiveError::ChatEnded,
            _ => LiveError::ChatAlreadyTaken,
        });
    }
    record(tx, actor, "chat.taken", "chat_session", session_id.to_string(), json!({}), now).await?;
    store::find_session(tx, session_id).await?.ok_or(LiveError::ChatNotFound)
}

/// The longest note an agent may hand over with a transfer.
pub const MAX_TRANSFER_NOTE_CHARS: usize = 500;

/// Where a chat goes: another agent, or back to the queue; with a note for whoever answers next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub to_user_id: Option<i64>,
    pub note: String,
}

impl Transfer {
    pub fn parse(to_user_id: Option<i64>, note: Option<&str>) -> Result<Transfer, LiveError> {
        let note = note.unwrap_or_default().trim();
        if note.chars().count() > MAX_TRANSFER_NOTE_CHARS
            || note.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(LiveError::NoteInvalid);
        }
        if to_user_id.is_some_and(|id| id <= 0) {
            return Err(LiveError::TransferTargetInvalid);
        }
        Ok(Transfer { to_user_id, note: note.to_string() })
    }
}

/// What a transfer did, for the hub to tell everyone concerned.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Transferred {
    pub session: SessionRow,
    pub from_user_id: i64,
    pub from_name: String,
    /// The agent now holding the chat; none when it went back to the queue.
    pub to_user_id: Option<i64>,
    pub to_name: Option<String>,
    pub note: String,
}

impl Transferred {
    /// The line the visitor sees (and the transcript keeps).
    pub fn visitor_line(&self) -> String {
        match &self.to_name {
            Some(name) => format!("You are now talking with {name}."),
            None => "You are back in the queue; the next free agent will answer.".to_string(),
        }
    }

    /// The internal line for agents only: who handed the chat to whom, and the note.
    pub fn note_line(&self) -> String {
        let to = self.to_name.as_deref().unwrap_or("the queue");
        match self.note.is_empty() {
            true => format!("{} transferred the chat to {to}.", self.from_name),
            false => format!("{} transferred the chat to {to}: {}", self.from_name, self.note),
        }
    }
}

/// Hands an active chat from the agent working it to another agent who may answer chats, or
/// back to the queue. Only the agent holding the chat may transfer it.
pub async fn transfer_chat(
    tx: &mut Tx,
    actor: &Actor,
    session_id: i64,
    transfer: Transfer,
    now: Timestamp,
) -> Result<Transferred, LiveError> {
    let from = actor.user_id().ok_or(LiveError::UserNotFound)?.get();
    let session = store::find_session(tx, session_id).await?.ok_or(LiveError::ChatNotFound)?;
    match ChatStatus::parse(&session.status) {
        Some(ChatStatus::Ended) => return Err(LiveError::ChatEnded),
        Some(ChatStatus::Waiting) => return Err(LiveError::ChatNotActive),
        _ if session.agent_user_id != Some(from) => return Err(LiveError::ChatNotYours),
        _ => {}
    }
    let from_name = store::staff_by_id(tx, from).await?.map(|s| s.display_name).unwrap_or_default();
    let to_name = match transfer.to_user_id {
        Some(to) if to == from => return Err(LiveError::TransferToSelf),
        Some(to) => {
            let staff = store::staff_by_id(tx, to).await?.ok_or(LiveError::TransferTargetInvalid)?;
            let may_chat = kernel::Role::parse(&staff.role).is_some_and(|r| r.permits(kernel::Permission::ChatWork));
            if !may_chat || !store::staff_is_enabled(tx, to).await? {
                return Err(LiveError::TransferTargetInvalid);
            }
            Some(staff.display_name)
        }
        None => None,
    };
    if store::reassign_session(tx, session_id, transfer.to_user_id).await? == 0 {
        return Err(LiveError::ChatNotActive);
    }
    let detail = json!({ "from_user_id": from, "to_user_id": transfer.to_user_id, "note": transfer.note });
    record(tx, actor, "chat.transferred", "chat_session", session_id.to_string(), detail, now).await?;
    let session = store::find_session(tx, session_id).await?.ok_or(LiveError::ChatNotFound)?;
    Ok(Transferred {
        session,
        from_user_id: from,
        from_name,
        to_user_id: transfer.to_user_id,
        to_name,
        note: transfer.note,
    })
}

/// A waiting chat whose visitor left before anyone answered: ended without a contact (nothing
/// was said to the customer).
pub async fn abandon_chat(tx: &mut Tx, session_id: i64, now: Timestamp) -> Result<bool, LiveError> {
    let Some(session) = store::find_session(tx, session_id).await? else {
        return Ok(false);
    };
    if session.status != ChatStatus::Waiting.code() {
        return Ok(false);
    }
    let end = SessionEnd { customer_id: None, contact_id: None, case_id: None };
    store::end_session(tx, session_id, &end, now).await?;
    record(tx, &Actor::system("chat"), "chat.abandoned", "chat_session", session_id.to_string(), json!({}), now)
        .await?;
    Ok(true)
}

/// How the agent closes a chat.
#[derive(Debug, Clone)]
pub struct EndChat {
    pub reason_code: Code,
    pub disposition_code: Option<Code>,
    /// Open a case with the transcript for follow-up.
    pub needs_follow_up: bool,
    /// The customer the chat was about, when the email matched none (or the wrong one).
    pub customer_id: Option<i64>,
}

impl EndChat {
    pub fn parse(
        reason_code: Option<&str>,
        disposition_code: Option<&str>,
        needs_follow_up: bool,
        customer_id: Option<i64>,
    ) -> Result<EndChat, LiveError> {
        let reason = reason_code.map(str::trim).filter(|r| !r.is_empty()).unwrap_or("other");
        Ok(EndChat {
            reason_code: Code::parse(reason, "reason_code")?,
            disposition_code: Code::parse_optional(disposition_code, "disposition_code")?,
            needs_follow_up,
            customer_id: contacts::model::parse_link(customer_id, "customer_id")?,
        })
    }
}

/// What ending a chat wrote.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct EndedChat {
    pub chat_session_id: i64,
    pub customer_id: Option<i64>,
    /// The contact holding the transcript; none when no customer is known.
    pub contact_id: Option<i64>,
    /// The follow-up case, when asked for.
    pub case_id: Option<i64>,
}

/// Ends a chat the agent works: the transcript becomes a chat contact on the customer's timeline
/// (matched by email, or the customer the agent names) and, on request, a case holding it. A
/// chat with no known customer keeps its transcript on the session only; the follow-up case is
/// then opened without a customer.
pub async fn end_chat(
    tx: &mut Tx,
    actor: &Actor,
    session_id: i64,
    end: EndChat,
    now: Timestamp,
) -> Result<EndedChat, LiveError> {
    let session = store::find_session(tx, session_id).await?.ok_or(LiveError::ChatNotFound)?;
    match ChatStatus::parse(&session.status) {
        Some(ChatStatus::Ended) => return Err(LiveError::ChatEnded),
        Some(ChatStatus::Active) if session.agent_user_id == actor.user_id().map(|u| u.get()) => {}
        _ => return Err(LiveError::ChatNotYours),
    }
    let customer_id = match end.customer_id {
        Some(id) if store::customer_is_live(tx, id).await? => Some(id),
        Some(_) => return Err(LiveError::CustomerNotFound),
        None => session.customer_id,
    };
    let messages = store::messages(tx, session_id).await?;
    let transcript = transcript(&session, &messages);
    let contact_id = match customer_id {
        Some(customer_id) => Some(log_chat_contact(tx, actor, &session, customer_id, &end, &transcript, now).await?),
        None => None,
    };
    let case_id = match end.needs_follow_up {
        true => Some(open_follow_up(tx, actor, &session, customer_id, contact_id, &transcript, now).await?),
        false => None,
    };
    store::end_session(tx, session_id, &SessionEnd { customer_id, contact_id, case_id }, now).await?;
    let detail = json!({ "customer_id": customer_id, "contact_id": contact_id, "case_id": case_id });
    record(tx, actor, "chat.ended", "chat_session", session_id.to_string(), detail, now).await?;
    Ok(EndedChat { chat_session_id: session_id, customer_id, contact_id, case_id })
}

async fn log_chat_contact(
    tx: &mut Tx,
    actor: &Actor,
    session: &SessionRow,
    customer_id: i64,
    end: &EndChat,
    transcript: &str,
    now: Timestamp,
) -> Result<i64, LiveError> {
    // A contact lasts at most a day; a chat left open longer is recorded as its last day.
    let started =
        Timestamp::from_micros(session.created_at).max(now.minus_seconds(contacts::model::MAX_CONTACT_SECONDS));
    let summary: String = if transcript.chars().count() > SUMMARY_TRANSCRIPT_CHARS {
        let head: String = transcript.chars().take(SUMMARY_TRANSCRIPT_CHARS).collect();
        format!("{head}\n… (the whole transcript is chat {})", session.chat_session_id)
    } else {
        transcript.to_string()
    };
    let new = contacts::ops::NewContact {
        customer_id,
        account_id: None,
        case_id: None,
        order_id: None,
        payment_id: None,
        channel: Channel::Chat,
        direction: Direction::Inbound,
        reason_code: end.reason_code.clone(),
        sub_reason_code: None,
        disposition_code: end.disposition_code.clone(),
        summary: Summary::parse(&summary)?,
        times: ContactTimes::parse(Some(started), Some(now), now)?,
    };
    Ok(contacts::ops::log_contact(tx, actor, new, now).await?.contact_id)
}

async fn open_follow_up(
    tx: &mut Tx,
    actor: &Actor,
    session: &SessionRow,
    customer_id: Option<i64>,
    contact_id: Option<i64>,
    transcript: &str,
    now: Timestamp,
) -> Result<i64, LiveError> {
    let description: String = transcript.chars().take(19_000).collect();
    let new = cases::ops::NewCase {
        customer_id,
        account_id: None,
        subject: format!("Chat follow-up: {}", session.visitor_name).chars().take(200).collect(),
        category: "other".to_string(),
        priority: None,
        queue_id: None,
        assignee_id: actor.user_id().map(|u| u.get()),
        description: Some(description),
        opened_in_contact_id: contact_id,
    };
    Ok(cases::ops::open_case(tx, actor, new, now).await?.case_id)
}

/// The transcript as text: who the visitor said they were, then one line per message.
pub fn transcript(session: &SessionRow, messages: &[MessageRow]) -> String {
    let mut text =
        format!("Chat {} with {} <{}>", session.chat_session_id, session.visitor_name, session.visitor_email);
    if !session.visitor_account.is_empty() {
        text.push_str(&format!(", account {}", session.visitor_account));
    }
    text.push('\n');
    for m in messages {
        let at = Timestamp::from_micros(m.sent_at).to_rfc3339();
        let clock = at.get(11..19).unwrap_or(&at);
        let who = match m.sender.as_str() {
            "visitor" => session.visitor_name.as_str(),
            "agent" => "Agent",
            "note" => "Note for agents",
            _ => "System",
        };
        text.push_str(&format!("[{clock}] {who}: {}\n", m.body));
    }
    text
}

/// The module's settings as the settings page and API show them (the secret never leaves).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct LiveSettings {
    /// Sites that may embed the chat widget; empty means any.
    pub widget_origins: Vec<String>,
    /// New chats one client address may start per minute.
    pub visitor_chats_per_minute: u32,
    /// Whether the telephony webhook secret is set.
    pub telephony_secret_set: bool,
}

pub async fn settings(tx: &mut Tx) -> Result<LiveSettings, LiveError> {
    let origins = store::setting(tx, SETTING_ORIGINS).await?.unwrap_or_default();
    let per_minute = store::setting(tx, SETTING_CHATS_PER_MINUTE).await?.and_then(|v| v.parse().ok());
    Ok(LiveSettings {
        widget_origins: origins.lines().map(str::to_string).filter(|l| !l.is_empty()).collect(),
        visitor_chats_per_minute: per_minute.unwrap_or(DEFAULT_CHATS_PER_MINUTE),
        telephony_secret_set: store::setting(tx, SETTING_SECRET).await?.is_some_and(|s| !s.is_empty()),
    })
}

/// A change of settings, parsed; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct SettingsChange {
    pub widget_origins: Option<Vec<String>>,
    pub visitor_chats_per_minute: Option<u32>,
    pub telephony_secret: Option<String>,
}

impl SettingsChange {
    pub fn parse(
        widget_origins: Option<&str>,
        visitor_chats_per_minute: Option<i64>,
        telephony_secret: Option<&str>,
    ) -> Result<SettingsChange, LiveError> {
        let origins = widget_origins.map(crate::model::parse_origins).transpose()?;
        let per_minute = match visitor_chats_per_minute {
            Some(n) if (1..=100_000).contains(&n) => Some(u32::try_from(n).map_err(|_| LiveError::LimitInvalid)?),
            Some(_) => return Err(LiveError::LimitInvalid),
            None => None,
        };
        let secret = match telephony_secret.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) if s.len() >= 16 && !s.contains(char::is_whitespace) => Some(s.to_string()),
            Some(_) => return Err(LiveError::SecretTooShort),
            None => None,
        };
        Ok(SettingsChange { widget_origins: origins, visitor_chats_per_minute: per_minute, telephony_secret: secret })
    }
}

pub async fn change_settings(
    tx: &mut Tx,
    actor: &Actor,
    change: SettingsChange,
    now: Timestamp,
) -> Result<LiveSettings, LiveError> {
    if let Some(origins) = &change.widget_origins {
        store::put_setting(tx, SETTING_ORIGINS, &origins.join("\n"), now).await?;
    }
    if let Some(per_minute) = change.visitor_chats_per_minute {
        store::put_setting(tx, SETTING_CHATS_PER_MINUTE, &per_minute.to_string(), now).await?;
    }
    if let Some(secret) = &change.telephony_secret {
        store::put_setting(tx, SETTING_SECRET, &db::sha256_hex(secret), now).await?;
    }
    let detail = json!({
        "widget_origins": change.widget_origins,
        "visitor_chats_per_minute": change.visitor_chats_per_minute,
        "telephony_secret_changed": change.telephony_secret.is_some(),
    });
    record(tx, actor, "live.settings_changed", "live_setting", "live".into(), detail, now).await?;
    settings(tx).await
}
