//! Acknowledgements: a person's email that opens a case gets one "we received your message"
//! email, threaded to theirs and naming the case; replies, automatic mail, no-reply senders and
//! customers who asked not to be emailed get none, and a case never gets two.

use super::{Error, customer_with_email, message, post_raw};
use kernel::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{TestApp, TestResult, spawn_app};

async fn outbound(app: &TestApp, token: &str) -> Result<Vec<Value>, Error> {
    let list: Value = app.api.get(app.url("/api/v1/emails")).bearer_auth(token).send().await?.json().await?;
    Ok(list.as_array().ok_or_else(|| format!("not a list: {list}"))?.clone())
}

#[tokio::test]
async fn a_new_case_from_email_is_acknowledged_once_threaded_to_the_customer() -> TestResult {
    let app = spawn_app().await;
    let mailer = app.user_with_token("mta", Role::Admin).await?;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let customer_id = customer_with_email(&app, &agent, "ack.user@example.org").await?;
    let first = message(
        "Maria Lopez <ack.user@example.org>",
        "k1@example.org",
        "Meter reading",
        "References: <k0@example.org>\r\n",
        "Please read my meter.",
    );
    let received = post_raw(&app, &mailer, &first).await?;
    assert_eq!(received["acknowledged"], true, "{received}");
    let case_number = received["case_number"].as_str().ok_or("no case number")?.to_string();
    let emails = outbound(&app, &agent).await?;
    assert_eq!(emails.len(), 1, "{emails:?}");
    let ack = &emails[0];
    assert_eq!(ack["to_addresses"], "ack.user@example.org");
    assert_eq!(ack["in_reply_to"], "k1@example.org", "threaded to the customer's message");
    assert_eq!(ack["reference_ids"], "k0@example.org k1@example.org");
    assert_eq!(ack["case_id"], received["case_id"]);
    assert_eq!(ack["customer_id"], customer_id);
    assert_eq!(ack["subject"], format!("Re: [{case_number}] Meter reading"));
    let body = ack["text_body"].as_str().ok_or("no body")?;
    assert!(body.contains(&format!("We received your message, your reference is {case_number}.")), "{body}");
    assert!(body.starts_with("Hello Maria Lopez,"), "{body}");

    // The customer answers the acknowledgement: the reply threads on its Message-ID, no new ack.
    let ack_id = ack["message_id"].as_str().ok_or("no message id")?;
    let headers = format!("In-Reply-To: <{ack_id}>\r\n");
    let reply = message("ack.user@example.org", "k2@example.org", "Re: Meter reading", &headers, "Thanks");
    let threaded = post_raw(&app, &mailer, &reply).await?;
    assert_eq!(threaded["case_id"], received["case_id"], "{threaded}");
    assert_eq!(threaded["acknowledged"], false);

    // Asked again for the same case (a retried job, a second message opening it): nothing more.
    let case_id = received["case_id"].as_i64().ok_or("no case")?;
    let parsed = mailbox::model::parse_email(first.as_bytes()).map_err(|p| p.message())?;
    let mut tx = app.db.begin().await?;
    let now = kernel::Clock::now(app.clock.as_ref());
    let again = mailbox::ack::acknowledge(&mut tx, case_id, Some(customer_id), &parsed, now).await?;
    tx.commit().await?;
    assert!(!again, "at most one acknowledgement per case");
    assert_eq!(outbound(&app, &agent).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn no_acknowledgement_for_automatic_mail_no_reply_senders_or_customers_who_refuse_email() -> TestResult {
    let app = spawn_app().await;
    let mailer = app.user_with_token("mta", Role::Admin).await?;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let body = json!({
        "kind": "person", "first_name": "Quiet", "last_name": "Customer",
        "emails": [{"address": "quiet@example.org"}], "do_not_email": true,
    });
    let response = app.api.post(app.url("/api/v1/customers")).bearer_auth(&agent).json(&body).send().await?;
    assert_eq!(response.status(), StatusCode::CREATED);

    let cases = [
        ("quiet@example.org", "q1@example.org", "", "processed"),
        ("no-reply@shop.example", "q2@example.org", "", "processed"),
        ("DoNotReply+x@bank.example", "q3@example.org", "", "processed"),
        ("away@example.org", "q4@example.org", "Auto-Submitted: auto-replied\r\n", "held"),
        ("news@list.example", "q5@example.org", "Precedence: bulk\r\n", "held"),
    ];
    for (from, message_id, headers, status) in cases {
        let received = post_raw(&app, &mailer, &message(from, message_id, "Hello", headers, "Text")).await?;
        assert_eq!(received["status"], status, "{received}");
        assert_eq!(received["acknowledged"], false, "{from}: {received}");
    }
    assert!(outbound(&app, &agent).await?.is_empty(), "no acknowledgement was queued");
    Ok(())
}

#[tokio::test]
async fn the_acknowledgement_says_it_is_automatic_and_follows_its_editable_template() -> TestResult {
    let app = spawn_app().await;
    let mailer = app.user_with_token("mta", Role::Admin).await?;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let first = message("stranger@example.net", "t1@example.net", "Re: Outage", "", "No power since noon.");
    let received = post_raw(&app, &mailer, &first).await?;
    assert_eq!(received["acknowledged"], true, "{received}");
    let number = received["case_number"].as_str().ok_or("no case number")?.to_string();
    let emails = outbound(&app, &agent).await?;
    let ack = emails.first().ok_or("no acknowledgement")?;
    let headers = ack["extra_headers"].as_str().ok_or("no extra headers")?;
    let headers: Value = serde_json::from_str(headers)?;
    assert_eq!(headers, json!([{"name": "Auto-Submitted", "value": "auto-replied"}]), "RFC 3834");
    assert!(ack["template_id"].as_i64().is_some(), "merged from the case_acknowledgement template: {ack}");
    assert_eq!(ack["subject"], format!("Re: [{number}] Outage"));
    let body = ack["text_body"].as_str().ok_or("no body")?;
    assert!(body.starts_with("Hello stranger@example.net,\n\nWe received your message"), "no customer: {body}");

    // An admin rewords it: the next acknowledgement uses the new version.
    let template = json!({
        "template_key": "case_acknowledgement", "language": "en", "kind": "email", "name": "Case acknowledgement",
        "subject": "[{{case.number}}] Thank you: {{case.subject}}",
        "body": "Dear {{extra.sender_name}}, case {{case.number}} is open ({{today}}).",
    });
    let admin = app.user_with_token("root", Role::Admin).await?;
    let saved = app.api.post(app.url("/api/v1/templates")).bearer_auth(&admin).json(&template).send().await?;
    assert_eq!(saved.status(), StatusCode::CREATED);
    let second = message("Ann Other <ann@example.net>", "t2@example.net", "Meter", "", "Please read it.");
    let received = post_raw(&app, &mailer, &second).await?;
    let number = received["case_number"].as_str().ok_or("no case number")?.to_string();
    let emails = outbound(&app, &agent).await?;
    let ack = emails.iter().find(|e| e["case_id"] == received["case_id"]).ok_or("no second acknowledgement")?;
    assert_eq!(ack["subject"], format!("[{number}] Thank you: Meter"));
    let body = ack["text_body"].as_str().ok_or("no body")?;
    assert!(body.starts_with(&format!("Dear Ann Other, case {number} is open (")), "{body}");

    // A version needing a value this message lacks (no customer): the built-in wording, not a failure.
    let needs_customer = json!({
        "template_key": "case_acknowledgement", "language": "en", "kind": "email", "name": "Case acknowledgement",
        "subject": "[{{case.number}}] {{case.subject}}", "body": "Dear {{customer.name}}",
    });
    let saved = app.api.post(app.url("/api/v1/templates")).bearer_auth(&admin).json(&needs_customer).send().await?;
    assert_eq!(saved.status(), StatusCode::CREATED);
    let third = message("nobody.known@example.net", "t3@example.net", "Leak", "", "Water.");
    let received = post_raw(&app, &mailer, &third).await?;
    assert_eq!((received["status"].as_str(), received["acknowledged"].as_bool()), (Some("processed"), Some(true)));
    let emails = outbound(&app, &agent).await?;
    let ack = emails.iter().find(|e| e["case_id"] == received["case_id"]).ok_or("no third acknowledgement")?;
    assert_eq!(ack["template_id"], Value::Null);
    assert!(ack["text_body"].as_str().unwrap_or_default().contains("We received your message"), "{ack}");
    assert!(ack["extra_headers"].as_str().unwrap_or_default().contains("auto-replied"));

    let browser = app.browser();
    app.sign_in(&browser, "root").await?;
    let outbox = browser.get(app.url("/outbox")).send().await?.text().await?;
    assert!(outbox.contains("Auto-Submitted: auto-replied"), "the outbox shows the extra header: {outbox}");
    Ok(())
}
