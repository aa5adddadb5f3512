//! Customer notices over HTTP: an NSF reversal through the API queues the `payment_returned`
//! email (visible at GET /api/v1/emails) and logs it on the timeline beside the reversal's
//! system contact; switched off at /api/v1/charge-settings, the next reversal sends none; a
//! deposit billed through the API queues its notice.

use kernel::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{TestApp, TestResult, spawn_app};

type Error = Box<dyn std::error::Error + Send + Sync>;

async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> Result<(StatusCode, Value), Error> {
    let response = app.api.post(app.url(path)).bearer_auth(token).json(body).send().await?;
    Ok((response.status(), response.json().await?))
}

async fn get(app: &TestApp, token: &str, path: &str) -> Result<Value, Error> {
    let response = app.api.get(app.url(path)).bearer_auth(token).send().await?;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    Ok(response.json().await?)
}

/// A customer with an email address and one account: (customer_id, account_id, account_number).
async fn emailable_account(app: &TestApp, token: &str) -> Result<(i64, i64, String), Error> {
    let customer = json!({"kind": "person", "first_name": "Maria", "last_name": "Lopez",
        "emails": [{"address": "maria.lopez@example.org"}]});
    let opened = app.open_account(token, customer, json!({"credit_rating": "fair"})).await?;
    Ok((opened.customer_id, opened.account_id, opened.account_number))
}

/// The queued emails to this customer, oldest first.
async fn emails_to(app: &TestApp, token: &str, customer_id: i64) -> Result<Vec<Value>, Error> {
    let all = get(app, token, "/api/v1/emails?status=queued&limit=200").await?;
    let mut mine: Vec<Value> =
        all.as_array().ok_or("not a list")?.iter().filter(|e| e["customer_id"] == customer_id).cloned().collect();
    mine.reverse();
    Ok(mine)
}

#[tokio::test]
async fn an_nsf_reversal_queues_the_returned_payment_email_once_unless_switched_off() -> TestResult {
    let app = spawn_app().await;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let clerk = app.user_with_token("bill", Role::BillingClerk).await?;
    let admin = app.user_with_token("ada", Role::Admin).await?;
    let (customer_id, account_id, number) = emailable_account(&app, &agent).await?;
    app.post_bill(account_id, "BILL-1", 6_000).await?;
    let check = json!({
        "account_id": account_id, "amount": "60.00", "tender": "check", "channel": "mail", "check_number": "1042"
    });
    let (_, taken) = post(&app, &agent, "/api/v1/payments", &check).await?;
    let payment_id = taken["payment"]["payment_id"].as_i64().ok_or("no payment id")?;
    let payment_number = taken["payment"]["payment_number"].as_str().ok_or("no payment number")?.to_string();
    assert!(emails_to(&app, &agent, customer_id).await?.is_empty(), "a payment sends no notice");

    let reverse = |id: i64| json!({"payment_id": id, "reason": "nsf"});
    let (status, reversal) = post(&app, &clerk, "/api/v1/reversals", &reverse(payment_id)).await?;
    assert_eq!(status, StatusCode::CREATED, "{reversal}");
    let emails = emails_to(&app, &agent, customer_id).await?;
    assert_eq!(emails.len(), 1, "{emails:?}");
    assert_eq!(emails[0]["to_addresses"], "maria.lopez@example.org");
    assert_eq!(emails[0]["subject"], format!("Your payment {payment_number} was returned"));
    let body = emails[0]["text_body"].as_str().ok_or("no body")?;
    assert!(body.contains(&format!("{payment_number} of 60.00 USD (check 1042) to account {number}")), "{body}");
    assert!(body.contains("fee of 25.00 USD"), "{body}");
    assert!(body.contains("now 85.00 USD"), "the balance after the reversal and the fee: {body}");
    let timeline = get(&app, &agent, &format!("/api/v1/customers/{customer_id}/contacts")).await?;
    let items = timeline["items"].as_array().ok_or("no items")?;
    let channels: Vec<&str> = items.iter().filter_map(|c| c["channel"].as_str()).collect();
    assert!(channels.contains(&"email"), "the notice is on the timeline: {channels:?}");
    assert!(items.iter().any(|c| c["sub_reason_code"] == "payment_reversed"), "the system contact stays");

    let (status, again) = post(&app, &clerk, "/api/v1/reversals", &reverse(payment_id)).await?;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(emails_to(&app, &agent, customer_id).await?.len(), 1, "a refused reversal sends nothing");

    let page = app.api.get(app.url("/admin/charges")).bearer_auth(&admin).send().await?.text().await?;
    assert!(page.contains("notice.payment_returned") && page.contains("template payment_returned"), "{page}");
    let switch = "/api/v1/charge-settings/notice.payment_returned";
    let (status, refused) = post(&app, &admin, switch, &json!({"value": 5})).await?;
    assert_eq!((status, refused["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("notice_switch_invalid")));
    let (status, off) = post(&app, &admin, switch, &json!({"value": 0})).await?;
    assert_eq!((status, off["value"].as_i64()), (StatusCode::OK, Some(0)), "{off}");
    let (_, second) = post(&app, &agent, "/api/v1/payments", &check).await?;
    let second_id = second["payment"]["payment_id"].as_i64().ok_or("no payment id")?;
    let (status, _) = post(&app, &clerk, "/api/v1/reversals", &reverse(second_id)).await?;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(emails_to(&app, &agent, customer_id).await?.len(), 1, "switched off: no second email");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_deposit_billed_through_the_api_queues_its_notice() -> TestResult {
    let app = spawn_app().await;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let clerk = app.user_with_token("bill", Role::BillingClerk).await?;
    let (customer_id, account_id, number) = emailable_account(&app, &agent).await?;
    let (status, deposit) = post(&app, &clerk, "/api/v1/deposits", &json!({"account_id": account_id})).await?;
    assert_eq!(status, StatusCode::CREATED, "{deposit}");
    let emails = emails_to(&app, &agent, customer_id).await?;
    assert_eq!(emails.len(), 1, "{emails:?}");
    assert_eq!(emails[0]["subject"], format!("Security deposit of 100.00 USD for account {number}"));
    app.stop().await;
    Ok(())
}
