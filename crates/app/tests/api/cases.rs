//! Cases over the API and the screens: open, take next, escalate, reply, pause and resume the
//! clock, resolve, callbacks, attachments, queues, bad input and permissions.

use kernel::{Clock, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{TestResult, spawn_app};

async fn customer(app: &testkit::TestApp, token: &str) -> Result<i64, Box<dyn std::error::Error + Send + Sync>> {
    let body =
        json!({"kind": "person", "first_name": "Rosa", "last_name": "Diaz", "phones": [{"number": "555 867 5309"}]});
    let view: Value =
        app.api.post(app.url("/api/v1/customers")).bearer_auth(token).json(&body).send().await?.json().await?;
    view["customer"]["customer_id"].as_i64().ok_or_else(|| "no customer".into())
}

#[tokio::test]
async fn a_case_is_opened_taken_escalated_and_resolved() -> TestResult {
    let app = spawn_app().await;
    let agent = app.user_with_token("tier-one", Role::Agent1).await?;
    let tier2 = app.user_with_token("tier-two", Role::Agent2).await?;
    let customer_id = customer(&app, &agent).await?;
    let body = json!({
        "customer_id": customer_id, "subject": "Bill doubled this month", "category": "billing", "priority": "high"
    });
    let created = app
        .api
        .post(app.url("/api/v1/cases"))
        .bearer_auth(&agent)
        .header("idempotency-key", "c1")
        .json(&body)
        .send()
        .await?;
    assert_eq!(created.status(), StatusCode::CREATED);
    let case: Value = created.json().await?;
    let id = case["case_id"].as_i64().ok_or("id")?;
    assert_eq!(case["case_number"], format!("CASE-{id:06}"));
    assert_eq!(case["status"], "new");
    let queue_id = case["queue_id"].as_i64().ok_or("queue")?;

    let taken: Value = app
        .api
        .post(app.url(&format!("/api/v1/queues/{queue_id}/take-next")))
        .bearer_auth(&agent)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(taken["case_id"], id);
    assert_eq!(taken["status"], "open");
    let empty =
        app.api.post(app.url(&format!("/api/v1/queues/{queue_id}/take-next"))).bearer_auth(&agent).send().await?;
    assert_eq!(empty.status(), StatusCode::NO_CONTENT);
    let work: Value = app.api.get(app.url("/api/v1/me/worklist")).bearer_auth(&agent).send().await?.json().await?;
    assert_eq!(work["my_cases"][0]["case_id"], id);

    let escalated: Value = app
        .api
        .post(app.url(&format!("/api/v1/cases/{id}/escalate")))
        .bearer_auth(&agent)
        .json(&json!({"reason": "Needs a rate review"}))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(escalated["tier"], 2);
    assert!(escalated["assignee_id"].is_null());
    let reply = app
        .api
        .post(app.url(&format!("/api/v1/cases/{id}/replies")))
        .bearer_auth(&tier2)
        .json(&json!({"body": "Please send last month's meter photo", "await_customer": true}))
        .send()
        .await?;
    assert_eq!(reply.status(), StatusCode::CREATED);
    let paused: Value =
        app.api.get(app.url(&format!("/api/v1/cases/{id}"))).bearer_auth(&tier2).send().await?.json().await?;
    assert_eq!(paused["case"]["status"], "pending_customer");
    assert_eq!(paused["sla_clock_paused"], true);
    let inbound = app
        .api
        .post(app.url(&format!("/api/v1/cases/{id}/replies")))
        .bearer_auth(&tier2)
        .json(&json!({"body": "Photo attached", "direction": "inbound"}))
        .send()
        .await?;
    assert_eq!(inbound.status(), StatusCode::CREATED);
    let resumed: Value =
        app.api.get(app.url(&format!("/api/v1/cases/{id}"))).bearer_auth(&tier2).send().await?.json().await?;
    assert_eq!(resumed["case"]["status"], "open");
    assert_eq!(resumed["sla_clock_paused"], false);

    let pdf = b"%PDF-1.4 meter photo".to_vec();
    let attached = app
        .api
        .post(app.url(&format!("/api/v1/cases/{id}/attachments?file_name=../meter.pdf")))
        .bearer_auth(&tier2)
        .body(pdf.clone())
        .send()
        .await?;
    assert_eq!(attached.status(), StatusCode::CREATED);
    let attachment: Value = attached.json().await?;
    assert_eq!(attachment["file_name"], "meter.pdf");
    let download = app
        .api
        .get(app.url(&format!("/api/v1/cases/{id}/attachments/{}", attachment["attachment_id"])))
        .bearer_auth(&agent)
        .send()
        .await?;
    assert!(download.headers()["content-disposition"].to_str()?.starts_with("attachment"));
    assert_eq!(download.bytes().await?.to_vec(), pdf);
    let exe = app
        .api
        .post(app.url(&format!("/api/v1/cases/{id}/attachments?file_name=run.pdf")))
        .bearer_auth(&tier2)
        .body(vec![0x4d_u8, 0x5a, 0x90, 0x00])
        .send()
        .await?;
    assert_eq!(exe.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let no_code = app
        .api
        .post(app.url(&format!("/api/v1/cases/{id}/resolve")))
        .bearer_auth(&tier2)
        .json(&json!({"resolution_code": ""}))
        .send()
        .await?;
    assert_eq!(no_code.json::<Value>().await?["errors"][0]["field"], "resolution_code");
    let resolved: Value = app
        .api
        .post(app.url(&format!("/api/v1/cases/{id}/resolve")))
        .bearer_auth(&tier2)
        .json(&json!({"resolution_code": "credit_issued"}))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(resolved["status"], "resolved");
    let closed: Value =
        app.api.post(app.url(&format!("/api/v1/cases/{id}/close"))).bearer_auth(&tier2).send().await?.json().await?;
    assert_eq!(closed["status"], "closed");
    let after = app
        .api
        .post(app.url(&format!("/api/v1/cases/{id}/notes")))
        .bearer_auth(&tier2)
        .json(&json!({"body": "late"}))
        .send()
        .await?;
    assert_eq!(after.status(), StatusCode::CONFLICT);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn bad_case_input_names_the_field_and_writes_nothing() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("vera", Role::Agent1).await?;
    let cases: Vec<(&str, Value)> = vec![
        ("subject", json!({"subject": " ", "category": "billing"})),
        ("category", json!({"subject": "X", "category": "weather"})),
        ("priority", json!({"subject": "X", "category": "billing", "priority": "asap"})),
    ];
    for (field, body) in cases {
        let response = app.api.post(app.url("/api/v1/cases")).bearer_auth(&token).json(&body).send().await?;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(response.json::<Value>().await?["errors"][0]["field"], field);
    }
    let unknown_customer = app
        .api
        .post(app.url("/api/v1/cases"))
        .bearer_auth(&token)
        .json(&json!({"subject": "X", "category": "billing", "customer_id": 999}))
        .send()
        .await?;
    assert_eq!(unknown_customer.status(), StatusCode::NOT_FOUND);
    let mut tx = app.db.read().await?;
    assert_eq!(db::scalar!(&mut tx, i64, "select count(*) from support_case")?, 0);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn callbacks_show_in_the_worklist_when_due() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("walt", Role::Agent1).await?;
    let case: Value = app
        .api
        .post(app.url("/api/v1/cases"))
        .bearer_auth(&token)
        .json(&json!({"subject": "Call me back", "category": "service"}))
        .send()
        .await?
        .json()
        .await?;
    let id = case["case_id"].as_i64().ok_or("id")?;
    let past = app
        .api
        .post(app.url(&format!("/api/v1/cases/{id}/callbacks")))
        .bearer_auth(&token)
        .json(&json!({"due_at": "2001-01-01T00:00:00Z", "note": "x"}))
        .send()
        .await?;
    assert_eq!(past.json::<Value>().await?["errors"][0]["field"], "due_at");
    let due = app.clock.now().plus_seconds(3_600).to_rfc3339();
    let callback: Value = app
        .api
        .post(app.url(&format!("/api/v1/cases/{id}/callbacks")))
        .bearer_auth(&token)
        .json(&json!({"due_at": due, "note": "Confirm the refund"}))
        .send()
        .await?
        .json()
        .await?;
    let work: Value = app.api.get(app.url("/api/v1/me/worklist")).bearer_auth(&token).send().await?.json().await?;
    assert_eq!(work["callbacks_due"].as_array().map(Vec::len), Some(0), "not due yet");
    app.clock.advance_seconds(3_601);
    let work: Value = app.api.get(app.url("/api/v1/me/worklist")).bearer_auth(&token).send().await?.json().await?;
    assert_eq!(work["callbacks_due"][0]["callback_id"], callback["callback_id"]);
    let done = app
        .api
        .post(app.url(&format!("/api/v1/callbacks/{}/done", callback["callback_id"])))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_case_screens_work_for_an_agent_and_a_lead() -> TestResult {
    let app = spawn_app().await;
    app.add_user("xena", Role::Agent1).await?;
    app.add_user("yuri", Role::Lead).await?;
    let agent = app.browser();
    let csrf = app.sign_in(&agent, "xena").await?;
    let bad = agent
        .post(app.url("/cases"))
        .form(&[("_csrf", csrf.as_str()), ("subject", ""), ("category", "billing"), ("priority", "normal")])
        .send()
        .await?;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await?.contains("subject: must be 1 to 200 characters"));
    let good = agent
        .post(app.url("/cases"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("subject", "Streetlight out on Elm"),
            ("category", "outage"),
            ("priority", "high"),
            ("assign_to_me", "true"),
        ])
        .send()
        .await?;
    assert_eq!(good.status(), StatusCode::SEE_OTHER);
    let location = good.headers()["location"].to_str()?.to_string();
    let note = agent
        .post(app.url(&format!("{location}/thread")))
        .form(&[("_csrf", csrf.as_str()), ("body", "Crew notified"), ("action", "note")])
        .send()
        .await?;
    assert_eq!(note.status(), StatusCode::SEE_OTHER);
    let page = agent.get(app.url(&location)).send().await?.text().await?;
    assert!(page.contains("Streetlight out on Elm") && page.contains("Crew notified"));
    let work = agent.get(app.url("/cases")).send().await?.text().await?;
    assert!(work.contains("Streetlight out on Elm"), "in my worklist");
    assert_eq!(
        agent.get(app.url("/queues")).send().await?.status(),
        StatusCode::FORBIDDEN,
        "agents do not see the lead overview"
    );

    let lead = app.browser();
    let lead_csrf = app.sign_in(&lead, "yuri").await?;
    let overview = lead.get(app.url("/queues")).send().await?.text().await?;
    assert!(overview.contains("General") && overview.contains("Tier 2"));
    let case_id = location.rsplit('/').next().ok_or("id")?.to_string();
    let reassign = lead
        .post(app.url("/queues/1/reassign"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("_csrf={lead_csrf}&case_ids={case_id}&assignee_id="))
        .send()
        .await?;
    assert_eq!(reassign.status(), StatusCode::SEE_OTHER);
    let mut tx = app.db.read().await?;
    let assignee = db::scalar!(
        &mut tx,
        Option<i64>,
        "select assignee_id from support_case where case_id = $1",
        case_id.parse::<i64>()?
    )?;
    assert_eq!(assignee, None, "bulk reassignment put it back in the queue");
    let sla = lead.get(app.url("/admin/sla")).send().await?.text().await?;
    assert!(sla.contains("Targets by priority"));
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_article_that_helped_is_linked_from_the_case_page() -> TestResult {
    let app = spawn_app().await;
    let lead = app.user_with_token("kay-lead", Role::Lead).await?;
    app.add_user("lou-agent", Role::Agent1).await?;
    let article =
        json!({"title": "Reading a smart meter", "body": "Press the **display** button twice.", "category": "meters"});
    let created: Value =
        app.api.post(app.url("/api/v1/articles")).bearer_auth(&lead).json(&article).send().await?.json().await?;
    let article_id = created["article_id"].as_i64().ok_or("article id")?;
    let published =
        app.api.post(app.url(&format!("/api/v1/articles/{article_id}/publish"))).bearer_auth(&lead).send().await?;
    assert!(published.status().is_success());
    let case: Value = app
        .api
        .post(app.url("/api/v1/cases"))
        .bearer_auth(&lead)
        .json(&json!({"subject": "Cannot read my meter", "category": "service"}))
        .send()
        .await?
        .json()
        .await?;
    let case_id = case["case_id"].as_i64().ok_or("case id")?;
    let browser = app.browser();
    let csrf = app.sign_in(&browser, "lou-agent").await?;
    let fragment =
        browser.get(app.url(&format!("/cases/{case_id}/articles?q=smart+meter"))).send().await?.text().await?;
    assert!(fragment.contains("Reading a smart meter"), "the finder suggests the article");
    let linked = browser
        .post(app.url(&format!("/cases/{case_id}/articles")))
        .form(&[("_csrf", csrf.as_str()), ("article_id", article_id.to_string().as_str())])
        .send()
        .await?;
    assert_eq!(linked.status(), StatusCode::SEE_OTHER);
    let cases: Value = app
        .api
        .get(app.url(&format!("/api/v1/articles/{article_id}/cases")))
        .bearer_auth(&lead)
        .send()
        .await?
        .json()
        .await?;
    assert!(cases.to_string().contains(&format!("\"case_id\":{case_id}")), "{cases}");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_case_page_shows_alerts_links_cases_and_leads_manage_members() -> TestResult {
    let app = spawn_app().await;
    app.add_user("mo-agent", Role::Agent1).await?;
    let lead_id = app.add_user("nia-lead", Role::Lead).await?;
    let token = app.token("mo-agent").await?;
    let customer_id = customer(&app, &token).await?;
    let alert = json!({"kind": "fraud_watch", "message": "Verify identity with the PIN"});
    app.api
        .post(app.url(&format!("/api/v1/customers/{customer_id}/alerts")))
        .bearer_auth(&token)
        .json(&alert)
        .send()
        .await?;
    let open = |subject: &str| {
        let body = json!({"customer_id": customer_id, "subject": subject, "category": "service"});
        app.api.post(app.url("/api/v1/cases")).bearer_auth(&token).json(&body).send()
    };
    let first: Value = open("Streetlight out").await?.json().await?;
    let second: Value = open("Streetlight out again").await?.json().await?;
    let (first_id, second_id) = (first["case_id"].as_i64().ok_or("id")?, second["case_id"].as_i64().ok_or("id")?);
    let agent = app.browser();
    let csrf = app.sign_in(&agent, "mo-agent").await?;
    let page = agent.get(app.url(&format!("/cases/{second_id}"))).send().await?.text().await?;
    assert!(
        page.contains("fraud watch:") && page.contains("Verify identity with the PIN"),
        "the alert follows the customer"
    );
    let number = first["case_number"].as_str().ok_or("number")?.to_lowercase();
    let form = [("_csrf", csrf.as_str()), ("other", number.as_str()), ("kind", "merge")];
    let merged = agent.post(app.url(&format!("/cases/{second_id}/links"))).form(&form).send().await?;
    assert_eq!(merged.status(), StatusCode::SEE_OTHER);
    let after: Value =
        app.api.get(app.url(&format!("/api/v1/cases/{second_id}"))).bearer_auth(&token).send().await?.json().await?;
    assert_eq!(after["case"]["status"], "closed");
    assert_eq!(after["case"]["merged_into"], first_id);
    let unknown = [("_csrf", csrf.as_str()), ("other", "CASE-999999"), ("kind", "related")];
    let missing = agent.post(app.url(&format!("/cases/{first_id}/links"))).form(&unknown).send().await?;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let lead = app.browser();
    let lead_csrf = app.sign_in(&lead, "nia-lead").await?;
    let lead_id = lead_id.to_string();
    let added = lead
        .post(app.url("/queues/1/members"))
        .form(&[("_csrf", lead_csrf.as_str()), ("user_id", lead_id.as_str())])
        .send()
        .await?;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let queue = lead.get(app.url("/queues/1")).send().await?.text().await?;
    assert!(queue.contains("Test nia-lead"), "the member is listed");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_lead_sets_the_business_time_zone() -> TestResult {
    let app = spawn_app().await;
    app.add_user("ora-lead", Role::Lead).await?;
    let lead = app.browser();
    let csrf = app.sign_in(&lead, "ora-lead").await?;
    let week = "[[480,1020],[480,1020],[480,1020],[480,1020],[480,1020],null,null]";
    let bad = [("_csrf", csrf.as_str()), ("time_zone", "Mars/Olympus"), ("utc_offset_minutes", "0"), ("week", week)];
    let refused = lead.post(app.url("/admin/sla/calendar")).form(&bad).send().await?;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let good =
        [("_csrf", csrf.as_str()), ("time_zone", "America/Chicago"), ("utc_offset_minutes", "0"), ("week", week)];
    assert_eq!(lead.post(app.url("/admin/sla/calendar")).form(&good).send().await?.status(), StatusCode::SEE_OTHER);
    let page = lead.get(app.url("/admin/sla")).send().await?.text().await?;
    assert!(page.contains("Time zone: America/Chicago"));
    let mut tx = app.db.read().await?;
    let calendar = cases::store::calendar(&mut tx, 1).await?;
    assert!(calendar.time_zone.is_some(), "the zone is loaded for SLA clocks");
    app.stop().await;
    Ok(())
}
