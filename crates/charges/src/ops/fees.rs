//! Special fees: a clerk's manual fee of a type from the fee schedule, the reconnect (or any)
//! fee other modules charge through [`charge_fee`], and late fees assessed by policy on open
//! items past due, at most once per item.

use super::{LIST_LIMIT, account, late_fee_policy, record};
use crate::ChargeError;
use crate::model::{Code, document_ref, parse_amount, parse_label, parse_note};
use crate::store::{self, FeeFields, FeeRow, FeeTypeRow, LateItem};
use db::{Db, Tx};
use kernel::{Actor, Currency, Money, Timestamp};
use ledger::{BusinessDate, EntryDraft, LedgerCode, LineDraft};
use serde::Serialize;
use serde_json::json;

/// The fee type every late fee is charged as.
pub const LATE_FEE: &str = "late_fee";
/// The fee type of a reconnection, charged by the module that reconnects.
pub const RECONNECT_FEE: &str = "reconnect_fee";
/// The job kind that assesses late fees as of the day it runs.
pub const LATE_FEES_JOB: &str = "charges.late_fees";
/// How many overdue items one transaction of a late-fee run charges.
const LATE_FEE_BATCH: i64 = 200;

/// A fee to charge. `amount` is decimal text in the account's currency; absent, the fee
/// type's default amount is charged.
#[derive(Debug, Clone)]
pub struct NewFee {
    pub account_id: i64,
    pub fee_type: Code,
    pub amount: Option<String>,
    pub memo: String,
    /// The business date it books on and falls due; defaults to today.
    pub fee_date: Option<BusinessDate>,
}

impl NewFee {
    pub fn parse(
        account_id: i64,
        fee_type: &str,
        amount: Option<&str>,
        memo: &str,
        fee_date: Option<&str>,
    ) -> Result<NewFee, ChargeError> {
        Ok(NewFee {
            account_id: crate::model::parse_id(account_id, "account_id")?,
            fee_type: Code::parse(fee_type, "fee_type")?,
            amount: amount.map(str::trim).filter(|a| !a.is_empty()).map(str::to_string),
            memo: parse_note(memo, "memo")?,
            fee_date: match fee_date.map(str::trim).filter(|d| !d.is_empty()) {
                Some(text) => Some(crate::model::parse_date(text, "fee_date")?),
                None => None,
            },
        })
    }
}

/// Charges a fee: Dr receivable (account) / Cr fees revenue, with an open item due on the fee
/// date, settled at once from any credit balance.
pub async fn charge_fee(tx: &mut Tx, actor: &Actor, new: NewFee, now: Timestamp) -> Result<FeeRow, ChargeError> {
    let (facts, currency) = account(tx, new.account_id, ChargeError::AccountUnknown).await?;
    let fee_type = store::find_fee_type(tx, new.fee_type.as_str()).await?;
    let fee_type = fee_type.filter(|t| t.active).ok_or(ChargeError::FeeTypeUnknown)?;
    let amount = match new.amount.as_deref() {
        Some(text) => parse_amount(text, currency, "amount")?,
        None if fee_type.default_amount_minor > 0 => Money::new(fee_type.default_amount_minor, currency),
        None => return Err(ChargeError::AmountInvalid { field: "amount" }),
    };
    let fee_date = new.fee_date.unwrap_or_else(|| BusinessDate::of(now));
    let memo = if new.memo.is_empty() { fee_type.label.clone() } else { new.memo.clone() };
    post_fee(tx, actor, facts.account_id, &fee_type, amount, &memo, fee_date, None, now).await
}

#[allow(clippy::too_many_arguments)]
async fn post_fee(
    tx: &mut Tx,
    actor: &Actor,
    account_id: i64,
    fee_type: &FeeTypeRow,
    amount: Money,
    memo: &str,
    fee_date: BusinessDate,
    late_fee_item_id: Option<i64>,
    now: Timestamp,
) -> Result<FeeRow, ChargeError> {
    let created_by = actor.name();
    let date_text = fee_date.to_string();
    let fields = FeeFields {
        account_id,
        fee_type_code: &fee_type.code,
        currency: amount.currency.code(),
        amount_minor: amount.amount_minor,
        memo,
        fee_date: &date_text,
        late_fee_item_id,
        created_by: &created_by,
    };
    let fee_id = store::insert_fee(tx, &fields, now).await?;
    let source_ref = document_ref("FEE", fee_id);
    let draft = EntryDraft::new(fee_date, "fee", source_ref.clone())
        .memo(format!("{}: {memo}", fee_type.label))
        .line(LineDraft::debit(LedgerCode::RECEIVABLE, Some(account_id), amount))
        .line(LineDraft::credit(LedgerCode::FEES_REVENUE, None, amount));
    let posted = ledger::ops::post(tx, actor, &draft, now).await?;
    store::set_fee_entry(tx, fee_id, posted.entry_id).await?;
    ledger::ops::charge(tx, account_id, posted.entry_id, "fee", &source_ref, fee_date, amount, now).await?;
    let detail = json!({
        "account_id": account_id, "fee_type": fee_type.code, "amount_minor": amount.amount_minor,
        "currency": amount.currency.code(), "entry_id": posted.entry_id, "late_fee_item_id": late_fee_item_id,
    });
    record(tx, actor, "fee.charged", "fee", fee_id, detail, now).await?;
    store::find_fee(tx, fee_id).await?.ok_or(ChargeError::Db(db::Error::Malformed("fee vanished".into())))
}

/// An account's fees, newest first.
pub async fn fees_of(tx: &mut Tx, account_id: i64) -> Result<Vec<FeeRow>, ChargeError> {
    super::require_account(tx, account_id).await?;
    Ok(store::fees_of(tx, account_id, LIST_LIMIT).await?)
}

/// What one late-fee run did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct LateFeeRun {
    pub as_of: String,
    /// Overdue items charged a late fee.
    pub assessed: i64,
    /// The late fees charged, per currency, in minor units.
    pub total_minor: Vec<(String, i64)>,
}

/// Charges the configured late fee on every open item more than the grace period past due on
/// `as_of` that has none yet, a batch per transaction. Fees are not charged late fees. The
/// unique key on `fee.late_fee_item_id` keeps it to one per item even if two runs overlap.
pub async fn assess_late_fees(db: &Db, as_of: BusinessDate, now: Timestamp) -> Result<LateFeeRun, ChargeError> {
    let actor = Actor::system("charges");
    let mut run = LateFeeRun { as_of: as_of.to_string(), ..LateFeeRun::default() };
    let mut after_item_id = 0;
    loop {
        let mut tx = db.begin().await?;
        let policy = late_fee_policy(&mut tx).await?;
        let fee_type = store::find_fee_type(&mut tx, LATE_FEE).await?.ok_or(ChargeError::FeeTypeUnknown)?;
        let latest = policy.latest_late_due_date(as_of).to_string();
        let items = store::late_items(&mut tx, &latest, after_item_id, LATE_FEE_BATCH).await?;
        let Some(last) = items.last() else {
            tx.rollback().await?;
            break;
        };
        after_item_id = last.item_id;
        for item in &items {
            let currency = Currency::parse(&item.currency).map_err(|_| db::Error::Malformed("currency".into()))?;
            let amount = Money::new(policy.fee_minor(item.open_minor), currency);
            if amount.amount_minor <= 0 {
                continue;
            }
            let memo = format!("Late fee on {} due {}", item.source_ref, item.due_date);
            let fee =
                post_fee(&mut tx, &actor, item.account_id, &fee_type, amount, &memo, as_of, Some(item.item_id), now)
                    .await?;
            late_fee_notice(&mut tx, item, &fee, now).await?;
            run.assessed += 1;
            match run.total_minor.iter_mut().find(|(code, _)| code == currency.code()) {
                Some((_, total)) => *total += amount.amount_minor,
                None => run.total_minor.push((currency.code().to_string(), amount.amount_minor)),
            }
        }
        tx.commit().await?;
    }
    Ok(run)
}

/// Tells the customer of a late fee just charged (the `late_fee_assessed` notice), keyed to the
/// fee, which is itself one per overdue item.
async fn late_fee_notice(tx: &mut Tx, item: &LateItem, fee: &FeeRow, now: Timestamp) -> Result<(), ChargeError> {
    let fee_number = document_ref("FEE", fee.fee_id);
    let notice = super::notices::ChargeNotice {
        key: super::LATE_FEE_NOTICE,
        event_key: fee_number.clone(),
        customer_id: item.customer_id,
        account_id: item.account_id,
        extra: vec![
            ("fee_amount", super::notices::amount_text(fee.amount_minor, &fee.currency)),
            ("fee_number", fee_number),
            ("item_reference", item.source_ref.clone()),
            ("item_due_date", item.due_date.clone()),
            ("item_open_amount", super::notices::amount_text(item.open_minor, &item.currency)),
        ],
    };
    super::notices::send(tx, notice, now).await?;
    Ok(())
}

/// `caredesk charges late-fees --as-of DATE`: runs [`assess_late_fees`] and says what it did.
pub async fn late_fees_cli(db: &Db, as_of: &str, now: Timestamp) -> Result<String, ChargeError> {
    let as_of = crate::model::parse_date(as_of, "as_of")?;
    let run = assess_late_fees(db, as_of, now).await?;
    let totals: Vec<String> = run
        .total_minor
        .iter()
        .filter_map(|(code, minor)| Currency::parse(code).ok().map(|c| Money::new(*minor, c).to_string()))
        .collect();
    let totals = if totals.is_empty() { "nothing".to_string() } else { totals.join(", ") };
    Ok(format!("late fees as of {}: {} overdue items charged, {totals}", run.as_of, run.assessed))
}

/// The job handler of [`LATE_FEES_JOB`]: the payload may name `as_of`; otherwise today.
pub async fn late_fees_job(db: Db, payload: &str, now: Timestamp) -> Result<(), String> {
    let value: serde_json::Value = serde_json::from_str(payload).unwrap_or(serde_json::Value::Null);
    let as_of = match value.get("as_of").and_then(|v| v.as_str()) {
        Some(text) => crate::model::parse_date(text, "as_of").map_err(|e| e.to_string())?,
        None => BusinessDate::of(now),
    };
    let run = assess_late_fees(&db, as_of, now).await.map_err(|e| e.to_string())?;
    tracing::info!(assessed = run.assessed, as_of = %run.as_of, "late fees assessed");
    Ok(())
}

pub async fn fee_types(tx: &mut Tx) -> Result<Vec<FeeTypeRow>, ChargeError> {
    Ok(store::fee_types(tx).await?)
}

/// Adds a fee type to the schedule, or changes one's label, default amount and whether it is
/// active (admins).
pub async fn save_fee_type(
    tx: &mut Tx,
    actor: &Actor,
    code: &Code,
    label: &str,
    default_amount_minor: i64,
    active: bool,
    now: Timestamp,
) -> Result<FeeTypeRow, ChargeError> {
    let label = parse_label(label)?;
    if default_amount_minor < 0 {
        return Err(ChargeError::AmountInvalid { field: "default_amount" });
    }
    let action = if store::update_fee_type(tx, code.as_str(), &label, default_amount_minor, active).await? == 0 {
        store::insert_fee_type(tx, code.as_str(), &label, default_amount_minor, now).await?;
        "fee_type.added"
    } else {
        "fee_type.changed"
    };
    let detail = json!({ "code": code.as_str(), "label": label, "default_amount_minor": default_amount_minor,
        "active": active });
    audit_code(tx, actor, action, "fee_type", code.as_str(), detail, now).await?;
    Ok(FeeTypeRow {
        code: code.as_str().to_string(),
        label,
        default_amount_minor,
        active: active || action == "fee_type.added",
    })
}

pub(crate) async fn audit_code(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity: &str,
    code: &str,
    detail: serde_json::Value,
    now: Timestamp,
) -> Result<(), ChargeError> {
    let event = db::audit::AuditEvent { action, entity, entity_id: code.to_string(), detail };
    db::audit::append(tx, actor, event, now).await?;
    Ok(())
}
