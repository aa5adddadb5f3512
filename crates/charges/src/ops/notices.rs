//! The customer notices charges' events call for (a late fee assessed, a payment arrangement
//! broken, a deposit billed), sent through `correspondence::ops::send_notice` in the event's
//! own transaction: a rolled-back fee sends nothing, and the event key keeps it to one notice.
//! Each is switched on or off as a charges setting `notice.<key>` (1 or 0).

use crate::ChargeError;
use crate::model::{DepositStatus, document_ref};
use crate::store::{DepositRow, SettingRow};
use correspondence::ops::{NoticeOutcome, SendRequest};
use db::Tx;
use kernel::{Actor, Currency, Money, Timestamp};
use ledger::BusinessDate;

/// The notice (and template key) of a late fee assessed by the late-fee run.
pub const LATE_FEE_NOTICE: &str = "late_fee_assessed";
/// The notice of a payment arrangement the review found broken.
pub const ARRANGEMENT_BROKEN_NOTICE: &str = "arrangement_broken";
/// The notice of a security deposit billed to an account.
pub const DEPOSIT_BILLED_NOTICE: &str = "deposit_billed";
/// The prefix that makes a notice's switch a charges setting.
pub const NOTICE_SETTING_PREFIX: &str = "notice.";

/// One notice for one event: whose, about which account, with which `{{extra.<name>}}` values.
pub(crate) struct ChargeNotice<'a> {
    pub key: &'static str,
    pub event_key: String,
    pub customer_id: i64,
    pub account_id: i64,
    pub extra: Vec<(&'a str, String)>,
}

/// Sends it as the system user of charges.
pub(crate) async fn send(tx: &mut Tx, notice: ChargeNotice<'_>, now: Timestamp) -> Result<NoticeOutcome, ChargeError> {
    let request = SendRequest {
        template_key: notice.key.to_string(),
        customer_id: notice.customer_id,
        account_id: Some(notice.account_id),
        extra: notice.extra.into_iter().map(|(name, value)| (name.to_string(), value)).collect(),
        ..SendRequest::default()
    };
    let actor = Actor::system("charges");
    Ok(correspondence::ops::send_notice(tx, &actor, &notice.event_key, request, now).await?)
}

/// An amount in minor units as the customer reads it (`$12.50`); the code for an unknown currency.
pub(crate) fn amount_text(minor: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(currency) => Money::new(minor, currency).to_string(),
        Err(_) => format!("{minor} {currency}"),
    }
}

/// Every notice's switch, as settings `notice.<key>` (1 on, 0 off), after charges' own.
pub(crate) async fn notice_settings(tx: &mut Tx) -> Result<Vec<SettingRow>, ChargeError> {
    let notices = correspondence::ops::notices(tx).await?;
    Ok(notices
        .into_iter()
        .map(|n| SettingRow {
            setting_key: format!("{NOTICE_SETTING_PREFIX}{}", n.notice_key),
            value: i64::from(n.enabled),
        })
        .collect())
}

/// Switches one notice; `key` is the notice's key without the prefix.
pub(crate) async fn set_notice_setting(
    tx: &mut Tx,
    actor: &Actor,
    key: &str,
    value: i64,
    now: Timestamp,
) -> Result<SettingRow, ChargeError> {
    let enabled = match value {
        0 => false,
        1 => true,
        _ => return Err(ChargeError::NoticeSwitchInvalid),
    };
    let row = correspondence::ops::set_notice_enabled(tx, actor, key, enabled, now).await?;
    let row = row.ok_or(ChargeError::SettingUnknown)?;
    Ok(SettingRow { setting_key: format!("{NOTICE_SETTING_PREFIX}{}", row.notice_key), value: i64::from(row.enabled) })
}

/// Tells the customer a deposit was billed (the `deposit_billed` notice), keyed to the deposit.
/// A deposit a credit balance paid at once is held already, owes nothing and is not announced.
pub(crate) async fn deposit_billed_notice(
    tx: &mut Tx,
    row: &DepositRow,
    customer_id: i64,
    due_date: BusinessDate,
    now: Timestamp,
) -> Result<(), ChargeError> {
    if row.status != DepositStatus::Billed.code() {
        return Ok(());
    }
    let deposit_number = document_ref("DEP", row.deposit_id);
    let notice = ChargeNotice {
        key: DEPOSIT_BILLED_NOTICE,
        event_key: deposit_number.clone(),
        customer_id,
        account_id: row.account_id,
        extra: vec![
            ("deposit_amount", amount_text(row.amount_minor, &row.currency)),
            ("deposit_number", deposit_number),
            ("deposit_due_date", due_date.to_string()),
        ],
    };
    send(tx, notice, now).await?;
    Ok(())
}
