//! Extra headers from the allow-list reach the receiver (checked against the real aiosmtpd sink),
//! others are refused when queued; queue settings come from the database; and SMTPS (TLS from
//! the first byte) delivers over the drain's own socket with TCP_NODELAY, trusting a private CA
//! named in `ca_file` and refusing a server whose CA is unknown.

use super::sink;
use crate::CorrespondenceError;
use crate::model::*;
use crate::ops;
use crate::outbox::{Mailer, drain};
use crate::settings::SmtpSecurity;
use db::scratch;
use kernel::{Actor, FixedClock, Timestamp};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn t0() -> Timestamp {
    Timestamp::from_micros(1_800_000_000_000_000)
}

fn email(to: &str, subject: &str) -> OutboundEmail {
    OutboundEmail {
        to: vec![EmailAddress::parse(to, "to").unwrap()],
        subject: parse_subject(subject).unwrap(),
        text_body: parse_body("Hello there.", "text_body").unwrap(),
        ..OutboundEmail::default()
    }
}

#[test]
fn only_allowed_headers_with_allowed_values_parse() {
    let ok = ExtraHeader::parse("auto-submitted", " Auto-Replied ").unwrap();
    assert_eq!((ok.name, ok.value.as_str()), (ExtraHeaderName::AutoSubmitted, "auto-replied"));
    let list = ExtraHeader::parse("X-Auto-Response-Suppress", "oof, autoreply").unwrap();
    assert_eq!(list.value, "OOF, AutoReply");
    assert_eq!(ExtraHeader::parse("Precedence", "bulk").unwrap().value, "bulk");
    for (name, value) in [
        ("Bcc", "x@example.com"),
        ("Reply-To", "x@example.com"),
        ("Auto-Submitted", "auto-replied\r\nBcc: x@example.com"),
        ("Auto-Submitted", "yes"),
        ("Precedence", ""),
        ("X-Auto-Response-Suppress", "All,"),
    ] {
        let refused = ExtraHeader::parse(name, value);
        assert!(matches!(refused, Err(CorrespondenceError::HeaderRefused { .. })), "{name}: {value:?}");
    }
    let twice = [("Precedence".to_string(), "bulk".to_string()), ("precedence".to_string(), "list".to_string())];
    assert!(matches!(ExtraHeader::parse_list(&twice), Err(CorrespondenceError::HeaderRefused { .. })));
}

#[tokio::test]
async fn allowed_headers_are_written_in_the_message_and_queue_settings_come_from_the_database() -> TestResult {
    let Some(sink) = sink::start().await else { return Ok(()) };
    let scratch = scratch::open().await?;
    let mut settings = sink.settings();
    settings.message_id_domain = "mail.utility.test".into();
    settings.max_attempts = 3;
    crate::settings::install(&scratch.db, &settings).await?;
    let mut tx = scratch.db.begin().await?;
    let mut automatic = email("ana@example.com", "We got it");
    automatic.headers = vec![
        ExtraHeader::auto_replied(),
        ExtraHeader::parse("X-Auto-Response-Suppress", "All")?,
        ExtraHeader::parse("Precedence", "bulk")?,
    ];
    let queued = ops::queue_email(&mut tx, &Actor::system("test"), automatic, t0()).await?;
    let plain = ops::queue_email(&mut tx, &Actor::system("test"), email("bob@example.com", "Plain"), t0()).await?;
    tx.commit().await?;
    assert!(queued.message_id.ends_with("@mail.utility.test"), "{}", queued.message_id);
    let row = ops::get_email(&mut scratch.db.read().await?, queued.email_id).await?;
    assert_eq!(row.max_attempts, 3);
    let stored = row.extra_headers.unwrap_or_default();
    assert!(stored.contains("\"Auto-Submitted\"") && stored.contains("auto-replied"), "{stored}");

    let outcome = drain(&scratch.db, &Mailer::new(&settings)?, &FixedClock::at(t0())).await?;
    assert_eq!(outcome.sent, 2);
    let messages = sink.messages();
    let ours = messages.iter().find(|m| m.contains(&queued.message_id)).ok_or("not delivered")?;
    assert!(ours.contains("Auto-Submitted: auto-replied\r\n"), "{ours}");
    assert!(ours.contains("X-Auto-Response-Suppress: All\r\n"), "{ours}");
    assert!(ours.contains("Precedence: bulk\r\n"), "{ours}");
    let other = messages.iter().find(|m| m.contains(&plain.message_id)).ok_or("not delivered")?;
    assert!(!other.contains("Auto-Submitted"), "no header unless asked: {other}");
    Ok(())
}

#[tokio::test]
async fn smtps_delivers_over_a_private_ca_and_refuses_an_unknown_one() -> TestResult {
    let Some(sink) = sink::start_tls().await else { return Ok(()) };
    let scratch = scratch::open().await?;
    let mut tx = scratch.db.begin().await?;
    let queued = ops::queue_email(&mut tx, &Actor::system("test"), email("ana@example.com", "Over TLS"), t0()).await?;
    tx.commit().await?;
    let clock = FixedClock::at(t0());

    let untrusted = crate::settings::SmtpSettings { security: SmtpSecurity::Tls, ..sink.settings() };
    let refused = drain(&scratch.db, &Mailer::new(&untrusted)?, &clock).await?;
    assert_eq!((refused.sent, refused.retrying), (0, 1), "a certificate from an unknown CA is refused");
    let row = ops::get_email(&mut scratch.db.read().await?, queued.email_id).await?;
    let error = row.last_error.unwrap_or_default();
    assert!(error.contains("TLS handshake") && error.contains("certificate"), "{error}");
    assert!(sink.messages().is_empty());

    let mut tx = scratch.db.begin().await?;
    db::execute!(&mut tx, "update outbound_email set next_attempt_at = 0 where email_id = $1", queued.email_id)?;
    tx.commit().await?;
    let trusted = crate::settings::SmtpSettings { ca_file: Some(sink.dir.join("ca.pem")), ..untrusted };
    assert_eq!(trusted.validate(), Ok(()));
    let sent = drain(&scratch.db, &Mailer::new(&trusted)?, &clock).await?;
    assert_eq!(sent.sent, 1);
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains(&queued.message_id), "{}", messages[0]);
    Ok(())
}

#[tokio::test]
async fn the_drains_own_sockets_have_nodelay() -> TestResult {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let socket = crate::outbox::tls::connect_nodelay_for_test("127.0.0.1", port).await?;
    assert!(socket.nodelay()?, "TCP_NODELAY is set before any byte is written");
    Ok(())
}

#[test]
fn a_ca_file_that_is_not_pem_is_refused_by_name() {
    let dir = std::env::temp_dir().join(format!("caredesk-ca-{}", db::random_token(6)));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ca.pem");
    std::fs::write(&path, "not a certificate").unwrap();
    let settings = crate::settings::SmtpSettings { ca_file: Some(path), ..crate::settings::SmtpSettings::default() };
    let refused = settings.validate();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(matches!(refused, Err(("smtp.ca_file", _))), "{refused:?}");
}
