//! All of billing's SQL: rate schedules, meter reads, settings, bill runs and their batches'
//! set-based reads, and bills with their lines. The bill run's multi-row writes are in
//! `run.rs` through `db::bulk`; the ledger's through `ledger::batch`.

use db::{Result, Tx};
use kernel::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RateRow {
    pub rate_schedule_id: i64,
    pub rate_code: String,
    pub service_type: String,
    pub effective_from: String,
    pub currency: String,
    pub unit: String,
    pub fixed_charge_minor: i64,
    pub minimum_charge_minor: i64,
    /// Blocks as `500:0.1123;*:0.1389`.
    pub tiers: String,
    pub tax_percent: String,
    pub created_at: i64,
    pub created_by: String,
}

const RATE_COLUMNS: &str = "rate_schedule_id, rate_code, service_type, effective_from, currency, unit, \
     fixed_charge_minor, minimum_charge_minor, tiers, tax_percent, created_at, created_by";

pub async fn rate_versions(tx: &mut Tx) -> Result<Vec<RateRow>> {
    let sql = format!("select {RATE_COLUMNS} from rate_schedule order by rate_code, effective_from");
    db::fetch_all!(tx, RateRow, db::sqlx::AssertSqlSafe(sql))
}

pub async fn insert_rate_version(tx: &mut Tx, r: &RateRow) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into rate_schedule (rate_code, service_type, effective_from, currency, unit, fixed_charge_minor,
                                    minimum_charge_minor, tiers, tax_percent, created_at, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning rate_schedule_id",
        &r.rate_code,
        &r.service_type,
        &r.effective_from,
        &r.currency,
        &r.unit,
        r.fixed_charge_minor,
        r.minimum_charge_minor,
        &r.tiers,
        &r.tax_percent,
        r.created_at,
        &r.created_by
    )
}

/// SQLite keeps 32 MB of pages per connection by default; a batch of thousands of bills dirties
/// more than that across the bill, ledger and contact indexes, and SQLite would then spill pages
/// to the log mid-transaction and read them back. A bill run's connection keeps up to 256 MB
/// instead. Nothing to do on PostgreSQL, whose buffers the server sizes.
pub async fn widen_page_cache(tx: &mut Tx) -> Result<()> {
    if let Tx::Sqlite(t) = tx {
        db::sqlx::query("pragma cache_size = -262144").execute(&mut **t).await.map_err(db::Error::from)?;
    }
    Ok(())
}

/// WAL pages after which a bill run's commits copy the log back into the database file.
pub const RUN_CHECKPOINT_PAGES: i64 = 65_536;

/// On SQLite a commit that leaves more than the connection's threshold of pages in the
/// write-ahead log copies them back into the database file and syncs it, inside that commit. A
/// batch logs thousands of pages, so a bill run raises the threshold for its connection to at
/// least `pages` (the log is still synced at every commit: durability is the same); answers the
/// threshold it replaced, for the run to put back. Nothing to do on PostgreSQL (answers 0).
pub async fn raise_checkpoint_pages(tx: &mut Tx, pages: i64) -> Result<i64> {
    let Tx::Sqlite(_) = tx else { return Ok(0) };
    let previous = db::scalar!(&mut *tx, i64, "pragma wal_autocheckpoint")?;
    set_checkpoint_pages(tx, previous.max(pages)).await?;
    Ok(previous)
}

/// Sets the SQLite connection's checkpoint threshold (see [`raise_checkpoint_pages`]).
pub async fn set_checkpoint_pages(tx: &mut Tx, pages: i64) -> Result<()> {
    if let Tx::Sqlite(t) = tx {
        let sql = format!("pragma wal_autocheckpoint = {}", pages.clamp(1, 1_000_000));
        db::sqlx::query(db::sqlx::AssertSqlSafe(sql)).execute(&mut **t).await.map_err(db::Error::from)?;
    }
    Ok(())
}

/// (due days, accounts per batch)
pub async fn settings(tx: &mut Tx) -> Result<(i64, i64)> {
    let found =
        db::fetch_optional!(tx, (i64, i64), "select due_days, batch_size from billing_setting where setting_id = 1")?;
    Ok(found.unwrap_or((21, 12_000)))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MeterRow {
    pub meter_id: i64,
    pub meter_number: String,
    pub service_type: String,
}

pub async fn find_meter(tx: &mut Tx, meter_number: &str) -> Result<Option<MeterRow>> {
    db::fetch_optional!(
        tx,
        MeterRow,
        "select meter_id, meter_number, service_type from meter where meter_number = $1",
        meter_number
    )
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ReadRow {
    pub meter_read_id: i64,
    pub meter_id: i64,
    pub read_date: String,
    pub reading: i64,
    /// actual, rollover, replacement or estimated
    pub kind: String,
    pub created_at: i64,
    pub created_by: String,
}

/// The meter's latest read on or before `day`.
pub async fn previous_read(tx: &mut Tx, meter_id: i64, day: &str) -> Result<Option<ReadRow>> {
    db::fetch_optional!(
        tx,
        ReadRow,
        "select meter_read_id, meter_id, read_date, reading, kind, created_at, created_by from meter_read
          where meter_id = $1 and read_date <= $2 order by read_date desc, meter_read_id desc limit 1",
        meter_id,
        day
    )
}

pub async fn read_exists(tx: &mut Tx, meter_id: i64, day: &str) -> Result<bool> {
    let n = db::scalar!(
        tx,
        i64,
        "select count(*) from meter_read where meter_id = $1 and read_date = $2 and kind <> 'estimated'",
        meter_id,
        day
    )?;
    Ok(n > 0)
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_read(
    tx: &mut Tx,
    meter_id: i64,
    day: &str,
    reading: i64,
    kind: &str,
    by: &str,
    now: Timestamp,
) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into meter_read (meter_id, read_date, reading, kind, created_at, created_by)
         values ($1, $2, $3, $4, $5, $6) returning meter_read_id",
        meter_id,
        day,
        reading,
        kind,
        now.micros(),
        by
    )
}

pub async fn recent_reads(tx: &mut Tx, limit: i64) -> Result<Vec<(ReadRow, String)>> {
    let rows = db::fetch_all!(
        tx,
        (i64, i64, String, i64, String, i64, String, String),
        "select r.meter_read_id, r.meter_id, r.read_date, r.reading, r.kind, r.created_at, r.created_by, m.meter_number
           from meter_read r join meter m on m.meter_id = r.meter_id
          order by r.meter_read_id desc limit $1",
        limit
    )?;
    Ok(rows
        .into_iter()
        .map(|(meter_read_id, meter_id, read_date, reading, kind, created_at, created_by, number)| {
            (ReadRow { meter_read_id, meter_id, read_date, reading, kind, created_at, created_by }, number)
        })
        .collect())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RunRow {
    pub bill_run_id: i64,
    pub bill_cycle: i64,
    pub period: String,
    /// running, done or failed
    pub status: String,
    pub accounts_total: i64,
    pub last_account_id: i64,
    pub accounts_done: i64,
    pub bills_written: i64,
    pub accounts_skipped: i64,
    pub total_minor: i64,
    pub last_error: Option<String>,
    pub started_by: String,
    pub started_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

const RUN_COLUMNS: &str = "bill_run_id, bill_cycle, period, status, accounts_total, last_account_id, accounts_done, \
     bills_written, accounts_skipped, total_minor, last_error, started_by, started_at, updated_at, finished_at";

pub async fn find_run(tx: &mut Tx, cycle: i64, period: &str) -> Result<Option<RunRow>> {
    let sql = format!("select {RUN_COLUMNS} from bill_run where bill_cycle = $1 and period = $2");
    db::fetch_optional!(tx, RunRow, db::sqlx::AssertSqlSafe(sql), cycle, period)
}

pub async fn get_run(tx: &mut Tx, bill_run_id: i64) -> Result<Option<RunRow>> {
    let sql = format!("select {RUN_COLUMNS} from bill_run where bill_run_id = $1");
    db::fetch_optional!(tx, RunRow, db::sqlx::AssertSqlSafe(sql), bill_run_id)
}

pub async fn list_runs(tx: &mut Tx, limit: i64) -> Result<Vec<RunRow>> {
    let sql = format!("select {RUN_COLUMNS} from bill_run order by bill_run_id desc limit $1");
    db::fetch_all!(tx, RunRow, db::sqlx::AssertSqlSafe(sql), limit)
}

/// Locks the runs' rows for the batch (on PostgreSQL) and reads their progress afresh.
pub async fn lock_runs(tx: &mut Tx, bill_run_ids: &[i64], now: Timestamp) -> Result<Vec<RunRow>> {
    // Integers formatted from i64 only: nothing from input reaches the text.
    let list: Vec<String> = bill_run_ids.iter().map(i64::to_string).collect();
    let sql = format!(
        "update bill_run set updated_at = $1 where bill_run_id in ({}) returning {RUN_COLUMNS}",
        list.join(", ")
    );
    db::fetch_all!(tx, RunRow, db::sqlx::AssertSqlSafe(sql), now.micros())
}

pub async fn insert_run(tx: &mut Tx, cycle: i64, period: &str, total: i64, by: &str, now: Timestamp) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into bill_run (bill_cycle, period, status, accounts_total, last_account_id, accounts_done,
                               bills_written, accounts_skipped, total_minor, started_by, started_at, updated_at)
         values ($1, $2, 'running', $3, 0, 0, 0, 0, 0, $4, $5, $5) returning bill_run_id",
        cycle,
        period,
        total,
        by,
        now.micros()
    )
}

/// A committed batch's progress: the cursor and the counts move together with its bills.
pub struct BatchProgress {
    pub last_account_id: i64,
    pub accounts: i64,
    pub bills: i64,
    pub skipped: i64,
    pub total_minor: i64,
}

pub async fn advance_run(tx: &mut Tx, bill_run_id: i64, p: &BatchProgress, now: Timestamp) -> Result<()> {
    db::execute!(
        tx,
        "update bill_run set last_account_id = $1, accounts_done = accounts_done + $2,
                bills_written = bills_written + $3, accounts_skipped = accounts_skipped + $4,
                total_minor = total_minor + $5, updated_at = $6
          where bill_run_id = $7",
        p.last_account_id,
        p.accounts,
        p.bills,
        p.skipped,
        p.total_minor,
        now.micros(),
        bill_run_id
    )?;
    Ok(())
}

pub async fn finish_run(
    tx: &mut Tx,
    bill_run_id: i64,
    status: &str,
    error: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    db::execute!(
        tx,
        "update bill_run set status = $1, last_error = $2, updated_at = $3,
                finished_at = case when $1 = 'done' then $3 else finished_at end
          where bill_run_id = $4",
        status,
        error,
        now.micros(),
        bill_run_id
    )?;
    Ok(())
}

pub async fn reopen_run(tx: &mut Tx, bill_run_id: i64, now: Timestamp) -> Result<()> {
    db::execute!(
        tx,
        "update bill_run set status = 'running', last_error = null, updated_at = $1 where bill_run_id = $2",
        now.micros(),
        bill_run_id
    )?;
    Ok(())
}

pub async fn count_cycle_accounts(tx: &mut Tx, cycle: i64) -> Result<i64> {
    db::scalar!(tx, i64, "select count(*) from account where bill_cycle = $1", cycle)
}

/// (account_id, customer_id, currency, bill_cycle)
pub type AccountKey = (i64, i64, String, i64);

/// The next batch of some cycles' accounts after `after_id`, in id order. For several cycles
/// the account ids are walked in order (`+bill_cycle` keeps SQLite off the cycle index, which
/// would read every later account of each cycle and sort them).
pub async fn cycles_accounts_after(tx: &mut Tx, cycles: &[i64], after_id: i64, limit: i64) -> Result<Vec<AccountKey>> {
    let list: Vec<String> = cycles.iter().map(i64::to_string).collect();
    let filter = match cycles {
        [_] => format!("bill_cycle = {}", list.join("")),
        _ => format!("+bill_cycle in ({})", list.join(", ")),
    };
    let sql = format!(
        "select account_id, customer_id, currency, cast(bill_cycle as bigint) from account
          where {filter} and account_id > $1 order by account_id limit $2"
    );
    db::fetch_all!(tx, AccountKey, db::sqlx::AssertSqlSafe(sql), after_id, limit)
}

/// Accounts of the batch already billed for the period (by an earlier run or a changed cycle).
pub async fn billed_accounts(tx: &mut Tx, period: &str, first: i64, last: i64) -> Result<Vec<i64>> {
    let rows = db::fetch_all!(
        tx,
        (i64,),
        "select account_id from bill where period = $1 and account_id between $2 and $3",
        period,
        first,
        last
    )?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgreementRow {
    pub agreement_id: i64,
    pub account_id: i64,
    pub service_type: String,
    pub rate_code: String,
    pub start_date: String,
    pub end_date: Option<String>,
    pub meter_id: Option<i64>,
    pub meter_number: Option<String>,
}

/// The agreements of a batch's accounts in service at some time in [`first_day`, `last_day`],
/// each with the meter at its premise for its service.
pub async fn batch_agreements(
    tx: &mut Tx,
    cycles: &[i64],
    (first, last): (i64, i64),
    first_day: &str,
    last_day: &str,
) -> Result<Vec<AgreementRow>> {
    let list: Vec<String> = cycles.iter().map(i64::to_string).collect();
    let sql = format!(
        "select sa.agreement_id, sa.account_id, sa.service_type, sa.rate_code, sa.start_date, sa.end_date,
                m.meter_id, m.meter_number
           from account a
           join service_agreement sa on sa.account_id = a.account_id
           left join meter m on m.meter_id = (select min(x.meter_id) from meter x
                                               where x.premise_id = sa.premise_id
                                                 and x.service_type = sa.service_type and x.removed_on is null)
          where a.bill_cycle in ({}) and a.account_id between $1 and $2
            and sa.status in ('active', 'pending_stop', 'stopped')
            and sa.start_date <= $4 and (sa.end_date is null or sa.end_date >= $3)
          order by sa.account_id, sa.agreement_id",
        list.join(", ")
    );
    db::fetch_all!(tx, AgreementRow, db::sqlx::AssertSqlSafe(sql), first, last, first_day, last_day)
}

/// Reads of the given meters since `since`, oldest first per meter.
pub async fn reads_of_meters(tx: &mut Tx, meter_ids: &[i64], since: &str) -> Result<Vec<(i64, String, i64, String)>> {
    let mut all = Vec::new();
    for chunk in meter_ids.chunks(1_000) {
        // Integers formatted from i64 only: nothing from input reaches the text.
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        let sql = format!(
            "select meter_id, read_date, reading, kind from meter_read
              where meter_id in ({}) and read_date >= $1 order by meter_id, read_date, meter_read_id",
            list.join(", ")
        );
        all.extend(db::fetch_all!(&mut *tx, (i64, String, i64, String), db::sqlx::AssertSqlSafe(sql), since)?);
    }
    Ok(all)
}

/// Accounts of the batch holding a credit (negative receivable) in some currency.
pub async fn credit_accounts(tx: &mut Tx, first: i64, last: i64) -> Result<Vec<(i64, String)>> {
    db::fetch_all!(
        tx,
        (i64, String),
        "select s.account_id, s.currency from subledger_balance s
           join ledger_account l on l.ledger_account_id = s.ledger_account_id and l.code = '1100'
          where s.account_id between $1 and $2 and s.balance_minor < 0",
        first,
        last
    )
}

/// The highest contact id so far (0 when there is none).
pub async fn max_contact_id(tx: &mut Tx) -> Result<i64> {
    Ok(db::scalar!(&mut *tx, Option<i64>, "select max(contact_id) from contact")?.unwrap_or(0))
}

/// Ids for `count` new bills (see `ledger::batch` for why this is safe on each backend).
pub async fn allocate_bill_ids(tx: &mut Tx, count: i64) -> Result<Vec<i64>> {
    Ok(match tx.backend() {
        db::Backend::Sqlite => {
            let max = db::scalar!(&mut *tx, Option<i64>, "select max(bill_id) from bill")?.unwrap_or(0);
            (max + 1..=max + count).collect()
        }
        db::Backend::Postgres => db::fetch_all!(
            &mut *tx,
            (i64,),
            "select nextval(pg_get_serial_sequence('bill', 'bill_id')) from generate_series(1, $1)",
            count
        )?
        .into_iter()
        .map(|(id,)| id)
        .collect(),
    })
}
