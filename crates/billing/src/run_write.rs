//! One bill-run batch's writes: ledger entries and open items first (bills name their entry),
//! then bills, lines, estimated reads, system contacts and skips as multi-row inserts through
//! `db::bulk`, then settlement of the accounts that were in credit. Values shared by many rows
//! (a run's dates, the time, the poster) are bound once per statement or shared without a copy.

use crate::BillingError;
use crate::model::{BillDraft, Period, ReadKind};
use crate::rating::bill_entry;
use crate::run::{bill_number, format_money};
use crate::store;
use db::Tx;
use db::bulk::{Rows, Statements, Value};
use kernel::{Actor, Currency, Money, Timestamp};
use ledger::BusinessDate;
use ledger::batch::{BatchItem, OpenItemDraft};
use std::collections::HashMap;
use std::sync::Arc;

/// One account's rated bill and the run (index into the batch's runs) it belongs to.
pub(crate) struct Rated {
    pub run: usize,
    pub account_id: i64,
    pub customer_id: i64,
    pub currency: Currency,
    pub bill: BillDraft,
}

/// A run's period and dates as text, formatted once a batch rather than once a bill.
pub(crate) struct RunDates {
    pub bill_run_id: i64,
    label: Arc<str>,
    start: Arc<str>,
    end: Arc<str>,
    bill_date: Arc<str>,
    due_date: Arc<str>,
    bill_day: BusinessDate,
    due_day: BusinessDate,
}

impl RunDates {
    pub fn new(bill_run_id: i64, period: Period, due_days: i64) -> RunDates {
        let bill_day = period.bill_date();
        let due_day = bill_day.plus_days(due_days);
        RunDates {
            bill_run_id,
            label: period.label().into(),
            start: period.start().to_string().into(),
            end: period.end().to_string().into(),
            bill_date: bill_day.to_string().into(),
            due_date: due_day.to_string().into(),
            bill_day,
            due_day,
        }
    }
}

/// What a batch wrote for one run: (bills, total in minor units).
pub(crate) type RunTotals = (i64, i64);

/// What a batch wrote: each run's totals (in the order of the runs), and the id ranges its bills
/// and its system contacts lie in (none when it billed nothing). The batch's audit records name
/// these ranges, so every bill and contact a run writes is covered by a hash-chained record.
pub(crate) struct Written {
    pub totals: Vec<RunTotals>,
    pub bill_ids: Option<(i64, i64)>,
    pub contact_ids: Option<(i64, i64)>,
}

/// An account a run could not bill, and why.
pub(crate) struct Skip {
    pub run: usize,
    pub account_id: i64,
    pub reason: String,
}

/// Writes the batch's bills and skips; answers what it wrote.
pub(crate) async fn write_batch(
    tx: &mut Tx,
    actor: &Actor,
    runs: &[RunDates],
    bills: Vec<Rated>,
    skips: Vec<Skip>,
    (first, last): (i64, i64),
    now: Timestamp,
) -> Result<Written, BillingError> {
    let count = i64::try_from(bills.len()).unwrap_or(i64::MAX);
    let bill_ids = if count > 0 { store::allocate_bill_ids(tx, count).await? } else { Vec::new() };
    let mut items = Vec::with_capacity(bills.len());
    let mut item_of_bill = Vec::with_capacity(bills.len());
    for (rated, bill_id) in bills.iter().zip(&bill_ids) {
        let dates = runs.get(rated.run).ok_or(BillingError::RunNotFound)?;
        let number = bill_number(*bill_id);
        let entry = bill_entry(&rated.bill, &number, rated.account_id, dates.bill_day, rated.currency);
        item_of_bill.push(entry.as_ref().map(|_| items.len()));
        if let Some(draft) = entry {
            let amount = Money::new(rated.bill.total_minor, rated.currency);
            let due_date = dates.due_day;
            let open_item = Some(OpenItemDraft { account_id: rated.account_id, kind: "bill", due_date, amount });
            items.push(BatchItem { draft, open_item });
        }
    }
    let credit = store::credit_accounts(tx, first, last).await?;
    let entry_ids = ledger::batch::post_many(tx, actor, &items, now).await?;
    let mut rows = BatchRows::new(now);
    let mut totals: Vec<RunTotals> = vec![(0, 0); runs.len()];
    let mut entry_of_account = HashMap::new();
    for ((rated, bill_id), item) in bills.iter().zip(&bill_ids).zip(&item_of_bill) {
        let dates = runs.get(rated.run).ok_or(BillingError::RunNotFound)?;
        let entry_id = item.and_then(|i| entry_ids.get(i).copied());
        if let Some(slot) = totals.get_mut(rated.run) {
            slot.0 += 1;
            slot.1 += rated.bill.total_minor;
        }
        if let Some(entry_id) = entry_id {
            entry_of_account.insert(rated.account_id, entry_id);
        }
        rows.push_bill(rated, *bill_id, entry_id, dates);
    }
    for skip in skips {
        let run = runs.get(skip.run).ok_or(BillingError::RunNotFound)?;
        rows.skips.push([Value::Int(run.bill_run_id), Value::Int(skip.account_id), Value::Text(skip.reason)]);
    }
    let contact_ids = rows.flush(tx).await?;
    for (account_id, currency) in credit {
        let (Some(entry_id), Ok(currency)) = (entry_of_account.get(&account_id), Currency::parse(&currency)) else {
            continue;
        };
        ledger::ops::settle(tx, account_id, currency, *entry_id, now).await?;
    }
    let bill_ids = bill_ids.first().copied().zip(bill_ids.last().copied());
    Ok(Written { totals, bill_ids, contact_ids })
}

/// The batch's rows, table by table.
struct BatchRows {
    bills: Rows,
    lines: Rows,
    reads: Rows,
    contacts: Rows,
    skips: Rows,
}

impl BatchRows {
    fn new(now: Timestamp) -> BatchRows {
        let now = now.micros();
        BatchRows {
            bills: Rows::new(
                "bill",
                "bill_id, bill_number, account_id, customer_id, period, bill_run_id, period_start, period_end, \
                 bill_date, due_date, currency, subtotal_minor, tax_minor, total_minor, entry_id, estimated",
            )
            .fixed("created_at", Value::Int(now)),
            lines: Rows::new(
                "bill_line",
                "bill_id, agreement_id, service_type, kind, description, quantity, rate, amount_minor, meter_number, \
                 read_from, read_to, estimated",
            ),
            reads: Rows::new("meter_read", "meter_id, read_date, reading")
                .fixed("kind", Value::Static(ReadKind::Estimated.code()))
                .fixed("created_at", Value::Int(now))
                .fixed("created_by", Value::Static("system:billing")),
            contacts: Rows::new("contact", "customer_id, account_id, summary")
                .fixed("channel", Value::Static("system"))
                .fixed("direction", Value::Static("outbound"))
                .fixed("reason_code", Value::Static("billing_question"))
                .fixed("sub_reason_code", Value::Static("bill_sent"))
                .fixed("started_at", Value::Int(now))
                .fixed("ended_at", Value::Int(now))
                .fixed("agent_name", Value::Static("system:billing"))
                .fixed("created_at", Value::Int(now)),
            skips: Rows::new("bill_run_skip", "bill_run_id, account_id, reason"),
        }
    }

    fn push_bill(&mut self, rated: &Rated, bill_id: i64, entry_id: Option<i64>, dates: &RunDates) {
        let number = bill_number(bill_id);
        let bill = &rated.bill;
        let summary = format!(
            "Bill {number} for {}: {} due {}{}",
            dates.label,
            format_money(bill.total_minor, rated.currency),
            dates.due_date,
            if bill.estimated { " (estimated read)" } else { "" }
        );
        self.bills.push([
            Value::Int(bill_id),
            Value::Text(number),
            Value::Int(rated.account_id),
            Value::Int(rated.customer_id),
            Value::Shared(dates.label.clone()),
            Value::Int(dates.bill_run_id),
            Value::Shared(dates.start.clone()),
            Value::Shared(dates.end.clone()),
            Value::Shared(dates.bill_date.clone()),
            Value::Shared(dates.due_date.clone()),
            Value::Static(rated.currency.code()),
            Value::Int(bill.subtotal_minor),
            Value::Int(bill.tax_minor),
            Value::Int(bill.total_minor),
            entry_id.map(Value::Int).unwrap_or(Value::NullInt),
            Value::Bool(bill.estimated),
        ]);
        for line in &bill.lines {
            self.lines.push([
                Value::Int(bill_id),
                Value::Int(line.agreement_id),
                Value::Text(line.service_type.clone()),
                Value::Static(line.kind.code()),
                Value::Text(line.description.clone()),
                line.quantity.map(Value::Int).unwrap_or(Value::NullInt),
                line.rate.clone().map(Value::Text).unwrap_or(Value::NullText),
                Value::Int(line.amount_minor),
                line.meter_number.clone().map(Value::Text).unwrap_or(Value::NullText),
                line.read_from.map(Value::Int).unwrap_or(Value::NullInt),
                line.read_to.map(Value::Int).unwrap_or(Value::NullInt),
                Value::Bool(line.estimated),
            ]);
        }
        for (meter_id, read) in &bill.new_reads {
            let date = if read.date == dates.bill_day.plus_days(-1) {
                Value::Shared(dates.end.clone())
            } else {
                Value::Text(read.date.to_string())
            };
            self.reads.push([Value::Int(*meter_id), date, Value::Int(read.reading)]);
        }
        self.contacts.push([Value::Int(rated.customer_id), Value::Int(rated.account_id), Value::Text(summary)]);
    }

    /// Writes every table's rows; answers the range of contact ids the contacts written lie in
    /// (the ids after the highest before them, up to the highest after): the batch's contacts
    /// and, on PostgreSQL, possibly another writer's interleaved with them. Two look-ups of the
    /// highest key, not a returned id for each of thousands of contacts.
    async fn flush(&mut self, tx: &mut Tx) -> Result<Option<(i64, i64)>, BillingError> {
        let mut statements = Statements::new(tx.backend());
        for rows in [&mut self.bills, &mut self.lines, &mut self.reads] {
            statements.flush(tx, rows).await?;
        }
        let before = store::max_contact_id(tx).await?;
        statements.flush(tx, &mut self.contacts).await?;
        let after = store::max_contact_id(tx).await?;
        statements.flush(tx, &mut self.skips).await?;
        Ok((after > before).then_some((before + 1, after)))
    }
}
