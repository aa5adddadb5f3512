//! CSRF: every unsafe request that relies on a cookie must echo the token.

use kernel::Role;
use reqwest::StatusCode;
use testkit::{TestResult, spawn_app};

#[tokio::test]
async fn a_form_without_the_token_is_refused() -> TestResult {
    let app = spawn_app().await;
    app.add_user("quin", Role::Agent1).await?;
    let browser = app.browser();
    let csrf = app.sign_in(&browser, "quin").await?;
    let missing = browser.post(app.url("/profile/tokens")).form(&[("name", "mine")]).send().await?;
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    assert!(missing.text().await?.contains("security token"));
    let wrong = browser
        .post(app.url("/profile/tokens"))
        .form(&[("_csrf", "0123456789abcdef"), ("name", "mine")])
        .send()
        .await?;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let right =
        browser.post(app.url("/profile/tokens")).form(&[("_csrf", csrf.as_str()), ("name", "mine")]).send().await?;
    assert_eq!(right.status(), StatusCode::OK);
    assert!(right.text().await?.contains("new-token"));
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn htmx_and_json_calls_with_a_session_need_the_header() -> TestResult {
    let app = spawn_app().await;
    app.add_user("rae", Role::Agent1).await?;
    let browser = app.browser();
    let csrf = app.sign_in(&browser, "rae").await?;
    let without = browser.post(app.url("/api/v1/me/totp")).send().await?;
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    let problem: serde_json::Value = without.json().await?;
    assert_eq!(problem["code"], "csrf_token_invalid");
    let with = browser.post(app.url("/api/v1/me/totp")).header("x-csrf-token", &csrf).send().await?;
    assert_eq!(with.status(), StatusCode::OK);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_sign_in_form_needs_its_double_submit_token() -> TestResult {
    let app = spawn_app().await;
    app.add_user("sol", Role::Agent1).await?;
    let forged =
        app.api.post(app.url("/signin")).form(&[("username", "sol"), ("password", testkit::PASSWORD)]).send().await?;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let mismatched = app
        .api
        .post(app.url("/signin"))
        .header("cookie", "cd_csrf=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .form(&[
            ("_csrf", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
            ("username", "sol"),
            ("password", testkit::PASSWORD),
        ])
        .send()
        .await?;
    assert_eq!(mismatched.status(), StatusCode::FORBIDDEN);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn bearer_calls_need_no_csrf_token() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("tao", Role::Agent1).await?;
    let r = app.api.post(app.url("/api/v1/me/totp")).bearer_auth(&token).send().await?;
    assert_eq!(r.status(), StatusCode::OK);
    app.stop().await;
    Ok(())
}
