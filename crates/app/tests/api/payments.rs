//! Payments over HTTP: taking payments that settle bills (exactly, under concurrency and with
//! Idempotency-Key), card numbers refused, cash-only accounts, refunds approved by a different
//! supervisor, payment files validated whole, NSF reversals, transfers, drawers and deposits.

use kernel::{Currency, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{TestApp, TestResult, spawn_app};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A customer with one account: (account_id, account_number).
async fn new_account(app: &TestApp, token: &str, cash_only: bool) -> Result<(i64, String), Error> {
    let customer = json!({"kind": "person", "first_name": "Maria", "last_name": "Lopez"});
    let opened = app.open_account(token, customer, json!({"cash_only": cash_only})).await?;
    Ok((opened.account_id, opened.account_number))
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
    app.post_bill(account_id, "BILL-1", 10_000).await?;
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
    app.post_bill(account_id, "BILL-2", 3_000).await?;
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
    app.post_bill(account_id, "BILL-1", 100_000).await?;
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

async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> Result<(StatusCode, Value), Error> {
    let response = app.api.post(app.url(path)).bearer_auth(token).json(body).send().await?;
    let status = response.status();
    let text = response.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
}

#[tokio::test]
async fn a_refund_needs_a_supervisor_who_did_not_request_it() -> TestResult {
    let app = spawn_app().await;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let sue = app.user_with_token("sue", Role::Supervisor).await?;
    let sam = app.user_with_token("sam", Role::Supervisor).await?;
    let (account_id, _) = new_account(&app, &agent, false).await?;
    let (status, _) = post(&app, &agent, "/api/v1/payments", &card(account_id, "80.00")).await?;
    assert_eq!(status, StatusCode::CREATED);
    let too_much = json!({"account_id": account_id, "amount": "80.01", "reason": "overpaid"});
    let (status, problem) = post(&app, &sue, "/api/v1/refunds", &too_much).await?;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("refund_exceeds_credit")));
    let ask = json!({"account_id": account_id, "amount": "30.00", "reason": "overpaid"});
    let (status, refund) = post(&app, &sue, "/api/v1/refunds", &ask).await?;
    assert_eq!(status, StatusCode::CREATED, "{refund}");
    let id = refund["refund_id"].as_i64().unwrap();
    let approve = format!("/api/v1/refunds/{id}/approve");
    let (status, problem) = post(&app, &agent, &approve, &json!({})).await?;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::FORBIDDEN, Some("permission_denied")));
    let (status, problem) = post(&app, &sue, &approve, &json!({})).await?;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::FORBIDDEN, Some("refund_requires_different_approver")));
    let list: Value =
        app.api.get(app.url("/api/v1/refunds?status=requested")).bearer_auth(&sam).send().await?.json().await?;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let (status, approved) = post(&app, &sam, &approve, &json!({"note": "ok"})).await?;
    assert_eq!((status, approved["status"].as_str()), (StatusCode::OK, Some("approved")));
    assert_eq!(balance(&app, account_id).await?, -5_000, "the refunded credit left the account");
    let (status, _) = post(&app, &sam, &approve, &json!({})).await?;
    assert_eq!(status, StatusCode::CONFLICT, "approved once");
    let cashier = app.user_with_token("cora", Role::Cashier).await?;
    let issue = format!("/api/v1/refunds/{id}/issue");
    let (status, issued) = post(&app, &cashier, &issue, &json!({"reference": "CHK-1001"})).await?;
    assert_eq!((status, issued["status"].as_str()), (StatusCode::OK, Some("issued")), "{issued}");
    // The other branch: a rejected refund moves no money.
    let (_, second) =
        post(&app, &agent, "/api/v1/refunds", &json!({"account_id": account_id, "amount": "10.00"})).await?;
    let reject = format!("/api/v1/refunds/{}/reject", second["refund_id"].as_i64().unwrap());
    let (status, rejected) = post(&app, &sam, &reject, &json!({"note": "call the customer"})).await?;
    assert_eq!((status, rejected["status"].as_str()), (StatusCode::OK, Some("rejected")));
    assert_eq!(balance(&app, account_id).await?, -5_000);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_bad_payment_file_posts_nothing_and_lists_every_error() -> TestResult {
    let app = spawn_app().await;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let clerk = app.user_with_token("bill", Role::BillingClerk).await?;
    let (first, first_number) = new_account(&app, &agent, false).await?;
    let (_, second_number) = new_account(&app, &agent, false).await?;
    app.post_bill(first, "BILL-1", 5_000).await?;
    let bad = format!(
        "\u{feff}account_number;amount;reference;date\n{first_number};12.x;R-1;2026-11-30\n\
         {second_number};5.00;R-2;2026-13-01\n\
         0000000000;5.00;R-3;2026-11-30\n{second_number};5.00;R-2;2026-11-30\n{first_number};-1;;2026-11-30\n"
    );
    let response = app.api.post(app.url("/api/v1/payment-files")).bearer_auth(&clerk).body(bad).send().await?;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = response.json().await?;
    assert_eq!(problem["code"], "payment_file_invalid");
    let errors = problem["errors"].as_array().unwrap();
    let fields: Vec<&str> = errors.iter().map(|e| e["field"].as_str().unwrap()).collect();
    for expected in [
        "line 2: amount",
        "line 3: date",
        "line 4: account_number",
        "line 5: reference",
        "line 6: amount",
        "line 6: reference",
    ] {
        assert!(fields.contains(&expected), "{expected} missing from {fields:?}");
    }
    let mut tx = app.db.read().await?;
    assert_eq!(db::scalar!(&mut tx, i64, "select count(*) from payment")?, 0, "nothing posted");
    drop(tx);
    let good = format!(
        "{first_number},30.00,LBX-1,2026-11-30\n{second_number},12.50,LBX-2,2026-11-30\n\
         {first_number},5.00,LBX-3,2026-11-30\n"
    );
    let body = json!({"file_name": "lockbox.csv", "text": good});
    let (status, imported) = post(&app, &clerk, "/api/v1/payment-files", &body).await?;
    assert_eq!(status, StatusCode::CREATED, "{imported}");
    assert_eq!(imported["payment_count"], 3);
    assert_eq!(imported["total_minor"], 4_750);
    assert_eq!(balance(&app, first).await?, 1_500);
    assert_eq!(open_minor(&app, first).await?, 1_500, "the file's payments settled the bill");
    let (status, problem) = post(&app, &clerk, "/api/v1/payment-files", &body).await?;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("payment_file_duplicate")));
    // The same new file twice under one Idempotency-Key: one import, the same answer twice.
    let keyed = json!({"file_name": "lockbox-2.csv", "text": format!("{second_number},2.00,LBX-9,2026-11-30\n")});
    let mut answers = Vec::new();
    for _ in 0..2 {
        let url = app.url("/api/v1/payment-files");
        let response =
            app.api.post(url).bearer_auth(&clerk).header("Idempotency-Key", "file-once").json(&keyed).send().await?;
        answers.push((response.status(), response.json::<Value>().await?));
    }
    assert_eq!(answers[0].0, StatusCode::CREATED, "{}", answers[0].1);
    assert_eq!(answers[0], answers[1], "the repeat answers the first import");
    let mut tx = app.db.read().await?;
    assert_eq!(db::scalar!(&mut tx, i64, "select count(*) from payment_file")?, 2, "imported once");
    drop(tx);
    let again = format!("{second_number},1.00,LBX-2,2026-11-30\n");
    let response = app.api.post(app.url("/api/v1/payment-files")).bearer_auth(&clerk).body(again).send().await?;
    assert_eq!(response.status(), StatusCode::CONFLICT, "a reference imported before");
    // A payment taken through the API after a bulk import gets the next number.
    let (status, taken) = post(&app, &agent, "/api/v1/payments", &card(first, "1.00")).await?;
    assert_eq!(status, StatusCode::CREATED, "{taken}");
    let mut tx = app.db.read().await?;
    let unbalanced = db::scalar!(
        &mut tx,
        i64,
        "select count(*) from (select entry_id from journal_line group by entry_id having sum(amount_minor) <> 0) u"
    )?;
    assert_eq!(unbalanced, 0);
    drop(tx);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_nsf_reversal_reopens_the_bill_adds_the_fee_and_two_make_the_account_cash_only() -> TestResult {
    let app = spawn_app().await;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let clerk = app.user_with_token("bill", Role::BillingClerk).await?;
    let (account_id, _) = new_account(&app, &agent, false).await?;
    app.post_bill(account_id, "BILL-1", 6_000).await?;
    let check = json!({
        "account_id": account_id, "amount": "60.00", "tender": "check", "channel": "mail", "check_number": "1042"
    });
    let (_, taken) = post(&app, &agent, "/api/v1/payments", &check).await?;
    assert_eq!(open_minor(&app, account_id).await?, 0);
    let payment_id = taken["payment"]["payment_id"].as_i64().unwrap();
    let (status, reversal) =
        post(&app, &clerk, "/api/v1/reversals", &json!({"payment_id": payment_id, "reason": "nsf"})).await?;
    assert_eq!(status, StatusCode::CREATED, "{reversal}");
    assert_eq!(reversal["fee_minor"], 2_500);
    assert_eq!(balance(&app, account_id).await?, 8_500);
    assert_eq!(open_minor(&app, account_id).await?, 8_500, "the bill reopened and the fee is open");
    assert_eq!(reversal["account_now_cash_only"], false);
    let (status, problem) =
        post(&app, &clerk, "/api/v1/reversals", &json!({"payment_id": payment_id, "reason": "nsf"})).await?;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("payment_already_reversed")));
    let (_, second) = post(&app, &agent, "/api/v1/payments", &check).await?;
    let second_id = second["payment"]["payment_id"].as_i64().unwrap();
    let (_, reversal) =
        post(&app, &clerk, "/api/v1/reversals", &json!({"payment_id": second_id, "reason": "returned_check"})).await?;
    assert_eq!(reversal["account_now_cash_only"], true);
    let (status, problem) = post(&app, &agent, "/api/v1/payments", &check).await?;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("account_is_cash_only")));
    let mut tx = app.db.read().await?;
    let contacts =
        db::scalar!(&mut tx, i64, "select count(*) from contact where sub_reason_code = 'payment_reversed'")?;
    assert_eq!(contacts, 2, "each reversal is on the customer's timeline");
    drop(tx);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_misapplied_payment_moves_to_the_right_account() -> TestResult {
    let app = spawn_app().await;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let clerk = app.user_with_token("bill", Role::BillingClerk).await?;
    let (wrong, _) = new_account(&app, &agent, false).await?;
    let (right, _) = new_account(&app, &agent, false).await?;
    app.post_bill(wrong, "BILL-W", 1_000).await?;
    app.post_bill(right, "BILL-R", 4_000).await?;
    let (_, taken) = post(&app, &agent, "/api/v1/payments", &card(wrong, "40.00")).await?;
    let id = taken["payment"]["payment_id"].as_i64().unwrap();
    let path = format!("/api/v1/payments/{id}/transfer");
    let (status, problem) = post(&app, &clerk, &path, &json!({"to_account_id": right, "amount": "40.01"})).await?;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("transfer_exceeds_payment"))
    );
    let (status, moved) = post(&app, &clerk, &path, &json!({"to_account_id": right, "memo": "wrong account"})).await?;
    assert_eq!(status, StatusCode::CREATED, "{moved}");
    assert_eq!((balance(&app, wrong).await?, open_minor(&app, wrong).await?), (1_000, 1_000), "bill reopened");
    assert_eq!((balance(&app, right).await?, open_minor(&app, right).await?), (0, 0), "bill paid");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_drawer_close_posts_over_short_and_a_deposit_takes_it_to_the_bank() -> TestResult {
    let app = spawn_app().await;
    let cashier = app.user_with_token("cora", Role::Cashier).await?;
    let sup = app.user_with_token("sue", Role::Supervisor).await?;
    let (account_id, _) = new_account(&app, &cashier, false).await?;
    let (status, drawer) = post(&app, &cashier, "/api/v1/drawers", &json!({"float": "100.00"})).await?;
    assert_eq!(status, StatusCode::CREATED, "{drawer}");
    let drawer_id = drawer["drawer_id"].as_i64().unwrap();
    let (status, _) = post(&app, &cashier, "/api/v1/drawers", &json!({"float": "100.00"})).await?;
    assert_eq!(status, StatusCode::CONFLICT, "one open drawer a cashier");
    let cash = json!({"account_id": account_id, "amount": "45.00", "tender": "cash"});
    let (status, taken) = post(&app, &cashier, "/api/v1/payments", &cash).await?;
    assert_eq!(status, StatusCode::CREATED, "{taken}");
    assert_eq!(taken["payment"]["drawer_id"], drawer_id);
    let check = json!({"account_id": account_id, "amount": "20.00", "tender": "check", "check_number": "77"});
    post(&app, &cashier, "/api/v1/payments", &check).await?;
    let mail = json!({"account_id": account_id, "amount": "10.00", "tender": "money_order", "channel": "mail"});
    post(&app, &cashier, "/api/v1/payments", &mail).await?;
    let close = format!("/api/v1/drawers/{drawer_id}/close");
    let (status, closed) =
        post(&app, &cashier, &close, &json!({"counted_cash": "143.00", "counted_checks": "20.00"})).await?;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["expected_cash_minor"], 14_500);
    assert_eq!(closed["over_short_minor"], -200);
    let mut tx = app.db.read().await?;
    let short = db::scalar!(
        &mut tx,
        i64,
        "select cast(sum(l.amount_minor) as bigint) from journal_line l join ledger_account a using (ledger_account_id)
         where a.code = '6100'"
    )?;
    assert_eq!(short, 200, "the shortage is an expense");
    drop(tx);
    let sign_off = format!("/api/v1/drawers/{drawer_id}/sign-off");
    let (status, _) = post(&app, &sup, &sign_off, &json!({})).await?;
    assert_eq!(status, StatusCode::OK);
    let (status, deposit) = post(&app, &cashier, "/api/v1/bank-deposits", &json!({})).await?;
    assert_eq!(status, StatusCode::CREATED, "{deposit}");
    assert_eq!(deposit["deposit"]["total_minor"], 4_500 + 2_000 + 1_000 - 200);
    assert_eq!(deposit["deposit"]["payment_count"], 3);
    let (status, problem) = post(&app, &cashier, "/api/v1/bank-deposits", &json!({})).await?;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("nothing_to_deposit")),
        "deposited once"
    );
    let mut tx = app.db.read().await?;
    let undeposited = db::scalar!(
        &mut tx,
        Option<i64>,
        "select cast(sum(l.amount_minor) as bigint) from journal_line l join ledger_account a using (ledger_account_id)
         where a.code = '1010'"
    )?;
    assert_eq!(undeposited, Some(0), "undeposited funds all went to the bank");
    drop(tx);
    app.stop().await;
    Ok(())
}

/// The sum of the lines on one general-ledger account.
async fn ledger_sum(app: &TestApp, code: &'static str) -> Result<i64, Error> {
    let mut tx = app.db.read().await?;
    Ok(db::scalar!(
        &mut tx,
        Option<i64>,
        "select cast(sum(l.amount_minor) as bigint) from journal_line l join ledger_account a using (ledger_account_id)
         where a.code = $1",
        code
    )?
    .unwrap_or(0))
}

#[tokio::test]
async fn a_drawer_payment_reversed_before_the_deposit_is_not_deposited_and_is_named_for_the_clerk() -> TestResult {
    let app = spawn_app().await;
    let cashier = app.user_with_token("cora", Role::Cashier).await?;
    let clerk = app.user_with_token("bill", Role::BillingClerk).await?;
    let (account_id, _) = new_account(&app, &cashier, false).await?;
    let (_, drawer) = post(&app, &cashier, "/api/v1/drawers", &json!({"float": "50.00"})).await?;
    let drawer_id = drawer["drawer_id"].as_i64().ok_or("no drawer")?;
    let mut ids = Vec::new();
    for body in [
        json!({"account_id": account_id, "amount": "30.00", "tender": "cash"}),
        json!({"account_id": account_id, "amount": "20.00", "tender": "check", "check_number": "88"}),
        json!({"account_id": account_id, "amount": "15.00", "tender": "cash"}),
    ] {
        let (status, taken) = post(&app, &cashier, "/api/v1/payments", &body).await?;
        assert_eq!(status, StatusCode::CREATED, "{taken}");
        ids.push(taken["payment"]["payment_id"].as_i64().ok_or("no payment id")?);
    }
    // Keyed in error while the drawer is open: the cash goes back at once, so it is not counted.
    let (status, _) =
        post(&app, &clerk, "/api/v1/reversals", &json!({"payment_id": ids[2], "reason": "error"})).await?;
    assert_eq!(status, StatusCode::CREATED);
    let close = format!("/api/v1/drawers/{drawer_id}/close");
    let (_, closed) =
        post(&app, &cashier, &close, &json!({"counted_cash": "80.00", "counted_checks": "20.00"})).await?;
    assert_eq!(closed["over_short_minor"], 0, "{closed}");
    // The check was counted into the bag; the payment is reversed before the bag goes to the bank.
    app.clock.advance_seconds(600);
    let (status, _) =
        post(&app, &clerk, "/api/v1/reversals", &json!({"payment_id": ids[1], "reason": "error"})).await?;
    assert_eq!(status, StatusCode::CREATED);

    let (status, deposit) = post(&app, &cashier, "/api/v1/bank-deposits", &json!({})).await?;
    assert_eq!(status, StatusCode::CREATED, "{deposit}");
    assert_eq!(deposit["deposit"]["total_minor"], 3_000, "only the payment that stands goes to the bank");
    assert_eq!(deposit["tenders"], json!([{"tender": "cash", "count": 1, "total_minor": 3_000}]));
    assert_eq!(deposit["pulled"], json!([{"tender": "check", "count": 1, "total_minor": 2_000}]));
    let in_bag = 8_000 + 2_000 - 5_000;
    let pulled = deposit["pulled"][0]["total_minor"].as_i64().ok_or("no pulled total")?;
    assert_eq!(
        deposit["deposit"]["total_minor"].as_i64().map(|t| t + pulled),
        Some(in_bag),
        "the bag is accounted for"
    );
    assert_eq!(ledger_sum(&app, "1010").await?, 0, "undeposited funds hold nothing more");
    assert_eq!(ledger_sum(&app, "1000").await?, 3_000, "cash in the bank is the deposit");
    let id = deposit["deposit"]["bank_deposit_id"].as_i64().ok_or("no deposit id")?;
    let again: Value =
        app.api.get(app.url(&format!("/api/v1/bank-deposits/{id}"))).bearer_auth(&cashier).send().await?.json().await?;
    assert_eq!(again["pulled"], deposit["pulled"], "the deposit says the same later");
    app.stop().await;
    Ok(())
}

/// A customer with a phone, an address and `accounts` accounts; yields their numbers.
async fn customer_with_accounts(
    app: &TestApp,
    token: &str,
    last: &str,
    phone: &str,
    street: &str,
    accounts: usize,
) -> Result<Vec<String>, Error> {
    let body = json!({"kind": "person", "first_name": "Rosa", "last_name": last,
        "phones": [{"label": "home", "number": phone}],
        "addresses": [{"line1": street, "city": "Springfield", "region": "IL", "postal_code": "62701"}]});
    let created: Value =
        app.api.post(app.url("/api/v1/customers")).bearer_auth(token).json(&body).send().await?.json().await?;
    let customer_id = created["customer"]["customer_id"].as_i64().ok_or("no customer id")?;
    let mut numbers = Vec::new();
    for _ in 0..accounts {
        let (status, account) = post(app, token, "/api/v1/accounts", &json!({"customer_id": customer_id})).await?;
        assert_eq!(status, StatusCode::CREATED, "{account}");
        numbers.push(account["account_number"].as_str().ok_or("no number")?.to_string());
    }
    Ok(numbers)
}

#[tokio::test]
async fn the_cashier_finds_an_account_by_name_phone_or_address_and_picks_from_a_short_list() -> TestResult {
    let app = spawn_app().await;
    let cashier = app.user_with_token("cora", Role::Cashier).await?;
    let marsh = customer_with_accounts(&app, &cashier, "Marsh", "(555) 201-4477", "12 Elm St", 2).await?;
    let quill = customer_with_accounts(&app, &cashier, "Quill", "(555) 909-1200", "40 Birch Road", 1).await?;
    let browser = app.browser();
    app.sign_in(&browser, "cora").await?;
    let panel = |text: &str| {
        let url = app.url(&format!("/cashier/account?account={}", text.replace(' ', "+")));
        let browser = browser.clone();
        async move { browser.get(url).send().await?.text().await }
    };

    let by_name = panel("rosa marsh").await?;
    assert!(by_name.contains("id=\"cashier-picks\""), "{by_name}");
    for number in &marsh {
        assert!(by_name.contains(&format!("data-account=\"{number}\"")), "{number} offered");
    }
    assert!(!by_name.contains(&quill[0]), "only the matching customer's accounts");
    assert_eq!(by_name.matches("role=\"option\"").count(), 2);
    let by_phone = panel("555-909-1200").await?;
    assert!(by_phone.contains(&format!("data-account=\"{}\"", quill[0])), "{by_phone}");
    assert_eq!(by_phone.matches("role=\"option\"").count(), 1);
    let by_address = panel("birch road").await?;
    assert!(by_address.contains(&format!("data-account=\"{}\"", quill[0])), "{by_address}");
    let by_number = panel(&marsh[1]).await?;
    assert!(by_number.contains("cashier-account-info") && !by_number.contains("cashier-picks"), "{by_number}");
    let nothing = panel("zzyzx").await?;
    assert!(nothing.contains("cashier-account-error") && !nothing.contains("role=\"option\""), "{nothing}");

    // Posting needs the number itself: a name is never a payment's account.
    let page = browser.get(app.url("/cashier")).send().await?.text().await?;
    let csrf = page.split("name=\"_csrf\" value=\"").nth(1).and_then(|t| t.split('"').next()).ok_or("no csrf")?;
    let form = [
        ("_csrf", csrf),
        ("account", "rosa marsh"),
        ("amount", "10.00"),
        ("tender", "4"),
        ("processor_token", "tok_1"),
        ("card_brand", "visa"),
        ("last_four", "4242"),
        ("channel", "phone"),
    ];
    let refused = browser.post(app.url("/cashier/payments")).form(&form).send().await?;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let mut tx = app.db.read().await?;
    assert_eq!(db::scalar!(&mut tx, i64, "select count(*) from payment")?, 0);
    drop(tx);
    app.stop().await;
    Ok(())
}
