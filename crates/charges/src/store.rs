//! All of the charges module's SQL: settings, fee types and fees, adjustment reasons and
//! adjustments, deposits, arrangements and their instalments, and the read-only query over the
//! journal that tells an arrangement what the customer has paid since it started.

use db::{Result, Tx};
use kernel::Timestamp;
use serde::Serialize;

/// The facts about a customer account that charges need.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountFacts {
    pub account_id: i64,
    pub customer_id: i64,
    pub account_number: String,
    pub currency: String,
    pub credit_rating: String,
}

pub async fn find_account(tx: &mut Tx, account_id: i64) -> Result<Option<AccountFacts>> {
    db::fetch_optional!(
        tx,
        AccountFacts,
        "select account_id, customer_id, account_number, currency, credit_rating from account where account_id = $1",
        account_id
    )
}

/// One integer setting (approval limit, late-fee policy, deposit per credit rating).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SettingRow {
    pub setting_key: String,
    pub value: i64,
}

pub async fn setting(tx: &mut Tx, key: &str) -> Result<Option<i64>> {
    db::scalar_optional!(tx, i64, "select value from charge_setting where setting_key = $1", key)
}

pub async fn settings(tx: &mut Tx) -> Result<Vec<SettingRow>> {
    db::fetch_all!(tx, SettingRow, "select setting_key, value from charge_setting order by setting_key")
}

pub async fn set_setting(tx: &mut Tx, key: &str, value: i64, now: Timestamp) -> Result<u64> {
    db::execute!(
        tx,
        "update charge_setting set value = $1, updated_at = $2 where setting_key = $3",
        value,
        now.micros(),
        key
    )
}

/// A kind of fee with its default amount, from the admin-editable schedule.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct FeeTypeRow {
    pub code: String,
    pub label: String,
    /// In the minor unit of the account's currency.
    pub default_amount_minor: i64,
    pub active: bool,
}

pub async fn fee_types(tx: &mut Tx) -> Result<Vec<FeeTypeRow>> {
    db::fetch_all!(tx, FeeTypeRow, "select code, label, default_amount_minor, active from fee_type order by label")
}

pub async fn find_fee_type(tx: &mut Tx, code: &str) -> Result<Option<FeeTypeRow>> {
    db::fetch_optional!(
        tx,
        FeeTypeRow,
        "select code, label, default_amount_minor, active from fee_type where code = $1",
        code
    )
}

pub async fn insert_fee_type(tx: &mut Tx, code: &str, label: &str, amount_minor: i64, now: Timestamp) -> Result<()> {
    db::execute!(
        tx,
        "insert into fee_type (code, label, default_amount_minor, active, created_at) values ($1, $2, $3, $4, $5)",
        code,
        label,
        amount_minor,
        true,
        now.micros()
    )?;
    Ok(())
}

pub async fn update_fee_type(tx: &mut Tx, code: &str, label: &str, amount_minor: i64, active: bool) -> Result<u64> {
    db::execute!(
        tx,
        "update fee_type set label = $1, default_amount_minor = $2, active = $3 where code = $4",
        label,
        amount_minor,
        active,
        code
    )
}

/// A fee charged to an account.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct FeeRow {
    pub fee_id: i64,
    pub account_id: i64,
    pub fee_type_code: String,
    pub fee_type_label: String,
    pub currency: String,
    pub amount_minor: i64,
    pub memo: String,
    /// YYYY-MM-DD
    pub fee_date: String,
    /// The overdue open item a late fee was assessed on.
    pub late_fee_item_id: Option<i64>,
    pub entry_id: Option<i64>,
    pub created_by: String,
    /// Microseconds since the Unix epoch (UTC).
    pub created_at: i64,
}

macro_rules! select_fees {
    ($tail:literal) => {
        concat!(
            "select f.fee_id, f.account_id, f.fee_type_code, t.label as fee_type_label, f.currency, f.amount_minor, ",
            "f.memo, f.fee_date, f.late_fee_item_id, f.entry_id, f.created_by, f.created_at ",
            "from fee f join fee_type t on t.code = f.fee_type_code ",
            $tail
        )
    };
}

/// The facts one fee insert needs.
pub struct FeeFields<'a> {
    pub account_id: i64,
    pub fee_type_code: &'a str,
    pub currency: &'a str,
    pub amount_minor: i64,
    pub memo: &'a str,
    pub fee_date: &'a str,
    pub late_fee_item_id: Option<i64>,
    pub created_by: &'a str,
}

pub async fn insert_fee(tx: &mut Tx, f: &FeeFields<'_>, now: Timestamp) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into fee (account_id, fee_type_code, currency, amount_minor, memo, fee_date, late_fee_item_id,
                          created_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning fee_id",
        f.account_id,
        f.fee_type_code,
        f.currency,
        f.amount_minor,
        f.memo,
        f.fee_date,
        f.late_fee_item_id,
        f.created_by,
        now.micros()
    )
}

pub async fn set_fee_entry(tx: &mut Tx, fee_id: i64, entry_id: i64) -> Result<u64> {
    db::execute!(tx, "update fee set entry_id = $1 where fee_id = $2", entry_id, fee_id)
}

pub async fn find_fee(tx: &mut Tx, fee_id: i64) -> Result<Option<FeeRow>> {
    db::fetch_optional!(tx, FeeRow, select_fees!("where f.fee_id = $1"), fee_id)
}

pub async fn fees_of(tx: &mut Tx, account_id: i64, limit: i64) -> Result<Vec<FeeRow>> {
    db::fetch_all!(
        tx,
        FeeRow,
        select_fees!("where f.account_id = $1 order by f.fee_id desc limit $2"),
        account_id,
        limit
    )
}

/// An open item late enough for a late fee that has none yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LateItem {
    pub item_id: i64,
    pub account_id: i64,
    /// The account's customer, whom the late-fee notice goes to.
    pub customer_id: i64,
    pub currency: String,
    pub due_date: String,
    pub open_minor: i64,
    pub source_ref: String,
}

/// Open items due on or before `latest_due_date`, still owing, that are not fees themselves and
/// carry no late fee yet; `after_item_id` pages through them.
pub async fn late_items(tx: &mut Tx, latest_due_date: &str, after_item_id: i64, limit: i64) -> Result<Vec<LateItem>> {
    db::fetch_all!(
        tx,
        LateItem,
        "select i.item_id, i.account_id, a.customer_id, i.currency, i.due_date, i.open_minor, i.source_ref
         from open_item i join account a on a.account_id = i.account_id
         where i.open_minor > 0 and i.due_date <= $1 and i.kind <> 'fee' and i.item_id > $2
           and not exists (select 1 from fee f where f.late_fee_item_id = i.item_id)
         order by i.item_id limit $3",
        latest_due_date,
        after_item_id,
        limit
    )
}

/// A reason an adjustment may give.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ReasonRow {
    pub code: String,
    pub label: String,
    pub active: bool,
}

pub async fn reasons(tx: &mut Tx) -> Result<Vec<ReasonRow>> {
    db::fetch_all!(tx, ReasonRow, "select code, label, active from adjustment_reason order by label")
}

pub async fn find_reason(tx: &mut Tx, code: &str) -> Result<Option<ReasonRow>> {
    db::fetch_optional!(tx, ReasonRow, "select code, label, active from adjustment_reason where code = $1", code)
}

pub async fn insert_reason(tx: &mut Tx, code: &str, label: &str, now: Timestamp) -> Result<()> {
    db::execute!(
        tx,
        "insert into adjustment_reason (code, label, active, created_at) values ($1, $2, $3, $4)",
        code,
        label,
        true,
        now.micros()
    )?;
    Ok(())
}

pub async fn set_reason_active(tx: &mut Tx, code: &str, active: bool) -> Result<u64> {
    db::execute!(tx, "update adjustment_reason set active = $1 where code = $2", active, code)
}

/// An adjustment with its account number and reason label.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AdjustmentRow {
    pub adjustment_id: i64,
    pub account_id: i64,
    pub account_number: String,
    /// credit or debit
    pub direction: String,
    pub currency: String,
    pub amount_minor: i64,
    pub reason_code: String,
    pub reason_label: String,
    pub note: String,
    /// posted, pending_approval, approved or rejected
    pub status: String,
    pub requested_by_user_id: Option<i64>,
    pub requested_by: String,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
    pub decided_at: Option<i64>,
    pub entry_id: Option<i64>,
    /// Microseconds since the Unix epoch (UTC).
    pub created_at: i64,
}

macro_rules! select_adjustments {
    ($tail:literal) => {
        concat!(
            "select d.adjustment_id, d.account_id, a.account_number, d.direction, d.currency, d.amount_minor, ",
            "d.reason_code, r.label as reason_label, d.note, d.status, d.requested_by_user_id, d.requested_by, ",
            "d.decided_by, d.decision_note, d.decided_at, d.entry_id, d.created_at ",
            "from adjustment d join account a on a.account_id = d.account_id ",
            "join adjustment_reason r on r.code = d.reason_code ",
            $tail
        )
    };
}

/// The facts one adjustment insert needs.
pub struct AdjustmentFields<'a> {
    pub account_id: i64,
    pub direction: &'a str,
    pub currency: &'a str,
    pub amount_minor: i64,
    pub reason_code: &'a str,
    pub note: &'a str,
    pub status: &'a str,
    pub requested_by_user_id: Option<i64>,
    pub requested_by: &'a str,
}

pub async fn insert_adjustment(tx: &mut Tx, f: &AdjustmentFields<'_>, now: Timestamp) -> Result<i64> {
    db::scalar!(
        tx,
        i64,
        "insert into adjustment (account_id, direction, currency, amount_minor, reason_code, note, status,
                                 requested_by_user_id, requested_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning adjustment_id",
        f.account_id,
        f.direction,
        f.currency,
        f.amount_minor,
        f.reason_code,
        f.note,
        f.status,
        f.requested_by_user_id,
        f.requested_by,
        now.micros()
    )
}

pub async fn set_adjustment_entry(tx: &mut Tx, adjustment_id: i64, entry_id: i64) -> Result<u64> {
    db::execute!(tx, "update adjustment set entry_id = $1 where adjustment_id = $2", entry_id, adjustment_id)
}

/// Records a decision, only on a pending adjustment (so two supervisors deciding at once cannot
/// both succeed); yields the rows changed.
pub async fn decide_adjustment(
    tx: &mut Tx,
    adjustment_id: i64,
    status: &str,
    decided_by_user_id: Option<i64>,
    decided_by: &str,
    decision_note: &str,
    now: Timestamp,
) -> Result<u64> {
    db::execute!(
        tx,
        "update adjustment set status = $1, decided_by_user_id = $2, decided_by = $3, decision_note = $4,
                decided_at = $5
         where adjustment_id = $6 and status = 'pending_approval'",
        status,
        decided_by_user_id,
        decided_by,
        decision_note,
        now.micros(),
        adjustment_id
    )
}

pub async fn find_adjustment(tx: &mut Tx, adjustment_id: i64) -> Result<Option<AdjustmentRow>> {
    db::fetch_optional!(tx, AdjustmentRow, select_adjustments!("where d.adjustment_id = $1"), adjustment_id)
}

pub async fn adjustments_by_status(tx: &mut Tx, status: &str, limit: i64) -> Result<Vec<AdjustmentRow>> {
    db::fetch_all!(
        tx,
        AdjustmentRow,
        select_adjustments!("where d.status = $1 order by d.adjustment_id limit $2"),
        status,
        limit
    )
}

pub async fn adjustments_of(tx: &mut Tx, account_id: i64, limit: i64) -> Result<Vec<AdjustmentRow>> {
    db::fetch_all!(
        tx,
        AdjustmentRow,
        select_adjustments!("where d.account_id = $1 order by d.adjustment_id desc limit $2"),
        account_id,
        limit
    )
}

mod arrangements;
mod deposits;

pub use arrangements::*;
pub use deposits::*;
