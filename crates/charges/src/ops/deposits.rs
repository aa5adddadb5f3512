//! Deposits: the amount an account's credit rating requires, billed so the customer's payment
//! settles it, then held as a liability until it is applied to the balance or refunded.
//!
//! A billed deposit posts Dr receivable (account) / Cr deposits held (account) with an open
//! item: the customer owes it like a bill, and once paid the credit on deposits held is money
//! the utility holds for them. Applying it is Dr deposits held / Cr receivable (then settle);
//! refunding it is Dr deposits held / Cr refunds payable, which the refund payment clears. A
//! refund above the approval limit waits for a supervisor other than the one who asked. A
//! refunded deposit is then paid out by check or card refund: Dr refunds payable / Cr cash.

use super::{LIST_LIMIT, account, approval_limit_minor, deposit_required_minor, record};
use crate::ChargeError;
use crate::model::{Decision, DepositEvent, DepositStatus, document_ref, parse_amount, parse_note, parse_reference};
use crate::store::{self, DepositRow, RefundIssue, RefundRequest};
use db::Tx;
use kernel::{Actor, Currency, Money, Timestamp};
use ledger::{BusinessDate, EntryDraft, LedgerCode, LineDraft};
use serde_json::json;

/// How many deposits a status list (the approval queue) shows.
const QUEUE_LIMIT: i64 = 200;

/// A deposit to require and bill. Without an amount, the credit rating's amount is billed.
#[derive(Debug, Clone)]
pub struct NewDeposit {
    pub account_id: i64,
    pub amount: Option<String>,
    /// When the billed deposit falls due; defaults to today.
    pub due_date: Option<BusinessDate>,
}

impl NewDeposit {
    pub fn parse(account_id: i64, amount: Option<&str>, due_date: Option<&str>) -> Result<NewDeposit, ChargeError> {
        Ok(NewDeposit {
            account_id: crate::model::parse_id(account_id, "account_id")?,
            amount: amount.map(str::trim).filter(|a| !a.is_empty()).map(str::to_string),
            due_date: match due_date.map(str::trim).filter(|d| !d.is_empty()) {
                Some(text) => Some(crate::model::parse_date(text, "due_date")?),
                None => None,
            },
        })
    }
}

async fn load(tx: &mut Tx, deposit_id: i64) -> Result<DepositRow, ChargeError> {
    store::find_deposit(tx, deposit_id).await?.ok_or(ChargeError::DepositNotFound)
}

fn amount_of(row: &DepositRow) -> Result<Money, ChargeError> {
    let currency = Currency::parse(&row.currency).map_err(|_| db::Error::Malformed("currency".into()))?;
    Ok(Money::new(row.amount_minor, currency))
}

/// Moves a deposit by `event`, refusing what its state does not allow.
async fn advance(
    tx: &mut Tx,
    row: &DepositRow,
    event: DepositEvent,
    entries: (Option<i64>, Option<i64>, Option<i64>),
    now: Timestamp,
) -> Result<DepositStatus, ChargeError> {
    let from = DepositStatus::parse(&row.status)?;
    let to = from.next(event)?;
    let (billed, item, closed) = entries;
    if store::move_deposit(tx, row.deposit_id, from.code(), to.code(), billed, item, closed, now).await? == 0 {
        return Err(ChargeError::DepositStateDoesNotAllowThis);
    }
    Ok(to)
}

/// Requires a deposit of an account and bills it at once (required → billed; → held at once
/// if a credit balance pays it).
pub async fn require_deposit(
    tx: &mut Tx,
    actor: &Actor,
    new: NewDeposit,
    now: Timestamp,
) -> Result<DepositRow, ChargeError> {
    let (facts, currency) = account(tx, new.account_id, ChargeError::AccountUnknown).await?;
    let amount = match new.amount.as_deref() {
        Some(text) => parse_amount(text, currency, "amount")?,
        None => match deposit_required_minor(tx, &facts.credit_rating).await? {
            0 => return Err(ChargeError::DepositNotRequired),
            minor => Money::new(minor, currency),
        },
    };
    let created_by = actor.name();
    let deposit_id = store::insert_deposit(
        tx,
        facts.account_id,
        currency.code(),
        amount.amount_minor,
        &facts.credit_rating,
        DepositStatus::Required.code(),
        &created_by,
        now,
    )
    .await?;
    let detail = json!({ "account_id": facts.account_id, "amount_minor": amount.amount_minor,
        "currency": currency.code(), "credit_rating": facts.credit_rating });
    record(tx, actor, "deposit.required", "deposit", deposit_id, detail, now).await?;
    let today = BusinessDate::of(now);
    let source_ref = document_ref("DEP", deposit_id);
    let draft = EntryDraft::new(today, "deposit", source_ref.clone())
        .memo("Security deposit billed")
        .line(LineDraft::debit(LedgerCode::RECEIVABLE, Some(facts.account_id), amount))
        .line(LineDraft::credit(LedgerCode::DEPOSITS_HELD, Some(facts.account_id), amount));
    let posted = ledger::ops::post(tx, actor, &draft, now).await?;
    let due_date = new.due_date.unwrap_or(today);
    let item_id =
        ledger::ops::charge(tx, facts.account_id, posted.entry_id, "deposit", &source_ref, due_date, amount, now)
            .await?;
    let row = load(tx, deposit_id).await?;
    advance(tx, &row, DepositEvent::Bill, (Some(posted.entry_id), Some(item_id), None), now).await?;
    record(tx, actor, "deposit.billed", "deposit", deposit_id, json!({ "entry_id": posted.entry_id }), now).await?;
    mark_paid_deposits_held(tx, actor, facts.account_id, now).await?;
    let row = load(tx, deposit_id).await?;
    super::notices::deposit_billed_notice(tx, &row, facts.customer_id, due_date, now).await?;
    Ok(row)
}

/// Moves the account's billed deposits whose open item has been paid to `held`. Runs before
/// a deposit is applied or refunded, and by [`super::review_arrangements`]'s sweep.
pub async fn mark_paid_deposits_held(
    tx: &mut Tx,
    actor: &Actor,
    account_id: i64,
    now: Timestamp,
) -> Result<u32, ChargeError> {
    let mut moved = 0;
    for deposit_id in store::paid_billed_deposits(tx, account_id).await? {
        let row = load(tx, deposit_id).await?;
        advance(tx, &row, DepositEvent::Paid, (None, None, None), now).await?;
        record(tx, actor, "deposit.held", "deposit", deposit_id, json!({}), now).await?;
        moved += 1;
    }
    Ok(moved)
}

/// Applies a held deposit to the account's balance: Dr deposits held / Cr receivable, then
/// settles the account's open items.
pub async fn apply_deposit(
    tx: &mut Tx,
    actor: &Actor,
    deposit_id: i64,
    now: Timestamp,
) -> Result<DepositRow, ChargeError> {
    close(tx, actor, deposit_id, DepositEvent::Apply, now).await
}

/// Refunds a held deposit. At or below the approval limit it posts at once (Dr deposits held /
/// Cr refunds payable); above it the deposit waits in `refund_pending`, posting nothing, until a
/// supervisor other than the requester decides ([`decide_deposit_refund`]).
pub async fn refund_deposit(
    tx: &mut Tx,
    actor: &Actor,
    deposit_id: i64,
    note: &str,
    now: Timestamp,
) -> Result<DepositRow, ChargeError> {
    let note = parse_note(note, "note")?;
    let row = load(tx, deposit_id).await?;
    mark_paid_deposits_held(tx, actor, row.account_id, now).await?;
    let row = load(tx, deposit_id).await?;
    let event = DepositEvent::refund(row.amount_minor, approval_limit_minor(tx).await?);
    if event == DepositEvent::Refund {
        return close(tx, actor, deposit_id, DepositEvent::Refund, now).await;
    }
    DepositStatus::parse(&row.status)?.next(event)?;
    let requested_by = actor.name();
    let request = RefundRequest { by_user_id: actor.user_id().map(|id| id.get()), by: &requested_by, note: &note };
    if store::request_deposit_refund(tx, deposit_id, &request, now).await? == 0 {
        return Err(ChargeError::DepositStateDoesNotAllowThis);
    }
    let detail = json!({ "amount_minor": row.amount_minor, "currency": row.currency, "note": note });
    record(tx, actor, "deposit.refund_requested", "deposit", deposit_id, detail, now).await?;
    load(tx, deposit_id).await
}

/// A supervisor's decision on a deposit refund waiting for approval. Approval must come from
/// someone other than the requester and posts the refund exactly once; a rejection needs a note
/// and puts the deposit back to `held`.
pub async fn decide_deposit_refund(
    tx: &mut Tx,
    actor: &Actor,
    deposit_id: i64,
    decision: Decision,
    note: &str,
    now: Timestamp,
) -> Result<DepositRow, ChargeError> {
    let note = parse_note(note, "note")?;
    let row = load(tx, deposit_id).await?;
    let event = match decision {
        Decision::Approve => DepositEvent::ApproveRefund,
        Decision::Reject => DepositEvent::RejectRefund,
    };
    let to = DepositStatus::parse(&row.status)?.next(event)?;
    let approver = actor.user_id().map(|id| id.get());
    if decision == Decision::Approve && (approver.is_none() || approver == row.refund_requested_by_user_id) {
        return Err(ChargeError::DepositRefundRequiresDifferentApprover);
    }
    if decision == Decision::Reject && note.is_empty() {
        return Err(ChargeError::TextInvalid { field: "note" });
    }
    let decided_by = actor.name();
    let decision_of = RefundRequest { by_user_id: approver, by: &decided_by, note: &note };
    // Guarded by the pending status, so two decisions at once cannot both succeed.
    if store::decide_deposit_refund(tx, deposit_id, to.code(), &decision_of, None, now).await? == 0 {
        return Err(ChargeError::DepositRefundNotPending);
    }
    if to == DepositStatus::Refunded {
        let entry_id = post_close(tx, actor, &row, DepositEvent::Refund, now).await?;
        store::set_deposit_closed_entry(tx, deposit_id, entry_id).await?;
        record(tx, actor, "deposit.refund_approved", "deposit", deposit_id, json!({ "note": note }), now).await?;
        record(tx, actor, "deposit.refunded", "deposit", deposit_id, json!({ "entry_id": entry_id }), now).await?;
    } else {
        record(tx, actor, "deposit.refund_rejected", "deposit", deposit_id, json!({ "note": note }), now).await?;
    }
    load(tx, deposit_id).await
}

/// The deposit refunds waiting for approval, oldest first: for the combined approval queue.
pub async fn pending_deposit_refunds(tx: &mut Tx) -> Result<Vec<DepositRow>, ChargeError> {
    Ok(store::deposits_by_status(tx, DepositStatus::RefundPending.code(), QUEUE_LIMIT).await?)
}

/// Deposits in one status, oldest first (at most 200).
pub async fn deposits_by_status(tx: &mut Tx, status: DepositStatus) -> Result<Vec<DepositRow>, ChargeError> {
    Ok(store::deposits_by_status(tx, status.code(), QUEUE_LIMIT).await?)
}

async fn close(
    tx: &mut Tx,
    actor: &Actor,
    deposit_id: i64,
    event: DepositEvent,
    now: Timestamp,
) -> Result<DepositRow, ChargeError> {
    let row = load(tx, deposit_id).await?;
    mark_paid_deposits_held(tx, actor, row.account_id, now).await?;
    let row = load(tx, deposit_id).await?;
    DepositStatus::parse(&row.status)?.next(event)?;
    let entry_id = post_close(tx, actor, &row, event, now).await?;
    advance(tx, &row, event, (None, None, Some(entry_id)), now).await?;
    let action = if event == DepositEvent::Refund { "deposit.refunded" } else { "deposit.applied" };
    record(tx, actor, action, "deposit", deposit_id, json!({ "entry_id": entry_id }), now).await?;
    load(tx, deposit_id).await
}

/// Posts the entry that closes a deposit: applied, Dr deposits held / Cr receivable (then
/// settles); refunded, Dr deposits held / Cr refunds payable. Yields the entry.
async fn post_close(
    tx: &mut Tx,
    actor: &Actor,
    row: &DepositRow,
    event: DepositEvent,
    now: Timestamp,
) -> Result<i64, ChargeError> {
    let amount = amount_of(row)?;
    let account = Some(row.account_id);
    let source_ref = document_ref("DEP", row.deposit_id);
    let (kind, credit) = match event {
        DepositEvent::Refund => ("deposit_refund", LineDraft::credit(LedgerCode::REFUNDS_PAYABLE, None, amount)),
        _ => ("deposit_applied", LineDraft::credit(LedgerCode::RECEIVABLE, account, amount)),
    };
    let draft = EntryDraft::new(BusinessDate::of(now), kind, source_ref)
        .memo(if event == DepositEvent::Refund { "Security deposit refunded" } else { "Security deposit applied" })
        .line(LineDraft::debit(LedgerCode::DEPOSITS_HELD, account, amount))
        .line(credit);
    let posted = ledger::ops::post(tx, actor, &draft, now).await?;
    if event == DepositEvent::Apply {
        ledger::ops::settle(tx, row.account_id, amount.currency, posted.entry_id, now).await?;
    }
    Ok(posted.entry_id)
}

pub async fn get_deposit(tx: &mut Tx, deposit_id: i64) -> Result<DepositRow, ChargeError> {
    load(tx, deposit_id).await
}

/// An account's deposits, newest first.
pub async fn deposits_of(tx: &mut Tx, account_id: i64) -> Result<Vec<DepositRow>, ChargeError> {
    super::require_account(tx, account_id).await?;
    Ok(store::deposits_of(tx, account_id, LIST_LIMIT).await?)
}

/// Pays a refunded deposit out, with the check number or the card refund reference: Dr refunds
/// payable / Cr cash (`deposit_refund_issue`, `DEP-n/issued`), clearing what the refund put on
/// refunds payable. Only a `refunded` deposit can be paid out, and only once.
pub async fn issue_deposit_refund(
    tx: &mut Tx,
    actor: &Actor,
    deposit_id: i64,
    reference: &str,
    now: Timestamp,
) -> Result<DepositRow, ChargeError> {
    let row = load(tx, deposit_id).await?;
    DepositStatus::parse(&row.status)?.next(DepositEvent::IssueRefund)?;
    let reference = parse_reference(reference, "reference")?;
    let amount = amount_of(&row)?;
    let draft = EntryDraft::new(
        BusinessDate::of(now),
        "deposit_refund_issue",
        format!("{}/issued", document_ref("DEP", deposit_id)),
    )
    .memo(format!("Security deposit refund paid: {reference}"))
    .line(LineDraft::debit(LedgerCode::REFUNDS_PAYABLE, None, amount))
    .line(LineDraft::credit(LedgerCode::CASH, None, amount));
    let posted = ledger::ops::post(tx, actor, &draft, now).await?;
    let by = actor.name();
    let issue = RefundIssue { reference: &reference, by: &by, entry_id: posted.entry_id };
    // Guarded by the refunded status, so two payouts at once cannot both succeed.
    if store::issue_deposit_refund(tx, deposit_id, &issue, now).await? == 0 {
        return Err(ChargeError::DepositRefundNotToIssue);
    }
    let detail = json!({ "reference": reference, "amount_minor": row.amount_minor, "entry_id": posted.entry_id });
    record(tx, actor, "deposit.refund_issued", "deposit", deposit_id, detail, now).await?;
    load(tx, deposit_id).await
}

/// Refunded deposits waiting to be paid out, oldest first (at most 200).
pub async fn deposit_refunds_to_issue(tx: &mut Tx) -> Result<Vec<DepositRow>, ChargeError> {
    Ok(store::deposits_by_status(tx, DepositStatus::Refunded.code(), QUEUE_LIMIT).await?)
}
