//! Paying approved refunds out: a refunded deposit and an approved overpayment refund wait on
//! the payout list (`/payouts`) until a cashier records the check number or card refund
//! reference; each posts Dr refunds payable / Cr cash exactly once, through the page or the API.

use kernel::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{TestApp, TestResult, spawn_app};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A customer with one account of the given credit rating; yields the account id.
async fn account(app: &TestApp, token: &str, rating: &str) -> Result<i64, Error> {
    let customer = json!({"kind": "person", "first_name": "Ines", "last_name": "Okafor"});
    let account = json!({"bill_cycle": 5, "credit_rating": rating});
    Ok(app.open_account(token, customer, account).await?.account_id)
}

async fn post(app: &TestApp, token: &str, path: &str, body: &Value, key: &str) -> Result<(StatusCode, Value), Error> {
    let request = app.api.post(app.url(path)).bearer_auth(token).header("Idempotency-Key", key).json(body);
    let response = request.send().await?;
    let status = response.status();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

async fn pay_by_card(app: &TestApp, token: &str, account_id: i64, amount: &str, key: &str) -> Result<(), Error> {
    let body = json!({"account_id": account_id, "amount": amount, "tender": "card", "channel": "phone",
        "processor_token": "tok_payout", "card_brand": "visa", "last_four": "4242"});
    let (status, paid) = post(app, token, "/api/v1/payments", &body, key).await?;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    Ok(())
}

fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

const PAYABLE: &str = "select coalesce(cast(sum(l.amount_minor) as bigint), 0) from journal_line l
    join ledger_account a on a.ledger_account_id = l.ledger_account_id where a.code = '2100'";
const DEPOSIT_PAYOUTS: &str = "select count(*) from journal_entry where source_kind = 'deposit_refund_issue'";

#[tokio::test]
async fn a_refunded_deposit_is_paid_out_once_from_the_payout_list() -> TestResult {
    let app = spawn_app().await;
    let sam = app.user_with_token("sam", Role::Supervisor).await?;
    let sue = app.user_with_token("sue", Role::Supervisor).await?;
    app.user_with_token("cara", Role::Cashier).await?;
    let account_id = account(&app, &sam, "poor").await?;
    let (_, deposit) = post(&app, &sam, "/api/v1/deposits", &json!({"account_id": account_id}), "d-1").await?;
    let id = deposit["deposit_id"].as_i64().ok_or("no deposit id")?;
    pay_by_card(&app, &sam, account_id, "200.00", "p-1").await?;
    let issue = format!("/api/v1/deposits/{id}/refund/issue");
    let (status, early) = post(&app, &sam, &issue, &json!({"reference": "CHK-1"}), "i-0").await?;
    assert_eq!((status, &early["code"]), (StatusCode::CONFLICT, &json!("deposit_refund_not_to_issue")), "{early}");
    post(&app, &sam, &format!("/api/v1/deposits/{id}/refund"), &json!({"note": "Moving away"}), "r-1").await?;
    let (status, approved) =
        post(&app, &sue, &format!("/api/v1/deposits/{id}/refund/approve"), &json!({}), "a-1").await?;
    assert_eq!((status, &approved["status"]), (StatusCode::OK, &json!("refunded")), "{approved}");
    assert_eq!(app.scalar(PAYABLE).await?, -20_000, "the refund waits on refunds payable");

    // The cashier sees it on the payout list; a blank reference comes back with the reason.
    let cashier = app.browser();
    let csrf = app.sign_in(&cashier, "cara").await?;
    let page = cashier.get(app.url("/payouts")).send().await?.text().await?;
    assert!(page.contains("payout-deposit-refunds") && page.contains("Moving away"), "{page}");
    let form = format!("/deposits/{id}/refund/issue");
    let response = cashier.post(app.url(&form)).form(&[("_csrf", csrf.as_str()), ("reference", " ")]).send().await?;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let refused = location(&response);
    assert!(refused.starts_with("/payouts?error="), "{refused}");
    let page = cashier.get(app.url(&refused)).send().await?.text().await?;
    assert!(page.contains("Not done") && page.contains("check number"), "{page}");
    assert_eq!(app.scalar(DEPOSIT_PAYOUTS).await?, 0, "nothing written");

    let response =
        cashier.post(app.url(&form)).form(&[("_csrf", csrf.as_str()), ("reference", "CHK-2001")]).send().await?;
    assert_eq!(location(&response), "/payouts?done=1");
    assert_eq!(app.scalar(DEPOSIT_PAYOUTS).await?, 1);
    assert_eq!(app.scalar(PAYABLE).await?, 0, "refunds payable is cleared against cash");
    let page = cashier.get(app.url("/payouts")).send().await?.text().await?;
    assert!(page.contains("No deposit refunds waiting to be paid."), "{page}");

    // A second payout is refused through the API too, and nothing posts again.
    let (status, twice) = post(&app, &sam, &issue, &json!({"reference": "CHK-2002"}), "i-2").await?;
    assert_eq!((status, &twice["code"]), (StatusCode::CONFLICT, &json!("deposit_refund_not_to_issue")), "{twice}");
    let listed: Value =
        app.api.get(app.url("/api/v1/deposits?status=refund_issued")).bearer_auth(&sam).send().await?.json().await?;
    assert_eq!(listed[0]["refund_issued_reference"], "CHK-2001", "{listed}");
    assert_eq!(app.scalar(DEPOSIT_PAYOUTS).await?, 1);
    Ok(())
}

#[tokio::test]
async fn an_approved_overpayment_refund_is_paid_out_from_the_payout_list_and_retries_are_harmless() -> TestResult {
    let app = spawn_app().await;
    let agent = app.user_with_token("ada", Role::Agent1).await?;
    let sue = app.user_with_token("sue", Role::Supervisor).await?;
    let cashier_token = app.user_with_token("cara", Role::Cashier).await?;
    let account_id = account(&app, &sue, "good").await?;
    pay_by_card(&app, &agent, account_id, "30.00", "p-1").await?;
    let body = json!({"account_id": account_id, "amount": "30.00", "reason": "paid the wrong account"});
    let (status, refund) = post(&app, &agent, "/api/v1/refunds", &body, "rf-1").await?;
    assert_eq!(status, StatusCode::CREATED, "{refund}");
    let refund_id = refund["refund_id"].as_i64().ok_or("no refund id")?;
    let before = app.browser();
    app.sign_in(&before, "cara").await?;
    let page = before.get(app.url("/payouts")).send().await?.text().await?;
    assert!(!page.contains(&format!("/refunds/{refund_id}/issue")), "not approved yet, so not payable");
    post(&app, &sue, &format!("/api/v1/refunds/{refund_id}/approve"), &json!({"note": "ok"}), "ap-1").await?;

    let cashier = app.browser();
    let csrf = app.sign_in(&cashier, "cara").await?;
    let page = cashier.get(app.url("/payouts")).send().await?.text().await?;
    assert!(page.contains(&format!("/refunds/{refund_id}/issue")) && page.contains("paid the wrong account"), "{page}");
    let form = format!("/refunds/{refund_id}/issue");
    let response =
        cashier.post(app.url(&form)).form(&[("_csrf", csrf.as_str()), ("reference", "RFN-88231")]).send().await?;
    assert_eq!(location(&response), "/payouts?done=1");
    let again =
        cashier.post(app.url(&form)).form(&[("_csrf", csrf.as_str()), ("reference", "RFN-88231")]).send().await?;
    assert!(location(&again).starts_with("/payouts?error="), "paid once only");
    let issued: Value =
        app.api.get(app.url("/api/v1/refunds?status=issued")).bearer_auth(&cashier_token).send().await?.json().await?;
    assert_eq!(issued.as_array().map(Vec::len), Some(1), "{issued}");
    assert_eq!(issued[0]["issued_reference"], "RFN-88231");
    assert_eq!(app.scalar(PAYABLE).await?, 0);
    let agent_page = app.api.get(app.url("/payouts")).bearer_auth(&agent).send().await?;
    assert_eq!(agent_page.status(), StatusCode::FORBIDDEN, "agents do not pay money out");
    Ok(())
}
