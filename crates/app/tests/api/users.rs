//! Staff administration over the API: create, read, page, update, reset, and bad input that
//! names its field and writes nothing.

use kernel::Role;
use reqwest::StatusCode;
use testkit::{TestResult, spawn_app};

#[tokio::test]
async fn every_bad_field_is_named_and_nothing_is_written() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("adam", Role::Admin).await?;
    let good = serde_json::json!({
        "username": "bert", "display_name": "Bert", "email": "bert@example.org",
        "role": "lead", "password": "a-good-password"
    });
    let cases = [
        ("username", serde_json::json!("1bad name")),
        ("display_name", serde_json::json!("")),
        ("email", serde_json::json!("not-an-email")),
        ("role", serde_json::json!("wizard")),
        ("password", serde_json::json!("short")),
    ];
    let mut tx = app.db.read().await?;
    let audit_before = db::scalar!(&mut tx, i64, "select count(*) from audit")?;
    drop(tx);
    for (field, value) in cases {
        let mut body = good.clone();
        body[field] = value;
        let response = app.api.post(app.url("/api/v1/users")).bearer_auth(&token).json(&body).send().await?;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let problem: serde_json::Value = response.json().await?;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let missing = app
        .api
        .post(app.url("/api/v1/users"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"username": "bert"}))
        .send()
        .await?;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let not_json = app.api.post(app.url("/api/v1/users")).bearer_auth(&token).body("username=bert").send().await?;
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let mut tx = app.db.read().await?;
    assert_eq!(db::scalar!(&mut tx, i64, "select count(*) from staff_user where username = 'bert'")?, 0);
    assert_eq!(
        db::scalar!(&mut tx, i64, "select count(*) from audit")?,
        audit_before,
        "no audit record for refused input"
    );
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn users_are_created_paged_updated_and_reset() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("cleo", Role::Admin).await?;
    for i in 0..5 {
        let body = serde_json::json!({
            "username": format!("page{i}"), "display_name": format!("Page {i}"),
            "role": "agent1", "password": "a-good-password"
        });
        let r = app.api.post(app.url("/api/v1/users")).bearer_auth(&token).json(&body).send().await?;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let first: serde_json::Value =
        app.api.get(app.url("/api/v1/users?limit=4")).bearer_auth(&token).send().await?.json().await?;
    assert_eq!(first["items"].as_array().map(Vec::len), Some(4));
    let cursor = first["next_cursor"].as_str().ok_or("no cursor")?;
    let second: serde_json::Value = app
        .api
        .get(app.url(&format!("/api/v1/users?limit=4&cursor={cursor}")))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(second["items"].as_array().map(Vec::len), Some(2));
    assert!(second["next_cursor"].is_null());
    let bad_cursor = app.api.get(app.url("/api/v1/users?cursor=forged")).bearer_auth(&token).send().await?;
    assert_eq!(bad_cursor.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_cursor.json::<serde_json::Value>().await?["errors"][0]["field"], "cursor");

    let id = second["items"][0]["user_id"].as_i64().ok_or("no id")?;
    let patched: serde_json::Value = app
        .api
        .patch(app.url(&format!("/api/v1/users/{id}")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"role": "supervisor", "email": "p@example.org"}))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(patched["role"], "supervisor");
    assert_eq!(patched["email"], "p@example.org");
    let reset = app
        .api
        .post(app.url(&format!("/api/v1/users/{id}/reset-password")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"password": "another-good-password"}))
        .send()
        .await?;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    let missing = app.api.get(app.url("/api/v1/users/999999")).bearer_auth(&token).send().await?;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let audit: serde_json::Value = app
        .api
        .get(app.url(&format!("/api/v1/audit?entity=staff_user&entity_id={id}")))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let actions: Vec<&str> =
        audit["items"].as_array().ok_or("no items")?.iter().filter_map(|r| r["action"].as_str()).collect();
    assert_eq!(actions, vec!["user.password_reset", "user.updated", "user.created"]);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_admin_cannot_disable_or_demote_themself() -> TestResult {
    let app = spawn_app().await;
    let id = app.add_user("dina", Role::Admin).await?;
    let token = app.token("dina").await?;
    let r = app
        .api
        .patch(app.url(&format!("/api/v1/users/{id}")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"disabled": true}))
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = app
        .api
        .patch(app.url(&format!("/api/v1/users/{id}")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"role": "agent1"}))
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_admin_screens_create_and_find_users() -> TestResult {
    let app = spawn_app().await;
    app.add_user("emil", Role::Admin).await?;
    let browser = app.browser();
    let csrf = app.sign_in(&browser, "emil").await?;
    let bad = browser
        .post(app.url("/admin/users"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", "flo"),
            ("display_name", "Flo Field"),
            ("role", "agent1"),
            ("password", "short"),
        ])
        .send()
        .await?;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = bad.text().await?;
    assert!(page.contains("password: must be at least 12 characters"), "the field is named on the page");
    assert!(page.contains("value=\"Flo Field\""), "what was typed is kept");
    let good = browser
        .post(app.url("/admin/users"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", "flo"),
            ("display_name", "Flo Field"),
            ("role", "agent1"),
            ("password", "a-good-password"),
        ])
        .send()
        .await?;
    assert_eq!(good.status(), StatusCode::SEE_OTHER);
    let search = browser.get(app.url("/search?q=field")).send().await?.text().await?;
    assert!(search.contains("Flo Field"));
    let partial = browser.get(app.url("/admin/users")).header("hx-request", "true").send().await?.text().await?;
    assert!(!partial.contains("<html"), "htmx gets the content only");
    assert!(partial.contains("Flo Field"));
    app.stop().await;
    Ok(())
}
