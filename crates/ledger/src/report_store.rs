//! The SQL behind the reports, the journal listing and the integrity check: read-only queries
//! over the ledger's tables, kept apart from `store.rs` (the posting path other modules share).

use db::{Result, Tx};
use serde::Serialize;

/// A ledger account's debits and credits summed over days, in one currency.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SummedRow {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub currency: String,
    pub debit_minor: Option<i64>,
    pub credit_minor: Option<i64>,
}

/// One day's totals of one ledger account (the export's row).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayRow {
    pub entry_date: String,
    pub code: String,
    pub name: String,
    pub currency: String,
    pub debit_minor: i64,
    pub credit_minor: i64,
}

/// Sums of `ledger_day_total` per ledger account and currency up to and including `as_of`.
pub async fn trial_balance(tx: &mut Tx, as_of: &str) -> Result<Vec<SummedRow>> {
    db::fetch_all!(
        tx,
        SummedRow,
        "select a.code, a.name, a.kind, t.currency,
                cast(sum(t.debit_minor) as bigint) as debit_minor, cast(sum(t.credit_minor) as bigint) as credit_minor
         from ledger_day_total t join ledger_account a on a.ledger_account_id = t.ledger_account_id
         where t.entry_date <= $1
         group by a.code, a.name, a.kind, t.currency
         order by a.code, t.currency",
        as_of
    )
}

/// Day totals between two dates inclusive, by date then code.
pub async fn day_totals(tx: &mut Tx, from: &str, to: &str) -> Result<Vec<DayRow>> {
    db::fetch_all!(
        tx,
        DayRow,
        "select t.entry_date, a.code, a.name, t.currency, t.debit_minor, t.credit_minor
         from ledger_day_total t join ledger_account a on a.ledger_account_id = t.ledger_account_id
         where t.entry_date >= $1 and t.entry_date <= $2 and (t.debit_minor <> 0 or t.credit_minor <> 0)
         order by t.entry_date, a.code, t.currency",
        from,
        to
    )
}

/// An entry header with the sum of its debits, for the journal list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct EntrySummary {
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

/// Entries newest first (by id) before `before_id`, optionally within dates and of one kind.
pub async fn entries(
    tx: &mut Tx,
    before_id: i64,
    from: &str,
    to: &str,
    source_kind: Option<&str>,
    limit: i64,
) -> Result<Vec<EntrySummary>> {
    db::fetch_all!(
        tx,
        EntrySummary,
        "select entry_id, entry_date, source_kind, source_ref, memo, reverses_entry_id, posted_by, posted_at
         from journal_entry
         where entry_id < $1 and entry_date >= $2 and entry_date <= $3 and ($4 is null or source_kind = $4)
         order by entry_id desc limit $5",
        before_id,
        from,
        to,
        source_kind,
        limit
    )
}

pub async fn count_entries_of_kind(tx: &mut Tx, source_kind: &str) -> Result<i64> {
    db::scalar!(tx, i64, "select count(*) from journal_entry where source_kind = $1", source_kind)
}

/// A customer account's line with its entry's date and source.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AccountLineRow {
    pub line_id: i64,
    pub entry_id: i64,
    /// YYYY-MM-DD
    pub entry_date: String,
    pub source_kind: String,
    pub source_ref: String,
    pub ledger_code: String,
    pub currency: String,
    /// Positive raises what the customer owes (or, on deposits held, lowers the deposit).
    pub amount_minor: i64,
}

pub async fn account_lines(tx: &mut Tx, account_id: i64, before_id: i64, limit: i64) -> Result<Vec<AccountLineRow>> {
    db::fetch_all!(
        tx,
        AccountLineRow,
        "select l.line_id, l.entry_id, e.entry_date, e.source_kind, e.source_ref, a.code as ledger_code, l.currency,
                l.amount_minor
         from journal_line l
         join journal_entry e on e.entry_id = l.entry_id
         join ledger_account a on a.ledger_account_id = l.ledger_account_id
         where l.account_id = $1 and l.line_id < $2
         order by l.line_id desc limit $3",
        account_id,
        before_id,
        limit
    )
}

/// Sum of an account's lines newer than `after_id`, per ledger code and currency.
pub async fn account_sums_after(tx: &mut Tx, account_id: i64, after_id: i64) -> Result<Vec<(String, String, i64)>> {
    db::fetch_all!(
        tx,
        (String, String, i64),
        "select a.code, l.currency, cast(sum(l.amount_minor) as bigint)
         from journal_line l join ledger_account a on a.ledger_account_id = l.ledger_account_id
         where l.account_id = $1 and l.line_id > $2
         group by a.code, l.currency",
        account_id,
        after_id
    )
}

/// A customer account's balances per ledger code and currency.
pub async fn account_balances(tx: &mut Tx, account_id: i64) -> Result<Vec<(String, String, i64)>> {
    db::fetch_all!(
        tx,
        (String, String, i64),
        "select a.code, b.currency, b.balance_minor
         from subledger_balance b join ledger_account a on a.ledger_account_id = b.ledger_account_id
         where b.account_id = $1 order by a.code, b.currency",
        account_id
    )
}

pub async fn account_open_totals(tx: &mut Tx, account_id: i64) -> Result<Vec<(String, i64)>> {
    db::fetch_all!(
        tx,
        (String, i64),
        "select currency, cast(sum(open_minor) as bigint) from open_item where account_id = $1
         group by currency order by currency",
        account_id
    )
}

/// The bucket boundaries of aging as dates: an item due on or after `bounds[0]` is current, on
/// or after `bounds[1]` is 1–30 days past due, and so on; older is 120+.
pub struct AgingBounds<'a> {
    pub bounds: [&'a str; 5],
}

/// Open amounts per currency and bucket (0 = current … 5 = 120+).
pub async fn aging_totals(tx: &mut Tx, b: &AgingBounds<'_>) -> Result<Vec<(String, i64, i64, i64)>> {
    let [b0, b1, b2, b3, b4] = b.bounds;
    db::fetch_all!(
        tx,
        (String, i64, i64, i64),
        "select currency, bucket, cast(sum(open_minor) as bigint), count(*) from (
             select currency, open_minor,
                    cast(case when due_date >= $1 then 0 when due_date >= $2 then 1 when due_date >= $3 then 2
                         when due_date >= $4 then 3 when due_date >= $5 then 4 else 5 end as bigint) as bucket
             from open_item where open_minor > 0) o
         group by currency, bucket order by currency, bucket",
        b0,
        b1,
        b2,
        b3,
        b4
    )
}

/// One customer account's open amounts by bucket.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AgingAccountRow {
    pub account_id: i64,
    pub account_number: String,
    pub currency: String,
    pub current_minor: i64,
    pub days_1_30_minor: i64,
    pub days_31_60_minor: i64,
    pub days_61_90_minor: i64,
    pub days_91_120_minor: i64,
    pub over_120_minor: i64,
    pub total_minor: i64,
}

/// Accounts with the most open, largest first, a page at a time by offset.
pub async fn aging_accounts(tx: &mut Tx, b: &AgingBounds<'_>, offset: i64, limit: i64) -> Result<Vec<AgingAccountRow>> {
    let [b0, b1, b2, b3, b4] = b.bounds;
    db::fetch_all!(
        tx,
        AgingAccountRow,
        "select o.account_id, a.account_number, o.currency,
                cast(sum(case when o.due_date >= $1 then o.open_minor else 0 end) as bigint) as current_minor,
                cast(sum(case when o.due_date < $1 and o.due_date >= $2 then o.open_minor else 0 end) as bigint)
                    as days_1_30_minor,
                cast(sum(case when o.due_date < $2 and o.due_date >= $3 then o.open_minor else 0 end) as bigint)
                    as days_31_60_minor,
                cast(sum(case when o.due_date < $3 and o.due_date >= $4 then o.open_minor else 0 end) as bigint)
                    as days_61_90_minor,
                cast(sum(case when o.due_date < $4 and o.due_date >= $5 then o.open_minor else 0 end) as bigint)
                    as days_91_120_minor,
                cast(sum(case when o.due_date < $5 then o.open_minor else 0 end) as bigint) as over_120_minor,
                cast(sum(o.open_minor) as bigint) as total_minor
         from open_item o join account a on a.account_id = o.account_id
         where o.open_minor > 0
         group by o.account_id, a.account_number, o.currency
         order by total_minor desc, o.account_id, o.currency
         limit $6 offset $7",
        b0,
        b1,
        b2,
        b3,
        b4,
        limit,
        offset
    )
}

/// Counts of entries and lines, for the integrity report.
pub async fn counts(tx: &mut Tx) -> Result<(i64, i64)> {
    db::fetch_one!(tx, (i64, i64), "select (select count(*) from journal_entry), (select count(*) from journal_line)")
}

/// Entries whose lines do not sum to zero in some currency: (entry_id, currency, sum).
pub async fn unbalanced_entries(tx: &mut Tx) -> Result<Vec<(i64, String, i64)>> {
    db::fetch_all!(
        tx,
        (i64, String, i64),
        "select entry_id, currency, cast(sum(amount_minor) as bigint) from journal_line
         group by entry_id, currency having sum(amount_minor) <> 0 order by entry_id, currency"
    )
}

/// Entries without any line.
pub async fn entries_without_lines(tx: &mut Tx) -> Result<Vec<i64>> {
    db::fetch_all!(
        tx,
        (i64,),
        "select e.entry_id from journal_entry e
         where not exists (select 1 from journal_line l where l.entry_id = e.entry_id) order by e.entry_id"
    )
    .map(|rows| rows.into_iter().map(|(id,)| id).collect())
}

/// Subledger balances that differ from the sum of their lines, and sums of lines without a
/// balance row: (account_id, ledger code, currency, stored balance or None, sum of lines).
pub async fn subledger_mismatches(tx: &mut Tx) -> Result<Vec<(i64, String, String, Option<i64>, i64)>> {
    db::fetch_all!(
        tx,
        (i64, String, String, Option<i64>, i64),
        "with s as (select account_id, ledger_account_id, currency, cast(sum(amount_minor) as bigint) as total
                    from journal_line where account_id is not null
                    group by account_id, ledger_account_id, currency)
         select s.account_id, a.code, s.currency, b.balance_minor, s.total
         from s
         join ledger_account a on a.ledger_account_id = s.ledger_account_id
         left join subledger_balance b on b.account_id = s.account_id
              and b.ledger_account_id = s.ledger_account_id and b.currency = s.currency
         where b.balance_minor is null or b.balance_minor <> s.total
         union all
         select b.account_id, a.code, b.currency, b.balance_minor, 0
         from subledger_balance b join ledger_account a on a.ledger_account_id = b.ledger_account_id
         where b.balance_minor <> 0 and not exists (select 1 from s where s.account_id = b.account_id
               and s.ledger_account_id = b.ledger_account_id and s.currency = b.currency)
         order by 1, 2, 3"
    )
}

/// Day totals that differ from the lines of that day: (code, currency, date, stored debit,
/// stored credit, line debit, line credit); a missing side shows as zero.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayMismatch {
    pub code: String,
    pub currency: String,
    pub entry_date: String,
    pub stored_debit: i64,
    pub stored_credit: i64,
    pub line_debit: i64,
    pub line_credit: i64,
}

pub async fn day_total_mismatches(tx: &mut Tx) -> Result<Vec<DayMismatch>> {
    db::fetch_all!(
        tx,
        DayMismatch,
        "with s as (
             select l.ledger_account_id, l.currency, e.entry_date,
                    cast(sum(case when l.amount_minor > 0 then l.amount_minor else 0 end) as bigint) as debit,
                    cast(sum(case when l.amount_minor < 0 then -l.amount_minor else 0 end) as bigint) as credit
             from journal_line l join journal_entry e on e.entry_id = l.entry_id
             group by l.ledger_account_id, l.currency, e.entry_date),
         k as (
             select ledger_account_id, currency, entry_date from s
             union
             select ledger_account_id, currency, entry_date from ledger_day_total)
         select a.code, k.currency, k.entry_date,
                coalesce(t.debit_minor, 0) as stored_debit, coalesce(t.credit_minor, 0) as stored_credit,
                coalesce(s.debit, 0) as line_debit, coalesce(s.credit, 0) as line_credit
         from k
         join ledger_account a on a.ledger_account_id = k.ledger_account_id
         left join s on s.ledger_account_id = k.ledger_account_id and s.currency = k.currency
              and s.entry_date = k.entry_date
         left join ledger_day_total t on t.ledger_account_id = k.ledger_account_id and t.currency = k.currency
              and t.entry_date = k.entry_date
         where coalesce(t.debit_minor, 0) <> coalesce(s.debit, 0)
            or coalesce(t.credit_minor, 0) <> coalesce(s.credit, 0)
         order by k.entry_date, a.code, k.currency"
    )
}

/// Open items whose open amount is outside 0..=amount: (item_id, account_id, amount, open).
pub async fn items_out_of_range(tx: &mut Tx) -> Result<Vec<(i64, i64, i64, i64)>> {
    db::fetch_all!(
        tx,
        (i64, i64, i64, i64),
        "select item_id, account_id, amount_minor, open_minor from open_item
         where open_minor < 0 or open_minor > amount_minor order by item_id"
    )
}

/// Per account and currency, the open total against the receivable balance, where they differ
/// from `open = max(balance, 0)`: (account_id, currency, open total, receivable balance).
pub async fn open_mismatches(tx: &mut Tx, receivable_code: &str) -> Result<Vec<(i64, String, i64, i64)>> {
    db::fetch_all!(
        tx,
        (i64, String, i64, i64),
        "with o as (select account_id, currency, cast(sum(open_minor) as bigint) as open_total
                    from open_item group by account_id, currency),
              r as (select b.account_id, b.currency, b.balance_minor
                    from subledger_balance b join ledger_account a on a.ledger_account_id = b.ledger_account_id
                    where a.code = $1),
              k as (select account_id, currency from o union select account_id, currency from r)
         select k.account_id, k.currency, coalesce(o.open_total, 0) as open_total,
                coalesce(r.balance_minor, 0) as balance
         from k
         left join o on o.account_id = k.account_id and o.currency = k.currency
         left join r on r.account_id = k.account_id and r.currency = k.currency
         where coalesce(o.open_total, 0) <> case when coalesce(r.balance_minor, 0) > 0
                                                 then coalesce(r.balance_minor, 0) else 0 end
         order by k.account_id, k.currency",
        receivable_code
    )
}
