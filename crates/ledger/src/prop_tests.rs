//! A property test: any sequence of money events done through the ledger operations leaves the
//! books consistent — every entry balanced, every subledger balance the sum of its lines, open
//! items adding up to what is owed — and `verify` clean. Runs on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use crate::model::{EntryDraft, LedgerCode, LineDraft};
use crate::store_tests::{NOW, actor, bill, day, new_account, pay, usd};
use crate::{LedgerError, ops, verify};
use db::Tx;
use kernel::Currency;
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Clone)]
enum Event {
    Bill { account: usize, amount: i64, due: i64 },
    Payment { account: usize, amount: i64 },
    Fee { account: usize, amount: i64, due: i64 },
    CreditAdjustment { account: usize, amount: i64 },
    DebitAdjustment { account: usize, amount: i64, due: i64 },
    ReversePayment { nth: usize },
    RefundCredit { account: usize },
}

fn event() -> impl Strategy<Value = Event> {
    let account = 0..2_usize;
    let amount = 1..20_000_i64;
    let due = 0..120_i64;
    prop_oneof![
        3 => (account.clone(), amount.clone(), due.clone())
            .prop_map(|(account, amount, due)| Event::Bill { account, amount, due }),
        3 => (account.clone(), amount.clone()).prop_map(|(account, amount)| Event::Payment { account, amount }),
        1 => (account.clone(), 1..3_000_i64, due.clone())
            .prop_map(|(account, amount, due)| Event::Fee { account, amount, due }),
        1 => (account.clone(), amount.clone())
            .prop_map(|(account, amount)| Event::CreditAdjustment { account, amount }),
        1 => (account.clone(), amount, due)
            .prop_map(|(account, amount, due)| Event::DebitAdjustment { account, amount, due }),
        2 => (0..8_usize).prop_map(|nth| Event::ReversePayment { nth }),
        1 => account.prop_map(|account| Event::RefundCredit { account }),
    ]
}

/// Posts a two-line entry on a customer's receivable against `other`; `owed` raises the balance.
#[allow(clippy::too_many_arguments)]
async fn receivable_entry(
    tx: &mut Tx,
    kind: &'static str,
    source: &str,
    account: i64,
    other: &str,
    amount: i64,
    owed: bool,
    due: i64,
) -> Result<i64, LedgerError> {
    let (receivable, counter) = if owed {
        (
            LineDraft::debit(LedgerCode::RECEIVABLE, Some(account), usd(amount)),
            LineDraft::credit(other, None, usd(amount)),
        )
    } else {
        (
            LineDraft::credit(LedgerCode::RECEIVABLE, Some(account), usd(amount)),
            LineDraft::debit(other, None, usd(amount)),
        )
    };
    let draft = EntryDraft::new(day(15), kind, source).line(receivable).line(counter);
    let posted = ops::post(tx, &actor(), &draft, NOW).await?;
    // A refund pays out a credit: nothing falls due, so it makes no open item.
    if owed && kind != "refund" {
        ops::charge(tx, account, posted.entry_id, kind, source, day(due), usd(amount), NOW).await?;
    } else {
        ops::settle(tx, account, Currency::USD, posted.entry_id, NOW).await?;
    }
    Ok(posted.entry_id)
}

#[allow(clippy::too_many_arguments)]
async fn apply(
    tx: &mut Tx,
    run: usize,
    step: usize,
    accounts: &[i64],
    payments: &mut Vec<i64>,
    e: &Event,
) -> Result<(), LedgerError> {
    let source = format!("R{run}-{step}");
    match *e {
        Event::Bill { account, amount, due } => {
            bill(tx, accounts[account], &source, amount, due).await?;
        }
        Event::Payment { account, amount } => {
            let (entry, _) = pay(tx, accounts[account], &source, amount).await?;
            payments.push(entry);
        }
        Event::Fee { account, amount, due } => {
            receivable_entry(tx, "fee", &source, accounts[account], LedgerCode::FEES_REVENUE, amount, true, due)
                .await?;
        }
        Event::CreditAdjustment { account, amount } => {
            receivable_entry(tx, "adjustment", &source, accounts[account], LedgerCode::ADJUSTMENTS, amount, false, 0)
                .await?;
        }
        Event::DebitAdjustment { account, amount, due } => {
            receivable_entry(tx, "adjustment", &source, accounts[account], LedgerCode::ADJUSTMENTS, amount, true, due)
                .await?;
        }
        Event::ReversePayment { nth } => {
            if let Some(entry) = payments.get(nth).copied() {
                match ops::reverse(tx, &actor(), entry, day(25), NOW).await {
                    Ok(_) | Err(LedgerError::AlreadyReversed) => {}
                    Err(other) => return Err(other),
                }
            }
        }
        Event::RefundCredit { account } => {
            let balance = ops::receivable_balance(tx, accounts[account], Currency::USD).await?.amount_minor;
            if balance < 0 {
                let account = accounts[account];
                receivable_entry(tx, "refund", &source, account, LedgerCode::REFUNDS_PAYABLE, -balance, true, 0)
                    .await?;
            }
        }
    }
    Ok(())
}

static RUNS: AtomicUsize = AtomicUsize::new(0);

/// Each case gets its own database, so a failing case cannot spill into the next (or into the
/// shrinking that follows it).
async fn run_case(events: &[Event]) -> Result<(), String> {
    let scratch = db::scratch::open().await.map_err(|e| e.to_string())?;
    let db = &scratch.db;
    let run = RUNS.fetch_add(1, Ordering::SeqCst);
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    let mut accounts = Vec::new();
    for a in 0..2 {
        accounts.push(new_account(&mut tx, &format!("{run}-{a}")).await.map_err(|e| e.to_string())?);
    }
    let mut payments = Vec::new();
    for (step, e) in events.iter().enumerate() {
        apply(&mut tx, run, step, &accounts, &mut payments, e).await.map_err(|err| format!("{e:?}: {err}"))?;
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    let report = verify::verify(db).await.map_err(|e| e.to_string())?;
    if !report.is_clean() {
        return Err(format!("{:?}", report.problems));
    }
    Ok(())
}

#[test]
fn any_sequence_of_money_events_keeps_the_books_consistent() {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        panic!("no tokio runtime");
    };
    // Every case migrates a database of its own: fewer cases on PostgreSQL, where that is slower.
    let cases = if db::scratch::test_database_url().is_some() { 24 } else { 64 };
    let config = ProptestConfig { cases, ..ProptestConfig::default() };
    proptest!(config, |(events in proptest::collection::vec(event(), 1..40))| {
        let outcome = runtime.block_on(run_case(&events));
        prop_assert!(outcome.is_ok(), "{:?}", outcome);
    });
}
