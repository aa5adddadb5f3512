//! Adjustments with reason codes: a credit lowers what an account owes, a debit raises it.
//! Above the configured limit an adjustment is created pending approval and posts nothing until
//! a supervisor other than the requester approves it; a rejection records who and why.

use super::{LIST_LIMIT, account, approval_limit_minor, record};
use crate::ChargeError;
use crate::model::{AdjustmentStatus, Code, Decision, Direction, document_ref, parse_amount, parse_label, parse_note};
use crate::store::{self, AdjustmentFields, AdjustmentRow, ReasonRow};
use db::Tx;
use kernel::{Actor, Currency, Money, Timestamp};
use ledger::{BusinessDate, EntryDraft, LedgerCode, LineDraft};
use serde_json::json;

/// How many pending adjustments the approval queue shows.
const QUEUE_LIMIT: i64 = 200;

/// An adjustment to request, parsed; `amount` is decimal text in the account's currency.
#[derive(Debug, Clone)]
pub struct NewAdjustment {
    pub account_id: i64,
    pub direction: Direction,
    pub amount: String,
    pub reason_code: Code,
    pub note: String,
}

impl NewAdjustment {
    pub fn parse(
        account_id: i64,
        direction: &str,
        amount: &str,
        reason_code: &str,
        note: &str,
    ) -> Result<NewAdjustment, ChargeError> {
        Ok(NewAdjustment {
            account_id: crate::model::parse_id(account_id, "account_id")?,
            direction: Direction::parse(direction)?,
            amount: amount.trim().to_string(),
            reason_code: Code::parse(reason_code, "reason_code").map_err(|_| ChargeError::ReasonUnknown)?,
            note: parse_note(note, "note")?,
        })
    }
}

fn currency_of(row: &AdjustmentRow) -> Result<Currency, ChargeError> {
    Ok(Currency::parse(&row.currency).map_err(|_| db::Error::Malformed("currency".into()))?)
}

async fn load(tx: &mut Tx, adjustment_id: i64) -> Result<AdjustmentRow, ChargeError> {
    store::find_adjustment(tx, adjustment_id).await?.ok_or(ChargeError::AdjustmentNotFound)
}

/// Requests an adjustment: at or below the approval limit it posts at once; above it, it
/// waits in `pending_approval` and posts nothing.
pub async fn request_adjustment(
    tx: &mut Tx,
    actor: &Actor,
    new: NewAdjustment,
    now: Timestamp,
) -> Result<AdjustmentRow, ChargeError> {
    let (facts, currency) = account(tx, new.account_id, ChargeError::AccountUnknown).await?;
    let reason = store::find_reason(tx, new.reason_code.as_str()).await?;
    if !reason.is_some_and(|r| r.active) {
        return Err(ChargeError::ReasonUnknown);
    }
    let amount = parse_amount(&new.amount, currency, "amount")?;
    let status = AdjustmentStatus::initial(amount.amount_minor, approval_limit_minor(tx).await?);
    let requested_by = actor.name();
    let fields = AdjustmentFields {
        account_id: facts.account_id,
        direction: new.direction.code(),
        currency: currency.code(),
        amount_minor: amount.amount_minor,
        reason_code: new.reason_code.as_str(),
        note: &new.note,
        status: status.code(),
        requested_by_user_id: actor.user_id().map(|id| id.get()),
        requested_by: &requested_by,
    };
    let adjustment_id = store::insert_adjustment(tx, &fields, now).await?;
    let detail = json!({
        "account_id": facts.account_id, "direction": fields.direction, "amount_minor": amount.amount_minor,
        "currency": currency.code(), "reason_code": fields.reason_code, "status": status.code(),
    });
    record(tx, actor, "adjustment.requested", "adjustment", adjustment_id, detail, now).await?;
    let row = load(tx, adjustment_id).await?;
    if status.has_posted() {
        post(tx, actor, &row, now).await?;
        return load(tx, adjustment_id).await;
    }
    Ok(row)
}

/// Posts an adjustment's entry: a credit is Dr adjustments / Cr receivable, then settles the
/// account's open items; a debit is Dr receivable / Cr adjustments with an open item.
async fn post(tx: &mut Tx, actor: &Actor, row: &AdjustmentRow, now: Timestamp) -> Result<i64, ChargeError> {
    let amount = Money::new(row.amount_minor, currency_of(row)?);
    let direction = Direction::parse(&row.direction)?;
    let today = BusinessDate::of(now);
    let source_ref = document_ref("ADJ", row.adjustment_id);
    let account = Some(row.account_id);
    let draft = EntryDraft::new(today, "adjustment", source_ref.clone()).memo(format!(
        "{} adjustment: {}",
        direction.code(),
        row.reason_label
    ));
    let draft = match direction {
        Direction::Credit => draft
            .line(LineDraft::debit(LedgerCode::ADJUSTMENTS, None, amount))
            .line(LineDraft::credit(LedgerCode::RECEIVABLE, account, amount)),
        Direction::Debit => draft
            .line(LineDraft::debit(LedgerCode::RECEIVABLE, account, amount))
            .line(LineDraft::credit(LedgerCode::ADJUSTMENTS, None, amount)),
    };
    let posted = ledger::ops::post(tx, actor, &draft, now).await?;
    match direction {
        Direction::Credit => {
            ledger::ops::settle(tx, row.account_id, amount.currency, posted.entry_id, now).await?;
        }
        Direction::Debit => {
            ledger::ops::charge(tx, row.account_id, posted.entry_id, "adjustment", &source_ref, today, amount, now)
                .await?;
        }
    }
    store::set_adjustment_entry(tx, row.adjustment_id, posted.entry_id).await?;
    let detail = json!({ "entry_id": posted.entry_id, "source_ref": source_ref });
    record(tx, actor, "adjustment.posted", "adjustment", row.adjustment_id, detail, now).await?;
    Ok(posted.entry_id)
}

/// A supervisor's decision on a pending adjustment. Approval must come from someone other than
/// the requester and posts the entry exactly once; a rejection needs a note saying why.
pub async fn decide_adjustment(
    tx: &mut Tx,
    actor: &Actor,
    adjustment_id: i64,
    decision: Decision,
    note: &str,
    now: Timestamp,
) -> Result<AdjustmentRow, ChargeError> {
    let note = parse_note(note, "note")?;
    let row = load(tx, adjustment_id).await?;
    let next = AdjustmentStatus::parse(&row.status)?.decide(decision)?;
    let approver = actor.user_id().map(|id| id.get());
    if decision == Decision::Approve && (approver.is_none() || approver == row.requested_by_user_id) {
        return Err(ChargeError::AdjustmentRequiresDifferentApprover);
    }
    if decision == Decision::Reject && note.is_empty() {
        return Err(ChargeError::TextInvalid { field: "note" });
    }
    // Guarded by the current status, so two decisions at once cannot both succeed.
    let changed = store::decide_adjustment(tx, adjustment_id, next.code(), approver, &actor.name(), &note, now).await?;
    if changed == 0 {
        return Err(ChargeError::AdjustmentNotPending);
    }
    let action = if next == AdjustmentStatus::Approved { "adjustment.approved" } else { "adjustment.rejected" };
    record(tx, actor, action, "adjustment", adjustment_id, json!({ "note": note }), now).await?;
    if next.has_posted() {
        post(tx, actor, &row, now).await?;
    }
    load(tx, adjustment_id).await
}

pub async fn get_adjustment(tx: &mut Tx, adjustment_id: i64) -> Result<AdjustmentRow, ChargeError> {
    load(tx, adjustment_id).await
}

/// The adjustments waiting for approval, oldest first: for the combined approval queue.
pub async fn pending_adjustments(tx: &mut Tx) -> Result<Vec<AdjustmentRow>, ChargeError> {
    Ok(store::adjustments_by_status(tx, AdjustmentStatus::PendingApproval.code(), QUEUE_LIMIT).await?)
}

pub async fn adjustments_by_status(tx: &mut Tx, status: AdjustmentStatus) -> Result<Vec<AdjustmentRow>, ChargeError> {
    Ok(store::adjustments_by_status(tx, status.code(), QUEUE_LIMIT).await?)
}

/// An account's adjustments, newest first.
pub async fn adjustments_of(tx: &mut Tx, account_id: i64) -> Result<Vec<AdjustmentRow>, ChargeError> {
    super::require_account(tx, account_id).await?;
    Ok(store::adjustments_of(tx, account_id, LIST_LIMIT).await?)
}

pub async fn reasons(tx: &mut Tx) -> Result<Vec<ReasonRow>, ChargeError> {
    Ok(store::reasons(tx).await?)
}

/// Adds an adjustment reason code (admins).
pub async fn add_reason(
    tx: &mut Tx,
    actor: &Actor,
    code: &Code,
    label: &str,
    now: Timestamp,
) -> Result<ReasonRow, ChargeError> {
    let label = parse_label(label)?;
    match store::insert_reason(tx, code.as_str(), &label, now).await {
        Ok(()) => {}
        Err(e) if e.is_unique_violation() => return Err(ChargeError::CodeTaken),
        Err(e) => return Err(e.into()),
    }
    let detail = json!({ "label": label });
    super::fees::audit_code(tx, actor, "adjustment_reason.added", "adjustment_reason", code.as_str(), detail, now)
        .await?;
    Ok(ReasonRow { code: code.as_str().to_string(), label, active: true })
}

/// Turns an adjustment reason off or on again (admins); adjustments already made keep it.
pub async fn set_reason_active(
    tx: &mut Tx,
    actor: &Actor,
    code: &str,
    active: bool,
    now: Timestamp,
) -> Result<(), ChargeError> {
    if store::set_reason_active(tx, code, active).await? == 0 {
        return Err(ChargeError::ReasonUnknown);
    }
    let action = if active { "adjustment_reason.activated" } else { "adjustment_reason.deactivated" };
    super::fees::audit_code(tx, actor, action, "adjustment_reason", code, json!({}), now).await
}
