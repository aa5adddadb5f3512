//! The bill run: a cycle's accounts billed for a period in batches. Each batch reads its
//! accounts, agreements, meters and reads with a few set-based queries, rates them in memory,
//! and writes bills, lines, estimated reads, ledger entries, open items and system contacts
//! with multi-row inserts — together with the run's cursor and one audit record — in one
//! transaction. A crash loses at most the batch in flight; running again resumes at the cursor,
//! and a run already done does nothing.

use crate::BillingError;
use crate::model::{AgreementToRate, Period, RateVersion, Read, ReadKind};
use crate::rating::rate_account;
use crate::run_write::{Rated, RunDates, Skip, Written, write_batch};
use crate::store::{self, AgreementRow, BatchProgress, RunRow};
use db::{Db, Tx};
use kernel::{Actor, Clock, Currency, Timestamp};
use ledger::BusinessDate;
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// How far back a batch reads meter history for estimates.
const READ_HISTORY_DAYS: i64 = 400;

/// Starts (or resumes) the run of `period` and bills every remaining account; `progress` hears
/// the run's row after each committed batch. A run already done is returned as it is.
pub async fn bill_run(
    db: &Db,
    actor: &Actor,
    period: Period,
    clock: &dyn Clock,
    progress: &(dyn Fn(&RunRow) + Sync),
) -> Result<RunRow, BillingError> {
    bill_runs(db, actor, &[period], clock, progress).await?.pop().ok_or(BillingError::RunNotFound)
}

/// Starts (or resumes) the runs of several cycles and bills them together, in one pass over the
/// account ids: each batch takes the next accounts of all their cycles, so every index keyed by
/// account (bills, receivable lines, open items, contacts, balances) has its pages written once
/// a pass rather than once a cycle. Each run keeps its own row, cursor, counts and audit
/// records; a batch moves every cursor in the same transaction as its bills. Answers the runs'
/// rows in the order of `periods`.
pub async fn bill_runs(
    db: &Db,
    actor: &Actor,
    periods: &[Period],
    clock: &dyn Clock,
    progress: &(dyn Fn(&RunRow) + Sync),
) -> Result<Vec<RunRow>, BillingError> {
    let mut started = Vec::new();
    for period in periods {
        started.push((start_run(db, actor, *period, clock.now()).await?, *period));
    }
    let mut open: Vec<(RunRow, Period)> = Vec::new();
    for (run, period) in &started {
        if run.status != "done" && !open.iter().any(|(o, _)| o.bill_run_id == run.bill_run_id) {
            open.push((run.clone(), *period));
        }
    }
    if !open.is_empty() {
        let versions = load_versions(db).await?;
        let mut tx = db.begin().await?;
        let previous = store::raise_checkpoint_pages(&mut tx, store::RUN_CHECKPOINT_PAGES).await?;
        tx.commit().await?;
        let billed = run_batches(db, actor, &open, &versions, clock, progress).await;
        let restored = set_checkpoint_pages(db, previous).await;
        if let Err(error) = billed {
            let mut tx = db.begin().await?;
            for (run, _) in &open {
                let why = error.to_string();
                store::finish_run(&mut tx, run.bill_run_id, "failed", Some(&why), clock.now()).await?;
            }
            tx.commit().await?;
            return Err(error);
        }
        restored?;
    }
    let mut tx = db.begin().await?;
    for (run, _) in &open {
        store::finish_run(&mut tx, run.bill_run_id, "done", None, clock.now()).await?;
    }
    let mut rows = Vec::new();
    for (run, _) in &started {
        rows.push(store::get_run(&mut tx, run.bill_run_id).await?.ok_or(BillingError::RunNotFound)?);
    }
    tx.commit().await?;
    for row in rows.iter().filter(|row| open.iter().any(|(o, _)| o.bill_run_id == row.bill_run_id)) {
        progress(row);
    }
    Ok(rows)
}

/// Every batch until no account is left. While one batch is written, the next is read and
/// rated on a reader, in a task of its own (so the writer's thread, the reader's and the rating
/// work at the same time); the writer takes that batch only if the runs' cursors are still the
/// ones it was read after, and reads it again itself otherwise, or if writing it fails.
async fn run_batches(
    db: &Db,
    actor: &Actor,
    open: &[(RunRow, Period)],
    versions: &[RateVersion],
    clock: &dyn Clock,
    progress: &(dyn Fn(&RunRow) + Sync),
) -> Result<(), BillingError> {
    let cursors: Vec<i64> = open.iter().map(|(run, _)| run.last_account_id).collect();
    let mut ahead = read_ahead(db, open, &cursors, versions).await?;
    loop {
        let reading = ahead.as_ref().map(|batch| {
            let (db, runs, versions, cursors) = (db.clone(), open.to_vec(), versions.to_vec(), batch.cursors_after());
            tokio::spawn(async move { read_ahead(&db, &runs, &cursors, &versions).await })
        });
        let written = match run_batch(db, actor, open, versions, ahead, clock.now()).await {
            Err(_) if reading.is_some() => run_batch(db, actor, open, versions, None, clock.now()).await,
            written => written,
        };
        let next = match reading {
            Some(task) => task.await.map_err(|e| db::Error::Malformed(format!("reading a batch ahead: {e}")))?,
            None => Ok(None),
        };
        let Some(rows) = written? else {
            return Ok(());
        };
        rows.iter().for_each(progress);
        ahead = next?;
    }
}

/// The batch after `cursors`, read and rated on a reader's snapshot.
pub(crate) async fn read_ahead(
    db: &Db,
    runs: &[(RunRow, Period)],
    cursors: &[i64],
    versions: &[RateVersion],
) -> Result<Option<Batch>, BillingError> {
    let mut tx = db.read().await?;
    let (_, batch_size) = store::settings(&mut tx).await?;
    let batch = read_batch_after(&mut tx, runs, cursors, versions, batch_size).await?;
    tx.rollback().await?;
    Ok(batch)
}

async fn set_checkpoint_pages(db: &Db, pages: i64) -> Result<(), BillingError> {
    if pages <= 0 {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    store::set_checkpoint_pages(&mut tx, pages).await?;
    tx.commit().await?;
    Ok(())
}

/// The run's row: found (and reopened if it failed) or created.
pub async fn start_run(db: &Db, actor: &Actor, period: Period, now: Timestamp) -> Result<RunRow, BillingError> {
    let mut tx = db.begin().await?;
    let row = ensure_run(&mut tx, actor, period, now).await?;
    tx.commit().await?;
    Ok(row)
}

/// [`start_run`] inside the caller's transaction.
pub async fn ensure_run(tx: &mut Tx, actor: &Actor, period: Period, now: Timestamp) -> Result<RunRow, BillingError> {
    let cycle = i64::from(period.cycle);
    let label = period.label();
    let run = match store::find_run(tx, cycle, &label).await? {
        Some(run) => {
            if run.status == "failed" {
                store::reopen_run(tx, run.bill_run_id, now).await?;
            }
            run.bill_run_id
        }
        None => {
            let total = store::count_cycle_accounts(tx, cycle).await?;
            let id = store::insert_run(tx, cycle, &label, total, &actor.name(), now).await?;
            let detail = json!({"cycle": cycle, "period": label, "accounts": total});
            let event = db::audit::AuditEvent {
                action: "bill_run.started",
                entity: "bill_run",
                entity_id: id.to_string(),
                detail,
            };
            db::audit::append(tx, actor, event, now).await?;
            id
        }
    };
    store::get_run(tx, run).await?.ok_or(BillingError::RunNotFound)
}

/// Asks the background worker to run (or resume) `period`: the run's row and the job are
/// written in the caller's transaction; a run already queued is not queued twice.
pub async fn request_run(tx: &mut Tx, actor: &Actor, period: Period, now: Timestamp) -> Result<RunRow, BillingError> {
    let run = ensure_run(tx, actor, period, now).await?;
    if run.status != "done" {
        let payload = json!({"cycle": period.cycle, "period": period.label()});
        let key = format!("bill_run:{}:{}", period.cycle, period.label());
        db::jobs::enqueue_unique(tx, crate::BILL_RUN_JOB, &key, &payload, now).await?;
    }
    Ok(run)
}

/// The background job: runs the period its payload names.
pub async fn run_job(db: &Db, clock: &dyn Clock, payload: &str) -> Result<RunRow, String> {
    let value: serde_json::Value = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let cycle = value.get("cycle").and_then(serde_json::Value::as_i64).unwrap_or(0);
    let month = value.get("period").and_then(serde_json::Value::as_str).unwrap_or_default();
    let period = Period::parse(cycle, month).map_err(|e| e.to_string())?;
    bill_run(db, &Actor::system("billing"), period, clock, &|_| {}).await.map_err(|e| e.to_string())
}

pub async fn load_versions(db: &Db) -> Result<Vec<RateVersion>, BillingError> {
    let mut tx = db.read().await?;
    let rows = store::rate_versions(&mut tx).await?;
    tx.rollback().await?;
    rows.iter().map(crate::ops::version_of_row).collect()
}

/// A batch read and rated, not written yet: the accounts after the runs' `cursors` as they were
/// read, each run's (accounts, skipped) counts, and the bills and skips they make.
pub(crate) struct Batch {
    cursors: Vec<i64>,
    pub(crate) range: (i64, i64),
    counts: Vec<(i64, i64)>,
    bills: Vec<Rated>,
    skips: Vec<Skip>,
}

impl Batch {
    /// The runs' cursors once this batch is written: each moves on to the batch's last account.
    fn cursors_after(&self) -> Vec<i64> {
        self.cursors.iter().map(|cursor| (*cursor).max(self.range.1)).collect()
    }
}

/// One batch of every run in one transaction; `None` when no account is left. `ahead` is a
/// batch read on a reader: written as it is if the runs' cursors are still the ones it was read
/// after, else the batch is read here, on the writer.
pub(crate) async fn run_batch(
    db: &Db,
    actor: &Actor,
    runs: &[(RunRow, Period)],
    versions: &[RateVersion],
    ahead: Option<Batch>,
    now: Timestamp,
) -> Result<Option<Vec<RunRow>>, BillingError> {
    let mut tx = db.begin().await?;
    store::widen_page_cache(&mut tx).await?;
    let ids: Vec<i64> = runs.iter().map(|(run, _)| run.bill_run_id).collect();
    let locked = store::lock_runs(&mut tx, &ids, now).await?;
    let mut cursors = Vec::with_capacity(runs.len());
    for (run, _) in runs {
        let row = locked.iter().find(|r| r.bill_run_id == run.bill_run_id).ok_or(BillingError::RunNotFound)?;
        cursors.push(row.last_account_id);
    }
    let (due_days, batch_size) = store::settings(&mut tx).await?;
    let batch = match ahead {
        Some(batch) if batch.cursors == cursors => Some(batch),
        _ => read_batch_after(&mut tx, runs, &cursors, versions, batch_size).await?,
    };
    let Some(batch) = batch else {
        tx.rollback().await?;
        return Ok(None);
    };
    let dates: Vec<RunDates> =
        runs.iter().map(|(run, period)| RunDates::new(run.bill_run_id, *period, due_days)).collect();
    let (first, last) = batch.range;
    let written = write_batch(&mut tx, actor, &dates, batch.bills, batch.skips, batch.range, now).await?;
    let mut rows = Vec::with_capacity(runs.len());
    for (index, (run, period)) in runs.iter().enumerate() {
        let (accounts, skipped) = batch.counts.get(index).copied().unwrap_or_default();
        let (bills, total_minor) = written.totals.get(index).copied().unwrap_or_default();
        let cursor = batch.cursors.get(index).copied().unwrap_or(0).max(last);
        let progress = BatchProgress { last_account_id: cursor, accounts, bills, skipped, total_minor };
        store::advance_run(&mut tx, run.bill_run_id, &progress, now).await?;
        if accounts > 0 {
            let batch =
                BatchRecord { period: *period, progress: &progress, accounts: (first, last), written: &written };
            record_batch(&mut tx, actor, run.bill_run_id, &batch, now).await?;
        }
        rows.push(store::get_run(&mut tx, run.bill_run_id).await?.ok_or(BillingError::RunNotFound)?);
    }
    tx.commit().await?;
    Ok(Some(rows))
}

/// Reads the next accounts after `cursors` (each run's) and rates them; `None` when none is left.
async fn read_batch_after(
    tx: &mut Tx,
    runs: &[(RunRow, Period)],
    cursors: &[i64],
    versions: &[RateVersion],
    batch_size: i64,
) -> Result<Option<Batch>, BillingError> {
    let run_of_cycle: HashMap<i64, usize> =
        runs.iter().enumerate().map(|(index, (_, period))| (i64::from(period.cycle), index)).collect();
    let mut cycles: Vec<i64> = run_of_cycle.keys().copied().collect();
    cycles.sort_unstable();
    let after = cursors.iter().copied().min().unwrap_or(0);
    let candidates = store::cycles_accounts_after(tx, &cycles, after, batch_size.clamp(1, 20_000)).await?;
    let (Some(first), Some(last)) = (candidates.first().map(|a| a.0), candidates.last().map(|a| a.0)) else {
        return Ok(None);
    };
    // A run that went further on its own (billed alone earlier) skips what it has done.
    let accounts: Vec<BatchAccount> = candidates
        .into_iter()
        .filter_map(|(account_id, customer_id, currency, cycle)| {
            let run = *run_of_cycle.get(&cycle)?;
            (account_id > *cursors.get(run)?).then_some(BatchAccount { run, account_id, customer_id, currency })
        })
        .collect();
    let periods: Vec<Period> = runs.iter().map(|(_, period)| *period).collect();
    let input = read_batch(tx, &cycles, &periods, &accounts, (first, last)).await?;
    let billed = billed_accounts(tx, &periods, &accounts, (first, last)).await?;
    let (bills, skips) = rate_batch(&accounts, &billed, &input, versions, &periods);
    let mut counts = vec![(0_i64, 0_i64); runs.len()];
    for account in &accounts {
        if let Some(slot) = counts.get_mut(account.run) {
            slot.0 += 1;
        }
    }
    for skip in &skips {
        if let Some(slot) = counts.get_mut(skip.run) {
            slot.1 += 1;
        }
    }
    Ok(Some(Batch { cursors: cursors.to_vec(), range: (first, last), counts, bills, skips }))
}

/// One account of a batch and the run (index into the batch's runs) that bills it.
struct BatchAccount {
    run: usize,
    account_id: i64,
    customer_id: i64,
    currency: String,
}

/// What one run's batch record says.
struct BatchRecord<'a> {
    period: Period,
    progress: &'a BatchProgress,
    accounts: (i64, i64),
    written: &'a Written,
}

/// One audit record per run and batch (not one per bill: a million records would cost more
/// than the bills). It names the batch's account range and the id ranges of the bills and system
/// contacts the batch wrote (shared by the runs of the batch; a run's bills are those of the
/// range that carry its `bill_run_id`), so every bill and contact is covered by a chained record.
async fn record_batch(
    tx: &mut Tx,
    actor: &Actor,
    bill_run_id: i64,
    batch: &BatchRecord<'_>,
    now: Timestamp,
) -> Result<(), BillingError> {
    let (progress, (first, last)) = (batch.progress, batch.accounts);
    let detail = json!({
        "period": batch.period.label(), "cycle": batch.period.cycle, "first_account_id": first,
        "last_account_id": last, "accounts": progress.accounts, "bills": progress.bills,
        "skipped": progress.skipped, "total_minor": progress.total_minor,
        "bill_ids": batch.written.bill_ids.map(|(a, b)| [a, b]),
        "contact_ids": batch.written.contact_ids.map(|(a, b)| [a, b]),
    });
    let event = db::audit::AuditEvent {
        action: "bill_run.batch",
        entity: "bill_run",
        entity_id: bill_run_id.to_string(),
        detail,
    };
    db::audit::append(tx, actor, event, now).await?;
    Ok(())
}

/// The batch's accounts already billed for their run's month (by an earlier run or under
/// another cycle), as (month, account).
async fn billed_accounts(
    tx: &mut Tx,
    periods: &[Period],
    accounts: &[BatchAccount],
    (first, last): (i64, i64),
) -> Result<HashSet<(String, i64)>, BillingError> {
    let mut labels: Vec<String> = accounts.iter().filter_map(|a| periods.get(a.run)).map(Period::label).collect();
    labels.sort_unstable();
    labels.dedup();
    let mut billed = HashSet::new();
    for label in labels {
        for account_id in store::billed_accounts(tx, &label, first, last).await? {
            billed.insert((label.clone(), account_id));
        }
    }
    Ok(billed)
}

/// Rates every account of the batch not billed yet; the rest are left alone or skipped.
fn rate_batch(
    accounts: &[BatchAccount],
    billed: &HashSet<(String, i64)>,
    input: &HashMap<i64, Vec<AgreementToRate>>,
    versions: &[RateVersion],
    periods: &[Period],
) -> (Vec<Rated>, Vec<Skip>) {
    let labels: Vec<String> = periods.iter().map(Period::label).collect();
    let mut bills = Vec::with_capacity(accounts.len());
    let mut skips = Vec::new();
    for account in accounts {
        let (Some(period), Some(label)) = (periods.get(account.run), labels.get(account.run)) else {
            continue;
        };
        if billed.contains(&(label.clone(), account.account_id)) {
            continue;
        }
        let agreements = input.get(&account.account_id).map(Vec::as_slice).unwrap_or_default();
        if agreements.is_empty() {
            continue;
        }
        let (run, account_id) = (account.run, account.account_id);
        let Ok(currency) = Currency::parse(&account.currency) else {
            let reason = format!("account currency {} is unknown", account.currency);
            skips.push(Skip { run, account_id, reason });
            continue;
        };
        match rate_account(agreements, versions, period, currency) {
            Ok(bill) => bills.push(Rated { run, account_id, customer_id: account.customer_id, currency, bill }),
            Err(why) => skips.push(Skip { run, account_id, reason: why.to_string() }),
        }
    }
    (bills, skips)
}

/// Each account's agreements in service during its run's period, with their meters' reads
/// since [`READ_HISTORY_DAYS`] before the period. The query reads the widest window of the
/// batch's periods; each agreement and read is then held to its own run's.
async fn read_batch(
    tx: &mut Tx,
    cycles: &[i64],
    periods: &[Period],
    accounts: &[BatchAccount],
    range: (i64, i64),
) -> Result<HashMap<i64, Vec<AgreementToRate>>, BillingError> {
    let (Some(earliest), Some(latest)) =
        (periods.iter().map(Period::start).min(), periods.iter().map(Period::end).max())
    else {
        return Ok(HashMap::new());
    };
    let run_of: HashMap<i64, usize> = accounts.iter().map(|a| (a.account_id, a.run)).collect();
    let windows: Vec<(String, String)> = periods.iter().map(|p| (p.start().to_string(), p.end().to_string())).collect();
    let mut rows = store::batch_agreements(tx, cycles, range, &earliest.to_string(), &latest.to_string()).await?;
    // The same test as the query's, against the agreement's own run's period.
    rows.retain(|row| {
        run_of.get(&row.account_id).and_then(|run| windows.get(*run)).is_some_and(|(start, end)| {
            row.start_date <= *end && row.end_date.as_ref().is_none_or(|last| last >= start)
        })
    });
    let meter_ids: Vec<i64> = rows.iter().filter_map(|r| r.meter_id).collect::<HashSet<_>>().into_iter().collect();
    let since = earliest.plus_days(-READ_HISTORY_DAYS).to_string();
    let mut reads: HashMap<i64, Vec<Read>> = HashMap::new();
    for (meter_id, date, reading, kind) in store::reads_of_meters(tx, &meter_ids, &since).await? {
        let date = BusinessDate::parse(&date, "read_date")?;
        reads.entry(meter_id).or_default().push(Read { date, reading, kind: ReadKind::from_stored(&kind) });
    }
    let mut out: HashMap<i64, Vec<AgreementToRate>> = HashMap::new();
    for row in rows {
        let Some(period) = run_of.get(&row.account_id).and_then(|run| periods.get(*run)) else { continue };
        let from = period.start().plus_days(-READ_HISTORY_DAYS);
        let agreement = agreement_of(row, &reads, from)?;
        out.entry(agreement.0).or_default().push(agreement.1);
    }
    Ok(out)
}

fn agreement_of(
    row: AgreementRow,
    reads: &HashMap<i64, Vec<Read>>,
    reads_from: BusinessDate,
) -> Result<(i64, AgreementToRate), BillingError> {
    let end_date = match &row.end_date {
        Some(text) => Some(BusinessDate::parse(text, "end_date")?),
        None => None,
    };
    let meter_reads: Vec<Read> = row
        .meter_id
        .and_then(|id| reads.get(&id))
        .map(|all| all.iter().filter(|r| r.date >= reads_from).copied().collect())
        .unwrap_or_default();
    Ok((
        row.account_id,
        AgreementToRate {
            agreement_id: row.agreement_id,
            service_type: row.service_type,
            rate_code: row.rate_code,
            start_date: BusinessDate::parse(&row.start_date, "start_date")?,
            end_date,
            meter: row.meter_id.zip(row.meter_number),
            reads: meter_reads,
        },
    ))
}

pub fn bill_number(bill_id: i64) -> String {
    format!("BILL-{bill_id:07}")
}

/// Formats minor units for a summary line ("123.45 USD").
pub fn format_money(amount_minor: i64, currency: Currency) -> String {
    let exponent = currency.exponent();
    if exponent == 0 {
        return format!("{amount_minor} {}", currency.code());
    }
    let scale = 10_i64.pow(exponent);
    let sign = if amount_minor < 0 { "-" } else { "" };
    let abs = amount_minor.unsigned_abs();
    let scale_u = scale.unsigned_abs();
    format!("{sign}{}.{:0width$} {}", abs / scale_u, abs % scale_u, currency.code(), width = exponent as usize)
}
