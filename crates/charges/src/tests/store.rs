//! Store tests: each operation against a scratch database, with the ledger checked after.

use super::*;

/// 2027-01-15 09:20 UTC.
fn t(seconds: i64) -> Timestamp {
    Timestamp::from_micros(1_800_000_000_000_000).plus_seconds(seconds)
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

fn user(id: i64, name: &str, role: Role) -> Actor {
    Actor::User { user_id: UserId(id), username: name.into(), role }
}

async fn account(tx: &mut db::Tx, rating: &str) -> i64 {
    let new = customers::ops::NewCustomer {
        name: customers::model::CustomerName::parse("person", Some("Ana"), Some("Tester"), None, None).unwrap(),
        phones: vec![],
        emails: vec![],
        addresses: vec![],
        preferences: customers::ops::Preferences::default(),
    };
    let actor = Actor::system("test");
    let customer_id = customers::ops::create_customer(tx, &actor, new, t(-3_600)).await.unwrap().customer.customer_id;
    let account = customers::ops::NewAccount {
        customer_id,
        bill_cycle: 1,
        collection_class: "residential".into(),
        credit_rating: rating.into(),
        cash_only: false,
        paperless: false,
        currency: Currency::USD,
        mailing_address_id: None,
    };
    customers::ops::open_account(tx, &actor, account, t(-3_600)).await.unwrap().account_id
}

/// A bill of `minor` due on `due`.
async fn bill(tx: &mut db::Tx, account_id: i64, minor: i64, due: &str, reference: &str) {
    let draft = EntryDraft::new(day("2027-01-01"), "bill", reference)
        .line(LineDraft::debit(LedgerCode::RECEIVABLE, Some(account_id), usd(minor)))
        .line(LineDraft::credit("4020", None, usd(minor)));
    let posted = ledger::ops::post(tx, &Actor::system("test"), &draft, t(0)).await.unwrap();
    ledger::ops::charge(tx, account_id, posted.entry_id, "bill", reference, day(due), usd(minor), t(0)).await.unwrap();
}

async fn pay(tx: &mut db::Tx, account_id: i64, minor: i64, reference: &str) {
    let draft = EntryDraft::new(day("2027-01-15"), "payment", reference)
        .line(LineDraft::debit(LedgerCode::UNDEPOSITED_FUNDS, None, usd(minor)))
        .line(LineDraft::credit(LedgerCode::RECEIVABLE, Some(account_id), usd(minor)));
    let posted = ledger::ops::post(tx, &Actor::system("test"), &draft, t(0)).await.unwrap();
    ledger::ops::settle(tx, account_id, Currency::USD, posted.entry_id, t(0)).await.unwrap();
}

async fn owed(tx: &mut db::Tx, account_id: i64) -> i64 {
    ledger::ops::receivable_balance(tx, account_id, Currency::USD).await.unwrap().amount_minor
}

async fn count(tx: &mut db::Tx, sql: &'static str) -> i64 {
    db::scalar!(tx, i64, sql).unwrap()
}

#[tokio::test]
async fn a_fee_posts_to_fees_revenue_with_an_open_item_and_bad_input_writes_nothing() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let account_id = account(&mut tx, "good").await;
    let clerk = user(5, "bea", Role::BillingClerk);
    let fee = NewFee::parse(account_id, "field_visit_fee", None, "", None)?;
    let row = ops::charge_fee(&mut tx, &clerk, fee, t(0)).await?;
    assert_eq!((row.amount_minor, row.fee_type_label.as_str()), (2_500, "Field visit fee"));
    assert_eq!(owed(&mut tx, account_id).await, 2_500);
    let items = ledger::ops::open_items(&mut tx, account_id, 10).await?;
    assert_eq!(items.len(), 1);
    assert_eq!((items[0].kind.as_str(), items[0].open_minor), ("fee", 2_500));
    let fee = NewFee::parse(account_id, "reconnect_fee", Some("60.00"), "After disconnection", None)?;
    ops::charge_fee(&mut tx, &clerk, fee, t(1)).await?;
    assert_eq!(owed(&mut tx, account_id).await, 8_500);
    assert_eq!(ops::fees_of(&mut tx, account_id).await?.len(), 2);
    tx.commit().await?;

    let mut tx = s.db.begin().await?;
    let audit_before = count(&mut tx, "select count(*) from audit").await;
    let unknown = NewFee::parse(account_id, "no_such_fee", None, "", None)?;
    let error = ops::charge_fee(&mut tx, &clerk, unknown, t(2)).await.unwrap_err();
    assert_eq!((error.code(), error.field()), ("fee_type_unknown", Some("fee_type")));
    tx.rollback().await?;
    let mut tx = s.db.begin().await?;
    let wrong = NewFee::parse(999_999, "late_fee", None, "", None)?;
    assert_eq!(ops::charge_fee(&mut tx, &clerk, wrong, t(2)).await.unwrap_err().code(), "account_unknown");
    tx.rollback().await?;
    let mut tx = s.db.read().await?;
    assert_eq!(count(&mut tx, "select count(*) from fee").await, 2);
    assert_eq!(count(&mut tx, "select count(*) from audit").await, audit_before);
    Ok(())
}

#[tokio::test]
async fn adjustments_above_the_limit_wait_for_a_different_supervisor() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let account_id = account(&mut tx, "good").await;
    bill(&mut tx, account_id, 50_000, "2027-01-20", "BILL-1").await;
    let supervisor = user(7, "sam", Role::Supervisor);
    let other = user(8, "sue", Role::Supervisor);
    let small = NewAdjustment::parse(account_id, "credit", "100.00", "goodwill", "Sorry")?;
    let posted = ops::request_adjustment(&mut tx, &supervisor, small, t(0)).await?;
    assert_eq!(posted.status, "posted");
    assert!(posted.entry_id.is_some());
    assert_eq!(owed(&mut tx, account_id).await, 40_000);
    let open: i64 = ledger::ops::open_items(&mut tx, account_id, 10).await?.iter().map(|i| i.open_minor).sum();
    assert_eq!(open, 40_000, "the credit settled part of the bill");

    let big = NewAdjustment::parse(account_id, "credit", "150.00", "meter_misread", "Keyed 4512 as 5412")?;
    let pending = ops::request_adjustment(&mut tx, &supervisor, big, t(1)).await?;
    assert_eq!((pending.status.as_str(), pending.entry_id), ("pending_approval", None));
    assert_eq!(owed(&mut tx, account_id).await, 40_000, "a pending adjustment posts nothing");
    assert_eq!(ops::pending_adjustments(&mut tx).await?.len(), 1);
    let id = pending.adjustment_id;
    let own = ops::decide_adjustment(&mut tx, &supervisor, id, Decision::Approve, "", t(2)).await.unwrap_err();
    assert_eq!(own.code(), "adjustment_requires_different_approver");
    let system = ops::decide_adjustment(&mut tx, &Actor::system("x"), id, Decision::Approve, "", t(2)).await;
    assert_eq!(system.unwrap_err().code(), "adjustment_requires_different_approver");
    let approved = ops::decide_adjustment(&mut tx, &other, id, Decision::Approve, "Checked", t(3)).await?;
    assert_eq!((approved.status.as_str(), approved.decided_by.as_deref()), ("approved", Some("sue")));
    assert_eq!(owed(&mut tx, account_id).await, 25_000);
    let again = ops::decide_adjustment(&mut tx, &other, id, Decision::Approve, "", t(4)).await.unwrap_err();
    assert_eq!(again.code(), "adjustment_not_pending");
    assert_eq!(count(&mut tx, "select count(*) from journal_entry where source_kind = 'adjustment'").await, 2);

    let debit = NewAdjustment::parse(account_id, "debit", "500.00", "billing_error", "Under-billed")?;
    let pending = ops::request_adjustment(&mut tx, &supervisor, debit, t(5)).await?;
    let no_reason = ops::decide_adjustment(&mut tx, &other, pending.adjustment_id, Decision::Reject, "", t(6)).await;
    assert_eq!(no_reason.unwrap_err().field(), Some("note"));
    let rejected =
        ops::decide_adjustment(&mut tx, &other, pending.adjustment_id, Decision::Reject, "Not evidenced", t(6)).await?;
    assert_eq!((rejected.status.as_str(), rejected.decision_note.as_deref()), ("rejected", Some("Not evidenced")));
    assert_eq!(owed(&mut tx, account_id).await, 25_000, "a rejected adjustment posts nothing");
    assert!(ops::pending_adjustments(&mut tx).await?.is_empty());
    assert_eq!(ops::adjustments_of(&mut tx, account_id).await?.len(), 3);
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn late_fees_are_charged_once_per_overdue_item_after_the_grace_period() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let late = account(&mut tx, "good").await;
    let on_time = account(&mut tx, "good").await;
    bill(&mut tx, late, 100_000, "2027-01-05", "BILL-1").await;
    bill(&mut tx, on_time, 100_000, "2027-01-12", "BILL-2").await;
    tx.commit().await?;
    let run = ops::assess_late_fees(&s.db, day("2027-01-15"), t(0)).await?;
    assert_eq!(run.assessed, 1, "the second bill is within its grace period");
    assert_eq!(run.total_minor, vec![("USD".to_string(), 1_500)]);
    let again = ops::late_fees_cli(&s.db, "2027-01-15", t(10)).await?;
    assert!(again.contains(": 0 overdue items charged"), "{again}");
    let later = ops::assess_late_fees(&s.db, day("2027-01-30"), t(20)).await?;
    assert_eq!(later.assessed, 1, "the second bill, and never the late fee itself");
    let mut tx = s.db.read().await?;
    assert_eq!(owed(&mut tx, late).await, 101_500);
    let fees = ops::fees_of(&mut tx, late).await?;
    assert_eq!((fees.len(), fees[0].fee_type_code.as_str()), (1, "late_fee"));
    assert!(fees[0].late_fee_item_id.is_some());
    assert_eq!(count(&mut tx, "select count(*) from fee").await, 2);
    Ok(())
}

#[tokio::test]
async fn a_deposit_is_billed_held_once_paid_then_applied_or_refunded() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let account_id = account(&mut tx, "fair").await;
    let excellent = account(&mut tx, "excellent").await;
    let clerk = user(5, "bea", Role::BillingClerk);
    let none = ops::require_deposit(&mut tx, &clerk, NewDeposit::parse(excellent, None, None)?, t(0)).await;
    assert_eq!(none.unwrap_err().code(), "deposit_not_required");
    let deposit = ops::require_deposit(&mut tx, &clerk, NewDeposit::parse(account_id, None, None)?, t(0)).await?;
    assert_eq!((deposit.status.as_str(), deposit.amount_minor, deposit.unpaid_minor), ("billed", 10_000, Some(10_000)));
    assert_eq!(owed(&mut tx, account_id).await, 10_000);
    let early = ops::apply_deposit(&mut tx, &clerk, deposit.deposit_id, t(1)).await.unwrap_err();
    assert_eq!(early.code(), "deposit_not_held");
    pay(&mut tx, account_id, 10_000, "PAY-1").await;
    bill(&mut tx, account_id, 4_000, "2027-02-01", "BILL-1").await;
    let applied = ops::apply_deposit(&mut tx, &clerk, deposit.deposit_id, t(2)).await?;
    assert_eq!(applied.status, "applied");
    assert_eq!(owed(&mut tx, account_id).await, -6_000, "the deposit paid the bill and left a credit");
    assert_eq!(ledger::ops::deposit_held(&mut tx, account_id, Currency::USD).await?.amount_minor, 0);
    let twice = ops::refund_deposit(&mut tx, &clerk, deposit.deposit_id, "", t(3)).await.unwrap_err();
    assert_eq!(twice.code(), "deposit_state_does_not_allow_this");

    let second = NewDeposit::parse(account_id, Some("50.00"), Some("2027-01-31"))?;
    let second = ops::require_deposit(&mut tx, &clerk, second, t(4)).await?;
    assert_eq!(second.status, "held", "the credit balance paid it at once");
    let refunded = ops::refund_deposit(&mut tx, &clerk, second.deposit_id, "", t(5)).await?;
    assert_eq!(refunded.status, "refunded");
    assert_eq!(ledger::ops::deposit_held(&mut tx, account_id, Currency::USD).await?.amount_minor, 0);
    assert_eq!(ops::deposits_of(&mut tx, account_id).await?.len(), 2);
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn a_deposit_refund_above_the_limit_waits_for_a_different_supervisor() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let account_id = account(&mut tx, "poor").await;
    let sam = user(7, "sam", Role::Supervisor);
    let sue = user(8, "sue", Role::Supervisor);
    let deposit = ops::require_deposit(&mut tx, &sam, NewDeposit::parse(account_id, None, None)?, t(0)).await?;
    assert_eq!(deposit.amount_minor, 20_000, "above the 100.00 limit");
    pay(&mut tx, account_id, 20_000, "PAY-1").await;
    let entries = "select count(*) from journal_entry where source_kind = 'deposit_refund'";

    let pending = ops::refund_deposit(&mut tx, &sam, deposit.deposit_id, "Moving away", t(1)).await?;
    assert_eq!(pending.status, "refund_pending");
    assert_eq!(
        (pending.refund_requested_by.as_deref(), pending.refund_note.as_deref()),
        (Some("sam"), Some("Moving away"))
    );
    assert_eq!(count(&mut tx, entries).await, 0, "nothing posts while it waits");
    assert_eq!(ledger::ops::deposit_held(&mut tx, account_id, Currency::USD).await?.amount_minor, 20_000);
    assert_eq!(ops::pending_deposit_refunds(&mut tx).await?.len(), 1);
    let apply = ops::apply_deposit(&mut tx, &sam, deposit.deposit_id, t(2)).await.unwrap_err();
    assert_eq!(apply.code(), "deposit_state_does_not_allow_this", "a waiting deposit is not applied");

    let own = ops::decide_deposit_refund(&mut tx, &sam, deposit.deposit_id, Decision::Approve, "", t(3)).await;
    assert_eq!(own.unwrap_err().code(), "deposit_refund_requires_different_approver");
    let system = Actor::system("job");
    let nobody = ops::decide_deposit_refund(&mut tx, &system, deposit.deposit_id, Decision::Approve, "", t(3)).await;
    assert_eq!(nobody.unwrap_err().code(), "deposit_refund_requires_different_approver");
    let silent = ops::decide_deposit_refund(&mut tx, &sue, deposit.deposit_id, Decision::Reject, " ", t(3)).await;
    assert_eq!(silent.unwrap_err().field(), Some("note"), "a rejection says why");

    let rejected =
        ops::decide_deposit_refund(&mut tx, &sue, deposit.deposit_id, Decision::Reject, "Final bill first", t(4))
            .await?;
    assert_eq!((rejected.status.as_str(), rejected.refund_decided_by.as_deref()), ("held", Some("sue")));
    assert_eq!(count(&mut tx, entries).await, 0);
    assert!(ops::pending_deposit_refunds(&mut tx).await?.is_empty());

    ops::refund_deposit(&mut tx, &sam, deposit.deposit_id, "Final bill paid", t(5)).await?;
    let approved = ops::decide_deposit_refund(&mut tx, &sue, deposit.deposit_id, Decision::Approve, "", t(6)).await?;
    assert_eq!(approved.status, "refunded");
    assert!(approved.closed_entry_id.is_some());
    let again = ops::decide_deposit_refund(&mut tx, &sue, deposit.deposit_id, Decision::Approve, "", t(7)).await;
    assert_eq!(again.unwrap_err().code(), "deposit_refund_not_pending");
    assert_eq!(count(&mut tx, entries).await, 1, "posted exactly once");
    assert_eq!(ledger::ops::deposit_held(&mut tx, account_id, Currency::USD).await?.amount_minor, 0);
    let actions = "select count(*) from audit where action in ('deposit.refund_requested', 'deposit.refund_rejected',
                   'deposit.refund_approved', 'deposit.refunded')";
    assert_eq!(count(&mut tx, actions).await, 5);

    // Paying it out: a reference is required and never a card number; it posts once.
    assert_eq!(ops::deposit_refunds_to_issue(&mut tx).await?.len(), 1);
    let blank = ops::issue_deposit_refund(&mut tx, &sue, deposit.deposit_id, " ", t(8)).await.unwrap_err();
    assert_eq!((blank.code(), blank.field()), ("issue_reference_missing", Some("reference")));
    let card = ops::issue_deposit_refund(&mut tx, &sue, deposit.deposit_id, "4111111111111111", t(8)).await;
    assert_eq!(card.unwrap_err().field(), Some("reference"), "a card number is never stored");
    let paid = ops::issue_deposit_refund(&mut tx, &sue, deposit.deposit_id, "CHK-2001", t(9)).await?;
    assert_eq!((paid.status.as_str(), paid.refund_issued_reference.as_deref()), ("refund_issued", Some("CHK-2001")));
    assert_eq!(paid.refund_issued_by.as_deref(), Some("sue"));
    let twice = ops::issue_deposit_refund(&mut tx, &sue, deposit.deposit_id, "CHK-2002", t(10)).await.unwrap_err();
    assert_eq!(twice.code(), "deposit_refund_not_to_issue");
    let issued = "select count(*) from journal_entry where source_kind = 'deposit_refund_issue'";
    assert_eq!(count(&mut tx, issued).await, 1, "paid out exactly once");
    let payable = "select coalesce(cast(sum(l.amount_minor) as bigint), 0) from journal_line l
                   join ledger_account a on a.ledger_account_id = l.ledger_account_id where a.code = '2100'";
    assert_eq!(count(&mut tx, payable).await, 0, "refunds payable is cleared");
    assert!(ops::deposit_refunds_to_issue(&mut tx).await?.is_empty());
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn arrangements_are_kept_or_broken_from_the_payments_that_arrive() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let keeps = account(&mut tx, "good").await;
    let breaks = account(&mut tx, "good").await;
    bill(&mut tx, keeps, 10_000, "2027-01-10", "BILL-1").await;
    bill(&mut tx, breaks, 10_000, "2027-01-10", "BILL-2").await;
    let clerk = user(5, "bea", Role::BillingClerk);
    let nothing = account(&mut tx, "good").await;
    let refused =
        ops::make_arrangement(&mut tx, &clerk, NewArrangement::parse(nothing, 3, "weekly", "2027-01-20")?, t(0));
    assert_eq!(refused.await.unwrap_err().code(), "no_arrears_to_arrange");
    let kept =
        ops::make_arrangement(&mut tx, &clerk, NewArrangement::parse(keeps, 3, "monthly", "2027-01-20")?, t(0)).await?;
    let amounts: Vec<i64> = kept.instalments.iter().map(|i| i.amount_minor).collect();
    assert_eq!(amounts, vec![3_333, 3_333, 3_334]);
    assert_eq!(kept.instalments[2].due_date, "2027-03-20");
    let twice = ops::make_arrangement(&mut tx, &clerk, NewArrangement::parse(keeps, 2, "weekly", "2027-01-20")?, t(0));
    assert_eq!(twice.await.unwrap_err().code(), "arrangement_already_active");
    let broken =
        ops::make_arrangement(&mut tx, &clerk, NewArrangement::parse(breaks, 2, "weekly", "2027-01-20")?, t(0)).await?;
    pay(&mut tx, keeps, 3_333, "PAY-1").await;
    pay(&mut tx, breaks, 1_000, "PAY-2").await;
    tx.commit().await?;

    let run = ops::review_arrangements(&s.db, day("2027-01-25"), t(10)).await?;
    assert_eq!((run.reviewed, run.kept, run.broken), (2, 0, 1));
    let mut tx = s.db.begin().await?;
    let view = ops::get_arrangement(&mut tx, broken.arrangement.arrangement_id).await?;
    assert_eq!(view.arrangement.status, "broken");
    assert_eq!(view.instalments[0].status, "missed");
    let contacts = count(
        &mut tx,
        "select count(*) from contact where reason_code = 'payment' and sub_reason_code = 'arrangement_broken'",
    );
    assert_eq!(contacts.await, 1);
    let view = ops::get_arrangement(&mut tx, kept.arrangement.arrangement_id).await?;
    assert_eq!((view.arrangement.status.as_str(), view.instalments[0].status.as_str()), ("active", "paid"));
    pay(&mut tx, keeps, 6_667, "PAY-3").await;
    tx.commit().await?;
    let run = ops::review_arrangements(&s.db, day("2027-02-01"), t(20)).await?;
    assert_eq!((run.reviewed, run.kept, run.broken), (1, 1, 0));

    let mut tx = s.db.begin().await?;
    bill(&mut tx, breaks, 500, "2027-02-10", "BILL-3").await;
    let fresh =
        ops::make_arrangement(&mut tx, &clerk, NewArrangement::parse(breaks, 1, "weekly", "2027-02-20")?, t(30))
            .await?;
    let cancelled = ops::cancel_arrangement(&mut tx, &clerk, fresh.arrangement.arrangement_id, t(31)).await?;
    assert_eq!(cancelled.arrangement.status, "cancelled");
    let again = ops::cancel_arrangement(&mut tx, &clerk, fresh.arrangement.arrangement_id, t(32)).await;
    assert_eq!(again.unwrap_err().code(), "arrangement_not_active");
    assert_eq!(ops::arrangements_of(&mut tx, breaks).await?.len(), 2);
    tx.commit().await?;
    Ok(())
}

/// A figure, not a check: `cargo test -p charges --release -- --ignored --nocapture late_fee_run_speed`.
#[tokio::test]
#[ignore]
async fn late_fee_run_speed() -> TestResult {
    let s = scratch::open().await?;
    let accounts = 1_000;
    let mut tx = s.db.begin().await?;
    for n in 0..accounts {
        let account_id = account(&mut tx, "good").await;
        bill(&mut tx, account_id, 10_000 + n, "2027-01-01", &format!("BILL-{n}")).await;
    }
    tx.commit().await?;
    let started = std::time::Instant::now();
    let run = ops::assess_late_fees(&s.db, day("2027-01-15"), t(0)).await?;
    let elapsed = started.elapsed();
    assert_eq!(run.assessed, accounts);
    println!("late fees: {accounts} charged in {elapsed:?} ({:.0}/s)", accounts as f64 / elapsed.as_secs_f64());
    Ok(())
}
