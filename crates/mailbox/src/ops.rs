//! The inbound email operations, called alike by the API, the IMAP poll job, the CLI and tests.
//! A message is stored raw first; processing runs inside a savepoint of the same transaction, so
//! when it fails its half-done writes are undone while the raw copy and the error are kept.

use crate::MailboxError;
use crate::model::{self, InboundStatus, LoopFacts, LoopLimits, ParsedEmail};
use crate::sanitize::sanitize_html;
use crate::store::{self, InboundRow, Outcome};
use cases::CaseError;
use cases::ops::NewCase;
use contacts::model::{Channel, Code, ContactTimes, Direction, Summary};
use contacts::ops::NewContact;
use db::Tx;
use db::audit::{self, AuditEvent};
use kernel::{Actor, Page, PageRequest, Timestamp};
use serde_json::json;

/// Where a message came from: `api`, or `imap:<mailbox>` with the message's uid there, and the
/// queue that mailbox sends new cases to (None: the mailbox setting's).
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub name: &'a str,
    pub uid: Option<&'a str>,
    pub queue_id: Option<i64>,
}

impl Source<'static> {
    pub const API: Source<'static> = Source { name: "api", uid: None, queue_id: None };
}

/// The reason code every inbound email contact is logged with.
const CONTACT_REASON: &str = "other";
/// How many merges are followed to find the surviving case.
const MAX_MERGE_HOPS: usize = 8;

/// Stores a raw message and processes it, in the caller's transaction. None when this source
/// already delivered this uid (a repeated IMAP fetch): nothing is written then.
pub async fn receive(
    tx: &mut Tx,
    source: Source<'_>,
    raw: &[u8],
    now: Timestamp,
) -> Result<Option<InboundRow>, MailboxError> {
    let Some(id) = store::insert_raw(tx, source, raw, now).await? else {
        return Ok(None);
    };
    process_stored(tx, id, raw, source.queue_id, now).await?;
    store::find(tx, id).await?.map(Some).ok_or(MailboxError::MessageNotFound)
}

/// Processes a failed (or never processed) message again.
pub async fn retry(tx: &mut Tx, actor: &Actor, id: i64, now: Timestamp) -> Result<InboundRow, MailboxError> {
    let (raw, status, queue_id) = store::raw_of(tx, id).await?.ok_or(MailboxError::MessageNotFound)?;
    if !InboundStatus::parse(&status).is_some_and(InboundStatus::can_process) {
        return Err(MailboxError::NotRetryable);
    }
    let event = AuditEvent {
        action: "inbound_email.retried",
        entity: "inbound_message",
        entity_id: id.to_string(),
        detail: json!({}),
    };
    audit::append(tx, actor, event, now).await?;
    process_stored(tx, id, &raw, queue_id, now).await?;
    store::find(tx, id).await?.ok_or(MailboxError::MessageNotFound)
}

/// A processing failure: its message, and what headers could be read for the list.
struct Failed {
    error: String,
    headers: Outcome,
}

impl Failed {
    fn from_error(error: impl std::fmt::Display, headers: &Outcome) -> Failed {
        Failed { error: error.to_string(), headers: headers.clone() }
    }
}

/// Runs processing in a savepoint; a failure rolls back to it and records the error instead.
async fn process_stored(
    tx: &mut Tx,
    id: i64,
    raw: &[u8],
    queue_id: Option<i64>,
    now: Timestamp,
) -> Result<(), MailboxError> {
    db::execute!(&mut *tx, "savepoint mailbox_process")?;
    let outcome = process(tx, id, raw, queue_id, now).await;
    let actor = Actor::system("mailbox");
    match outcome {
        Ok(outcome) => {
            db::execute!(&mut *tx, "release savepoint mailbox_process")?;
            let detail = json!({ "status": outcome.status, "case_id": outcome.case_id, "flags": outcome.auto_flags });
            let event = AuditEvent {
                action: "inbound_email.processed",
                entity: "inbound_message",
                entity_id: id.to_string(),
                detail,
            };
            audit::append(tx, &actor, event, now).await?;
        }
        Err(failed) => {
            db::execute!(&mut *tx, "rollback to savepoint mailbox_process")?;
            db::execute!(&mut *tx, "release savepoint mailbox_process")?;
            tracing::warn!(inbound_message_id = id, error = %failed.error, "inbound email not processed");
            store::record_failure(tx, id, &failed.error, &failed.headers, now).await?;
            let detail = json!({ "error": failed.error });
            let event = AuditEvent {
                action: "inbound_email.failed",
                entity: "inbound_message",
                entity_id: id.to_string(),
                detail,
            };
            audit::append(tx, &actor, event, now).await?;
        }
    }
    Ok(())
}

/// The parsed headers as the message row keeps them.
fn headers_outcome(parsed: &ParsedEmail) -> Outcome {
    Outcome {
        message_id: parsed.message_id.clone(),
        from_address: parsed.from_address.clone(),
        from_name: parsed.from_name.clone(),
        subject: Some(model::one_line(&parsed.subject, 300)),
        ..Outcome::default()
    }
}

async fn process(tx: &mut Tx, id: i64, raw: &[u8], queue_id: Option<i64>, now: Timestamp) -> Result<Outcome, Failed> {
    let empty = Outcome::default();
    let parsed = model::parse_email(raw).map_err(|p| Failed::from_error(p.message(), &empty))?;
    let mut outcome = headers_outcome(&parsed);
    let fail = |e: MailboxError, headers: &Outcome| Failed::from_error(e, headers);
    outcome.html_sanitised = parsed.html.as_deref().map(sanitize_html);
    if let Some(message_id) = &parsed.message_id
        && let Some((_, case_id)) =
            store::earlier_with_message_id(tx, message_id, id).await.map_err(|e| fail(e.into(), &outcome))?
    {
        outcome.status = InboundStatus::Duplicate.code();
        outcome.case_id = case_id;
        store::record_outcome(tx, id, &outcome, now).await.map_err(|e| fail(e.into(), &outcome))?;
        return Ok(outcome);
    }
    let headers = outcome.clone();
    deliver(tx, id, &parsed, outcome, queue_id, now).await.map_err(|e| fail(e, &headers))
}

/// Flags, threads and writes one parsed message.
async fn deliver(
    tx: &mut Tx,
    id: i64,
    parsed: &ParsedEmail,
    mut outcome: Outcome,
    queue_id: Option<i64>,
    now: Timestamp,
) -> Result<Outcome, MailboxError> {
    let settings = store::settings(tx).await?;
    let queue_id = queue_id.or(settings.queue_id);
    let flags = loop_flags(tx, id, parsed, &settings, now).await?;
    outcome.auto_flags = flags.join(",");
    let sender = match &parsed.from_address {
        Some(address) => store::customer_by_email(tx, address).await?,
        None => None,
    };
    let actor = Actor::system(&sender_label(parsed));
    let thread = find_thread(tx, parsed).await?;
    let automatic = !flags.is_empty();
    let landed = match thread {
        Some((case, how)) if automatic => {
            note_automatic(tx, &actor, case, parsed, &flags, now).await?.map(|c| (c, how))
        }
        Some((case, how)) => Some(reply_on_case(tx, &actor, (case, how), parsed, sender, queue_id, now).await?),
        None if automatic => None,
        None => Some((open_new(tx, &actor, parsed, sender, None, queue_id, now).await?, "new_case")),
    };
    outcome.status = if landed.is_some() { InboundStatus::Processed.code() } else { InboundStatus::Held.code() };
    if let Some((case_id, how)) = landed {
        outcome.case_id = Some(case_id);
        outcome.threaded_by = Some(how);
        keep_attachments(tx, &actor, case_id, id, parsed, now).await?;
        let brief = store::case_brief(tx, case_id).await?;
        outcome.customer_id = brief.and_then(|b| b.customer_id).or(sender);
    } else {
        outcome.customer_id = sender;
    }
    let opened = matches!(outcome.threaded_by, Some("new_case" | "follow_up"));
    if opened
        && !automatic
        && let Some(case_id) = outcome.case_id
    {
        outcome.acknowledged = crate::ack::acknowledge(tx, case_id, outcome.customer_id, parsed, now).await?;
    }
    if let Some(customer_id) = outcome.customer_id {
        outcome.contact_id = Some(log_contact(tx, &actor, customer_id, outcome.case_id, parsed, now).await?);
    }
    store::record_outcome(tx, id, &outcome, now).await?;
    Ok(outcome)
}

/// "Name <address>" of the sender, for the thread's author and the audit trail.
fn sender_label(parsed: &ParsedEmail) -> String {
    let address = parsed.from_address.as_deref().unwrap_or("unknown sender");
    match &parsed.from_name {
        Some(name) => format!("{} <{address}>", model::one_line(name, 80)),
        None => address.to_string(),
    }
}

async fn loop_flags(
    tx: &mut Tx,
    id: i64,
    parsed: &ParsedEmail,
    settings: &store::SettingsRow,
    now: Timestamp,
) -> Result<Vec<&'static str>, MailboxError> {
    let mut ids = parsed.references.clone();
    ids.extend(parsed.in_reply_to.iter().filter(|i| !parsed.references.contains(i)).cloned());
    let since = now.minus_seconds(i64::from(settings.sender_window_minutes) * 60);
    let recent_from_sender = match &parsed.from_address {
        Some(address) => store::count_recent_from(tx, address, since, id).await?,
        None => 0,
    };
    // Ours are the ids of the configured [smtp] domain, and of the setting's (older rows).
    let queue_domain = correspondence::store::queue_settings(tx).await?.message_id_domain;
    let mut own_references = model::own_reference_count(&ids, &queue_domain);
    if !queue_domain.eq_ignore_ascii_case(&settings.own_domain) {
        own_references += model::own_reference_count(&ids, &settings.own_domain);
    }
    let facts = LoopFacts { own_references, recent_from_sender };
    let limits = LoopLimits {
        own_references_limit: i64::from(settings.own_references_limit),
        sender_limit: i64::from(settings.sender_limit),
    };
    Ok(model::auto_flags(&parsed.signals, facts, limits))
}

/// The case this message answers: by In-Reply-To, then References (newest first), then the
/// case number in the subject; merged cases lead to the case they were merged into.
async fn find_thread(tx: &mut Tx, parsed: &ParsedEmail) -> Result<Option<(i64, &'static str)>, MailboxError> {
    let mut found = None;
    for message_id in &parsed.in_reply_to {
        if let Some(case_id) = case_of_message_id(tx, message_id).await? {
            found = Some((case_id, "message_id"));
            break;
        }
    }
    if found.is_none() {
        for message_id in parsed.references.iter().rev() {
            if let Some(case_id) = case_of_message_id(tx, message_id).await? {
                found = Some((case_id, "references"));
                break;
            }
        }
    }
    if found.is_none()
        && let Some(number) = model::case_number_in(&parsed.subject)
        && let Some(case_id) = store::case_by_number(tx, &number).await?
    {
        found = Some((case_id, "subject"));
    }
    let Some((mut case_id, how)) = found else { return Ok(None) };
    for _ in 0..MAX_MERGE_HOPS {
        match store::case_brief(tx, case_id).await?.and_then(|b| b.merged_into) {
            Some(into) => case_id = into,
            None => break,
        }
    }
    Ok(Some((case_id, how)))
}

/// The case a Message-ID belongs to: one of ours received earlier, or one we sent.
async fn case_of_message_id(tx: &mut Tx, message_id: &str) -> Result<Option<i64>, MailboxError> {
    match store::case_of_inbound_id(tx, message_id).await? {
        Some(case_id) => Ok(Some(case_id)),
        None => Ok(store::case_of_outbound_id(tx, message_id).await?),
    }
}

/// An automatic message on a known case: a note, so it neither reopens the case nor counts as
/// the customer's reply. None when the case is closed (the message is held).
async fn note_automatic(
    tx: &mut Tx,
    actor: &Actor,
    case_id: i64,
    parsed: &ParsedEmail,
    flags: &[&str],
    now: Timestamp,
) -> Result<Option<i64>, MailboxError> {
    let body = format!(
        "Automatic email ({}): {}\n\n{}",
        flags.join(", "),
        model::case_subject(&parsed.subject),
        model::thread_text(&parsed.text)
    );
    match cases::ops::add_note(tx, actor, case_id, &model::thread_text(&body), now).await {
        Ok(_) => Ok(Some(case_id)),
        Err(CaseError::CaseClosed) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A person's reply on a known case; a case past reopening gets a follow-up case instead.
async fn reply_on_case(
    tx: &mut Tx,
    actor: &Actor,
    (case_id, how): (i64, &'static str),
    parsed: &ParsedEmail,
    sender: Option<i64>,
    queue_id: Option<i64>,
    now: Timestamp,
) -> Result<(i64, &'static str), MailboxError> {
    match cases::ops::customer_reply(tx, actor, case_id, &model::thread_text(&parsed.text), now).await {
        Ok(_) => Ok((case_id, how)),
        Err(CaseError::CaseClosed) => {
            let brief = store::case_brief(tx, case_id).await?;
            let customer = brief.as_ref().and_then(|b| b.customer_id).or(sender);
            let follows = brief.map(|b| b.case_number);
            Ok((open_new(tx, actor, parsed, customer, follows.as_deref(), queue_id, now).await?, "follow_up"))
        }
        Err(e) => Err(e.into()),
    }
}

/// A new case for a message that answers none, its text as the customer's first entry.
async fn open_new(
    tx: &mut Tx,
    actor: &Actor,
    parsed: &ParsedEmail,
    customer_id: Option<i64>,
    follows: Option<&str>,
    queue_id: Option<i64>,
    now: Timestamp,
) -> Result<i64, MailboxError> {
    let description = match (follows, customer_id) {
        (Some(number), _) => Some(format!("Follow-up by email to {number}, which is closed.")),
        (None, None) => Some("No customer has the sender's email address: find or add the customer.".to_string()),
        (None, Some(_)) => None,
    };
    let new = NewCase {
        customer_id,
        subject: model::case_subject(&parsed.subject),
        category: "other".to_string(),
        queue_id,
        description,
        ..NewCase::default()
    };
    let case = cases::ops::open_case(tx, actor, new, now).await?;
    cases::ops::customer_reply(tx, actor, case.case_id, &model::thread_text(&parsed.text), now).await?;
    Ok(case.case_id)
}

/// Stores each attachment on the case; one the case refuses (type, size, name) is named in a
/// note instead, and stays in the raw message.
async fn keep_attachments(
    tx: &mut Tx,
    actor: &Actor,
    case_id: i64,
    inbound_id: i64,
    parsed: &ParsedEmail,
    now: Timestamp,
) -> Result<(), MailboxError> {
    let mut dropped = Vec::new();
    for attachment in &parsed.attachments {
        match cases::ops::attach(tx, actor, case_id, &attachment.file_name, &attachment.bytes, now).await {
            Ok(_) => {}
            Err(
                e @ (CaseError::AttachmentTooLarge | CaseError::AttachmentTypeRefused | CaseError::TextInvalid { .. }),
            ) => {
                let name = model::one_line(&attachment.file_name, 120);
                dropped.push(format!("- {name} ({}, {} bytes): {e}", attachment.content_type, attachment.bytes.len()));
            }
            Err(CaseError::CaseClosed) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
    if !dropped.is_empty() {
        let note = format!(
            "Attachments not kept on the case (they remain in the raw message, mailbox message {inbound_id}):\n{}",
            dropped.join("\n")
        );
        cases::ops::add_note(tx, actor, case_id, &model::thread_text(&note), now).await?;
    }
    Ok(())
}

async fn log_contact(
    tx: &mut Tx,
    actor: &Actor,
    customer_id: i64,
    case_id: Option<i64>,
    parsed: &ParsedEmail,
    now: Timestamp,
) -> Result<i64, MailboxError> {
    let summary = format!("Email: {}", model::one_line(&model::case_subject(&parsed.subject), 3_900));
    let new = NewContact {
        customer_id,
        account_id: None,
        case_id,
        order_id: None,
        payment_id: None,
        channel: Channel::Email,
        direction: Direction::Inbound,
        reason_code: Code::parse(CONTACT_REASON, "reason_code")?,
        sub_reason_code: None,
        disposition_code: None,
        summary: Summary::parse(&summary)?,
        times: ContactTimes { started_at: now, ended_at: now },
    };
    Ok(contacts::ops::log_contact(tx, actor, new, now).await?.contact_id)
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<InboundRow, MailboxError> {
    store::find(tx, id).await?.ok_or(MailboxError::MessageNotFound)
}

/// The sanitised HTML of a message, if it had an HTML part.
pub async fn sanitised_html(tx: &mut Tx, id: i64) -> Result<Option<String>, MailboxError> {
    store::sanitised_html(tx, id).await?.ok_or(MailboxError::MessageNotFound)
}

/// The raw bytes as received.
pub async fn raw(tx: &mut Tx, id: i64) -> Result<Vec<u8>, MailboxError> {
    Ok(store::raw_of(tx, id).await?.ok_or(MailboxError::MessageNotFound)?.0)
}

/// Inbound messages newest first, a page at a time, optionally of one status.
pub async fn list(
    tx: &mut Tx,
    status: Option<InboundStatus>,
    page: &PageRequest,
) -> Result<Page<InboundRow>, MailboxError> {
    let before_id = page.after.map(|c| c.after_key).unwrap_or(i64::MAX);
    let rows = store::list(tx, status.map(InboundStatus::code), before_id, page.fetch_limit()).await?;
    Ok(Page::from_rows(rows, page, |r| r.inbound_message_id))
}
