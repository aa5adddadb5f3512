//! Unit tests for the contact rules (parsing, times and duration) and store tests that run on
//! SQLite always and on PostgreSQL as well when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::ContactError;
use crate::api::ContactBody;
use crate::model::*;
use crate::ops::{self, NewContact, NewReasonCode};
use db::scratch;
use kernel::{Actor, PageRequest, Timestamp};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn t(seconds: i64) -> Timestamp {
    Timestamp::from_micros(1_800_000_000_000_000).plus_seconds(seconds)
}

#[test]
fn channels_and_directions_parse_from_their_codes() {
    for channel in Channel::ALL {
        assert_eq!(Channel::parse(channel.code()).ok(), Some(channel));
    }
    assert_eq!(Channel::parse(" in_person ").ok(), Some(Channel::InPerson));
    assert!(matches!(Channel::parse("fax"), Err(ContactError::ChannelUnknown)));
    assert!(matches!(Channel::parse("Phone"), Err(ContactError::ChannelUnknown)));
    assert!(!Channel::System.is_worked());
    assert!(Channel::Phone.is_worked());
    assert_eq!(Direction::parse("outbound").ok(), Some(Direction::Outbound));
    assert!(matches!(Direction::parse("sideways"), Err(ContactError::DirectionUnknown)));
}

#[test]
fn codes_are_lower_case_words() {
    assert_eq!(
        Code::parse(" high_bill ", "reason_code").map(|c| c.as_str().to_string()).ok(),
        Some("high_bill".into())
    );
    assert!(Code::parse("a2", "code").is_ok());
    for bad in ["", "a", "High_bill", "2fast", "has space", "dash-ed", &"x".repeat(41)] {
        assert!(matches!(Code::parse(bad, "code"), Err(ContactError::CodeInvalid { field: "code" })), "{bad}");
    }
    assert_eq!(Code::parse_optional(Some("  "), "sub_reason_code").ok(), Some(None));
    assert_eq!(Code::parse_optional(None, "sub_reason_code").ok(), Some(None));
    assert!(parse_label("").is_err());
    assert!(parse_label(&"x".repeat(81)).is_err());
    assert!(parse_label("Tab\there").is_err());
    assert_eq!(parse_label(" High bill ").ok(), Some("High bill".to_string()));
}

#[test]
fn summaries_keep_line_breaks_and_have_a_limit() {
    assert_eq!(Summary::parse("  ").map(|s| s.as_str().to_string()).ok(), Some(String::new()));
    assert!(Summary::parse("line one\nline two\tend").is_ok());
    assert!(Summary::parse(&"x".repeat(MAX_SUMMARY_CHARS)).is_ok());
    assert!(matches!(Summary::parse(&"x".repeat(MAX_SUMMARY_CHARS + 1)), Err(ContactError::SummaryTooLong)));
    assert!(Summary::parse(&"é".repeat(MAX_SUMMARY_CHARS)).is_ok(), "characters, not bytes");
    assert!(matches!(Summary::parse("bell\u{7}"), Err(ContactError::SummaryInvalid)));
}

#[test]
fn the_duration_is_derived_and_bounded() {
    let now = t(0);
    let times = ContactTimes::parse(Some(t(-210)), Some(t(-10)), now).unwrap();
    assert_eq!(times.duration_seconds(), 200);
    let defaulted = ContactTimes::parse(None, None, now).unwrap();
    assert_eq!((defaulted.started_at, defaulted.ended_at, defaulted.duration_seconds()), (now, now, 0));
    let open_ended = ContactTimes::parse(Some(t(-90)), None, now).unwrap();
    assert_eq!(open_ended.duration_seconds(), 90, "an absent end is now");
    assert!(matches!(ContactTimes::parse(Some(t(-5)), Some(t(-10)), now), Err(ContactError::EndedBeforeStarted)));
    let day = MAX_CONTACT_SECONDS;
    assert!(ContactTimes::parse(Some(t(-day)), Some(t(0)), now).is_ok());
    assert!(matches!(ContactTimes::parse(Some(t(-day - 1)), Some(t(0)), now), Err(ContactError::ContactTooLong)));
    let ahead = FUTURE_TOLERANCE_SECONDS;
    assert!(ContactTimes::parse(Some(t(0)), Some(t(ahead)), now).is_ok(), "a fast clock is tolerated");
    assert!(matches!(
        ContactTimes::parse(Some(t(0)), Some(t(ahead + 1)), now),
        Err(ContactError::TimeInFuture { field: "ended_at" })
    ));
    assert!(matches!(
        ContactTimes::parse(Some(t(ahead + 1)), None, now),
        Err(ContactError::TimeInFuture { field: "started_at" })
    ));
}

#[test]
fn times_are_read_as_rfc3339() {
    let parsed = parse_time(Some("2027-01-15T08:00:00Z"), "started_at").unwrap().unwrap();
    assert_eq!(parsed.to_rfc3339(), "2027-01-15T08:00:00Z");
    let offset = parse_time(Some("2027-01-15T09:00:00+01:00"), "started_at").unwrap();
    assert_eq!(offset, Some(parsed));
    assert_eq!(parse_time(Some(" "), "started_at").ok(), Some(None));
    assert!(matches!(parse_time(Some("yesterday"), "ended_at"), Err(ContactError::TimeInvalid { field: "ended_at" })));
    assert!(matches!(parse_link(Some(0), "case_id"), Err(ContactError::IdInvalid { field: "case_id" })));
    assert_eq!(parse_link(Some(7), "case_id").ok(), Some(Some(7)));
}

#[test]
fn durations_read_as_clock_time() {
    assert_eq!(format_duration(0), "0:00");
    assert_eq!(format_duration(75), "1:15");
    assert_eq!(format_duration(3_600 + 62), "1:01:02");
    assert_eq!(format_duration(-5), "0:00");
}

#[test]
fn every_error_names_a_stable_code_and_its_field() {
    use web::Problem;
    let body = ContactBody {
        customer_id: 1,
        channel: "phone".into(),
        reason_code: "billing_question".into(),
        disposition_code: Some("resolved".into()),
        ..Default::default()
    };
    assert!(body.parse(t(0)).is_ok());
    let cases: Vec<(ContactBody, &str, &str)> = vec![
        (ContactBody { channel: "fax".into(), ..body.clone() }, "channel_unknown", "channel"),
        (ContactBody { direction: Some("up".into()), ..body.clone() }, "direction_unknown", "direction"),
        (ContactBody { reason_code: "Bad Code".into(), ..body.clone() }, "code_invalid", "reason_code"),
        (ContactBody { reason_code: " ".into(), ..body.clone() }, "reason_missing", "reason_code"),
        (ContactBody { summary: "x".repeat(4_001), ..body.clone() }, "summary_too_long", "summary"),
        (ContactBody { started_at: Some("soon".into()), ..body.clone() }, "time_invalid", "started_at"),
        (ContactBody { account_id: Some(-1), ..body.clone() }, "id_invalid", "account_id"),
        (
            ContactBody { started_at: Some(t(10).to_rfc3339()), ended_at: Some(t(0).to_rfc3339()), ..body.clone() },
            "ended_before_started",
            "ended_at",
        ),
    ];
    for (bad, code, field) in cases {
        let error = bad.parse(t(20)).unwrap_err();
        assert_eq!((error.code(), error.field()), (code, Some(field)), "{error}");
        assert_eq!(error.status(), http::StatusCode::UNPROCESSABLE_ENTITY);
    }
}

async fn customer(tx: &mut db::Tx, name: &str) -> i64 {
    let new = customers::ops::NewCustomer {
        name: customers::model::CustomerName::parse("person", Some(name), Some("Tester"), None, None).unwrap(),
        phones: vec![],
        emails: vec![],
        addresses: vec![],
        preferences: customers::ops::Preferences::default(),
    };
    customers::ops::create_customer(tx, &Actor::system("test"), new, t(-3_600)).await.unwrap().customer.customer_id
}

fn phone_call(customer_id: i64, reason: &str, sub: Option<&str>, disposition: Option<&str>) -> NewContact {
    NewContact {
        customer_id,
        account_id: None,
        case_id: Some(12),
        order_id: None,
        payment_id: None,
        channel: Channel::Phone,
        direction: Direction::Inbound,
        reason_code: Code::parse(reason, "reason_code").unwrap(),
        sub_reason_code: sub.map(|s| Code::parse(s, "sub_reason_code").unwrap()),
        disposition_code: disposition.map(|d| Code::parse(d, "disposition_code").unwrap()),
        summary: Summary::parse("Asked about the bill").unwrap(),
        times: ContactTimes { started_at: t(-120), ended_at: t(-30) },
    }
}

async fn count(tx: &mut db::Tx, sql: &'static str) -> i64 {
    db::scalar!(tx, i64, sql).unwrap()
}

#[tokio::test]
async fn a_contact_is_logged_with_its_labels_and_audited() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let id = customer(&mut tx, "Maria").await;
    let audit_before = count(&mut tx, "select count(*) from audit").await;
    let actor = Actor::system("desk");
    let logged = ops::log_contact(
        &mut tx,
        &actor,
        phone_call(id, "billing_question", Some("high_bill"), Some("information_given")),
        t(0),
    )
    .await?;
    assert_eq!(logged.duration_seconds, 90);
    assert_eq!(logged.reason_label.as_deref(), Some("Billing question"));
    assert_eq!(logged.sub_reason_label.as_deref(), Some("High bill"));
    assert_eq!(logged.agent_name, "system:desk");
    assert_eq!(count(&mut tx, "select count(*) from audit").await, audit_before + 1);
    let stored = ops::get_contact(&mut tx, logged.contact_id).await?;
    assert_eq!(stored.disposition_label.as_deref(), Some("Information given"));
    let open = ops::log_contact(&mut tx, &actor, phone_call(id, "other", None, None), t(0)).await?;
    assert_eq!((open.disposition_code, open.disposition_label), (None, None), "a disposition is optional");
    assert_eq!(
        (stored.duration_seconds, stored.case_id, stored.summary.as_str()),
        (90, Some(12), "Asked about the bill")
    );
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn bad_codes_and_links_are_refused_and_nothing_is_written() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let id = customer(&mut tx, "Ana").await;
    let other = customer(&mut tx, "Bo").await;
    let account = customers::ops::open_account(
        &mut tx,
        &Actor::system("test"),
        customers::ops::NewAccount {
            customer_id: other,
            bill_cycle: 1,
            collection_class: "residential".into(),
            credit_rating: "good".into(),
            cash_only: false,
            paperless: false,
            currency: kernel::Currency::USD,
            mailing_address_id: None,
        },
        t(0),
    )
    .await?;
    tx.commit().await?;
    let actor = Actor::system("desk");
    let with_account =
        NewContact { account_id: Some(account.account_id), ..phone_call(id, "payment", None, Some("resolved")) };
    let cases: Vec<(NewContact, &str)> = vec![
        (phone_call(id, "no_such_reason", None, Some("resolved")), "reason_unknown"),
        (phone_call(id, "high_bill", None, Some("resolved")), "reason_unknown"),
        (phone_call(id, "payment", Some("high_bill"), Some("resolved")), "sub_reason_unknown"),
        (phone_call(id, "payment", None, Some("no_such_disposition")), "disposition_unknown"),
        (phone_call(999_999, "payment", None, Some("resolved")), "customer_unknown"),
        (with_account, "account_unknown"),
    ];
    for (new, code) in cases {
        let mut tx = s.db.begin().await?;
        let error = ops::log_contact(&mut tx, &actor, new, t(0)).await.unwrap_err();
        assert_eq!(web::Problem::code(&error), code);
        tx.rollback().await?;
    }
    let mut tx = s.db.read().await?;
    assert_eq!(count(&mut tx, "select count(*) from contact").await, 0);
    Ok(())
}

#[tokio::test]
async fn the_timeline_is_newest_first_and_paged() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let id = customer(&mut tx, "Cleo").await;
    let other = customer(&mut tx, "Dan").await;
    let actor = Actor::system("desk");
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            ops::log_contact(&mut tx, &actor, phone_call(id, "outage", None, Some("resolved")), t(0)).await?.contact_id,
        );
    }
    ops::log_contact(&mut tx, &actor, phone_call(other, "outage", None, Some("resolved")), t(0)).await?;
    tx.commit().await?;
    let mut tx = s.db.read().await?;
    let first = ops::timeline(&mut tx, id, &PageRequest::parse(Some(3), None)?).await?;
    let seen: Vec<i64> = first.items.iter().map(|c| c.contact_id).collect();
    assert_eq!(seen, vec![ids[4], ids[3], ids[2]]);
    let cursor = first.next_cursor.clone().expect("a second page");
    let second = ops::timeline(&mut tx, id, &PageRequest::parse(Some(3), Some(&cursor))?).await?;
    let seen: Vec<i64> = second.items.iter().map(|c| c.contact_id).collect();
    assert_eq!(seen, vec![ids[1], ids[0]]);
    assert!(second.next_cursor.is_none());
    let missing = ops::timeline(&mut tx, 999_999, &PageRequest::default()).await.unwrap_err();
    assert!(matches!(missing, ContactError::CustomerNotFound));
    Ok(())
}

#[tokio::test]
async fn system_contacts_need_no_disposition_and_find_their_reason() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let id = customer(&mut tx, "Eve").await;
    let bill = ops::log_system_contact(&mut tx, id, None, "bill_sent", "Bill for November sent", t(0)).await?;
    assert_eq!((bill.channel.as_str(), bill.direction.as_str()), ("system", "outbound"));
    assert_eq!((bill.reason_code.as_str(), bill.sub_reason_code.as_deref()), ("billing_question", Some("bill_sent")));
    assert_eq!((bill.disposition_code, bill.agent_user_id), (None, None));
    let notice = ops::log_system_contact(&mut tx, id, None, "notice", "Final notice", t(1)).await?;
    assert_eq!((notice.reason_code.as_str(), notice.sub_reason_code), ("notice", None));
    let unknown = ops::log_system_contact(&mut tx, id, None, "nonsense", "", t(2)).await.unwrap_err();
    assert!(matches!(unknown, ContactError::ReasonUnknown));
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn codes_are_added_deactivated_and_then_refused() -> TestResult {
    let s = scratch::open().await?;
    let actor = Actor::system("admin");
    let mut tx = s.db.begin().await?;
    let id = customer(&mut tx, "Finn").await;
    tx.commit().await?;
    let mut tx = s.db.begin().await?;
    let sub = NewReasonCode::parse("meter_access", "Meter access", Some("outage"))?;
    ops::add_reason_code(&mut tx, &actor, sub, t(0)).await?;
    let again = NewReasonCode::parse("meter_access", "Again", None)?;
    assert!(matches!(ops::add_reason_code(&mut tx, &actor, again, t(0)).await, Err(ContactError::CodeTaken { .. })));
    tx.rollback().await?;

    let mut tx = s.db.begin().await?;
    let sub = NewReasonCode::parse("meter_access", "Meter access", Some("outage"))?;
    ops::add_reason_code(&mut tx, &actor, sub, t(0)).await?;
    let under_sub = NewReasonCode::parse("deeper", "Deeper", Some("meter_access"))?;
    assert!(matches!(ops::add_reason_code(&mut tx, &actor, under_sub, t(0)).await, Err(ContactError::ParentUnknown)));
    tx.rollback().await?;

    let mut tx = s.db.begin().await?;
    let sub = NewReasonCode::parse("meter_access", "Meter access", Some("outage"))?;
    ops::add_reason_code(&mut tx, &actor, sub, t(0)).await?;
    let voicemail = Code::parse("voicemail", "code")?;
    ops::add_disposition(&mut tx, &actor, &voicemail, "Reached voicemail", t(0)).await?;
    ops::log_contact(&mut tx, &actor, phone_call(id, "outage", Some("meter_access"), Some("voicemail")), t(0)).await?;
    ops::set_reason_active(&mut tx, &actor, "meter_access", false, t(1)).await?;
    ops::set_disposition_active(&mut tx, &actor, "voicemail", false, t(1)).await?;
    let refused =
        ops::log_contact(&mut tx, &actor, phone_call(id, "outage", Some("meter_access"), Some("resolved")), t(2))
            .await
            .unwrap_err();
    assert!(matches!(refused, ContactError::SubReasonUnknown));
    let refused =
        ops::log_contact(&mut tx, &actor, phone_call(id, "outage", None, Some("voicemail")), t(2)).await.unwrap_err();
    assert!(matches!(refused, ContactError::DispositionUnknown));
    assert!(matches!(
        ops::set_reason_active(&mut tx, &actor, "nonsense", false, t(1)).await,
        Err(ContactError::CodeNotFound)
    ));
    let codes = ops::reason_codes(&mut tx).await?;
    let meter = codes.iter().find(|c| c.code == "meter_access").expect("listed");
    assert!(!meter.active);
    let position = |code: &str| codes.iter().position(|c| c.code == code).unwrap();
    assert!(position("outage") < position("meter_access"), "a reason comes before its sub-reasons");
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn logging_two_thousand_contacts_is_quick() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let id = customer(&mut tx, "Gus").await;
    tx.commit().await?;
    let actor = Actor::system("bench");
    let started = std::time::Instant::now();
    for _ in 0..2_000 {
        let mut tx = s.db.begin().await?;
        ops::log_contact(&mut tx, &actor, phone_call(id, "payment", Some("payment_taken"), Some("resolved")), t(0))
            .await?;
        tx.commit().await?;
    }
    let elapsed = started.elapsed();
    eprintln!("2000 contacts, one transaction each: {elapsed:?}");
    let mut tx = s.db.read().await?;
    assert_eq!(count(&mut tx, "select count(*) from contact").await, 2_000);
    Ok(())
}
