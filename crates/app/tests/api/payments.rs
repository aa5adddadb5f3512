//! Payments over HTTP: taking payments that settle bills (exactly, under concurrency and with
//! Idempotency-Key), card numbers refused, cash-only accounts, refunds approved by a different
//! supervisor, payment files validated whole, NSF reversals, transfers, drawers and deposits.

use kernel::{Actor, Clock, Currency, Money, Role};
use ledger::{BusinessDate, EntryDraft, LedgerCode, LineDraft};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{TestApp, TestResult, spawn_app};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A customer with one account: (account_id, account_number).
async fn new_account(app: &TestApp, token: &str, cash_only: bool) -> Result<(i64, String), Error> {
    let body = json!({"kind": "person", "first_name": "Maria", "last_name": "Lopez"});
    let created: Value =
        app.api.post(app.url("/api/v1/customers")).bearer_auth(token).json(&body).send().await?.json().await?;
    let customer_id = created["customer"]["customer_id"].as_i64().ok_or("no customer id")?;
    let body = json!({"customer_id": customer_id, "cash_only": cash_only});
    let response = app.api.post(app.url("/api/v1/accounts")).bearer_auth(token).json(&body).send().await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let account: Value = response.json().await?;
    Ok((account["account_id"].as_i64().ok_or("no account id")?, account["account_number"].as_str().unwrap().into()))
}

/// Posts a bill of `minor` to the account straight through the ledger ops, as billing would.
async fn bill(app: &TestApp, account_id: i64, reference: &str, minor: i64) -> Result<(), Error> {
    let now = app.clock.now();
    let amount = Money::new(minor, Currency::USD);
    let today = BusinessDate::of(now);
    let draft = EntryDraft::new(today, "bill", reference)
        .line(LineDraft::debit(LedgerCode::RECEIVABLE, Some(account_id), amount))
        .line(LineDraft::credit("4020", None, amount));
    let mut tx = app.db.begin().await?;
    let posted = ledger::ops::post(&mut tx, &Actor::system("test"), &draft, now).await?;
    ledger::ops::charge(&mut tx, account_id, posted.entry_id, "bill", reference, today.plus_days(20), amount, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn balance(app: &TestApp, account_id: i64) -> Result<i64, Error> {
    let mut tx = app.db.read().await?;
    Ok(ledger::ops::receivable_balance(&mut tx, account_id, Currency::USD).await?.amount_minor)
}

async fn open_minor(app: &TestApp, account_id: i64) -> Result<i64, Error> {
    let mut tx = app.db.read().await?;
    Ok(db::scalar!(
        &mut tx,
        Option<i64>,
        "select cast(sum(open_minor) as bigint) from open_item where account_id = $1",
        account_id
    )?
    .unwrap_or(0))
}

fn card(account_id: i64, amount: &str) -> Value {
    json!({"account_id": account_id, "amount": amount, "tender": "card", "channel": "phone",
           "processor_token": "tok_abc123", "card_brand": "visa", "last_four": "4242"})
}

#[tokio::test]
async fn a_payment_settles_the_bill_and_prints_a_receipt() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("ana", Role::Agent1).await?;
    let (account_id, _) = new_account(&app, &token, false).await?;
    bill(&app, account_id, "BILL-1", 10_000).await?;
    let response =
        app.api.post(app.url("/api/v1/payments")).bearer_auth(&token).json(&card(account_id, "60.00")).send().await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let taken: Value = response.json().await?;
    assert!(taken["payment"]["payment_number"].as_str().unwrap().starts_with("PAY-"));
    assert!(taken["payment"]["receipt_number"].as_str().unwrap().starts_with("RCT-"));
    assert_eq!(taken["balance_minor"], 4_000);
    assert_eq!(open_minor(&app, account_id).await?, 4_000);
    let id = taken["payment"]["payment_id"].as_i64().unwrap();
    let read: Value =
        app.api.get(app.url(&format!("/api/v1/payments/{id}"))).bearer_auth(&token).send().await?.json().await?;
    assert_eq!(read["last_four"], "4242");
    let list: Value = app
        .api
        .get(app.url(&format!("/api/v1/accounts/{account_id}/payments")))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    // An overpayment leaves a credit that settles the next bill.
    let r =
        app.api.post(app.url("/api/v1/payments")).bearer_auth(&token).json(&card(account_id, "50.00")).send().await?;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(balance(&app, account_id).await?, -1_000);
    bill(&app, account_id, "BILL-2", 3_000).await?;
    assert_eq!(open_minor(&app, account_id).await?, 2_000);
    let browser = app.browser();
    app.add_user("cora", Role::Cashier).await?;
    app.sign_in(&browser, "cora").await?;
    let page = browser.get(app.url(&format!("/payments/{id}/receipt"))).send().await?;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await?;
    assert!(html.contains(&format!("RCT-{id:07}")), "receipt number on the page");
    assert!(html.contains("@media print"), "print CSS");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn card_numbers_and_cash_only_accounts_are_refused() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("ana", Role::Agent1).await?;
    let (account_id, _) = new_account(&app, &token, false).await?;
    let mut body = card(account_id, "10.00");
    body["processor_token"] = "4111 1111 1111 1111".into();
    let r = app.api.post(app.url("/api/v1/payments")).bearer_auth(&token).json(&body).send().await?;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = r.json().await?;
    assert_eq!(problem["code"], "card_number_refused");
    assert_eq!(problem["errors"][0]["field"], "processor_token");
    let (cash_only, _) = new_account(&app, &token, true).await?;
    let r =
        app.api.post(app.url("/api/v1/payments")).bearer_auth(&token).json(&card(cash_only, "10.00")).send().await?;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await?["code"], "account_is_cash_only");
    // Counter cash needs an open drawer.
    let cash = json!({"account_id": account_id, "amount": "5.00", "tender": "cash", "channel": "counter"});
    let r = app.api.post(app.url("/api/v1/payments")).bearer_auth(&token).json(&cash).send().await?;
    assert_eq!(r.json::<Value>().await?["code"], "drawer_required");
    let mut tx = app.db.read().await?;
    assert_eq!(db::scalar!(&mut tx, i64, "select count(*) from payment")?, 0, "nothing half-written");
    drop(tx);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn fifty_concurrent_payments_leave_the_exact_balance() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("ana", Role::Agent1).await?;
    let (account_id, _) = new_account(&app, &token, false).await?;
    bill(&app, account_id, "BILL-1", 100_000).await?;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (client, url, token) = (app.api.clone(), app.url("/api/v1/payments"), token.clone());
        let body = card(account_id, "12.34");
        tasks.push(tokio::spawn(async move { client.post(url).bearer_auth(token).json(&body).send().await }));
    }
    for task in tasks {
        assert_eq!(task.await??.status(), StatusCode::CREATED);
    }
    assert_eq!(balance(&app, account_id).await?, 100_000 - 50 * 1_234);
    assert_eq!(open_minor(&app, account_id).await?, 100_000 - 50 * 1_234);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn twenty_identical_requests_with_one_key_make_one_payment() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("ana", Role::Agent1).await?;
    let (account_id, _) = new_account(&app, &token, false).await?;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (client, url, token) = (app.api.clone(), app.url("/api/v1/payments"), token.clone());
        let body = card(account_id, "25.00");
        tasks.push(tokio::spawn(async move {
            client.post(url).bearer_auth(token).header("Idempotency-Key", "pay-once").json(&body).send().await
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        let response = task.await??;
        let status = response.status();
        let body: Value = response.json().await?;
        match status {
            StatusCode::CREATED => ids.push(body["payment"]["payment_id"].as_i64().unwrap()),
            StatusCode::CONFLICT => assert_eq!(body["code"], "idempotency_request_in_progress"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every answer names the same payment");
    assert_eq!(balance(&app, account_id).await?, -2_500, "paid once");
    let mut tx = app.db.read().await?;
    assert_eq!(db::scalar!(&mut tx, i64, "select count(*) from payment")?, 1);
    drop(tx);
    app.stop().await;
    Ok(())
}
