//! Payment arrangements: the account's arrears split into instalments with due dates. No money
//! moves; the customer's payments do. A review compares the credits to the account's receivable
//! since the arrangement started with the instalments due, marking each paid or missed and the
//! arrangement kept (completed) or broken; a broken one logs a system contact.

use super::{LIST_LIMIT, account, record};
use crate::ChargeError;
use crate::model::{ArrangementStatus, Frequency, Instalment, InstalmentStatus, review, split_instalments};
use crate::store::{self, ArrangementFields, ArrangementRow, InstalmentRow};
use db::{Db, Tx};
use kernel::{Actor, Timestamp};
use ledger::BusinessDate;
use serde::Serialize;
use serde_json::json;

/// The job kind that reviews active arrangements as of the day it runs.
pub const REVIEW_ARRANGEMENTS_JOB: &str = "charges.review_arrangements";
/// How many arrangements one transaction of a review handles.
const REVIEW_BATCH: i64 = 200;

/// An arrangement to make, parsed.
#[derive(Debug, Clone)]
pub struct NewArrangement {
    pub account_id: i64,
    pub instalment_count: u32,
    pub frequency: Frequency,
    pub first_due_date: BusinessDate,
}

impl NewArrangement {
    pub fn parse(
        account_id: i64,
        instalment_count: i64,
        frequency: &str,
        first_due_date: &str,
    ) -> Result<NewArrangement, ChargeError> {
        let count = u32::try_from(instalment_count).map_err(|_| ChargeError::InstalmentCountInvalid)?;
        if !(1..=crate::model::MAX_INSTALMENTS).contains(&count) {
            return Err(ChargeError::InstalmentCountInvalid);
        }
        Ok(NewArrangement {
            account_id: crate::model::parse_id(account_id, "account_id")?,
            instalment_count: count,
            frequency: Frequency::parse(frequency)?,
            first_due_date: crate::model::parse_date(first_due_date, "first_due_date")?,
        })
    }
}

/// An arrangement with its instalments.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArrangementView {
    pub arrangement: ArrangementRow,
    pub instalments: Vec<InstalmentRow>,
}

async fn view(tx: &mut Tx, arrangement_id: i64) -> Result<ArrangementView, ChargeError> {
    let arrangement = store::find_arrangement(tx, arrangement_id).await?.ok_or(ChargeError::ArrangementNotFound)?;
    let instalments = store::instalments_of(tx, arrangement_id).await?;
    Ok(ArrangementView { arrangement, instalments })
}

/// Makes an arrangement over what the account owes now, split into equal instalments (the
/// remainder on the last). One active arrangement per account.
pub async fn make_arrangement(
    tx: &mut Tx,
    actor: &Actor,
    new: NewArrangement,
    now: Timestamp,
) -> Result<ArrangementView, ChargeError> {
    let (facts, currency) = account(tx, new.account_id, ChargeError::AccountUnknown).await?;
    if store::active_arrangement_of(tx, facts.account_id).await?.is_some() {
        return Err(ChargeError::ArrangementAlreadyActive);
    }
    let arrears = ledger::ops::receivable_balance(tx, facts.account_id, currency).await?;
    if arrears.amount_minor <= 0 {
        return Err(ChargeError::NoArrears);
    }
    let parts = split_instalments(arrears.amount_minor, new.instalment_count)?;
    let created_by = actor.name();
    let first_due_date = new.first_due_date.to_string();
    let fields = ArrangementFields {
        account_id: facts.account_id,
        currency: currency.code(),
        total_minor: arrears.amount_minor,
        instalment_count: i64::from(new.instalment_count),
        frequency: new.frequency.code(),
        first_due_date: &first_due_date,
        start_after_line_id: store::last_line_id(tx).await?,
        created_by: &created_by,
    };
    let arrangement_id = store::insert_arrangement(tx, &fields, now).await?;
    for (index, amount) in (0_u32..).zip(parts) {
        let due = new.frequency.due_date(new.first_due_date, index).to_string();
        store::insert_instalment(tx, arrangement_id, i64::from(index) + 1, &due, amount).await?;
    }
    let detail = json!({ "account_id": facts.account_id, "total_minor": arrears.amount_minor,
        "currency": currency.code(), "instalment_count": new.instalment_count, "frequency": fields.frequency,
        "first_due_date": first_due_date });
    record(tx, actor, "arrangement.made", "arrangement", arrangement_id, detail, now).await?;
    let summary = format!(
        "Payment arrangement: {arrears} {} in {} {} instalments from {first_due_date}",
        currency.code(),
        new.instalment_count,
        new.frequency.code()
    );
    contacts::ops::log_system_contact(
        tx,
        facts.customer_id,
        Some(facts.account_id),
        "payment_arrangement",
        &summary,
        now,
    )
    .await?;
    view(tx, arrangement_id).await
}

pub async fn get_arrangement(tx: &mut Tx, arrangement_id: i64) -> Result<ArrangementView, ChargeError> {
    view(tx, arrangement_id).await
}

/// An account's arrangements, newest first.
pub async fn arrangements_of(tx: &mut Tx, account_id: i64) -> Result<Vec<ArrangementRow>, ChargeError> {
    super::require_account(tx, account_id).await?;
    Ok(store::arrangements_of(tx, account_id, LIST_LIMIT).await?)
}

/// Cancels an active arrangement (the customer paid in full some other way, or a new one
/// replaces it).
pub async fn cancel_arrangement(
    tx: &mut Tx,
    actor: &Actor,
    arrangement_id: i64,
    now: Timestamp,
) -> Result<ArrangementView, ChargeError> {
    let current = view(tx, arrangement_id).await?.arrangement;
    let cancelled = ArrangementStatus::Cancelled;
    let active = ArrangementStatus::Active;
    let changed =
        store::update_arrangement(tx, arrangement_id, active.code(), cancelled.code(), current.credited_minor, now)
            .await?;
    if changed == 0 {
        return Err(ChargeError::ArrangementNotActive);
    }
    record(tx, actor, "arrangement.cancelled", "arrangement", arrangement_id, json!({}), now).await?;
    view(tx, arrangement_id).await
}

/// What one review did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ReviewRun {
    pub as_of: String,
    pub reviewed: i64,
    pub kept: i64,
    pub broken: i64,
}

/// Reviews every active arrangement as of `as_of`, a batch per transaction.
pub async fn review_arrangements(db: &Db, as_of: BusinessDate, now: Timestamp) -> Result<ReviewRun, ChargeError> {
    let actor = Actor::system("charges");
    let mut run = ReviewRun { as_of: as_of.to_string(), ..ReviewRun::default() };
    let mut after_id = 0;
    loop {
        let mut tx = db.begin().await?;
        let batch = store::active_arrangements(&mut tx, after_id, REVIEW_BATCH).await?;
        let Some(last) = batch.last() else {
            tx.rollback().await?;
            break;
        };
        after_id = last.arrangement_id;
        for row in &batch {
            match review_one(&mut tx, &actor, row, as_of, now).await? {
                ArrangementStatus::Completed => run.kept += 1,
                ArrangementStatus::Broken => run.broken += 1,
                _ => {}
            }
            run.reviewed += 1;
        }
        tx.commit().await?;
    }
    Ok(run)
}

/// Reviews one arrangement; yields its status afterwards.
pub async fn review_one(
    tx: &mut Tx,
    actor: &Actor,
    row: &ArrangementRow,
    as_of: BusinessDate,
    now: Timestamp,
) -> Result<ArrangementStatus, ChargeError> {
    let credited = store::receivable_credits_since(tx, row.account_id, &row.currency, row.start_after_line_id).await?;
    let rows = store::instalments_of(tx, row.arrangement_id).await?;
    let mut instalments = Vec::with_capacity(rows.len());
    for r in &rows {
        let due_date = crate::model::parse_date(&r.due_date, "due_date")?;
        instalments.push(Instalment { due_date, amount_minor: r.amount_minor });
    }
    let (statuses, overall) = review(&instalments, credited, as_of);
    for (r, status) in rows.iter().zip(&statuses) {
        if r.status != status.code() {
            store::set_instalment_status(tx, row.arrangement_id, r.seq, status.code()).await?;
        }
    }
    let active = ArrangementStatus::Active.code();
    if store::update_arrangement(tx, row.arrangement_id, active, overall.code(), credited, now).await? == 0 {
        return Err(ChargeError::ArrangementNotActive);
    }
    if overall != ArrangementStatus::Active {
        let missed = statuses.iter().filter(|s| **s == InstalmentStatus::Missed).count();
        let action = if overall == ArrangementStatus::Broken { "arrangement.broken" } else { "arrangement.kept" };
        let detail = json!({ "credited_minor": credited, "missed_instalments": missed, "as_of": as_of.to_string() });
        record(tx, actor, action, "arrangement", row.arrangement_id, detail, now).await?;
    }
    if overall == ArrangementStatus::Broken {
        let facts = store::find_account(tx, row.account_id).await?.ok_or(ChargeError::AccountUnknown)?;
        let summary = format!(
            "Payment arrangement {} broken: {missed} instalment(s) missed as of {as_of}",
            row.arrangement_id,
            missed = statuses.iter().filter(|s| **s == InstalmentStatus::Missed).count()
        );
        contacts::ops::log_system_contact(
            tx,
            facts.customer_id,
            Some(row.account_id),
            "arrangement_broken",
            &summary,
            now,
        )
        .await?;
        broken_notice(tx, row, &rows, &statuses, facts.customer_id, now).await?;
    }
    Ok(overall)
}

/// Tells the customer their arrangement is broken (the `arrangement_broken` notice), naming the
/// first instalment missed; keyed to the arrangement, which breaks once.
async fn broken_notice(
    tx: &mut Tx,
    row: &ArrangementRow,
    instalments: &[InstalmentRow],
    statuses: &[InstalmentStatus],
    customer_id: i64,
    now: Timestamp,
) -> Result<(), ChargeError> {
    let missed: Vec<&InstalmentRow> =
        instalments.iter().zip(statuses).filter(|(_, s)| **s == InstalmentStatus::Missed).map(|(r, _)| r).collect();
    let Some(first) = missed.first() else { return Ok(()) };
    let notice = super::notices::ChargeNotice {
        key: super::ARRANGEMENT_BROKEN_NOTICE,
        event_key: crate::model::document_ref("ARR", row.arrangement_id),
        customer_id,
        account_id: row.account_id,
        extra: vec![
            ("instalment_amount", super::notices::amount_text(first.amount_minor, &row.currency)),
            ("instalment_due_date", first.due_date.clone()),
            ("instalment_number", first.seq.to_string()),
            ("missed_count", missed.len().to_string()),
            ("arrangement_total", super::notices::amount_text(row.total_minor, &row.currency)),
        ],
    };
    super::notices::send(tx, notice, now).await?;
    Ok(())
}

/// `caredesk charges review-arrangements --as-of DATE`: runs the review and says what it did.
pub async fn review_arrangements_cli(db: &Db, as_of: &str, now: Timestamp) -> Result<String, ChargeError> {
    let as_of = crate::model::parse_date(as_of, "as_of")?;
    let run = review_arrangements(db, as_of, now).await?;
    Ok(format!("arrangements as of {}: {} reviewed, {} kept, {} broken", run.as_of, run.reviewed, run.kept, run.broken))
}

/// The job handler of [`REVIEW_ARRANGEMENTS_JOB`]: the payload may name `as_of`; otherwise today.
pub async fn review_arrangements_job(db: Db, payload: &str, now: Timestamp) -> Result<(), String> {
    let value: serde_json::Value = serde_json::from_str(payload).unwrap_or(serde_json::Value::Null);
    let as_of = match value.get("as_of").and_then(|v| v.as_str()) {
        Some(text) => crate::model::parse_date(text, "as_of").map_err(|e| e.to_string())?,
        None => BusinessDate::of(now),
    };
    let run = review_arrangements(&db, as_of, now).await.map_err(|e| e.to_string())?;
    tracing::info!(reviewed = run.reviewed, kept = run.kept, broken = run.broken, "arrangements reviewed");
    Ok(())
}
