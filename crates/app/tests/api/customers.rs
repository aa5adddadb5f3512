//! Customer information over the API and the screens: create, find by fragments, 360, alerts,
//! notes, accounts, bad input, merge permissions.

use kernel::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{TestResult, spawn_app};

fn maria() -> Value {
    json!({
        "kind": "person", "first_name": "Maria", "last_name": "Lopez",
        "phones": [{"label": "mobile", "number": "(555) 201-4477"}],
        "emails": [{"address": "maria.lopez@example.org"}],
        "addresses": [{"line1": "12 Elm St", "city": "Springfield", "region": "IL", "postal_code": "62701"}],
        "preferred_language": "es"
    })
}

#[tokio::test]
async fn an_agent_creates_a_customer_and_finds_them_by_fragments() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("agnes", Role::Agent1).await?;
    let created = app.api.post(app.url("/api/v1/customers")).bearer_auth(&token).json(&maria()).send().await?;
    assert_eq!(created.status(), StatusCode::CREATED);
    let view: Value = created.json().await?;
    let id = view["customer"]["customer_id"].as_i64().ok_or("no id")?;
    assert_eq!(view["customer"]["customer_number"], "CUS-0000001");
    assert_eq!(view["phones"][0]["e164"], "+15552014477");
    let account: Value = app
        .api
        .post(app.url("/api/v1/accounts"))
        .bearer_auth(&token)
        .json(&json!({"customer_id": id, "bill_cycle": 7}))
        .send()
        .await?
        .json()
        .await?;
    let number = account["account_number"].as_str().ok_or("no number")?.to_string();
    for q in ["lopez", "4477", "maria.lopez", "elm", number.as_str()] {
        let found: Value =
            app.api.get(app.url("/api/v1/search")).query(&[("q", q)]).bearer_auth(&token).send().await?.json().await?;
        let groups = found["groups"].as_array().ok_or("no groups")?;
        let customer_group = groups.iter().find(|g| g["kind"] == "customer").ok_or(format!("no customers for {q}"))?;
        assert_eq!(customer_group["hits"][0]["url"], format!("/customers/{id}"), "{q}");
    }
    let by_number: Value = app
        .api
        .get(app.url("/api/v1/accounts"))
        .query(&[("number", &number)])
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(by_number["customer_id"], id);
    let mut wrong = number.clone();
    let last = wrong.pop().and_then(|c| c.to_digit(10)).ok_or("digit")?;
    wrong.push(char::from_digit((last + 1) % 10, 10).ok_or("digit")?);
    let mistyped =
        app.api.get(app.url("/api/v1/accounts")).query(&[("number", &wrong)]).bearer_auth(&token).send().await?;
    assert_eq!(mistyped.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(mistyped.json::<Value>().await?["errors"][0]["field"], "account_number");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn every_bad_customer_field_is_named_and_nothing_is_written() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("bea", Role::Agent1).await?;
    let customers_before = app.scalar("select count(*) from customer").await?;
    let audit_before = app.scalar("select count(*) from audit").await?;
    let cases: Vec<(&str, Value)> = vec![
        ("kind", json!({"kind": "robot", "last_name": "X"})),
        ("last_name", json!({"kind": "person"})),
        ("business_name", json!({"kind": "business", "first_name": "X"})),
        ("phones", json!({"kind": "person", "last_name": "X", "phones": [{"number": "12"}]})),
        ("emails", json!({"kind": "person", "last_name": "X", "emails": [{"address": "nope"}]})),
        (
            "addresses",
            json!({
                "kind": "person", "last_name": "X",
                "addresses": [{"line1": "1 A St", "city": "", "postal_code": "1"}]
            }),
        ),
        ("preferred_channel", json!({"kind": "person", "last_name": "X", "preferred_channel": "pigeon"})),
        ("preferred_language", json!({"kind": "person", "last_name": "X", "preferred_language": "english!"})),
    ];
    for (field, body) in cases {
        let response = app.api.post(app.url("/api/v1/customers")).bearer_auth(&token).json(&body).send().await?;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let problem: Value = response.json().await?;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let bad_account = app
        .api
        .post(app.url("/api/v1/accounts"))
        .bearer_auth(&token)
        .json(&json!({"customer_id": 1, "bill_cycle": 31}))
        .send()
        .await?;
    assert_eq!(bad_account.json::<Value>().await?["errors"][0]["field"], "bill_cycle");
    assert_eq!(app.scalar("select count(*) from customer").await?, customers_before);
    assert_eq!(app.scalar("select count(*) from audit").await?, audit_before);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_customer_screen_shows_alerts_notes_and_history() -> TestResult {
    let app = spawn_app().await;
    app.add_user("cora", Role::Agent2).await?;
    let token = app.token("cora").await?;
    let view: Value =
        app.api.post(app.url("/api/v1/customers")).bearer_auth(&token).json(&maria()).send().await?.json().await?;
    let id = view["customer"]["customer_id"].as_i64().ok_or("no id")?;
    let alert = app
        .api
        .post(app.url(&format!("/api/v1/customers/{id}/alerts")))
        .bearer_auth(&token)
        .json(&json!({"kind": "bankruptcy_stay", "message": "Chapter 13 filed; no collection activity"}))
        .send()
        .await?;
    assert_eq!(alert.status(), StatusCode::CREATED);
    let browser = app.browser();
    let csrf = app.sign_in(&browser, "cora").await?;
    let note = browser
        .post(app.url(&format!("/customers/{id}/notes")))
        .form(&[("_csrf", csrf.as_str()), ("body", "Asked about budget billing")])
        .send()
        .await?;
    assert_eq!(note.status(), StatusCode::SEE_OTHER);
    let page = browser.get(app.url(&format!("/customers/{id}"))).send().await?.text().await?;
    assert!(page.contains("bankruptcy stay:"), "the alert is on the screen");
    assert!(page.contains("Chapter 13 filed"));
    assert!(page.contains("Asked about budget billing"));
    assert!(page.contains("customer.created"), "history from the audit trail");
    let found = browser.get(app.url("/customers?q=4477")).send().await?.text().await?;
    assert!(found.contains("Maria Lopez"));
    let add = browser
        .post(app.url(&format!("/customers/{id}/contact-points")))
        .form(&[("_csrf", csrf.as_str()), ("phone", "555 777 8899"), ("phone_label", "work"), ("email", "")])
        .send()
        .await?;
    assert_eq!(add.status(), StatusCode::SEE_OTHER);
    let bad = browser
        .post(app.url(&format!("/customers/{id}/contact-points")))
        .form(&[("_csrf", csrf.as_str()), ("phone", "12"), ("phone_label", ""), ("email", "")])
        .send()
        .await?;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let by_new_phone = browser.get(app.url("/customers?q=8899")).send().await?.text().await?;
    assert!(by_new_phone.contains("Maria Lopez"), "the added phone is searchable at once");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_new_customer_form_creates_a_customer_with_an_account() -> TestResult {
    let app = spawn_app().await;
    app.add_user("dev", Role::Cashier).await?;
    let browser = app.browser();
    let csrf = app.sign_in(&browser, "dev").await?;
    let bad = browser
        .post(app.url("/customers"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("kind", "person"),
            ("last_name", "Ng"),
            ("phone", "12"),
            ("open_account", "true"),
        ])
        .send()
        .await?;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = bad.text().await?;
    assert!(page.contains("phones: is not a phone number"), "the field is named");
    assert!(page.contains("value=\"Ng\""), "what was typed is kept");
    let good = browser
        .post(app.url("/customers"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("kind", "person"),
            ("first_name", "Lin"),
            ("last_name", "Ng"),
            ("phone", "555 333 1212"),
            ("line1", "4 Birch Rd"),
            ("city", "Madison"),
            ("postal_code", "53703"),
            ("preferred_language", "en"),
            ("preferred_channel", "email"),
            ("open_account", "true"),
        ])
        .send()
        .await?;
    assert_eq!(good.status(), StatusCode::SEE_OTHER);
    let location = good.headers()["location"].to_str()?.to_string();
    let screen = browser.get(app.url(&location)).send().await?.text().await?;
    assert!(screen.contains("Lin Ng"));
    assert!(screen.contains("residential"), "the account was opened");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn only_leads_and_above_may_merge() -> TestResult {
    let app = spawn_app().await;
    let agent = app.user_with_token("eli", Role::Agent1).await?;
    let lead = app.user_with_token("fin", Role::Lead).await?;
    let a: Value =
        app.api.post(app.url("/api/v1/customers")).bearer_auth(&agent).json(&maria()).send().await?.json().await?;
    let b: Value =
        app.api.post(app.url("/api/v1/customers")).bearer_auth(&agent).json(&maria()).send().await?.json().await?;
    let (a, b) = (a["customer"]["customer_id"].as_i64().ok_or("a")?, b["customer"]["customer_id"].as_i64().ok_or("b")?);
    let dups: Value = app
        .api
        .get(app.url(&format!("/api/v1/customers/{b}/duplicates")))
        .bearer_auth(&agent)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(dups[0]["customer_id"], a);
    let contact = json!({"customer_id": b, "channel": "phone", "reason_code": "other", "summary": "duplicate caller"});
    assert_eq!(
        app.api.post(app.url("/api/v1/contacts")).bearer_auth(&agent).json(&contact).send().await?.status(),
        201
    );
    let case = json!({"customer_id": b, "subject": "Opened on the duplicate", "category": "other"});
    assert_eq!(app.api.post(app.url("/api/v1/cases")).bearer_auth(&agent).json(&case).send().await?.status(), 201);
    let refused = app
        .api
        .post(app.url(&format!("/api/v1/customers/{b}/merge")))
        .bearer_auth(&agent)
        .json(&json!({"survivor_id": a}))
        .send()
        .await?;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let merged = app
        .api
        .post(app.url(&format!("/api/v1/customers/{b}/merge")))
        .bearer_auth(&lead)
        .json(&json!({"survivor_id": a}))
        .send()
        .await?;
    assert_eq!(merged.status(), StatusCode::OK);
    let merged: Value = merged.json().await?;
    assert_eq!(merged["former_numbers"][0], format!("CUS-{b:07}"));
    let timeline: Value = app
        .api
        .get(app.url(&format!("/api/v1/customers/{a}/contacts")))
        .bearer_auth(&agent)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(timeline["items"][0]["summary"], "duplicate caller", "contacts moved to the survivor");
    let cases: Value = app
        .api
        .get(app.url(&format!("/api/v1/cases?customer_id={a}")))
        .bearer_auth(&agent)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(cases["items"][0]["subject"], "Opened on the duplicate", "cases moved to the survivor");
    let again = app
        .api
        .post(app.url(&format!("/api/v1/customers/{b}/merge")))
        .bearer_auth(&lead)
        .json(&json!({"survivor_id": a}))
        .send()
        .await?;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn service_starts_and_stops_from_the_customer_screen() -> TestResult {
    let app = spawn_app().await;
    app.add_user("gwen", Role::BillingClerk).await?;
    let token = app.token("gwen").await?;
    let view: Value =
        app.api.post(app.url("/api/v1/customers")).bearer_auth(&token).json(&maria()).send().await?.json().await?;
    let id = view["customer"]["customer_id"].as_i64().ok_or("id")?;
    let account: Value = app
        .api
        .post(app.url("/api/v1/accounts"))
        .bearer_auth(&token)
        .json(&json!({"customer_id": id}))
        .send()
        .await?
        .json()
        .await?;
    let premise_body = json!({"address": {"line1": "12 Elm St", "city": "Springfield", "postal_code": "62701"}});
    let premise: Value =
        app.api.post(app.url("/api/v1/premises")).bearer_auth(&token).json(&premise_body).send().await?.json().await?;
    let meter = json!({"meter_number": "E-100200", "service_type": "electric", "installed_on": "2024-05-01"});
    let installed = app
        .api
        .post(app.url(&format!("/api/v1/premises/{}/meters", premise["premise_id"])))
        .bearer_auth(&token)
        .json(&meter)
        .send()
        .await?;
    assert_eq!(installed.status(), StatusCode::CREATED);
    let agreement_body = json!({
        "account_id": account["account_id"], "premise_id": premise["premise_id"], "service_type": "electric",
        "rate_code": "E-RES-1", "start_date": "2025-01-01"
    });
    let agreement: Value = app
        .api
        .post(app.url("/api/v1/service-agreements"))
        .bearer_auth(&token)
        .json(&agreement_body)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(agreement["status"], "pending_start");
    let browser = app.browser();
    let csrf = app.sign_in(&browser, "gwen").await?;
    let page = browser.get(app.url(&format!("/customers/{id}"))).send().await?.text().await?;
    assert!(page.contains("Start service") && page.contains("Cancel"), "the allowed moves are offered");
    let path = format!("/customers/{id}/agreements/{}", agreement["agreement_id"]);
    let started = browser.post(app.url(&path)).form(&[("_csrf", csrf.as_str()), ("status", "active")]).send().await?;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let refused =
        browser.post(app.url(&path)).form(&[("_csrf", csrf.as_str()), ("status", "pending_start")]).send().await?;
    assert_eq!(refused.status(), StatusCode::CONFLICT, "the state machine refuses going back");
    let found: Value =
        app.api.get(app.url("/api/v1/search?q=e-100200")).bearer_auth(&token).send().await?.json().await?;
    assert!(found.to_string().contains(&format!("/customers/{id}")), "found by meter number");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_clerk_edits_details_and_requests_service_from_the_screen() -> TestResult {
    let app = spawn_app().await;
    app.add_user("hugo", Role::Agent1).await?;
    let token = app.token("hugo").await?;
    let view: Value =
        app.api.post(app.url("/api/v1/customers")).bearer_auth(&token).json(&maria()).send().await?.json().await?;
    let id = view["customer"]["customer_id"].as_i64().ok_or("id")?;
    let account: Value = app
        .api
        .post(app.url("/api/v1/accounts"))
        .bearer_auth(&token)
        .json(&json!({"customer_id": id}))
        .send()
        .await?
        .json()
        .await?;
    let browser = app.browser();
    let csrf = app.sign_in(&browser, "hugo").await?;
    let edit = [
        ("_csrf", csrf.as_str()),
        ("kind", "person"),
        ("first_name", "María"),
        ("last_name", "López Ruiz"),
        ("preferred_language", "es"),
        ("preferred_channel", "email"),
        ("do_not_call", "true"),
    ];
    assert_eq!(
        browser.post(app.url(&format!("/customers/{id}/edit"))).form(&edit).send().await?.status(),
        StatusCode::SEE_OTHER
    );
    let bad_edit = [("_csrf", csrf.as_str()), ("kind", "person"), ("first_name", ""), ("last_name", "")];
    let refused = browser.post(app.url(&format!("/customers/{id}/edit"))).form(&bad_edit).send().await?;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let account_id = account["account_id"].to_string();
    let service = [
        ("_csrf", csrf.as_str()),
        ("account_id", account_id.as_str()),
        ("line1", "9 Mill Rd"),
        ("city", "Madison"),
        ("postal_code", "53703"),
        ("service_type", "water"),
        ("rate_code", "W-RES-2"),
        ("meter_number", "W-7781"),
        ("start_date", "2026-12-01"),
    ];
    let requested = browser.post(app.url(&format!("/customers/{id}/service"))).form(&service).send().await?;
    assert_eq!(requested.status(), StatusCode::SEE_OTHER);
    let after: Value =
        app.api.get(app.url(&format!("/api/v1/customers/{id}"))).bearer_auth(&token).send().await?.json().await?;
    assert_eq!(after["customer"]["display_name"], "María López Ruiz");
    assert_eq!(after["customer"]["do_not_call"], true);
    assert_eq!(after["agreements"][0]["status"], "pending_start");
    assert_eq!(after["agreements"][0]["rate_code"], "W-RES-2");
    let found: Value = app.api.get(app.url("/api/v1/search?q=w-7781")).bearer_auth(&token).send().await?.json().await?;
    assert!(found.to_string().contains(&format!("/customers/{id}")), "found by the new meter");
    app.stop().await;
    Ok(())
}
