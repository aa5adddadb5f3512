//! The contact operations, called alike by HTTP handlers, the CLI, other modules (system
//! contacts for business events) and tests. Each write appends its audit record in the caller's
//! transaction. Logging a contact is four statements: one look-up that checks the customer,
//! account and codes together, the insert, and the audit append's two.

use crate::ContactError;
use crate::model::{Channel, Code, ContactTimes, Direction, Summary, parse_label};
use crate::store::{self, ContactFields, ContactRow, DispositionRow, ReasonCodeRow};
use db::Tx;
use db::audit::{self, AuditEvent};
use kernel::{Actor, Page, PageRequest, Timestamp};
use serde_json::json;

/// A contact to log, fully parsed.
#[derive(Debug, Clone)]
pub struct NewContact {
    pub customer_id: i64,
    pub account_id: Option<i64>,
    pub case_id: Option<i64>,
    pub order_id: Option<i64>,
    pub payment_id: Option<i64>,
    pub channel: Channel,
    pub direction: Direction,
    pub reason_code: Code,
    pub sub_reason_code: Option<Code>,
    pub disposition_code: Option<Code>,
    pub summary: Summary,
    pub times: ContactTimes,
}

async fn record(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity: &str,
    id: String,
    detail: serde_json::Value,
    now: Timestamp,
) -> Result<(), ContactError> {
    audit::append(tx, actor, AuditEvent { action, entity, entity_id: id, detail }, now).await?;
    Ok(())
}

/// Logs one contact: checks the customer is live, the account is the customer's, the codes are
/// active (a sub-reason must belong to the reason), then writes the contact and its audit record.
/// The disposition may be absent: system contacts have none, and a phone system logging calls
/// through the API may not know one.
pub async fn log_contact(
    tx: &mut Tx,
    actor: &Actor,
    new: NewContact,
    now: Timestamp,
) -> Result<ContactRow, ContactError> {
    let sub_reason = new.sub_reason_code.as_ref().map(Code::as_str);
    let disposition = new.disposition_code.as_ref().map(Code::as_str);
    let checks =
        store::check_contact(tx, new.customer_id, new.account_id, new.reason_code.as_str(), sub_reason, disposition)
            .await?;
    match checks.customer_state.as_deref() {
        None => return Err(ContactError::CustomerUnknown),
        Some("merged") => return Err(ContactError::CustomerWasMerged),
        Some(_) => {}
    }
    if new.account_id.is_some() && checks.account_number.is_none() {
        return Err(ContactError::AccountUnknown);
    }
    if checks.reason_label.is_none() {
        return Err(ContactError::ReasonUnknown);
    }
    if sub_reason.is_some() && checks.sub_reason_label.is_none() {
        return Err(ContactError::SubReasonUnknown);
    }
    if disposition.is_some() && checks.disposition_label.is_none() {
        return Err(ContactError::DispositionUnknown);
    }
    let actor_name = actor.name();
    let fields = ContactFields {
        customer_id: new.customer_id,
        account_id: new.account_id,
        case_id: new.case_id,
        order_id: new.order_id,
        payment_id: new.payment_id,
        channel: new.channel.code(),
        direction: new.direction.code(),
        reason_code: new.reason_code.as_str(),
        sub_reason_code: sub_reason,
        disposition_code: disposition,
        summary: new.summary.as_str(),
        started_at: new.times.started_at,
        ended_at: new.times.ended_at,
        agent_user_id: actor.user_id().map(|id| id.get()),
        fallback_agent_name: &actor_name,
    };
    let (contact_id, agent_name) = store::insert_contact(tx, &fields, now).await?;
    let detail = json!({
        "customer_id": new.customer_id,
        "channel": fields.channel,
        "direction": fields.direction,
        "reason_code": fields.reason_code,
        "disposition_code": disposition,
    });
    record(tx, actor, "contact.logged", "contact", contact_id.to_string(), detail, now).await?;
    Ok(ContactRow {
        contact_id,
        customer_id: new.customer_id,
        account_id: new.account_id,
        case_id: new.case_id,
        order_id: new.order_id,
        payment_id: new.payment_id,
        channel: fields.channel.to_string(),
        direction: fields.direction.to_string(),
        reason_code: fields.reason_code.to_string(),
        reason_label: checks.reason_label,
        sub_reason_code: sub_reason.map(str::to_string),
        sub_reason_label: checks.sub_reason_label,
        disposition_code: disposition.map(str::to_string),
        disposition_label: checks.disposition_label,
        summary: fields.summary.to_string(),
        started_at: new.times.started_at.micros(),
        ended_at: new.times.ended_at.micros(),
        duration_seconds: new.times.duration_seconds(),
        agent_user_id: fields.agent_user_id,
        agent_name,
        created_at: now.micros(),
    })
}

/// Logs a system contact for a business event (bill sent, notice, payment reversed) so the
/// customer's timeline is complete. `reason_code` may name a reason or a sub-reason; for a
/// sub-reason its parent becomes the reason.
pub async fn log_system_contact(
    tx: &mut Tx,
    customer_id: i64,
    account_id: Option<i64>,
    reason_code: &str,
    summary: &str,
    now: Timestamp,
) -> Result<ContactRow, ContactError> {
    let code = Code::parse(reason_code, "reason_code")?;
    let found = store::find_reason_code(tx, code.as_str()).await?.ok_or(ContactError::ReasonUnknown)?;
    let (reason, sub_reason) = match found.parent_code {
        Some(parent) => (Code::parse(&parent, "reason_code")?, Some(code)),
        None => (code, None),
    };
    let new = NewContact {
        customer_id,
        account_id,
        case_id: None,
        order_id: None,
        payment_id: None,
        channel: Channel::System,
        direction: Direction::Outbound,
        reason_code: reason,
        sub_reason_code: sub_reason,
        disposition_code: None,
        summary: Summary::parse(summary)?,
        times: ContactTimes { started_at: now, ended_at: now },
    };
    log_contact(tx, &Actor::system("contacts"), new, now).await
}

pub async fn get_contact(tx: &mut Tx, contact_id: i64) -> Result<ContactRow, ContactError> {
    store::find_contact(tx, contact_id).await?.ok_or(ContactError::ContactNotFound)
}

/// One customer's contacts, newest first, a page at a time. The cursor names the last contact
/// seen; the next page holds older ones.
pub async fn timeline(tx: &mut Tx, customer_id: i64, page: &PageRequest) -> Result<Page<ContactRow>, ContactError> {
    let before_id = page.after.map(|c| c.after_key).unwrap_or(i64::MAX);
    let rows = store::timeline(tx, customer_id, before_id, page.fetch_limit()).await?;
    if rows.is_empty() && !store::customer_exists(tx, customer_id).await? {
        return Err(ContactError::CustomerNotFound);
    }
    Ok(Page::from_rows(rows, page, |r| r.contact_id))
}

/// A new reason (no parent) or sub-reason (parent names an active reason).
#[derive(Debug, Clone)]
pub struct NewReasonCode {
    pub code: Code,
    pub label: String,
    pub parent_code: Option<Code>,
}

impl NewReasonCode {
    pub fn parse(code: &str, label: &str, parent_code: Option<&str>) -> Result<NewReasonCode, ContactError> {
        Ok(NewReasonCode {
            code: Code::parse(code, "code")?,
            label: parse_label(label)?,
            parent_code: Code::parse_optional(parent_code, "parent_code")?,
        })
    }
}

pub async fn reason_codes(tx: &mut Tx) -> Result<Vec<ReasonCodeRow>, ContactError> {
    Ok(store::reason_codes(tx).await?)
}

pub async fn add_reason_code(
    tx: &mut Tx,
    actor: &Actor,
    new: NewReasonCode,
    now: Timestamp,
) -> Result<ReasonCodeRow, ContactError> {
    let parent = new.parent_code.as_ref().map(Code::as_str);
    if let Some(parent) = parent {
        let found = store::find_reason_code(tx, parent).await?;
        if !found.is_some_and(|p| p.active && p.parent_code.is_none()) {
            return Err(ContactError::ParentUnknown);
        }
    }
    match store::insert_reason_code(tx, new.code.as_str(), &new.label, parent, now).await {
        Ok(()) => {}
        Err(e) if e.is_unique_violation() => return Err(ContactError::CodeTaken { field: "code" }),
        Err(e) => return Err(e.into()),
    }
    let detail = json!({ "label": new.label, "parent_code": parent });
    record(tx, actor, "reason_code.added", "reason_code", new.code.as_str().to_string(), detail, now).await?;
    Ok(ReasonCodeRow {
        code: new.code.as_str().to_string(),
        label: new.label,
        parent_code: parent.map(Into::into),
        active: true,
    })
}

/// Deactivates (or reactivates) a reason code. Contacts already logged keep it; new ones cannot
/// use it.
pub async fn set_reason_active(
    tx: &mut Tx,
    actor: &Actor,
    code: &str,
    active: bool,
    now: Timestamp,
) -> Result<(), ContactError> {
    if store::set_reason_active(tx, code, active).await? == 0 {
        return Err(ContactError::CodeNotFound);
    }
    let action = if active { "reason_code.activated" } else { "reason_code.deactivated" };
    record(tx, actor, action, "reason_code", code.to_string(), json!({}), now).await
}

pub async fn dispositions(tx: &mut Tx) -> Result<Vec<DispositionRow>, ContactError> {
    Ok(store::dispositions(tx).await?)
}

pub async fn add_disposition(
    tx: &mut Tx,
    actor: &Actor,
    code: &Code,
    label: &str,
    now: Timestamp,
) -> Result<DispositionRow, ContactError> {
    match store::insert_disposition(tx, code.as_str(), label, now).await {
        Ok(()) => {}
        Err(e) if e.is_unique_violation() => return Err(ContactError::CodeTaken { field: "code" }),
        Err(e) => return Err(e.into()),
    }
    record(tx, actor, "disposition.added", "disposition", code.as_str().to_string(), json!({ "label": label }), now)
        .await?;
    Ok(DispositionRow { code: code.as_str().to_string(), label: label.to_string(), active: true })
}

/// Deactivates (or reactivates) a disposition.
pub async fn set_disposition_active(
    tx: &mut Tx,
    actor: &Actor,
    code: &str,
    active: bool,
    now: Timestamp,
) -> Result<(), ContactError> {
    if store::set_disposition_active(tx, code, active).await? == 0 {
        return Err(ContactError::CodeNotFound);
    }
    let action = if active { "disposition.activated" } else { "disposition.deactivated" };
    record(tx, actor, action, "disposition", code.to_string(), json!({}), now).await
}
