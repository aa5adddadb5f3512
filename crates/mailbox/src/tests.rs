//! Unit tests of the pure rules: parsing, automatic-mail signs, case numbers, thread text and
//! the HTML sanitiser.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::model::*;
use crate::sanitize::{decode_entities, sanitize_html};

const PLAIN: &str = "From: \"Maria Lopez\" <Maria@Example.ORG>\r\nTo: help@x.example, b@x.example\r\n\
Cc: c@x.example\r\nSubject: Re: [CASE-000042] Bill\r\nMessage-ID: <m1@example.org>\r\n\
In-Reply-To: <o1@caredesk.invalid>\r\nReferences: <r0@example.org> <o1@caredesk.invalid>\r\n\
Date: Mon, 30 Nov 2026 06:00:00 +0000\r\n\r\nHello\r\nthere\r\n";

#[test]
fn a_plain_message_is_parsed_into_threading_facts() {
    let parsed = parse_email(PLAIN.as_bytes()).unwrap();
    assert_eq!(parsed.message_id.as_deref(), Some("m1@example.org"));
    assert_eq!(parsed.in_reply_to, vec!["o1@caredesk.invalid"]);
    assert_eq!(parsed.references, vec!["r0@example.org", "o1@caredesk.invalid"]);
    assert_eq!(parsed.from_address.as_deref(), Some("maria@example.org"));
    assert_eq!(parsed.from_name.as_deref(), Some("Maria Lopez"));
    assert_eq!(parsed.to, vec!["help@x.example", "b@x.example"]);
    assert_eq!(parsed.cc, vec!["c@x.example"]);
    assert_eq!(parsed.sent_at_seconds, Some(1_796_018_400));
    assert_eq!(thread_text(&parsed.text), "Hello\nthere");
    assert_eq!(parsed.signals, AutoSignals::default());
    assert_eq!(own_reference_count(&parsed.references, "caredesk.invalid"), 1);
}

#[test]
fn empty_and_headerless_bytes_are_refused_without_panicking() {
    assert_eq!(parse_email(b"").unwrap_err(), ParseProblem::Empty);
    assert_eq!(parse_email(b" \r\n ").unwrap_err(), ParseProblem::Empty);
    for junk in [&b"\x00\x01\x02"[..], b"no colon here", b"\xff\xfe\xfd"] {
        assert_eq!(parse_email(junk).unwrap_err(), ParseProblem::NotAMessage);
    }
}

#[test]
fn automatic_mail_is_recognised_by_each_sign() {
    let with = |header: &str| {
        let raw = format!("From: a@b.example\r\n{header}\r\nSubject: x\r\n\r\nbody");
        parse_email(raw.as_bytes()).unwrap().signals
    };
    assert!(with("Auto-Submitted: auto-replied").auto_submitted);
    assert!(!with("Auto-Submitted: no").auto_submitted);
    assert!(with("Precedence: bulk").precedence_bulk);
    assert!(with("Precedence: junk").precedence_bulk);
    assert!(!with("Precedence: first-class").precedence_bulk);
    assert!(with("List-Id: <news.example.com>").list_id);
    assert!(with("X-Autoreply: yes").autoreply_header);
    assert!(with("X-Auto-Response-Suppress: All").autoreply_header);
    assert!(with("Return-Path: <>").null_return_path);
    assert!(!with("Return-Path: <a@b.example>").null_return_path);
    let daemon = parse_email(b"From: MAILER-DAEMON@mx.example\r\nSubject: fail\r\n\r\nx").unwrap();
    assert!(daemon.signals.daemon_sender);

    let limits = LoopLimits { own_references_limit: 2, sender_limit: 3 };
    let quiet = LoopFacts { own_references: 2, recent_from_sender: 2 };
    assert!(auto_flags(&AutoSignals::default(), quiet, limits).is_empty());
    let noisy = LoopFacts { own_references: 3, recent_from_sender: 3 };
    assert_eq!(auto_flags(&AutoSignals::default(), noisy, limits), vec!["own_references_loop", "sender_burst"]);
}

#[test]
fn case_numbers_are_found_in_subjects() {
    assert_eq!(case_number_in("Re: [CASE-000042] Bill").as_deref(), Some("CASE-000042"));
    assert_eq!(case_number_in("re: case-42 again").as_deref(), Some("CASE-000042"));
    assert_eq!(case_number_in("CASE-1234567").as_deref(), Some("CASE-1234567"));
    assert_eq!(case_number_in("SHOWCASE-000042"), None);
    assert_eq!(case_number_in("CASE-00004x2"), None);
    assert_eq!(case_number_in("CASE-"), None);
    assert_eq!(case_number_in("CASE-000000"), None);
    assert_eq!(case_number_in("x CASE- then CASE-7").as_deref(), Some("CASE-000007"));
}

#[test]
fn thread_text_and_subjects_are_cleaned() {
    assert_eq!(thread_text("  \r\n "), "(the message has no text)");
    assert_eq!(thread_text("a\u{0}b\r\nc"), "ab\nc");
    let long = "x".repeat(30_000);
    assert!(thread_text(&long).chars().count() < 20_000);
    assert_eq!(case_subject("  Re:\t high\n bill "), "Re: high bill");
    assert_eq!(case_subject(""), "(no subject)");
    assert_eq!(case_subject(&"y".repeat(500)).chars().count(), 200);
}

#[test]
fn the_sanitiser_keeps_structure_and_drops_everything_active() {
    let cases = [
        ("<p onclick=\"x()\">Hi <b>you</b></p>", "<p>Hi <b>you</b></p>"),
        ("<script>alert(1)</script>ok", "ok"),
        ("<SCRIPT src=x></SCRIPT >ok", "ok"),
        ("<style>p{}</style><p>t</p>", "<p>t</p>"),
        ("<a href=\"javascript:alert(1)\">x</a>", "<a rel=\"nofollow noopener noreferrer\" target=\"_blank\">x</a>"),
        (
            "<a href=\"jav&#x61;script:alert(1)\">x</a>",
            "<a rel=\"nofollow noopener noreferrer\" target=\"_blank\">x</a>",
        ),
        ("<a href=\" java\tscript:x\">x</a>", "<a rel=\"nofollow noopener noreferrer\" target=\"_blank\">x</a>"),
        (
            "<img src=\"http://t.example/p.gif\" alt=\"logo\">",
            "<span class=\"blocked-image\">[image: logo not loaded]</span>",
        ),
        ("<img src=x onerror=alert(1)>", "<span class=\"blocked-image\">[image not loaded]</span>"),
        ("<iframe src=x>inner</iframe>after", "after"),
        ("<div><span>unclosed", "<div><span>unclosed</span></div>"),
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("</p>stray", "stray"),
        ("<!-- <script>x</script> -->ok", "ok"),
        ("<td colspan=\"2\" style=\"x\">c</td>", "<td colspan=\"2\">c</td>"),
        ("<p title='\"><script>'>t</p>", "<p title=\"&quot;&gt;&lt;script&gt;\">t</p>"),
        ("<unknown>text</unknown>", "text"),
        ("<script>never closed", ""),
    ];
    for (input, expected) in cases {
        assert_eq!(sanitize_html(input), expected, "{input}");
    }
    let kept = sanitize_html("<a href=\"https://x.example/?a=1&amp;b=2\">pay</a>");
    assert!(kept.starts_with("<a href=\"https://x.example/?a=1&amp;b=2\""), "{kept}");
}

#[test]
fn entities_are_decoded_where_a_scheme_could_hide() {
    assert_eq!(decode_entities("&#106;&#x61;&colon;&amp;&unknown;&"), "ja:&&unknown;&");
    assert_eq!(decode_entities("&#xFFFFFFFF;"), "&#xFFFFFFFF;");
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn parsing_random_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2_000)) {
            let _ = parse_email(&bytes);
        }

        #[test]
        fn mutated_real_messages_never_panic(cut in 0usize..400, byte in any::<u8>(), at in 0usize..400) {
            let mut raw = PLAIN.as_bytes().to_vec();
            if at < raw.len() { raw[at] = byte; }
            raw.truncate(cut.max(1));
            if let Ok(parsed) = parse_email(&raw) {
                let _ = thread_text(&parsed.text);
                let _ = case_number_in(&parsed.subject);
            }
        }

        #[test]
        fn sanitised_output_never_holds_an_active_tag(html in "[<>a-z\"'=/ &#;:]{0,200}") {
            let out = sanitize_html(&html).to_ascii_lowercase();
            prop_assert!(!out.contains("<script") && !out.contains("javascript:"));
        }
    }
}

#[test]
fn no_reply_addresses_are_recognised() {
    use crate::ack::is_no_reply_address;
    for address in ["noreply@x.example", "no-reply@x.example", "Do_Not_Reply@x.example", "bounces+1@x.example"] {
        assert!(is_no_reply_address(address), "{address}");
    }
    for address in ["maria@x.example", "nora@x.example", "reply@x.example", "notes+bill@x.example"] {
        assert!(!is_no_reply_address(address), "{address}");
    }
    assert!(is_no_reply_address("MAILER-DAEMON@mx.example"));
}

#[test]
fn the_acknowledgement_names_the_case_and_answers_the_subject() {
    let (subject, body) = crate::ack::text("CASE-000007", "  Re: Leak\r\n in kitchen ", None);
    assert_eq!(subject, "Re: [CASE-000007] Leak in kitchen");
    assert!(body.starts_with("Hello,\n\nWe received your message, your reference is CASE-000007."), "{body}");
    assert_eq!(case_number_in(&subject).as_deref(), Some("CASE-000007"), "a reply with this subject threads");
    let (subject, _) = crate::ack::text("CASE-000008", "", Some("Ann"));
    assert_eq!(subject, "Re: [CASE-000008] (no subject)");
}

/// Found by the fuzz target (fuzz/): a subject naming another case number ("case-7") made the
/// acknowledgement's subject thread a reply to that case instead of the new one.
#[test]
fn fuzz_regression_the_acknowledgement_subject_threads_to_its_own_case() {
    let raw = b"From: =?utf-8?B?w4FuYQ==?= <NoReply@x.example>\r\nSubject: =?iso-8859-1?Q?caf=E9?= case-7\r\n\
List-Id: <l.example>\r\nPrecedence: bulk\r\nContent-Type: text/plain; charset=windows-1252\r\n\r\n\x80\x93 text\r\n";
    let parsed = parse_email(raw).unwrap();
    assert_eq!(case_number_in(&parsed.subject).as_deref(), Some("CASE-000007"));
    let (subject, _) = crate::ack::text("CASE-000001", &parsed.subject, parsed.from_name.as_deref());
    assert_eq!(subject, "Re: [CASE-000001] caf\u{e9} case-7");
    assert_eq!(case_number_in(&subject).as_deref(), Some("CASE-000001"));
}

/// Found by the fuzz target: an id cut at 250 characters could end in `>`, which a second
/// cleaning removed, so one id compared unequal to itself once stored.
#[test]
fn fuzz_regression_cleaning_a_message_id_twice_changes_nothing() {
    let long = format!("<{}>>tail>", "a".repeat(249));
    let once = clean_message_id(&long);
    assert_eq!(clean_message_id(&once), once);
    assert!(!once.ends_with('>') && once.chars().count() <= 250);
    for id in ["<x@y>", " <x@y> ", "<x\u{1}@y>\u{1}", "<<x@y>>", ">", "<>"] {
        let once = clean_message_id(id);
        assert_eq!(clean_message_id(&once), once, "{id:?}");
    }
    assert_eq!(clean_message_id("<x\u{1}@y>\u{1}"), "x@y");
}
