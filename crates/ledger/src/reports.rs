//! The books as people read them: the trial balance (from daily totals, so its cost grows with
//! days and accounts, not lines), aging of open items, a customer account's balance and lines,
//! and the general-ledger export.

use crate::LedgerError;
use crate::model::{AgingBucket, BusinessDate, LedgerCode};
use crate::report_store::{self, AccountLineRow, AgingAccountRow, AgingBounds};
use crate::store::{self, OpenItemRow};
use db::Tx;
use kernel::{Currency, Cursor, PageRequest};
use serde::Serialize;
use std::collections::BTreeMap;

/// One ledger account in one currency: its net balance in the debit or the credit column.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrialRow {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub currency: String,
    pub debit_minor: i64,
    pub credit_minor: i64,
}

/// The column totals of one currency; they are equal when the books balance.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrialTotal {
    pub currency: String,
    pub debit_minor: i64,
    pub credit_minor: i64,
    pub balanced: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrialBalance {
    /// YYYY-MM-DD: entries booked on or before this day are included.
    pub as_of: String,
    pub rows: Vec<TrialRow>,
    pub totals: Vec<TrialTotal>,
}

/// The trial balance as of the end of `as_of`, summing the daily totals.
pub async fn trial_balance(tx: &mut Tx, as_of: BusinessDate) -> Result<TrialBalance, LedgerError> {
    let summed = report_store::trial_balance(tx, &as_of.to_string()).await?;
    let mut rows = Vec::with_capacity(summed.len());
    let mut totals: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for s in summed {
        let net = s.debit_minor.unwrap_or(0).saturating_sub(s.credit_minor.unwrap_or(0));
        let (debit_minor, credit_minor) = if net >= 0 { (net, 0) } else { (0, net.saturating_neg()) };
        let total = totals.entry(s.currency.clone()).or_insert((0, 0));
        total.0 = total.0.saturating_add(debit_minor);
        total.1 = total.1.saturating_add(credit_minor);
        if net != 0 {
            rows.push(TrialRow {
                code: s.code,
                name: s.name,
                kind: s.kind,
                currency: s.currency,
                debit_minor,
                credit_minor,
            });
        }
    }
    let totals = totals
        .into_iter()
        .map(|(currency, (debit_minor, credit_minor))| TrialTotal {
            currency,
            debit_minor,
            credit_minor,
            balanced: debit_minor == credit_minor,
        })
        .collect();
    Ok(TrialBalance { as_of: as_of.to_string(), rows, totals })
}

/// An amount in major units without the currency code (`-12.30`), for CSV and tables.
pub fn decimal(minor: i64, currency: &str) -> String {
    let exponent = Currency::parse(currency).map(|c| c.exponent()).unwrap_or(2);
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{magnitude}");
    }
    let scale = 10_u64.pow(exponent);
    format!("{sign}{}.{:0width$}", magnitude / scale, magnitude % scale, width = exponent as usize)
}

/// A CSV cell a spreadsheet will not run as a formula: text starting with `=`, `+`, `-` or `@`
/// gets a leading apostrophe; commas, quotes and line breaks are quoted.
pub fn csv_cell(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_string() };
    if guarded.contains([',', '"', '\n', '\r']) { format!("\"{}\"", guarded.replace('"', "\"\"")) } else { guarded }
}

pub fn trial_balance_csv(tb: &TrialBalance) -> String {
    let mut out = String::from("as_of,code,name,kind,currency,debit,credit\n");
    for r in &tb.rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            tb.as_of,
            csv_cell(&r.code),
            csv_cell(&r.name),
            csv_cell(&r.kind),
            csv_cell(&r.currency),
            decimal(r.debit_minor, &r.currency),
            decimal(r.credit_minor, &r.currency)
        ));
    }
    out
}

/// The general-ledger export: one row per business day, ledger account and currency with that
/// day's debits and credits — a daily summary journal, which is what an accountant imports
/// into the general ledger (the detail stays here, reachable by date and account). Each day's
/// rows balance per currency, so every day imports as one balanced journal.
pub async fn export_csv(tx: &mut Tx, from: BusinessDate, to: BusinessDate) -> Result<String, LedgerError> {
    let rows = report_store::day_totals(tx, &from.to_string(), &to.to_string()).await?;
    let mut out = String::from("date,account_code,account_name,currency,debit,credit\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            csv_cell(&r.entry_date),
            csv_cell(&r.code),
            csv_cell(&r.name),
            csv_cell(&r.currency),
            decimal(r.debit_minor, &r.currency),
            decimal(r.credit_minor, &r.currency)
        ));
    }
    Ok(out)
}

/// One bucket's open amount.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BucketAmount {
    pub bucket: AgingBucket,
    pub label: &'static str,
    pub amount_minor: i64,
    pub items: i64,
}

/// Aging totals of one currency.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgingTotal {
    pub currency: String,
    pub buckets: Vec<BucketAmount>,
    pub total_minor: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgingReport {
    /// YYYY-MM-DD: days past due are counted to this day.
    pub as_of: String,
    pub totals: Vec<AgingTotal>,
    /// Accounts with the most open first.
    pub accounts: Vec<AgingAccountRow>,
    /// Pass back as `cursor` for the next accounts; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Aging of what is open now, by days past due as of `as_of`: totals per currency and bucket,
/// and a page of accounts, largest open amount first.
pub async fn aging(tx: &mut Tx, as_of: BusinessDate, page: &PageRequest) -> Result<AgingReport, LedgerError> {
    let dates: Vec<String> = [0_i64, 30, 60, 90, 120].into_iter().map(|d| as_of.plus_days(-d).to_string()).collect();
    let bounds = match dates.as_slice() {
        [a, b, c, d, e] => AgingBounds { bounds: [a.as_str(), b.as_str(), c.as_str(), d.as_str(), e.as_str()] },
        _ => return Err(LedgerError::DateInvalid { field: "as_of" }),
    };
    let mut totals: BTreeMap<String, AgingTotal> = BTreeMap::new();
    for (currency, bucket, amount, items) in report_store::aging_totals(tx, &bounds).await? {
        let total = totals.entry(currency.clone()).or_insert_with(|| AgingTotal {
            currency,
            buckets: AgingBucket::ALL
                .iter()
                .map(|b| BucketAmount { bucket: *b, label: b.label(), amount_minor: 0, items: 0 })
                .collect(),
            total_minor: 0,
        });
        if let Some(slot) = usize::try_from(bucket).ok().and_then(|i| total.buckets.get_mut(i)) {
            slot.amount_minor = amount;
            slot.items = items;
        }
        total.total_minor = total.total_minor.saturating_add(amount);
    }
    let offset = page.after.map(|c| c.after_key).unwrap_or(0).max(0);
    let mut accounts = report_store::aging_accounts(tx, &bounds, offset, page.fetch_limit()).await?;
    let next_cursor = if accounts.len() > page.limit as usize {
        accounts.truncate(page.limit as usize);
        Some(Cursor { after_key: offset + i64::from(page.limit) }.encode())
    } else {
        None
    };
    Ok(AgingReport { as_of: as_of.to_string(), totals: totals.into_values().collect(), accounts, next_cursor })
}

pub fn aging_csv(report: &AgingReport) -> String {
    let mut out = String::from(
        "account_number,account_id,currency,current,days_1_30,days_31_60,days_61_90,days_91_120,over_120,total\n",
    );
    for a in &report.accounts {
        let c = a.currency.as_str();
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            csv_cell(&a.account_number),
            a.account_id,
            csv_cell(c),
            decimal(a.current_minor, c),
            decimal(a.days_1_30_minor, c),
            decimal(a.days_31_60_minor, c),
            decimal(a.days_61_90_minor, c),
            decimal(a.days_91_120_minor, c),
            decimal(a.over_120_minor, c),
            decimal(a.total_minor, c)
        ));
    }
    out
}

/// A customer account's money in one currency.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CurrencyBalance {
    pub currency: String,
    /// What the customer owes (negative: in credit).
    pub receivable_minor: i64,
    /// The deposit held (positive).
    pub deposit_held_minor: i64,
    /// The open items' total (equals the receivable balance when it is positive).
    pub open_minor: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountBalance {
    pub account_id: i64,
    pub currencies: Vec<CurrencyBalance>,
    /// The 100 latest-due items, open or settled.
    pub open_items: Vec<OpenItemRow>,
}

pub async fn account_balance(tx: &mut Tx, account_id: i64) -> Result<AccountBalance, LedgerError> {
    if !store::customer_account_exists(tx, account_id).await? {
        return Err(LedgerError::AccountUnknown { field: "account_id" });
    }
    let mut by_currency: BTreeMap<String, CurrencyBalance> = BTreeMap::new();
    let blank = |currency: &str| CurrencyBalance {
        currency: currency.to_string(),
        receivable_minor: 0,
        deposit_held_minor: 0,
        open_minor: 0,
    };
    for (code, currency, balance) in report_store::account_balances(tx, account_id).await? {
        let entry = by_currency.entry(currency.clone()).or_insert_with(|| blank(&currency));
        match code.as_str() {
            LedgerCode::RECEIVABLE => entry.receivable_minor = balance,
            LedgerCode::DEPOSITS_HELD => entry.deposit_held_minor = balance.saturating_neg(),
            _ => {}
        }
    }
    for (currency, open) in report_store::account_open_totals(tx, account_id).await? {
        by_currency.entry(currency.clone()).or_insert_with(|| blank(&currency)).open_minor = open;
    }
    let open_items = store::account_items(tx, account_id, 100).await?;
    Ok(AccountBalance { account_id, currencies: by_currency.into_values().collect(), open_items })
}

/// A customer account's line and the balance of its ledger account and currency after it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountLine {
    #[serde(flatten)]
    pub line: AccountLineRow,
    pub balance_after_minor: i64,
}

/// A page of a customer account's lines, newest first, each with the running balance: the
/// balance now, less the lines newer than it (one grouped query a page, not a scan of history).
pub async fn account_lines(
    tx: &mut Tx,
    account_id: i64,
    page: &PageRequest,
) -> Result<kernel::Page<AccountLine>, LedgerError> {
    if !store::customer_account_exists(tx, account_id).await? {
        return Err(LedgerError::AccountUnknown { field: "account_id" });
    }
    let before = page.after.map(|c| c.after_key).unwrap_or(i64::MAX);
    let rows = report_store::account_lines(tx, account_id, before, page.fetch_limit()).await?;
    let page_rows = kernel::Page::from_rows(rows, page, |r| r.line_id);
    let mut running: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (code, currency, balance) in report_store::account_balances(tx, account_id).await? {
        running.insert((code, currency), balance);
    }
    if let Some(first) = page_rows.items.first() {
        for (code, currency, newer) in report_store::account_sums_after(tx, account_id, first.line_id).await? {
            let slot = running.entry((code, currency)).or_insert(0);
            *slot = slot.saturating_sub(newer);
        }
    }
    let mut items = Vec::with_capacity(page_rows.items.len());
    for line in page_rows.items {
        let slot = running.entry((line.ledger_code.clone(), line.currency.clone())).or_insert(0);
        let balance_after_minor = *slot;
        *slot = slot.saturating_sub(line.amount_minor);
        items.push(AccountLine { line, balance_after_minor });
    }
    Ok(kernel::Page { items, next_cursor: page_rows.next_cursor })
}
