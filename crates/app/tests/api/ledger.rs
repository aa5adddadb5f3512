//! Black-box tests of the ledger module over HTTP and the `caredesk` binary: manual entries with
//! Idempotency-Key, reversal once only, the chart of accounts, reports and exports, role checks,
//! bad input naming its field, and `caredesk verify` finding a journal altered behind its back.

use kernel::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::Command;
use testkit::{TestApp, TestResult, spawn_app};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A customer with one account, written straight to the database (the customers module is not
/// under test here).
async fn new_account(app: &TestApp, label: &str) -> Result<i64, Error> {
    let mut tx = app.db.begin().await?;
    let customer_id = db::scalar!(
        &mut tx,
        i64,
        "insert into customer (customer_number, kind, display_name, created_at, updated_at)
         values ($1, 'person', 'Ledger Test', 0, 0) returning customer_id",
        format!("C-L{label}")
    )?;
    let account_id = db::scalar!(
        &mut tx,
        i64,
        "insert into account (account_number, customer_id, status, bill_cycle, collection_class, credit_rating,
                              currency, opened_at, updated_at)
         values ($1, $2, 'active', 1, 'residential', 'good', 'USD', 0, 0) returning account_id",
        format!("A-L{label}"),
        customer_id
    )?;
    tx.commit().await?;
    Ok(account_id)
}

fn entry(account_id: i64, amount: &str, receivable_side: &str) -> Value {
    let other = if receivable_side == "debit" { "credit" } else { "debit" };
    json!({"entry_date": "2026-11-20", "memo": "Opening balance",
        "lines": [{"ledger_code": "1100", "account_id": account_id, "currency": "USD", receivable_side: amount},
                  {"ledger_code": "3000", "currency": "USD", other: amount}]})
}

async fn post_entry(app: &TestApp, token: &str, body: &Value, key: Option<&str>) -> Result<reqwest::Response, Error> {
    let mut request = app.api.post(app.url("/api/v1/ledger/entries")).bearer_auth(token).json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    Ok(request.send().await?)
}

fn verify(app: &TestApp) -> Result<(bool, String), std::io::Error> {
    let output = Command::new(env!("CARGO_BIN_EXE_caredesk")).args(app.storage_args()).arg("verify").output()?;
    Ok((output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned()))
}

#[tokio::test]
async fn manual_entries_post_once_reverse_once_and_verify_clean() -> TestResult {
    let app = spawn_app().await;
    let admin = app.user_with_token("lena", Role::Admin).await?;
    let account = new_account(&app, "1").await?;
    let first = post_entry(&app, &admin, &entry(account, "120.00", "debit"), Some("je-1")).await?;
    assert_eq!(first.status(), StatusCode::CREATED);
    let posted: Value = first.json().await?;
    assert_eq!(posted["source_ref"], "JE-000001");
    let replay: Value =
        post_entry(&app, &admin, &entry(account, "120.00", "debit"), Some("je-1")).await?.json().await?;
    assert_eq!(replay["entry_id"], posted["entry_id"], "the same key answers the same entry");
    let id = posted["entry_id"].as_i64().ok_or("no entry id")?;

    let detail: Value =
        app.api.get(app.url(&format!("/api/v1/ledger/entries/{id}"))).bearer_auth(&admin).send().await?.json().await?;
    assert_eq!(detail["lines"].as_array().map(Vec::len), Some(2));
    let list: Value = app
        .api
        .get(app.url("/api/v1/ledger/entries?source_kind=manual&from=2026-11-01&to=2026-11-30"))
        .bearer_auth(&admin)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");

    let balance: Value = app
        .api
        .get(app.url(&format!("/api/v1/accounts/{account}/balance")))
        .bearer_auth(&admin)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(balance["currencies"][0]["receivable_minor"], 12_000, "{balance}");
    assert_eq!(balance["currencies"][0]["open_minor"], 12_000, "a debit with no charge falls due by itself");

    let tb: Value = app
        .api
        .get(app.url("/api/v1/ledger/trial-balance?as_of=2026-11-30"))
        .bearer_auth(&admin)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(tb["totals"][0]["debit_minor"], 12_000, "{tb}");
    assert_eq!(tb["totals"][0]["balanced"], true);

    let reverse = app.url(&format!("/api/v1/ledger/entries/{id}/reverse"));
    let body = json!({"entry_date": "2026-11-21"});
    let reversed = app.api.post(&reverse).bearer_auth(&admin).json(&body).send().await?;
    assert_eq!(reversed.status(), StatusCode::CREATED);
    let again = app.api.post(&reverse).bearer_auth(&admin).json(&body).send().await?;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    let lines: Value = app
        .api
        .get(app.url(&format!("/api/v1/accounts/{account}/ledger-lines?limit=1")))
        .bearer_auth(&admin)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(lines["items"][0]["amount_minor"], -12_000, "{lines}");
    assert_eq!(lines["items"][0]["balance_after_minor"], 0, "{lines}");
    assert!(lines["next_cursor"].is_string());

    let (ok, out) = verify(&app)?;
    assert!(ok, "{out}");
    assert!(out.contains("ledger: ok (2 entries, 4 lines)"), "{out}");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn verify_names_an_entry_made_unbalanced_behind_the_application() -> TestResult {
    let app = spawn_app().await;
    let admin = app.user_with_token("mira", Role::Admin).await?;
    let account = new_account(&app, "1").await?;
    let posted: Value = post_entry(&app, &admin, &entry(account, "50.00", "credit"), None).await?.json().await?;
    let id = posted["entry_id"].as_i64().ok_or("no entry id")?;
    let mut tx = app.db.begin().await?;
    let refused = db::execute!(&mut tx, "update journal_line set amount_minor = 1 where entry_id = $1", id);
    assert!(refused.is_err(), "the database refuses edits");
    tx.rollback().await?;
    // Inserts pass the triggers: a stray line makes the entry unbalanced.
    let mut tx = app.db.begin().await?;
    db::execute!(
        &mut tx,
        "insert into journal_line (entry_id, ledger_account_id, account_id, currency, amount_minor)
         select $1, ledger_account_id, null, 'USD', 999 from ledger_account where code = '1000'",
        id
    )?;
    tx.commit().await?;
    let (ok, out) = verify(&app)?;
    assert!(!ok, "verify exits non-zero: {out}");
    assert!(out.contains(&format!("entry {id}: its USD lines sum to 999")), "{out}");
    assert!(out.contains("audit chain: ok"), "{out}");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn roles_and_bad_input() -> TestResult {
    let app = spawn_app().await;
    let agent = app.user_with_token("otto", Role::Agent1).await?;
    let clerk = app.user_with_token("pia", Role::BillingClerk).await?;
    let admin = app.user_with_token("quin", Role::Admin).await?;
    let tb = app.url("/api/v1/ledger/trial-balance");
    assert_eq!(app.api.get(&tb).bearer_auth(&agent).send().await?.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.api.get(&tb).bearer_auth(&clerk).send().await?.status(), StatusCode::OK);
    let account = new_account(&app, "1").await?;
    let by_clerk = post_entry(&app, &clerk, &entry(account, "1.00", "debit"), None).await?;
    assert_eq!(by_clerk.status(), StatusCode::FORBIDDEN, "only admins post manual entries");

    let bad_date = app.api.get(format!("{tb}?as_of=2026-13-01")).bearer_auth(&clerk).send().await?;
    assert_eq!(bad_date.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_date.json::<Value>().await?["errors"][0]["field"], "as_of");

    let mut unbalanced = entry(account, "10.00", "debit");
    unbalanced["lines"][1]["credit"] = "9.99".into();
    let refused = post_entry(&app, &admin, &unbalanced, None).await?;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json::<Value>().await?["errors"][0]["field"], "lines");
    let mut bad_amount = entry(account, "10.001", "debit");
    bad_amount["lines"][1]["credit"] = "10.00".into();
    let refused = post_entry(&app, &admin, &bad_amount, None).await?;
    assert_eq!(refused.json::<Value>().await?["errors"][0]["field"], "debit");

    let reversed = app.url("/api/v1/ledger/export.csv?from=2026-11-30&to=2026-11-01");
    let refused = app.api.get(reversed).bearer_auth(&clerk).send().await?;
    assert_eq!(refused.json::<Value>().await?["errors"][0]["field"], "to");

    let accounts = app.url("/api/v1/ledger/accounts");
    let bad_code =
        app.api.post(&accounts).bearer_auth(&admin).json(&json!({"code": "A1", "name": "X", "kind": "asset"}));
    let refused = bad_code.send().await?;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json::<Value>().await?["errors"][0]["field"], "code");
    let missing = app.api.get(app.url("/api/v1/accounts/999999/balance")).bearer_auth(&clerk).send().await?;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let mut tx = app.db.read().await?;
    let entries = db::scalar!(&mut tx, i64, "select count(*) from journal_entry")?;
    tx.rollback().await?;
    assert_eq!(entries, 0, "nothing was posted");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_chart_is_edited_by_admins_and_exports_neutralise_formulas() -> TestResult {
    let app = spawn_app().await;
    let admin = app.user_with_token("rosa", Role::Admin).await?;
    let accounts = app.url("/api/v1/ledger/accounts");
    let added = app
        .api
        .post(&accounts)
        .bearer_auth(&admin)
        .json(&json!({"code": "4060", "name": "=Stormwater revenue", "kind": "revenue"}))
        .send()
        .await?;
    assert_eq!(added.status(), StatusCode::CREATED);
    let taken = app
        .api
        .post(&accounts)
        .bearer_auth(&admin)
        .json(&json!({"code": "4060", "name": "Again", "kind": "revenue"}))
        .send()
        .await?;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    let off = app.api.post(app.url("/api/v1/ledger/accounts/4060")).bearer_auth(&admin).json(&json!({"active": false}));
    assert_eq!(off.send().await?.json::<Value>().await?["active"], false);
    let account = new_account(&app, "1").await?;
    let mut body = entry(account, "30.00", "debit");
    body["lines"][1]["ledger_code"] = "4060".into();
    let refused = post_entry(&app, &admin, &body, None).await?;
    assert_eq!(refused.json::<Value>().await?["code"], "ledger_account_inactive");
    let on = app.api.post(app.url("/api/v1/ledger/accounts/4060")).bearer_auth(&admin).json(&json!({"active": true}));
    assert_eq!(on.send().await?.status(), StatusCode::OK);
    assert_eq!(post_entry(&app, &admin, &body, None).await?.status(), StatusCode::CREATED);

    let csv = app
        .api
        .get(app.url("/api/v1/ledger/export.csv?from=2026-11-01&to=2026-11-30"))
        .bearer_auth(&admin)
        .send()
        .await?
        .text()
        .await?;
    assert!(csv.starts_with("date,account_code,account_name,currency,debit,credit\n"), "{csv}");
    assert!(csv.contains("2026-11-20,4060,'=Stormwater revenue,USD,0.00,30.00"), "{csv}");
    assert!(csv.contains("2026-11-20,1100,Accounts receivable,USD,30.00,0.00"), "{csv}");
    let aging: Value =
        app.api.get(app.url("/api/v1/ledger/aging?as_of=2026-12-31")).bearer_auth(&admin).send().await?.json().await?;
    assert_eq!(aging["totals"][0]["buckets"][2]["amount_minor"], 3_000, "due 2026-11-20, 41 days: {aging}");
    assert_eq!(aging["accounts"][0]["account_id"], account);
    let audit: Value = app.api.get(app.url("/api/v1/audit?limit=20")).bearer_auth(&admin).send().await?.json().await?;
    let actions: Vec<&str> =
        audit["items"].as_array().ok_or("no items")?.iter().filter_map(|r| r["action"].as_str()).collect();
    assert!(actions.contains(&"ledger_account.added") && actions.contains(&"ledger.entry_posted"), "{actions:?}");
    app.stop().await;
    Ok(())
}
