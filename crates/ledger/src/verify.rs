//! The ledger's integrity check behind `caredesk verify`: every rule the posting path keeps is
//! recomputed from the journal lines, and each break is named by entry or account, so a book
//! altered behind the application's back (or a bug) is found rather than trusted.

use crate::LedgerError;
use crate::model::LedgerCode;
use crate::report_store;
use serde::Serialize;

/// What the check found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    pub entries_checked: i64,
    pub lines_checked: i64,
    /// One sentence per problem, naming the entry, account or item.
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks (a) every entry balances per currency and has lines, (b) every subledger balance
/// equals the sum of its lines and no customer line lacks one, (c) every day total equals its
/// day's lines, (d) every open item is within 0..=amount and each account's open items add up
/// to what it owes. Runs in one read transaction, so it sees one consistent state.
pub async fn verify(db: &db::Db) -> Result<VerifyReport, LedgerError> {
    let mut tx = db.read().await?;
    let (entries_checked, lines_checked) = report_store::counts(&mut tx).await?;
    let mut problems = Vec::new();
    for (entry_id, currency, sum) in report_store::unbalanced_entries(&mut tx).await? {
        problems.push(format!("entry {entry_id}: its {currency} lines sum to {sum}, not zero"));
    }
    for entry_id in report_store::entries_without_lines(&mut tx).await? {
        problems.push(format!("entry {entry_id}: has no lines"));
    }
    for (account_id, code, currency, stored, lines) in report_store::subledger_mismatches(&mut tx).await? {
        problems.push(match stored {
            Some(stored) => {
                format!("account {account_id}: balance on {code} {currency} is {stored} but its lines sum to {lines}")
            }
            None => format!("account {account_id}: lines on {code} {currency} sum to {lines} but no balance is kept"),
        });
    }
    for m in report_store::day_total_mismatches(&mut tx).await? {
        problems.push(format!(
            "day total {} {} {}: stored debit {} credit {}, lines debit {} credit {}",
            m.entry_date, m.code, m.currency, m.stored_debit, m.stored_credit, m.line_debit, m.line_credit
        ));
    }
    for (item_id, account_id, amount, open) in report_store::items_out_of_range(&mut tx).await? {
        problems.push(format!("account {account_id}: open item {item_id} has {open} open of {amount}"));
    }
    for (account_id, currency, open, balance) in report_store::open_mismatches(&mut tx, LedgerCode::RECEIVABLE).await? {
        problems.push(format!(
            "account {account_id}: open items total {open} {currency} but the receivable balance is {balance} \
             (difference {})",
            open - balance.max(0)
        ));
    }
    tx.rollback().await?;
    Ok(VerifyReport { entries_checked, lines_checked, problems })
}
