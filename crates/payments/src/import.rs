//! Payment file import: validate the whole file first (every bad line listed, nothing posted),
//! refuse a file or a reference seen before, then post every line in bulk — payments with
//! multi-row inserts and their journal entries through `ledger::batch_payments` — in the
//! caller's one transaction, with one audit record for the file. A reference imported before is
//! found by the unique index on `payment.file_reference` as the payments are written; the
//! error then undoes the whole transaction, so nothing of the file stays.

use crate::PaymentError;
use crate::file::{self, FileLine, LineError};
use crate::store_more;
use db::bulk::{Rows, Statements, Value};
use db::{Backend, Tx};
use kernel::{Actor, Currency, Timestamp};
use ledger::LedgerCode;
use ledger::batch_payments::{PaymentPosting, post_payments};
use serde::Serialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// Account numbers looked up per statement.
const LOOKUP_CHUNK: usize = 5_000;
/// Lines written per round of statements (two statements' worth): bounds the memory of the
/// bound values, and the next round is built while one is written.
const WRITE_CHUNK: usize = 10_000;

/// What an import did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Imported {
    pub payment_file_id: i64,
    pub payment_count: i64,
    pub total_minor: i64,
    pub currency: String,
    pub first_payment_id: i64,
    pub last_payment_id: i64,
    /// Accounts whose open items were settled by the file.
    pub settled_accounts: usize,
}

/// An account a line pays: (account_id, customer_id).
type Target = (i64, i64);

/// The SQLite page cache during an import, in KiB: the indexes a million-line file touches stay
/// in memory, so their pages reach the WAL once, at commit, rather than spilling mid-way.
const IMPORT_CACHE_KIB: i64 = 1_048_576;

/// Validates and imports one file. `file_name` is for the record only.
pub async fn import_file(
    tx: &mut Tx,
    actor: &Actor,
    file_name: &str,
    content: &str,
    currency: Currency,
    now: Timestamp,
) -> Result<Imported, PaymentError> {
    if tx.backend() != Backend::Sqlite {
        return import_checked(tx, actor, file_name, content, currency, now).await;
    }
    let cache = db::scalar!(tx, i64, "pragma cache_size")?;
    db::execute!(tx, sqlx::AssertSqlSafe(format!("pragma cache_size = -{IMPORT_CACHE_KIB}")))?;
    let result = import_checked(tx, actor, file_name, content, currency, now).await;
    db::execute!(tx, sqlx::AssertSqlSafe(format!("pragma cache_size = {cache}")))?;
    result
}

async fn import_checked(
    tx: &mut Tx,
    actor: &Actor,
    file_name: &str,
    content: &str,
    currency: Currency,
    now: Timestamp,
) -> Result<Imported, PaymentError> {
    let sha = db::sha256_hex(content);
    if store_more::file_by_hash(tx, &sha).await?.is_some() {
        return Err(PaymentError::PaymentFileDuplicate);
    }
    let parsed = file::parse(content, currency);
    if parsed.lines.len() > file::MAX_LINES {
        return Err(PaymentError::PaymentFileTooLarge);
    }
    let mut errors = parsed.errors;
    let mut error_count = parsed.error_count;
    let targets = resolve_accounts(tx, &parsed.lines, currency, &mut errors, &mut error_count).await?;
    if error_count > 0 {
        errors.sort_by_key(|e| e.line);
        return Err(PaymentError::PaymentFileInvalid { count: error_count, errors });
    }
    if parsed.lines.is_empty() {
        return Err(PaymentError::PaymentFileEmpty);
    }
    // No line is in error: every line has its account.
    let targets: Vec<Target> = targets.into_iter().flatten().collect();
    let total_minor: i64 = parsed.lines.iter().map(|l| l.amount.amount_minor).sum();
    let line_count = i64::try_from(parsed.lines.len()).unwrap_or(i64::MAX);
    let by = actor.name();
    let name = crate::model::parse_short(Some(file_name), 200, "file_name")?.unwrap_or_else(|| "upload".into());
    let file_id = store_more::insert_file(tx, &sha, &name, line_count, total_minor, currency.code(), &by, now)
        .await
        .map_err(|e| if e.is_unique_violation() { PaymentError::PaymentFileDuplicate } else { PaymentError::Db(e) })?;
    let (first, last) = write_payments(tx, actor, file_id, &parsed.lines, &targets, currency, now).await?;
    let postings: Vec<PaymentPosting> = parsed
        .lines
        .iter()
        .zip(&targets)
        .zip(first..)
        .map(|((line, (account_id, _)), id)| PaymentPosting {
            source_ref: crate::model::payment_number(id),
            account_id: *account_id,
            amount: line.amount,
            entry_date: line.date,
        })
        .collect();
    let memo = format!("Lockbox payment file {file_id}");
    let posted = post_payments(tx, actor, LedgerCode::UNDEPOSITED_FUNDS, &postings, &memo, now).await?;
    let detail = json!({
        "file_name": name, "sha256": sha, "payments": line_count, "total_minor": total_minor,
        "first_payment_id": first, "last_payment_id": last,
    });
    crate::ops::record(tx, actor, "payment_file.imported", "payment_file", file_id, detail, now).await?;
    Ok(Imported {
        payment_file_id: file_id,
        payment_count: line_count,
        total_minor,
        currency: currency.code().to_string(),
        first_payment_id: first,
        last_payment_id: last,
        settled_accounts: posted.settled_accounts,
    })
}

/// Looks every account number up; unknown, closed and other-currency accounts become errors.
/// Answers each line's account, in the order of the lines (none for a line in error).
async fn resolve_accounts(
    tx: &mut Tx,
    lines: &[FileLine<'_>],
    currency: Currency,
    errors: &mut Vec<LineError>,
    error_count: &mut usize,
) -> Result<Vec<Option<Target>>, PaymentError> {
    // Each distinct number once, in number order (the look-ups walk the index in order): a file
    // pays far fewer accounts than it has lines, so only those are sorted.
    let mut numbers: Vec<&str> =
        lines.iter().map(|l| l.account_number.as_ref()).collect::<HashSet<&str>>().into_iter().collect();
    numbers.sort_unstable();
    type Verdict = Result<Target, (&'static str, &'static str)>;
    let mut found: HashMap<String, Verdict> = HashMap::with_capacity(numbers.len());
    for chunk in numbers.chunks(LOOKUP_CHUNK) {
        for (number, account_id, customer_id, status, code) in store_more::accounts_by_numbers(tx, chunk).await? {
            let verdict = if status == "closed" {
                Err(("account_not_active", "this account is closed"))
            } else if code != currency.code() {
                Err(("currency_mismatch", "the account has another currency"))
            } else {
                Ok((account_id, customer_id))
            };
            found.insert(number, verdict);
        }
    }
    let mut targets = Vec::with_capacity(lines.len());
    for line in lines {
        match found.get(line.account_number.as_ref()).copied().unwrap_or(Err(("account_unknown", "no such account"))) {
            Ok(target) => targets.push(Some(target)),
            Err((code, message)) => {
                targets.push(None);
                *error_count += 1;
                if errors.len() < file::MAX_REPORTED_ERRORS {
                    errors.push(LineError::new(line.line, "account_number", code, message));
                }
            }
        }
    }
    Ok(targets)
}

/// Inserts the payments with explicit ids after the highest so far; returns the id range. A
/// reference some payment already carries fails the insert: the file is a duplicate.
async fn write_payments(
    tx: &mut Tx,
    actor: &Actor,
    file_id: i64,
    lines: &[FileLine<'_>],
    targets: &[Target],
    currency: Currency,
    now: Timestamp,
) -> Result<(i64, i64), PaymentError> {
    if tx.backend() == Backend::Postgres {
        db::execute!(tx, "lock table payment in exclusive mode")?;
    }
    let first = store_more::max_payment_id(tx).await? + 1;
    let mut statements = Statements::new(tx.backend());
    let taken_by = actor.name();
    let new_rows = || {
        Rows::new("payment", "payment_id, account_id, customer_id, amount_minor, file_reference, received_date")
            .fixed("currency", Value::Static(currency.code()))
            .fixed("tender", Value::Static("check"))
            .fixed("channel", Value::Static("lockbox"))
            .fixed("memo", Value::Static(""))
            .fixed("payment_file_id", Value::Int(file_id))
            .fixed("status", Value::Static("posted"))
            .fixed("taken_by", Value::Text(taken_by.clone()))
            .fixed("created_at", Value::Int(now.micros()))
    };
    // Each chunk's rows are built while the chunk before is written.
    let mut chunks = lines.chunks(WRITE_CHUNK).zip(targets.chunks(WRITE_CHUNK));
    let mut dates = None;
    let mut id = first;
    let mut rows = new_rows();
    if let Some((chunk, chunk_targets)) = chunks.next() {
        id = push_payments(&mut rows, chunk, chunk_targets, id, &mut dates);
    }
    while !rows.is_empty() {
        let mut next = new_rows();
        let build = async {
            if let Some((chunk, chunk_targets)) = chunks.next() {
                id = push_payments(&mut next, chunk, chunk_targets, id, &mut dates);
            }
        };
        let (written, ()) = tokio::join!(statements.flush(tx, &mut rows), build);
        written.map_err(|e| match e.is_unique_violation() {
            true => PaymentError::PaymentFileDuplicate,
            false => PaymentError::Db(e),
        })?;
        rows = next;
    }
    if tx.backend() == Backend::Postgres {
        db::execute!(
            tx,
            "select setval(pg_get_serial_sequence('payment', 'payment_id'), (select max(payment_id) from payment))"
        )?;
    }
    Ok((first, id - 1))
}

/// One chunk of lines as payment rows, ids from `id` on; answers the id after the last.
fn push_payments(
    rows: &mut Rows,
    lines: &[FileLine<'_>],
    targets: &[Target],
    mut id: i64,
    dates: &mut Option<(ledger::BusinessDate, std::sync::Arc<str>)>,
) -> i64 {
    for (line, (account_id, customer_id)) in lines.iter().zip(targets) {
        rows.push([
            Value::Int(id),
            Value::Int(*account_id),
            Value::Int(*customer_id),
            Value::Int(line.amount.amount_minor),
            Value::Text(line.reference.to_string()),
            Value::Shared(ledger::batch::shared_text(dates, line.date)),
        ]);
        id += 1;
    }
    id
}
