//! Charges over HTTP: idempotent fees, adjustments that wait for a different supervisor (an
//! agent may not approve at all; approval posts exactly once), deposits and arrangements through
//! the API, bad input that names its field and writes nothing, and the account's charges page.

use kernel::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{TestApp, TestResult, spawn_app};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A customer with one account of the given credit rating; yields the account id.
async fn account(app: &TestApp, token: &str, rating: &str) -> Result<i64, Error> {
    let body = json!({"kind": "person", "first_name": "Maria", "last_name": "Lopez"});
    let created: Value =
        app.api.post(app.url("/api/v1/customers")).bearer_auth(token).json(&body).send().await?.json().await?;
    let customer_id = created["customer"]["customer_id"].as_i64().ok_or("no customer id")?;
    let body = json!({"customer_id": customer_id, "bill_cycle": 3, "credit_rating": rating});
    let account: Value =
        app.api.post(app.url("/api/v1/accounts")).bearer_auth(token).json(&body).send().await?.json().await?;
    account["account_id"].as_i64().ok_or_else(|| format!("no account id in {account}").into())
}

async fn post(
    app: &TestApp,
    token: &str,
    path: &str,
    body: &Value,
    key: Option<&str>,
) -> Result<(StatusCode, Value), Error> {
    let mut request = app.api.post(app.url(path)).bearer_auth(token).json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await?;
    let status = response.status();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

async fn scalar(app: &TestApp, sql: &'static str) -> Result<i64, Error> {
    let mut tx = app.db.read().await?;
    Ok(db::scalar!(&mut tx, i64, sql)?)
}

#[tokio::test]
async fn an_idempotent_retry_charges_one_fee_and_bad_input_names_its_field() -> TestResult {
    let app = spawn_app().await;
    let clerk = app.user_with_token("bea", Role::BillingClerk).await?;
    let account_id = account(&app, &clerk, "good").await?;
    let body = json!({"account_id": account_id, "fee_type": "field_visit_fee", "memo": "Meter inaccessible"});
    let (status, first) = post(&app, &clerk, "/api/v1/fees", &body, Some("fee-1")).await?;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["amount_minor"], 2500);
    let (status, again) = post(&app, &clerk, "/api/v1/fees", &body, Some("fee-1")).await?;
    assert_eq!((status, &again["fee_id"]), (StatusCode::CREATED, &first["fee_id"]));
    assert_eq!(scalar(&app, "select count(*) from fee").await?, 1);
    assert_eq!(scalar(&app, "select count(*) from journal_entry where source_kind = 'fee'").await?, 1);

    let audit_before = scalar(&app, "select count(*) from audit").await?;
    for (bad, field) in [
        (json!({"account_id": account_id, "fee_type": "no_such_fee"}), "fee_type"),
        (json!({"account_id": account_id, "fee_type": "late_fee", "amount": "1.234"}), "amount"),
        (json!({"account_id": 999_999, "fee_type": "late_fee"}), "account_id"),
        (json!({"account_id": account_id, "fee_type": "late_fee", "fee_date": "2026-13-01"}), "fee_date"),
    ] {
        let (status, problem) = post(&app, &clerk, "/api/v1/fees", &bad, None).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(problem.to_string().contains(field), "{field} not named in {problem}");
    }
    assert_eq!(scalar(&app, "select count(*) from fee").await?, 1);
    assert_eq!(scalar(&app, "select count(*) from audit").await?, audit_before, "nothing half-written");
    let list: Value = app
        .api
        .get(app.url(&format!("/api/v1/accounts/{account_id}/fees")))
        .bearer_auth(&clerk)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    Ok(())
}

#[tokio::test]
async fn an_adjustment_above_the_limit_is_approved_once_by_a_different_supervisor() -> TestResult {
    let app = spawn_app().await;
    let sam = app.user_with_token("sam", Role::Supervisor).await?;
    let sue = app.user_with_token("sue", Role::Supervisor).await?;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let account_id = account(&app, &sam, "good").await?;
    let body = json!({"account_id": account_id, "direction": "debit", "amount": "150.00",
        "reason_code": "billing_error", "note": "Under-billed in October"});
    let (status, pending) = post(&app, &sam, "/api/v1/adjustments", &body, Some("adj-1")).await?;
    assert_eq!(status, StatusCode::CREATED, "{pending}");
    assert_eq!(pending["status"], "pending_approval");
    let id = pending["adjustment_id"].as_i64().ok_or("no id")?;
    let queue: Value = app
        .api
        .get(app.url("/api/v1/adjustments?status=pending_approval"))
        .bearer_auth(&sue)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(queue.as_array().map(Vec::len), Some(1));

    let approve = format!("/api/v1/adjustments/{id}/approve");
    let (status, problem) = post(&app, &sam, &approve, &json!({}), None).await?;
    assert_eq!((status, &problem["code"]), (StatusCode::FORBIDDEN, &json!("adjustment_requires_different_approver")));
    let (status, _) = post(&app, &agent, &approve, &json!({}), None).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "an agent cannot approve at all");
    assert_eq!(scalar(&app, "select count(*) from journal_entry where source_kind = 'adjustment'").await?, 0);

    let (status, approved) = post(&app, &sue, &approve, &json!({"note": "Checked"}), Some("approve-1")).await?;
    assert_eq!((status, &approved["status"]), (StatusCode::OK, &json!("approved")), "{approved}");
    let (status, replay) = post(&app, &sue, &approve, &json!({"note": "Checked"}), Some("approve-1")).await?;
    assert_eq!((status, &replay["entry_id"]), (StatusCode::OK, &approved["entry_id"]));
    let (status, problem) = post(&app, &sue, &approve, &json!({}), None).await?;
    assert_eq!((status, &problem["code"]), (StatusCode::CONFLICT, &json!("adjustment_not_pending")));
    assert_eq!(scalar(&app, "select count(*) from journal_entry where source_kind = 'adjustment'").await?, 1);
    assert_eq!(scalar(&app, "select count(*) from open_item where kind = 'adjustment'").await?, 1);

    let small = json!({"account_id": account_id, "direction": "credit", "amount": "20.00", "reason_code": "goodwill"});
    let (status, posted) = post(&app, &sam, "/api/v1/adjustments", &small, None).await?;
    assert_eq!((status, &posted["status"]), (StatusCode::CREATED, &json!("posted")));
    let bad = json!({"account_id": account_id, "direction": "credit", "amount": "20.00", "reason_code": "whim"});
    let (status, problem) = post(&app, &sam, "/api/v1/adjustments", &bad, None).await?;
    assert_eq!((status, &problem["code"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("reason_unknown")));
    Ok(())
}

#[tokio::test]
async fn deposits_and_arrangements_through_the_api_and_the_charges_page() -> TestResult {
    let app = spawn_app().await;
    let clerk = app.user_with_token("bea", Role::BillingClerk).await?;
    let account_id = account(&app, &clerk, "fair").await?;
    let (status, deposit) = post(&app, &clerk, "/api/v1/deposits", &json!({"account_id": account_id}), None).await?;
    assert_eq!(status, StatusCode::CREATED, "{deposit}");
    assert_eq!((&deposit["status"], &deposit["amount_minor"]), (&json!("billed"), &json!(10000)));
    let id = deposit["deposit_id"].as_i64().ok_or("no id")?;
    let (status, problem) = post(&app, &clerk, &format!("/api/v1/deposits/{id}/apply"), &json!({}), None).await?;
    assert_eq!((status, &problem["code"]), (StatusCode::CONFLICT, &json!("deposit_not_held")));

    let body = json!({"account_id": account_id, "instalment_count": 3, "frequency": "monthly",
        "first_due_date": "2030-01-15"});
    let (status, made) = post(&app, &clerk, "/api/v1/arrangements", &body, Some("arr-1")).await?;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let amounts: Vec<i64> = made["instalments"]
        .as_array()
        .ok_or("no instalments")?
        .iter()
        .filter_map(|i| i["amount_minor"].as_i64())
        .collect();
    assert_eq!(amounts, vec![3333, 3333, 3334]);
    let arrangement_id = made["arrangement"]["arrangement_id"].as_i64().ok_or("no id")?;
    let (status, cancelled) =
        post(&app, &clerk, &format!("/api/v1/arrangements/{arrangement_id}/cancel"), &json!({}), None).await?;
    assert_eq!((status, &cancelled["arrangement"]["status"]), (StatusCode::OK, &json!("cancelled")));
    let bad = json!({"account_id": account_id, "instalment_count": 99, "frequency": "monthly",
        "first_due_date": "2030-01-15"});
    let (status, problem) = post(&app, &clerk, "/api/v1/arrangements", &bad, None).await?;
    assert_eq!((status, &problem["code"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("instalment_count_invalid")));

    let browser = app.browser();
    let csrf = app.sign_in(&browser, "bea").await?;
    let page = browser.get(app.url(&format!("/accounts/{account_id}/charges"))).send().await?;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await?.contains("Require a deposit"));
    let form = [("_csrf", csrf.as_str()), ("fee_type", "reconnect_fee"), ("amount", ""), ("memo", "")];
    let response = browser.post(app.url(&format!("/accounts/{account_id}/charges/fees"))).form(&form).send().await?;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = browser.get(app.url(&format!("/accounts/{account_id}/charges"))).send().await?.text().await?;
    assert!(page.contains("Reconnection fee"), "the fee is listed");
    let bad = [("_csrf", csrf.as_str()), ("direction", "credit"), ("amount", "abc"), ("reason_code", "goodwill")];
    let response =
        browser.post(app.url(&format!("/accounts/{account_id}/charges/adjustments"))).form(&bad).send().await?;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await?.contains("amount"));
    Ok(())
}
