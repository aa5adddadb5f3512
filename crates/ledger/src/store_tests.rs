//! Tests of posting, reversal and settlement against a real database (SQLite, or PostgreSQL when
//! `TEST_DATABASE_URL` is set), each ending with the integrity check.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use crate::model::{BusinessDate, EntryDraft, LedgerCode, LineDraft};
use crate::{LedgerError, ops, store, verify};
use db::Tx;
use kernel::{Actor, Currency, Money, Timestamp};

pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

pub fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

pub fn day(offset: i64) -> BusinessDate {
    BusinessDate::parse("2026-11-01", "date").unwrap_or_else(|_| unreachable!()).plus_days(offset)
}

pub fn actor() -> Actor {
    Actor::system("test")
}

pub const NOW: Timestamp = Timestamp(1_795_000_000_000_000);

/// A customer with one account; returns the account id.
pub async fn new_account(tx: &mut Tx, label: &str) -> Result<i64, db::Error> {
    let customer_id = db::scalar!(
        tx,
        i64,
        "insert into customer (customer_number, kind, display_name, created_at, updated_at)
         values ($1, 'person', $2, 0, 0) returning customer_id",
        format!("C-{label}"),
        format!("Customer {label}")
    )?;
    db::scalar!(
        tx,
        i64,
        "insert into account (account_number, customer_id, status, bill_cycle, collection_class, credit_rating,
                              currency, opened_at, updated_at)
         values ($1, $2, 'active', 1, 'residential', 'good', 'USD', 0, 0) returning account_id",
        format!("A-{label}"),
        customer_id
    )
}

/// Posts a bill of `amount` due `due` days after the first and records its open item.
pub async fn bill(tx: &mut Tx, account: i64, source: &str, amount: i64, due: i64) -> Result<i64, LedgerError> {
    let draft = EntryDraft::new(day(due - 14), "bill", source)
        .line(LineDraft::debit(LedgerCode::RECEIVABLE, Some(account), usd(amount)))
        .line(LineDraft::credit("4020", None, usd(amount)));
    let posted = ops::post(tx, &actor(), &draft, NOW).await?;
    ops::charge(tx, account, posted.entry_id, "bill", source, day(due), usd(amount), NOW).await?;
    Ok(posted.entry_id)
}

/// Posts a payment of `amount` and settles.
pub async fn pay(
    tx: &mut Tx,
    account: i64,
    source: &str,
    amount: i64,
) -> Result<(i64, Vec<ops::Allocation>), LedgerError> {
    let draft = EntryDraft::new(day(20), "payment", source)
        .line(LineDraft::debit(LedgerCode::UNDEPOSITED_FUNDS, None, usd(amount)))
        .line(LineDraft::credit(LedgerCode::RECEIVABLE, Some(account), usd(amount)));
    let posted = ops::post(tx, &actor(), &draft, NOW).await?;
    let allocations = ops::settle(tx, account, Currency::USD, posted.entry_id, NOW).await?;
    Ok((posted.entry_id, allocations))
}

async fn open_of(tx: &mut Tx, account: i64) -> Result<Vec<(String, i64)>, LedgerError> {
    let mut items = ops::open_items(tx, account, 100).await?;
    items.sort_by_key(|i| i.item_id);
    Ok(items.into_iter().map(|i| (i.source_ref, i.open_minor)).collect())
}

async fn assert_clean(db: &db::Db) -> TestResult {
    let report = verify::verify(db).await?;
    assert!(report.is_clean(), "{:?}", report.problems);
    Ok(())
}

#[tokio::test]
async fn posting_keeps_balances_and_day_totals() -> TestResult {
    let scratch = db::scratch::open().await?;
    let mut tx = scratch.db.begin().await?;
    let account = new_account(&mut tx, "1").await?;
    bill(&mut tx, account, "BILL-1", 5_000, 10).await?;
    pay(&mut tx, account, "PAY-1", 2_000).await?;
    assert_eq!(ops::receivable_balance(&mut tx, account, Currency::USD).await?, usd(3_000));
    let tb = crate::reports::trial_balance(&mut tx, day(30)).await?;
    let total = &tb.totals[0];
    assert_eq!((total.debit_minor, total.credit_minor), (5_000, 5_000));
    let before_payment = crate::reports::trial_balance(&mut tx, day(-4)).await?;
    assert_eq!(before_payment.totals[0].debit_minor, 5_000, "only the bill is booked by then");
    tx.commit().await?;
    assert_clean(&scratch.db).await
}

#[tokio::test]
async fn the_same_source_posted_twice_is_refused_and_nothing_half_written() -> TestResult {
    let scratch = db::scratch::open().await?;
    let mut tx = scratch.db.begin().await?;
    let account = new_account(&mut tx, "1").await?;
    bill(&mut tx, account, "BILL-1", 5_000, 10).await?;
    tx.commit().await?;
    let mut tx = scratch.db.begin().await?;
    let again = bill(&mut tx, account, "BILL-1", 5_000, 10).await;
    assert!(matches!(again, Err(LedgerError::AlreadyPosted)), "{again:?}");
    tx.rollback().await?;
    let mut tx = scratch.db.read().await?;
    let lines = db::scalar!(&mut tx, i64, "select count(*) from journal_line")?;
    assert_eq!(lines, 2);
    assert_eq!(ops::receivable_balance(&mut tx, account, Currency::USD).await?, usd(5_000));
    tx.rollback().await?;
    assert_clean(&scratch.db).await
}

#[tokio::test]
async fn a_refused_posting_leaves_nothing_and_the_transaction_goes_on() -> TestResult {
    let scratch = db::scratch::open().await?;
    let mut tx = scratch.db.begin().await?;
    let account = new_account(&mut tx, "1").await?;
    bill(&mut tx, account, "BILL-1", 5_000, 10).await?;
    store::update_ledger_account(&mut tx, "4900", "Fees (closed)", false).await?;
    let refused = |code: &str, account_id: Option<i64>, source: &str| {
        EntryDraft::new(day(1), "fee", source)
            .line(LineDraft::debit(LedgerCode::RECEIVABLE, account_id, usd(700)))
            .line(LineDraft::credit(code, None, usd(700)))
    };
    let inactive = ops::post(&mut tx, &actor(), &refused("4900", Some(account), "FEE-1"), NOW).await;
    assert!(matches!(inactive, Err(LedgerError::LedgerAccountInactive { .. })), "{inactive:?}");
    let unknown = ops::post(&mut tx, &actor(), &refused("4999", Some(account), "FEE-2"), NOW).await;
    assert!(matches!(unknown, Err(LedgerError::LedgerAccountUnknown { .. })), "{unknown:?}");
    // A statement the database refuses ends a PostgreSQL transaction; on SQLite the posting's
    // savepoint is undone and the transaction can go on.
    if tx.backend() == db::Backend::Sqlite {
        let no_account = ops::post(&mut tx, &actor(), &refused("4020", Some(account + 1_000), "FEE-3"), NOW).await;
        assert!(matches!(no_account, Err(LedgerError::AccountUnknown { .. })), "{no_account:?}");
        let mut again = refused("4020", Some(account), "BILL-1");
        again.source_kind = "bill";
        let twice = ops::post(&mut tx, &actor(), &again, NOW).await;
        assert!(matches!(twice, Err(LedgerError::AlreadyPosted)), "{twice:?}");
    }
    // The same transaction carries on and commits: only the bill was written.
    let (_, allocations) = pay(&mut tx, account, "PAY-1", 2_000).await?;
    assert_eq!(allocations.len(), 1);
    tx.commit().await?;
    let mut tx = scratch.db.read().await?;
    let entries = db::scalar!(&mut tx, i64, "select count(*) from journal_entry")?;
    let lines = db::scalar!(&mut tx, i64, "select count(*) from journal_line")?;
    assert_eq!((entries, lines), (2, 4));
    assert_eq!(ops::receivable_balance(&mut tx, account, Currency::USD).await?, usd(3_000));
    tx.rollback().await?;
    assert_clean(&scratch.db).await
}

#[tokio::test]
async fn the_database_refuses_update_and_delete_of_the_journal() -> TestResult {
    let scratch = db::scratch::open().await?;
    let mut tx = scratch.db.begin().await?;
    let account = new_account(&mut tx, "1").await?;
    bill(&mut tx, account, "BILL-1", 5_000, 10).await?;
    tx.commit().await?;
    for sql in [
        "update journal_entry set memo = 'changed'",
        "delete from journal_entry",
        "update journal_line set amount_minor = 1",
        "delete from journal_line",
    ] {
        let mut tx = scratch.db.begin().await?;
        let refused = db::execute!(&mut tx, sqlx::AssertSqlSafe(sql));
        assert!(refused.is_err(), "{sql} must be refused");
        tx.rollback().await?;
    }
    assert_clean(&scratch.db).await
}

#[tokio::test]
async fn reverse_posts_the_opposite_once() -> TestResult {
    let scratch = db::scratch::open().await?;
    let mut tx = scratch.db.begin().await?;
    let account = new_account(&mut tx, "1").await?;
    bill(&mut tx, account, "BILL-1", 5_000, 10).await?;
    let (payment, _) = pay(&mut tx, account, "PAY-1", 5_000).await?;
    assert_eq!(open_of(&mut tx, account).await?, vec![("BILL-1".to_string(), 0)]);
    let reversal = ops::reverse(&mut tx, &actor(), payment, day(25), NOW).await?;
    let (_, lines) = ops::entry(&mut tx, reversal.entry_id).await?;
    let amounts: Vec<i64> = lines.iter().map(|l| l.amount_minor).collect();
    assert_eq!(amounts, vec![-5_000, 5_000]);
    assert_eq!(open_of(&mut tx, account).await?, vec![("BILL-1".to_string(), 5_000)], "the bill is open again");
    let twice = ops::reverse(&mut tx, &actor(), payment, day(25), NOW).await;
    assert!(matches!(twice, Err(LedgerError::AlreadyReversed)), "{twice:?}");
    let of_reversal = ops::reverse(&mut tx, &actor(), reversal.entry_id, day(25), NOW).await;
    assert!(matches!(of_reversal, Err(LedgerError::CannotReverseAReversal)), "{of_reversal:?}");
    tx.commit().await?;
    assert_clean(&scratch.db).await
}

#[tokio::test]
async fn settle_pays_oldest_due_first_and_credit_pays_the_next_charge() -> TestResult {
    let scratch = db::scratch::open().await?;
    let mut tx = scratch.db.begin().await?;
    let account = new_account(&mut tx, "1").await?;
    bill(&mut tx, account, "BILL-LATE", 3_000, 40).await?;
    bill(&mut tx, account, "BILL-EARLY", 2_000, 10).await?;
    let (_, allocations) = pay(&mut tx, account, "PAY-1", 2_500).await?;
    let settled: Vec<(&str, i64)> = allocations.iter().map(|a| (a.source_ref.as_str(), a.amount_minor)).collect();
    assert_eq!(settled, vec![("BILL-EARLY", 2_000), ("BILL-LATE", 500)], "oldest due first, then part");
    let (overpay, _) = pay(&mut tx, account, "PAY-2", 4_000).await?;
    assert_eq!(ops::receivable_balance(&mut tx, account, Currency::USD).await?, usd(-1_500), "a credit of 15.00");
    bill(&mut tx, account, "BILL-NEXT", 1_000, 70).await?;
    let open = open_of(&mut tx, account).await?;
    assert_eq!(open, vec![("BILL-LATE".into(), 0), ("BILL-EARLY".into(), 0), ("BILL-NEXT".into(), 0)]);
    ops::reverse(&mut tx, &actor(), overpay, day(30), NOW).await?;
    // Owed again: 6,000 billed less 2,500 paid; the items settled last (newest due) reopen first.
    let open = open_of(&mut tx, account).await?;
    assert_eq!(open, vec![("BILL-LATE".into(), 2_500), ("BILL-EARLY".into(), 0), ("BILL-NEXT".into(), 1_000)]);
    tx.commit().await?;
    assert_clean(&scratch.db).await
}

#[tokio::test]
async fn verify_names_an_unbalanced_entry_and_a_wrong_balance() -> TestResult {
    let scratch = db::scratch::open().await?;
    let mut tx = scratch.db.begin().await?;
    let account = new_account(&mut tx, "1").await?;
    let entry = bill(&mut tx, account, "BILL-1", 5_000, 10).await?;
    // Inserts are allowed by the triggers: a line slipped in behind the application's back.
    let ledger_account = db::scalar!(&mut tx, i64, "select ledger_account_id from ledger_account where code = '1100'")?;
    db::execute!(
        &mut tx,
        "insert into journal_line (entry_id, ledger_account_id, account_id, currency, amount_minor)
         values ($1, $2, $3, 'USD', 700)",
        entry,
        ledger_account,
        account
    )?;
    tx.commit().await?;
    let report = verify::verify(&scratch.db).await?;
    let text = report.problems.join("\n");
    assert!(text.contains(&format!("entry {entry}: its USD lines sum to 700")), "{text}");
    assert!(
        text.contains(&format!("account {account}: balance on 1100 USD is 5000 but its lines sum to 5700")),
        "{text}"
    );
    assert!(text.contains("day total"), "{text}");
    Ok(())
}

#[tokio::test]
async fn a_manual_entry_is_numbered_and_settles() -> TestResult {
    let scratch = db::scratch::open().await?;
    let mut tx = scratch.db.begin().await?;
    let account = new_account(&mut tx, "1").await?;
    bill(&mut tx, account, "BILL-1", 5_000, 10).await?;
    let lines = vec![
        LineDraft::debit(LedgerCode::ADJUSTMENTS, None, usd(1_000)),
        LineDraft::credit(LedgerCode::RECEIVABLE, Some(account), usd(1_000)),
    ];
    let posted = crate::manage::post_manual(&mut tx, &actor(), day(12), "goodwill", lines.clone(), NOW).await?;
    assert_eq!(posted.source_ref, "JE-000001");
    let second = crate::manage::post_manual(&mut tx, &actor(), day(12), "again", lines, NOW).await?;
    assert_eq!(second.source_ref, "JE-000002");
    assert_eq!(open_of(&mut tx, account).await?, vec![("BILL-1".to_string(), 3_000)]);
    let accounts = store::ledger_accounts(&mut tx).await?;
    assert!(accounts.iter().any(|a| a.code == LedgerCode::ADJUSTMENTS));
    tx.commit().await?;
    assert_clean(&scratch.db).await
}

#[tokio::test]
async fn reports_read_back_what_was_posted() -> TestResult {
    let scratch = db::scratch::open().await?;
    let mut tx = scratch.db.begin().await?;
    let account = new_account(&mut tx, "1").await?;
    bill(&mut tx, account, "BILL-OLD", 4_000, 0).await?;
    bill(&mut tx, account, "BILL-NEW", 1_000, 60).await?;
    pay(&mut tx, account, "PAY-1", 500).await?;
    let page = kernel::PageRequest::parse(Some(10), None)?;
    let aging = crate::reports::aging(&mut tx, day(45), &page).await?;
    let buckets: Vec<i64> = aging.totals[0].buckets.iter().map(|b| b.amount_minor).collect();
    assert_eq!(buckets, vec![1_000, 0, 3_500, 0, 0, 0], "45 days past the first due date");
    assert_eq!(aging.accounts[0].total_minor, 4_500);
    let balance = crate::reports::account_balance(&mut tx, account).await?;
    assert_eq!((balance.currencies[0].receivable_minor, balance.currencies[0].open_minor), (4_500, 4_500));
    let lines = crate::reports::account_lines(&mut tx, account, &kernel::PageRequest::parse(Some(2), None)?).await?;
    let running: Vec<i64> = lines.items.iter().map(|l| l.balance_after_minor).collect();
    assert_eq!(running, vec![4_500, 5_000]);
    let after = lines.next_cursor.as_deref();
    let older = crate::reports::account_lines(&mut tx, account, &kernel::PageRequest::parse(Some(2), after)?).await?;
    assert_eq!(older.items.iter().map(|l| l.balance_after_minor).collect::<Vec<_>>(), vec![4_000]);
    let entries = crate::report_store::entries(&mut tx, i64::MAX, "2026-01-01", "2026-12-31", Some("bill"), 10).await?;
    assert_eq!(entries.len(), 2);
    let csv = crate::reports::export_csv(&mut tx, day(-20), day(30)).await?;
    assert!(csv.contains("2026-11-21,1010,Undeposited funds,USD,5.00,0.00"), "{csv}");
    tx.commit().await?;
    assert_clean(&scratch.db).await
}
