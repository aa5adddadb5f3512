//! Black-box tests of billing over HTTP and through the real `caredesk` binary: rate schedules,
//! meter reads and their import, a bill run started from the API, bills and their PDF, and a
//! bill run killed with SIGKILL at random moments that still ends with the totals of an
//! uninterrupted run, no duplicate bill and a balanced ledger.

use kernel::{Clock, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::{Command, Output, Stdio};
use testkit::{TestApp, TestResult, spawn_app};

fn caredesk(app: &TestApp, args: &[&str]) -> Result<Output, std::io::Error> {
    Command::new(env!("CARGO_BIN_EXE_caredesk"))
        .args(app.storage_args())
        .args(args)
        .env_remove("CAREDESK_STORAGE__DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Result<(StatusCode, Value), reqwest::Error> {
    let response = app.api.post(app.url(path)).bearer_auth(token).json(&body).send().await?;
    let status = response.status();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

async fn get(app: &TestApp, token: &str, path: &str) -> Result<(StatusCode, Value), reqwest::Error> {
    let response = app.api.get(app.url(path)).bearer_auth(token).send().await?;
    let status = response.status();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

#[tokio::test]
async fn rate_versions_are_listed_added_and_bad_ones_refused_naming_the_field() -> TestResult {
    let app = spawn_app().await;
    let clerk = app.user_with_token("bea", Role::BillingClerk).await?;
    let (status, rates) = get(&app, &clerk, "/api/v1/rate-schedules").await?;
    assert_eq!(status, StatusCode::OK);
    assert!(rates.as_array().unwrap().iter().any(|r| r["rate_code"] == "E-RES-1"));
    let body = json!({"rate_code": "E-RES-1", "service_type": "electric", "effective_from": "2027-01-01",
        "currency": "USD", "unit": "kWh", "fixed_charge": "13.00", "minimum_charge": "15.00",
        "tiers": "500:0.1150;*:0.1420", "tax_percent": "6.25"});
    let (status, row) = post(&app, &clerk, "/api/v1/rate-schedules", body.clone()).await?;
    assert_eq!(status, StatusCode::CREATED, "{row}");
    assert_eq!(row["fixed_charge_minor"], 1300);
    assert_eq!(row["tiers"], "500:0.115;*:0.142");
    let (status, problem) = post(&app, &clerk, "/api/v1/rate-schedules", body.clone()).await?;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "rate_version_taken");
    let mut bad = body.clone();
    bad["tiers"] = json!("500:0.1;400:0.2");
    bad["effective_from"] = json!("2027-02-01");
    let (status, problem) = post(&app, &clerk, "/api/v1/rate-schedules", bad).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["code"], "tiers_invalid", "{problem}");
    let agent = app.user_with_token("ann", Role::Agent1).await?;
    let (status, _) = post(&app, &agent, "/api/v1/rate-schedules", body).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn meter_reads_are_checked_and_a_bad_import_writes_nothing() -> TestResult {
    let app = spawn_app().await;
    caredesk::demo_bulk::load(&app.db, app.clock.as_ref(), 20, &|_| {}).await?;
    let clerk = app.user_with_token("bea", Role::BillingClerk).await?;
    let mut tx = app.db.read().await?;
    let meter = db::scalar!(&mut tx, String, "select meter_number from meter order by meter_id limit 1")?;
    tx.rollback().await?;
    let read = |date: &str, reading: i64, kind: Option<&str>| {
        json!({"meter_number": meter, "read_date": date,
               "reading": reading, "kind": kind})
    };
    let (status, row) = post(&app, &clerk, "/api/v1/meter-reads", read("2026-10-31", 1000, None)).await?;
    assert_eq!(status, StatusCode::CREATED, "{row}");
    let (status, problem) = post(&app, &clerk, "/api/v1/meter-reads", read("2026-11-20", 900, None)).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["code"], "reading_below_previous");
    assert_eq!(problem["errors"][0]["field"], "reading", "{problem}");
    let (status, _) = post(&app, &clerk, "/api/v1/meter-reads", read("2026-11-20", 900, Some("replacement"))).await?;
    assert_eq!(status, StatusCode::CREATED);
    let (status, problem) = post(&app, &clerk, "/api/v1/meter-reads", read("2026-13-01", 5, None)).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "read_date");

    let csv =
        format!("meter_number,read_date,reading\n{meter},2026-11-25,950\n{meter},2026-11-26,10\nNOPE,2026-11-26,1\n");
    let (status, problem) = post(&app, &clerk, "/api/v1/meter-reads/import", json!({"csv": csv})).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"].as_array().map(Vec::len), Some(2), "{problem}");
    let mut tx = app.db.read().await?;
    assert_eq!(db::scalar!(&mut tx, i64, "select count(*) from meter_read")?, 2, "nothing of the bad file");
    tx.rollback().await?;
    let good = format!("{meter},2026-11-25,950\n");
    let (status, outcome) = post(&app, &clerk, "/api/v1/meter-reads/import", json!({"csv": good})).await?;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(outcome["imported"], 1);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_bill_run_from_the_api_bills_accounts_shown_with_lines_history_and_pdf() -> TestResult {
    let app = spawn_app().await;
    caredesk::demo_bulk::load(&app.db, app.clock.as_ref(), 60, &|_| {}).await?;
    let clerk = app.user_with_token("bea", Role::BillingClerk).await?;
    let (status, problem) = post(&app, &clerk, "/api/v1/bill-runs", json!({"cycle": 29, "period": "2026-11"})).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "cycle");
    let mut tx = app.db.read().await?;
    let cycle = db::scalar!(
        &mut tx,
        i64,
        "select cast(a.bill_cycle as bigint) from account a join service_agreement s on s.account_id = a.account_id
          group by a.bill_cycle order by count(*) desc, a.bill_cycle limit 1"
    )?;
    tx.rollback().await?;
    let (status, run) = post(&app, &clerk, "/api/v1/bill-runs", json!({"cycle": cycle, "period": "2026-11"})).await?;
    assert_eq!(status, StatusCode::ACCEPTED, "{run}");
    let job = db::jobs::claim(&app.db, "test", app.clock.now(), 60).await?.expect("the run was queued");
    assert_eq!(job.kind, billing::BILL_RUN_JOB);
    billing::run::run_job(&app.db, app.clock.as_ref(), &job.payload).await?;
    let (status, done) = get(&app, &clerk, &format!("/api/v1/bill-runs/{}", run["bill_run_id"])).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(done["status"], "done");
    assert!(done["bills_written"].as_i64().unwrap() >= 1, "{done}");

    let (_, bills) = get(&app, &clerk, "/api/v1/bills").await?;
    let first = &bills.as_array().unwrap()[0];
    let (status, bill) = get(&app, &clerk, &format!("/api/v1/bills/{}", first["bill_id"])).await?;
    assert_eq!(status, StatusCode::OK);
    let lines: i64 = bill["lines"].as_array().unwrap().iter().map(|l| l["amount_minor"].as_i64().unwrap()).sum();
    assert_eq!(lines, bill["total_minor"].as_i64().unwrap());
    assert_eq!(bill["estimated"], true);
    let (status, history) = get(&app, &clerk, &format!("/api/v1/accounts/{}/bills", bill["account_id"])).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history.as_array().map(Vec::len), Some(1));
    let (status, _) = get(&app, &clerk, "/api/v1/accounts/999999/bills").await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let pdf =
        app.api.get(app.url(&format!("/api/v1/bills/{}/pdf", first["bill_id"]))).bearer_auth(&clerk).send().await?;
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await?.starts_with(b"%PDF"));
    app.stop().await;
    Ok(())
}

/// Figures that must equal those of an uninterrupted run.
async fn totals(app: &TestApp) -> Result<[i64; 6], db::Error> {
    let mut tx = app.db.read().await?;
    let figures = [
        db::scalar!(&mut tx, i64, "select count(*) from bill")?,
        db::scalar!(&mut tx, Option<i64>, "select cast(sum(total_minor) as bigint) from bill")?.unwrap_or(0),
        db::scalar!(&mut tx, i64, "select count(*) from (select distinct account_id, period from bill) as d")?,
        db::scalar!(&mut tx, Option<i64>, "select cast(sum(amount_minor) as bigint) from journal_line")?.unwrap_or(0),
        db::scalar!(
            &mut tx,
            Option<i64>,
            "select cast(sum(balance_minor) as bigint) from subledger_balance s
               join ledger_account l on l.ledger_account_id = s.ledger_account_id where l.code = '1100'"
        )?
        .unwrap_or(0),
        db::scalar!(&mut tx, i64, "select count(*) from open_item where kind = 'bill'")?,
    ];
    tx.rollback().await?;
    Ok(figures)
}

/// SQLite's own integrity check of the whole file (PostgreSQL has none to offer).
async fn integrity(app: &TestApp) -> Result<String, db::Error> {
    let mut tx = app.db.read().await?;
    let found = match &mut tx {
        db::Tx::Sqlite(t) => {
            let rows: Vec<String> = db::sqlx::query_scalar("pragma integrity_check").fetch_all(&mut **t).await?;
            rows.join("; ")
        }
        db::Tx::Pg(_) => "not checked on PostgreSQL".to_string(),
    };
    tx.rollback().await?;
    Ok(found)
}

/// A small xorshift: the kill moments vary from run to run without a dependency.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[tokio::test]
async fn a_bill_run_killed_at_random_moments_ends_with_the_totals_of_an_uninterrupted_one() -> TestResult {
    const CUSTOMERS: u64 = 3_000;
    let reference = spawn_app().await;
    let crashed = spawn_app().await;
    for app in [&reference, &crashed] {
        caredesk::demo_bulk::load(&app.db, app.clock.as_ref(), CUSTOMERS, &|_| {}).await?;
        let mut tx = app.db.begin().await?;
        db::execute!(&mut tx, "update billing_setting set batch_size = 40")?;
        tx.commit().await?;
    }
    let args = ["bill-run", "--cycle", "all", "--period", "2026-11", "--quiet"];
    let whole = caredesk(&reference, &args)?;
    assert!(whole.status.success(), "{}", text(&whole));
    let expected = totals(&reference).await?;
    assert!(expected[0] > 2_000, "{expected:?}");

    let mut seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos() as u64 | 1;
    let mut killed_mid_run = 0;
    for _ in 0..20 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_caredesk"))
            .args(crashed.storage_args())
            .args(args)
            .env_remove("CAREDESK_STORAGE__DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let wait_ms = 20 + next(&mut seed) % 400;
        tokio::time::sleep(std::time::Duration::from_millis(wait_ms)).await;
        if child.try_wait()?.is_none() {
            killed_mid_run += 1;
        }
        child.kill()?; // SIGKILL
        child.wait()?;
        let partial = totals(&crashed).await?;
        if partial[0] != partial[2] {
            // Tell a damaged index from a snapshot that moved: read again, and ask SQLite.
            let again = totals(&crashed).await?;
            let check = integrity(&crashed).await?;
            assert_eq!(partial[0], partial[2], "no duplicate bill; read again {again:?}; integrity: {check}");
        }
        assert_eq!(partial[3], 0, "every committed batch balances");
    }
    let finish = caredesk(&crashed, &args)?;
    assert!(finish.status.success(), "{}", text(&finish));
    assert_eq!(totals(&crashed).await?, expected);
    let again = caredesk(&crashed, &args)?;
    assert!(again.status.success());
    assert_eq!(totals(&crashed).await?, expected, "running it again changes nothing");
    let verify = caredesk(&crashed, &["verify"])?;
    assert!(verify.status.success(), "{}", text(&verify));
    let check = integrity(&crashed).await?;
    assert!(check == "ok" || crashed.db.backend() == db::Backend::Postgres, "integrity: {check}");
    eprintln!("crash test: {killed_mid_run} of 20 kills landed while the run was working");
    reference.stop().await;
    crashed.stop().await;
    Ok(())
}
