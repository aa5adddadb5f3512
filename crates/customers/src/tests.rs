//! Unit and store tests for customer information. Store tests run on SQLite, and on PostgreSQL
//! too when TEST_DATABASE_URL is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::model::*;
use crate::ops::{self, NewAccount, NewAgreement, NewCustomer, Preferences};
use crate::{CustomerError, search, store};
use kernel::{Actor, Currency, Timestamp};

#[test]
fn phones_normalise_to_e164() {
    assert_eq!(PhoneNumber::parse("(555) 201-4477").unwrap().e164(), "+15552014477");
    assert_eq!(PhoneNumber::parse("1 555 201 4477").unwrap().e164(), "+15552014477");
    assert_eq!(PhoneNumber::parse("+44 20 7946 0958").unwrap().e164(), "+442079460958");
    assert_eq!(PhoneNumber::parse("555.201.4477").unwrap().digits(), "15552014477");
    for bad in ["", "12345", "555-CALL-NOW", "+0123456789", "2 555 201 4477", "+1+5552014477", "+1234567890123456"] {
        assert!(matches!(PhoneNumber::parse(bad), Err(CustomerError::PhoneInvalid)), "{bad}");
    }
}

#[test]
fn account_numbers_carry_a_check_digit() {
    let number = AccountNumber::for_key(1);
    assert_eq!(number.as_str().len(), 10);
    assert_eq!(AccountNumber::parse(number.as_str()), Ok(number.clone()));
    assert_eq!(
        AccountNumber::parse(&format!("{}-{}", &number.as_str()[..5], &number.as_str()[5..])),
        Ok(number.clone())
    );
    let digits: Vec<char> = number.as_str().chars().collect();
    for i in 0..digits.len() {
        let mut wrong = digits.clone();
        wrong[i] = char::from_digit((wrong[i].to_digit(10).unwrap() + 1) % 10, 10).unwrap();
        let wrong: String = wrong.into_iter().collect();
        assert!(AccountNumber::parse(&wrong).is_err(), "one mistyped digit at {i} is caught");
    }
    let swapped = AccountNumber::for_key(12_345);
    let mut s: Vec<char> = swapped.as_str().chars().collect();
    if s[7] != s[8] {
        s.swap(7, 8);
        assert!(AccountNumber::parse(&s.into_iter().collect::<String>()).is_err(), "adjacent swap is caught");
    }
    assert!(AccountNumber::parse("12345").is_err());
    assert!(AccountNumber::parse("abcdefghij").is_err());
}

impl PartialEq for CustomerError {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

#[test]
fn the_agreement_state_machine_allows_exactly_these_moves() {
    use AgreementStatus as S;
    let allowed = [
        (S::PendingStart, S::Active),
        (S::PendingStart, S::Cancelled),
        (S::Active, S::PendingStop),
        (S::PendingStop, S::Active),
        (S::PendingStop, S::Stopped),
    ];
    for from in S::ALL {
        for to in S::ALL {
            assert_eq!(from.can_become(to), allowed.contains(&(from, to)), "{} -> {}", from.code(), to.code());
            assert_eq!(from.transition(to).is_ok(), allowed.contains(&(from, to)));
        }
        assert_eq!(S::parse(from.code()), Some(from));
    }
}

#[test]
fn names_addresses_and_emails_are_checked() {
    assert!(matches!(
        CustomerName::parse("person", None, Some(" "), None, None),
        Err(CustomerError::PersonNameMissing)
    ));
    assert!(matches!(
        CustomerName::parse("business", Some("A"), None, None, None),
        Err(CustomerError::BusinessNameMissing)
    ));
    assert!(matches!(CustomerName::parse("robot", Some("A"), None, None, None), Err(CustomerError::KindUnknown)));
    assert_eq!(CustomerName::parse("person", Some("Ana"), Some("Ruiz"), None, None).unwrap().display(), "Ana Ruiz");
    assert!(matches!(PostalAddress::parse("1 Main", None, "", None, "1", None), Err(CustomerError::AddressIncomplete)));
    assert!(matches!(
        PostalAddress::parse("1 Main", None, "X", None, "1", Some("USA")),
        Err(CustomerError::CountryInvalid)
    ));
    assert!(EmailAddress::parse("a@b").is_err());
    assert_eq!(EmailAddress::parse(" Ana@Example.ORG ").unwrap().as_str(), "ana@example.org");
}

#[test]
fn search_terms_keep_digits_of_phone_like_words() {
    assert_eq!(search::terms("(555) 201-4477"), vec!["555", "2014477"]);
    assert_eq!(search::terms("Maria  LOPEZ"), vec!["maria", "lopez"]);
    assert_eq!(search::terms("a 12 \"quoted\""), vec!["quoted"]);
}

fn t() -> Timestamp {
    Timestamp::from_micros(1_800_000_000_000_000)
}

fn person(first: &str, last: &str, phone: &str, email: &str, line1: &str) -> NewCustomer {
    NewCustomer {
        name: CustomerName::parse("person", Some(first), Some(last), None, None).unwrap(),
        phones: vec![("mobile".into(), PhoneNumber::parse(phone).unwrap())],
        emails: vec![("email".into(), EmailAddress::parse(email).unwrap())],
        addresses: vec![(
            "mailing".into(),
            PostalAddress::parse(line1, None, "Springfield", Some("IL"), "62701", None).unwrap(),
        )],
        preferences: Preferences::default(),
    }
}

fn account(customer_id: i64) -> NewAccount {
    NewAccount {
        customer_id,
        bill_cycle: 3,
        collection_class: "residential".into(),
        credit_rating: "good".into(),
        cash_only: false,
        paperless: true,
        currency: Currency::USD,
        mailing_address_id: None,
    }
}

#[tokio::test]
async fn a_new_customer_is_found_by_any_fragment_inside_the_writing_transaction() {
    let s = db::scratch::open().await.unwrap();
    let actor = Actor::system("test");
    let mut tx = s.db.begin().await.unwrap();
    let view = ops::create_customer(
        &mut tx,
        &actor,
        person("Maria", "Lopez", "(555) 201-4477", "maria.l@example.org", "12 Elm St"),
        t(),
    )
    .await
    .unwrap();
    let acct = ops::open_account(&mut tx, &actor, account(view.customer.customer_id), t()).await.unwrap();
    for query in
        ["maria", "lopez maria", "4477", "201-44", "maria.l@exa", "elm st", acct.account_number.as_str(), "CUS-0000001"]
    {
        let hits = search::find(&mut tx, query, 10).await.unwrap();
        assert_eq!(hits.first().map(|h| h.customer_id), Some(view.customer.customer_id), "query {query:?}");
    }
    assert!(search::find(&mut tx, "nobody", 10).await.unwrap().is_empty());
    tx.commit().await.unwrap();
    let mut tx = s.db.read().await.unwrap();
    let found = ops::account_by_number(&mut tx, &acct.account_number).await.unwrap();
    assert_eq!(found.customer_id, view.customer.customer_id);
}

#[tokio::test]
async fn duplicates_are_flagged_and_a_merge_moves_everything_to_the_survivor() {
    let s = db::scratch::open().await.unwrap();
    let actor = Actor::system("test");
    let mut tx = s.db.begin().await.unwrap();
    let a =
        ops::create_customer(&mut tx, &actor, person("Ann", "Lee", "5552010001", "ann@example.org", "1 Oak Ave"), t())
            .await
            .unwrap();
    let b = ops::create_customer(
        &mut tx,
        &actor,
        person("Ann", "Lee", "5552010002", "ann.lee@example.org", "1 Oak Ave"),
        t(),
    )
    .await
    .unwrap();
    let c =
        ops::create_customer(&mut tx, &actor, person("Bob", "Ray", "5552010001", "bob@example.org", "9 Pine St"), t())
            .await
            .unwrap();
    let (a, b, c) = (a.customer.customer_id, b.customer.customer_id, c.customer.customer_id);
    let acct = ops::open_account(&mut tx, &actor, account(b), t()).await.unwrap();
    ops::add_note(&mut tx, &actor, b, "called about a leak", t()).await.unwrap();
    let dups = ops::duplicates(&mut tx, a).await.unwrap();
    let ids: Vec<i64> = dups.iter().map(|d| d.customer_id).collect();
    assert_eq!(ids, vec![b, c]);
    assert_eq!(dups[0].reasons, vec!["name_and_address"]);
    assert_eq!(dups[1].reasons, vec!["phone"]);

    let merged = ops::merge(&mut tx, &actor, b, a, t()).await.unwrap();
    assert_eq!(merged.accounts.iter().map(|x| x.account_id).collect::<Vec<_>>(), vec![acct.account_id]);
    assert_eq!(merged.notes.len(), 1);
    assert_eq!(merged.former_numbers, vec![customer_number(b)]);
    let by_old = store::find_customer_by_number(&mut tx, &customer_number(b)).await.unwrap();
    assert_eq!(by_old.map(|x| x.customer_id), Some(a), "the old number finds the survivor");
    let hits = search::find(&mut tx, "ann.lee", 10).await.unwrap();
    assert_eq!(hits.iter().map(|h| h.customer_id).collect::<Vec<_>>(), vec![a], "absorbed customer no longer listed");
    assert!(matches!(ops::add_note(&mut tx, &actor, b, "x", t()).await, Err(CustomerError::CustomerWasMerged)));
    assert!(matches!(ops::merge(&mut tx, &actor, a, a, t()).await, Err(CustomerError::MergeIntoSelf)));
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn service_agreements_follow_their_state_machine() {
    let s = db::scratch::open().await.unwrap();
    let actor = Actor::system("test");
    let mut tx = s.db.begin().await.unwrap();
    let c = ops::create_customer(&mut tx, &actor, person("Cy", "Doe", "5552010003", "cy@example.org", "3 Elm St"), t())
        .await
        .unwrap();
    let acct = ops::open_account(&mut tx, &actor, account(c.customer.customer_id), t()).await.unwrap();
    let address = PostalAddress::parse("3 Elm St", None, "Springfield", None, "62701", None).unwrap();
    let premise = ops::add_premise(&mut tx, &actor, "residential", &address, t()).await.unwrap();
    ops::add_meter(&mut tx, &actor, premise.premise_id, "M-77", "electric", "2024-01-01", t()).await.unwrap();
    let dup_meter = ops::add_meter(&mut tx, &actor, premise.premise_id, "M-77", "water", "2024-01-01", t()).await;
    assert!(matches!(dup_meter, Err(CustomerError::NumberTaken { field: "meter_number" })));
    let new = NewAgreement {
        account_id: acct.account_id,
        premise_id: premise.premise_id,
        service_type: "electric".into(),
        rate_code: "E-RES-1".into(),
        start_date: "2025-01-01".into(),
        end_date: None,
    };
    let sa = ops::start_agreement(&mut tx, &actor, new, t()).await.unwrap();
    assert_eq!(sa.status, "pending_start");
    let stop_early =
        ops::transition_agreement(&mut tx, &actor, sa.agreement_id, AgreementStatus::Stopped, None, t()).await;
    assert!(matches!(stop_early, Err(CustomerError::AgreementTransitionNotAllowed { .. })));
    ops::transition_agreement(&mut tx, &actor, sa.agreement_id, AgreementStatus::Active, None, t()).await.unwrap();
    ops::transition_agreement(&mut tx, &actor, sa.agreement_id, AgreementStatus::PendingStop, Some("2025-06-30"), t())
        .await
        .unwrap();
    let before_start =
        ops::transition_agreement(&mut tx, &actor, sa.agreement_id, AgreementStatus::Stopped, Some("2024-12-31"), t())
            .await;
    assert!(matches!(before_start, Err(CustomerError::EndBeforeStart)));
    let stopped =
        ops::transition_agreement(&mut tx, &actor, sa.agreement_id, AgreementStatus::Stopped, None, t()).await.unwrap();
    assert_eq!((stopped.status.as_str(), stopped.end_date.as_deref()), ("stopped", Some("2025-06-30")));
    let hits = search::find(&mut tx, "m-77", 10).await.unwrap();
    assert_eq!(hits.first().map(|h| h.customer_id), Some(c.customer.customer_id), "found by meter number");
    tx.commit().await.unwrap();
}
