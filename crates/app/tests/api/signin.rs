//! Sign-in, sign-out, session rotation, timeouts, throttling and lockout.

use kernel::Role;
use reqwest::StatusCode;
use testkit::{PASSWORD, TestResult, hidden_csrf, spawn_app, spawn_app_with};

async fn post_signin(
    app: &testkit::TestApp,
    browser: &reqwest::Client,
    username: &str,
    password: &str,
) -> Result<reqwest::Response, Box<dyn std::error::Error + Send + Sync>> {
    let page = browser.get(app.url("/signin")).send().await?.text().await?;
    let csrf = hidden_csrf(&page).ok_or("no csrf")?;
    Ok(browser
        .post(app.url("/signin"))
        .form(&[("_csrf", csrf.as_str()), ("username", username), ("password", password), ("next", "/profile")])
        .send()
        .await?)
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("cd_session="))
        .map(|v| v.split(';').next().unwrap_or_default().trim_start_matches("cd_session=").to_string())
}

#[tokio::test]
async fn signing_in_opens_a_session_and_signing_out_ends_it() -> TestResult {
    let app = spawn_app().await;
    app.add_user("dora", Role::Agent1).await?;
    let browser = app.browser();
    let unauthenticated = browser.get(app.url("/profile")).send().await?;
    assert_eq!(unauthenticated.status(), StatusCode::SEE_OTHER);
    assert_eq!(unauthenticated.headers()["location"], "/signin?next=/profile");
    let response = post_signin(&app, &browser, "dora", PASSWORD).await?;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/profile");
    let cookie = response.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let profile = browser.get(app.url("/profile")).send().await?;
    assert_eq!(profile.status(), 200);
    let csrf = hidden_csrf(&profile.text().await?).ok_or("no csrf")?;
    let out = browser.post(app.url("/signout")).form(&[("_csrf", csrf.as_str())]).send().await?;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after = browser.get(app.url("/profile")).send().await?;
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "the session is gone");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_session_id_is_rotated_at_sign_in() -> TestResult {
    let app = spawn_app().await;
    app.add_user("erin", Role::Agent1).await?;
    let browser = app.browser();
    let first = post_signin(&app, &browser, "erin", PASSWORD).await?;
    let first_id = session_cookie(&first).ok_or("no session cookie")?;
    let profile = browser.get(app.url("/profile")).send().await?.text().await?;
    let csrf = hidden_csrf(&profile).ok_or("no csrf")?;
    let second = browser
        .post(app.url("/signin"))
        .form(&[("_csrf", csrf.as_str()), ("username", "erin"), ("password", PASSWORD)])
        .send()
        .await?;
    assert_eq!(second.status(), StatusCode::SEE_OTHER);
    let second_id = session_cookie(&second).ok_or("no session cookie")?;
    assert_ne!(first_id, second_id, "a new id at every sign-in");
    let stale = app.api.get(app.url("/api/v1/me")).header("cookie", format!("cd_session={first_id}")).send().await?;
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED, "the id held before sign-in no longer works");
    let fresh = app.api.get(app.url("/api/v1/me")).header("cookie", format!("cd_session={second_id}")).send().await?;
    assert_eq!(fresh.status(), StatusCode::OK);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_planted_session_id_is_never_promoted() -> TestResult {
    let app = spawn_app().await;
    app.add_user("fay", Role::Agent1).await?;
    let planted = "attacker-chosen-session-id";
    let page = app.api.get(app.url("/signin")).header("cookie", format!("cd_session={planted}")).send().await?;
    let csrf_cookie = page
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    let csrf = hidden_csrf(&page.text().await?).ok_or("no csrf")?;
    let response = app
        .api
        .post(app.url("/signin"))
        .header("cookie", format!("cd_session={planted}; {csrf_cookie}"))
        .form(&[("_csrf", csrf.as_str()), ("username", "fay"), ("password", PASSWORD)])
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_ne!(session_cookie(&response).as_deref(), Some(planted));
    let with_planted =
        app.api.get(app.url("/api/v1/me")).header("cookie", format!("cd_session={planted}")).send().await?;
    assert_eq!(with_planted.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_idle_session_expires() -> TestResult {
    let app = spawn_app().await;
    app.add_user("gil", Role::Agent1).await?;
    let browser = app.browser();
    app.sign_in(&browser, "gil").await?;
    app.clock.advance_seconds(29 * 60);
    assert_eq!(browser.get(app.url("/profile")).send().await?.status(), StatusCode::OK, "used within the idle limit");
    app.clock.advance_seconds(29 * 60);
    assert_eq!(
        browser.get(app.url("/profile")).send().await?.status(),
        StatusCode::OK,
        "each use restarts the idle clock"
    );
    app.clock.advance_seconds(31 * 60);
    assert_eq!(browser.get(app.url("/profile")).send().await?.status(), StatusCode::SEE_OTHER, "idle for 31 minutes");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_busy_session_still_ends_at_its_absolute_limit() -> TestResult {
    let app = spawn_app().await;
    app.add_user("hal", Role::Agent1).await?;
    let browser = app.browser();
    app.sign_in(&browser, "hal").await?;
    for _ in 0..(12 * 3) {
        assert_eq!(browser.get(app.url("/profile")).send().await?.status(), StatusCode::OK);
        app.clock.advance_seconds(20 * 60);
    }
    assert_eq!(
        browser.get(app.url("/profile")).send().await?.status(),
        StatusCode::SEE_OTHER,
        "12 hours after sign-in"
    );
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn repeated_failures_lock_the_account_until_the_lockout_ends() -> TestResult {
    let app = spawn_app().await;
    app.add_user("ivy", Role::Agent1).await?;
    let browser = app.browser();
    for attempt in 1..=4 {
        let response = post_signin(&app, &browser, "ivy", "wrong-password-here").await?;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
        assert!(response.text().await?.contains("username or password is wrong"));
    }
    let fifth = post_signin(&app, &browser, "ivy", "wrong-password-here").await?;
    assert_eq!(fifth.status(), StatusCode::LOCKED);
    let right_but_locked = post_signin(&app, &browser, "ivy", PASSWORD).await?;
    assert_eq!(right_but_locked.status(), StatusCode::LOCKED, "the right password does not open a locked account");
    let api = app
        .api
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "ivy", "password": PASSWORD}))
        .send()
        .await?;
    assert_eq!(api.status(), StatusCode::LOCKED);
    let problem: serde_json::Value = api.json().await?;
    assert_eq!(problem["code"], "account_locked");
    app.clock.advance_seconds(15 * 60 + 1);
    let after = post_signin(&app, &browser, "ivy", PASSWORD).await?;
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "unlocked after 15 minutes");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn one_address_is_throttled_before_any_password_is_hashed() -> TestResult {
    let app = spawn_app_with(|c| c.auth.signin_per_minute_per_ip = 3).await;
    app.add_user("jan", Role::Agent1).await?;
    for _ in 0..3 {
        let r = app
            .api
            .post(app.url("/api/v1/auth/token"))
            .json(&serde_json::json!({"username": "nobody", "password": "whatever-password"}))
            .send()
            .await?;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let throttled = app
        .api
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "jan", "password": PASSWORD}))
        .send()
        .await?;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance_seconds(61);
    let later = app
        .api
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "jan", "password": PASSWORD}))
        .send()
        .await?;
    assert_eq!(later.status(), StatusCode::CREATED);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_and_loses_open_sessions() -> TestResult {
    let app = spawn_app().await;
    let admin = app.user_with_token("kim", Role::Admin).await?;
    let user_id = app.add_user("lou", Role::Agent1).await?;
    let browser = app.browser();
    app.sign_in(&browser, "lou").await?;
    let r = app
        .api
        .patch(app.url(&format!("/api/v1/users/{user_id}")))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"disabled": true}))
        .send()
        .await?;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(browser.get(app.url("/profile")).send().await?.status(), StatusCode::SEE_OTHER);
    let token = app
        .api
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "lou", "password": PASSWORD}))
        .send()
        .await?;
    assert_eq!(token.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
    Ok(())
}
