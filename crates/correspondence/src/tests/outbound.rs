//! Outbound email: parsing rules, the status machine, and the queue drained to a real SMTP sink
//! (headers, back-off on a stalled server, failures recorded, never sent twice).

use super::sink;
use crate::CorrespondenceError;
use crate::model::*;
use crate::ops;
use crate::outbox::{Mailer, drain};
use crate::store;
use db::scratch;
use kernel::{Actor, Clock, FixedClock, Timestamp};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn t0() -> Timestamp {
    Timestamp::from_micros(1_800_000_000_000_000)
}

fn email(to: &str, subject: &str) -> OutboundEmail {
    OutboundEmail {
        to: vec![EmailAddress::parse(to, "to").unwrap()],
        subject: parse_subject(subject).unwrap(),
        text_body: parse_body("Hello there.\nSecond line.", "text_body").unwrap(),
        ..OutboundEmail::default()
    }
}

#[test]
fn addresses_subjects_and_message_ids_parse() {
    assert!(EmailAddress::parse("ana@example.com", "to").is_ok());
    assert!(EmailAddress::parse("Ana Ruiz <ana@example.com>", "to").is_ok());
    for bad in ["", "ana", "ana@example.com, bob@example.com", "a@b\r\nBcc: x@y.z"] {
        assert!(matches!(EmailAddress::parse(bad, "to"), Err(CorrespondenceError::AddressInvalid { field: "to" })));
    }
    assert!(matches!(EmailAddress::parse_list(&[], "to", true), Err(CorrespondenceError::RecipientMissing { .. })));
    assert!(parse_subject("Re: [CASE-000001] bill").is_ok());
    assert!(parse_subject("two\nlines").is_err());
    assert!(parse_subject("   ").is_err());
    assert_eq!(parse_message_id("<abc.1@mail.example.com>", "in_reply_to").unwrap(), "abc.1@mail.example.com");
    assert!(parse_message_id("no-at-sign", "in_reply_to").is_err());
    assert!(parse_message_id("a b@c", "in_reply_to").is_err());
    let id = new_message_id("00ff", 42, "caredesk.test");
    assert_eq!(id, "2a.00ff@caredesk.test");
    assert!(parse_message_id(&id, "x").is_ok());
}

#[test]
fn email_status_transitions_follow_the_one_rule() {
    use EmailStatus as S;
    let allowed = [
        (S::Queued, S::Sending),
        (S::Sending, S::Sent),
        (S::Sending, S::Queued),
        (S::Sending, S::Failed),
        (S::Sending, S::Uncertain),
        (S::Failed, S::Queued),
        (S::Uncertain, S::Queued),
    ];
    for from in S::ALL {
        assert_eq!(S::parse(from.code()).unwrap(), from);
        for to in S::ALL {
            assert_eq!(from.can_become(to), allowed.contains(&(from, to)), "{from:?} -> {to:?}");
        }
    }
    assert!(!S::Sent.can_become(S::Queued), "a sent email is never sent again");
}

#[tokio::test]
async fn queued_email_is_stored_with_a_message_id_and_schedules_the_drain() -> TestResult {
    let scratch = scratch::open().await?;
    let mut tx = scratch.db.begin().await?;
    let mut first = email("ana@example.com", "First");
    first.in_reply_to = Some("parent@mail.example.com".into());
    first.references = vec!["root@mail.example.com".into(), "parent@mail.example.com".into()];
    first.attachments = vec![Attachment::parse("note.txt", "text/plain", b"attached".to_vec())?];
    let queued = ops::queue_email(&mut tx, &Actor::system("test"), first, t0()).await?;
    let second = ops::queue_email(&mut tx, &Actor::system("test"), email("bob@example.com", "Second"), t0()).await?;
    tx.commit().await?;
    assert_ne!(queued.message_id, second.message_id);
    let mut tx = scratch.db.read().await?;
    let row = ops::get_email(&mut tx, queued.email_id).await?;
    assert_eq!(row.status, "queued");
    assert_eq!(row.message_id, queued.message_id);
    assert_eq!(row.reference_ids.as_deref(), Some("root@mail.example.com parent@mail.example.com"));
    let jobs = db::jobs::recent(&mut tx, 10).await?;
    assert_eq!(jobs.iter().filter(|j| j.kind == ops::DRAIN_JOB).count(), 1, "one drain job, not one per email");
    let listed = ops::list_emails(&mut tx, Some(EmailStatus::Queued), None, 10).await?;
    assert_eq!(listed.len(), 2);
    assert!(matches!(
        ops::retry_email(&mut scratch.db.begin().await?, &Actor::system("t"), queued.email_id, t0()).await,
        Err(CorrespondenceError::EmailNotRetryable)
    ));
    Ok(())
}

#[tokio::test]
async fn the_drain_delivers_with_threading_headers_and_attachments() -> TestResult {
    let Some(sink) = sink::start().await else { return Ok(()) };
    let scratch = scratch::open().await?;
    let mut tx = scratch.db.begin().await?;
    let mut first = email("Ana Ruiz <ana@example.com>", "Re: [CASE-000007] Bill too high");
    first.cc = vec![EmailAddress::parse("lead@example.com", "cc")?];
    first.in_reply_to = Some("parent@mail.example.com".into());
    first.references = vec!["root@mail.example.com".into(), "parent@mail.example.com".into()];
    first.html_body = Some("<p>Hello there.</p>".into());
    first.attachments = vec![Attachment::parse("note.txt", "text/plain", b"attached words".to_vec())?];
    let queued = ops::queue_email(&mut tx, &Actor::system("test"), first, t0()).await?;
    tx.commit().await?;
    let mailer = Mailer::new(&sink.settings())?;
    let clock = FixedClock::at(t0());
    let outcome = drain(&scratch.db, &mailer, &clock).await?;
    assert_eq!(outcome.sent, 1);
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let text = &messages[0];
    assert!(text.contains(&format!("Message-ID: <{}>", queued.message_id)), "{text}");
    assert!(text.contains("In-Reply-To: <parent@mail.example.com>"), "{text}");
    assert!(text.contains("References: <root@mail.example.com> <parent@mail.example.com>"), "{text}");
    assert!(text.contains("Subject: Re: [CASE-000007] Bill too high"), "{text}");
    assert!(text.contains("X-Envelope-To: ana@example.com, lead@example.com"), "{text}");
    assert!(text.contains("From: Caredesk <service@caredesk.test>"), "{text}");
    assert!(text.contains("note.txt") && text.contains("text/html"), "{text}");
    let mut tx = scratch.db.read().await?;
    let row = ops::get_email(&mut tx, queued.email_id).await?;
    assert_eq!((row.status.as_str(), row.attempts, row.sent_at), ("sent", 1, Some(t0().micros())));
    drop(tx);
    let again = drain(&scratch.db, &mailer, &clock).await?;
    assert_eq!(again.sent, 0, "a sent email is not sent again");
    assert_eq!(sink.messages().len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_stalled_server_times_out_and_the_email_retries_then_fails_visibly() -> TestResult {
    let port = sink::stalled_server().await;
    let scratch = scratch::open().await?;
    let mut settings = sink::settings_for(port);
    settings.send_timeout_seconds = 1;
    settings.max_attempts = 2;
    crate::settings::install(&scratch.db, &settings).await?;
    let mut tx = scratch.db.begin().await?;
    let queued = ops::queue_email(&mut tx, &Actor::system("test"), email("ana@example.com", "Hi"), t0()).await?;
    tx.commit().await?;
    let mailer = Mailer::new(&settings)?;
    let clock = FixedClock::at(t0());
    let started = std::time::Instant::now();
    let outcome = drain(&scratch.db, &mailer, &clock).await?;
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "the timeout bounds a stalled send");
    assert_eq!((outcome.sent, outcome.retrying), (0, 1));
    let row = ops::get_email(&mut scratch.db.read().await?, queued.email_id).await?;
    assert_eq!((row.status.as_str(), row.attempts), ("queued", 1));
    assert!(row.next_attempt_at > t0().micros(), "back-off before the next try");
    assert!(row.last_error.is_some());
    assert_eq!(drain(&scratch.db, &mailer, &clock).await?, Default::default(), "not due yet");
    clock.advance_seconds(3_600);
    let outcome = drain(&scratch.db, &mailer, &clock).await?;
    assert_eq!(outcome.failed, 1);
    let row = ops::get_email(&mut scratch.db.read().await?, queued.email_id).await?;
    assert_eq!((row.status.as_str(), row.attempts), ("failed", 2));
    let mut tx = scratch.db.begin().await?;
    let retried = ops::retry_email(&mut tx, &Actor::system("test"), queued.email_id, clock.now()).await?;
    tx.commit().await?;
    assert_eq!((retried.status.as_str(), retried.max_attempts), ("queued", 3), "a person's retry gives one more try");
    Ok(())
}

#[tokio::test]
async fn two_drains_at_once_send_each_email_exactly_once() -> TestResult {
    let Some(sink) = sink::start().await else { return Ok(()) };
    let scratch = scratch::open().await?;
    let mut tx = scratch.db.begin().await?;
    for i in 0..60 {
        ops::queue_email(&mut tx, &Actor::system("test"), email(&format!("c{i}@example.com"), &format!("n{i}")), t0())
            .await?;
    }
    tx.commit().await?;
    let mut settings = sink.settings();
    settings.concurrency = 3;
    let (one, two) = (Mailer::new(&settings)?, Mailer::new(&settings)?);
    let clock = FixedClock::at(t0());
    let (a, b) = tokio::join!(drain(&scratch.db, &one, &clock), drain(&scratch.db, &two, &clock));
    let (a, b) = (a?, b?);
    assert_eq!(a.sent + b.sent, 60);
    let messages = sink.messages();
    assert_eq!(messages.len(), 60, "every email once, none twice");
    let mut ids: Vec<&str> = messages.iter().filter_map(|m| m.lines().find(|l| l.starts_with("Message-ID:"))).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 60);
    Ok(())
}

#[tokio::test]
async fn an_email_left_sending_by_a_dead_worker_becomes_uncertain_not_resent() -> TestResult {
    let Some(sink) = sink::start().await else { return Ok(()) };
    let scratch = scratch::open().await?;
    let mut tx = scratch.db.begin().await?;
    let queued = ops::queue_email(&mut tx, &Actor::system("test"), email("ana@example.com", "Hi"), t0()).await?;
    tx.commit().await?;
    let mut tx = scratch.db.begin().await?;
    let claimed = store::claim_due(&mut tx, t0().micros(), t0().plus_seconds(60).micros(), "dead", 10).await?;
    tx.commit().await?;
    assert_eq!(claimed.len(), 1, "the worker that claimed it then died");
    let mailer = Mailer::new(&sink.settings())?;
    let clock = FixedClock::at(t0().plus_seconds(30));
    assert_eq!(drain(&scratch.db, &mailer, &clock).await?, Default::default(), "held by its lease");
    clock.advance_seconds(60);
    let outcome = drain(&scratch.db, &mailer, &clock).await?;
    assert_eq!((outcome.uncertain, outcome.sent), (1, 0));
    assert!(sink.messages().is_empty(), "not sent again on its own");
    let mut tx = scratch.db.begin().await?;
    ops::retry_email(&mut tx, &Actor::system("test"), queued.email_id, clock.now()).await?;
    tx.commit().await?;
    assert_eq!(drain(&scratch.db, &mailer, &clock).await?.sent, 1, "a person decided to send it again");
    let row = ops::get_email(&mut scratch.db.read().await?, queued.email_id).await?;
    assert_eq!(row.message_id, queued.message_id, "same Message-ID, so receivers can drop a copy");
    Ok(())
}

#[tokio::test]
async fn a_connection_kept_from_the_last_drain_is_checked_before_it_is_reused() -> TestResult {
    let Some(first_sink) = sink::start().await else { return Ok(()) };
    let port = first_sink.port;
    let scratch = scratch::open().await?;
    let mut settings = first_sink.settings();
    settings.concurrency = 1;
    let mailer = Mailer::new(&settings)?;
    let clock = FixedClock::at(t0());
    let mut tx = scratch.db.begin().await?;
    ops::queue_email(&mut tx, &Actor::system("test"), email("ana@example.com", "One"), t0()).await?;
    tx.commit().await?;
    assert_eq!(drain(&scratch.db, &mailer, &clock).await?.sent, 1);
    drop(first_sink);
    let second_sink = sink::start_on(port).await;
    let mut tx = scratch.db.begin().await?;
    ops::queue_email(&mut tx, &Actor::system("test"), email("bob@example.com", "Two"), t0()).await?;
    tx.commit().await?;
    let outcome = drain(&scratch.db, &mailer, &clock).await?;
    assert_eq!((outcome.sent, outcome.retrying), (1, 0), "the closed connection was noticed, a new one opened");
    assert_eq!(second_sink.messages().len(), 1);
    Ok(())
}
