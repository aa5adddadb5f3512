//! Idempotency-Key: replays, conflicts and concurrent duplicates with exactly one effect.

use kernel::Role;
use reqwest::StatusCode;
use testkit::{TestResult, spawn_app};

fn new_user(username: &str) -> serde_json::Value {
    serde_json::json!({
        "username": username, "display_name": "Una Idem", "role": "agent1", "password": "first-password-123"
    })
}

async fn staff_count(app: &testkit::TestApp) -> Result<i64, db::Error> {
    let mut tx = app.db.read().await?;
    db::scalar!(&mut tx, i64, "select count(*) from staff_user")
}

#[tokio::test]
async fn twenty_concurrent_identical_requests_have_one_effect() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("uma", Role::Admin).await?;
    let before = staff_count(&app).await?;
    let mut handles = Vec::new();
    for _ in 0..20 {
        let request = app
            .api
            .post(app.url("/api/v1/users"))
            .bearer_auth(&token)
            .header("idempotency-key", "create-una-1")
            .json(&new_user("una"));
        handles.push(tokio::spawn(async move {
            let response = request.send().await?;
            let status = response.status();
            let body: serde_json::Value = response.json().await?;
            Ok::<_, reqwest::Error>((status, body))
        }));
    }
    let mut bodies = Vec::new();
    for handle in handles {
        let (status, body) = handle.await??;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        bodies.push(body);
    }
    assert!(bodies.windows(2).all(|w| w.first() == w.get(1)), "every response is the same");
    assert_eq!(staff_count(&app).await?, before + 1, "exactly one user was created");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_retry_gets_the_stored_response_and_a_different_body_is_refused() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("vic", Role::Admin).await?;
    let send = |body: serde_json::Value| {
        app.api.post(app.url("/api/v1/users")).bearer_auth(&token).header("idempotency-key", "k-42").json(&body).send()
    };
    let first = send(new_user("wes")).await?;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: serde_json::Value = first.json().await?;
    let retry = send(new_user("wes")).await?;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.json::<serde_json::Value>().await?, first);
    let other = send(new_user("xia")).await?;
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.json::<serde_json::Value>().await?["code"], "idempotency_key_reused_with_different_request");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_failed_request_does_not_use_up_its_key() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("yan", Role::Admin).await?;
    app.add_user("zed", Role::Agent1).await?;
    let send = |username: &str| {
        app.api
            .post(app.url("/api/v1/users"))
            .bearer_auth(&token)
            .header("idempotency-key", "k-taken")
            .json(&new_user(username))
            .send()
    };
    let taken = send("zed").await?;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    assert_eq!(taken.json::<serde_json::Value>().await?["code"], "username_taken");
    let mut tx = app.db.read().await?;
    let keys = db::scalar!(&mut tx, i64, "select count(*) from idempotency")?;
    assert_eq!(keys, 0, "the failed request left nothing behind");
    app.stop().await;
    Ok(())
}
