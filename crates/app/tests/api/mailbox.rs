//! Inbound email over HTTP: raw messages posted as a mail server pipes them become cases matched
//! to the customer by address, replies thread by In-Reply-To and by the case number in the
//! subject (reopening a resolved case), HTML is sanitised, automatic mail is flagged and held,
//! attachments are kept, and malformed input is stored and marked failed, never lost.

use kernel::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{TestApp, TestResult, spawn_app};

mod ack;
mod imap;

type Error = Box<dyn std::error::Error + Send + Sync>;

async fn post_raw(app: &TestApp, token: &str, raw: &str) -> Result<Value, Error> {
    let response = app
        .api
        .post(app.url("/api/v1/inbound/email"))
        .bearer_auth(token)
        .header("content-type", "message/rfc822")
        .body(raw.to_string())
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    Ok(response.json().await?)
}

async fn customer_with_email(app: &TestApp, token: &str, address: &str) -> Result<i64, Error> {
    let body = json!({"kind": "person", "first_name": "Maria", "last_name": "Lopez", "emails": [{"address": address}]});
    let response = app.api.post(app.url("/api/v1/customers")).bearer_auth(token).json(&body).send().await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await?;
    created["customer"]["customer_id"].as_i64().ok_or_else(|| format!("no customer id in {created}").into())
}

async fn case(app: &TestApp, token: &str, id: i64) -> Result<Value, Error> {
    Ok(app.api.get(app.url(&format!("/api/v1/cases/{id}"))).bearer_auth(token).send().await?.json().await?)
}

fn message(from: &str, message_id: &str, subject: &str, extra_headers: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: help@utility.example\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         Date: Mon, 30 Nov 2026 06:00:00 +0000\r\n{extra_headers}\r\n{body}\r\n"
    )
}

#[tokio::test]
async fn a_new_sender_opens_a_case_and_a_reply_reopens_it() -> TestResult {
    let app = spawn_app().await;
    let mailer = app.user_with_token("mta", Role::Admin).await?;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let customer_id = customer_with_email(&app, &agent, "maria.lopez@example.org").await?;

    let first = message("Maria Lopez <Maria.Lopez@Example.org>", "a1@example.org", "High bill", "", "My bill doubled.");
    let received = post_raw(&app, &mailer, &first).await?;
    assert_eq!(received["status"], "processed", "{received}");
    assert_eq!(received["threaded_by"], "new_case");
    assert_eq!(received["customer_id"], customer_id, "matched by address, case-insensitively");
    assert!(received["contact_id"].as_i64().is_some(), "an inbound email contact is logged");
    let case_id = received["case_id"].as_i64().ok_or("no case")?;
    let opened = case(&app, &agent, case_id).await?;
    assert_eq!(opened["case"]["customer_id"], customer_id);
    assert_eq!(opened["case"]["subject"], "High bill");
    let entries = opened["entries"].as_array().ok_or("no entries")?;
    assert!(entries.iter().any(|e| e["kind"] == "reply_in" && e["body"] == "My bill doubled."), "{entries:?}");

    let timeline: Value = app
        .api
        .get(app.url(&format!("/api/v1/customers/{customer_id}/contacts")))
        .bearer_auth(&agent)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(timeline["items"][0]["channel"], "email");
    assert_eq!(timeline["items"][0]["direction"], "inbound");
    assert_eq!(timeline["items"][0]["case_id"], case_id);

    let resolve = json!({"resolution_code": "answered"});
    let response = app
        .api
        .post(app.url(&format!("/api/v1/cases/{case_id}/resolve")))
        .bearer_auth(&agent)
        .json(&resolve)
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let reply = message(
        "maria.lopez@example.org",
        "a2@example.org",
        "Re: High bill",
        "In-Reply-To: <a1@example.org>\r\nReferences: <a1@example.org>\r\n",
        "Still too high.",
    );
    let threaded = post_raw(&app, &mailer, &reply).await?;
    assert_eq!(threaded["case_id"], case_id, "{threaded}");
    assert_eq!(threaded["threaded_by"], "message_id");
    assert_eq!(case(&app, &agent, case_id).await?["case"]["status"], "open", "the resolved case reopened");

    let again = post_raw(&app, &mailer, &reply).await?;
    assert_eq!(again["status"], "duplicate", "the same Message-ID is stored but not threaded twice");
    assert_eq!(again["case_id"], case_id);
    Ok(())
}

#[tokio::test]
async fn the_case_number_in_the_subject_threads_and_unknown_senders_get_a_case_without_customer() -> TestResult {
    let app = spawn_app().await;
    let mailer = app.user_with_token("mta", Role::Admin).await?;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let first =
        post_raw(&app, &mailer, &message("stranger@example.net", "s1@example.net", "Outage", "", "No power")).await?;
    assert_eq!(first["status"], "processed");
    assert_eq!(first["customer_id"], Value::Null, "nobody has this address");
    assert_eq!(first["contact_id"], Value::Null);
    let case_id = first["case_id"].as_i64().ok_or("no case")?;
    let number = first["case_number"].as_str().ok_or("no number")?.to_string();

    let subject = format!("Re: [{number}] Outage");
    let by_subject =
        post_raw(&app, &mailer, &message("other@example.net", "s2@example.net", &subject, "", "Back on")).await?;
    assert_eq!(by_subject["case_id"], case_id, "{by_subject}");
    assert_eq!(by_subject["threaded_by"], "subject");
    let short = number.replace("CASE-0000", "case-");
    let plain = post_raw(&app, &mailer, &message("x@example.net", "s3@example.net", &short, "", "again")).await?;
    assert_eq!(plain["case_id"], case_id, "lower case, fewer digits: {short}");
    let entries = case(&app, &agent, case_id).await?["entries"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.iter().filter(|e| e["kind"] == "reply_in").count(), 3);
    Ok(())
}

#[tokio::test]
async fn html_mail_is_sanitised_and_the_thread_holds_plain_text() -> TestResult {
    let app = spawn_app().await;
    let mailer = app.user_with_token("mta", Role::Admin).await?;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let html = "<html><head><style>p{color:red}</style></head><body><p onclick=\"steal()\">Hello <b>there</b></p>\
                <script>alert(1)</script><img src=\"https://tracker.example/p.gif\" onerror=\"alert(2)\">\
                <a href=\"javascript:alert(3)\">click</a><a href=\"https://utility.example/pay\">pay</a></body></html>";
    let raw = message("h@example.com", "h1@example.com", "Html", "Content-Type: text/html; charset=utf-8\r\n", html);
    let received = post_raw(&app, &mailer, &raw).await?;
    assert_eq!(received["status"], "processed", "{received}");
    let id = received["inbound_message_id"].as_i64().ok_or("no id")?;
    let mut tx = app.db.read().await?;
    let clean = mailbox::ops::sanitised_html(&mut tx, id).await?.ok_or("no html kept")?;
    tx.rollback().await?;
    for bad in ["<script", "alert(", "onclick", "onerror", "javascript:", "tracker.example", "<style", "color:red"] {
        assert!(!clean.contains(bad), "{bad} survived in {clean}");
    }
    assert!(clean.contains("<b>there</b>") && clean.contains("href=\"https://utility.example/pay\""), "{clean}");
    assert!(clean.contains("[image not loaded]"), "{clean}");

    let thread = case(&app, &agent, received["case_id"].as_i64().ok_or("no case")?).await?;
    let text = thread["entries"].as_array().ok_or("no entries")?.iter().find(|e| e["kind"] == "reply_in").cloned();
    let body = text.ok_or("no reply entry")?["body"].as_str().unwrap_or_default().to_string();
    assert!(body.contains("Hello") && !body.contains('<'), "plain-text fallback: {body}");
    Ok(())
}

#[tokio::test]
async fn automatic_mail_is_flagged_held_and_never_reopens_a_case() -> TestResult {
    let app = spawn_app().await;
    let mailer = app.user_with_token("mta", Role::Admin).await?;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let ooo = message("bot@example.com", "o1@example.com", "Out of office", "Auto-Submitted: auto-replied\r\n", "Away");
    let held = post_raw(&app, &mailer, &ooo).await?;
    assert_eq!(held["status"], "held", "{held}");
    assert_eq!(held["case_id"], Value::Null, "no case for an auto-reply with no thread");
    assert_eq!(held["acknowledged"], false);
    assert!(held["auto_flags"].as_str().unwrap_or_default().contains("auto_submitted"));

    let first = post_raw(&app, &mailer, &message("p@example.com", "p1@example.com", "Meter", "", "Read it")).await?;
    let case_id = first["case_id"].as_i64().ok_or("no case")?;
    let response = app
        .api
        .post(app.url(&format!("/api/v1/cases/{case_id}/resolve")))
        .bearer_auth(&agent)
        .json(&json!({"resolution_code": "answered"}))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    for (n, headers) in
        ["Precedence: bulk\r\n", "List-Id: <news.example.com>\r\n", "Return-Path: <>\r\n", "X-Autoreply: yes\r\n"]
            .iter()
            .enumerate()
    {
        let headers = format!("{headers}In-Reply-To: <p1@example.com>\r\n");
        let raw = message("p@example.com", &format!("auto{n}@example.com"), "Re: Meter", &headers, "auto");
        let flagged = post_raw(&app, &mailer, &raw).await?;
        assert_eq!(flagged["case_id"], case_id, "{flagged}");
        assert_ne!(flagged["auto_flags"], "", "{headers}");
    }
    assert_eq!(case(&app, &agent, case_id).await?["case"]["status"], "resolved", "automatic mail does not reopen");
    Ok(())
}

#[tokio::test]
async fn a_burst_from_one_sender_is_treated_as_a_loop() -> TestResult {
    let app = spawn_app().await;
    let mailer = app.user_with_token("mta", Role::Admin).await?;
    let mut last = Value::Null;
    for n in 0..21 {
        last =
            post_raw(&app, &mailer, &message("loop@example.com", &format!("l{n}@x.example"), "Hi", "", "hi")).await?;
    }
    assert!(last["auto_flags"].as_str().unwrap_or_default().contains("sender_burst"), "{last}");
    Ok(())
}

#[tokio::test]
async fn attachments_are_kept_and_refused_ones_are_named_in_a_note() -> TestResult {
    let app = spawn_app().await;
    let mailer = app.user_with_token("mta", Role::Admin).await?;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let body = "--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n\
        --b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"bill.pdf\"\r\n\
        Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJWVuZAo=\r\n\
        --b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"run.exe\"\r\n\
        Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAA=\r\n--b--";
    let raw =
        message("a@example.com", "att@example.com", "Docs", "Content-Type: multipart/mixed; boundary=\"b\"\r\n", body);
    let received = post_raw(&app, &mailer, &raw).await?;
    let thread = case(&app, &agent, received["case_id"].as_i64().ok_or("no case")?).await?;
    let attachments = thread["attachments"].as_array().ok_or("no attachments")?;
    assert_eq!(attachments.len(), 1, "{attachments:?}");
    assert_eq!(attachments[0]["file_name"], "bill.pdf");
    let entries = thread["entries"].as_array().ok_or("no entries")?;
    assert!(entries.iter().any(|e| e["kind"] == "note" && e["body"].as_str().unwrap_or_default().contains("run.exe")));
    Ok(())
}

#[tokio::test]
async fn malformed_input_is_stored_failed_and_listed_and_the_endpoint_is_guarded() -> TestResult {
    let app = spawn_app().await;
    let mailer = app.user_with_token("mta", Role::Admin).await?;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let junk = post_raw(&app, &mailer, "\u{1}\u{2} not a message at all").await?;
    assert_eq!(junk["status"], "failed", "{junk}");
    assert!(junk["error"].as_str().is_some());
    let failed: Value =
        app.api.get(app.url("/api/v1/inbound/email?status=failed")).bearer_auth(&agent).send().await?.json().await?;
    assert_eq!(failed["items"][0]["inbound_message_id"], junk["inbound_message_id"]);
    let raw = app
        .api
        .get(app.url(&format!("/api/v1/inbound/email/{}/raw", junk["inbound_message_id"])))
        .bearer_auth(&agent)
        .send()
        .await?;
    assert_eq!(raw.bytes().await?.as_ref(), "\u{1}\u{2} not a message at all".as_bytes(), "kept byte for byte");

    let ok = post_raw(&app, &mailer, &message("a@example.com", "ok@example.com", "Hi", "", "hi")).await?;
    let retry = app
        .api
        .post(app.url(&format!("/api/v1/inbound/email/{}/retry", ok["inbound_message_id"])))
        .bearer_auth(&mailer)
        .send()
        .await?;
    assert_eq!(retry.status(), StatusCode::CONFLICT, "a processed message is not processed twice");

    let json_body = app.api.post(app.url("/api/v1/inbound/email")).bearer_auth(&mailer).json(&json!({})).send().await?;
    assert_eq!(json_body.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let empty = app
        .api
        .post(app.url("/api/v1/inbound/email"))
        .bearer_auth(&mailer)
        .header("content-type", "message/rfc822")
        .body("  ")
        .send()
        .await?;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let not_allowed = app
        .api
        .post(app.url("/api/v1/inbound/email"))
        .bearer_auth(&agent)
        .header("content-type", "message/rfc822")
        .body("Subject: x\r\n\r\nx")
        .send()
        .await?;
    assert_eq!(not_allowed.status(), StatusCode::FORBIDDEN);
    Ok(())
}

#[tokio::test]
async fn a_reply_to_an_email_we_sent_threads_on_its_message_id() -> TestResult {
    let app = spawn_app().await;
    let mailer = app.user_with_token("mta", Role::Admin).await?;
    let first = post_raw(&app, &mailer, &message("c@example.com", "c1@example.com", "Meter", "", "Read it")).await?;
    let case_id = first["case_id"].as_i64().ok_or("no case")?;
    let mut tx = app.db.begin().await?;
    db::execute!(
        &mut tx,
        "insert into outbound_email (message_id, to_addresses, cc_addresses, subject, text_body, case_id, status,
                                     max_attempts, next_attempt_at, created_by, created_at, updated_at)
         values ('out1@caredesk.invalid', 'c@example.com', '', 'Re: Meter', 'Done', $1, 'sent', 5, 0, 'test', 0, 0)",
        case_id
    )?;
    tx.commit().await?;
    let headers = "In-Reply-To: <out1@caredesk.invalid>\r\n";
    let reply = post_raw(&app, &mailer, &message("c@example.com", "c2@example.com", "Thanks", headers, "ok")).await?;
    assert_eq!(reply["case_id"], case_id, "{reply}");
    assert_eq!(reply["threaded_by"], "message_id");
    Ok(())
}
