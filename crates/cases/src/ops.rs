//! The case operations, called alike by HTTP handlers, jobs, the demo loader and tests. Each
//! writes its thread event, audit record and search text in the caller's transaction. Every
//! status change goes through [`move_to`], which also stops and restarts the SLA clock.

use crate::CaseError;
use crate::calendar::BusinessCalendar;
use crate::model::{self, CaseStatus, Priority, SlaState};
use crate::store::{self, AttachmentRow, CallbackRow, CaseRow, EntryRow, LinkRow, NewAttachment, NewCaseRow};
use db::audit::{self, AuditEvent};
use db::{Db, Tx};
use kernel::{Actor, Timestamp};
use serde::Serialize;
use serde_json::json;

async fn record(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    case_id: i64,
    detail: serde_json::Value,
    now: Timestamp,
) -> Result<(), CaseError> {
    audit::append(tx, actor, AuditEvent { action, entity: "case", entity_id: case_id.to_string(), detail }, now)
        .await?;
    Ok(())
}

async fn event(tx: &mut Tx, actor: &Actor, case_id: i64, text: &str, now: Timestamp) -> Result<(), CaseError> {
    store::insert_entry(tx, case_id, "event", text, &actor.name(), now).await?;
    Ok(())
}

async fn live_case(tx: &mut Tx, id: i64) -> Result<CaseRow, CaseError> {
    let case = store::find_case(tx, id).await?.ok_or(CaseError::CaseNotFound)?;
    if case.status == CaseStatus::Closed.code() {
        return Err(CaseError::CaseClosed);
    }
    Ok(case)
}

fn status_of(case: &CaseRow) -> CaseStatus {
    CaseStatus::parse(&case.status).unwrap_or(CaseStatus::Open)
}

/// The calendar and targets (seconds) of a priority.
async fn sla_for(tx: &mut Tx, priority: &str) -> Result<(BusinessCalendar, i64, i64), CaseError> {
    let Some(policy) = store::policy(tx, priority).await? else {
        return Ok((BusinessCalendar::always(), 0, 0));
    };
    let calendar = store::calendar(tx, policy.calendar_id).await?;
    Ok((calendar, i64::from(policy.first_response_minutes) * 60, i64::from(policy.resolution_minutes) * 60))
}

/// Business seconds from `now` until `due`; negative once past it.
pub fn remaining(calendar: &BusinessCalendar, now: Timestamp, due: Timestamp) -> i64 {
    if due >= now { calendar.business_seconds_between(now, due) } else { -calendar.business_seconds_between(due, now) }
}

/// A new case as an agent opens it.
#[derive(Debug, Clone, Default)]
pub struct NewCase {
    pub customer_id: Option<i64>,
    pub account_id: Option<i64>,
    pub subject: String,
    pub category: String,
    pub priority: Option<Priority>,
    pub queue_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub description: Option<String>,
    pub opened_in_contact_id: Option<i64>,
}

pub async fn open_case(tx: &mut Tx, actor: &Actor, new: NewCase, now: Timestamp) -> Result<CaseRow, CaseError> {
    let subject = model::required_text(&new.subject, "subject", 200)?;
    let category = model::one_of(&new.category, &model::CATEGORIES, "category")?;
    let priority = new.priority.unwrap_or(Priority::Normal);
    let description = new.description.as_deref().filter(|d| !d.trim().is_empty());
    let description = description.map(|d| model::required_text(d, "description", 20_000)).transpose()?;
    if let Some(customer_id) = new.customer_id {
        let customer = customers::store::find_customer(tx, customer_id).await?.ok_or(CaseError::CustomerNotFound)?;
        if let Some(account_id) = new.account_id {
            let accounts = customers::store::accounts_of(tx, customer.customer_id).await?;
            if !accounts.iter().any(|a| a.account_id == account_id) {
                return Err(CaseError::ValueUnknown { field: "account_id" });
            }
        }
    }
    let queue = match new.queue_id {
        Some(id) => store::find_queue(tx, id).await?.ok_or(CaseError::QueueNotFound)?,
        None => store::first_queue_of_tier(tx, 1).await?.ok_or(CaseError::QueueNotFound)?,
    };
    if let Some(user) = new.assignee_id
        && !store::user_exists(tx, user).await?
    {
        return Err(CaseError::UserNotFound);
    }
    let (calendar, first_target, resolution_target) = sla_for(tx, priority.code()).await?;
    let due =
        |seconds: i64| (seconds > 0).then(|| calendar.add_business_seconds(now, seconds).map(|t| t.micros())).flatten();
    let row = NewCaseRow {
        customer_id: new.customer_id,
        account_id: new.account_id,
        subject: &subject,
        category: &category,
        priority: priority.code(),
        tier: queue.tier,
        queue_id: queue.queue_id,
        assignee_id: new.assignee_id,
        opened_by: &actor.name(),
        opened_in_contact_id: new.opened_in_contact_id,
        first_response_due_at: due(first_target),
        resolution_due_at: due(resolution_target),
    };
    let id = store::insert_case(tx, &row, now).await?;
    event(tx, actor, id, &format!("Opened in queue {}", queue.name), now).await?;
    if let Some(description) = description {
        store::insert_entry(tx, id, "note", &description, &actor.name(), now).await?;
    }
    let detail =
        json!({ "subject": subject, "priority": priority.code(), "queue": queue.name, "customer_id": new.customer_id });
    record(tx, actor, "case.opened", id, detail, now).await?;
    store::reindex(tx, id).await?;
    store::find_case(tx, id).await?.ok_or(CaseError::CaseNotFound)
}

/// Changes the status, stopping the SLA clock when the case starts waiting on the customer (or
/// is resolved) and restarting it, with the business time it had left, when work resumes.
pub async fn move_to(
    tx: &mut Tx,
    actor: &Actor,
    case: &CaseRow,
    next: CaseStatus,
    now: Timestamp,
) -> Result<(), CaseError> {
    let current = status_of(case);
    current.transition(next)?;
    let (calendar, _, _) = sla_for(tx, &case.priority).await?;
    if !current.clock_paused() && next.clock_paused() {
        let left = case.resolution_due_at.map(|due| remaining(&calendar, now, Timestamp(due))).unwrap_or(0);
        store::set_clock(tx, case.case_id, case.resolution_due_at, Some(left)).await?;
    } else if current.clock_paused() && !next.clock_paused() {
        let left = case.sla_paused_remaining.unwrap_or(0).max(0);
        let due = calendar.add_business_seconds(now, left).unwrap_or(now);
        store::set_clock(tx, case.case_id, Some(due.micros()), None).await?;
    }
    store::set_status(tx, case.case_id, next.code(), now).await?;
    event(tx, actor, case.case_id, &format!("Status: {} → {}", current.label(), next.label()), now).await?;
    let detail = json!({ "from": current.code(), "to": next.code() });
    record(tx, actor, "case.status_changed", case.case_id, detail, now).await
}

/// Assigns the next unassigned case of a queue (most urgent, then oldest) to the caller.
pub async fn take_next(
    tx: &mut Tx,
    actor: &Actor,
    queue_id: i64,
    now: Timestamp,
) -> Result<Option<CaseRow>, CaseError> {
    let user_id = actor.user_id().ok_or(CaseError::UserNotFound)?.get();
    store::find_queue(tx, queue_id).await?.ok_or(CaseError::QueueNotFound)?;
    let Some(case) = store::next_unassigned(tx, queue_id).await? else { return Ok(None) };
    store::set_assignment(tx, case.case_id, case.queue_id, case.tier, Some(user_id), now).await?;
    event(tx, actor, case.case_id, &format!("Taken by {}", actor.name()), now).await?;
    record(tx, actor, "case.assigned", case.case_id, json!({ "assignee_id": user_id, "via": "take_next" }), now)
        .await?;
    if status_of(&case) == CaseStatus::New {
        move_to(tx, actor, &case, CaseStatus::Open, now).await?;
    }
    store::find_case(tx, case.case_id).await.map_err(CaseError::from)
}

pub async fn assign(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    assignee: Option<i64>,
    now: Timestamp,
) -> Result<CaseRow, CaseError> {
    let case = live_case(tx, id).await?;
    if let Some(user) = assignee
        && !store::user_exists(tx, user).await?
    {
        return Err(CaseError::UserNotFound);
    }
    store::set_assignment(tx, id, case.queue_id, case.tier, assignee, now).await?;
    event(
        tx,
        actor,
        id,
        &format!("Assigned to {}", assignee.map(|a| format!("user {a}")).unwrap_or("nobody".into())),
        now,
    )
    .await?;
    record(tx, actor, "case.assigned", id, json!({ "assignee_id": assignee }), now).await?;
    store::find_case(tx, id).await?.ok_or(CaseError::CaseNotFound)
}

/// Tier 1 → tier 2 with a reason: the case moves to the first tier-2 queue, unassigned.
pub async fn escalate(tx: &mut Tx, actor: &Actor, id: i64, reason: &str, now: Timestamp) -> Result<CaseRow, CaseError> {
    let case = live_case(tx, id).await?;
    if case.tier >= 2 {
        return Err(CaseError::AlreadyTierTwo);
    }
    let reason = model::required_text(reason, "reason", 2_000)?;
    let queue = store::first_queue_of_tier(tx, 2).await?.ok_or(CaseError::QueueNotFound)?;
    store::set_assignment(tx, id, queue.queue_id, 2, None, now).await?;
    event(tx, actor, id, &format!("Escalated to tier 2 ({}): {reason}", queue.name), now).await?;
    record(tx, actor, "case.escalated", id, json!({ "queue": queue.name, "reason": reason }), now).await?;
    store::find_case(tx, id).await?.ok_or(CaseError::CaseNotFound)
}

pub async fn transfer(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    queue_id: i64,
    note: Option<&str>,
    now: Timestamp,
) -> Result<CaseRow, CaseError> {
    let case = live_case(tx, id).await?;
    let queue = store::find_queue(tx, queue_id).await?.ok_or(CaseError::QueueNotFound)?;
    if case.queue_id == queue_id {
        return Err(CaseError::SameQueue);
    }
    store::set_assignment(tx, id, queue_id, queue.tier, None, now).await?;
    let note = note.map(str::trim).filter(|n| !n.is_empty()).map(|n| format!(": {n}")).unwrap_or_default();
    event(tx, actor, id, &format!("Transferred to {}{note}", queue.name), now).await?;
    record(tx, actor, "case.transferred", id, json!({ "queue": queue.name }), now).await?;
    store::find_case(tx, id).await?.ok_or(CaseError::CaseNotFound)
}

pub async fn add_note(tx: &mut Tx, actor: &Actor, id: i64, body: &str, now: Timestamp) -> Result<EntryRow, CaseError> {
    live_case(tx, id).await?;
    let body = model::required_text(body, "body", 20_000)?;
    let entry_id = store::insert_entry(tx, id, "note", &body, &actor.name(), now).await?;
    record(tx, actor, "case.note_added", id, json!({ "entry_id": entry_id }), now).await?;
    store::reindex(tx, id).await?;
    entry(tx, id, entry_id).await
}

async fn entry(tx: &mut Tx, case_id: i64, entry_id: i64) -> Result<EntryRow, CaseError> {
    store::entries_of(tx, case_id).await?.into_iter().find(|e| e.entry_id == entry_id).ok_or(CaseError::CaseNotFound)
}

/// An agent's reply to the customer; the first one stops the first-response clock. With
/// `await_customer` the case then waits on the customer (its SLA clock paused).
pub async fn reply(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    body: &str,
    await_customer: bool,
    now: Timestamp,
) -> Result<EntryRow, CaseError> {
    let case = live_case(tx, id).await?;
    let body = model::required_text(body, "body", 20_000)?;
    let entry_id = store::insert_entry(tx, id, "reply_out", &body, &actor.name(), now).await?;
    // The reply goes out as email through the correspondence module's job, committed with it.
    let email = json!({ "case_id": id, "entry_id": entry_id, "agent_user_id": actor.user_id().map(|u| u.0) });
    db::jobs::enqueue(tx, crate::CASE_REPLY_EMAIL_JOB, &email, now).await?;
    store::set_first_response(tx, id, now).await?;
    record(tx, actor, "case.replied", id, json!({ "entry_id": entry_id }), now).await?;
    if await_customer && status_of(&case) != CaseStatus::PendingCustomer {
        move_to(tx, actor, &case, CaseStatus::PendingCustomer, now).await?;
    } else if status_of(&case) == CaseStatus::New {
        move_to(tx, actor, &case, CaseStatus::Open, now).await?;
    }
    store::reindex(tx, id).await?;
    entry(tx, id, entry_id).await
}

/// A reply from the customer. A case waiting on them opens again (its clock resumes); a
/// resolved case reopens if it was resolved within the configured number of days.
pub async fn customer_reply(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    body: &str,
    now: Timestamp,
) -> Result<EntryRow, CaseError> {
    let case = live_case(tx, id).await?;
    let body = model::required_text(body, "body", 20_000)?;
    let status = status_of(&case);
    if status == CaseStatus::Resolved {
        let window_days = store::reopen_days(tx).await?;
        let resolved_at = Timestamp(case.resolved_at.unwrap_or(now.micros()));
        if now > resolved_at.plus_seconds(window_days * 86_400) {
            return Err(CaseError::CaseClosed);
        }
    }
    let entry_id = store::insert_entry(tx, id, "reply_in", &body, &actor.name(), now).await?;
    record(tx, actor, "case.customer_replied", id, json!({ "entry_id": entry_id }), now).await?;
    if matches!(status, CaseStatus::PendingCustomer | CaseStatus::Resolved) {
        if status == CaseStatus::Resolved {
            store::set_resolved(tx, id, None, false, None).await?;
        }
        move_to(tx, actor, &case, CaseStatus::Open, now).await?;
    }
    store::reindex(tx, id).await?;
    entry(tx, id, entry_id).await
}

/// Moves a case between open and the waiting states.
pub async fn change_status(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    next: CaseStatus,
    now: Timestamp,
) -> Result<CaseRow, CaseError> {
    if matches!(next, CaseStatus::Resolved | CaseStatus::Closed | CaseStatus::New) {
        return Err(CaseError::ValueUnknown { field: "status" });
    }
    let case = live_case(tx, id).await?;
    move_to(tx, actor, &case, next, now).await?;
    store::find_case(tx, id).await?.ok_or(CaseError::CaseNotFound)
}

/// Resolves with a resolution code. Resolving during the contact that opened the case counts
/// as first-contact resolution.
pub async fn resolve(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    resolution_code: &str,
    during_contact_id: Option<i64>,
    now: Timestamp,
) -> Result<CaseRow, CaseError> {
    if resolution_code.trim().is_empty() {
        return Err(CaseError::ResolutionCodeMissing);
    }
    let code = model::one_of(resolution_code, &model::RESOLUTION_CODES, "resolution_code")?;
    let case = live_case(tx, id).await?;
    let fcr = case.opened_in_contact_id.is_some() && case.opened_in_contact_id == during_contact_id;
    move_to(tx, actor, &case, CaseStatus::Resolved, now).await?;
    store::set_resolved(tx, id, Some(&code), fcr, Some(now.micros())).await?;
    store::set_first_response(tx, id, now).await?;
    record(tx, actor, "case.resolved", id, json!({ "resolution_code": code, "first_contact_resolution": fcr }), now)
        .await?;
    store::find_case(tx, id).await?.ok_or(CaseError::CaseNotFound)
}

pub async fn close(tx: &mut Tx, actor: &Actor, id: i64, now: Timestamp) -> Result<CaseRow, CaseError> {
    let case = live_case(tx, id).await?;
    move_to(tx, actor, &case, CaseStatus::Closed, now).await?;
    store::set_closed(tx, id, now).await?;
    store::find_case(tx, id).await?.ok_or(CaseError::CaseNotFound)
}

pub async fn schedule_callback(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    assignee: i64,
    due: Timestamp,
    note: &str,
    now: Timestamp,
) -> Result<CallbackRow, CaseError> {
    live_case(tx, id).await?;
    if due <= now {
        return Err(CaseError::DueInThePast);
    }
    if !store::user_exists(tx, assignee).await? {
        return Err(CaseError::UserNotFound);
    }
    let note = model::required_text(note, "note", 500)?;
    let callback_id = store::insert_callback(tx, id, assignee, due, &note, now).await?;
    event(tx, actor, id, &format!("Callback scheduled for {}: {note}", due.to_display()), now).await?;
    record(
        tx,
        actor,
        "case.callback_scheduled",
        id,
        json!({ "callback_id": callback_id, "due_at": due.micros() }),
        now,
    )
    .await?;
    store::find_callback(tx, callback_id).await?.ok_or(CaseError::CallbackNotFound)
}

pub async fn complete_callback(tx: &mut Tx, actor: &Actor, callback_id: i64, now: Timestamp) -> Result<(), CaseError> {
    let callback = store::find_callback(tx, callback_id).await?.ok_or(CaseError::CallbackNotFound)?;
    if store::complete_callback(tx, callback_id, now).await? == 0 {
        return Err(CaseError::CallbackNotFound);
    }
    event(tx, actor, callback.case_id, "Callback made", now).await?;
    record(tx, actor, "case.callback_done", callback.case_id, json!({ "callback_id": callback_id }), now).await
}

/// Links two cases both ways (`related`), or makes `other` the parent of `id` (`parent`).
pub async fn link(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    other: i64,
    kind: &str,
    now: Timestamp,
) -> Result<(), CaseError> {
    if id == other {
        return Err(CaseError::SelfReference);
    }
    live_case(tx, id).await?;
    store::find_case(tx, other).await?.ok_or(CaseError::CaseNotFound)?;
    match kind {
        "related" => {
            store::insert_link(tx, id, other, "related", now).await?;
            store::insert_link(tx, other, id, "related", now).await?;
        }
        "parent" => store::set_parent(tx, id, Some(other)).await?,
        _ => return Err(CaseError::ValueUnknown { field: "kind" }),
    }
    record(tx, actor, "case.linked", id, json!({ "other_case_id": other, "kind": kind }), now).await
}

/// Merges a duplicate into another case: its thread moves over and it is closed.
pub async fn merge(tx: &mut Tx, actor: &Actor, id: i64, into: i64, now: Timestamp) -> Result<CaseRow, CaseError> {
    if id == into {
        return Err(CaseError::SelfReference);
    }
    let from = live_case(tx, id).await?;
    live_case(tx, into).await?;
    store::move_entries(tx, id, into).await?;
    store::set_merged_into(tx, id, into, now).await?;
    store::insert_link(tx, id, into, "duplicate", now).await?;
    event(tx, actor, into, &format!("Merged {} into this case", from.case_number), now).await?;
    record(tx, actor, "case.merged", id, json!({ "into": into }), now).await?;
    store::reindex(tx, id).await?;
    store::reindex(tx, into).await?;
    store::find_case(tx, into).await?.ok_or(CaseError::CaseNotFound)
}

/// Stores an attachment after checking its size and recognising its type by its first bytes.
pub async fn attach(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    file_name: &str,
    bytes: &[u8],
    now: Timestamp,
) -> Result<AttachmentRow, CaseError> {
    live_case(tx, id).await?;
    if bytes.len() > model::MAX_ATTACHMENT_BYTES {
        return Err(CaseError::AttachmentTooLarge);
    }
    let content_type = model::sniff_content_type(bytes).ok_or(CaseError::AttachmentTypeRefused)?;
    let file_name = model::safe_file_name(file_name)?;
    let sha256 = db::sha256_hex_bytes(bytes);
    let new = NewAttachment {
        case_id: id,
        file_name: &file_name,
        content_type,
        sha256: &sha256,
        content: bytes,
        uploaded_by: &actor.name(),
    };
    let attachment_id = store::insert_attachment(tx, &new, now).await?;
    event(tx, actor, id, &format!("Attached {file_name}"), now).await?;
    record(tx, actor, "case.attachment_added", id, json!({ "attachment_id": attachment_id, "sha256": sha256 }), now)
        .await?;
    store::attachments_of(tx, id)
        .await?
        .into_iter()
        .find(|a| a.attachment_id == attachment_id)
        .ok_or(CaseError::AttachmentNotFound)
}

/// Everything about a case for its page and the API.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub case: CaseRow,
    pub queue_name: String,
    pub entries: Vec<EntryRow>,
    pub links: Vec<LinkRow>,
    pub callbacks: Vec<CallbackRow>,
    pub attachments: Vec<AttachmentRow>,
    /// Business seconds left on the resolution clock (negative once breached); null when none.
    pub sla_remaining_seconds: Option<i64>,
    pub sla_clock_paused: bool,
}

pub async fn view(tx: &mut Tx, id: i64, now: Timestamp) -> Result<CaseView, CaseError> {
    let case = store::find_case(tx, id).await?.ok_or(CaseError::CaseNotFound)?;
    let queue_name = store::find_queue(tx, case.queue_id).await?.map(|q| q.name).unwrap_or_default();
    let (calendar, _, _) = sla_for(tx, &case.priority).await?;
    let paused = case.sla_paused_remaining.is_some();
    let sla_remaining_seconds = if paused {
        case.sla_paused_remaining
    } else {
        case.resolution_due_at.map(|d| remaining(&calendar, now, Timestamp(d)))
    };
    Ok(CaseView {
        entries: store::entries_of(tx, id).await?,
        links: store::links_of(tx, id).await?,
        callbacks: store::callbacks_of(tx, id).await?,
        attachments: store::attachments_of(tx, id).await?,
        queue_name,
        sla_remaining_seconds,
        sla_clock_paused: paused,
        case,
    })
}

/// What one SLA scan found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScanOutcome {
    pub checked: u64,
    pub newly_at_risk: u64,
    pub newly_breached: u64,
}

/// The SLA job: flags running clocks that are about to breach, and escalates those breached
/// (priority raised one step, a thread event and an audit record). Clocks are read in read
/// transactions and only the cases that change are written, so the single writer is held briefly
/// and already-breached cases are not looked at again.
pub async fn sla_scan(db: &Db, now: Timestamp) -> Result<ScanOutcome, CaseError> {
    const BATCH: i64 = 2_000;
    let actor = Actor::system("sla");
    let mut outcome = ScanOutcome::default();
    let mut policies: std::collections::HashMap<String, (BusinessCalendar, i64, i64)> =
        std::collections::HashMap::new();
    let mut after = 0;
    loop {
        let mut tx = db.read().await?;
        let batch = store::running_clocks(&mut tx, after, BATCH).await?;
        let mut changes = Vec::new();
        for case in &batch {
            outcome.checked += 1;
            if !policies.contains_key(&case.priority) {
                let sla = sla_for(&mut tx, &case.priority).await?;
                policies.insert(case.priority.clone(), sla);
            }
            let Some((calendar, first_target, resolution_target)) = policies.get(&case.priority) else { continue };
            let resolution = case
                .resolution_due_at
                .map(|d| SlaState::of(remaining(calendar, now, Timestamp(d)), *resolution_target));
            let first = match (case.first_response_at, case.first_response_due_at) {
                (None, Some(d)) => Some(SlaState::of(remaining(calendar, now, Timestamp(d)), *first_target)),
                _ => None,
            };
            let state = [resolution, first].into_iter().flatten().max_by_key(|s| *s as u8).unwrap_or(SlaState::OnTrack);
            if state.code() != case.sla_state {
                changes.push((case.case_id, case.sla_state.clone(), case.priority.clone(), state));
            }
        }
        tx.rollback().await?;
        let Some(last) = batch.last() else { break };
        after = last.case_id;
        if changes.is_empty() {
            continue;
        }
        let mut tx = db.begin().await?;
        for (case_id, seen, priority, state) in changes {
            let priority = Priority::parse(&priority).unwrap_or(Priority::Normal);
            let priority = if state == SlaState::Breached { priority.raised() } else { priority };
            if !store::set_sla_state(&mut tx, case_id, &seen, state.code(), priority.code()).await? {
                continue;
            }
            let text = match state {
                SlaState::Breached => {
                    outcome.newly_breached += 1;
                    format!("SLA breached; priority raised to {}", priority.code())
                }
                SlaState::AtRisk => {
                    outcome.newly_at_risk += 1;
                    "SLA at risk".to_string()
                }
                SlaState::OnTrack => "SLA back on track".to_string(),
            };
            event(&mut tx, &actor, case_id, &text, now).await?;
            record(&mut tx, &actor, "case.sla_changed", case_id, json!({ "sla_state": state.code() }), now).await?;
        }
        tx.commit().await?;
    }
    Ok(outcome)
}

pub async fn create_queue(
    tx: &mut Tx,
    actor: &Actor,
    name: &str,
    tier: i32,
    description: &str,
    now: Timestamp,
) -> Result<store::QueueRow, CaseError> {
    if store::queue_name_taken(tx, name).await? {
        return Err(CaseError::NameTaken);
    }
    let id = store::insert_queue(tx, name, tier, description, now).await?;
    let detail = json!({ "name": name, "tier": tier });
    audit::append(
        tx,
        actor,
        AuditEvent { action: "queue.created", entity: "queue", entity_id: id.to_string(), detail },
        now,
    )
    .await?;
    store::find_queue(tx, id).await?.ok_or(CaseError::QueueNotFound)
}

/// Reassigns many cases at once (the lead's queue overview).
pub async fn reassign_many(
    tx: &mut Tx,
    actor: &Actor,
    case_ids: &[i64],
    assignee: Option<i64>,
    now: Timestamp,
) -> Result<usize, CaseError> {
    for id in case_ids {
        assign(tx, actor, *id, assignee, now).await?;
    }
    Ok(case_ids.len())
}

/// Updates an SLA policy's targets (minutes).
pub async fn set_policy(
    tx: &mut Tx,
    actor: &Actor,
    priority: Priority,
    first: i32,
    resolution: i32,
    now: Timestamp,
) -> Result<(), CaseError> {
    if !(1..=100_000).contains(&first) {
        return Err(CaseError::ValueUnknown { field: "first_response_minutes" });
    }
    if !(1..=1_000_000).contains(&resolution) {
        return Err(CaseError::ValueUnknown { field: "resolution_minutes" });
    }
    store::set_policy(tx, priority.code(), first, resolution).await?;
    let detail =
        json!({ "priority": priority.code(), "first_response_minutes": first, "resolution_minutes": resolution });
    audit::append(
        tx,
        actor,
        AuditEvent { action: "sla.policy_changed", entity: "sla_policy", entity_id: priority.code().into(), detail },
        now,
    )
    .await?;
    Ok(())
}
