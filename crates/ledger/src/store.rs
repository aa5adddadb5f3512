//! All of the ledger's SQL: the chart of accounts, entries and lines, subledger balances, daily
//! totals and open items.

use db::{Result, Tx};
use kernel::Timestamp;
use serde::Serialize;

/// One account of the chart.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct LedgerAccountRow {
    pub ledger_account_id: i64,
    pub code: String,
    pub name: String,
    /// asset, liability, equity, revenue or expense
    pub kind: String,
    pub active: bool,
}

/// A posted entry's header.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = JournalEntryRow)]
pub struct EntryRow {
    pub entry_id: i64,
    /// YYYY-MM-DD
    pub entry_date: String,
    pub source_kind: String,
    pub source_ref: String,
    pub memo: String,
    pub reverses_entry_id: Option<i64>,
    pub posted_by: String,
    /// Microseconds since the Unix epoch (UTC).
    pub posted_at: i64,
}

/// A posted line with its ledger account's code and name.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct LineRow {
    pub line_id: i64,
    pub entry_id: i64,
    pub ledger_code: String,
    pub ledger_name: String,
    pub account_id: Option<i64>,
    pub currency: String,
    /// Debit positive, credit negative.
    pub amount_minor: i64,
}

/// An open item: a charge with a due date and what is left of it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct OpenItemRow {
    pub item_id: i64,
    pub account_id: i64,
    pub entry_id: i64,
    pub kind: String,
    pub source_ref: String,
    pub currency: String,
    /// YYYY-MM-DD
    pub due_date: String,
    pub amount_minor: i64,
    pub open_minor: i64,
}

pub async fn ledger_accounts(tx: &mut Tx) -> Result<Vec<LedgerAccountRow>> {
    db::fetch_all!(
        tx,
        LedgerAccountRow,
        "select ledger_account_id, code, name, kind, active from ledger_account order by code"
    )
}

/// The chart's rows for the given codes only (posting resolves its lines' codes with this).
pub async fn ledger_accounts_by_code(tx: &mut Tx, codes: &[&str]) -> Result<Vec<LedgerAccountRow>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=codes.len()).map(|i| format!("${i}")).collect();
    let sql = sqlx::AssertSqlSafe(format!(
        "select ledger_account_id, code, name, kind, active from ledger_account where code in ({})",
        marks.join(", ")
    ));
    macro_rules! bound {
        ($query:expr) => {{
            let mut query = $query;
            for code in codes {
                query = query.bind(*code);
            }
            query
        }};
    }
    Ok(match tx {
        Tx::Sqlite(t) => bound!(sqlx::query_as::<_, LedgerAccountRow>(sql)).fetch_all(&mut **t).await?,
        Tx::Pg(t) => bound!(sqlx::query_as::<_, LedgerAccountRow>(sql)).fetch_all(&mut **t).await?,
    })
}

pub async fn insert_ledger_account(tx: &mut Tx, code: &str, name: &str, kind: &str, now: Timestamp) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into ledger_account (code, name, kind, active, created_at) values ($1, $2, $3, $4, $5)
         returning ledger_account_id",
        code,
        name,
        kind,
        true,
        now.micros()
    )
}

pub async fn update_ledger_account(tx: &mut Tx, code: &str, name: &str, active: bool) -> Result<u64> {
    db::execute!(tx, "update ledger_account set name = $1, active = $2 where code = $3", name, active, code)
}

pub async fn customer_account_exists(tx: &mut Tx, account_id: i64) -> Result<bool> {
    Ok(db::scalar_optional!(tx, i64, "select account_id from account where account_id = $1", account_id)?.is_some())
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_entry(
    tx: &mut Tx,
    entry_date: &str,
    source_kind: &str,
    source_ref: &str,
    memo: &str,
    reverses_entry_id: Option<i64>,
    posted_by: &str,
    now: Timestamp,
) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into journal_entry (entry_date, source_kind, source_ref, memo, reverses_entry_id, posted_by, posted_at)
         values ($1, $2, $3, $4, $5, $6, $7) returning entry_id",
        entry_date,
        source_kind,
        source_ref,
        memo,
        reverses_entry_id,
        posted_by,
        now.micros()
    )
}

pub async fn insert_line(
    tx: &mut Tx,
    entry_id: i64,
    ledger_account_id: i64,
    account_id: Option<i64>,
    currency: &str,
    amount_minor: i64,
) -> Result<()> {
    db::execute!(
        tx,
        "insert into journal_line (entry_id, ledger_account_id, account_id, currency, amount_minor)
         values ($1, $2, $3, $4, $5)",
        entry_id,
        ledger_account_id,
        account_id,
        currency,
        amount_minor
    )?;
    Ok(())
}

/// A line to insert with its entry.
pub struct NewLine<'a> {
    pub ledger_account_id: i64,
    pub account_id: Option<i64>,
    pub currency: &'a str,
    pub amount_minor: i64,
}

/// Inserts an entry's lines in one statement; answers each stored line's (currency, amount),
/// so the caller checks the balance on what the database holds.
pub async fn insert_lines(tx: &mut Tx, entry_id: i64, lines: &[NewLine<'_>]) -> Result<Vec<(String, i64)>> {
    let backend = tx.backend();
    let tuples: Vec<String> = (0..lines.len())
        .map(|i| match backend {
            db::Backend::Sqlite => "(?, ?, ?, ?, ?)".to_string(),
            db::Backend::Postgres => {
                let n = i * 5;
                format!("(${}, ${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4, n + 5)
            }
        })
        .collect();
    let sql = sqlx::AssertSqlSafe(format!(
        "insert into journal_line (entry_id, ledger_account_id, account_id, currency, amount_minor)
         values {} returning currency, amount_minor",
        tuples.join(", ")
    ));
    macro_rules! bound {
        ($query:expr) => {{
            let mut query = $query;
            for line in lines {
                query = query
                    .bind(entry_id)
                    .bind(line.ledger_account_id)
                    .bind(line.account_id)
                    .bind(line.currency)
                    .bind(line.amount_minor);
            }
            query
        }};
    }
    Ok(match tx {
        Tx::Sqlite(t) => bound!(sqlx::query_as::<_, (String, i64)>(sql)).fetch_all(&mut **t).await?,
        Tx::Pg(t) => bound!(sqlx::query_as::<_, (String, i64)>(sql)).fetch_all(&mut **t).await?,
    })
}

/// A journal entry's own row.
pub struct EntryHeader<'a> {
    pub entry_date: &'a str,
    pub source_kind: &'a str,
    pub source_ref: &'a str,
    pub memo: &'a str,
    pub reverses_entry_id: Option<i64>,
    pub posted_by: &'a str,
    pub posted_at: i64,
}

/// An entry with everything posting writes for it, ledger accounts named by code, for
/// [`post_entry_at_once`].
pub struct EntryWrite<'a> {
    pub header: &'a EntryHeader<'a>,
    /// (ledger code, customer account, currency, amount)
    pub lines: &'a [(&'a str, Option<i64>, &'a str, i64)],
    /// (customer account, ledger code, currency, change), one per key.
    pub subledger: &'a [(i64, &'a str, &'a str, i64)],
    /// (ledger code, currency, debits, credits) for the entry's date.
    pub day_totals: &'a [(&'a str, &'a str, i64, i64)],
}

/// The id of the active ledger account with the code bound at `$n`; NULL (which the NOT NULL
/// columns refuse) for an unknown or inactive code.
fn ledger_id(n: usize) -> String {
    format!("(select ledger_account_id from ledger_account where code = ${n} and active <> 0)")
}

/// SQLite only: writes the entry, its lines, the subledger balances and the day totals as one
/// command to the writer (each command is a hand-off to its thread, and a payment posts one
/// entry), inside a savepoint that is undone if any part fails, so nothing is half-written.
/// Answers the stored lines summed per currency, (entry id, currency, sum, line count), read
/// back from the table, so the caller checks the balance on what the database holds.
pub async fn post_entry_at_once(tx: &mut Tx, entry: &EntryWrite<'_>) -> Result<Vec<(i64, String, i64, i64)>> {
    use std::fmt::Write as _;
    let mut sql = String::from(
        "savepoint ledger_post;
         insert into journal_entry (entry_date, source_kind, source_ref, memo, reverses_entry_id, posted_by,
                                    posted_at)
         values ($1, $2, $3, $4, $5, $6, $7);
         insert into journal_line (entry_id, ledger_account_id, account_id, currency, amount_minor) values ",
    );
    // The entry's id is looked up by its source (unique): last_insert_rowid() would move on
    // with every line inserted.
    let mut n = 7;
    for i in 0..entry.lines.len() {
        let sep = if i == 0 { "" } else { ", " };
        let _ = write!(
            sql,
            "{sep}((select entry_id from journal_entry where source_kind = $2 and source_ref = $3), {}, ${}, ${}, ${})",
            ledger_id(n + 1),
            n + 2,
            n + 3,
            n + 4
        );
        n += 4;
    }
    if !entry.subledger.is_empty() {
        sql.push_str(
            ";\n insert into subledger_balance (account_id, ledger_account_id, currency, balance_minor) values ",
        );
        for i in 0..entry.subledger.len() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(sql, "{sep}(${}, {}, ${}, ${})", n + 1, ledger_id(n + 2), n + 3, n + 4);
            n += 4;
        }
        sql.push_str(
            " on conflict (account_id, ledger_account_id, currency)
             do update set balance_minor = subledger_balance.balance_minor + excluded.balance_minor",
        );
    }
    if !entry.day_totals.is_empty() {
        sql.push_str(
            ";\n insert into ledger_day_total (ledger_account_id, currency, entry_date, debit_minor, credit_minor)
             values ",
        );
        for i in 0..entry.day_totals.len() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(sql, "{sep}({}, ${}, $1, ${}, ${})", ledger_id(n + 1), n + 2, n + 3, n + 4);
            n += 4;
        }
        sql.push_str(
            " on conflict (ledger_account_id, currency, entry_date)
             do update set debit_minor = ledger_day_total.debit_minor + excluded.debit_minor,
                           credit_minor = ledger_day_total.credit_minor + excluded.credit_minor",
        );
    }
    sql.push_str(
        ";\n release ledger_post;
         select e.entry_id, l.currency, cast(sum(l.amount_minor) as bigint), count(*)
         from journal_entry e join journal_line l on l.entry_id = e.entry_id
         where e.source_kind = $2 and e.source_ref = $3
         group by e.entry_id, l.currency",
    );
    let Tx::Sqlite(t) = tx else {
        return Err(db::Error::Malformed("post_entry_at_once is for SQLite".into()));
    };
    let h = entry.header;
    let mut query = sqlx::query_as::<_, (i64, String, i64, i64)>(sqlx::AssertSqlSafe(sql))
        .bind(h.entry_date)
        .bind(h.source_kind)
        .bind(h.source_ref)
        .bind(h.memo)
        .bind(h.reverses_entry_id)
        .bind(h.posted_by)
        .bind(h.posted_at);
    for (code, account_id, currency, amount) in entry.lines {
        query = query.bind(*code).bind(*account_id).bind(*currency).bind(*amount);
    }
    for (account_id, code, currency, delta) in entry.subledger {
        query = query.bind(*account_id).bind(*code).bind(*currency).bind(*delta);
    }
    for (code, currency, debit, credit) in entry.day_totals {
        query = query.bind(*code).bind(*currency).bind(*debit).bind(*credit);
    }
    match query.fetch_all(&mut **t).await {
        Ok(sums) => Ok(sums),
        Err(error) => {
            // Nothing of the entry stays behind. The caller sees the first error either way: if
            // undoing fails too, the transaction is beyond use and the caller's rollback ends it.
            let _ = sqlx::query("rollback to ledger_post; release ledger_post").execute(&mut **t).await;
            Err(error.into())
        }
    }
}

/// Adds `delta_minor` to a customer account's balance on one ledger account.
pub async fn add_to_subledger(
    tx: &mut Tx,
    account_id: i64,
    ledger_account_id: i64,
    currency: &str,
    delta_minor: i64,
) -> Result<()> {
    db::execute!(
        tx,
        "insert into subledger_balance (account_id, ledger_account_id, currency, balance_minor)
         values ($1, $2, $3, $4)
         on conflict (account_id, ledger_account_id, currency)
         do update set balance_minor = subledger_balance.balance_minor + excluded.balance_minor",
        account_id,
        ledger_account_id,
        currency,
        delta_minor
    )?;
    Ok(())
}

/// Adds debits and credits to one ledger account's total for a day.
pub async fn add_to_day_total(
    tx: &mut Tx,
    ledger_account_id: i64,
    currency: &str,
    entry_date: &str,
    debit_minor: i64,
    credit_minor: i64,
) -> Result<()> {
    db::execute!(
        tx,
        "insert into ledger_day_total (ledger_account_id, currency, entry_date, debit_minor, credit_minor)
         values ($1, $2, $3, $4, $5)
         on conflict (ledger_account_id, currency, entry_date)
         do update set debit_minor = ledger_day_total.debit_minor + excluded.debit_minor,
                       credit_minor = ledger_day_total.credit_minor + excluded.credit_minor",
        ledger_account_id,
        currency,
        entry_date,
        debit_minor,
        credit_minor
    )?;
    Ok(())
}

/// Adds one entry's debits and credits to the day totals of each ledger account it touches:
/// (ledger_account_id, currency, debit, credit), one upsert statement for all.
pub async fn add_to_day_totals(tx: &mut Tx, entry_date: &str, totals: &[(i64, &str, i64, i64)]) -> Result<()> {
    if totals.is_empty() {
        return Ok(());
    }
    let backend = tx.backend();
    let tuples: Vec<String> = (0..totals.len())
        .map(|i| match backend {
            db::Backend::Sqlite => "(?, ?, ?, ?, ?)".to_string(),
            db::Backend::Postgres => {
                let n = i * 5;
                format!("(${}, ${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4, n + 5)
            }
        })
        .collect();
    let sql = sqlx::AssertSqlSafe(format!(
        "insert into ledger_day_total (ledger_account_id, currency, entry_date, debit_minor, credit_minor)
         values {}
         on conflict (ledger_account_id, currency, entry_date)
         do update set debit_minor = ledger_day_total.debit_minor + excluded.debit_minor,
                       credit_minor = ledger_day_total.credit_minor + excluded.credit_minor",
        tuples.join(", ")
    ));
    macro_rules! bound {
        ($query:expr) => {{
            let mut query = $query;
            for (ledger_account_id, currency, debit, credit) in totals {
                query = query.bind(*ledger_account_id).bind(*currency).bind(entry_date).bind(*debit).bind(*credit);
            }
            query
        }};
    }
    match tx {
        Tx::Sqlite(t) => {
            bound!(sqlx::query(sql)).execute(&mut **t).await?;
        }
        Tx::Pg(t) => {
            bound!(sqlx::query(sql)).execute(&mut **t).await?;
        }
    }
    Ok(())
}

/// The sums of an entry's stored lines per currency that are not zero (there should be none).
pub async fn unbalanced_currencies(tx: &mut Tx, entry_id: i64) -> Result<Vec<(String, i64)>> {
    db::fetch_all!(
        tx,
        (String, i64),
        "select currency, cast(sum(amount_minor) as bigint) from journal_line where entry_id = $1
         group by currency having sum(amount_minor) <> 0",
        entry_id
    )
}

pub async fn find_entry(tx: &mut Tx, entry_id: i64) -> Result<Option<EntryRow>> {
    db::fetch_optional!(
        tx,
        EntryRow,
        "select entry_id, entry_date, source_kind, source_ref, memo, reverses_entry_id, posted_by, posted_at
         from journal_entry where entry_id = $1",
        entry_id
    )
}

pub async fn find_entry_by_source(tx: &mut Tx, source_kind: &str, source_ref: &str) -> Result<Option<EntryRow>> {
    db::fetch_optional!(
        tx,
        EntryRow,
        "select entry_id, entry_date, source_kind, source_ref, memo, reverses_entry_id, posted_by, posted_at
         from journal_entry where source_kind = $1 and source_ref = $2",
        source_kind,
        source_ref
    )
}

pub async fn reversal_of(tx: &mut Tx, entry_id: i64) -> Result<Option<i64>> {
    db::scalar_optional!(tx, i64, "select entry_id from journal_entry where reverses_entry_id = $1", entry_id)
}

pub async fn entry_lines(tx: &mut Tx, entry_id: i64) -> Result<Vec<LineRow>> {
    db::fetch_all!(
        tx,
        LineRow,
        "select l.line_id, l.entry_id, a.code as ledger_code, a.name as ledger_name, l.account_id, l.currency,
                l.amount_minor
         from journal_line l join ledger_account a on a.ledger_account_id = l.ledger_account_id
         where l.entry_id = $1 order by l.line_id",
        entry_id
    )
}

pub async fn subledger_balance(tx: &mut Tx, account_id: i64, ledger_code: &str, currency: &str) -> Result<i64> {
    Ok(db::scalar_optional!(
        tx,
        i64,
        "select b.balance_minor from subledger_balance b
         join ledger_account a on a.ledger_account_id = b.ledger_account_id
         where b.account_id = $1 and a.code = $2 and b.currency = $3",
        account_id,
        ledger_code,
        currency
    )?
    .unwrap_or(0))
}

/// An account's balance on one ledger account and the total its open items still hold, read
/// together (settlement needs both).
pub async fn balance_and_open_total(
    tx: &mut Tx,
    account_id: i64,
    ledger_code: &str,
    currency: &str,
) -> Result<(i64, i64)> {
    db::fetch_one!(
        tx,
        (i64, i64),
        "select coalesce((select b.balance_minor from subledger_balance b
                          join ledger_account a on a.ledger_account_id = b.ledger_account_id
                          where b.account_id = $1 and a.code = $2 and b.currency = $3), 0),
                coalesce((select cast(sum(open_minor) as bigint) from open_item
                          where account_id = $1 and currency = $3), 0)",
        account_id,
        ledger_code,
        currency
    )
}

pub async fn insert_open_item(tx: &mut Tx, item: &OpenItemRow, now: Timestamp) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into open_item (account_id, entry_id, kind, source_ref, currency, due_date, amount_minor, open_minor,
                                created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $7, $8) returning item_id",
        item.account_id,
        item.entry_id,
        &item.kind,
        &item.source_ref,
        &item.currency,
        &item.due_date,
        item.amount_minor,
        now.micros()
    )
}

const SELECT_ITEMS: &str = "select item_id, account_id, entry_id, kind, source_ref, currency, due_date, amount_minor, \
     open_minor from open_item";

/// Items with something left to pay, oldest due first.
pub async fn unpaid_items(tx: &mut Tx, account_id: i64, currency: &str) -> Result<Vec<OpenItemRow>> {
    let sql =
        format!("{SELECT_ITEMS} where account_id = $1 and currency = $2 and open_minor > 0 order by due_date, item_id");
    db::fetch_all!(tx, OpenItemRow, sqlx::AssertSqlSafe(sql), account_id, currency)
}

/// Items settled wholly or in part, newest due first (the order a reversal reopens them).
pub async fn settled_items(tx: &mut Tx, account_id: i64, currency: &str) -> Result<Vec<OpenItemRow>> {
    let sql = format!(
        "{SELECT_ITEMS} where account_id = $1 and currency = $2 and open_minor < amount_minor
         order by due_date desc, item_id desc"
    );
    db::fetch_all!(tx, OpenItemRow, sqlx::AssertSqlSafe(sql), account_id, currency)
}

/// Every item of an account, newest due first.
pub async fn account_items(tx: &mut Tx, account_id: i64, limit: i64) -> Result<Vec<OpenItemRow>> {
    let sql = format!("{SELECT_ITEMS} where account_id = $1 order by due_date desc, item_id desc limit $2");
    db::fetch_all!(tx, OpenItemRow, sqlx::AssertSqlSafe(sql), account_id, limit)
}

pub async fn open_total(tx: &mut Tx, account_id: i64, currency: &str) -> Result<i64> {
    Ok(db::scalar!(
        tx,
        Option<i64>,
        "select cast(sum(open_minor) as bigint) from open_item where account_id = $1 and currency = $2",
        account_id,
        currency
    )?
    .unwrap_or(0))
}

/// Moves an item's open amount by `-settled_minor` and records the allocation, in one
/// statement (every payment that pays a bill makes this call).
pub async fn allocate(tx: &mut Tx, item_id: i64, entry_id: i64, settled_minor: i64, now: Timestamp) -> Result<()> {
    // The rows written: the item and the allocation on SQLite, the allocation on PostgreSQL.
    let (sql, expected) = match tx.backend() {
        db::Backend::Sqlite => (
            "update open_item set open_minor = open_minor - $1 where item_id = $2;
             insert into allocation (item_id, entry_id, amount_minor, created_at) values ($2, $3, $1, $4)",
            2,
        ),
        db::Backend::Postgres => (
            "with moved as (update open_item set open_minor = open_minor - $1 where item_id = $2 returning item_id)
             insert into allocation (item_id, entry_id, amount_minor, created_at)
             select item_id, $3, $1, $4 from moved",
            1,
        ),
    };
    let written = db::execute!(tx, sql, settled_minor, item_id, entry_id, now.micros())?;
    if written != expected {
        return Err(db::Error::Malformed(format!("open item {item_id} was not found to allocate to")));
    }
    Ok(())
}

/// One unpaid item as settlement needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UnpaidRow {
    pub balance_minor: i64,
    pub open_total_minor: i64,
    pub item_id: Option<i64>,
    pub source_ref: Option<String>,
    pub open_minor: Option<i64>,
}

/// An account's balance on one ledger account, the total its open items hold, and its unpaid
/// items oldest due first, in one read: each row carries the two totals, and an account with
/// nothing unpaid answers one row without an item.
pub async fn balance_and_unpaid(
    tx: &mut Tx,
    account_id: i64,
    ledger_code: &str,
    currency: &str,
) -> Result<Vec<UnpaidRow>> {
    db::fetch_all!(
        tx,
        UnpaidRow,
        "select t.balance_minor, t.open_total_minor, i.item_id, i.source_ref, i.open_minor
         from (select coalesce((select b.balance_minor from subledger_balance b
                                join ledger_account a on a.ledger_account_id = b.ledger_account_id
                                where b.account_id = $1 and a.code = $2 and b.currency = $3), 0)
                          as balance_minor,
                      coalesce((select cast(sum(o.open_minor) as bigint) from open_item o
                                where o.account_id = $1 and o.currency = $3), 0) as open_total_minor) t
         left join open_item i on i.account_id = $1 and i.currency = $3 and i.open_minor > 0
         order by i.due_date, i.item_id",
        account_id,
        ledger_code,
        currency
    )
}
