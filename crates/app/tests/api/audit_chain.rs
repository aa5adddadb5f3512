//! The audit trail: sign-ins and user changes are recorded, the database refuses edits, and
//! `caredesk verify` names any record altered behind its back.

use kernel::Role;
use std::process::Command;
use testkit::{TestResult, spawn_app};

fn verify(app: &testkit::TestApp) -> Result<(bool, String), std::io::Error> {
    let output = Command::new(env!("CARGO_BIN_EXE_caredesk")).args(app.storage_args()).arg("verify").output()?;
    Ok((output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned()))
}

#[tokio::test]
async fn sign_ins_and_user_changes_are_audited_and_verify_clean() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("gus", Role::Supervisor).await?;
    let wrong = app
        .api
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "gus", "password": "wrong-password-x"}))
        .send()
        .await?;
    assert_eq!(wrong.status(), 401);
    let records: serde_json::Value =
        app.api.get(app.url("/api/v1/audit?limit=10")).bearer_auth(&token).send().await?.json().await?;
    let actions: Vec<&str> =
        records["items"].as_array().ok_or("no items")?.iter().filter_map(|r| r["action"].as_str()).collect();
    assert_eq!(actions, vec!["signin.failed", "signin.succeeded", "user.created"]);
    let (ok, out) = verify(&app)?;
    assert!(ok, "{out}");
    assert!(out.contains("audit chain: ok (3 records)"), "{out}");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_edited_record_is_detected_by_verify() -> TestResult {
    let app = spawn_app().await;
    app.user_with_token("hana", Role::Admin).await?;
    app.add_user("ingo", Role::Agent1).await?;
    let mut tx = app.db.begin().await?;
    let refused = db::execute!(&mut tx, "update audit set actor_name = 'mallory' where seq = 1");
    assert!(refused.is_err(), "the database refuses edits");
    tx.rollback().await?;

    let mut tx = app.db.begin().await?;
    match &tx {
        db::Tx::Sqlite(_) => {
            db::execute!(&mut tx, "drop trigger audit_refuse_update")?;
        }
        db::Tx::Pg(_) => {
            db::execute!(&mut tx, "alter table audit disable trigger audit_refuse_update")?;
        }
    }
    db::execute!(&mut tx, "update audit set actor_name = 'mallory' where seq = 2")?;
    tx.commit().await?;
    let (ok, out) = verify(&app)?;
    assert!(!ok, "verify exits non-zero");
    assert!(out.contains("audit record 2 "), "{out}");
    assert!(out.contains("altered"), "{out}");
    app.stop().await;
    Ok(())
}
