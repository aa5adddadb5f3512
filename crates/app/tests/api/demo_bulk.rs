//! The bulk demo loader: counts, the search indexes it fills, and ids that keep counting after it.

use kernel::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{TestResult, spawn_app};

async fn search(
    app: &testkit::TestApp,
    token: &str,
    q: &str,
) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
    let response = app.api.get(app.url("/api/v1/search")).query(&[("q", q)]).bearer_auth(token).send().await?;
    assert_eq!(response.status(), StatusCode::OK, "{q}");
    Ok(response.json().await?)
}

fn urls(found: &Value, kind: &str) -> Vec<String> {
    let groups = found["groups"].as_array().cloned().unwrap_or_default();
    let group = groups.iter().find(|g| g["kind"] == kind).cloned().unwrap_or(Value::Null);
    let hits = group["hits"].as_array().cloned().unwrap_or_default();
    hits.iter().filter_map(|h| h["url"].as_str().map(str::to_string)).collect()
}

#[tokio::test]
async fn the_bulk_demo_fills_the_tables_and_the_search_indexes() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("agnes", Role::Agent1).await?;
    let audit_before = app.scalar("select count(*) from audit").await?;
    caredesk::demo_bulk::load(&app.db, app.clock.as_ref(), 300, &|_| {}).await?;

    assert_eq!(app.scalar("select count(*) from customer").await?, 300);
    assert_eq!(app.scalar("select count(*) from account").await?, 300);
    assert_eq!(app.scalar("select count(*) from customer_search").await?, 300);
    let contacts = app.scalar("select count(*) from contact").await?;
    assert!((1_000..=2_000).contains(&contacts), "about five contacts a customer, got {contacts}");
    let cases = app.scalar("select count(*) from support_case").await?;
    assert!((200..=400).contains(&cases), "about one case a customer, got {cases}");
    assert_eq!(app.scalar("select count(*) from case_entry").await?, 2 * cases);
    assert_eq!(app.scalar("select count(*) from case_search").await?, cases);
    assert_eq!(app.scalar("select count(*) from audit").await?, audit_before, "bulk demo rows carry no audit records");

    let mut tx = app.db.read().await?;
    let e164 = db::scalar!(&mut tx, String, "select e164 from customer_phone where customer_id = $1", 7_i64)?;
    tx.rollback().await?;
    let last_four: String = e164.chars().skip(e164.len() - 4).collect();
    assert!(urls(&search(&app, &token, &last_four).await?, "customer").contains(&"/customers/7".to_string()));
    let account = customers::model::AccountNumber::for_key(7);
    assert!(urls(&search(&app, &token, account.as_str()).await?, "customer").contains(&"/customers/7".to_string()));
    let case = cases::model::case_number(1);
    assert_eq!(urls(&search(&app, &token, &case).await?, "case"), vec!["/cases/1".to_string()]);

    let page = app.api.get(app.url("/customers/7")).bearer_auth(&token).send().await?;
    assert_eq!(page.status(), StatusCode::OK);
    let logged = app
        .api
        .post(app.url("/api/v1/contacts"))
        .bearer_auth(&token)
        .json(&json!({"customer_id": 7, "channel": "phone", "direction": "inbound",
                      "reason_code": "billing_question", "summary": "Asked about the bill"}))
        .send()
        .await?;
    assert_eq!(logged.status(), StatusCode::CREATED, "ids continue after the bulk rows");
    assert_eq!(app.scalar("select count(*) from contact").await?, contacts + 1);
    Ok(())
}
