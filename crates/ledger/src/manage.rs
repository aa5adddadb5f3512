//! What an administrator does to the books by hand: edit the chart of accounts, post a manual
//! journal entry, reverse an entry. Each writes its audit record in the same transaction, and a
//! posting that touches a customer's receivable re-settles that account's open items.

use crate::LedgerError;
use crate::model::{BusinessDate, EntryDraft, LedgerKind, LineDraft, parse_currency};
use crate::ops::{self, Posted};
use crate::report_store;
use crate::store::{self, LedgerAccountRow};
use db::Tx;
use db::audit::{self, AuditEvent};
use kernel::{Actor, Currency, Money, Timestamp};
use std::collections::BTreeSet;

/// What went wrong with input that the core errors do not name.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("must be a positive amount such as 12.30 in the line's currency")]
    AmountInvalid { field: &'static str },
    #[error("give either a debit or a credit on each line")]
    DebitOrCredit { field: &'static str },
    #[error("must be on or after from")]
    RangeReversed { field: &'static str },
    #[error("must be 1 to 200 characters without control characters")]
    NameInvalid { field: &'static str },
    #[error("no such customer account")]
    AccountNotFound,
}

impl web::Problem for InputError {
    fn status(&self) -> http::StatusCode {
        match self {
            InputError::AccountNotFound => http::StatusCode::NOT_FOUND,
            _ => http::StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            InputError::AmountInvalid { .. } => "amount_invalid",
            InputError::DebitOrCredit { .. } => "debit_or_credit",
            InputError::RangeReversed { .. } => "range_reversed",
            InputError::NameInvalid { .. } => "name_invalid",
            InputError::AccountNotFound => "account_not_found",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            InputError::AmountInvalid { field }
            | InputError::DebitOrCredit { field }
            | InputError::RangeReversed { field }
            | InputError::NameInvalid { field } => Some(field),
            InputError::AccountNotFound => None,
        }
    }
}

/// A ledger account code: 2 to 10 digits.
pub fn parse_code(text: &str) -> Result<String, LedgerError> {
    let code = text.trim();
    if !(2..=10).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(LedgerError::CodeInvalid);
    }
    Ok(code.to_string())
}

pub fn parse_name(text: &str, field: &'static str) -> Result<String, InputError> {
    let name = text.trim();
    let length = name.chars().count();
    if length == 0 || length > 200 || name.chars().any(char::is_control) {
        return Err(InputError::NameInvalid { field });
    }
    Ok(name.to_string())
}

async fn record(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity: &str,
    id: String,
    detail: serde_json::Value,
    now: Timestamp,
) -> Result<(), LedgerError> {
    audit::append(tx, actor, AuditEvent { action, entity, entity_id: id, detail }, now).await?;
    Ok(())
}

pub async fn chart(tx: &mut Tx) -> Result<Vec<LedgerAccountRow>, LedgerError> {
    Ok(store::ledger_accounts(tx).await?)
}

/// Adds a ledger account to the chart.
pub async fn add_account(
    tx: &mut Tx,
    actor: &Actor,
    code: &str,
    name: &str,
    kind: LedgerKind,
    now: Timestamp,
) -> Result<LedgerAccountRow, LedgerError> {
    let id = store::insert_ledger_account(tx, code, name, kind.code(), now)
        .await
        .map_err(|e| if e.is_unique_violation() { LedgerError::CodeTaken } else { LedgerError::Db(e) })?;
    let detail = serde_json::json!({"code": code, "name": name, "kind": kind.code()});
    record(tx, actor, "ledger_account.added", "ledger_account", code.to_string(), detail, now).await?;
    Ok(LedgerAccountRow {
        ledger_account_id: id,
        code: code.to_string(),
        name: name.to_string(),
        kind: kind.code().to_string(),
        active: true,
    })
}

/// Renames, deactivates or reactivates a ledger account (its code and kind never change).
pub async fn change_account(
    tx: &mut Tx,
    actor: &Actor,
    code: &str,
    name: Option<&str>,
    active: Option<bool>,
    now: Timestamp,
) -> Result<LedgerAccountRow, LedgerError> {
    let before = store::ledger_accounts(tx)
        .await?
        .into_iter()
        .find(|a| a.code == code)
        .ok_or(LedgerError::LedgerAccountUnknown { field: "code" })?;
    let after = LedgerAccountRow {
        name: name.map(str::to_string).unwrap_or_else(|| before.name.clone()),
        active: active.unwrap_or(before.active),
        ..before.clone()
    };
    store::update_ledger_account(tx, code, &after.name, after.active).await?;
    let detail = serde_json::json!({
        "before": {"name": before.name, "active": before.active},
        "after": {"name": after.name, "active": after.active},
    });
    record(tx, actor, "ledger_account.changed", "ledger_account", code.to_string(), detail, now).await?;
    Ok(after)
}

/// One line of a manual entry as typed: a debit or a credit, in major units.
#[derive(Debug, Clone)]
pub struct ManualLine {
    pub ledger_code: String,
    pub account_id: Option<i64>,
    pub currency: String,
    pub debit: Option<String>,
    pub credit: Option<String>,
}

/// Turns typed lines into line drafts, naming the field at fault.
pub fn parse_lines(lines: &[ManualLine]) -> Result<Vec<LineDraft>, web::ApiError> {
    let mut drafts = Vec::with_capacity(lines.len());
    for line in lines {
        let currency = parse_currency(&line.currency)?;
        let amount = |text: &str, field: &'static str| -> Result<Money, InputError> {
            match Money::parse(text, currency) {
                Ok(m) if m.amount_minor > 0 => Ok(m),
                _ => Err(InputError::AmountInvalid { field }),
            }
        };
        let code = line.ledger_code.trim();
        let draft = match (line.debit.as_deref().filter(|t| !t.trim().is_empty()), line.credit.as_deref()) {
            (Some(d), None) => LineDraft::debit(code, line.account_id, amount(d, "debit")?),
            (None, Some(c)) if !c.trim().is_empty() => LineDraft::credit(code, line.account_id, amount(c, "credit")?),
            _ => return Err(InputError::DebitOrCredit { field: "lines" }.into()),
        };
        drafts.push(draft);
    }
    Ok(drafts)
}

/// Posts a manual entry numbered `JE-000001`, … and re-settles the customer accounts it
/// touched.
pub async fn post_manual(
    tx: &mut Tx,
    actor: &Actor,
    entry_date: BusinessDate,
    memo: &str,
    lines: Vec<LineDraft>,
    now: Timestamp,
) -> Result<Posted, LedgerError> {
    let number = report_store::count_entries_of_kind(tx, "manual").await?.saturating_add(1);
    let mut draft = EntryDraft::new(entry_date, "manual", format!("JE-{number:06}")).memo(memo);
    draft.lines = lines;
    let posted = ops::post(tx, actor, &draft, now).await?;
    settle_touched(tx, &draft, posted.entry_id, now).await?;
    let detail = serde_json::json!({"source_ref": posted.source_ref, "entry_date": entry_date.to_string(),
        "memo": memo, "lines": draft.lines.len()});
    record(tx, actor, "ledger.entry_posted", "journal_entry", posted.entry_id.to_string(), detail, now).await?;
    Ok(posted)
}

async fn settle_touched(tx: &mut Tx, draft: &EntryDraft, entry_id: i64, now: Timestamp) -> Result<(), LedgerError> {
    let touched: BTreeSet<(i64, &'static str)> = draft
        .lines
        .iter()
        .filter(|l| l.ledger_code == crate::LedgerCode::RECEIVABLE)
        .filter_map(|l| l.account_id.map(|a| (a, l.amount.currency.code())))
        .collect();
    for (account_id, code) in touched {
        let currency = Currency::parse(code).map_err(|_| LedgerError::TextInvalid { field: "currency" })?;
        ops::settle(tx, account_id, currency, entry_id, now).await?;
    }
    Ok(())
}

/// Reverses an entry (see [`ops::reverse`]) and records who did it.
pub async fn reverse(
    tx: &mut Tx,
    actor: &Actor,
    entry_id: i64,
    entry_date: BusinessDate,
    now: Timestamp,
) -> Result<Posted, LedgerError> {
    let posted = ops::reverse(tx, actor, entry_id, entry_date, now).await?;
    let detail = serde_json::json!({"reversed_by": posted.entry_id, "entry_date": entry_date.to_string()});
    record(tx, actor, "ledger.entry_reversed", "journal_entry", entry_id.to_string(), detail, now).await?;
    Ok(posted)
}
