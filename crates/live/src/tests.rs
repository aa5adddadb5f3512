//! Unit tests for the live rules (queue positions, the chat and call state machines, number
//! normalisation, parsing) and store tests that run on SQLite always and on PostgreSQL as well
//! when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::LiveError;
use crate::model::*;
use crate::ops::{self, EndChat};
use crate::telephony;
use db::scratch;
use kernel::ids::UserId;
use kernel::{Actor, Role, Timestamp};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn t(seconds: i64) -> Timestamp {
    Timestamp::from_micros(1_800_000_000_000_000).plus_seconds(seconds)
}

#[test]
fn queue_positions_follow_the_order_of_arrival() {
    let mut queue = Queue::default();
    for id in [10, 11, 12] {
        queue.push(id);
    }
    queue.push(11);
    assert_eq!(queue.len(), 3, "pushing a waiting session again keeps its place");
    assert_eq!((queue.position(10), queue.position(11), queue.position(12)), (Some(1), Some(2), Some(3)));
    assert_eq!(queue.take_next(), Some(10));
    assert_eq!((queue.position(11), queue.position(12), queue.position(10)), (Some(1), Some(2), None));
    assert!(queue.remove(12));
    assert!(!queue.remove(12));
    queue.insert_in_order(5);
    queue.insert_in_order(20);
    assert_eq!(queue.ids(), &[5, 11, 20], "a session coming back takes its place by start order");
    assert_eq!(queue.take_next(), Some(5));
    assert_eq!(queue.take_next(), Some(11));
    assert_eq!(queue.take_next(), Some(20));
    assert_eq!(queue.take_next(), None);
    assert!(queue.is_empty());
}

#[test]
fn chat_status_moves_forward_only() {
    use ChatStatus as S;
    let all = [S::Waiting, S::Active, S::Ended];
    let allowed = [(S::Waiting, S::Active), (S::Waiting, S::Ended), (S::Active, S::Ended)];
    for from in all {
        assert_eq!(ChatStatus::parse(from.code()), Some(from));
        for to in all {
            assert_eq!(from.can_become(to), allowed.contains(&(from, to)), "{from:?} -> {to:?}");
        }
    }
}

#[test]
fn call_events_follow_ringing_answered_transferred_ended() {
    use CallState as S;
    let allowed = [
        (S::Ringing, S::Answered),
        (S::Ringing, S::Transferred),
        (S::Ringing, S::Ended),
        (S::Answered, S::Transferred),
        (S::Answered, S::Ended),
        (S::Transferred, S::Answered),
        (S::Transferred, S::Transferred),
        (S::Transferred, S::Ended),
    ];
    for from in CallState::ALL {
        assert_eq!(CallState::parse(from.code()).unwrap(), from);
        assert_eq!(call_step(None, from).unwrap(), CallStep::Start(from));
        for to in CallState::ALL {
            let step = call_step(Some(from), to);
            if allowed.contains(&(from, to)) {
                assert_eq!(step.unwrap(), CallStep::Move(to), "{from:?} -> {to:?}");
            } else if from == to {
                assert_eq!(step.unwrap(), CallStep::Repeat, "{from:?} repeated");
            } else {
                assert!(matches!(step, Err(LiveError::CallEventOutOfOrder)), "{from:?} -> {to:?}");
            }
        }
    }
    assert!(matches!(CallState::parse("exploded"), Err(LiveError::CallEventUnknown)));
}

#[test]
fn numbers_are_normalised_to_e164() {
    let cases = [
        ("+15555550123", Some("+15555550123")),
        ("555-555-0123", Some("+15555550123")),
        ("(555) 555 0123", Some("+15555550123")),
        ("15555550123", Some("+15555550123")),
        ("tel:+1-555-555-0123", Some("+15555550123")),
        ("sip:+15555550123@pbx.example.org", Some("+15555550123")),
        ("sip:+442079460958@10.0.0.1;transport=udp", Some("+442079460958")),
        ("00442079460958", Some("+442079460958")),
        ("201", None),
        ("anonymous", None),
        ("", None),
    ];
    for (text, expected) in cases {
        assert_eq!(normalise_number(text).as_deref(), expected, "{text}");
    }
}

#[test]
fn call_events_parse_and_name_the_field_at_fault() {
    let input = CallEventInput { call_id: "c-1", event: "ringing", extension: "201", ..Default::default() };
    let event = CallEvent::parse(&input, t(0)).unwrap();
    assert_eq!((event.state, event.at), (CallState::Ringing, t(0)));
    assert_eq!(event.extension.unwrap().as_str(), "201");
    let bad = |input: CallEventInput<'_>| CallEvent::parse(&input, t(0)).unwrap_err();
    assert!(matches!(
        bad(CallEventInput { call_id: " ", event: "ringing", ..Default::default() }),
        LiveError::CallIdInvalid
    ));
    assert!(matches!(
        bad(CallEventInput { call_id: "c", event: "rang", ..Default::default() }),
        LiveError::CallEventUnknown
    ));
    let ext = CallEventInput { call_id: "c", event: "ringing", extension: "20 1", ..Default::default() };
    assert!(matches!(bad(ext), LiveError::ExtensionInvalid));
    let url =
        CallEventInput { call_id: "c", event: "ended", recording_url: "file:///etc/passwd", ..Default::default() };
    assert!(matches!(bad(url), LiveError::RecordingUrlInvalid));
}

#[test]
fn visitors_messages_and_origins_parse() {
    let v = Visitor::parse(" Maria ", "Maria@Example.ORG", "").unwrap();
    assert_eq!((v.name.as_str(), v.email.as_str()), ("Maria", "maria@example.org"));
    assert!(matches!(Visitor::parse("", "m@example.org", ""), Err(LiveError::NameMissing)));
    assert!(matches!(Visitor::parse("M", "not-an-email", ""), Err(LiveError::EmailInvalid)));
    assert!(matches!(MessageBody::parse("   "), Err(LiveError::MessageEmpty)));
    assert!(matches!(MessageBody::parse(&"x".repeat(MAX_MESSAGE_CHARS + 1)), Err(LiveError::MessageTooLong)));
    assert_eq!(MessageBody::parse(" two\nlines ").unwrap().as_str(), "two\nlines");
    let origins = parse_origins("https://www.example.org/\n\nhttp://localhost:8080").unwrap();
    assert_eq!(origins, vec!["https://www.example.org", "http://localhost:8080"]);
    assert!(matches!(parse_origins("www.example.org"), Err(LiveError::OriginInvalid)));
    assert!(matches!(parse_origins("https://example.org/path"), Err(LiveError::OriginInvalid)));
    assert!(origin_allowed(Some("https://WWW.example.org"), &origins));
    assert!(!origin_allowed(Some("https://evil.example.com"), &origins));
    assert!(origin_allowed(None, &origins), "programs without an origin are not browsers");
    assert!(origin_allowed(Some("https://anywhere.example"), &[]), "no list: any site");
}

async fn staff(tx: &mut db::Tx, username: &str) -> i64 {
    db::scalar!(
        tx,
        i64,
        "insert into staff_user (username, display_name, role, password_hash, password_changed_at, created_at,
                                 updated_at)
         values ($1, $2, 'agent1', 'x', 0, 0, 0) returning user_id",
        username,
        format!("Agent {username}")
    )
    .unwrap()
}

async fn customer(tx: &mut db::Tx, name: &str, phone: Option<&str>, email: Option<&str>) -> i64 {
    let new = customers::ops::NewCustomer {
        name: customers::model::CustomerName::parse("person", Some(name), Some("Tester"), None, None).unwrap(),
        phones: phone
            .map(|p| ("mobile".to_string(), customers::model::PhoneNumber::parse(p).unwrap()))
            .into_iter()
            .collect(),
        emails: email
            .map(|e| ("home".to_string(), customers::model::EmailAddress::parse(e).unwrap()))
            .into_iter()
            .collect(),
        addresses: vec![],
        preferences: customers::ops::Preferences::default(),
    };
    customers::ops::create_customer(tx, &Actor::system("test"), new, t(-3_600)).await.unwrap().customer.customer_id
}

fn agent(user_id: i64) -> Actor {
    Actor::User { user_id: UserId(user_id), username: "ana".into(), role: Role::Agent1 }
}

#[tokio::test]
async fn a_chat_is_started_taken_and_ended_into_a_contact_and_a_case() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let ana = staff(&mut tx, "ana").await;
    let bo = staff(&mut tx, "bo").await;
    let maria = customer(&mut tx, "Maria", None, Some("maria@example.org")).await;
    let visitor = Visitor::parse("Maria", "MARIA@example.org", "").unwrap();
    let (session, token) = ops::start_chat(&mut tx, &visitor, "https://www.example.org", t(-300)).await?;
    assert_eq!((session.status.as_str(), session.customer_id), ("waiting", Some(maria)));
    let (resumed, _) = ops::resume_chat(&mut tx, &token).await?;
    assert_eq!(resumed.chat_session_id, session.chat_session_id);
    assert!(matches!(ops::resume_chat(&mut tx, "forged").await, Err(LiveError::ResumeTokenUnknown)));

    let id = session.chat_session_id;
    ops::take_chat(&mut tx, &agent(ana), id, t(-290)).await?;
    assert!(matches!(ops::take_chat(&mut tx, &agent(bo), id, t(-280)).await, Err(LiveError::ChatAlreadyTaken)));
    crate::store::insert_message(&mut tx, id, "visitor", None, "My bill doubled", t(-250)).await?;
    crate::store::insert_message(&mut tx, id, "agent", Some(ana), "Let me check", t(-240)).await?;
    let end = || EndChat::parse(Some("billing_question"), None, true, None).unwrap();
    assert!(matches!(ops::end_chat(&mut tx, &agent(bo), id, end(), t(0)).await, Err(LiveError::ChatNotYours)));
    let ended = ops::end_chat(&mut tx, &agent(ana), id, end(), t(0)).await?;
    assert_eq!(ended.customer_id, Some(maria));
    let contact = contacts::ops::get_contact(&mut tx, ended.contact_id.unwrap()).await?;
    assert_eq!((contact.channel.as_str(), contact.duration_seconds), ("chat", 300));
    assert!(contact.summary.contains("Maria: My bill doubled") && contact.summary.contains("Agent: Let me check"));
    assert!(ended.case_id.is_some());
    assert!(matches!(ops::end_chat(&mut tx, &agent(ana), id, end(), t(1)).await, Err(LiveError::ChatEnded)));
    let stored = crate::store::find_session(&mut tx, id).await?.unwrap();
    assert_eq!((stored.status.as_str(), stored.contact_id, stored.case_id), ("ended", ended.contact_id, ended.case_id));
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn a_chat_from_an_unknown_email_keeps_its_transcript_and_may_be_abandoned() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let ana = staff(&mut tx, "ana").await;
    let visitor = Visitor::parse("Stranger", "who@example.net", "12345").unwrap();
    let (waiting, _) = ops::start_chat(&mut tx, &visitor, "", t(0)).await?;
    assert!(ops::abandon_chat(&mut tx, waiting.chat_session_id, t(10)).await?);
    assert!(!ops::abandon_chat(&mut tx, waiting.chat_session_id, t(20)).await?, "only once");
    let (session, _) = ops::start_chat(&mut tx, &visitor, "", t(30)).await?;
    ops::take_chat(&mut tx, &agent(ana), session.chat_session_id, t(40)).await?;
    let end = EndChat::parse(None, None, false, None).unwrap();
    let ended = ops::end_chat(&mut tx, &agent(ana), session.chat_session_id, end, t(60)).await?;
    assert_eq!((ended.customer_id, ended.contact_id, ended.case_id), (None, None, None));
    let missing = EndChat::parse(None, None, false, Some(999_999)).unwrap();
    let (other, _) = ops::start_chat(&mut tx, &visitor, "", t(70)).await?;
    ops::take_chat(&mut tx, &agent(ana), other.chat_session_id, t(71)).await?;
    let refused = ops::end_chat(&mut tx, &agent(ana), other.chat_session_id, missing, t(80)).await;
    assert!(matches!(refused, Err(LiveError::CustomerNotFound)));
    tx.commit().await?;
    Ok(())
}

fn event(call_id: &str, state: &str, extension: &str, at: Timestamp) -> CallEvent {
    let input = CallEventInput {
        call_id,
        event: state,
        caller_number: "sip:+15555550123@pbx",
        called_number: "+15555550100",
        extension,
        at: Some(at),
        ..Default::default()
    };
    CallEvent::parse(&input, at).unwrap()
}

#[tokio::test]
async fn a_call_rings_the_extension_is_transferred_and_ends_into_a_timed_contact() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let ana = staff(&mut tx, "ana").await;
    let bo = staff(&mut tx, "bo").await;
    let rosa = customer(&mut tx, "Rosa", Some("555 555 0123"), None).await;
    let system = Actor::system("test");
    telephony::set_extension(&mut tx, &system, ana, Some(Extension::parse("201")?), t(0)).await?;
    telephony::set_extension(&mut tx, &system, bo, Some(Extension::parse("202")?), t(0)).await?;
    tx.commit().await?;
    let mut tx = s.db.begin().await?;
    let taken = telephony::set_extension(&mut tx, &system, bo, Some(Extension::parse("201")?), t(0)).await;
    assert!(matches!(taken, Err(LiveError::ExtensionTaken)));
    tx.rollback().await?;

    let mut tx = s.db.begin().await?;
    let rang = telephony::call_event(&mut tx, event("c1", "ringing", "201", t(0)), t(0)).await?;
    assert_eq!((rang.call.customer_id, rang.call.caller_e164.as_str()), (Some(rosa), "+15555550123"));
    let (user, frame) = rang.pop.unwrap();
    assert_eq!((user, frame["url"].as_str()), (ana, Some(format!("/customers/{rosa}").as_str())));
    telephony::call_event(&mut tx, event("c1", "answered", "201", t(5)), t(5)).await?;
    let moved = telephony::call_event(&mut tx, event("c1", "transferred", "202", t(30)), t(30)).await?;
    assert_eq!(moved.pop.unwrap().0, bo, "a transfer pops the caller on the next agent's screen");
    let repeat = telephony::call_event(&mut tx, event("c1", "answered", "202", t(35)), t(35)).await?;
    assert!(!repeat.repeated, "answered again after a transfer is a move");
    let ended = telephony::call_event(&mut tx, event("c1", "ended", "", t(95)), t(95)).await?;
    let contact = contacts::ops::get_contact(&mut tx, ended.call.contact_id.unwrap()).await?;
    assert_eq!((contact.duration_seconds, contact.agent_user_id), (90, Some(bo)), "answer to hang-up, last agent");
    assert!(telephony::call_event(&mut tx, event("c1", "ended", "", t(96)), t(96)).await?.repeated);
    let late = telephony::call_event(&mut tx, event("c1", "ringing", "201", t(97)), t(97)).await;
    assert!(matches!(late, Err(LiveError::CallEventOutOfOrder)));
    telephony::call_event(&mut tx, event("c2", "ringing", "201", t(100)), t(100)).await?;
    let missed = telephony::call_event(&mut tx, event("c2", "ended", "", t(110)), t(110)).await;
    assert!(missed?.call.contact_id.is_none(), "an unanswered call logs no contact");
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn settings_keep_the_secret_hashed_and_check_it() -> TestResult {
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    assert!(matches!(telephony::check_secret(&mut tx, Some("x")).await, Err(LiveError::TelephonyNotConfigured)));
    let change = ops::SettingsChange::parse(Some("https://www.example.org"), Some(50), Some("sixteen-chars-or-more"))?;
    let settings = ops::change_settings(&mut tx, &Actor::system("test"), change, t(0)).await?;
    assert_eq!(settings.widget_origins, vec!["https://www.example.org"]);
    assert_eq!((settings.visitor_chats_per_minute, settings.telephony_secret_set), (50, true));
    let stored = crate::store::setting(&mut tx, ops::SETTING_SECRET).await?.unwrap();
    assert_ne!(stored, "sixteen-chars-or-more", "only the hash is stored");
    telephony::check_secret(&mut tx, Some("sixteen-chars-or-more")).await?;
    assert!(matches!(telephony::check_secret(&mut tx, Some("wrong")).await, Err(LiveError::TelephonySecretInvalid)));
    assert!(matches!(telephony::check_secret(&mut tx, None).await, Err(LiveError::TelephonySecretInvalid)));
    assert!(matches!(ops::SettingsChange::parse(None, None, Some("short")), Err(LiveError::SecretTooShort)));
    assert!(matches!(ops::SettingsChange::parse(None, Some(0), None), Err(LiveError::LimitInvalid)));
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn nodes_count_each_other_while_fresh_and_signals_are_read_in_order() -> TestResult {
    use crate::store::{self, SignalRow};
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    store::register_node(&mut tx, "a", t(0)).await?;
    assert_eq!(store::other_nodes(&mut tx, "a", t(-45)).await?, 0, "alone");
    store::register_node(&mut tx, "b", t(10)).await?;
    assert_eq!(store::other_nodes(&mut tx, "a", t(-35)).await?, 1);
    assert_eq!(store::other_nodes(&mut tx, "b", t(-35)).await?, 1);
    assert_eq!(store::other_nodes(&mut tx, "b", t(5)).await?, 0, "a's row is stale by then");
    store::refresh_node(&mut tx, "a", t(20), t(-3_600)).await?;
    assert_eq!(store::other_nodes(&mut tx, "b", t(5)).await?, 1, "refreshed");
    store::remove_node(&mut tx, "a").await?;
    store::refresh_node(&mut tx, "a", t(30), t(-3_600)).await?;
    assert_eq!(store::other_nodes(&mut tx, "b", t(25)).await?, 1, "a refresh registers a removed node again");
    store::refresh_node(&mut tx, "b", t(4_000), t(400)).await?;
    assert_eq!(store::other_nodes(&mut tx, "b", t(-100)).await?, 0, "nodes stopped long ago are forgotten");

    let signal = |kind: &str, user_id| SignalRow {
        live_signal_id: 0,
        node: "a".into(),
        kind: kind.into(),
        chat_session_id: None,
        sender: String::new(),
        user_id,
        payload: "{}".into(),
    };
    let before = store::last_signal_id(&mut tx).await?;
    let first = store::insert_signal(&mut tx, &signal("call_pop", Some(7)), t(4_000)).await?;
    let second = store::insert_signal(&mut tx, &signal("visitor_back", Some(8)), t(4_001)).await?;
    let rows = store::signals_after(&mut tx, before, 10).await?;
    let read: Vec<(i64, &str, Option<i64>)> =
        rows.iter().map(|r| (r.live_signal_id, r.kind.as_str(), r.user_id)).collect();
    assert_eq!(read, vec![(first, "call_pop", Some(7)), (second, "visitor_back", Some(8))]);
    assert_eq!(store::signals_after(&mut tx, first, 10).await?.len(), 1);
    store::refresh_node(&mut tx, "b", t(4_002), t(4_002)).await?;
    assert!(store::signals_after(&mut tx, before, 10).await?.is_empty(), "old signals are removed");
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn a_batch_of_messages_is_stored_in_its_order_and_ids_follow_it() -> TestResult {
    use crate::store::{self, NewMessage};
    let s = scratch::open().await?;
    let mut tx = s.db.begin().await?;
    let ana = staff(&mut tx, "ana").await;
    let visitor = Visitor::parse("Maria", "maria@example.org", "").unwrap();
    let (session, _) = ops::start_chat(&mut tx, &visitor, "", t(0)).await?;
    let id = session.chat_session_id;
    let bodies: Vec<String> = (0..40).map(|n| format!("line {n}")).collect();
    let rows: Vec<NewMessage<'_>> = bodies
        .iter()
        .enumerate()
        .map(|(n, body)| NewMessage {
            session_id: id,
            sender: if n % 2 == 0 { "visitor" } else { "agent" },
            sender_user_id: (n % 2 == 1).then_some(ana),
            body,
            at: t(n as i64),
        })
        .collect();
    let ids = match &tx {
        db::Tx::Pg(_) => store::insert_messages_pg(&mut tx, &rows).await?,
        db::Tx::Sqlite(_) => {
            assert!(store::insert_messages_pg(&mut tx, &rows).await.is_err(), "PostgreSQL only");
            return Ok(());
        }
    };
    let stored = store::messages(&mut tx, id).await?;
    let read: Vec<(i64, &str, Option<i64>)> =
        stored.iter().map(|m| (m.chat_message_id, m.body.as_str(), m.sender_user_id)).collect();
    let expected: Vec<(i64, &str, Option<i64>)> =
        ids.iter().zip(&rows).map(|(id, r)| (*id, r.body, r.sender_user_id)).collect();
    assert_eq!(read, expected);
    tx.commit().await?;
    Ok(())
}
