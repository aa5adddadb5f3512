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
    let customer = json!({"kind": "person", "first_name": "Maria", "last_name": "Lopez"});
    let account = json!({"bill_cycle": 3, "credit_rating": rating});
    Ok(app.open_account(token, customer, account).await?.account_id)
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
    assert_eq!(app.scalar("select count(*) from fee").await?, 1);
    assert_eq!(app.scalar("select count(*) from journal_entry where source_kind = 'fee'").await?, 1);

    let audit_before = app.scalar("select count(*) from audit").await?;
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
    assert_eq!(app.scalar("select count(*) from fee").await?, 1);
    assert_eq!(app.scalar("select count(*) from audit").await?, audit_before, "nothing half-written");
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
    assert_eq!(app.scalar("select count(*) from journal_entry where source_kind = 'adjustment'").await?, 0);

    let (status, approved) = post(&app, &sue, &approve, &json!({"note": "Checked"}), Some("approve-1")).await?;
    assert_eq!((status, &approved["status"]), (StatusCode::OK, &json!("approved")), "{approved}");
    let (status, replay) = post(&app, &sue, &approve, &json!({"note": "Checked"}), Some("approve-1")).await?;
    assert_eq!((status, &replay["entry_id"]), (StatusCode::OK, &approved["entry_id"]));
    let (status, problem) = post(&app, &sue, &approve, &json!({}), None).await?;
    assert_eq!((status, &problem["code"]), (StatusCode::CONFLICT, &json!("adjustment_not_pending")));
    assert_eq!(app.scalar("select count(*) from journal_entry where source_kind = 'adjustment'").await?, 1);
    assert_eq!(app.scalar("select count(*) from open_item where kind = 'adjustment'").await?, 1);

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

/// A customer's payment through the API, so a billed deposit becomes held.
async fn pay(app: &TestApp, token: &str, account_id: i64, amount: &str) -> Result<(), Error> {
    let body = json!({"account_id": account_id, "amount": amount, "tender": "card", "channel": "phone",
        "processor_token": "tok_visa_1", "card_brand": "visa", "last_four": "4242"});
    let (status, paid) = post(app, token, "/api/v1/payments", &body, None).await?;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    Ok(())
}

#[tokio::test]
async fn a_deposit_refund_above_the_limit_waits_in_the_approval_queue_for_another_supervisor() -> TestResult {
    let app = spawn_app().await;
    let sam = app.user_with_token("sam", Role::Supervisor).await?;
    app.user_with_token("sue", Role::Supervisor).await?;
    let account_id = account(&app, &sam, "poor").await?;
    let (_, deposit) = post(&app, &sam, "/api/v1/deposits", &json!({"account_id": account_id}), None).await?;
    let id = deposit["deposit_id"].as_i64().ok_or("no id")?;
    pay(&app, &sam, account_id, "200.00").await?;
    let refund = format!("/api/v1/deposits/{id}/refund");
    let (status, pending) = post(&app, &sam, &refund, &json!({"note": "Closing the account"}), Some("r-1")).await?;
    assert_eq!((status, &pending["status"]), (StatusCode::OK, &json!("refund_pending")), "{pending}");
    let (_, replay) = post(&app, &sam, &refund, &json!({"note": "Closing the account"}), Some("r-1")).await?;
    assert_eq!(replay["status"], "refund_pending", "the retry answers the same");
    let refunds = "select count(*) from journal_entry where source_kind = 'deposit_refund'";
    assert_eq!(app.scalar(refunds).await?, 0, "nothing posts while it waits");
    let queue: Value =
        app.api.get(app.url("/api/v1/deposits?status=refund_pending")).bearer_auth(&sam).send().await?.json().await?;
    assert_eq!(queue.as_array().map(Vec::len), Some(1), "{queue}");

    // The requester sees it in the queue without buttons, and a decision of theirs comes back
    // to the queue with the refusal's message.
    let own = app.browser();
    let csrf = app.sign_in(&own, "sam").await?;
    let page = own.get(app.url("/approvals")).send().await?.text().await?;
    assert!(page.contains("approval-deposit-refunds") && page.contains("Closing the account"), "{page}");
    assert!(!page.contains(&format!("/deposits/{id}/refund/approve")), "no approve button on one's own request");
    let response =
        own.post(app.url(&format!("/deposits/{id}/refund/approve"))).form(&[("_csrf", csrf.as_str())]).send().await?;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(location.starts_with("/approvals?error="), "{location}");
    let page = own.get(app.url(&location)).send().await?.text().await?;
    assert!(page.contains("Not done") && page.contains("other than the one who requested"), "{page}");
    assert_eq!(app.scalar(refunds).await?, 0);

    let other = app.browser();
    let csrf = app.sign_in(&other, "sue").await?;
    let page = other.get(app.url("/approvals")).send().await?.text().await?;
    assert!(page.contains(&format!("/deposits/{id}/refund/approve")), "another supervisor may decide");
    let response =
        other.post(app.url(&format!("/deposits/{id}/refund/approve"))).form(&[("_csrf", csrf.as_str())]).send().await?;
    assert_eq!(response.headers().get("location").and_then(|v| v.to_str().ok()), Some("/approvals?done=1"));
    assert_eq!(app.scalar(refunds).await?, 1, "approved and posted once");
    let response =
        other.post(app.url(&format!("/deposits/{id}/refund/approve"))).form(&[("_csrf", csrf.as_str())]).send().await?;
    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(location.starts_with("/approvals?error="), "a second approval is refused: {location}");
    assert_eq!(app.scalar(refunds).await?, 1, "never posted twice");
    Ok(())
}

#[tokio::test]
async fn a_refused_adjustment_decision_goes_back_to_the_queue_with_its_message() -> TestResult {
    let app = spawn_app().await;
    let sam = app.user_with_token("sam", Role::Supervisor).await?;
    app.user_with_token("sue", Role::Supervisor).await?;
    let account_id = account(&app, &sam, "good").await?;
    let body = json!({"account_id": account_id, "direction": "credit", "amount": "250.00",
        "reason_code": "goodwill", "note": "Storm outage"});
    let (_, pending) = post(&app, &sam, "/api/v1/adjustments", &body, None).await?;
    let id = pending["adjustment_id"].as_i64().ok_or("no id")?;
    let browser = app.browser();
    let csrf = app.sign_in(&browser, "sue").await?;
    let reject = app.url(&format!("/adjustments/{id}/reject"));
    let response = browser.post(reject.clone()).form(&[("_csrf", csrf.as_str()), ("note", "")]).send().await?;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(location.starts_with("/approvals?error=note"), "the refusal names the field: {location}");
    assert_eq!(app.scalar("select count(*) from adjustment where status = 'pending_approval'").await?, 1);
    let response = browser.post(reject).form(&[("_csrf", csrf.as_str()), ("note", "Not covered")]).send().await?;
    assert_eq!(response.headers().get("location").and_then(|v| v.to_str().ok()), Some("/approvals?done=1"));
    let page = browser.get(app.url("/approvals?done=1")).send().await?.text().await?;
    assert!(page.contains("Done."), "the queue says the decision was made");
    assert_eq!(app.scalar("select count(*) from adjustment where status = 'rejected'").await?, 1);
    Ok(())
}

#[tokio::test]
async fn admins_edit_the_fee_schedule_reasons_and_settings_on_a_page_and_every_change_is_audited() -> TestResult {
    let app = spawn_app().await;
    app.user_with_token("ada", Role::Admin).await?;
    app.user_with_token("bea", Role::BillingClerk).await?;
    let clerk = app.browser();
    app.sign_in(&clerk, "bea").await?;
    let refused = clerk.get(app.url("/admin/charges")).send().await?;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "billing clerks do not edit the schedule");

    let admin = app.browser();
    let csrf = app.sign_in(&admin, "ada").await?;
    let page = admin.get(app.url("/admin/charges")).send().await?.text().await?;
    assert!(page.contains("href=\"/admin/charges\""), "linked from the admin navigation");
    assert!(page.contains("admin-fee-types") && page.contains("returned_check_fee"));
    assert!(page.contains("adjustment_approval_limit_minor") && page.contains("late_fee_grace_period_days"));
    let audits = "select count(*) from audit where entity in ('fee_type', 'adjustment_reason', 'charge_setting')";
    let before = app.scalar(audits).await?;
    let c = csrf.as_str();
    for form in [
        vec![
            ("_csrf", c),
            ("action", "save_fee_type"),
            ("code", "meter_test_fee"),
            ("label", "Meter accuracy test"),
            ("default_amount_minor", "4500"),
            ("active", "1"),
        ],
        vec![
            ("_csrf", c),
            ("action", "save_fee_type"),
            ("code", "field_visit_fee"),
            ("label", "Field visit fee"),
            ("default_amount_minor", "2500"),
        ],
        vec![("_csrf", c), ("action", "add_reason"), ("code", "tariff_change"), ("label", "Tariff change")],
        vec![("_csrf", c), ("action", "deactivate_reason"), ("code", "goodwill")],
        vec![("_csrf", c), ("action", "set_setting"), ("key", "adjustment_approval_limit_minor"), ("value", "25000")],
    ] {
        let response = admin.post(app.url("/admin/charges")).form(&form).send().await?;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{form:?}");
    }
    assert_eq!(app.scalar(audits).await?, before + 5, "one audit record per change");
    assert_eq!(app.scalar("select default_amount_minor from fee_type where code = 'meter_test_fee'").await?, 4500);
    assert_eq!(app.scalar("select count(*) from fee_type where code = 'field_visit_fee' and active = false").await?, 1);
    assert_eq!(
        app.scalar("select count(*) from adjustment_reason where code = 'goodwill' and active = false").await?,
        1
    );
    let limit = "select value from charge_setting where setting_key = 'adjustment_approval_limit_minor'";
    assert_eq!(app.scalar(limit).await?, 25_000);

    for (form, field) in [
        (vec![("_csrf", c), ("action", "set_setting"), ("key", "late_fee_minimum_minor"), ("value", "-1")], "value"),
        (vec![("_csrf", c), ("action", "add_reason"), ("code", "Bad Code"), ("label", "x")], "code"),
        (
            vec![
                ("_csrf", c),
                ("action", "save_fee_type"),
                ("code", "late_fee"),
                ("label", "Late"),
                ("default_amount_minor", "ten"),
            ],
            "default amount",
        ),
    ] {
        let response = admin.post(app.url("/admin/charges")).form(&form).send().await?;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        assert!(response.text().await?.contains(field), "{field} is named");
    }
    assert_eq!(app.scalar(audits).await?, before + 5, "refused changes write nothing");
    Ok(())
}
