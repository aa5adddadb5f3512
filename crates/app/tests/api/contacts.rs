//! Contacts over HTTP: logging through the API (with Idempotency-Key), the timeline, bad input
//! that names its field and writes nothing, codes, and the panel and timeline fragments htmx loads
//! onto the customer page.

use kernel::{Clock, Role};
use reqwest::StatusCode;
use testkit::{TestApp, TestResult, spawn_app};

async fn new_customer(app: &TestApp, token: &str) -> Result<i64, Box<dyn std::error::Error + Send + Sync>> {
    let body = serde_json::json!({"kind": "person", "first_name": "Maria", "last_name": "Lopez"});
    let response = app.api.post(app.url("/api/v1/customers")).bearer_auth(token).json(&body).send().await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: serde_json::Value = response.json().await?;
    created["customer"]["customer_id"].as_i64().ok_or_else(|| format!("no customer id in {created}").into())
}

fn call(customer_id: i64) -> serde_json::Value {
    serde_json::json!({
        "customer_id": customer_id,
        "channel": "phone",
        "direction": "inbound",
        "reason_code": "billing_question",
        "sub_reason_code": "high_bill",
        "disposition_code": "information_given",
        "summary": "Explained the estimated read.",
    })
}

async fn counts(app: &TestApp) -> Result<(i64, i64), db::Error> {
    let mut tx = app.db.read().await?;
    let contacts = db::scalar!(&mut tx, i64, "select count(*) from contact")?;
    let audit = db::scalar!(&mut tx, i64, "select count(*) from audit")?;
    Ok((contacts, audit))
}

#[tokio::test]
async fn contacts_are_logged_and_read_back_newest_first() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("ana", Role::Agent1).await?;
    let customer_id = new_customer(&app, &token).await?;
    let now = app.clock.now();
    let mut body = call(customer_id);
    body["started_at"] = now.minus_seconds(200).to_rfc3339().into();
    body["ended_at"] = now.minus_seconds(20).to_rfc3339().into();
    let (contacts_before, audit_before) = counts(&app).await?;
    let response = app.api.post(app.url("/api/v1/contacts")).bearer_auth(&token).json(&body).send().await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let logged: serde_json::Value = response.json().await?;
    assert_eq!(logged["duration_seconds"], 180);
    assert_eq!(logged["agent_name"], "Test ana");
    assert_eq!(logged["sub_reason_label"], "High bill");
    assert_eq!(counts(&app).await?, (contacts_before + 1, audit_before + 1), "one contact, one audit record");

    let id = logged["contact_id"].as_i64().ok_or("no id")?;
    let read: serde_json::Value =
        app.api.get(app.url(&format!("/api/v1/contacts/{id}"))).bearer_auth(&token).send().await?.json().await?;
    assert_eq!(read["summary"], "Explained the estimated read.");
    assert_eq!(read["disposition_label"], "Information given");

    for _ in 0..3 {
        let r = app.api.post(app.url("/api/v1/contacts")).bearer_auth(&token).json(&call(customer_id)).send().await?;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let timeline = format!("/api/v1/customers/{customer_id}/contacts");
    let first: serde_json::Value =
        app.api.get(app.url(&format!("{timeline}?limit=3"))).bearer_auth(&token).send().await?.json().await?;
    let items = first["items"].as_array().ok_or("no items")?;
    assert_eq!(items.len(), 3);
    assert!(items[0]["contact_id"].as_i64() > items[1]["contact_id"].as_i64(), "newest first");
    let cursor = first["next_cursor"].as_str().ok_or("no cursor")?;
    let second: serde_json::Value = app
        .api
        .get(app.url(&format!("{timeline}?limit=3&cursor={cursor}")))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(second["items"][0]["contact_id"], id, "the oldest is last");
    assert!(second["next_cursor"].is_null());

    let missing = app.api.get(app.url("/api/v1/customers/999999/contacts")).bearer_auth(&token).send().await?;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn every_bad_field_is_named_and_nothing_is_written() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("bob", Role::Agent1).await?;
    let customer_id = new_customer(&app, &token).await?;
    let now = app.clock.now();
    let cases = [
        ("channel", serde_json::json!("fax"), "channel_unknown"),
        ("reason_code", serde_json::json!(""), "reason_missing"),
        ("direction", serde_json::json!("sideways"), "direction_unknown"),
        ("reason_code", serde_json::json!("no_such_reason"), "reason_unknown"),
        ("sub_reason_code", serde_json::json!("payment_taken"), "sub_reason_unknown"),
        ("disposition_code", serde_json::json!("no_such_disposition"), "disposition_unknown"),
        ("summary", serde_json::json!("x".repeat(4_001)), "summary_too_long"),
        ("customer_id", serde_json::json!(999_999), "customer_unknown"),
        ("account_id", serde_json::json!(999_999), "account_unknown"),
        ("started_at", serde_json::json!("yesterday"), "time_invalid"),
        ("ended_at", serde_json::json!(now.minus_seconds(600).to_rfc3339()), "ended_before_started"),
    ];
    let before = counts(&app).await?;
    for (field, value, code) in cases {
        let mut body = call(customer_id);
        body[field] = value;
        if field == "ended_at" {
            body["started_at"] = now.minus_seconds(60).to_rfc3339().into();
        }
        let response = app.api.post(app.url("/api/v1/contacts")).bearer_auth(&token).json(&body).send().await?;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let problem: serde_json::Value = response.json().await?;
        assert_eq!(problem["code"], code, "{problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    assert_eq!(counts(&app).await?, before, "no contact and no audit record for refused input");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_retried_contact_with_the_same_key_is_logged_once() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("cyd", Role::Agent2).await?;
    let customer_id = new_customer(&app, &token).await?;
    let before = counts(&app).await?.0;
    let send = || {
        app.api
            .post(app.url("/api/v1/contacts"))
            .bearer_auth(&token)
            .header("idempotency-key", "call-77")
            .json(&call(customer_id))
            .send()
    };
    let first: serde_json::Value = send().await?.json().await?;
    let again = send().await?;
    assert_eq!(again.status(), StatusCode::CREATED);
    let again: serde_json::Value = again.json().await?;
    assert_eq!(first["contact_id"], again["contact_id"]);
    assert_eq!(counts(&app).await?.0, before + 1);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn leads_define_codes_and_agents_may_not() -> TestResult {
    let app = spawn_app().await;
    let lead = app.user_with_token("lee", Role::Lead).await?;
    let agent = app.user_with_token("dee", Role::Agent1).await?;
    let reason = serde_json::json!({"code": "meter_access", "label": "Meter access", "parent_code": "outage"});
    let refused = app.api.post(app.url("/api/v1/reason-codes")).bearer_auth(&agent).json(&reason).send().await?;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let added = app.api.post(app.url("/api/v1/reason-codes")).bearer_auth(&lead).json(&reason).send().await?;
    assert_eq!(added.status(), StatusCode::CREATED);
    let twice = app.api.post(app.url("/api/v1/reason-codes")).bearer_auth(&lead).json(&reason).send().await?;
    assert_eq!(twice.status(), StatusCode::CONFLICT);
    let orphan = serde_json::json!({"code": "orphan", "label": "Orphan", "parent_code": "nope"});
    let orphan = app.api.post(app.url("/api/v1/reason-codes")).bearer_auth(&lead).json(&orphan).send().await?;
    let problem: serde_json::Value = orphan.json().await?;
    assert_eq!(problem["errors"][0]["field"], "parent_code");
    let disposition = serde_json::json!({"code": "voicemail", "label": "Reached voicemail"});
    let added = app.api.post(app.url("/api/v1/dispositions")).bearer_auth(&lead).json(&disposition).send().await?;
    assert_eq!(added.status(), StatusCode::CREATED);

    let reasons: serde_json::Value =
        app.api.get(app.url("/api/v1/reason-codes")).bearer_auth(&agent).send().await?.json().await?;
    assert!(reasons.as_array().ok_or("a list")?.iter().any(|r| r["code"] == "meter_access"));
    let dispositions: serde_json::Value =
        app.api.get(app.url("/api/v1/dispositions")).bearer_auth(&agent).send().await?.json().await?;
    assert!(dispositions.as_array().ok_or("a list")?.iter().any(|d| d["code"] == "voicemail"));
    let spec: serde_json::Value = app.api.get(app.url("/api/v1/openapi.json")).send().await?.json().await?;
    assert!(spec["paths"]["/api/v1/contacts"]["post"].is_object(), "the contacts API is documented");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_panel_logs_a_call_and_returns_the_refreshed_timeline() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("eli", Role::Agent1).await?;
    let customer_id = new_customer(&app, &token).await?;
    let browser = app.browser();
    let csrf = app.sign_in(&browser, "eli").await?;

    let panel = browser
        .get(app.url(&format!("/customers/{customer_id}/contact-panel")))
        .header("hx-request", "true")
        .send()
        .await?;
    assert_eq!(panel.status(), StatusCode::OK);
    let panel = panel.text().await?;
    for needle in ["id=\"contact-panel\"", "id=\"contact-form\"", "/assets/contact-timer.js", "data-contact-timer"] {
        assert!(panel.contains(needle), "panel lacks {needle}");
    }
    assert!(!panel.contains("<html"), "a fragment, not a page");
    assert!(panel.contains("value=\"billing_question:high_bill\""), "sub-reasons are offered");
    let script = app.api.get(app.url("/assets/contact-timer.js")).send().await?;
    assert_eq!(script.status(), StatusCode::OK);

    let started_at = app.clock.now().minus_seconds(95).to_rfc3339();
    let form = [
        ("_csrf", csrf.as_str()),
        ("channel", "phone"),
        ("direction", "inbound"),
        ("reason", "outage:report_outage"),
        ("disposition_code", "resolved"),
        ("summary", "Street light out on Elm"),
        ("started_at", started_at.as_str()),
    ];
    let posted = browser
        .post(app.url(&format!("/customers/{customer_id}/contacts")))
        .header("hx-request", "true")
        .form(&form)
        .send()
        .await?;
    assert_eq!(posted.status(), StatusCode::OK);
    let html = posted.text().await?;
    assert!(html.contains("id=\"contact-timeline\""));
    assert!(html.contains("Street light out on Elm") && html.contains("Report an outage"));
    assert!(html.contains("1:35"), "the duration is shown");
    assert!(html.contains("hx-swap-oob=\"true\""), "a fresh panel replaces the old one");

    let (contacts, _) = counts(&app).await?;
    let mut bad = form;
    bad[3] = ("reason", "");
    let refused = browser
        .post(app.url(&format!("/customers/{customer_id}/contacts")))
        .header("hx-request", "true")
        .form(&bad)
        .send()
        .await?;
    assert_eq!(refused.headers()["hx-retarget"], "#contact-panel");
    let html = refused.text().await?;
    assert!(html.contains("id=\"contact-error\"") && html.contains("choose a reason"), "{html}");
    assert_eq!(counts(&app).await?.0, contacts, "nothing written");

    let plain = browser.post(app.url(&format!("/customers/{customer_id}/contacts"))).form(&form).send().await?;
    assert_eq!(plain.status(), StatusCode::SEE_OTHER, "without htmx, back to the customer");
    assert_eq!(plain.headers()["location"], format!("/customers/{customer_id}"));

    let fragment = browser
        .get(app.url(&format!("/customers/{customer_id}/timeline")))
        .header("hx-request", "true")
        .send()
        .await?
        .text()
        .await?;
    assert!(fragment.starts_with("<section id=\"contact-timeline\""));
    let page = browser.get(app.url(&format!("/customers/{customer_id}/timeline"))).send().await?.text().await?;
    assert!(page.contains("<html") && page.contains("Contacts with") && page.contains("id=\"contact-panel\""));
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_admin_page_adds_and_deactivates_codes() -> TestResult {
    let app = spawn_app().await;
    app.add_user("sue", Role::Supervisor).await?;
    let browser = app.browser();
    let csrf = app.sign_in(&browser, "sue").await?;
    let page = browser.get(app.url("/admin/reason-codes")).send().await?;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await?.contains("billing_question"));
    let add = [("_csrf", csrf.as_str()), ("action", "add_reason"), ("code", "rate_change"), ("label", "Rate change")];
    let added = browser.post(app.url("/admin/reason-codes")).form(&add).send().await?;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let off = [("_csrf", csrf.as_str()), ("action", "deactivate_reason"), ("code", "rate_change")];
    let done = browser.post(app.url("/admin/reason-codes")).form(&off).send().await?;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let bad = [("_csrf", csrf.as_str()), ("action", "add_reason"), ("code", "Bad Code"), ("label", "x")];
    let refused = browser.post(app.url("/admin/reason-codes")).form(&bad).send().await?;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let mut tx = app.db.read().await?;
    let active = db::scalar!(&mut tx, bool, "select active from reason_code where code = 'rate_change'")?;
    assert!(!active);
    drop(tx);
    app.stop().await;
    Ok(())
}
