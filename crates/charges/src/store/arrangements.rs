//! The SQL of payment arrangements and their instalments, and the read-only look at the journal
//! that tells an arrangement what the customer has paid since it started.

use db::{Result, Tx};
use kernel::Timestamp;
use serde::Serialize;

/// A payment arrangement.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ArrangementRow {
    pub arrangement_id: i64,
    pub account_id: i64,
    pub currency: String,
    /// The arrears arranged.
    pub total_minor: i64,
    pub instalment_count: i64,
    /// weekly or monthly
    pub frequency: String,
    /// YYYY-MM-DD
    pub first_due_date: String,
    /// active, completed, broken or cancelled
    pub status: String,
    /// Credits to the receivable since the arrangement started, as of the last review.
    pub credited_minor: i64,
    #[serde(skip)]
    pub start_after_line_id: i64,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One instalment of an arrangement.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct InstalmentRow {
    pub arrangement_id: i64,
    pub seq: i64,
    /// YYYY-MM-DD
    pub due_date: String,
    pub amount_minor: i64,
    /// due, paid or missed
    pub status: String,
}

const SELECT_ARRANGEMENTS: &str = "select arrangement_id, account_id, currency, total_minor, instalment_count, \
     frequency, first_due_date, status, credited_minor, start_after_line_id, created_by, created_at, updated_at \
     from arrangement ";

/// The facts one arrangement insert needs.
pub struct ArrangementFields<'a> {
    pub account_id: i64,
    pub currency: &'a str,
    pub total_minor: i64,
    pub instalment_count: i64,
    pub frequency: &'a str,
    pub first_due_date: &'a str,
    pub start_after_line_id: i64,
    pub created_by: &'a str,
}

pub async fn insert_arrangement(tx: &mut Tx, f: &ArrangementFields<'_>, now: Timestamp) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into arrangement (account_id, currency, total_minor, instalment_count, frequency, first_due_date,
                                  status, start_after_line_id, credited_minor, created_by, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, 'active', $7, 0, $8, $9, $9) returning arrangement_id",
        f.account_id,
        f.currency,
        f.total_minor,
        f.instalment_count,
        f.frequency,
        f.first_due_date,
        f.start_after_line_id,
        f.created_by,
        now.micros()
    )
}

pub async fn insert_instalment(tx: &mut Tx, arrangement_id: i64, seq: i64, due_date: &str, amount: i64) -> Result<()> {
    db::execute!(
        tx,
        "insert into arrangement_instalment (arrangement_id, seq, due_date, amount_minor, status)
         values ($1, $2, $3, $4, 'due')",
        arrangement_id,
        seq,
        due_date,
        amount
    )?;
    Ok(())
}

pub async fn find_arrangement(tx: &mut Tx, arrangement_id: i64) -> Result<Option<ArrangementRow>> {
    let sql = format!("{SELECT_ARRANGEMENTS} where arrangement_id = $1");
    db::fetch_optional!(tx, ArrangementRow, sqlx::AssertSqlSafe(sql), arrangement_id)
}

pub async fn arrangements_of(tx: &mut Tx, account_id: i64, limit: i64) -> Result<Vec<ArrangementRow>> {
    let sql = format!("{SELECT_ARRANGEMENTS} where account_id = $1 order by arrangement_id desc limit $2");
    db::fetch_all!(tx, ArrangementRow, sqlx::AssertSqlSafe(sql), account_id, limit)
}

/// Active arrangements after `after_id`, oldest first, a batch at a time.
pub async fn active_arrangements(tx: &mut Tx, after_id: i64, limit: i64) -> Result<Vec<ArrangementRow>> {
    let sql = format!(
        "{SELECT_ARRANGEMENTS} where status = 'active' and arrangement_id > $1 order by arrangement_id limit $2"
    );
    db::fetch_all!(tx, ArrangementRow, sqlx::AssertSqlSafe(sql), after_id, limit)
}

pub async fn active_arrangement_of(tx: &mut Tx, account_id: i64) -> Result<Option<i64>> {
    db::scalar_optional!(
        tx,
        i64,
        "select arrangement_id from arrangement where account_id = $1 and status = 'active' limit 1",
        account_id
    )
}

pub async fn instalments_of(tx: &mut Tx, arrangement_id: i64) -> Result<Vec<InstalmentRow>> {
    db::fetch_all!(
        tx,
        InstalmentRow,
        "select arrangement_id, seq, due_date, amount_minor, status from arrangement_instalment
         where arrangement_id = $1 order by seq",
        arrangement_id
    )
}

/// Moves an arrangement from `from` to `to` with what has been credited; yields rows changed.
pub async fn update_arrangement(
    tx: &mut Tx,
    arrangement_id: i64,
    from: &str,
    to: &str,
    credited_minor: i64,
    now: Timestamp,
) -> Result<u64> {
    db::execute!(
        tx,
        "update arrangement set status = $1, credited_minor = $2, updated_at = $3
         where arrangement_id = $4 and status = $5",
        to,
        credited_minor,
        now.micros(),
        arrangement_id,
        from
    )
}

pub async fn set_instalment_status(tx: &mut Tx, arrangement_id: i64, seq: i64, status: &str) -> Result<u64> {
    db::execute!(
        tx,
        "update arrangement_instalment set status = $1 where arrangement_id = $2 and seq = $3",
        status,
        arrangement_id,
        seq
    )
}

/// The newest journal line's id: credits on later lines count towards a new arrangement.
pub async fn last_line_id(tx: &mut Tx) -> Result<i64> {
    Ok(db::scalar!(tx, Option<i64>, "select max(line_id) from journal_line")?.unwrap_or(0))
}

/// What has been credited to an account's receivable in `currency` on lines after
/// `after_line_id`, less the debits of reversing entries (a reversed payment is no payment).
pub async fn receivable_credits_since(tx: &mut Tx, account_id: i64, currency: &str, after_line_id: i64) -> Result<i64> {
    let credited = db::scalar!(
        tx,
        Option<i64>,
        "select cast(sum(case when l.amount_minor < 0 then -l.amount_minor
                              when e.source_kind = 'reversal' then -l.amount_minor
                              else 0 end) as bigint)
         from journal_line l
         join journal_entry e on e.entry_id = l.entry_id
         join ledger_account la on la.ledger_account_id = l.ledger_account_id
         where l.account_id = $1 and la.code = '1100' and l.currency = $2 and l.line_id > $3",
        account_id,
        currency,
        after_line_id
    )?;
    Ok(credited.unwrap_or(0))
}
