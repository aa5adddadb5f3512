//! The charges operations, called alike by HTTP handlers, pages, the CLI, jobs, other modules
//! (a reconnect fee through [`charge_fee`]) and tests. Each takes the caller's transaction,
//! posts at most one balanced entry through the ledger and appends its audit record, so a
//! failure leaves nothing half-written. Split by concept: fees, adjustments, deposits,
//! arrangements; the helpers they share are here.

mod adjustments;
mod arrangements;
mod deposits;
mod fees;
mod notices;

pub use adjustments::*;
pub use arrangements::*;
pub use deposits::*;
pub use fees::*;
pub use notices::{ARRANGEMENT_BROKEN_NOTICE, DEPOSIT_BILLED_NOTICE, LATE_FEE_NOTICE, NOTICE_SETTING_PREFIX};

use crate::ChargeError;
use crate::model::LateFeePolicy;
use crate::store::{self, AccountFacts, SettingRow};
use db::Tx;
use db::audit::{self, AuditEvent};
use kernel::{Actor, Currency, Timestamp};
use serde_json::json;

/// How many rows an account's lists show.
pub const LIST_LIMIT: i64 = 100;

pub const APPROVAL_LIMIT_KEY: &str = "adjustment_approval_limit_minor";
const LATE_FEE_PERCENT_KEY: &str = "late_fee_percent_basis_points";
const LATE_FEE_MINIMUM_KEY: &str = "late_fee_minimum_minor";
const LATE_FEE_GRACE_KEY: &str = "late_fee_grace_period_days";

async fn record(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity: &str,
    id: i64,
    detail: serde_json::Value,
    now: Timestamp,
) -> Result<(), ChargeError> {
    audit::append(tx, actor, AuditEvent { action, entity, entity_id: id.to_string(), detail }, now).await?;
    Ok(())
}

/// A customer account and its currency; `missing` is the error when there is none (422 for an
/// id in a body, 404 for one in the path).
pub(crate) async fn account(
    tx: &mut Tx,
    account_id: i64,
    missing: ChargeError,
) -> Result<(AccountFacts, Currency), ChargeError> {
    let facts = store::find_account(tx, account_id).await?.ok_or(missing)?;
    let currency = Currency::parse(&facts.currency).map_err(|_| db::Error::Malformed("currency".into()))?;
    Ok((facts, currency))
}

/// Checks an account exists (for the lists of one account).
pub async fn require_account(tx: &mut Tx, account_id: i64) -> Result<AccountFacts, ChargeError> {
    Ok(account(tx, account_id, ChargeError::AccountNotFound).await?.0)
}

async fn setting_or(tx: &mut Tx, key: &str, default: i64) -> Result<i64, ChargeError> {
    Ok(store::setting(tx, key).await?.unwrap_or(default))
}

/// The limit above which an adjustment waits for approval.
pub async fn approval_limit_minor(tx: &mut Tx) -> Result<i64, ChargeError> {
    setting_or(tx, APPROVAL_LIMIT_KEY, 10_000).await
}

pub async fn late_fee_policy(tx: &mut Tx) -> Result<LateFeePolicy, ChargeError> {
    Ok(LateFeePolicy {
        percent_basis_points: setting_or(tx, LATE_FEE_PERCENT_KEY, 150).await?,
        minimum_minor: setting_or(tx, LATE_FEE_MINIMUM_KEY, 500).await?,
        grace_period_days: setting_or(tx, LATE_FEE_GRACE_KEY, 5).await?,
    })
}

/// The deposit a credit rating requires (0 when the rating is not in the settings).
pub async fn deposit_required_minor(tx: &mut Tx, credit_rating: &str) -> Result<i64, ChargeError> {
    setting_or(tx, &format!("deposit_minor.{credit_rating}"), 0).await
}

/// Charges' own settings, then the customer notices' switches (`notice.<key>`: 1 on, 0 off).
pub async fn settings(tx: &mut Tx) -> Result<Vec<SettingRow>, ChargeError> {
    let mut rows = store::settings(tx).await?;
    rows.extend(notices::notice_settings(tx).await?);
    Ok(rows)
}

/// Changes one setting (admins): the approval limit, the late-fee policy, a deposit amount, or
/// a customer notice's switch (`notice.<key>`, kept by correspondence).
pub async fn set_setting(
    tx: &mut Tx,
    actor: &Actor,
    key: &str,
    value: i64,
    now: Timestamp,
) -> Result<SettingRow, ChargeError> {
    if let Some(notice_key) = key.strip_prefix(NOTICE_SETTING_PREFIX) {
        return notices::set_notice_setting(tx, actor, notice_key, value, now).await;
    }
    if value < 0 {
        return Err(ChargeError::SettingValueInvalid);
    }
    let before = store::setting(tx, key).await?.ok_or(ChargeError::SettingUnknown)?;
    store::set_setting(tx, key, value, now).await?;
    let detail = json!({ "setting_key": key, "from": before, "to": value });
    audit::append(
        tx,
        actor,
        AuditEvent { action: "charge_setting.changed", entity: "charge_setting", entity_id: key.to_string(), detail },
        now,
    )
    .await?;
    Ok(SettingRow { setting_key: key.to_string(), value })
}
