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
    let entry_date = draft.entry_date.to_string();
    let posted_by = actor.name();
    let header = store::EntryHeader {
        entry_date: &entry_date,
        source_kind: draft.source_kind,
        source_ref: &draft.source_ref,
        memo: &draft.memo,
        reverses_entry_id,
        posted_by: &posted_by,
        posted_at: now.micros(),
    };
    let stored = match tx.backend() {
        db::Backend::Sqlite => post_at_once(tx, draft, &header).await?,
        db::Backend::Postgres => post_statement_by_statement(tx, draft, &header).await?,
    };
    let entry_id = stored.first().map(|s| s.0).ok_or(LedgerError::EntryUnbalanced)?;
    check_stored(&stored, draft.lines.len())?;
    Ok(Posted { entry_id, source_kind: draft.source_kind.to_string(), source_ref: draft.source_ref.clone() })
}

/// Per ledger account (`K`: its code or id): the subledger change of each customer account,
/// (account, ledger account, currency, change), and the day's debits and credits, (ledger
/// account, currency, debits, credits).
type Aggregated<K> = (Vec<(i64, K, &'static str, i64)>, Vec<(K, &'static str, i64, i64)>);

fn aggregate<K: Ord + Copy>(lines: &[(K, Option<i64>, &'static str, i64)]) -> Result<Aggregated<K>, LedgerError> {
    let mut subledger: BTreeMap<(i64, K, &'static str), i64> = BTreeMap::new();
    let mut day_totals: BTreeMap<(K, &'static str), (i64, i64)> = BTreeMap::new();
    for (ledger, account_id, currency, amount) in lines {
        if let Some(account_id) = account_id {
            let delta = subledger.entry((*account_id, *ledger, *currency)).or_insert(0);
            *delta = delta.checked_add(*amount).ok_or(LedgerError::AmountOverflow)?;
        }
        let total = day_totals.entry((*ledger, *currency)).or_insert((0, 0));
        if *amount > 0 {
            total.0 = total.0.checked_add(*amount).ok_or(LedgerError::AmountOverflow)?;
        } else {
            total.1 = total.1.checked_sub(*amount).ok_or(LedgerError::AmountOverflow)?;
        }
    }
    Ok((
        subledger.into_iter().map(|((a, l, c), d)| (a, l, c, d)).collect(),
        day_totals.into_iter().map(|((l, c), (debit, credit))| (l, c, debit, credit)).collect(),
    ))
}

/// SQLite: the whole entry as one command to the writer, ledger codes resolved inside it (an
/// unknown or inactive code fails it, and only then is the chart read, to say which).
async fn post_at_once(
    tx: &mut Tx,
    draft: &EntryDraft,
    header: &store::EntryHeader<'_>,
) -> Result<Vec<(i64, String, i64, i64)>, LedgerError> {
    let lines: Vec<(&str, Option<i64>, &'static str, i64)> = draft
        .lines
        .iter()
        .map(|l| (l.ledger_code.as_str(), l.account_id, l.amount.currency.code(), l.amount.amount_minor))
        .collect();
    let (subledger, day_totals) = aggregate(&lines)?;
    let write = store::EntryWrite { header, lines: &lines, subledger: &subledger, day_totals: &day_totals };
    match store::post_entry_at_once(tx, &write).await {
        Ok(stored) => Ok(stored),
        Err(error) if error.is_unique_violation() || error.is_foreign_key_violation() => Err(line_error(error)),
        Err(error) => {
            let codes: BTreeSet<&str> = lines.iter().map(|l| l.0).collect();
            let accounts = store::ledger_accounts_by_code(tx, &codes.iter().copied().collect::<Vec<_>>()).await?;
            for code in codes {
                resolve(&accounts, code)?;
            }
            Err(line_error(error))
        }
    }
}

/// PostgreSQL: the chart read first, then the entry, its lines (one insert returning them),
/// each subledger balance and the day totals.
async fn post_statement_by_statement(
    tx: &mut Tx,
    draft: &EntryDraft,
    header: &store::EntryHeader<'_>,
) -> Result<Vec<(i64, String, i64, i64)>, LedgerError> {
    let codes: BTreeSet<&str> = draft.lines.iter().map(|l| l.ledger_code.as_str()).collect();
    let accounts = store::ledger_accounts_by_code(tx, &codes.into_iter().collect::<Vec<_>>()).await?;
    let mut resolved = Vec::with_capacity(draft.lines.len());
    for l in &draft.lines {
        let id = resolve(&accounts, &l.ledger_code)?;
        resolved.push((id, l.account_id, l.amount.currency.code(), l.amount.amount_minor));
    }
    let (subledger, day_totals) = aggregate(&resolved)?;
    let entry_id = store::insert_entry(
        tx,
        header.entry_date,
        header.source_kind,
        header.source_ref,
        header.memo,
        header.reverses_entry_id,
        header.posted_by,
        Timestamp::from_micros(header.posted_at),
    )
    .await
    .map_err(LedgerError::from_insert)?;
    let lines: Vec<store::NewLine<'_>> = resolved
        .iter()
        .map(|(ledger_account_id, account_id, currency, amount_minor)| store::NewLine {
            ledger_account_id: *ledger_account_id,
            account_id: *account_id,
            currency,
            amount_minor: *amount_minor,
        })
        .collect();
    let stored = store::insert_lines(tx, entry_id, &lines).await.map_err(line_error)?;
    for (account_id, ledger_account_id, currency, delta) in &subledger {
        store::add_to_subledger(tx, *account_id, *ledger_account_id, currency, *delta).await?;
    }
    store::add_to_day_totals(tx, header.entry_date, &day_totals).await?;
    Ok(stored.into_iter().map(|(currency, amount)| (entry_id, currency, amount, 1)).collect())
}

/// A failed write of an entry: its source already posted, a customer account that does not
/// exist, or the database's own error.
fn line_error(error: db::Error) -> LedgerError {
    if error.is_unique_violation() {
        LedgerError::AlreadyPosted
    } else if error.is_foreign_key_violation() {
        LedgerError::AccountUnknown { field: "account_id" }
    } else {
        LedgerError::Db(error)
    }
}

/// The invariant again, on the lines as the database stored them: (entry, currency, amount,
/// lines) summed per currency must be zero everywhere and count every line written.
fn check_stored(stored: &[(i64, String, i64, i64)], written: usize) -> Result<(), LedgerError> {
    let mut sums: BTreeMap<&str, i64> = BTreeMap::new();
    let mut count = 0_i64;
    for (_, currency, amount, lines) in stored {
        let sum = sums.entry(currency.as_str()).or_insert(0);
        *sum = sum.checked_add(*amount).ok_or(LedgerError::AmountOverflow)?;
        count += lines;
    }
    if usize::try_from(count).ok() != Some(written) || sums.values().any(|s| *s != 0) {
        return Err(LedgerError::EntryUnbalanced);
    }
    Ok(())
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
    // The totals and the unpaid items come in one read: a payment usually settles a bill.
    let unpaid = store::balance_and_unpaid(tx, account_id, LedgerCode::RECEIVABLE, code).await?;
    let (balance, open) = unpaid.first().map(|r| (r.balance_minor, r.open_total_minor)).unwrap_or((0, 0));
    let owed = balance.max(0);
    let mut allocations = Vec::new();
    if open > owed {
        let mut to_settle = open - owed;
        for row in unpaid {
            let (Some(item_id), Some(source_ref), Some(open_minor)) = (row.item_id, row.source_ref, row.open_minor)
            else {
                continue;
            };
            if to_settle == 0 {
                break;
            }
            let amount = open_minor.min(to_settle);
            store::allocate(tx, item_id, entry_id, amount, now).await?;
            allocations.push(Allocation { item_id, source_ref, amount_minor: amount });
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
