//! Bulk posting for batch writers (bill runs): thousands of entries per transaction with a few
//! multi-row statements instead of several statements per line. The rules are those of
//! [`crate::ops::post`]: every draft is checked before anything is written, the line rows are
//! summed again per entry as they are built (the very values bound into the insert, so no read
//! back is needed), a source document already posted is refused (the unique key), and the
//! subledger balances and daily totals stay exact. Settlement is the caller's: call
//! [`crate::ops::settle`] for the accounts that were in credit before the batch.

use crate::LedgerError;
use crate::model::{BusinessDate, EntryDraft};
use crate::store;
use db::bulk::{Rows, Statements, Value};
use db::{Backend, Tx};
use kernel::{Actor, Money, Timestamp};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The open item an entry records (a bill that falls due).
#[derive(Debug, Clone)]
pub struct OpenItemDraft {
    pub account_id: i64,
    pub kind: &'static str,
    pub due_date: BusinessDate,
    pub amount: Money,
}

/// One entry to post, with the open item it records, if any.
#[derive(Debug, Clone)]
pub struct BatchItem {
    pub draft: EntryDraft,
    pub open_item: Option<OpenItemDraft>,
}

/// Posts every item in the caller's transaction; returns the entry ids in the items' order.
pub async fn post_many(
    tx: &mut Tx,
    actor: &Actor,
    items: &[BatchItem],
    now: Timestamp,
) -> Result<Vec<i64>, LedgerError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    for item in items {
        item.draft.check()?;
        let length = item.draft.source_ref.chars().count();
        if length == 0 || length > 200 || item.draft.source_ref.chars().any(char::is_control) {
            return Err(LedgerError::TextInvalid { field: "source_ref" });
        }
        if item.open_item.as_ref().is_some_and(|o| o.amount.amount_minor <= 0) {
            return Err(LedgerError::OpenItemAmountNotPositive);
        }
    }
    let accounts = store::ledger_accounts(tx).await?;
    let mut codes = BTreeMap::new();
    for account in &accounts {
        codes.insert(account.code.as_str(), (account.ledger_account_id, account.active));
    }
    let ids = allocate_entry_ids(tx, items.len()).await?;
    let mut rows = BatchRows::new(&actor.name(), now);
    for (item, entry_id) in items.iter().zip(&ids) {
        rows.add(item, *entry_id, &codes)?;
    }
    // The invariant again, over the line rows exactly as they are about to be written.
    if !rows.balanced() {
        return Err(LedgerError::EntryUnbalanced);
    }
    let mut statements = Statements::new(tx.backend());
    statements.flush(tx, &mut rows.entries).await.map_err(LedgerError::from_insert)?;
    statements.flush(tx, &mut rows.lines).await?;
    statements.flush(tx, &mut rows.items).await?;
    let mut balances = Rows::new("subledger_balance", "account_id, ledger_account_id, currency, balance_minor").suffix(
        " where true on conflict (account_id, ledger_account_id, currency)
         do update set balance_minor = subledger_balance.balance_minor + excluded.balance_minor",
    );
    for ((account_id, ledger_account_id, currency), amount) in &rows.subledger {
        if *amount != 0 {
            balances.push([
                Value::Int(*account_id),
                Value::Int(*ledger_account_id),
                Value::Static(currency),
                Value::Int(*amount),
            ]);
        }
    }
    statements.flush(tx, &mut balances).await?;
    for ((ledger_account_id, currency, date), (debit, credit)) in &rows.day_totals {
        let date = date.to_string();
        store::add_to_day_total(tx, *ledger_account_id, currency, &date, *debit, *credit).await?;
    }
    Ok(ids)
}

/// Entry ids for `count` new entries: on SQLite the one writer holds the lock, so the next ids
/// after the largest are free; on PostgreSQL they come from the identity sequence.
async fn allocate_entry_ids(tx: &mut Tx, count: usize) -> Result<Vec<i64>, LedgerError> {
    let count = i64::try_from(count).map_err(|_| LedgerError::AmountOverflow)?;
    Ok(match tx.backend() {
        Backend::Sqlite => {
            let max = db::scalar!(&mut *tx, Option<i64>, "select max(entry_id) from journal_entry")?.unwrap_or(0);
            (max + 1..=max + count).collect()
        }
        Backend::Postgres => db::fetch_all!(
            &mut *tx,
            (i64,),
            "select nextval(pg_get_serial_sequence('journal_entry', 'entry_id')) from generate_series(1, $1)",
            count
        )?
        .into_iter()
        .map(|(id,)| id)
        .collect(),
    })
}

type DayKey = (i64, &'static str, BusinessDate);

struct BatchRows {
    /// The last entry date and due date written, as text shared by the rows of that date.
    entry_date: Option<(BusinessDate, Arc<str>)>,
    due_date: Option<(BusinessDate, Arc<str>)>,
    entries: Rows,
    lines: Rows,
    items: Rows,
    /// (customer account, ledger account, currency) -> change
    subledger: BTreeMap<(i64, i64, &'static str), i64>,
    /// (ledger account, currency, date) -> (debits, credits)
    day_totals: BTreeMap<DayKey, (i64, i64)>,
    /// Entries whose line rows, as pushed, do not sum to zero in some currency.
    unbalanced: usize,
}

impl BatchRows {
    fn new(posted_by: &str, now: Timestamp) -> BatchRows {
        BatchRows {
            entry_date: None,
            due_date: None,
            entries: Rows::new("journal_entry", "entry_id, entry_date, source_kind, source_ref, memo")
                .fixed("posted_by", Value::Text(posted_by.to_owned()))
                .fixed("posted_at", Value::Int(now.micros())),
            lines: Rows::new("journal_line", "entry_id, ledger_account_id, account_id, currency, amount_minor"),
            items: Rows::new(
                "open_item",
                "account_id, entry_id, kind, source_ref, currency, due_date, amount_minor, open_minor",
            )
            .fixed("created_at", Value::Int(now.micros())),
            subledger: BTreeMap::new(),
            day_totals: BTreeMap::new(),
            unbalanced: 0,
        }
    }

    fn balanced(&self) -> bool {
        self.unbalanced == 0
    }

    fn add(&mut self, item: &BatchItem, entry_id: i64, codes: &BTreeMap<&str, (i64, bool)>) -> Result<(), LedgerError> {
        let draft = &item.draft;
        let date = draft.entry_date;
        let date_text = shared_text(&mut self.entry_date, date);
        self.entries.push([
            Value::Int(entry_id),
            Value::Shared(date_text),
            Value::Static(draft.source_kind),
            Value::Text(draft.source_ref.clone()),
            Value::Text(draft.memo.clone()),
        ]);
        let mut sums: BTreeMap<&'static str, i128> = BTreeMap::new();
        for line in &draft.lines {
            let (ledger_account_id, active) = codes
                .get(line.ledger_code.as_str())
                .copied()
                .ok_or(LedgerError::LedgerAccountUnknown { field: "ledger_code" })?;
            if !active {
                return Err(LedgerError::LedgerAccountInactive { field: "ledger_code" });
            }
            let currency = line.amount.currency.code();
            let amount = line.amount.amount_minor;
            *sums.entry(currency).or_insert(0) += i128::from(amount);
            self.lines.push([
                Value::Int(entry_id),
                Value::Int(ledger_account_id),
                line.account_id.map(Value::Int).unwrap_or(Value::NullInt),
                Value::Static(currency),
                Value::Int(amount),
            ]);
            if let Some(account_id) = line.account_id {
                *self.subledger.entry((account_id, ledger_account_id, currency)).or_insert(0) += amount;
            }
            let total = self.day_totals.entry((ledger_account_id, currency, date)).or_insert((0, 0));
            if amount > 0 {
                total.0 += amount;
            } else {
                total.1 -= amount;
            }
        }
        if sums.values().any(|sum| *sum != 0) {
            self.unbalanced += 1;
        }
        if let Some(open) = &item.open_item {
            self.items.push([
                Value::Int(open.account_id),
                Value::Int(entry_id),
                Value::Static(open.kind),
                Value::Text(draft.source_ref.clone()),
                Value::Static(open.amount.currency.code()),
                Value::Shared(shared_text(&mut self.due_date, open.due_date)),
                Value::Int(open.amount.amount_minor),
                Value::Int(open.amount.amount_minor),
            ]);
        }
        Ok(())
    }
}

/// The date as text, formatted once for a run of rows of the same date (every bulk writer's
/// date columns: bill runs, payment files).
pub fn shared_text(last: &mut Option<(BusinessDate, Arc<str>)>, date: BusinessDate) -> Arc<str> {
    match last {
        Some((day, text)) if *day == date => text.clone(),
        _ => {
            let text: Arc<str> = date.to_string().into();
            *last = Some((date, text.clone()));
            text
        }
    }
}
