//! Store tests of the bill run and meter reads on the database the environment selects
//! (SQLite by default, PostgreSQL with `TEST_DATABASE_URL`).

use crate::BillingError;
use crate::model::Period;
use crate::ops::{self, NewRead};
use crate::run;
use db::{Db, Tx};
use kernel::clock::FixedClock;
use kernel::{Actor, Currency, Money, Timestamp};
use ledger::{BusinessDate, EntryDraft, LedgerCode, LineDraft};

/// 2026-12-05T00:00:00Z
const NOW: i64 = 1_796_428_800_000_000;

async fn seed(db: &Db, accounts: i64) {
    let mut tx = db.begin().await.unwrap();
    for id in 1..=accounts {
        db::execute!(
            &mut tx,
            "insert into customer (customer_id, customer_number, kind, display_name, created_at, updated_at)
             values ($1, $2, 'person', $3, 0, 0)",
            id,
            format!("C{id:06}"),
            format!("Customer {id}")
        )
        .unwrap();
        db::execute!(
            &mut tx,
            "insert into account (account_id, account_number, customer_id, status, bill_cycle, collection_class,
                                  credit_rating, currency, opened_at, updated_at)
             values ($1, $2, $1, 'active', 1, 'residential', 'good', 'USD', 0, 0)",
            id,
            format!("A{id:06}")
        )
        .unwrap();
        db::execute!(
            &mut tx,
            "insert into premise (premise_id, premise_type, line1, city, postal_code, country, created_at)
             values ($1, 'residential', '1 Main St', 'Springfield', '12345', 'US', 0)",
            id
        )
        .unwrap();
        db::execute!(
            &mut tx,
            "insert into meter (meter_id, meter_number, premise_id, service_type, installed_on)
             values ($1, $2, $1, 'electric', '2020-01-15')",
            id,
            format!("M{id:08}")
        )
        .unwrap();
        db::execute!(
            &mut tx,
            "insert into service_agreement (agreement_id, account_id, premise_id, service_type, rate_code, start_date,
                                            status, created_at, updated_at)
             values ($1, $1, $1, 'electric', 'E-RES-1', '2021-03-01', 'active', 0, 0)",
            id
        )
        .unwrap();
    }
    db::execute!(&mut tx, "update billing_setting set batch_size = 3").unwrap();
    tx.commit().await.unwrap();
}

async fn scalar(tx: &mut Tx, sql: &'static str) -> i64 {
    db::scalar!(tx, Option<i64>, sql).unwrap().unwrap_or(0)
}

#[tokio::test]
async fn a_bill_run_bills_every_account_once_posts_balanced_entries_and_resumes_harmlessly() {
    let scratch = db::scratch::open().await.unwrap();
    let db = &scratch.db;
    seed(db, 8).await;
    let clock = FixedClock::at(Timestamp(NOW));
    let actor = Actor::system("billing");
    // Account 2 paid 50.00 ahead: its bill is settled from the credit at once.
    let mut tx = db.begin().await.unwrap();
    let payment = EntryDraft::new(BusinessDate::parse("2026-11-20", "d").unwrap(), "payment", "PAY-1")
        .line(LineDraft::debit(LedgerCode::UNDEPOSITED_FUNDS, None, Money::new(5000, Currency::USD)))
        .line(LineDraft::credit(LedgerCode::RECEIVABLE, Some(2), Money::new(5000, Currency::USD)));
    ledger::ops::post(&mut tx, &actor, &payment, Timestamp(NOW)).await.unwrap();
    // Account 3 has an actual read.
    let new = NewRead {
        meter_number: "M00000003".into(),
        read_date: "2026-11-30".into(),
        reading: "800".into(),
        kind: "".into(),
    };
    ops::record_read(&mut tx, &actor, &new, Timestamp(NOW)).await.unwrap();
    tx.commit().await.unwrap();

    let period = Period::parse(1, "2026-11").unwrap();
    let batches = std::sync::atomic::AtomicUsize::new(0);
    let count = |_: &crate::store::RunRow| {
        batches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    };
    let done = run::bill_run(db, &actor, period, &clock, &count).await.unwrap();
    assert_eq!(done.status, "done");
    assert_eq!(done.bills_written, 8);
    assert_eq!(done.accounts_done, 8);
    assert!(batches.load(std::sync::atomic::Ordering::SeqCst) >= 3);

    let mut tx = db.read().await.unwrap();
    assert_eq!(scalar(&mut tx, "select count(*) from bill").await, 8);
    assert_eq!(scalar(&mut tx, "select cast(sum(total_minor) as bigint) from bill").await, done.total_minor);
    assert_eq!(scalar(&mut tx, "select cast(sum(amount_minor) as bigint) from journal_line").await, 0);
    assert_eq!(scalar(&mut tx, "select count(*) from open_item where kind = 'bill'").await, 8);
    assert_eq!(scalar(&mut tx, "select count(*) from contact where sub_reason_code = 'bill_sent'").await, 8);
    assert_eq!(scalar(&mut tx, "select count(*) from meter_read where kind = 'estimated'").await, 7);
    let receivable = scalar(
        &mut tx,
        "select cast(sum(balance_minor) as bigint) from subledger_balance s
           join ledger_account l on l.ledger_account_id = s.ledger_account_id where l.code = '1100'",
    )
    .await;
    assert_eq!(receivable, done.total_minor - 5000);
    let day_debits = scalar(
        &mut tx,
        "select cast(sum(debit_minor) as bigint) from ledger_day_total t
           join ledger_account l on l.ledger_account_id = t.ledger_account_id
          where l.code = '1100' and t.entry_date = '2026-12-01'",
    )
    .await;
    assert_eq!(day_debits, done.total_minor);
    let open_of_2 = db::scalar!(&mut tx, i64, "select open_minor from open_item where account_id = 2").unwrap();
    let total_of_2 = db::scalar!(&mut tx, i64, "select total_minor from bill where account_id = 2").unwrap();
    assert_eq!(open_of_2, total_of_2 - 5000);
    let bills = ops::bills_for_account(&mut tx, 3, 10).await.unwrap();
    assert_eq!(bills.len(), 1);
    assert!(!bills[0].estimated);
    assert_eq!(bills[0].bill_number, "BILL-0000003");
    let full = ops::get_bill(&mut tx, bills[0].bill_id).await.unwrap();
    assert_eq!(full.lines.iter().map(|l| l.amount_minor).sum::<i64>(), full.bill.total_minor);
    tx.rollback().await.unwrap();

    // Again: nothing new. A new run of the same period under another cycle bills nobody twice.
    let again = run::bill_run(db, &actor, period, &clock, &|_| {}).await.unwrap();
    assert_eq!(again.bills_written, 8);
    let mut tx = db.begin().await.unwrap();
    db::execute!(&mut tx, "update account set bill_cycle = 2 where account_id = 1").unwrap();
    tx.commit().await.unwrap();
    let other = run::bill_run(db, &actor, Period::parse(2, "2026-11").unwrap(), &clock, &|_| {}).await.unwrap();
    assert_eq!(other.bills_written, 0);
    let mut tx = db.read().await.unwrap();
    assert_eq!(scalar(&mut tx, "select count(*) from bill").await, 8);
    assert_eq!(scalar(&mut tx, "select count(*) from audit where action = 'bill_run.batch'").await, 4);
    // Every bill and every bill contact lies in the id ranges some batch record names.
    let details =
        db::fetch_all!(&mut tx, (String,), "select detail from audit where action = 'bill_run.batch'").unwrap();
    let ranges = |key: &str| -> Vec<(i64, i64)> {
        let parsed = details.iter().map(|(d,)| serde_json::from_str::<serde_json::Value>(d).unwrap());
        parsed.filter_map(|d| d.get(key).and_then(|r| Some((r.get(0)?.as_i64()?, r.get(1)?.as_i64()?)))).collect()
    };
    let covered = |ranges: &[(i64, i64)], id: i64| ranges.iter().any(|(first, last)| (*first..=*last).contains(&id));
    let (bill_ranges, contact_ranges) = (ranges("bill_ids"), ranges("contact_ids"));
    let bill_ids = db::fetch_all!(&mut tx, (i64,), "select bill_id from bill").unwrap();
    assert!(bill_ids.iter().all(|(id,)| covered(&bill_ranges, *id)), "{bill_ranges:?}");
    let contact_ids =
        db::fetch_all!(&mut tx, (i64,), "select contact_id from contact where sub_reason_code = 'bill_sent'").unwrap();
    assert_eq!(contact_ids.len(), 8);
    assert!(contact_ids.iter().all(|(id,)| covered(&contact_ranges, *id)), "{contact_ranges:?}");
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn a_read_below_the_previous_one_is_refused_and_a_bad_import_writes_nothing() {
    let scratch = db::scratch::open().await.unwrap();
    let db = &scratch.db;
    seed(db, 2).await;
    let actor = Actor::system("test");
    let now = Timestamp(NOW);
    let mut tx = db.begin().await.unwrap();
    let read = |n: &str, date: &str, reading: &str, kind: &str| NewRead {
        meter_number: n.into(),
        read_date: date.into(),
        reading: reading.into(),
        kind: kind.into(),
    };
    ops::record_read(&mut tx, &actor, &read("M00000001", "2026-10-31", "1000", ""), now).await.unwrap();
    let lower = ops::record_read(&mut tx, &actor, &read("M00000001", "2026-11-30", "900", ""), now).await;
    assert!(matches!(lower, Err(BillingError::ReadingBelowPrevious)));
    ops::record_read(&mut tx, &actor, &read("M00000001", "2026-11-30", "900", "rollover"), now).await.unwrap();
    let unknown = ops::record_read(&mut tx, &actor, &read("NOPE", "2026-11-30", "1", ""), now).await;
    assert!(matches!(unknown, Err(BillingError::MeterUnknown)));
    tx.commit().await.unwrap();

    let mut tx = db.begin().await.unwrap();
    let file = "meter_number,read_date,reading\nM00000002,2026-10-31,10\nM00000002,2026-11-30,5\nM9,2026-11-30,1\n";
    match ops::import_reads(&mut tx, &actor, file, now).await {
        Err(BillingError::ImportRejected { errors }) => {
            assert_eq!(errors.len(), 2);
            assert!(errors[0].starts_with("line 3: reading"), "{errors:?}");
            assert!(errors[1].starts_with("line 4: meter_number"), "{errors:?}");
        }
        other => panic!("{other:?}"),
    }
    tx.rollback().await.unwrap();
    let mut tx = db.read().await.unwrap();
    assert_eq!(scalar(&mut tx, "select count(*) from meter_read where meter_id = 2").await, 0);
    tx.rollback().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let good = "M00000002,2026-10-31,10\nM00000002;2026-11-30;25\n";
    assert_eq!(ops::import_reads(&mut tx, &actor, good, now).await.unwrap().imported, 2);
    tx.commit().await.unwrap();
}

/// The figures of a data set after its bill runs: (bills, total, journal sum, open bill items,
/// contacts, estimated reads).
async fn billed_figures(db: &Db) -> [i64; 6] {
    let mut tx = db.read().await.unwrap();
    let figures = [
        scalar(&mut tx, "select count(*) from bill").await,
        scalar(&mut tx, "select cast(sum(total_minor) as bigint) from bill").await,
        scalar(&mut tx, "select cast(sum(amount_minor) as bigint) from journal_line").await,
        scalar(&mut tx, "select count(*) from open_item where kind = 'bill'").await,
        scalar(&mut tx, "select count(*) from contact where sub_reason_code = 'bill_sent'").await,
        scalar(&mut tx, "select count(*) from meter_read where kind = 'estimated'").await,
    ];
    tx.rollback().await.unwrap();
    figures
}

#[tokio::test]
async fn cycles_billed_together_end_as_if_billed_one_after_the_other() {
    let clock = FixedClock::at(Timestamp(NOW));
    let actor = Actor::system("billing");
    let periods: Vec<Period> = (1..=3).map(|c| Period::parse(c, "2026-11").unwrap()).collect();
    let mut results = Vec::new();
    for together in [false, true] {
        let scratch = db::scratch::open().await.unwrap();
        let db = &scratch.db;
        seed(db, 10).await;
        let mut tx = db.begin().await.unwrap();
        // Accounts spread over cycles 1-3 (1, 4, 7, 10 in cycle 1), one account in credit, and
        // an agreement that ended before cycle 3's period starts: that account gets no bill.
        db::execute!(&mut tx, "update account set bill_cycle = 1 + (account_id - 1) % 3").unwrap();
        db::execute!(&mut tx, "update service_agreement set end_date = '2026-11-02' where account_id = 9").unwrap();
        let payment = EntryDraft::new(BusinessDate::parse("2026-11-20", "d").unwrap(), "payment", "PAY-1")
            .line(LineDraft::debit(LedgerCode::UNDEPOSITED_FUNDS, None, Money::new(2500, Currency::USD)))
            .line(LineDraft::credit(LedgerCode::RECEIVABLE, Some(5), Money::new(2500, Currency::USD)));
        ledger::ops::post(&mut tx, &actor, &payment, Timestamp(NOW)).await.unwrap();
        tx.commit().await.unwrap();
        // Together: cycle 2 (accounts 2, 5, 8) went first on its own and is then taken for
        // failed after account 5, so the runs go on from different cursors and account 8 is
        // seen again (and not billed twice).
        let runs = if together {
            let first = run::bill_run(db, &actor, periods[1], &clock, &|_| {}).await.unwrap();
            assert_eq!(first.bills_written, 3);
            let mut tx = db.begin().await.unwrap();
            db::execute!(&mut tx, "update bill_run set status = 'failed', last_account_id = 5").unwrap();
            tx.commit().await.unwrap();
            run::bill_runs(db, &actor, &periods, &clock, &|_| {}).await.unwrap()
        } else {
            let mut runs = Vec::new();
            for period in &periods {
                runs.push(run::bill_run(db, &actor, *period, &clock, &|_| {}).await.unwrap());
            }
            runs
        };
        let written: Vec<(i64, String, i64, i64)> =
            runs.iter().map(|r| (r.bill_cycle, r.status.clone(), r.bills_written, r.accounts_done)).collect();
        let seen_by_2 = if together { 4 } else { 3 };
        assert_eq!(written, vec![(1, "done".into(), 4, 4), (2, "done".into(), 3, seen_by_2), (3, "done".into(), 2, 3)]);
        let figures = billed_figures(db).await;
        let mut tx = db.read().await.unwrap();
        let open_of_5 = db::scalar!(&mut tx, i64, "select open_minor from open_item where account_id = 5").unwrap();
        let total_of_5 = db::scalar!(&mut tx, i64, "select total_minor from bill where account_id = 5").unwrap();
        assert_eq!(open_of_5, total_of_5 - 2500, "the credit settles the bill");
        let wrong_run = scalar(
            &mut tx,
            "select count(*) from bill b join account a on a.account_id = b.account_id
               join bill_run r on r.bill_run_id = b.bill_run_id where r.bill_cycle <> a.bill_cycle",
        )
        .await;
        assert_eq!(wrong_run, 0, "each bill belongs to its own cycle's run");
        tx.rollback().await.unwrap();
        results.push(figures);
        // Again: nothing more.
        let again = run::bill_runs(db, &actor, &periods, &clock, &|_| {}).await.unwrap();
        assert_eq!(again.iter().map(|r| r.bills_written).sum::<i64>(), 9);
        assert_eq!(billed_figures(db).await, figures);
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0][0], 9);
    assert_eq!(results[0][2], 0);
}

/// Cycle 1's run cursor.
async fn cursor(db: &Db) -> i64 {
    let mut tx = db.read().await.unwrap();
    let cursor = scalar(&mut tx, "select last_account_id from bill_run where bill_cycle = 1").await;
    tx.rollback().await.unwrap();
    cursor
}

#[tokio::test]
async fn a_batch_read_ahead_is_written_only_while_the_cursors_and_the_billed_accounts_are_as_read() {
    let scratch = db::scratch::open().await.unwrap();
    let db = &scratch.db;
    seed(db, 9).await;
    let actor = Actor::system("billing");
    let now = Timestamp(NOW);
    let period = Period::parse(1, "2026-11").unwrap();
    let versions = run::load_versions(db).await.unwrap();
    let runs = vec![(run::start_run(db, &actor, period, now).await.unwrap(), period)];

    // Read ahead after cursor 0 (accounts 1-3); the writer bills 1-3 first on its own read, so the
    // read-ahead batch no longer fits the cursor and the writer reads 4-6 itself instead.
    let stale = run::read_ahead(db, &runs, &[0], &versions).await.unwrap().unwrap();
    assert_eq!(stale.range, (1, 3));
    let ahead = run::read_ahead(db, &runs, &[0], &versions).await.unwrap();
    assert!(run::run_batch(db, &actor, &runs, &versions, ahead, now).await.unwrap().is_some());
    assert_eq!(cursor(db).await, 3);
    assert!(run::run_batch(db, &actor, &runs, &versions, Some(stale), now).await.unwrap().is_some());
    assert_eq!(cursor(db).await, 6);
    assert_eq!(billed_figures(db).await[0], 6);

    // Read ahead after cursor 6 (accounts 7-9); account 8 is then billed under another cycle's
    // run. Writing the read-ahead batch fails and leaves nothing; read again by the writer, the
    // batch bills 7 and 9 only.
    let ahead = run::read_ahead(db, &runs, &[6], &versions).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    db::execute!(&mut tx, "update account set bill_cycle = 2 where account_id = 8").unwrap();
    tx.commit().await.unwrap();
    let clock = FixedClock::at(now);
    let other = run::bill_run(db, &actor, Period::parse(2, "2026-11").unwrap(), &clock, &|_| {}).await.unwrap();
    assert_eq!(other.bills_written, 1);
    let mut tx = db.begin().await.unwrap();
    db::execute!(&mut tx, "update account set bill_cycle = 1 where account_id = 8").unwrap();
    tx.commit().await.unwrap();
    let before = billed_figures(db).await;
    assert!(run::run_batch(db, &actor, &runs, &versions, ahead, now).await.is_err());
    assert_eq!(billed_figures(db).await, before);
    assert_eq!(cursor(db).await, 6);
    assert!(run::run_batch(db, &actor, &runs, &versions, None, now).await.unwrap().is_some());
    assert_eq!(cursor(db).await, 9);
    let figures = billed_figures(db).await;
    assert_eq!((figures[0], figures[2], figures[4]), (9, 0, 9));
    assert!(run::run_batch(db, &actor, &runs, &versions, None, now).await.unwrap().is_none());
}
