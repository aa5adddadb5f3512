//! The SQL of letters and print batches.

use db::{Result, Tx};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct LetterRow {
    pub letter_id: i64,
    pub customer_id: i64,
    pub account_id: Option<i64>,
    pub case_id: Option<i64>,
    pub template_id: Option<i64>,
    pub language: String,
    /// The address block, one line per line.
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// queued or printed
    pub status: String,
    pub print_batch_id: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub printed_at: Option<i64>,
}

const COLUMNS: &str = "letter_id, customer_id, account_id, case_id, template_id, language, recipient, subject, body, \
     status, print_batch_id, created_by, created_at, printed_at";

pub struct NewLetterRow<'a> {
    pub customer_id: i64,
    pub account_id: Option<i64>,
    pub case_id: Option<i64>,
    pub template_id: Option<i64>,
    pub language: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub created_by: &'a str,
    pub now: i64,
}

pub async fn insert_letter(tx: &mut Tx, row: &NewLetterRow<'_>) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into letter (customer_id, account_id, case_id, template_id, language, recipient, subject, body,
                             status, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $10) returning letter_id",
        row.customer_id,
        row.account_id,
        row.case_id,
        row.template_id,
        row.language,
        row.recipient,
        row.subject,
        row.body,
        row.created_by,
        row.now
    )
}

pub async fn get_letter(tx: &mut Tx, letter_id: i64) -> Result<Option<LetterRow>> {
    let sql = format!("select {COLUMNS} from letter where letter_id = $1");
    db::fetch_optional!(tx, LetterRow, db::sqlx::AssertSqlSafe(sql), letter_id)
}

/// Newest first; `status` empty means every status.
pub async fn list_letters(tx: &mut Tx, status: &str, before_id: i64, limit: i64) -> Result<Vec<LetterRow>> {
    let sql = format!(
        "select {COLUMNS} from letter where ($1 = '' or status = $1) and letter_id < $2
         order by letter_id desc limit $3"
    );
    db::fetch_all!(tx, LetterRow, db::sqlx::AssertSqlSafe(sql), status, before_id, limit)
}

/// Every letter queued at or before `through` (microseconds), oldest first: the print queue.
pub async fn queued_letters(tx: &mut Tx, through: i64) -> Result<Vec<LetterRow>> {
    let sql = format!("select {COLUMNS} from letter where status = 'queued' and created_at <= $1 order by letter_id");
    db::fetch_all!(tx, LetterRow, db::sqlx::AssertSqlSafe(sql), through)
}

pub async fn letters_of_batch(tx: &mut Tx, batch_id: i64) -> Result<Vec<LetterRow>> {
    let sql = format!("select {COLUMNS} from letter where print_batch_id = $1 order by letter_id");
    db::fetch_all!(tx, LetterRow, db::sqlx::AssertSqlSafe(sql), batch_id)
}

pub async fn insert_batch(tx: &mut Tx, count: i64, created_by: &str, now: i64) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into print_batch (letter_count, created_by, created_at) values ($1, $2, $3) returning print_batch_id",
        i32::try_from(count).unwrap_or(i32::MAX),
        created_by,
        now
    )
}

/// Moves one queued letter into a batch; false if another batch took it first.
pub async fn mark_printed(tx: &mut Tx, letter_id: i64, batch_id: i64, now: i64) -> Result<bool> {
    let rows = db::execute!(
        tx,
        "update letter set status = 'printed', print_batch_id = $1, printed_at = $2
         where letter_id = $3 and status = 'queued'",
        batch_id,
        now,
        letter_id
    )?;
    Ok(rows == 1)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct PrintBatchRow {
    pub print_batch_id: i64,
    pub letter_count: i32,
    pub created_by: String,
    pub created_at: i64,
}

pub async fn batches(tx: &mut Tx, limit: i64) -> Result<Vec<PrintBatchRow>> {
    db::fetch_all!(
        tx,
        PrintBatchRow,
        "select print_batch_id, letter_count, created_by, created_at from print_batch
         order by print_batch_id desc limit $1",
        limit
    )
}
