//! The payments module's SQL for refunds, bank deposits and payment files.

use db::{Result, Tx};
use kernel::Timestamp;
use serde::Serialize;

/// A refund of overpayment.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RefundRow {
    pub refund_id: i64,
    pub account_id: i64,
    pub account_number: String,
    pub customer_name: String,
    pub amount_minor: i64,
    pub currency: String,
    /// requested, approved, rejected or issued
    pub status: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_by_user_id: i64,
    pub requested_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_note: Option<String>,
    /// The check number or card refund reference it was paid with.
    pub issued_reference: Option<String>,
    pub issued_by: Option<String>,
    pub issued_at: Option<i64>,
}

const SELECT_REFUNDS: &str = "select r.refund_id, r.account_id, a.account_number, c.display_name as customer_name, \
     r.amount_minor, r.currency, r.status, r.reason, r.requested_by, r.requested_by_user_id, r.requested_at, \
     r.decided_by, r.decided_at, r.decision_note, r.issued_reference, r.issued_by, r.issued_at from refund r \
     join account a on a.account_id = r.account_id join customer c on c.customer_id = a.customer_id";

#[allow(clippy::too_many_arguments)]
pub async fn insert_refund(
    tx: &mut Tx,
    account_id: i64,
    amount_minor: i64,
    currency: &str,
    reason: &str,
    by: &str,
    by_user_id: i64,
    now: Timestamp,
) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into refund (account_id, amount_minor, currency, status, reason, requested_by, requested_by_user_id,
             requested_at)
         values ($1, $2, $3, 'requested', $4, $5, $6, $7) returning refund_id",
        account_id,
        amount_minor,
        currency,
        reason,
        by,
        by_user_id,
        now.micros()
    )
}

pub async fn find_refund(tx: &mut Tx, refund_id: i64) -> Result<Option<RefundRow>> {
    let sql = format!("{SELECT_REFUNDS} where r.refund_id = $1");
    db::fetch_optional!(tx, RefundRow, sqlx::AssertSqlSafe(sql), refund_id)
}

pub async fn refunds(tx: &mut Tx, status: Option<&str>, limit: i64) -> Result<Vec<RefundRow>> {
    let sql = format!("{SELECT_REFUNDS} where ($1 is null or r.status = $1) order by r.refund_id desc limit $2");
    db::fetch_all!(tx, RefundRow, sqlx::AssertSqlSafe(sql), status, limit)
}

/// Refunds requested or approved but not yet issued: the credit they will take is spoken for.
pub async fn pending_refund_total(tx: &mut Tx, account_id: i64) -> Result<i64> {
    Ok(db::scalar!(
        tx,
        Option<i64>,
        "select cast(sum(amount_minor) as bigint) from refund where account_id = $1 and status = 'requested'",
        account_id
    )?
    .unwrap_or(0))
}

/// Moves a refund from `from` to `to`, recording who decided; zero rows when it moved already.
#[allow(clippy::too_many_arguments)]
pub async fn decide_refund(
    tx: &mut Tx,
    refund_id: i64,
    from: &str,
    to: &str,
    by: &str,
    by_user_id: i64,
    note: &str,
    now: Timestamp,
) -> Result<u64> {
    db::execute!(
        tx,
        "update refund set status = $1, decided_by = $2, decided_by_user_id = $3, decided_at = $4, decision_note = $5
         where refund_id = $6 and status = $7",
        to,
        by,
        by_user_id,
        now.micros(),
        note,
        refund_id,
        from
    )
}

pub async fn issue_refund(tx: &mut Tx, refund_id: i64, reference: &str, by: &str, now: Timestamp) -> Result<u64> {
    db::execute!(
        tx,
        "update refund set status = 'issued', issued_reference = $1, issued_by = $2, issued_at = $3
         where refund_id = $4 and status = 'approved'",
        reference,
        by,
        now.micros(),
        refund_id
    )
}

/// A bank deposit batch.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct BankDepositRow {
    pub bank_deposit_id: i64,
    /// YYYY-MM-DD
    pub deposit_date: String,
    pub total_minor: i64,
    pub currency: String,
    pub payment_count: i64,
    pub drawer_count: i64,
    pub created_by: String,
    pub created_at: i64,
}

const SELECT_DEPOSITS: &str = "select bank_deposit_id, deposit_date, total_minor, currency, payment_count, \
     drawer_count, created_by, created_at from bank_deposit";

pub async fn find_deposit(tx: &mut Tx, id: i64) -> Result<Option<BankDepositRow>> {
    let sql = format!("{SELECT_DEPOSITS} where bank_deposit_id = $1");
    db::fetch_optional!(tx, BankDepositRow, sqlx::AssertSqlSafe(sql), id)
}

pub async fn deposits(tx: &mut Tx, limit: i64) -> Result<Vec<BankDepositRow>> {
    let sql = format!("{SELECT_DEPOSITS} order by bank_deposit_id desc limit $1");
    db::fetch_all!(tx, BankDepositRow, sqlx::AssertSqlSafe(sql), limit)
}

/// Closed drawers not yet deposited: (drawer_id, over/short).
pub async fn undeposited_drawers(tx: &mut Tx, currency: &str) -> Result<Vec<(i64, i64)>> {
    db::fetch_all!(
        tx,
        (i64, i64),
        "select drawer_id, coalesce(over_short_minor, 0) from cash_drawer
         where status in ('closed', 'signed_off') and bank_deposit_id is null and currency = $1 order by drawer_id",
        currency
    )
}

/// What a deposit takes, by tender: payments of the given drawers plus payments taken without a
/// drawer (mail, phone, lockbox), all not yet deposited and not reversed.
pub async fn deposit_tender_totals(tx: &mut Tx, currency: &str) -> Result<Vec<(String, i64, i64)>> {
    db::fetch_all!(
        tx,
        (String, i64, i64),
        "select p.tender, count(*), cast(sum(p.amount_minor) as bigint) from payment p
         left join cash_drawer d on d.drawer_id = p.drawer_id
         where p.bank_deposit_id is null and p.status = 'posted' and p.currency = $1
           and (p.drawer_id is null or (d.status in ('closed', 'signed_off') and d.bank_deposit_id is null))
         group by p.tender order by p.tender",
        currency
    )
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_deposit(
    tx: &mut Tx,
    date: &str,
    total_minor: i64,
    currency: &str,
    payment_count: i64,
    drawer_count: i64,
    by: &str,
    now: Timestamp,
) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into bank_deposit (deposit_date, total_minor, currency, payment_count, drawer_count, created_by,
             created_at)
         values ($1, $2, $3, $4, $5, $6, $7) returning bank_deposit_id",
        date,
        total_minor,
        currency,
        payment_count,
        drawer_count,
        by,
        now.micros()
    )
}

/// Marks what a deposit took. Payments already deposited are never taken again (`is null`).
pub async fn mark_deposited(tx: &mut Tx, deposit_id: i64, currency: &str) -> Result<(u64, u64)> {
    let payments = db::execute!(
        tx,
        "update payment set bank_deposit_id = $1
         where bank_deposit_id is null and status = 'posted' and currency = $2
           and (drawer_id is null or drawer_id in (select drawer_id from cash_drawer
                where status in ('closed', 'signed_off') and bank_deposit_id is null))",
        deposit_id,
        currency
    )?;
    let drawers = db::execute!(
        tx,
        "update cash_drawer set bank_deposit_id = $1
         where status in ('closed', 'signed_off') and bank_deposit_id is null and currency = $2",
        deposit_id,
        currency
    )?;
    Ok((payments, drawers))
}

/// Totals by tender of one deposit: (tender, count, total).
pub async fn deposit_lines(tx: &mut Tx, deposit_id: i64) -> Result<Vec<(String, i64, i64)>> {
    db::fetch_all!(
        tx,
        (String, i64, i64),
        "select tender, count(*), cast(sum(amount_minor) as bigint) from payment where bank_deposit_id = $1
         group by tender order by tender",
        deposit_id
    )
}

/// Payments counted into a drawer of this deposit but reversed after the drawer closed and before
/// the deposit: their money is in the drawer's bag, not in the deposit, and goes back to the
/// customer. By tender: (tender, count, total).
pub async fn deposit_pulled_items(tx: &mut Tx, deposit_id: i64) -> Result<Vec<(String, i64, i64)>> {
    db::fetch_all!(
        tx,
        (String, i64, i64),
        "select p.tender, count(*), cast(sum(p.amount_minor) as bigint) from payment p
         join cash_drawer d on d.drawer_id = p.drawer_id
         join payment_reversal r on r.payment_id = p.payment_id
         where d.bank_deposit_id = $1 and p.bank_deposit_id is null and p.status = 'reversed'
           and r.reversed_at > d.closed_at
         group by p.tender order by p.tender",
        deposit_id
    )
}

/// A payment file as imported.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PaymentFileRow {
    pub payment_file_id: i64,
    pub content_sha256: String,
    pub file_name: String,
    pub line_count: i64,
    pub total_minor: i64,
    pub currency: String,
    pub imported_by: String,
    pub imported_at: i64,
}

pub async fn file_by_hash(tx: &mut Tx, sha: &str) -> Result<Option<i64>> {
    db::scalar_optional!(tx, i64, "select payment_file_id from payment_file where content_sha256 = $1", sha)
}

pub async fn payment_files(tx: &mut Tx, limit: i64) -> Result<Vec<PaymentFileRow>> {
    db::fetch_all!(
        tx,
        PaymentFileRow,
        "select payment_file_id, content_sha256, file_name, line_count, total_minor, currency, imported_by,
             imported_at from payment_file order by payment_file_id desc limit $1",
        limit
    )
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_file(
    tx: &mut Tx,
    sha: &str,
    name: &str,
    lines: i64,
    total_minor: i64,
    currency: &str,
    by: &str,
    now: Timestamp,
) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into payment_file (content_sha256, file_name, line_count, total_minor, currency, imported_by,
             imported_at)
         values ($1, $2, $3, $4, $5, $6, $7) returning payment_file_id",
        sha,
        name,
        lines,
        total_minor,
        currency,
        by,
        now.micros()
    )
}

/// Account facts for many numbers at once: (number, account_id, customer_id, status, currency).
pub async fn accounts_by_numbers(tx: &mut Tx, numbers: &[&str]) -> Result<Vec<(String, i64, i64, String, String)>> {
    let marks = ledger::batch_payments::marks(tx.backend(), 1, numbers.len());
    let sql = format!(
        "select account_number, account_id, customer_id, status, currency from account
         where account_number in ({marks})"
    );
    let sql = sqlx::AssertSqlSafe(sql);
    match tx {
        Tx::Sqlite(t) => {
            let mut query = sqlx::query_as(sql);
            for n in numbers {
                query = query.bind(*n);
            }
            Ok(query.fetch_all(&mut **t).await?)
        }
        Tx::Pg(t) => {
            let mut query = sqlx::query_as(sql);
            for n in numbers {
                query = query.bind(*n);
            }
            Ok(query.fetch_all(&mut **t).await?)
        }
    }
}

/// The highest payment id so far (bulk imports number their payments from it).
pub async fn max_payment_id(tx: &mut Tx) -> Result<i64> {
    Ok(db::scalar!(tx, Option<i64>, "select max(payment_id) from payment")?.unwrap_or(0))
}

/// The payments of one file, for the import's answer.
pub async fn file_payment_count(tx: &mut Tx, file_id: i64) -> Result<i64> {
    db::scalar!(tx, i64, "select count(*) from payment where payment_file_id = $1", file_id)
}
