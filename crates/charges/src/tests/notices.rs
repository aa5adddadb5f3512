//! Store tests of the customer notices charges sends (late fee, broken arrangement, billed
//! deposit) through correspondence: the merged text queued and the contact logged in the
//! event's transaction, one per event on a re-run, nothing when rolled back or switched off,
//! and a letter for a customer who prefers letters.

use super::*;

/// 2027-01-15 09:20 UTC.
fn t(seconds: i64) -> Timestamp {
    Timestamp::from_micros(1_800_000_000_000_000).plus_seconds(seconds)
}

fn user(id: i64, name: &str, role: Role) -> Actor {
    Actor::User { user_id: UserId(id), username: name.into(), role }
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

/// An account whose customer has an email and a postal address and prefers `channel`.
async fn reachable_account(tx: &mut db::Tx, first_name: &str, channel: &str) -> (i64, String) {
    use customers::model::{CustomerName, EmailAddress, PostalAddress};
    let address = PostalAddress::parse("1 Main St", None, "Springfield", Some("IL"), "62701", None).unwrap();
    let email = EmailAddress::parse(&format!("{}@example.com", first_name.to_lowercase())).unwrap();
    let new = customers::ops::NewCustomer {
        name: CustomerName::parse("person", Some(first_name), Some("Tester"), None, None).unwrap(),
        phones: vec![],
        emails: vec![("home".into(), email)],
        addresses: vec![("home".into(), address)],
        preferences: customers::ops::Preferences { channel: channel.into(), ..Default::default() },
    };
    let actor = Actor::system("test");
    let customer_id = customers::ops::create_customer(tx, &actor, new, t(-3_600)).await.unwrap().customer.customer_id;
    let account = customers::ops::NewAccount {
        customer_id,
        bill_cycle: 1,
        collection_class: "residential".into(),
        credit_rating: "fair".into(),
        cash_only: false,
        paperless: false,
        currency: Currency::USD,
        mailing_address_id: None,
    };
    let account = customers::ops::open_account(tx, &actor, account, t(-3_600)).await.unwrap();
    (account.account_id, account.account_number)
}

async fn bill(tx: &mut db::Tx, account_id: i64, minor: i64, due: &str, reference: &str) {
    let draft = EntryDraft::new(day("2027-01-01"), "bill", reference)
        .line(LineDraft::debit(LedgerCode::RECEIVABLE, Some(account_id), usd(minor)))
        .line(LineDraft::credit("4020", None, usd(minor)));
    let posted = ledger::ops::post(tx, &Actor::system("test"), &draft, t(0)).await.unwrap();
    ledger::ops::charge(tx, account_id, posted.entry_id, "bill", reference, day(due), usd(minor), t(0)).await.unwrap();
}

async fn count(tx: &mut db::Tx, sql: &'static str, id: i64) -> i64 {
    db::scalar!(tx, i64, sql, id).unwrap()
}

/// The subject and body of the account's customer's emails, oldest first.
async fn emails_of(tx: &mut db::Tx, account_id: i64) -> Vec<(String, String)> {
    db::fetch_all!(
        tx,
        (String, String),
        "select e.subject, e.text_body from outbound_email e join account a on a.customer_id = e.customer_id
         where a.account_id = $1 order by e.email_id",
        account_id
    )
    .unwrap()
}

const LETTERS: &str = "select count(*) from letter where account_id = $1";
const EMAIL_CONTACTS: &str = "select count(*) from contact c join account a on a.customer_id = c.customer_id
     where a.account_id = $1 and c.channel = 'email' and c.direction = 'outbound' and c.reason_code = 'notice'";

#[tokio::test]
async fn a_late_fee_notice_is_merged_queued_and_logged_once_and_a_letter_for_who_prefers_letters() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let (emailed, number) = reachable_account(&mut tx, "Ana", "phone").await;
    let (lettered, _) = reachable_account(&mut tx, "Luis", "letter").await;
    bill(&mut tx, emailed, 100_000, "2027-01-05", "BILL-1").await;
    bill(&mut tx, lettered, 20_000, "2027-01-05", "BILL-2").await;
    tx.commit().await?;

    let run = ops::assess_late_fees(&s.db, day("2027-01-15"), t(0)).await?;
    assert_eq!(run.assessed, 2);
    let mut tx = s.db.begin().await?;
    let emails = emails_of(&mut tx, emailed).await;
    assert_eq!(emails.len(), 1);
    let (subject, body) = &emails[0];
    assert_eq!(subject, &format!("Late fee of 15.00 USD on account {number}"));
    assert!(body.starts_with("Dear Ana Tester,"), "{body}");
    assert!(body.contains("BILL-1, due on 2027-01-05"), "{body}");
    assert!(body.contains("The balance of the account is now 1015.00 USD."), "{body}");
    assert_eq!(count(&mut tx, EMAIL_CONTACTS, emailed).await, 1);
    assert_eq!(count(&mut tx, LETTERS, emailed).await, 0);
    assert!(emails_of(&mut tx, lettered).await.is_empty(), "who prefers letters gets no email");
    let letter_body: String = db::scalar!(&mut tx, String, "select body from letter where account_id = $1", lettered)?;
    assert!(letter_body.contains("A late fee of 5.00 USD"), "{letter_body}");
    let fees = ops::fees_of(&mut tx, emailed).await?;
    let event = format!("FEE-{:07}", fees[0].fee_id);
    let sent = correspondence::ops::notice_event(&mut tx, ops::LATE_FEE_NOTICE, &event).await?.unwrap();
    assert_eq!((sent.outcome.as_str(), sent.channel.as_deref()), ("sent", Some("email")));
    tx.commit().await?;

    ops::assess_late_fees(&s.db, day("2027-01-15"), t(10)).await?;
    ops::late_fees_cli(&s.db, "2027-01-30", t(20)).await?;
    let mut tx = s.db.begin().await?;
    assert_eq!(emails_of(&mut tx, emailed).await.len(), 1, "a re-run sends nothing again");
    assert_eq!(count(&mut tx, LETTERS, lettered).await, 1);
    assert_eq!(count(&mut tx, EMAIL_CONTACTS, emailed).await, 1);
    Ok(())
}

#[tokio::test]
async fn a_switched_off_notice_is_not_sent_and_the_switch_is_a_charges_setting() -> TestResult {
    let s = scratch::open().await?;
    let admin = user(1, "ada", Role::Admin);
    let mut tx = s.db.begin().await?;
    let settings = ops::settings(&mut tx).await?;
    let switch = settings.iter().find(|r| r.setting_key == "notice.late_fee_assessed").unwrap();
    assert_eq!(switch.value, 1, "notices are on unless switched off");
    assert!(settings.iter().any(|r| r.setting_key == "notice.payment_returned"));
    let bad = ops::set_setting(&mut tx, &admin, "notice.late_fee_assessed", 2, t(0)).await.unwrap_err();
    assert_eq!((bad.code(), bad.field()), ("notice_switch_invalid", Some("value")));
    let unknown = ops::set_setting(&mut tx, &admin, "notice.no_such_notice", 0, t(0)).await.unwrap_err();
    assert_eq!(unknown.code(), "setting_unknown");
    let off = ops::set_setting(&mut tx, &admin, "notice.late_fee_assessed", 0, t(0)).await?;
    assert_eq!(off.value, 0);
    let (account_id, _) = reachable_account(&mut tx, "Ana", "email").await;
    bill(&mut tx, account_id, 100_000, "2027-01-05", "BILL-1").await;
    tx.commit().await?;
    assert_eq!(ops::assess_late_fees(&s.db, day("2027-01-15"), t(1)).await?.assessed, 1, "the fee is charged");
    let mut tx = s.db.begin().await?;
    assert!(emails_of(&mut tx, account_id).await.is_empty());
    assert_eq!(count(&mut tx, "select count(*) from notice_event where customer_id > $1", 0).await, 0);
    let audited = "select count(*) from audit where action = 'notice.switched' and actor_user_id = $1";
    assert_eq!(count(&mut tx, audited, 1).await, 1);
    Ok(())
}

#[tokio::test]
async fn a_rolled_back_deposit_sends_nothing_and_a_billed_one_sends_its_notice() -> TestResult {
    let s = scratch::open().await?;
    let clerk = user(5, "bea", Role::BillingClerk);
    let mut tx = s.db.begin().await?;
    let (account_id, number) = reachable_account(&mut tx, "Ana", "email").await;
    tx.commit().await?;

    let mut tx = s.db.begin().await?;
    ops::require_deposit(&mut tx, &clerk, NewDeposit::parse(account_id, None, None)?, t(0)).await?;
    assert_eq!(emails_of(&mut tx, account_id).await.len(), 1, "queued inside the deposit's transaction");
    tx.rollback().await?;
    let mut tx = s.db.begin().await?;
    assert!(emails_of(&mut tx, account_id).await.is_empty(), "the rolled-back deposit left no email");
    assert_eq!(count(&mut tx, EMAIL_CONTACTS, account_id).await, 0);
    assert_eq!(count(&mut tx, "select count(*) from notice_event where customer_id > $1", 0).await, 0);

    let new = NewDeposit::parse(account_id, None, Some("2027-02-01"))?;
    let billed = ops::require_deposit(&mut tx, &clerk, new, t(1)).await?;
    assert_eq!(billed.status, "billed");
    let emails = emails_of(&mut tx, account_id).await;
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].0, format!("Security deposit of 100.00 USD for account {number}"));
    let deposit_ref = format!("DEP-{:07}", billed.deposit_id);
    assert!(emails[0].1.contains(&format!("({deposit_ref})")) && emails[0].1.contains("due on 2027-02-01"));
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn a_broken_arrangement_sends_its_notice_once_and_a_rolled_back_review_sends_none() -> TestResult {
    let s = scratch::open().await?;
    let clerk = user(5, "bea", Role::BillingClerk);
    let mut tx = s.db.begin().await?;
    let (account_id, number) = reachable_account(&mut tx, "Ana", "email").await;
    bill(&mut tx, account_id, 10_000, "2027-01-10", "BILL-1").await;
    let new = NewArrangement::parse(account_id, 2, "weekly", "2027-01-20")?;
    let made = ops::make_arrangement(&mut tx, &clerk, new, t(0)).await?;
    tx.commit().await?;

    let mut tx = s.db.begin().await?;
    let row = made.arrangement.clone();
    let status = ops::review_one(&mut tx, &Actor::system("charges"), &row, day("2027-01-25"), t(5)).await?;
    assert_eq!(status.code(), "broken");
    assert_eq!(emails_of(&mut tx, account_id).await.len(), 1);
    tx.rollback().await?;

    let run = ops::review_arrangements(&s.db, day("2027-01-25"), t(10)).await?;
    assert_eq!(run.broken, 1);
    let run = ops::review_arrangements(&s.db, day("2027-02-25"), t(20)).await?;
    assert_eq!(run.reviewed, 0, "a broken arrangement is not reviewed again");
    let mut tx = s.db.begin().await?;
    let emails = emails_of(&mut tx, account_id).await;
    assert_eq!(emails.len(), 1, "one notice, from the committed review");
    assert_eq!(emails[0].0, format!("Your payment arrangement on account {number} has ended"));
    assert!(emails[0].1.contains("instalment of 50.00 USD that was due on 2027-01-20"), "{}", emails[0].1);
    assert!(emails[0].1.contains("(1 instalment(s) missed)"), "{}", emails[0].1);
    assert_eq!(count(&mut tx, EMAIL_CONTACTS, account_id).await, 1);
    Ok(())
}

#[tokio::test]
async fn who_refused_email_gets_a_letter_and_who_cannot_be_reached_is_recorded_while_the_deposit_stands() -> TestResult
{
    let s = scratch::open().await?;
    let clerk = user(5, "bea", Role::BillingClerk);
    let mut tx = s.db.begin().await?;
    let (refused, _) = reachable_account(&mut tx, "Ana", "email").await;
    db::execute!(
        &mut tx,
        "update customer set do_not_email = $1
         where customer_id = (select customer_id from account where account_id = $2)",
        true,
        refused
    )?;
    let billed = ops::require_deposit(&mut tx, &clerk, NewDeposit::parse(refused, None, None)?, t(0)).await?;
    assert!(emails_of(&mut tx, refused).await.is_empty(), "asked not to be emailed");
    assert_eq!(count(&mut tx, LETTERS, refused).await, 1, "so the notice is a letter");
    let event = format!("DEP-{:07}", billed.deposit_id);
    let row = correspondence::ops::notice_event(&mut tx, ops::DEPOSIT_BILLED_NOTICE, &event).await?.unwrap();
    assert_eq!(row.channel.as_deref(), Some("letter"));

    let new = customers::ops::NewCustomer {
        name: customers::model::CustomerName::parse("person", Some("Nora"), Some("Nowhere"), None, None).unwrap(),
        phones: vec![],
        emails: vec![],
        addresses: vec![],
        preferences: customers::ops::Preferences::default(),
    };
    let actor = Actor::system("test");
    let customer_id = customers::ops::create_customer(&mut tx, &actor, new, t(0)).await?.customer.customer_id;
    let account = customers::ops::NewAccount {
        customer_id,
        bill_cycle: 1,
        collection_class: "residential".into(),
        credit_rating: "poor".into(),
        cash_only: false,
        paperless: false,
        currency: Currency::USD,
        mailing_address_id: None,
    };
    let nowhere = customers::ops::open_account(&mut tx, &actor, account, t(0)).await?.account_id;
    let billed = ops::require_deposit(&mut tx, &clerk, NewDeposit::parse(nowhere, None, None)?, t(1)).await?;
    assert_eq!((billed.status.as_str(), billed.amount_minor), ("billed", 20_000), "the deposit stands");
    let event = format!("DEP-{:07}", billed.deposit_id);
    let row = correspondence::ops::notice_event(&mut tx, ops::DEPOSIT_BILLED_NOTICE, &event).await?.unwrap();
    assert_eq!((row.outcome.as_str(), row.channel), ("unreachable", None));
    assert_eq!(count(&mut tx, LETTERS, nowhere).await + emails_of(&mut tx, nowhere).await.len() as i64, 0);
    tx.commit().await?;
    Ok(())
}
