//! The returned-payment notice on the database the environment selects: a letter for a customer
//! who prefers letters, with the payment, its reference and the fee merged; no notice for a
//! reversal made in error; nothing left when the reversal is rolled back.

use super::*;
use crate::notices::payment_reference;

/// An account whose customer has a postal address, prefers `channel`, and has an email.
async fn reachable_account(tx: &mut db::Tx, channel: &str) -> (i64, String) {
    use customers::model::{CustomerName, EmailAddress, PostalAddress};
    let address = PostalAddress::parse("9 Oak Ave", None, "Springfield", Some("IL"), "62701", None).unwrap();
    let new = customers::ops::NewCustomer {
        name: CustomerName::parse("person", Some("Rosa"), Some("Diaz"), None, None).unwrap(),
        phones: vec![],
        emails: vec![("home".into(), EmailAddress::parse("rosa@example.com").unwrap())],
        addresses: vec![("home".into(), address)],
        preferences: customers::ops::Preferences { channel: channel.into(), ..Default::default() },
    };
    let actor = Actor::system("test");
    let customer_id = customers::ops::create_customer(tx, &actor, new, t(-3_600)).await.unwrap().customer.customer_id;
    let account = customers::ops::NewAccount {
        customer_id,
        bill_cycle: 1,
        collection_class: "residential".into(),
        credit_rating: "good".into(),
        cash_only: false,
        paperless: false,
        currency: Currency::USD,
        mailing_address_id: None,
    };
    let account = customers::ops::open_account(tx, &actor, account, t(-3_600)).await.unwrap();
    (account.account_id, account.account_number)
}

async fn count(tx: &mut db::Tx, sql: &'static str, account_id: i64) -> i64 {
    db::scalar!(tx, i64, sql, account_id).unwrap()
}

const EMAILS: &str =
    "select count(*) from outbound_email e join account a on a.customer_id = e.customer_id where a.account_id = $1";
const NOTICES: &str = "select count(*) from notice_event n join account a on a.customer_id = n.customer_id
     where a.account_id = $1";
const LETTER_CONTACTS: &str = "select count(*) from contact c join account a on a.customer_id = c.customer_id
     where a.account_id = $1 and c.channel = 'letter' and c.direction = 'outbound'";

#[tokio::test]
async fn a_returned_check_sends_a_letter_to_who_prefers_letters_and_an_error_reversal_sends_nothing() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let clerk = Actor::system("clerk");
    let (lettered, number) = reachable_account(&mut tx, "letter").await;
    let taken = ops::take_payment(&mut tx, &clerk, mailed_check(lettered, 4_000), t(0)).await?;
    let id = taken.payment.payment_id;
    let reversal = crate::ops_money::reverse_payment(&mut tx, &clerk, id, ReversalReason::ReturnedCheck, t(10)).await?;
    assert_eq!(reversal.fee_minor, 2_500);
    assert_eq!(count(&mut tx, EMAILS, lettered).await, 0, "who prefers letters gets no email");
    let (subject, body): (String, String) =
        db::fetch_one!(&mut tx, (String, String), "select subject, body from letter where account_id = $1", lettered)?;
    let payment_number = taken.payment.payment_number.clone();
    assert_eq!(subject, format!("Your payment {payment_number} was returned"));
    assert!(body.contains(&format!("{payment_number} of 40.00 USD (check 1) to account {number}")), "{body}");
    assert!(body.contains("fee of 25.00 USD") && body.contains("now 25.00 USD"), "{body}");
    assert_eq!(count(&mut tx, LETTER_CONTACTS, lettered).await, 1);
    let sent = correspondence::ops::notice_event(&mut tx, "payment_returned", &payment_number).await?.unwrap();
    assert_eq!((sent.outcome.as_str(), sent.channel.as_deref()), ("sent", Some("letter")));
    let mut payment = taken.payment.clone();
    assert_eq!(payment_reference(&payment), "check 1");
    (payment.tender, payment.card_brand, payment.last_four) = ("card".into(), Some("visa".into()), Some("4242".into()));
    assert_eq!(payment_reference(&payment), "visa card ending 4242");
    payment.tender = "ach".into();
    assert_eq!(payment_reference(&payment), "bank account ending 4242");
    payment.tender = "cash".into();
    assert_eq!(payment_reference(&payment), format!("cash received {}", payment.received_date));

    let (emailed, _) = reachable_account(&mut tx, "email").await;
    let keyed_wrong = ops::take_payment(&mut tx, &clerk, mailed_check(emailed, 1_000), t(20)).await?;
    let id = keyed_wrong.payment.payment_id;
    let reversal = crate::ops_money::reverse_payment(&mut tx, &clerk, id, ReversalReason::Error, t(30)).await?;
    assert_eq!(reversal.fee_minor, 0);
    assert_eq!(count(&mut tx, EMAILS, emailed).await, 0, "a reversal made in error is not the customer's news");
    assert_eq!(count(&mut tx, NOTICES, emailed).await, 0);
    let bounced = ops::take_payment(&mut tx, &clerk, mailed_check(emailed, 1_000), t(40)).await?;
    tx.commit().await?;

    let mut tx = s.db.begin().await?;
    let id = bounced.payment.payment_id;
    crate::ops_money::reverse_payment(&mut tx, &clerk, id, ReversalReason::Nsf, t(50)).await?;
    assert_eq!(count(&mut tx, EMAILS, emailed).await, 1, "queued in the reversal's transaction");
    tx.rollback().await?;
    let mut tx = s.db.begin().await?;
    assert_eq!(count(&mut tx, EMAILS, emailed).await, 0, "the rolled-back reversal left no email");
    assert_eq!(count(&mut tx, NOTICES, emailed).await, 0);
    Ok(())
}
