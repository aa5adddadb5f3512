//! Fuzzes the inbound email path that runs before any database write: parsing raw bytes, the
//! automatic-mail signs, threading keys (Message-IDs, the case number in a subject), the text
//! and subject a case receives, the HTML sanitiser and the acknowledgement text. Besides "no
//! panic", it checks the promises the rest of the code relies on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailbox::model::{self, LoopFacts, LoopLimits};
use mailbox::sanitize::{allowed_tag, decode_entities, sanitize_html};

/// Reads the sanitiser's output back as a browser would and checks that every tag is allowed,
/// every attribute is harmless and every link and image is of an allowed scheme. (A check on
/// the text alone would be wrong: "javascript:" may stand in a text node, escaped.)
fn check_sanitised(html: &str) {
    let clean = sanitize_html(html);
    let mut rest = clean.as_str();
    while let Some(lt) = rest.find('<') {
        let after = &rest[lt + 1..];
        let gt = after.find('>').unwrap_or_else(|| panic!("a tag left open in {clean:?}"));
        check_tag(&after[..gt], &clean);
        rest = &after[gt + 1..];
    }
}

fn check_tag(tag: &str, clean: &str) {
    let tag = tag.strip_prefix('/').unwrap_or(tag);
    let (name, mut attributes) = tag.split_once(' ').unwrap_or((tag, ""));
    assert!(allowed_tag(name), "tag {name:?} in {clean:?}");
    while !attributes.is_empty() {
        let (attribute, after) = attributes.split_once("=\"").unwrap_or_else(|| panic!("attribute in {clean:?}"));
        let (value, after) = after.split_once('"').unwrap_or_else(|| panic!("unquoted value in {clean:?}"));
        let seen = decode_entities(value).to_ascii_lowercase();
        match attribute {
            "title" | "alt" | "colspan" | "rowspan" => {}
            "rel" => assert_eq!(value, "nofollow noopener noreferrer"),
            "target" => assert_eq!(value, "_blank"),
            "class" => assert_eq!(value, "blocked-image"),
            "href" => assert!(
                ["http://", "https://", "mailto:"].iter().any(|s| seen.starts_with(s)),
                "href {seen:?} in {clean:?}"
            ),
            "src" => assert!(seen.starts_with("data:image/"), "src {seen:?} in {clean:?}"),
            other => panic!("attribute {other:?} in {clean:?}"),
        }
        attributes = after.trim_start();
    }
}

fn check_threading_keys(parsed: &model::ParsedEmail) {
    for id in parsed.message_id.iter().chain(&parsed.in_reply_to).chain(&parsed.references) {
        assert!(!id.is_empty() && id.chars().count() <= 250, "message id {id:?}");
        assert!(!id.chars().any(|c| c.is_whitespace() || c.is_control()), "message id {id:?}");
        assert_eq!(&model::clean_message_id(id), id, "cleaning is idempotent");
    }
    assert!(parsed.references.len() <= 50);
    if let Some(number) = model::case_number_in(&parsed.subject) {
        let digits = number.strip_prefix("CASE-").unwrap_or_default();
        assert!(digits.len() >= 6 && digits.chars().all(|c| c.is_ascii_digit()), "case number {number:?}");
    }
}

fn check_case_text(parsed: &model::ParsedEmail) {
    let subject = model::case_subject(&parsed.subject);
    assert!(!subject.is_empty() && subject.chars().count() <= 200, "subject {subject:?}");
    assert!(!subject.chars().any(char::is_control), "subject {subject:?}");
    let text = model::thread_text(&parsed.text);
    assert!(!text.is_empty() && text.chars().count() <= 20_000, "thread text of {} chars", text.chars().count());
    assert!(!text.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
    let (ack_subject, _) = mailbox::ack::text("CASE-000001", &parsed.subject, parsed.from_name.as_deref());
    assert_eq!(model::case_number_in(&ack_subject).as_deref(), Some("CASE-000001"), "{ack_subject:?}");
    if let Some(address) = &parsed.from_address {
        let _ = mailbox::ack::is_no_reply_address(address);
    }
}

fuzz_target!(|data: &[u8]| {
    // The bytes as a whole message, the way the API and the IMAP poll receive them.
    if let Ok(parsed) = model::parse_email(data) {
        check_threading_keys(&parsed);
        check_case_text(&parsed);
        if let Some(html) = &parsed.html {
            check_sanitised(html);
        }
        let limits = LoopLimits { own_references_limit: 2, sender_limit: 20 };
        let _ = model::auto_flags(&parsed.signals, LoopFacts::default(), limits);
        let _ = model::own_reference_count(&parsed.references, "caredesk.invalid");
    }
    // The bytes as an HTML body and as a subject, to reach the sanitiser and the subject rules
    // without a MIME structure around them.
    let text = String::from_utf8_lossy(data);
    check_sanitised(&text);
    let _ = model::case_number_in(&text);
    let _ = model::one_line(&text, 300);
});
