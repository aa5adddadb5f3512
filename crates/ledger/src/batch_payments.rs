//! Bulk posting for payment files: many payment entries (Dr one ledger account, Cr a customer's
//! receivable) written with multi-row inserts in the caller's transaction, because a lockbox
//! file of a million lines through [`crate::ops::post`] one entry at a time would take minutes.
//! The same rules hold as for `post`: every draft is checked to balance before anything is
//! written and the stored lines are checked again after; a source document already posted is
//! refused; subledger balances and daily totals stay exact (applied set-based from a temporary
//! table of per-account sums); and every touched account with open items is settled.

use crate::LedgerError;
use crate::model::{BusinessDate, EntryDraft, LedgerCode, LineDraft};
use crate::store;
use db::bulk::{Rows, Statements, Value};
use db::{Backend, Tx};
use kernel::{Actor, Currency, Money, Timestamp};
use std::collections::{BTreeMap, HashMap};

/// One payment to post: Dr `debit_code` / Cr receivable of `account_id`.
#[derive(Debug, Clone)]
pub struct PaymentPosting {
    pub source_ref: String,
    pub account_id: i64,
    pub amount: Money,
    pub entry_date: BusinessDate,
}

/// What the bulk posting wrote: the entry id of each posting, in order.
#[derive(Debug, Clone, Default)]
pub struct BatchPosted {
    pub entry_ids: Vec<i64>,
    pub settled_accounts: usize,
}

fn draft_of(debit_code: &str, posting: &PaymentPosting, memo: &str) -> EntryDraft {
    EntryDraft::new(posting.entry_date, "payment", posting.source_ref.clone())
        .memo(memo)
        .line(LineDraft::debit(debit_code, None, posting.amount))
        .line(LineDraft::credit(LedgerCode::RECEIVABLE, Some(posting.account_id), posting.amount))
}

fn ledger_id(accounts: &[store::LedgerAccountRow], code: &str) -> Result<i64, LedgerError> {
    let found =
        accounts.iter().find(|a| a.code == code).ok_or(LedgerError::LedgerAccountUnknown { field: "ledger_code" })?;
    if !found.active {
        return Err(LedgerError::LedgerAccountInactive { field: "ledger_code" });
    }
    Ok(found.ledger_account_id)
}

/// Posts every payment as its own entry (source kind `payment`), then settles.
pub async fn post_payments(
    tx: &mut Tx,
    actor: &Actor,
    debit_code: &str,
    postings: &[PaymentPosting],
    memo: &str,
    now: Timestamp,
) -> Result<BatchPosted, LedgerError> {
    if postings.is_empty() {
        return Ok(BatchPosted::default());
    }
    for posting in postings {
        draft_of(debit_code, posting, memo).check()?;
        if posting.source_ref.is_empty() || posting.source_ref.len() > 200 {
            return Err(LedgerError::TextInvalid { field: "source_ref" });
        }
    }
    let accounts = store::ledger_accounts(tx).await?;
    let debit_id = ledger_id(&accounts, debit_code)?;
    let receivable_id = ledger_id(&accounts, LedgerCode::RECEIVABLE)?;
    if tx.backend() == Backend::Postgres {
        db::execute!(tx, "lock table journal_entry in exclusive mode")?;
    }
    let base = db::scalar!(tx, Option<i64>, "select max(entry_id) from journal_entry")?.unwrap_or(0);
    let entry_ids: Vec<i64> = (1..=postings.len()).map(|i| base + i64::try_from(i).unwrap_or(i64::MAX)).collect();
    write_entries(tx, actor, postings, &entry_ids, debit_id, receivable_id, memo, now).await?;
    let unbalanced = db::scalar!(
        tx,
        i64,
        "select count(*) from (select entry_id from journal_line where entry_id > $1 and entry_id <= $2
         group by entry_id, currency having sum(amount_minor) <> 0) u",
        base,
        base + i64::try_from(postings.len()).unwrap_or(i64::MAX)
    )?;
    if unbalanced != 0 {
        return Err(LedgerError::EntryUnbalanced);
    }
    if tx.backend() == Backend::Postgres {
        db::execute!(
            tx,
            "select setval(pg_get_serial_sequence('journal_entry', 'entry_id'),
                           (select max(entry_id) from journal_entry))"
        )?;
    }
    let settled_accounts = apply_balances(tx, postings, &entry_ids, receivable_id, debit_id, now).await?;
    Ok(BatchPosted { entry_ids, settled_accounts })
}

#[allow(clippy::too_many_arguments)]
async fn write_entries(
    tx: &mut Tx,
    actor: &Actor,
    postings: &[PaymentPosting],
    entry_ids: &[i64],
    debit_id: i64,
    receivable_id: i64,
    memo: &str,
    now: Timestamp,
) -> Result<(), LedgerError> {
    let mut statements = Statements::new(tx.backend());
    let mut entries =
        Rows::new("journal_entry", "entry_id, entry_date, source_kind, source_ref, memo, posted_by, posted_at");
    let mut lines = Rows::new("journal_line", "entry_id, ledger_account_id, account_id, currency, amount_minor");
    let posted_by = actor.name();
    const CHUNK: usize = 20_000;
    for (chunk_index, chunk) in postings.chunks(CHUNK).enumerate() {
        for (offset, posting) in chunk.iter().enumerate() {
            let entry_id = entry_ids.get(chunk_index * CHUNK + offset).copied().unwrap_or_default();
            let currency = posting.amount.currency.code();
            entries.push([
                Value::Int(entry_id),
                Value::Text(posting.entry_date.to_string()),
                Value::Static("payment"),
                Value::Text(posting.source_ref.clone()),
                Value::Text(memo.to_string()),
                Value::Text(posted_by.clone()),
                Value::Int(now.micros()),
            ]);
            let amount = posting.amount.amount_minor;
            lines.push([
                Value::Int(entry_id),
                Value::Int(debit_id),
                Value::NullInt,
                Value::Static(currency),
                Value::Int(amount),
            ]);
            lines.push([
                Value::Int(entry_id),
                Value::Int(receivable_id),
                Value::Int(posting.account_id),
                Value::Static(currency),
                Value::Int(-amount),
            ]);
        }
        statements.flush(tx, &mut entries).await.map_err(LedgerError::from_insert)?;
        statements.flush(tx, &mut lines).await.map_err(|e| match e.is_foreign_key_violation() {
            true => LedgerError::AccountUnknown { field: "account_id" },
            false => LedgerError::Db(e),
        })?;
    }
    Ok(())
}

/// Subledger balances set-based from per-account sums, day totals per ledger account and date,
/// then settlement of the accounts that have something open.
async fn apply_balances(
    tx: &mut Tx,
    postings: &[PaymentPosting],
    entry_ids: &[i64],
    receivable_id: i64,
    debit_id: i64,
    now: Timestamp,
) -> Result<usize, LedgerError> {
    let mut per_account: HashMap<(i64, Currency), (i64, i64)> = HashMap::new();
    let mut per_day: BTreeMap<(&'static str, String), i64> = BTreeMap::new();
    for (posting, entry_id) in postings.iter().zip(entry_ids) {
        let slot = per_account.entry((posting.account_id, posting.amount.currency)).or_insert((0, 0));
        slot.0 += posting.amount.amount_minor;
        slot.1 = slot.1.max(*entry_id);
        *per_day.entry((posting.amount.currency.code(), posting.entry_date.to_string())).or_insert(0) +=
            posting.amount.amount_minor;
    }
    match tx.backend() {
        Backend::Sqlite => db::execute!(
            tx,
            "create temp table if not exists batch_payment_delta (account_id bigint, currency text, delta bigint)"
        )?,
        Backend::Postgres => db::execute!(
            tx,
            "create temp table if not exists batch_payment_delta (account_id bigint, currency text, delta bigint)
             on commit drop"
        )?,
    };
    db::execute!(tx, "delete from batch_payment_delta")?;
    let mut statements = Statements::new(tx.backend());
    let mut deltas = Rows::new("batch_payment_delta", "account_id, currency, delta");
    for ((account_id, currency), (total, _)) in &per_account {
        deltas.push([Value::Int(*account_id), Value::Static(currency.code()), Value::Int(total.saturating_neg())]);
    }
    statements.flush(tx, &mut deltas).await?;
    db::execute!(
        tx,
        "insert into subledger_balance (account_id, ledger_account_id, currency, balance_minor)
         select account_id, $1, currency, delta from batch_payment_delta where true
         on conflict (account_id, ledger_account_id, currency)
         do update set balance_minor = subledger_balance.balance_minor + excluded.balance_minor",
        receivable_id
    )?;
    for ((currency, date), total) in &per_day {
        store::add_to_day_total(tx, debit_id, currency, date, *total, 0).await?;
        store::add_to_day_total(tx, receivable_id, currency, date, 0, *total).await?;
    }
    let with_open: Vec<(i64, String)> = db::fetch_all!(
        tx,
        (i64, String),
        "select distinct o.account_id, o.currency from open_item o
         join batch_payment_delta d on d.account_id = o.account_id and d.currency = o.currency
         where o.open_minor > 0"
    )?;
    db::execute!(tx, "delete from batch_payment_delta")?;
    for (account_id, code) in &with_open {
        let currency = Currency::parse(code).map_err(|_| db::Error::Malformed("currency".into()))?;
        let entry_id = per_account.get(&(*account_id, currency)).map(|(_, e)| *e).unwrap_or_default();
        crate::ops::settle(tx, *account_id, currency, entry_id, now).await?;
    }
    Ok(with_open.len())
}
