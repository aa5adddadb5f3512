//! Correspondence over HTTP and the command line: templates saved as versions, per language,
//! previewed with a real customer's data and refused when they name an unknown merge field;
//! letters as PDF and the print batch (API, page and `caredesk letters print-batch`); the
//! outbound email queue with its retry; and who may do what (agent against lead and admin).

use kernel::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::{Command, Output, Stdio};
use testkit::{TestApp, TestResult, spawn_app};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A customer with an email address, a postal address and one account: (customer, account).
async fn customer(app: &TestApp, token: &str) -> Result<(i64, i64), Error> {
    let customer = json!({
        "kind": "person", "first_name": "Maria", "last_name": "Lopez",
        "emails": [{"address": "maria.lopez@example.org"}],
        "addresses": [{"line1": "12 Elm St", "city": "Springfield", "region": "IL", "postal_code": "62701"}]
    });
    let opened = app.open_account(token, customer, json!({"bill_cycle": 3})).await?;
    Ok((opened.customer_id, opened.account_id))
}

async fn post_json(app: &TestApp, token: &str, path: &str, body: &Value) -> Result<(StatusCode, Value), Error> {
    let response = app.api.post(app.url(path)).bearer_auth(token).json(body).send().await?;
    let status = response.status();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

async fn get_json(app: &TestApp, token: &str, path: &str) -> Result<(StatusCode, Value), Error> {
    let response = app.api.get(app.url(path)).bearer_auth(token).send().await?;
    let status = response.status();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

/// A welcome letter for the customer, queued for printing; returns its id.
async fn letter(app: &TestApp, token: &str, customer_id: i64, account_id: i64) -> Result<i64, Error> {
    let body = json!({"template_key": "welcome_letter", "customer_id": customer_id, "account_id": account_id});
    let (status, sent) = post_json(app, token, "/api/v1/letters", &body).await?;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    sent["letter_id"].as_i64().ok_or_else(|| format!("no letter id in {sent}").into())
}

fn template(key: &str, language: &str, body: &str) -> Value {
    json!({
        "template_key": key, "language": language, "kind": "letter", "name": "Outage notice",
        "subject": "Planned outage for {{customer.name}}", "body": body
    })
}

#[tokio::test]
async fn templates_are_versioned_per_language_previewed_and_checked() -> TestResult {
    let app = spawn_app().await;
    let admin = app.user_with_token("ada", Role::Admin).await?;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let (customer_id, account_id) = customer(&app, &agent).await?;

    let (status, listed) = get_json(&app, &agent, "/api/v1/templates").await?;
    assert_eq!(status, StatusCode::OK);
    let rows = listed.as_array().ok_or("not a list")?;
    assert!(rows.iter().any(|t| t["template_key"] == "welcome_letter" && t["language"] == "fr"), "{listed}");

    let first = template("outage_notice", "en", "Dear {{customer.name}},\n\nAccount {{account.number}}.");
    let (status, refused) = post_json(&app, &agent, "/api/v1/templates", &first).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "an agent does not edit templates: {refused}");
    let (status, v1) = post_json(&app, &admin, "/api/v1/templates", &first).await?;
    assert_eq!((status, v1["version"].as_i64()), (StatusCode::CREATED, Some(1)), "{v1}");
    let second =
        template("outage_notice", "en", "Hello {{customer.name}},\n\nAccount {{account.number}} on {{today}}.");
    let (status, v2) = post_json(&app, &admin, "/api/v1/templates", &second).await?;
    assert_eq!((status, v2["version"].as_i64()), (StatusCode::CREATED, Some(2)), "a save is a new version");
    let spanish = template("outage_notice", "es", "Estimada {{customer.name}}:\n\nCuenta {{account.number}}.");
    let (status, es) = post_json(&app, &admin, "/api/v1/templates", &spanish).await?;
    assert_eq!((status, es["version"].as_i64()), (StatusCode::CREATED, Some(1)), "{es}");

    let (status, versions) = get_json(&app, &agent, "/api/v1/templates/outage_notice").await?;
    assert_eq!(status, StatusCode::OK);
    let versions = versions.as_array().ok_or("not a list")?;
    let seen: Vec<(String, i64)> = versions
        .iter()
        .map(|v| (v["language"].as_str().unwrap_or("").to_string(), v["version"].as_i64().unwrap_or(0)))
        .collect();
    assert_eq!(seen, [("en".to_string(), 2), ("en".to_string(), 1), ("es".to_string(), 1)]);
    let (status, _) = get_json(&app, &agent, "/api/v1/templates/no_such_template").await?;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let typo = template("outage_notice", "en", "Dear {{customer.nmae}},");
    let (status, problem) = post_json(&app, &admin, "/api/v1/templates", &typo).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "body", "{problem}");
    assert_eq!(problem["errors"][0]["code"], "merge_field_unknown");
    assert!(problem["errors"][0]["message"].as_str().unwrap_or("").contains("customer.nmae"), "{problem}");
    let (_, after) = get_json(&app, &agent, "/api/v1/templates/outage_notice").await?;
    assert_eq!(after.as_array().map(Vec::len), Some(3), "a refused save makes no version");

    let v2_id = v2["template_id"].as_i64().ok_or("no template id")?;
    let subject = json!({"customer_id": customer_id, "account_id": account_id});
    let (status, preview) = post_json(&app, &agent, &format!("/api/v1/templates/{v2_id}/preview"), &subject).await?;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["subject"], "Planned outage for Maria Lopez");
    let body = preview["body"].as_str().unwrap_or("");
    assert!(body.starts_with("Hello Maria Lopez,\n\nAccount ") && !body.contains("{{"), "{body}");

    let ack: Value = get_json(&app, &agent, "/api/v1/templates/case_acknowledgement").await?.1;
    let ack_id = ack[0]["template_id"].as_i64().ok_or("no case_acknowledgement")?;
    let (status, problem) = post_json(&app, &agent, &format!("/api/v1/templates/{ack_id}/preview"), &subject).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["code"], "merge_value_missing", "no case chosen, so no case number: {problem}");
    app.stop().await;
    Ok(())
}

fn is_pdf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"%PDF")
}

#[tokio::test]
async fn letters_become_pdfs_and_one_print_batch_takes_them_once() -> TestResult {
    let app = spawn_app().await;
    let admin = app.user_with_token("ada", Role::Admin).await?;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let (customer_id, account_id) = customer(&app, &agent).await?;
    let first = letter(&app, &agent, customer_id, account_id).await?;
    letter(&app, &agent, customer_id, account_id).await?;

    let one = app.api.get(app.url(&format!("/api/v1/letters/{first}/pdf"))).bearer_auth(&agent).send().await?;
    assert_eq!(one.status(), StatusCode::OK);
    assert_eq!(one.headers()["content-type"], "application/pdf");
    assert!(is_pdf(&one.bytes().await?));
    let (_, queued) = get_json(&app, &agent, "/api/v1/letters?status=queued").await?;
    assert_eq!(queued.as_array().map(Vec::len), Some(2), "{queued}");

    let batch = |token: &str, query: &str| {
        app.api.post(app.url(&format!("/api/v1/letters/print-batch{query}"))).bearer_auth(token.to_string()).send()
    };
    assert_eq!(batch(&agent, "").await?.status(), StatusCode::FORBIDDEN, "printing is for a manager");
    let early = batch(&admin, "?date=2001-01-01").await?;
    assert_eq!(early.status(), StatusCode::CONFLICT, "no letter was queued by then");
    let bad: Value = batch(&admin, "?date=yesterday").await?.json().await?;
    assert_eq!(bad["errors"][0]["field"], "date", "{bad}");

    let printed = batch(&admin, "").await?;
    assert_eq!(printed.status(), StatusCode::OK);
    assert_eq!(printed.headers()["x-letter-count"], "2");
    assert!(is_pdf(&printed.bytes().await?));
    let again: Value = batch(&admin, "").await?.json().await?;
    assert_eq!(again["code"], "print_queue_empty", "a letter is in one batch only: {again}");
    let (_, queued) = get_json(&app, &agent, "/api/v1/letters?status=queued").await?;
    assert_eq!(queued.as_array().map(Vec::len), Some(0));
    let (_, printed_letters) = get_json(&app, &agent, "/api/v1/letters?status=printed").await?;
    assert_eq!(printed_letters.as_array().map(Vec::len), Some(2));

    let (status, batches) = get_json(&app, &admin, "/api/v1/letters/print-batches").await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(batches[0]["letter_count"], 2, "{batches}");
    let batch_id = batches[0]["print_batch_id"].as_i64().ok_or("no batch id")?;
    let path = format!("/api/v1/letters/print-batches/{batch_id}/pdf");
    let (status, _) = get_json(&app, &agent, &path).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let past = app.api.get(app.url(&path)).bearer_auth(&admin).send().await?;
    assert_eq!(past.status(), StatusCode::OK);
    assert!(is_pdf(&past.bytes().await?));
    let (status, _) = get_json(&app, &admin, "/api/v1/letters/print-batches/999999/pdf").await?;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, timeline) = get_json(&app, &agent, &format!("/api/v1/customers/{customer_id}/contacts")).await?;
    let letters_logged = timeline["items"].as_array().ok_or("no timeline")?.iter().filter(|c| c["channel"] == "letter");
    assert_eq!(letters_logged.count(), 2, "every letter is logged as a contact");
    app.stop().await;
    Ok(())
}

/// Marks an email as having failed every try, as the drain does after the last refusal.
async fn fail_email(app: &TestApp, email_id: i64, error: &str) -> Result<(), Error> {
    let mut tx = app.db.begin().await?;
    db::execute!(
        &mut tx,
        "update outbound_email set status = 'failed', attempts = max_attempts, last_error = $1 where email_id = $2",
        error,
        email_id
    )?;
    tx.commit().await?;
    Ok(())
}

async fn queue_email(app: &TestApp, token: &str, customer_id: i64) -> Result<i64, Error> {
    let body = json!({
        "to": ["maria.lopez@example.org"], "subject": "Your meter read",
        "text_body": "Dear Maria,\n\nWe read your meter today.", "customer_id": customer_id
    });
    let (status, queued) = post_json(app, token, "/api/v1/emails", &body).await?;
    assert_eq!(status, StatusCode::CREATED, "{queued}");
    queued["email_id"].as_i64().ok_or_else(|| format!("no email id in {queued}").into())
}

#[tokio::test]
async fn the_email_queue_is_listed_by_state_and_a_failed_email_retried() -> TestResult {
    let app = spawn_app().await;
    let admin = app.user_with_token("ada", Role::Admin).await?;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let (customer_id, _) = customer(&app, &agent).await?;
    let email_id = queue_email(&app, &agent, customer_id).await?;

    let (status, queued) = get_json(&app, &agent, "/api/v1/emails?status=queued").await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(queued[0]["email_id"], email_id, "{queued}");
    let (status, problem) = get_json(&app, &agent, "/api/v1/emails?status=lost").await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "status");
    let retry = format!("/api/v1/emails/{email_id}/retry");
    let (status, problem) = post_json(&app, &admin, &retry, &json!({})).await?;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("email_not_retryable")));

    fail_email(&app, email_id, "550 5.1.1 mailbox unavailable").await?;
    let (_, failed) = get_json(&app, &agent, "/api/v1/emails?status=failed").await?;
    assert_eq!(failed[0]["last_error"], "550 5.1.1 mailbox unavailable", "{failed}");
    let (status, _) = post_json(&app, &agent, &retry, &json!({})).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "an agent does not retry");
    let (status, retried) = post_json(&app, &admin, &retry, &json!({})).await?;
    assert_eq!(status, StatusCode::OK, "{retried}");
    assert_eq!(retried["status"], "queued");
    let (_, failed) = get_json(&app, &agent, "/api/v1/emails?status=failed").await?;
    assert_eq!(failed.as_array().map(Vec::len), Some(0));
    app.stop().await;
    Ok(())
}

/// A signed-in browser tab for a new user with `role`, and its CSRF token.
async fn browser_as(app: &TestApp, username: &str, role: Role) -> Result<(reqwest::Client, String), Error> {
    app.add_user(username, role).await?;
    let browser = app.browser();
    let csrf = app.sign_in(&browser, username).await?;
    Ok((browser, csrf))
}

#[tokio::test]
async fn the_correspondence_pages_are_for_leads_and_admins() -> TestResult {
    let app = spawn_app().await;
    let (lead, _) = browser_as(&app, "lee", Role::Lead).await?;
    let (agent, _) = browser_as(&app, "ana", Role::Agent1).await?;
    for path in ["/admin/templates", "/admin/templates/welcome_letter?language=es", "/letters", "/outbox"] {
        let page = lead.get(app.url(path)).send().await?;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        let html = page.text().await?;
        assert!(html.contains("href=\"/letters\"") && html.contains("href=\"/admin/templates\""), "nav on {path}");
        assert_eq!(agent.get(app.url(path)).send().await?.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let home = agent.get(app.url("/")).send().await?.text().await?;
    assert!(!home.contains("href=\"/outbox\""), "an agent's navigation has no outbox");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_lead_edits_previews_and_prints_from_the_pages() -> TestResult {
    let app = spawn_app().await;
    let (lead, csrf) = browser_as(&app, "lee", Role::Lead).await?;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let (customer_id, account_id) = customer(&app, &agent).await?;

    let form = |body: &str| {
        vec![
            ("_csrf", csrf.clone()),
            ("template_key", "welcome_letter".to_string()),
            ("language", "en".to_string()),
            ("kind", "letter".to_string()),
            ("name", "Welcome letter".to_string()),
            ("subject", "Welcome, {{customer.name}}".to_string()),
            ("body", body.to_string()),
        ]
    };
    let no_csrf = lead.post(app.url("/admin/templates")).form(&form("x")[1..]).send().await?;
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN, "a form without its CSRF token is refused");
    let typo = lead.post(app.url("/admin/templates")).form(&form("Dear {{customer.nmae}},")).send().await?;
    assert_eq!(typo.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = typo.text().await?;
    let beside_body = html.split("id=\"tpl-body-error\"").nth(1).ok_or("no error beside the body")?;
    assert!(beside_body.get(..120).unwrap_or(beside_body).contains("customer.nmae"), "{html}");
    assert!(html.contains("Dear {{customer.nmae}},"), "the typed text is kept");

    let saved =
        lead.post(app.url("/admin/templates")).form(&form("Dear {{customer.name}},\n\nNew text.")).send().await?;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(saved.headers()["location"], "/admin/templates/welcome_letter?language=en");
    let page = lead.get(app.url("/admin/templates/welcome_letter?language=en")).send().await?.text().await?;
    assert!(page.contains("New text.") && page.contains("<td class=\"num\">2</td>"), "version 2 in the history");
    assert!(page.contains("<code>{{customer.name}}</code>"), "the merge fields are listed beside the form");

    let preview_path = format!("/admin/templates/welcome_letter?language=en&customer_id={customer_id}");
    let preview = lead.get(app.url(&preview_path)).send().await?.text().await?;
    assert!(preview.contains("<span id=\"preview-subject\">Welcome, Maria Lopez</span>"), "{preview}");
    let (_, found) = get_json(&app, &agent, &format!("/api/v1/customers/{customer_id}")).await?;
    let number = found["customer"]["customer_number"].as_str().ok_or_else(|| format!("no number: {found}"))?;
    let by_number = format!("/admin/templates/welcome_letter?language=es&customer_id={number}");
    let preview = lead.get(app.url(&by_number)).send().await?.text().await?;
    assert!(preview.contains("id=\"preview-body\"") && preview.contains("Maria Lopez"), "by number: {preview}");
    let unknown = lead.get(app.url("/admin/templates/welcome_letter?customer_id=C-NOPE")).send().await?.text().await?;
    assert!(unknown.contains("no such customer"), "an unknown number is named");
    let missing = lead.get(app.url(&format!("{preview_path}&case_id=999999"))).send().await?.text().await?;
    assert!(missing.contains("no such case"), "a refused preview says why");

    letter(&app, &agent, customer_id, account_id).await?;
    let queue = lead.get(app.url("/letters")).send().await?.text().await?;
    assert!(queue.contains("Waiting to be printed (1)"), "{queue}");
    let printed =
        lead.post(app.url("/letters/print-batch")).form(&[("_csrf", csrf.as_str()), ("date", "")]).send().await?;
    assert_eq!(printed.status(), StatusCode::SEE_OTHER);
    let location = printed.headers()["location"].to_str()?.to_string();
    let after = lead.get(app.url(&location)).send().await?.text().await?;
    assert!(after.contains("Waiting to be printed (0)") && after.contains("id=\"batch-download\""), "{after}");
    let batch_id = location.trim_start_matches("/letters?batch=");
    let pdf = lead.get(app.url(&format!("/letters/batches/{batch_id}/pdf"))).send().await?;
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(is_pdf(&pdf.bytes().await?));
    let empty =
        lead.post(app.url("/letters/print-batch")).form(&[("_csrf", csrf.as_str()), ("date", "")]).send().await?;
    assert_eq!(empty.status(), StatusCode::CONFLICT);
    assert!(empty.text().await?.contains("no letters are waiting to be printed"));

    let email_id = queue_email(&app, &agent, customer_id).await?;
    fail_email(&app, email_id, "550 5.1.1 mailbox unavailable").await?;
    let outbox = lead.get(app.url("/outbox?status=failed")).send().await?.text().await?;
    assert!(outbox.contains("550 5.1.1 mailbox unavailable"), "{outbox}");
    assert!(outbox.contains(&format!("action=\"/outbox/{email_id}/retry\"")), "a failed email has a retry button");
    let retry = format!("/outbox/{email_id}/retry");
    let retried = lead.post(app.url(&retry)).form(&[("_csrf", csrf.as_str()), ("status", "failed")]).send().await?;
    assert_eq!(retried.status(), StatusCode::SEE_OTHER);
    let queued = lead.get(app.url("/outbox?status=queued")).send().await?.text().await?;
    assert!(queued.contains(&format!("id=\"email-{email_id}\"")) && !queued.contains(&retry), "{queued}");
    app.stop().await;
    Ok(())
}

fn caredesk(app: &TestApp, args: &[&str]) -> Result<Output, std::io::Error> {
    Command::new(env!("CARGO_BIN_EXE_caredesk"))
        .args(app.storage_args())
        .args(args)
        .env_remove("CAREDESK_STORAGE__DATABASE_URL")
        .stdin(Stdio::null())
        .output()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[tokio::test]
async fn the_print_batch_is_written_from_the_command_line() -> TestResult {
    let app = spawn_app().await;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let (customer_id, account_id) = customer(&app, &agent).await?;
    letter(&app, &agent, customer_id, account_id).await?;
    std::fs::create_dir_all(&app.scratch.data_dir)?;
    let out = app.scratch.data_dir.join("batch.pdf");
    let out_arg = out.display().to_string();

    let bad = caredesk(&app, &["letters", "print-batch", "--date", "31/12/2026", "--out", &out_arg])?;
    assert!(!bad.status.success() && text(&bad).contains("--date must be a date YYYY-MM-DD"), "{}", text(&bad));
    let early = caredesk(&app, &["letters", "print-batch", "--date", "2001-01-01", "--out", &out_arg])?;
    assert!(early.status.success() && text(&early).contains("no letters are waiting"), "{}", text(&early));
    assert!(!out.exists(), "no file for an empty batch");

    let printed = caredesk(&app, &["letters", "print-batch", "--out", &out_arg])?;
    assert!(printed.status.success(), "{}", text(&printed));
    assert!(text(&printed).contains(": 1 letters,"), "{}", text(&printed));
    let pdf = std::fs::read(&out)?;
    assert!(is_pdf(&pdf));
    match Command::new("pdftotext").arg(&out).arg("-").output() {
        Ok(read) => {
            assert!(read.status.success(), "pdftotext could not read the batch");
            let words = String::from_utf8_lossy(&read.stdout);
            assert!(words.contains("Maria Lopez") && words.contains("12 Elm St"), "{words}");
        }
        Err(_) => eprintln!("pdftotext is not installed: the batch's text is not read back"),
    }
    let (_, queued) = get_json(&app, &agent, "/api/v1/letters?status=queued").await?;
    assert_eq!(queued.as_array().map(Vec::len), Some(0), "the letters are printed");
    let again = caredesk(&app, &["letters", "print-batch", "--out", &out_arg])?;
    assert!(text(&again).contains("no letters are waiting"), "{}", text(&again));
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn queued_emails_take_only_allowed_extra_headers() -> TestResult {
    let app = spawn_app().await;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let body = |headers: Value| {
        let mut email = json!({"to": ["ana@example.org"], "subject": "Statement ready", "text_body": "Hello"});
        email["headers"] = headers;
        email
    };
    let automatic =
        body(json!([{"name": "auto-submitted", "value": "Auto-Generated"}, {"name": "Precedence", "value": "bulk"}]));
    let (status, queued) = post_json(&app, &agent, "/api/v1/emails", &automatic).await?;
    assert_eq!(status, StatusCode::CREATED, "{queued}");
    let email: Value = app
        .api
        .get(app.url(&format!("/api/v1/emails/{}", queued["email_id"])))
        .bearer_auth(&agent)
        .send()
        .await?
        .json()
        .await?;
    let stored: Value = serde_json::from_str(email["extra_headers"].as_str().ok_or("no headers")?)?;
    let expected =
        json!([{"name": "Auto-Submitted", "value": "auto-generated"}, {"name": "Precedence", "value": "bulk"}]);
    assert_eq!(stored, expected, "names and values in their standard spelling");
    for refused in [
        json!([{"name": "Bcc", "value": "spy@example.org"}]),
        json!([{"name": "Auto-Submitted", "value": "auto-replied\r\nBcc: spy@example.org"}]),
        json!([{"name": "Precedence", "value": "bulk"}, {"name": "precedence", "value": "list"}]),
    ] {
        let (status, problem) = post_json(&app, &agent, "/api/v1/emails", &body(refused.clone())).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}: {problem}");
        assert_eq!(problem["code"], "header_refused", "{problem}");
        assert_eq!(problem["errors"][0]["field"], "headers", "{problem}");
    }
    Ok(())
}
