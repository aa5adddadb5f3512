//! Bulk posting for payment files: many payment entries (Dr one ledger account, Cr a customer's
//! receivable) written with multi-row inserts in the caller's transaction, because a lockbox
//! file of a million lines through [`crate::ops::post`] one entry at a time would take minutes.
//! The same rules hold as for `post`: every entry is checked to balance, on the very values
//! about to be written, before anything is written, and the stored lines are counted and summed
//! again after; a source document already posted is refused; subledger balances and daily
//! totals stay exact; and every touched account with open items is settled oldest-due first.
//! The work is done in memory and written in few statements: one upsert row per account, the
//! open items of all touched accounts read with one query per thousand accounts, and the
//! settlements written back as one update and one insert per few thousand items.

use crate::LedgerError;
use crate::model::LedgerCode;
use crate::store;
use db::bulk::{Rows, Statements, Value};
use db::{Backend, Tx};
use kernel::{Actor, Currency, Money, Timestamp};
use std::collections::BTreeMap;

pub use db::bulk::marks;

/// One payment to post: Dr `debit_code` / Cr receivable of `account_id`.
#[derive(Debug, Clone)]
pub struct PaymentPosting {
    pub source_ref: String,
    pub account_id: i64,
    pub amount: Money,
    pub entry_date: crate::BusinessDate,
}

/// What the bulk posting wrote: the entry id of each posting, in order.
#[derive(Debug, Clone, Default)]
pub struct BatchPosted {
    pub entry_ids: Vec<i64>,
    pub settled_accounts: usize,
}

/// Postings written per round of statements: bounds the memory of the bound values, and the
/// next round is built while one is written.
const CHUNK: usize = 10_000;
/// Accounts whose open items one query reads.
const ACCOUNTS_PER_READ: usize = 1_000;

fn ledger_id(accounts: &[store::LedgerAccountRow], code: &str) -> Result<i64, LedgerError> {
    let found =
        accounts.iter().find(|a| a.code == code).ok_or(LedgerError::LedgerAccountUnknown { field: "ledger_code" })?;
    if !found.active {
        return Err(LedgerError::LedgerAccountInactive { field: "ledger_code" });
    }
    Ok(found.ledger_account_id)
}

fn count_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The rules a posting must keep before anything is written.
fn check_posting(posting: &PaymentPosting) -> Result<(), LedgerError> {
    if posting.amount.amount_minor <= 0 {
        return Err(LedgerError::LineAmountZero);
    }
    let length = posting.source_ref.chars().count();
    if length == 0 || length > 200 || posting.source_ref.chars().any(char::is_control) {
        return Err(LedgerError::TextInvalid { field: "source_ref" });
    }
    Ok(())
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
        check_posting(posting)?;
    }
    let accounts = store::ledger_accounts(tx).await?;
    let debit_id = ledger_id(&accounts, debit_code)?;
    let receivable_id = ledger_id(&accounts, LedgerCode::RECEIVABLE)?;
    if tx.backend() == Backend::Postgres {
        db::execute!(tx, "lock table journal_entry in exclusive mode")?;
    }
    let base = db::scalar!(tx, Option<i64>, "select max(entry_id) from journal_entry")?.unwrap_or(0);
    let lines_before = db::scalar!(tx, Option<i64>, "select max(line_id) from journal_line")?.unwrap_or(0);
    let entry_ids: Vec<i64> = (1..=count_i64(postings.len())).map(|i| base + i).collect();
    let ids = Ids { debit_id, receivable_id };
    write_entries(tx, actor, postings, &entry_ids, ids, memo, now).await?;
    // The invariant again where it is stored: exactly two lines an entry, summing to zero. The
    // new lines are the ones after the highest line id before (no other entry is written
    // meanwhile: SQLite has one writer, PostgreSQL holds the lock taken above), read in line id
    // order off the table itself; the entry range is checked on each (`+` keeps the planner off
    // the entry index, whose every hit would cost a second look-up for the amount).
    let last = base + count_i64(postings.len());
    let (stored_lines, stored_sum) = db::fetch_one!(
        tx,
        (i64, i64),
        "select count(*), coalesce(cast(sum(amount_minor) as bigint), 0) from journal_line
         where line_id > $1 and +entry_id > $2 and +entry_id <= $3",
        lines_before,
        base,
        last
    )?;
    if stored_lines != 2 * count_i64(postings.len()) || stored_sum != 0 {
        return Err(LedgerError::EntryUnbalanced);
    }
    if tx.backend() == Backend::Postgres {
        db::execute!(
            tx,
            "select setval(pg_get_serial_sequence('journal_entry', 'entry_id'),
                           (select max(entry_id) from journal_entry))"
        )?;
    }
    let settled_accounts = apply_balances(tx, postings, &entry_ids, ids, now).await?;
    Ok(BatchPosted { entry_ids, settled_accounts })
}

#[derive(Clone, Copy)]
struct Ids {
    debit_id: i64,
    receivable_id: i64,
}

/// The lines of one currency, written as two statements a round: the debit legs (all on the
/// debit ledger account) and the credit legs (all on receivable), so ledger account and
/// currency are bound once per statement. An entry's debit line still comes before its credit.
struct Legs {
    debits: Rows,
    credits: Rows,
}

impl Legs {
    fn new(ids: Ids, currency: &'static str) -> Legs {
        let leg = |ledger_account_id: i64, varying: &'static str| {
            Rows::new("journal_line", varying)
                .fixed("ledger_account_id", Value::Int(ledger_account_id))
                .fixed("currency", Value::Static(currency))
        };
        Legs {
            debits: leg(ids.debit_id, "entry_id, amount_minor"),
            credits: leg(ids.receivable_id, "entry_id, account_id, amount_minor"),
        }
    }
}

/// One round's rows: the entries, and the legs of each currency.
struct Round {
    entries: Rows,
    legs: BTreeMap<&'static str, Legs>,
}

impl Round {
    fn new(actor: &Actor, memo: &str, now: Timestamp) -> Round {
        let entries = Rows::new("journal_entry", "entry_id, entry_date, source_ref")
            .fixed("source_kind", Value::Static("payment"))
            .fixed("memo", Value::Text(memo.to_string()))
            .fixed("posted_by", Value::Text(actor.name()))
            .fixed("posted_at", Value::Int(now.micros()));
        Round { entries, legs: BTreeMap::new() }
    }

    /// Adds one chunk of postings. Each entry's lines are summed from the very values bound.
    fn push(
        &mut self,
        postings: &[PaymentPosting],
        entry_ids: &[i64],
        ids: Ids,
        dates: &mut Option<(crate::BusinessDate, std::sync::Arc<str>)>,
    ) -> Result<(), LedgerError> {
        for (posting, entry_id) in postings.iter().zip(entry_ids) {
            let currency = posting.amount.currency.code();
            let debit = posting.amount.amount_minor;
            let credit = debit.checked_neg().ok_or(LedgerError::AmountOverflow)?;
            if debit.checked_add(credit) != Some(0) || debit == 0 {
                return Err(LedgerError::EntryUnbalanced);
            }
            let date = crate::batch::shared_text(dates, posting.entry_date);
            self.entries.push([Value::Int(*entry_id), Value::Shared(date), Value::Text(posting.source_ref.clone())]);
            let leg = self.legs.entry(currency).or_insert_with(|| Legs::new(ids, currency));
            leg.debits.push([Value::Int(*entry_id), Value::Int(debit)]);
            leg.credits.push([Value::Int(*entry_id), Value::Int(posting.account_id), Value::Int(credit)]);
        }
        Ok(())
    }

    /// Writes the round: entries first, then each currency's debit and credit legs.
    async fn write(&mut self, statements: &mut Statements, tx: &mut Tx) -> Result<(), LedgerError> {
        statements.flush(tx, &mut self.entries).await.map_err(LedgerError::from_insert)?;
        for leg in self.legs.values_mut() {
            statements.flush(tx, &mut leg.debits).await?;
            statements.flush(tx, &mut leg.credits).await.map_err(|e| match e.is_foreign_key_violation() {
                true => LedgerError::AccountUnknown { field: "account_id" },
                false => LedgerError::Db(e),
            })?;
        }
        Ok(())
    }
}

/// Writes the entries and their lines, a round at a time; each round's rows are built while
/// the round before is written.
async fn write_entries(
    tx: &mut Tx,
    actor: &Actor,
    postings: &[PaymentPosting],
    entry_ids: &[i64],
    ids: Ids,
    memo: &str,
    now: Timestamp,
) -> Result<(), LedgerError> {
    let mut statements = Statements::new(tx.backend());
    let mut chunks = postings.chunks(CHUNK).zip(entry_ids.chunks(CHUNK));
    let mut dates = None;
    let mut round = Round::new(actor, memo, now);
    if let Some((chunk, chunk_ids)) = chunks.next() {
        round.push(chunk, chunk_ids, ids, &mut dates)?;
    }
    while !round.entries.is_empty() {
        let mut next = Round::new(actor, memo, now);
        let build = async {
            match chunks.next() {
                Some((chunk, chunk_ids)) => next.push(chunk, chunk_ids, ids, &mut dates),
                None => Ok(()),
            }
        };
        let (written, built) = tokio::join!(round.write(&mut statements, tx), build);
        written?;
        built?;
        round = next;
    }
    Ok(())
}

/// One touched account in one currency: what the batch moved and its newest entry.
#[derive(Debug, Clone, Copy, Default)]
struct Touched {
    delta_minor: i64,
    last_entry_id: i64,
    balance_minor: i64,
}

/// Subledger balances (one upsert row per account, in account order), day totals per ledger
/// account and date, then settlement of the accounts that have something open.
async fn apply_balances(
    tx: &mut Tx,
    postings: &[PaymentPosting],
    entry_ids: &[i64],
    ids: Ids,
    now: Timestamp,
) -> Result<usize, LedgerError> {
    let mut touched: BTreeMap<(i64, &'static str), Touched> = BTreeMap::new();
    let mut per_day: BTreeMap<(&'static str, crate::BusinessDate), i64> = BTreeMap::new();
    for (posting, entry_id) in postings.iter().zip(entry_ids) {
        let code = posting.amount.currency.code();
        let slot = touched.entry((posting.account_id, code)).or_default();
        slot.delta_minor =
            slot.delta_minor.checked_sub(posting.amount.amount_minor).ok_or(LedgerError::AmountOverflow)?;
        slot.last_entry_id = slot.last_entry_id.max(*entry_id);
        let day = per_day.entry((code, posting.entry_date)).or_insert(0);
        *day = day.checked_add(posting.amount.amount_minor).ok_or(LedgerError::AmountOverflow)?;
    }
    let mut statements = Statements::new(tx.backend());
    let mut upsert = Rows::new("subledger_balance", "account_id, currency, balance_minor")
        .fixed("ledger_account_id", Value::Int(ids.receivable_id))
        .suffix(
            " where true on conflict (account_id, ledger_account_id, currency)
         do update set balance_minor = subledger_balance.balance_minor + excluded.balance_minor
         returning account_id, currency, balance_minor",
        );
    for (&(account_id, code), slot) in &touched {
        upsert.push([Value::Int(account_id), Value::Static(code), Value::Int(slot.delta_minor)]);
    }
    for (account_id, code, balance) in statements.flush_returning::<(i64, String, i64)>(tx, &mut upsert).await? {
        if let Some(slot) = touched.get_mut(&(account_id, Currency::parse(&code).map(Currency::code).unwrap_or(""))) {
            slot.balance_minor = balance;
        }
    }
    for ((code, date), total) in &per_day {
        let date = date.to_string();
        store::add_to_day_total(tx, ids.debit_id, code, &date, *total, 0).await?;
        store::add_to_day_total(tx, ids.receivable_id, code, &date, 0, *total).await?;
    }
    settle_touched(tx, &touched, now).await
}

/// An open item with something left to pay, as settlement reads it.
#[derive(Debug, sqlx::FromRow)]
struct UnpaidRow {
    item_id: i64,
    account_id: i64,
    currency: String,
    open_minor: i64,
}

/// Settles the touched accounts' open items oldest-due first, computed in memory from one read
/// per thousand accounts. An account whose items add up to less than it owes (which a payment
/// alone never causes) goes through [`crate::ops::settle`], which also reopens.
async fn settle_touched(
    tx: &mut Tx,
    touched: &BTreeMap<(i64, &'static str), Touched>,
    now: Timestamp,
) -> Result<usize, LedgerError> {
    let account_ids: Vec<i64> = touched.keys().map(|(id, _)| *id).collect();
    let mut unpaid: BTreeMap<(i64, String), Vec<(i64, i64)>> = BTreeMap::new();
    for chunk in account_ids.chunks(ACCOUNTS_PER_READ) {
        for row in unpaid_items_of(tx, chunk).await? {
            unpaid.entry((row.account_id, row.currency)).or_default().push((row.item_id, row.open_minor));
        }
    }
    let mut reduce = Vec::new();
    let mut allocations =
        Rows::new("allocation", "item_id, entry_id, amount_minor").fixed("created_at", Value::Int(now.micros()));
    let mut reopen = Vec::new();
    for ((account_id, code), items) in &unpaid {
        let Some(slot) = touched.get(&(*account_id, Currency::parse(code).map(Currency::code).unwrap_or(""))) else {
            continue;
        };
        let open: i64 = items.iter().map(|(_, open)| *open).sum();
        let owed = slot.balance_minor.max(0);
        if open < owed {
            reopen.push((*account_id, code.clone(), slot.last_entry_id));
            continue;
        }
        let mut to_settle = open - owed;
        for (item_id, open_minor) in items {
            if to_settle == 0 {
                break;
            }
            let amount = (*open_minor).min(to_settle);
            reduce.push((*item_id, amount));
            allocations.push([Value::Int(*item_id), Value::Int(slot.last_entry_id), Value::Int(amount)]);
            to_settle -= amount;
        }
    }
    lower_open_items(tx, &reduce).await?;
    Statements::new(tx.backend()).flush(tx, &mut allocations).await?;
    for (account_id, code, entry_id) in reopen {
        let currency = Currency::parse(&code).map_err(|_| db::Error::Malformed("currency".into()))?;
        crate::ops::settle(tx, account_id, currency, entry_id, now).await?;
    }
    Ok(unpaid.len())
}

/// Many open items' open amounts lowered at once: `update open_item set open_minor =
/// open_minor - v.column2 from (values (item_id, amount), ..) as v where item_id = v.column1`.
async fn lower_open_items(tx: &mut Tx, settled: &[(i64, i64)]) -> Result<(), LedgerError> {
    const ITEMS_PER_STATEMENT: usize = 10_000;
    for chunk in settled.chunks(ITEMS_PER_STATEMENT) {
        let sql = format!(
            "update open_item set open_minor = open_minor - v.column2 from (values {}) as v
             where open_item.item_id = v.column1",
            db::bulk::tuples(tx.backend(), 1, chunk.len(), 2)
        );
        let values = chunk.iter().flat_map(|(item, amount)| [Value::Int(*item), Value::Int(*amount)]).collect();
        db::bulk::execute(tx, sql, values).await?;
    }
    Ok(())
}

/// The unpaid items of some accounts, each account's oldest due first.
async fn unpaid_items_of(tx: &mut Tx, account_ids: &[i64]) -> Result<Vec<UnpaidRow>, LedgerError> {
    let sql = format!(
        "select item_id, account_id, currency, open_minor from open_item
         where open_minor > 0 and account_id in ({}) order by account_id, currency, due_date, item_id",
        marks(tx.backend(), 1, account_ids.len())
    );
    let values = account_ids.iter().map(|id| Value::Int(*id)).collect();
    Ok(db::bulk::fetch_all::<UnpaidRow>(tx, sql, values).await?)
}
