//! The bill run: a cycle's accounts billed for a period in batches. Each batch reads its
//! accounts, agreements, meters and reads with a few set-based queries, rates them in memory,
//! and writes bills, lines, estimated reads, ledger entries, open items and system contacts
//! with multi-row inserts — together with the run's cursor and one audit record — in one
//! transaction. A crash loses at most the batch in flight; running again resumes at the cursor,
//! and a run already done does nothing.

use crate::BillingError;
use crate::model::{AgreementToRate, BillDraft, Period, RateVersion, Read, ReadKind};
use crate::rating::{bill_entry, rate_account};
use crate::store::{self, AgreementRow, BatchProgress, RunRow};
use db::bulk::{Rows, Statements, Value};
use db::{Db, Tx};
use kernel::{Actor, Clock, Currency, Money, Timestamp};
use ledger::BusinessDate;
use ledger::batch::{BatchItem, OpenItemDraft};
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
    let run = start_run(db, actor, period, clock.now()).await?;
    if run.status == "done" {
        return Ok(run);
    }
    let versions = load_versions(db).await?;
    loop {
        match run_batch(db, actor, &run, period, &versions, clock.now()).await {
            Ok(Some(row)) => progress(&row),
            Ok(None) => break,
            Err(error) => {
                let mut tx = db.begin().await?;
                store::finish_run(&mut tx, run.bill_run_id, "failed", Some(&error.to_string()), clock.now()).await?;
                tx.commit().await?;
                return Err(error);
            }
        }
    }
    let mut tx = db.begin().await?;
    store::finish_run(&mut tx, run.bill_run_id, "done", None, clock.now()).await?;
    let done = store::get_run(&mut tx, run.bill_run_id).await?.ok_or(BillingError::RunNotFound)?;
    tx.commit().await?;
    progress(&done);
    Ok(done)
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

/// One batch in one transaction; `None` when no account is left.
async fn run_batch(
    db: &Db,
    actor: &Actor,
    run: &RunRow,
    period: Period,
    versions: &[RateVersion],
    now: Timestamp,
) -> Result<Option<RunRow>, BillingError> {
    let mut tx = db.begin().await?;
    store::widen_page_cache(&mut tx).await?;
    let current = store::lock_run(&mut tx, run.bill_run_id, now).await?.ok_or(BillingError::RunNotFound)?;
    let (due_days, batch_size) = store::settings(&mut tx).await?;
    let cycle = i64::from(period.cycle);
    let accounts = store::batch_accounts(&mut tx, cycle, current.last_account_id, batch_size.clamp(1, 20_000)).await?;
    let (Some(first), Some(last)) = (accounts.first().map(|a| a.0), accounts.last().map(|a| a.0)) else {
        tx.rollback().await?;
        return Ok(None);
    };
    let input = read_batch(&mut tx, cycle, (first, last), period).await?;
    let billed: HashSet<i64> =
        store::billed_accounts(&mut tx, &period.label(), first, last).await?.into_iter().collect();
    let mut batch = Batch::new(db.backend());
    for (account_id, customer_id, currency) in &accounts {
        if billed.contains(account_id) {
            continue;
        }
        let agreements = input.get(account_id).map(Vec::as_slice).unwrap_or_default();
        if agreements.is_empty() {
            continue;
        }
        let Ok(currency) = Currency::parse(currency) else {
            batch.skip(run.bill_run_id, *account_id, format!("account currency {currency} is unknown"));
            continue;
        };
        match rate_account(agreements, versions, &period, currency) {
            Ok(bill) => batch.bills.push(Rated { account_id: *account_id, customer_id: *customer_id, currency, bill }),
            Err(why) => batch.skip(run.bill_run_id, *account_id, why.to_string()),
        }
    }
    let progress = write_batch(&mut tx, actor, run, period, &mut batch, due_days, (first, last), now).await?;
    let accounts_in_batch = i64::try_from(accounts.len()).unwrap_or(i64::MAX);
    let progress = BatchProgress { last_account_id: last, accounts: accounts_in_batch, ..progress };
    store::advance_run(&mut tx, run.bill_run_id, &progress, now).await?;
    let detail = json!({
        "period": period.label(), "cycle": cycle, "first_account_id": first, "last_account_id": last,
        "accounts": progress.accounts, "bills": progress.bills, "skipped": progress.skipped,
        "total_minor": progress.total_minor,
    });
    let event = db::audit::AuditEvent {
        action: "bill_run.batch",
        entity: "bill_run",
        entity_id: run.bill_run_id.to_string(),
        detail,
    };
    db::audit::append(&mut tx, actor, event, now).await?;
    let row = store::get_run(&mut tx, run.bill_run_id).await?.ok_or(BillingError::RunNotFound)?;
    tx.commit().await?;
    Ok(Some(row))
}

/// Each account's agreements with their meters' reads.
async fn read_batch(
    tx: &mut Tx,
    cycle: i64,
    range: (i64, i64),
    period: Period,
) -> Result<HashMap<i64, Vec<AgreementToRate>>, BillingError> {
    let (start, end) = (period.start().to_string(), period.end().to_string());
    let rows = store::batch_agreements(tx, cycle, range, &start, &end).await?;
    let meter_ids: Vec<i64> = rows.iter().filter_map(|r| r.meter_id).collect::<HashSet<_>>().into_iter().collect();
    let since = period.start().plus_days(-READ_HISTORY_DAYS).to_string();
    let mut reads: HashMap<i64, Vec<Read>> = HashMap::new();
    for (meter_id, date, reading, kind) in store::reads_of_meters(tx, &meter_ids, &since).await? {
        let date = BusinessDate::parse(&date, "read_date")?;
        reads.entry(meter_id).or_default().push(Read { date, reading, kind: ReadKind::from_stored(&kind) });
    }
    let mut out: HashMap<i64, Vec<AgreementToRate>> = HashMap::new();
    for row in rows {
        let agreement = agreement_of(row, &reads)?;
        out.entry(agreement.0).or_default().push(agreement.1);
    }
    Ok(out)
}

fn agreement_of(row: AgreementRow, reads: &HashMap<i64, Vec<Read>>) -> Result<(i64, AgreementToRate), BillingError> {
    let end_date = match &row.end_date {
        Some(text) => Some(BusinessDate::parse(text, "end_date")?),
        None => None,
    };
    let meter_reads = row.meter_id.and_then(|id| reads.get(&id)).cloned().unwrap_or_default();
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

struct Rated {
    account_id: i64,
    customer_id: i64,
    currency: Currency,
    bill: BillDraft,
}

/// One batch's rated bills and the rows they become.
struct Batch {
    bills: Vec<Rated>,
    statements: Statements,
    bill_rows: Rows,
    line_rows: Rows,
    read_rows: Rows,
    contact_rows: Rows,
    skip_rows: Rows,
    skipped: i64,
}

impl Batch {
    fn new(backend: db::Backend) -> Batch {
        Batch {
            bills: Vec::new(),
            statements: Statements::new(backend),
            bill_rows: Rows::new(
                "bill",
                "bill_id, bill_number, account_id, customer_id, period, bill_run_id, period_start, period_end, \
                 bill_date, due_date, currency, subtotal_minor, tax_minor, total_minor, entry_id, estimated, \
                 created_at",
            ),
            line_rows: Rows::new(
                "bill_line",
                "bill_id, agreement_id, service_type, kind, description, quantity, rate, amount_minor, meter_number, \
                 read_from, read_to, estimated",
            ),
            read_rows: Rows::new("meter_read", "meter_id, read_date, reading, kind, created_at, created_by"),
            contact_rows: Rows::new(
                "contact",
                "customer_id, account_id, channel, direction, reason_code, sub_reason_code, summary, started_at, \
                 ended_at, agent_name, created_at",
            ),
            skip_rows: Rows::new("bill_run_skip", "bill_run_id, account_id, reason"),
            skipped: 0,
        }
    }

    fn skip(&mut self, bill_run_id: i64, account_id: i64, reason: String) {
        self.skipped += 1;
        self.skip_rows.push([Value::Int(bill_run_id), Value::Int(account_id), Value::Text(reason)]);
    }
}

pub fn bill_number(bill_id: i64) -> String {
    format!("BILL-{bill_id:07}")
}

/// Writes the batch: ledger entries and open items first (bills name their entry), then bills,
/// lines, estimated reads, contacts and skips; then settles the accounts that were in credit.
#[allow(clippy::too_many_arguments)]
async fn write_batch(
    tx: &mut Tx,
    actor: &Actor,
    run: &RunRow,
    period: Period,
    batch: &mut Batch,
    due_days: i64,
    (first, last): (i64, i64),
    now: Timestamp,
) -> Result<BatchProgress, BillingError> {
    let bill_date = period.bill_date();
    let due_date = bill_date.plus_days(due_days);
    let dates = BatchDates::new(period, due_date);
    let bills = std::mem::take(&mut batch.bills);
    let count = i64::try_from(bills.len()).unwrap_or(i64::MAX);
    let bill_ids = if count > 0 { store::allocate_bill_ids(tx, count).await? } else { Vec::new() };
    let mut items = Vec::new();
    let mut item_of_bill = Vec::new();
    for (rated, bill_id) in bills.iter().zip(&bill_ids) {
        let number = bill_number(*bill_id);
        let entry = bill_entry(&rated.bill, &number, rated.account_id, bill_date, rated.currency);
        item_of_bill.push(entry.as_ref().map(|_| items.len()));
        if let Some(draft) = entry {
            let amount = Money::new(rated.bill.total_minor, rated.currency);
            let open_item = Some(OpenItemDraft { account_id: rated.account_id, kind: "bill", due_date, amount });
            items.push(BatchItem { draft, open_item });
        }
    }
    let credit = store::credit_accounts(tx, first, last).await?;
    let entry_ids = ledger::batch::post_many(tx, actor, &items, now).await?;
    let mut total_minor = 0;
    let mut entry_of_account = HashMap::new();
    for ((rated, bill_id), item) in bills.iter().zip(&bill_ids).zip(&item_of_bill) {
        let entry_id = item.and_then(|i| entry_ids.get(i).copied());
        total_minor += rated.bill.total_minor;
        if let Some(entry_id) = entry_id {
            entry_of_account.insert(rated.account_id, entry_id);
        }
        let ids = BillIds { bill_id: *bill_id, entry_id, bill_run_id: run.bill_run_id };
        push_bill(batch, rated, ids, &dates, now);
    }
    for rows in [
        &mut batch.bill_rows,
        &mut batch.line_rows,
        &mut batch.read_rows,
        &mut batch.contact_rows,
        &mut batch.skip_rows,
    ] {
        batch.statements.flush(tx, rows).await?;
    }
    for (account_id, currency) in credit {
        let (Some(entry_id), Ok(currency)) = (entry_of_account.get(&account_id), Currency::parse(&currency)) else {
            continue;
        };
        ledger::ops::settle(tx, account_id, currency, *entry_id, now).await?;
    }
    Ok(BatchProgress { last_account_id: last, accounts: 0, bills: count, skipped: batch.skipped, total_minor })
}

struct BillIds {
    bill_id: i64,
    entry_id: Option<i64>,
    bill_run_id: i64,
}

fn flag(value: bool) -> Value {
    Value::Bool(value)
}

fn opt_int(value: Option<i64>) -> Value {
    value.map(Value::Int).unwrap_or(Value::NullInt)
}

fn opt_text(value: &Option<String>) -> Value {
    value.clone().map(Value::Text).unwrap_or(Value::NullText)
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

/// The batch's period and dates as text, formatted once rather than once a bill.
struct BatchDates {
    label: String,
    start: String,
    end: String,
    bill_date: String,
    due_date: String,
}

impl BatchDates {
    fn new(period: Period, due_date: BusinessDate) -> BatchDates {
        BatchDates {
            label: period.label(),
            start: period.start().to_string(),
            end: period.end().to_string(),
            bill_date: period.bill_date().to_string(),
            due_date: due_date.to_string(),
        }
    }
}

fn push_bill(batch: &mut Batch, rated: &Rated, ids: BillIds, dates: &BatchDates, now: Timestamp) {
    let number = bill_number(ids.bill_id);
    let bill = &rated.bill;
    batch.bill_rows.push([
        Value::Int(ids.bill_id),
        Value::Text(number.clone()),
        Value::Int(rated.account_id),
        Value::Int(rated.customer_id),
        Value::Text(dates.label.clone()),
        Value::Int(ids.bill_run_id),
        Value::Text(dates.start.clone()),
        Value::Text(dates.end.clone()),
        Value::Text(dates.bill_date.clone()),
        Value::Text(dates.due_date.clone()),
        Value::Static(rated.currency.code()),
        Value::Int(bill.subtotal_minor),
        Value::Int(bill.tax_minor),
        Value::Int(bill.total_minor),
        opt_int(ids.entry_id),
        flag(bill.estimated),
        Value::Int(now.micros()),
    ]);
    for line in &bill.lines {
        batch.line_rows.push([
            Value::Int(ids.bill_id),
            Value::Int(line.agreement_id),
            Value::Text(line.service_type.clone()),
            Value::Static(line.kind.code()),
            Value::Text(line.description.clone()),
            opt_int(line.quantity),
            opt_text(&line.rate),
            Value::Int(line.amount_minor),
            opt_text(&line.meter_number),
            opt_int(line.read_from),
            opt_int(line.read_to),
            flag(line.estimated),
        ]);
    }
    for (meter_id, read) in &bill.new_reads {
        batch.read_rows.push([
            Value::Int(*meter_id),
            Value::Text(read.date.to_string()),
            Value::Int(read.reading),
            Value::Static(ReadKind::Estimated.code()),
            Value::Int(now.micros()),
            Value::Static("system:billing"),
        ]);
    }
    let summary = format!(
        "Bill {number} for {}: {} due {}{}",
        dates.label,
        format_money(bill.total_minor, rated.currency),
        dates.due_date,
        if bill.estimated { " (estimated read)" } else { "" }
    );
    batch.contact_rows.push([
        Value::Int(rated.customer_id),
        Value::Int(rated.account_id),
        Value::Static("system"),
        Value::Static("outbound"),
        Value::Static("billing_question"),
        Value::Static("bill_sent"),
        Value::Text(summary),
        Value::Int(now.micros()),
        Value::Int(now.micros()),
        Value::Static("system:billing"),
        Value::Int(now.micros()),
    ]);
}
