//! The SQL of deposits: required, billed, held, applied or refunded, and refunds paid out.

use db::{Result, Tx};
use kernel::Timestamp;
use serde::Serialize;

/// A deposit with what is still unpaid of its billed open item.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DepositRow {
    pub deposit_id: i64,
    pub account_id: i64,
    pub account_number: String,
    pub currency: String,
    pub amount_minor: i64,
    /// The account's credit rating when the deposit was required.
    pub credit_rating: String,
    /// required, billed, held, refund_pending, applied, refunded or refund_issued
    pub status: String,
    pub billed_entry_id: Option<i64>,
    pub item_id: Option<i64>,
    /// What is still unpaid of the billed deposit.
    pub unpaid_minor: Option<i64>,
    /// The entry that applied or refunded it.
    pub closed_entry_id: Option<i64>,
    /// Who asked for a refund above the approval limit, and why.
    pub refund_requested_by_user_id: Option<i64>,
    pub refund_requested_by: Option<String>,
    pub refund_note: Option<String>,
    pub refund_requested_at: Option<i64>,
    /// The supervisor who approved or rejected that refund, and their note.
    pub refund_decided_by: Option<String>,
    pub refund_decision_note: Option<String>,
    /// How a refunded deposit was paid out (check number or card refund reference), by whom,
    /// when, and the entry that cleared refunds payable.
    pub refund_issued_reference: Option<String>,
    pub refund_issued_by: Option<String>,
    pub refund_issued_at: Option<i64>,
    pub refund_issued_entry_id: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! select_deposits {
    ($tail:literal) => {
        concat!(
            "select d.deposit_id, d.account_id, a.account_number, d.currency, d.amount_minor, d.credit_rating, ",
            "d.status, d.billed_entry_id, d.item_id, i.open_minor as unpaid_minor, d.closed_entry_id, ",
            "d.refund_requested_by_user_id, d.refund_requested_by, d.refund_note, d.refund_requested_at, ",
            "d.refund_decided_by, d.refund_decision_note, d.refund_issued_reference, d.refund_issued_by, ",
            "d.refund_issued_at, d.refund_issued_entry_id, d.created_by, d.created_at, d.updated_at ",
            "from deposit d join account a on a.account_id = d.account_id ",
            "left join open_item i on i.item_id = d.item_id ",
            $tail
        )
    };
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_deposit(
    tx: &mut Tx,
    account_id: i64,
    currency: &str,
    amount_minor: i64,
    credit_rating: &str,
    status: &str,
    created_by: &str,
    now: Timestamp,
) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into deposit (account_id, currency, amount_minor, credit_rating, status, created_by, created_at,
                              updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $7) returning deposit_id",
        account_id,
        currency,
        amount_minor,
        credit_rating,
        status,
        created_by,
        now.micros()
    )
}

/// Moves a deposit from `from` to `to` (refusing if another writer moved it first) and records
/// the entries of the move; yields the rows changed.
#[allow(clippy::too_many_arguments)]
pub async fn move_deposit(
    tx: &mut Tx,
    deposit_id: i64,
    from: &str,
    to: &str,
    billed_entry_id: Option<i64>,
    item_id: Option<i64>,
    closed_entry_id: Option<i64>,
    now: Timestamp,
) -> Result<u64> {
    db::execute!(
        tx,
        "update deposit set status = $1, billed_entry_id = coalesce($2, billed_entry_id),
                item_id = coalesce($3, item_id), closed_entry_id = coalesce($4, closed_entry_id), updated_at = $5
         where deposit_id = $6 and status = $7",
        to,
        billed_entry_id,
        item_id,
        closed_entry_id,
        now.micros(),
        deposit_id,
        from
    )
}

pub async fn find_deposit(tx: &mut Tx, deposit_id: i64) -> Result<Option<DepositRow>> {
    db::fetch_optional!(tx, DepositRow, select_deposits!("where d.deposit_id = $1"), deposit_id)
}

pub async fn deposits_of(tx: &mut Tx, account_id: i64, limit: i64) -> Result<Vec<DepositRow>> {
    db::fetch_all!(
        tx,
        DepositRow,
        select_deposits!("where d.account_id = $1 order by d.deposit_id desc limit $2"),
        account_id,
        limit
    )
}

/// Billed deposits of an account whose open item is fully paid: they are now held.
pub async fn paid_billed_deposits(tx: &mut Tx, account_id: i64) -> Result<Vec<i64>> {
    db::fetch_all!(
        tx,
        (i64,),
        "select d.deposit_id from deposit d join open_item i on i.item_id = d.item_id
         where d.account_id = $1 and d.status = 'billed' and i.open_minor = 0 order by d.deposit_id",
        account_id
    )
    .map(|rows| rows.into_iter().map(|(id,)| id).collect())
}

/// Deposits in one status, oldest first (the approval queue of refunds above the limit).
pub async fn deposits_by_status(tx: &mut Tx, status: &str, limit: i64) -> Result<Vec<DepositRow>> {
    db::fetch_all!(
        tx,
        DepositRow,
        select_deposits!("where d.status = $1 order by d.deposit_id limit $2"),
        status,
        limit
    )
}

/// Who asks for a refund above the limit.
pub struct RefundRequest<'a> {
    pub by_user_id: Option<i64>,
    pub by: &'a str,
    pub note: &'a str,
}

/// Puts a held deposit's refund up for approval; yields the rows changed (0 if it is not held).
pub async fn request_deposit_refund(
    tx: &mut Tx,
    deposit_id: i64,
    request: &RefundRequest<'_>,
    now: Timestamp,
) -> Result<u64> {
    db::execute!(
        tx,
        "update deposit set status = 'refund_pending', refund_requested_by_user_id = $1, refund_requested_by = $2,
                refund_note = $3, refund_requested_at = $4, refund_decided_by_user_id = null,
                refund_decided_by = null, refund_decision_note = null, refund_decided_at = null, updated_at = $4
         where deposit_id = $5 and status = 'held'",
        request.by_user_id,
        request.by,
        request.note,
        now.micros(),
        deposit_id
    )
}

/// Records a supervisor's decision on a pending deposit refund and moves the deposit to `to`
/// (refunded or back to held), only while it is pending: two decisions cannot both succeed.
pub async fn decide_deposit_refund(
    tx: &mut Tx,
    deposit_id: i64,
    to: &str,
    request: &RefundRequest<'_>,
    closed_entry_id: Option<i64>,
    now: Timestamp,
) -> Result<u64> {
    db::execute!(
        tx,
        "update deposit set status = $1, refund_decided_by_user_id = $2, refund_decided_by = $3,
                refund_decision_note = $4, refund_decided_at = $5, updated_at = $5,
                closed_entry_id = coalesce($6, closed_entry_id)
         where deposit_id = $7 and status = 'refund_pending'",
        to,
        request.by_user_id,
        request.by,
        request.note,
        now.micros(),
        closed_entry_id,
        deposit_id
    )
}

pub async fn set_deposit_closed_entry(tx: &mut Tx, deposit_id: i64, entry_id: i64) -> Result<u64> {
    db::execute!(tx, "update deposit set closed_entry_id = $1 where deposit_id = $2", entry_id, deposit_id)
}

/// How a refunded deposit is paid out.
pub struct RefundIssue<'a> {
    pub reference: &'a str,
    pub by: &'a str,
    pub entry_id: i64,
}

/// Records that a refunded deposit was paid out, only while it is `refunded`: two payouts of
/// one refund cannot both succeed. Yields the rows changed.
pub async fn issue_deposit_refund(
    tx: &mut Tx,
    deposit_id: i64,
    issue: &RefundIssue<'_>,
    now: Timestamp,
) -> Result<u64> {
    db::execute!(
        tx,
        "update deposit set status = 'refund_issued', refund_issued_reference = $1, refund_issued_by = $2,
                refund_issued_at = $3, refund_issued_entry_id = $4, updated_at = $3
         where deposit_id = $5 and status = 'refunded'",
        issue.reference,
        issue.by,
        now.micros(),
        issue.entry_id,
        deposit_id
    )
}
