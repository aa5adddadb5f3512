//! The ledger operations every money-moving module calls inside its own transaction: post a
//! balanced entry (keeping subledger balances and daily totals in step), reverse one, record a
//! charge as an open item, and settle open items against the account's balance oldest-due first.

use crate::LedgerError;
use crate::model::{BusinessDate, EntryDraft, LedgerCode, LineDraft};
use crate::store::{self, EntryRow, LedgerAccountRow, OpenItemRow};
use db::Tx;
use kernel::{Actor, Currency, Money, Timestamp};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What posting wrote.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Posted {
    pub entry_id: i64,
    pub source_kind: String,
    pub source_ref: String,
}

/// Resolves ledger codes to ids, refusing unknown and inactive accounts.
fn resolve(accounts: &[LedgerAccountRow], code: &str) -> Result<i64, LedgerError> {
    let found =
        accounts.iter().find(|a| a.code == code).ok_or(LedgerError::LedgerAccountUnknown { field: "ledger_code" })?;
    if !found.active {
        return Err(LedgerError::LedgerAccountInactive { field: "ledger_code" });
    }
    Ok(found.ledger_account_id)
}

/// Posts one balanced entry. The draft is checked before anything is written, and the stored
/// lines are checked again after; a source document already posted is refused
/// ([`LedgerError::AlreadyPosted`]), so a retry never posts twice.
pub async fn post(tx: &mut Tx, actor: &Actor, draft: &EntryDraft, now: Timestamp) -> Result<Posted, LedgerError> {
    post_inner(tx, actor, draft, None, now).await
}

async fn post_inner(
    tx: &mut Tx,
    actor: &Actor,
    draft: &EntryDraft,
    reverses_entry_id: Option<i64>,
    now: Timestamp,
) -> Result<Posted, LedgerError> {
    draft.check()?;
    check_text(&draft.source_ref, "source_ref")?;
    let accounts = store::ledger_accounts(tx).await?;
    let mut resolved = Vec::with_capacity(draft.lines.len());
    for line in &draft.lines {
        resolved.push((resolve(&accounts, &line.ledger_code)?, line));
    }
    let entry_date = draft.entry_date.to_string();
    let entry_id = store::insert_entry(
        tx,
        &entry_date,
        draft.source_kind,
        &draft.source_ref,
        &draft.memo,
        reverses_entry_id,
        &actor.name(),
        now,
    )
    .await
    .map_err(LedgerError::from_insert)?;
    let lines: Vec<store::NewLine<'_>> = resolved
        .iter()
        .map(|(ledger_account_id, line)| store::NewLine {
            ledger_account_id: *ledger_account_id,
            account_id: line.account_id,
            currency: line.amount.currency.code(),
            amount_minor: line.amount.amount_minor,
        })
        .collect();
    let stored = store::insert_lines(tx, entry_id, &lines).await.map_err(|e| match e.is_foreign_key_violation() {
        true => LedgerError::AccountUnknown { field: "account_id" },
        false => LedgerError::Db(e),
    })?;
    // The invariant again, on the lines as the database stored them.
    let mut stored_sums: BTreeMap<String, i64> = BTreeMap::new();
    for (currency, amount) in &stored {
        let sum = stored_sums.entry(currency.clone()).or_insert(0);
        *sum = sum.checked_add(*amount).ok_or(LedgerError::AmountOverflow)?;
    }
    if stored.len() != lines.len() || stored_sums.values().any(|s| *s != 0) {
        return Err(LedgerError::EntryUnbalanced);
    }
    let mut day_totals: BTreeMap<(i64, &'static str), (i64, i64)> = BTreeMap::new();
    for line in &lines {
        if let Some(account_id) = line.account_id {
            store::add_to_subledger(tx, account_id, line.ledger_account_id, line.currency, line.amount_minor).await?;
        }
        let total = day_totals.entry((line.ledger_account_id, line.currency)).or_insert((0, 0));
        if line.amount_minor > 0 {
            total.0 += line.amount_minor;
        } else {
            total.1 -= line.amount_minor;
        }
    }
    let totals: Vec<(i64, &str, i64, i64)> =
        day_totals.into_iter().map(|((id, currency), (debit, credit))| (id, currency, debit, credit)).collect();
    store::add_to_day_totals(tx, &entry_date, &totals).await?;
    Ok(Posted { entry_id, source_kind: draft.source_kind.to_string(), source_ref: draft.source_ref.clone() })
}

fn check_text(text: &str, field: &'static str) -> Result<(), LedgerError> {
    let length = text.chars().count();
    if length == 0 || length > 200 || text.chars().any(char::is_control) {
        return Err(LedgerError::TextInvalid { field });
    }
    Ok(())
}

/// Posts the reversing entry of `entry_id` on `entry_date`, then re-settles the open items of
/// every customer account it touched (a reversed payment reopens the bills it paid). An entry is
/// reversed at most once, and a reversal is never itself reversed.
pub async fn reverse(
    tx: &mut Tx,
    actor: &Actor,
    entry_id: i64,
    entry_date: BusinessDate,
    now: Timestamp,
) -> Result<Posted, LedgerError> {
    let entry = store::find_entry(tx, entry_id).await?.ok_or(LedgerError::EntryNotFound)?;
    if entry.reverses_entry_id.is_some() {
        return Err(LedgerError::CannotReverseAReversal);
    }
    if store::reversal_of(tx, entry_id).await?.is_some() {
        return Err(LedgerError::AlreadyReversed);
    }
    let draft = stored_draft(tx, &entry).await?;
    let reversal = draft.reversed(entry_date, format!("{}:{}", entry.source_kind, entry.source_ref));
    let posted = post_inner(tx, actor, &reversal, Some(entry_id), now).await?;
    let touched: BTreeSet<(i64, &'static str)> =
        reversal.lines.iter().filter_map(|l| l.account_id.map(|a| (a, l.amount.currency.code()))).collect();
    for (account_id, code) in touched {
        let currency = Currency::parse(code).map_err(|_| db::Error::Malformed("currency".into()))?;
        settle(tx, account_id, currency, posted.entry_id, now).await?;
    }
    Ok(posted)
}

/// A stored entry as a draft again (for reversal).
async fn stored_draft(tx: &mut Tx, entry: &EntryRow) -> Result<EntryDraft, LedgerError> {
    let lines = store::entry_lines(tx, entry.entry_id).await?;
    let mut draft = EntryDraft::new(BusinessDate::parse(&entry.entry_date, "entry_date")?, "stored", "");
    draft.source_kind = source_kind_static(&entry.source_kind);
    draft.source_ref = entry.source_ref.clone();
    for line in lines {
        let currency = Currency::parse(&line.currency).map_err(|_| db::Error::Malformed("currency".into()))?;
        draft.lines.push(LineDraft {
            ledger_code: line.ledger_code,
            account_id: line.account_id,
            amount: Money::new(line.amount_minor, currency),
        });
    }
    Ok(draft)
}

/// Source kinds are a closed list in code; a stored one maps back to its constant.
fn source_kind_static(kind: &str) -> &'static str {
    const KINDS: [&str; 16] = [
        "bill",
        "payment",
        "fee",
        "adjustment",
        "deposit",
        "reversal",
        "refund",
        "transfer",
        "drawer",
        "bank_deposit",
        "manual",
        "write_off",
        "deposit_applied",
        "deposit_refund",
        "nsf_fee",
        "arrangement",
    ];
    KINDS.into_iter().find(|k| *k == kind).unwrap_or("other")
}

/// Records a charge that falls due: a bill, a fee, a billed deposit. Call [`settle`] after it
/// (or use [`charge`]) so an existing credit balance pays it at once.
#[allow(clippy::too_many_arguments)]
pub async fn add_open_item(
    tx: &mut Tx,
    account_id: i64,
    entry_id: i64,
    kind: &str,
    source_ref: &str,
    due_date: BusinessDate,
    amount: Money,
    now: Timestamp,
) -> Result<i64, LedgerError> {
    if amount.amount_minor <= 0 {
        return Err(LedgerError::OpenItemAmountNotPositive);
    }
    let row = OpenItemRow {
        item_id: 0,
        account_id,
        entry_id,
        kind: kind.to_string(),
        source_ref: source_ref.to_string(),
        currency: amount.currency.code().to_string(),
        due_date: due_date.to_string(),
        amount_minor: amount.amount_minor,
        open_minor: amount.amount_minor,
    };
    Ok(store::insert_open_item(tx, &row, now).await?)
}

/// [`add_open_item`] then [`settle`].
#[allow(clippy::too_many_arguments)]
pub async fn charge(
    tx: &mut Tx,
    account_id: i64,
    entry_id: i64,
    kind: &str,
    source_ref: &str,
    due_date: BusinessDate,
    amount: Money,
    now: Timestamp,
) -> Result<i64, LedgerError> {
    let item_id = add_open_item(tx, account_id, entry_id, kind, source_ref, due_date, amount, now).await?;
    settle(tx, account_id, amount.currency, entry_id, now).await?;
    Ok(item_id)
}

/// One change to an item's open amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Allocation {
    pub item_id: i64,
    pub source_ref: String,
    /// Positive settles, negative reopens.
    pub amount_minor: i64,
}

/// Brings an account's open items in line with its receivable balance: the items still open
/// must add up to what is owed (nothing, when the account is in credit). Credits settle items
/// oldest-due first; a rise in the balance (a reversed payment) reopens the items settled last.
/// `entry_id` is the entry that caused the change, recorded with each allocation.
pub async fn settle(
    tx: &mut Tx,
    account_id: i64,
    currency: Currency,
    entry_id: i64,
    now: Timestamp,
) -> Result<Vec<Allocation>, LedgerError> {
    Ok(settle_with_balance(tx, account_id, currency, entry_id, now).await?.1)
}

/// [`settle`], answering also the account's receivable balance it settled against.
pub async fn settle_with_balance(
    tx: &mut Tx,
    account_id: i64,
    currency: Currency,
    entry_id: i64,
    now: Timestamp,
) -> Result<(Money, Vec<Allocation>), LedgerError> {
    let code = currency.code();
    let (balance, open) = store::balance_and_open_total(tx, account_id, LedgerCode::RECEIVABLE, code).await?;
    let owed = balance.max(0);
    let mut allocations = Vec::new();
    if open > owed {
        let mut to_settle = open - owed;
        for item in store::unpaid_items(tx, account_id, code).await? {
            if to_settle == 0 {
                break;
            }
            let amount = item.open_minor.min(to_settle);
            store::allocate(tx, item.item_id, entry_id, amount, now).await?;
            allocations.push(Allocation { item_id: item.item_id, source_ref: item.source_ref, amount_minor: amount });
            to_settle -= amount;
        }
    } else if open < owed {
        let mut to_reopen = owed - open;
        for item in store::settled_items(tx, account_id, code).await? {
            if to_reopen == 0 {
                break;
            }
            let amount = (item.amount_minor - item.open_minor).min(to_reopen);
            store::allocate(tx, item.item_id, entry_id, -amount, now).await?;
            allocations.push(Allocation { item_id: item.item_id, source_ref: item.source_ref, amount_minor: -amount });
            to_reopen -= amount;
        }
        if to_reopen > 0 {
            // More is owed than was ever settled (a payment reversed after its credit was refunded,
            // a debit posted without a charge): the rest falls due as an item of its own, due on the
            // causing entry's date, so open items still add up to what is owed.
            let entry = store::find_entry(tx, entry_id).await?.ok_or(LedgerError::EntryNotFound)?;
            let due = BusinessDate::parse(&entry.entry_date, "entry_date")?;
            add_open_item(
                tx,
                account_id,
                entry_id,
                "debit",
                &entry.source_ref,
                due,
                Money::new(to_reopen, currency),
                now,
            )
            .await?;
        }
    }
    Ok((Money::new(balance, currency), allocations))
}

/// What a customer account owes (positive) or holds in credit (negative) in one currency.
pub async fn receivable_balance(tx: &mut Tx, account_id: i64, currency: Currency) -> Result<Money, LedgerError> {
    let minor = store::subledger_balance(tx, account_id, LedgerCode::RECEIVABLE, currency.code()).await?;
    Ok(Money::new(minor, currency))
}

/// The deposit held for a customer account (a liability: shown positive).
pub async fn deposit_held(tx: &mut Tx, account_id: i64, currency: Currency) -> Result<Money, LedgerError> {
    let minor = store::subledger_balance(tx, account_id, LedgerCode::DEPOSITS_HELD, currency.code()).await?;
    Ok(Money::new(minor.saturating_neg(), currency))
}

/// An account's open items, newest due first.
pub async fn open_items(tx: &mut Tx, account_id: i64, limit: i64) -> Result<Vec<OpenItemRow>, LedgerError> {
    Ok(store::account_items(tx, account_id, limit).await?)
}

pub async fn entry(tx: &mut Tx, entry_id: i64) -> Result<(EntryRow, Vec<store::LineRow>), LedgerError> {
    let entry = store::find_entry(tx, entry_id).await?.ok_or(LedgerError::EntryNotFound)?;
    let lines = store::entry_lines(tx, entry_id).await?;
    Ok((entry, lines))
}

pub async fn entry_by_source(
    tx: &mut Tx,
    source_kind: &str,
    source_ref: &str,
) -> Result<Option<EntryRow>, LedgerError> {
    Ok(store::find_entry_by_source(tx, source_kind, source_ref).await?)
}
