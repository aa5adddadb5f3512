//! The money story, told end to end over HTTP: start service -> meter reads -> bill run -> PDF
//! bill -> payment at the counter -> drawer close -> bank deposit -> NSF reversal (the customer
//! emailed) -> a later overpayment -> refund approved by another supervisor and issued; the
//! customer's account screen and the approval queue show it, and the ledger balances with every
//! account's balance equal to the sum of its lines.

use kernel::{Clock, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{TestApp, TestResult, spawn_app};

type Error = Box<dyn std::error::Error + Send + Sync>;

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Result<Value, Error> {
    let response = app.api.post(app.url(path)).bearer_auth(token).json(&body).send().await?;
    let status = response.status();
    let value: Value = response.json().await?;
    if !status.is_success() {
        return Err(format!("POST {path} -> {status}: {value}").into());
    }
    Ok(value)
}

async fn get(app: &TestApp, token: &str, path: &str) -> Result<Value, Error> {
    let response = app.api.get(app.url(path)).bearer_auth(token).send().await?;
    let status = response.status();
    let value: Value = response.json().await?;
    if !status.is_success() {
        return Err(format!("GET {path} -> {status}: {value}").into());
    }
    Ok(value)
}

fn id(value: &Value, key: &str) -> Result<i64, Error> {
    value[key].as_i64().ok_or_else(|| format!("no {key} in {value}").into())
}

async fn balance_minor(app: &TestApp, token: &str, account_id: i64) -> Result<i64, Error> {
    let balance = get(app, token, &format!("/api/v1/accounts/{account_id}/balance")).await?;
    Ok(balance["currencies"][0]["receivable_minor"].as_i64().unwrap_or(0))
}

/// Customer, account on cycle 7, premise with a meter, an active electric agreement on E-RES-1.
async fn start_service(app: &TestApp, agent: &str) -> Result<(i64, String, String), Error> {
    let customer = post(
        app,
        agent,
        "/api/v1/customers",
        json!({"kind": "person", "first_name": "Ines",
        "last_name": "Okafor", "emails": [{"address": "ines@example.org"}]}),
    )
    .await?;
    let customer_id = customer["customer"]["customer_id"].as_i64().ok_or("no customer id")?;
    let account = post(app, agent, "/api/v1/accounts", json!({"customer_id": customer_id, "bill_cycle": 7})).await?;
    let account_id = id(&account, "account_id")?;
    let number = account["account_number"].as_str().unwrap_or_default().to_string();
    let premise = post(
        app,
        agent,
        "/api/v1/premises",
        json!({"premise_type": "residential", "address":
        {"line1": "12 Willow Lane", "city": "Springfield", "postal_code": "62704"}}),
    )
    .await?;
    let premise_id = premise["premise"]["premise_id"].as_i64().or(premise["premise_id"].as_i64()).ok_or("premise")?;
    let meter = "MSTORY001";
    post(
        app,
        agent,
        &format!("/api/v1/premises/{premise_id}/meters"),
        json!({"meter_number": meter, "service_type": "electric", "installed_on": "2026-01-10"}),
    )
    .await?;
    let agreement = post(
        app,
        agent,
        "/api/v1/service-agreements",
        json!({"account_id": account_id,
        "premise_id": premise_id, "service_type": "electric", "rate_code": "E-RES-1", "start_date": "2026-09-01"}),
    )
    .await?;
    let agreement_id = id(&agreement, "agreement_id")?;
    post(app, agent, &format!("/api/v1/service-agreements/{agreement_id}/transition"), json!({"status": "active"}))
        .await?;
    Ok((account_id, number, meter.to_string()))
}

#[tokio::test]
async fn start_service_bill_pay_deposit_bounce_overpay_and_refund() -> TestResult {
    let app = spawn_app().await;
    let agent = app.user_with_token("ana", Role::Agent1).await?;
    let clerk = app.user_with_token("bea", Role::BillingClerk).await?;
    let cashier = app.user_with_token("cal", Role::Cashier).await?;
    let sup = app.user_with_token("sam", Role::Supervisor).await?;
    let (account_id, account_number, meter) = start_service(&app, &agent).await?;

    // Meter reads, then the bill run for cycle 7 (queued by the API, run here as the worker would).
    for (date, reading) in [("2026-10-31", 10_000), ("2026-11-30", 10_640)] {
        post(
            &app,
            &clerk,
            "/api/v1/meter-reads",
            json!({"meter_number": meter, "read_date": date, "reading": reading}),
        )
        .await?;
    }
    let run = post(&app, &clerk, "/api/v1/bill-runs", json!({"cycle": 7, "period": "2026-11"})).await?;
    let job = db::jobs::claim(&app.db, "story", app.clock.now(), 60).await?.ok_or("the bill run was not queued")?;
    billing::run::run_job(&app.db, app.clock.as_ref(), &job.payload).await?;
    let run = get(&app, &clerk, &format!("/api/v1/bill-runs/{}", id(&run, "bill_run_id")?)).await?;
    assert_eq!(run["status"], "done", "{run}");
    let bills = get(&app, &clerk, &format!("/api/v1/accounts/{account_id}/bills")).await?;
    let bill = bills.as_array().and_then(|b| b.first()).cloned().ok_or("no bill")?;
    let bill_total = id(&bill, "total_minor")?;
    assert!(bill_total > 0, "{bill}");
    assert_eq!(bill["estimated"], false, "both reads were real: {bill}");
    assert_eq!(balance_minor(&app, &clerk, account_id).await?, bill_total);

    // The bill as a PDF.
    let pdf = app.api.get(app.url(&format!("/api/v1/bills/{}/pdf", id(&bill, "bill_id")?))).bearer_auth(&clerk);
    let pdf = pdf.send().await?;
    assert_eq!(pdf.status(), StatusCode::OK);
    assert!(pdf.bytes().await?.starts_with(b"%PDF-"));

    // At the counter: a drawer, a check for the whole bill; the drawer closes even and is signed off.
    let drawer = post(&app, &cashier, "/api/v1/drawers", json!({"float": "100.00"})).await?;
    let drawer_id = id(&drawer, "drawer_id")?;
    let amount = format!("{}.{:02}", bill_total / 100, bill_total % 100);
    let check = post(
        &app,
        &cashier,
        "/api/v1/payments",
        json!({"account_id": account_id, "amount": amount,
        "tender": "check", "check_number": "5521"}),
    )
    .await?;
    let check_id = id(&check["payment"], "payment_id")?;
    assert_eq!(balance_minor(&app, &cashier, account_id).await?, 0);
    let closed = post(
        &app,
        &cashier,
        &format!("/api/v1/drawers/{drawer_id}/close"),
        json!({"counted_cash": "100.00", "counted_checks": amount}),
    )
    .await?;
    assert_eq!(closed["over_short_minor"], 0, "{closed}");
    post(&app, &sup, &format!("/api/v1/drawers/{drawer_id}/sign-off"), json!({})).await?;
    let deposit = post(&app, &cashier, "/api/v1/bank-deposits", json!({})).await?;
    assert!(deposit.to_string().contains(&bill_total.to_string()), "the deposit holds the check: {deposit}");

    // The check bounces: the bill is open again, with the NSF fee on top.
    post(&app, &clerk, "/api/v1/reversals", json!({"payment_id": check_id, "reason": "nsf"})).await?;
    let owed = balance_minor(&app, &clerk, account_id).await?;
    assert!(owed > bill_total, "bill reopened plus a fee: {owed}");
    // ... and the customer is told by email, queued with the reversal.
    let emails = get(&app, &agent, "/api/v1/emails?status=queued").await?;
    let told = emails.as_array().into_iter().flatten().filter(|e| e["to_addresses"] == "ines@example.org");
    let subjects: Vec<&str> = told.filter_map(|e| e["subject"].as_str()).collect();
    assert!(subjects.iter().any(|s| s.ends_with("was returned")), "the returned payment notice: {subjects:?}");

    // The customer pays by card over the phone, 50.00 too much; the agent asks for a refund, it
    // waits in the approval queue, Sam approves it and the cashier issues it.
    let pay = owed + 5_000;
    let card = json!({"account_id": account_id, "amount": format!("{}.{:02}", pay / 100, pay % 100),
        "tender": "card", "channel": "phone", "processor_token": "tok_story", "card_brand": "visa",
        "last_four": "4242"});
    post(&app, &agent, "/api/v1/payments", card).await?;
    assert_eq!(balance_minor(&app, &agent, account_id).await?, -5_000);
    let refund = post(
        &app,
        &agent,
        "/api/v1/refunds",
        json!({"account_id": account_id, "amount": "50.00",
        "reason": "overpaid by phone"}),
    )
    .await?;
    let refund_id = id(&refund, "refund_id")?;
    let page = app.api.get(app.url("/approvals")).bearer_auth(&sup).send().await?;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await?.contains(&account_number), "the refund waits in the approval queue");
    let refused = app.api.get(app.url("/approvals?error=not%20yours")).bearer_auth(&sup).send().await?;
    assert!(refused.text().await?.contains("Not done: not yours"), "a refused decision is shown on the queue");
    post(&app, &sup, &format!("/api/v1/refunds/{refund_id}/approve"), json!({"note": "checked"})).await?;
    post(&app, &cashier, &format!("/api/v1/refunds/{refund_id}/issue"), json!({"reference": "CHK-2001"})).await?;
    assert_eq!(balance_minor(&app, &clerk, account_id).await?, 0);

    // The account screen tells the whole story.
    let screen = app.api.get(app.url(&format!("/accounts/{account_id}"))).bearer_auth(&agent).send().await?;
    assert_eq!(screen.status(), StatusCode::OK);
    let screen = screen.text().await?;
    for needle in [bill["bill_number"].as_str().unwrap_or("BILL"), "reversed", "0.00 USD"] {
        assert!(screen.contains(needle), "the account screen shows {needle}");
    }

    // The books balance.
    let report = ledger::verify::verify(&app.db).await?;
    assert!(report.is_clean(), "{:?}", report.problems);
    let today = ledger::BusinessDate::of(app.clock.now()).to_string();
    let trial = get(&app, &clerk, &format!("/api/v1/ledger/trial-balance?as_of={today}")).await?;
    assert!(trial.to_string().contains("debit"), "{trial}");
    app.stop().await;
    Ok(())
}
