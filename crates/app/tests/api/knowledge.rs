//! Knowledge over HTTP: articles written, published, searched, edited into versions, linked to
//! cases and archived; call scripts and canned answers; pages with forms that name the field
//! at fault; and who may do what.

use kernel::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{TestResult, spawn_app};

fn article(title: &str, body: &str, audience: &str) -> Value {
    json!({ "title": title, "body": body, "category": "Billing", "tags": ["fees", "billing"], "audience": audience })
}

#[tokio::test]
async fn an_article_is_written_published_found_edited_and_archived() -> TestResult {
    let app = spawn_app().await;
    let lead = app.user_with_token("lena", Role::Lead).await?;
    let agent = app.user_with_token("arno", Role::Agent1).await?;
    let created = app
        .api
        .post(app.url("/api/v1/articles"))
        .bearer_auth(&lead)
        .json(&article("Waiving late fees", "Check the **payment history** first.", "internal"))
        .send()
        .await?;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await?;
    let id = created["article_id"].as_i64().ok_or("no id")?;
    assert_eq!((created["status"].as_str(), created["version"].as_i64()), (Some("draft"), Some(1)));

    let hidden = app.api.get(app.url(&format!("/api/v1/articles/{id}"))).bearer_auth(&agent).send().await?;
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND, "agents do not see drafts");
    let published = app.api.post(app.url(&format!("/api/v1/articles/{id}/publish"))).bearer_auth(&lead).send().await?;
    assert_eq!(published.status(), StatusCode::OK);
    let again = app.api.post(app.url(&format!("/api/v1/articles/{id}/publish"))).bearer_auth(&lead).send().await?;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(again.json::<Value>().await?["code"], "article_transition_not_allowed");

    let view: Value =
        app.api.get(app.url(&format!("/api/v1/articles/{id}"))).bearer_auth(&agent).send().await?.json().await?;
    assert_eq!(view["html"], "<p>Check the <strong>payment history</strong> first.</p>\n");
    assert_eq!(view["tags"], json!(["fees", "billing"]));

    let list: Value = app
        .api
        .get(app.url("/api/v1/articles"))
        .query(&[("q", "payment histo")])
        .bearer_auth(&agent)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(list["items"][0]["article_id"], id, "{list}");
    let global: Value = app
        .api
        .get(app.url("/api/v1/search"))
        .query(&[("q", "late fees")])
        .bearer_auth(&agent)
        .send()
        .await?
        .json()
        .await?;
    let group = global["groups"].as_array().and_then(|g| g.iter().find(|g| g["kind"] == "article").cloned());
    assert_eq!(group.ok_or("no knowledge group")?["hits"][0]["url"], format!("/knowledge/{id}"));

    let mut edit = article("Waiving late fees", "Check the **payment history**, then ask a lead.", "internal");
    edit["expected_version"] = json!(1);
    let edited = app.api.put(app.url(&format!("/api/v1/articles/{id}"))).bearer_auth(&lead).json(&edit).send().await?;
    assert_eq!(edited.status(), StatusCode::OK);
    assert_eq!(edited.json::<Value>().await?["version"], 2);
    let stale = app.api.put(app.url(&format!("/api/v1/articles/{id}"))).bearer_auth(&lead).json(&edit).send().await?;
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    assert_eq!(stale.json::<Value>().await?["errors"][0]["field"], "expected_version");
    let versions: Value = app
        .api
        .get(app.url(&format!("/api/v1/articles/{id}/versions")))
        .bearer_auth(&agent)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(versions.as_array().map(Vec::len), Some(2));
    assert_eq!(versions[1]["body"], "Check the **payment history** first.");
    let first: Value = app
        .api
        .get(app.url(&format!("/api/v1/articles/{id}/versions/1")))
        .bearer_auth(&agent)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(first["version"], 1);

    let link = app
        .api
        .post(app.url(&format!("/api/v1/articles/{id}/cases")))
        .bearer_auth(&agent)
        .json(&json!({"case_id": 1234}))
        .send()
        .await?;
    assert_eq!(link.status(), StatusCode::CREATED);
    let cases: Value =
        app.api.get(app.url(&format!("/api/v1/articles/{id}/cases"))).bearer_auth(&agent).send().await?.json().await?;
    assert_eq!(cases[0]["case_id"], 1234);
    assert_eq!(cases[0]["linked_by"], "arno");

    let archived = app.api.post(app.url(&format!("/api/v1/articles/{id}/archive"))).bearer_auth(&lead).send().await?;
    assert_eq!(archived.status(), StatusCode::OK);
    let gone: Value = app
        .api
        .get(app.url("/api/v1/articles"))
        .query(&[("q", "payment")])
        .bearer_auth(&agent)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(gone["items"], json!([]));
    let frozen = app.api.put(app.url(&format!("/api/v1/articles/{id}"))).bearer_auth(&lead).json(&edit).send().await?;
    assert_eq!(frozen.json::<Value>().await?["code"], "archived_article_cannot_change");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn bad_input_names_its_field_and_agents_cannot_write() -> TestResult {
    let app = spawn_app().await;
    let lead = app.user_with_token("lena", Role::Lead).await?;
    let agent = app.user_with_token("arno", Role::Agent1).await?;
    let cases = [
        ("title", json!("")),
        ("body", json!("   ")),
        ("category", json!("")),
        ("tags", json!(["not a <tag>"])),
        ("audience", json!("everyone")),
    ];
    for (field, value) in cases {
        let mut body = article("Title", "Body", "public");
        body[field] = value;
        let response = app.api.post(app.url("/api/v1/articles")).bearer_auth(&lead).json(&body).send().await?;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(response.json::<Value>().await?["errors"][0]["field"], field);
    }
    let forbidden = app
        .api
        .post(app.url("/api/v1/articles"))
        .bearer_auth(&agent)
        .json(&article("Title", "Body", "public"))
        .send()
        .await?;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    let mut tx = app.db.read().await?;
    assert_eq!(db::scalar!(&mut tx, i64, "select count(*) from article")?, 0);
    drop(tx);
    let missing = app.api.get(app.url("/api/v1/articles/999")).bearer_auth(&agent).send().await?;
    assert_eq!(missing.json::<Value>().await?["code"], "article_not_found");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn creating_an_article_twice_with_one_idempotency_key_creates_one() -> TestResult {
    let app = spawn_app().await;
    let lead = app.user_with_token("lena", Role::Lead).await?;
    let body = article("Once only", "Body", "public");
    let mut ids = Vec::new();
    for _ in 0..2 {
        let response = app
            .api
            .post(app.url("/api/v1/articles"))
            .bearer_auth(&lead)
            .header("Idempotency-Key", "article-once")
            .json(&body)
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::CREATED);
        ids.push(response.json::<Value>().await?["article_id"].clone());
    }
    assert_eq!(ids[0], ids[1]);
    let mut tx = app.db.read().await?;
    assert_eq!(db::scalar!(&mut tx, i64, "select count(*) from article")?, 1);
    drop(tx);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn call_scripts_and_canned_answers_are_kept_and_listed() -> TestResult {
    let app = spawn_app().await;
    let lead = app.user_with_token("lena", Role::Lead).await?;
    let agent = app.user_with_token("arno", Role::Agent1).await?;
    let script = json!({
        "name": "Verify caller",
        "steps": [
            {"prompt": "May I have the account number?", "expected_answer": "10 digits"},
            {"prompt": "Please confirm the service address.", "notes": "Must match the premise"}
        ]
    });
    let created = app.api.post(app.url("/api/v1/call-scripts")).bearer_auth(&lead).json(&script).send().await?;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await?["script"]["script_id"].as_i64().ok_or("no id")?;
    let none = app
        .api
        .post(app.url("/api/v1/call-scripts"))
        .bearer_auth(&lead)
        .json(&json!({"name": "Empty", "steps": []}))
        .send()
        .await?;
    assert_eq!(none.json::<Value>().await?["errors"][0]["field"], "steps");
    let view: Value =
        app.api.get(app.url(&format!("/api/v1/call-scripts/{id}"))).bearer_auth(&agent).send().await?.json().await?;
    assert_eq!(view["steps"][1]["position"], 2);
    assert_eq!(view["steps"][0]["expected_answer"], "10 digits");
    let answer = json!({"name": "Payment received", "category": "Billing", "body": "We received your payment."});
    let created = app.api.post(app.url("/api/v1/canned-answers")).bearer_auth(&lead).json(&answer).send().await?;
    assert_eq!(created.status(), StatusCode::CREATED);
    let taken = app.api.post(app.url("/api/v1/canned-answers")).bearer_auth(&lead).json(&answer).send().await?;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    assert_eq!(taken.json::<Value>().await?["code"], "name_taken");
    let found: Value = app
        .api
        .get(app.url("/api/v1/canned-answers"))
        .query(&[("q", "payment")])
        .bearer_auth(&agent)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(found[0]["name"], "Payment received");
    let page = app.browser();
    app.sign_in(&page, "arno").await?;
    let html = page.get(app.url(&format!("/knowledge/scripts/{id}"))).send().await?.text().await?;
    assert!(html.contains("Step 1 of 2") && html.contains("step=2"), "{html}");
    let html = page.get(app.url(&format!("/knowledge/scripts/{id}?step=2"))).send().await?.text().await?;
    assert!(html.contains("Step 2 of 2") && html.contains("Last step."), "{html}");
    let html = page.get(app.url("/knowledge/answers?q=received")).send().await?.text().await?;
    assert!(html.contains("We received your payment."));
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn pages_write_articles_and_name_the_field_at_fault() -> TestResult {
    let app = spawn_app().await;
    app.add_user("lena", Role::Lead).await?;
    let browser = app.browser();
    let csrf = app.sign_in(&browser, "lena").await?;
    let form = |title: &str| {
        vec![
            ("_csrf", csrf.clone()),
            ("title", title.to_string()),
            ("body", "Hello <script>alert(1)</script> [x](javascript:alert(1))".to_string()),
            ("category", "Safety".to_string()),
            ("tags", "xss, safety".to_string()),
            ("audience", "internal".to_string()),
        ]
    };
    let refused = browser.post(app.url("/knowledge")).form(&form("")).send().await?;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await?;
    assert!(html.contains("id=\"form-error\"") && html.contains("title:"), "{html}");
    let created = browser.post(app.url("/knowledge")).form(&form("Safe rendering")).send().await?;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let location = created.headers()["location"].to_str()?.to_string();
    let html = browser.get(app.url(&location)).send().await?.text().await?;
    assert!(html.contains("Safe rendering") && html.contains("&lt;script&gt;"), "{html}");
    assert!(!html.contains("<script>alert") && !html.contains("href=\"javascript"), "{html}");
    assert!(html.contains("/edit\"") && html.contains("/publish\""), "managers see edit and publish");
    let edit = browser.post(app.url(&format!("{location}/edit"))).form(&form("Safe rendering, revised")).send().await?;
    assert_eq!(edit.status(), StatusCode::SEE_OTHER);
    let html = browser.get(app.url(&location)).send().await?.text().await?;
    assert!(html.contains("Safe rendering, revised") && html.contains("?version=1"), "{html}");
    let old = browser.get(app.url(&format!("{location}?version=1"))).send().await?.text().await?;
    assert!(old.contains("You are reading version 1"), "{old}");
    let partial = browser.get(app.url("/knowledge")).header("HX-Request", "true").send().await?.text().await?;
    assert!(!partial.contains("<html") && partial.contains("Safety"), "{partial}");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn articles_are_listed_by_category_and_tag_a_page_at_a_time() -> TestResult {
    let app = spawn_app().await;
    let lead = app.user_with_token("lena", Role::Lead).await?;
    let agent = app.user_with_token("arno", Role::Agent1).await?;
    for (title, category, tags) in
        [("One", "Billing", ["fees"]), ("Two", "Billing", ["meters"]), ("Three", "Meters", ["meters"])]
    {
        let body = json!({"title": title, "body": "Text", "category": category, "tags": tags});
        let r = app.api.post(app.url("/api/v1/articles")).bearer_auth(&lead).json(&body).send().await?;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let get = |query: &'static [(&'static str, &'static str)], token: String| {
        let request = app.api.get(app.url("/api/v1/articles")).query(query).bearer_auth(token);
        async move { request.send().await?.json::<Value>().await }
    };
    let first = get(&[("limit", "2")], lead.clone()).await?;
    assert_eq!(first["items"].as_array().map(Vec::len), Some(2));
    let cursor = first["next_cursor"].as_str().ok_or("no cursor")?.to_string();
    let second: Value = app
        .api
        .get(app.url("/api/v1/articles"))
        .query(&[("limit", "2"), ("cursor", cursor.as_str())])
        .bearer_auth(&lead)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(second["items"][0]["title"], "Three");
    assert_eq!(second["next_cursor"], Value::Null);
    let billing = get(&[("category", "Billing")], lead.clone()).await?;
    assert_eq!(billing["items"].as_array().map(Vec::len), Some(2));
    let meters = get(&[("tag", "meters"), ("category", "Billing")], lead.clone()).await?;
    assert_eq!(meters["items"][0]["title"], "Two");
    assert_eq!(meters["items"].as_array().map(Vec::len), Some(1));
    let wildcard = app.api.get(app.url("/api/v1/articles?tag=%25")).bearer_auth(&lead).send().await?;
    assert_eq!(wildcard.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let drafts_for_agent = get(&[], agent.clone()).await?;
    assert_eq!(drafts_for_agent["items"], json!([]), "agents see published articles only");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn leads_add_canned_answers_and_scripts_from_the_screens_and_agents_insert_them() -> TestResult {
    let app = testkit::spawn_app().await;
    app.add_user("lea-lead", kernel::Role::Lead).await?;
    let lead = app.browser();
    let csrf = app.sign_in(&lead, "lea-lead").await?;
    let answer = [
        ("_csrf", csrf.as_str()),
        ("name", "Payment received"),
        ("category", "billing"),
        ("body", "We received your payment, thank you."),
    ];
    let added = lead.post(app.url("/knowledge/answers")).form(&answer).send().await?;
    assert_eq!(added.status(), reqwest::StatusCode::SEE_OTHER);
    let empty = lead
        .post(app.url("/knowledge/answers"))
        .form(&[("_csrf", csrf.as_str()), ("name", ""), ("category", "x"), ("body", "y")])
        .send()
        .await?;
    assert_eq!(empty.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.text().await?.contains("name:"), "the field is named");
    let script = [
        ("_csrf", csrf.as_str()),
        ("name", "Move-out call"),
        ("description", "Stopping service"),
        ("steps", "Confirm the service address | Customer reads it back\nAsk for the final-read date\n"),
    ];
    let created = lead.post(app.url("/knowledge/scripts")).form(&script).send().await?;
    assert_eq!(created.status(), reqwest::StatusCode::SEE_OTHER);
    let location = created.headers()["location"].to_str()?.to_string();
    let page = lead.get(app.url(&location)).send().await?.text().await?;
    assert!(page.contains("Confirm the service address"));
    app.add_user("abe-agent", kernel::Role::Agent1).await?;
    let agent = app.browser();
    app.sign_in(&agent, "abe-agent").await?;
    let picker = agent.get(app.url("/knowledge/answers/picker?target=thread-body")).send().await?.text().await?;
    assert!(picker.contains("data-insert-into=\"thread-body\"") && picker.contains("We received your payment"));
    let forbidden = agent.post(app.url("/knowledge/answers")).form(&[("_csrf", "x"), ("name", "n")]).send().await?;
    assert_eq!(forbidden.status(), reqwest::StatusCode::FORBIDDEN);
    app.stop().await;
    Ok(())
}
