//! API tokens (issue, use, revoke, refuse) and the TOTP second factor (enrol, verify, no replay).

use kernel::Role;
use reqwest::StatusCode;
use staff::model::{totp_code, totp_step};
use testkit::{PASSWORD, TestResult, spawn_app};

#[tokio::test]
async fn a_token_authenticates_until_it_is_revoked() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("mia", Role::Cashier).await?;
    let me: serde_json::Value = app.api.get(app.url("/api/v1/me")).bearer_auth(&token).send().await?.json().await?;
    assert_eq!(me["user"]["username"], "mia");
    assert_eq!(me["user"]["role"], "cashier");
    let tokens: serde_json::Value =
        app.api.get(app.url("/api/v1/auth/tokens")).bearer_auth(&token).send().await?.json().await?;
    let token_id = tokens[0]["token_id"].as_i64().ok_or("no token id")?;
    assert!(tokens[0].get("token_hash").is_none(), "the hash is never shown");
    let revoked =
        app.api.delete(app.url(&format!("/api/v1/auth/tokens/{token_id}"))).bearer_auth(&token).send().await?;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let after = app.api.get(app.url("/api/v1/me")).bearer_auth(&token).send().await?;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    let problem: serde_json::Value = after.json().await?;
    assert_eq!(problem["code"], "token_invalid");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn tokens_are_stored_hashed() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("ned", Role::Agent1).await?;
    let mut tx = app.db.read().await?;
    let stored = db::scalar!(&mut tx, String, "select token_hash from api_token")?;
    assert_ne!(stored, token);
    assert_eq!(stored, db::sha256_hex(&token));
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn garbage_and_wrong_credentials_are_refused() -> TestResult {
    let app = spawn_app().await;
    app.add_user("ola", Role::Agent1).await?;
    let garbage = app.api.get(app.url("/api/v1/me")).bearer_auth("cdk_not-a-token").send().await?;
    assert_eq!(garbage.status(), StatusCode::UNAUTHORIZED);
    let wrong = app
        .api
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "ola", "password": "not-the-password"}))
        .send()
        .await?;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let problem: serde_json::Value = wrong.json().await?;
    assert_eq!(problem["code"], "invalid_credentials");
    let missing =
        app.api.post(app.url("/api/v1/auth/token")).json(&serde_json::json!({"username": "ola"})).send().await?;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: serde_json::Value = missing.json().await?;
    assert_eq!(problem["errors"][0]["field"], "password");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn totp_enrolment_then_codes_are_required_and_never_replayed() -> TestResult {
    let app = spawn_app().await;
    let token = app.user_with_token("pia", Role::Agent2).await?;
    let enrol: serde_json::Value =
        app.api.post(app.url("/api/v1/me/totp")).bearer_auth(&token).send().await?.json().await?;
    let secret = enrol["secret"].as_str().ok_or("no secret")?.to_string();
    assert!(enrol["otpauth_uri"].as_str().unwrap_or_default().starts_with("otpauth://totp/Caredesk:pia?"));
    let code = totp_code(&secret, totp_step(app.clock_now())).ok_or("bad secret")?;
    let wrong_code: String = code.chars().map(|c| if c == '9' { '0' } else { char::from(c as u8 + 1) }).collect();
    let wrong = app
        .api
        .post(app.url("/api/v1/me/totp/confirm"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"code": wrong_code}))
        .send()
        .await?;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let before: serde_json::Value = app.api.get(app.url("/api/v1/me")).bearer_auth(&token).send().await?.json().await?;
    assert_eq!(before["user"]["totp_enabled"], false, "a wrong code turns nothing on");
    let confirm = app
        .api
        .post(app.url("/api/v1/me/totp/confirm"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"code": code}))
        .send()
        .await?;
    assert_eq!(confirm.status(), StatusCode::NO_CONTENT);

    let sign_in = |code: Option<String>| {
        let body = serde_json::json!({"username": "pia", "password": PASSWORD, "totp_code": code});
        app.api.post(app.url("/api/v1/auth/token")).json(&body).send()
    };
    let without = sign_in(None).await?;
    assert_eq!(without.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(without.json::<serde_json::Value>().await?["code"], "totp_code_required");
    let replayed = sign_in(Some(code.clone())).await?;
    assert_eq!(replayed.status(), StatusCode::UNPROCESSABLE_ENTITY, "the code used to confirm cannot sign in");
    assert_eq!(replayed.json::<serde_json::Value>().await?["code"], "totp_code_invalid");

    app.clock.advance_seconds(30);
    let next = totp_code(&secret, totp_step(app.clock_now())).ok_or("bad secret")?;
    assert_eq!(sign_in(Some(next.clone())).await?.status(), StatusCode::CREATED);
    let again = sign_in(Some(next)).await?;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY, "no code works twice");
    app.stop().await;
    Ok(())
}

trait ClockNow {
    fn clock_now(&self) -> kernel::Timestamp;
}

impl ClockNow for testkit::TestApp {
    fn clock_now(&self) -> kernel::Timestamp {
        use kernel::Clock;
        self.clock.now()
    }
}

#[test]
fn totp_matches_the_rfc_6238_test_vector() {
    let secret = data_encoding_base32("12345678901234567890");
    assert_eq!(totp_code(&secret, 59 / 30).as_deref(), Some("287082"));
    assert_eq!(totp_code(&secret, 1_111_111_109 / 30).as_deref(), Some("081804"));
}

fn data_encoding_base32(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for byte in text.bytes() {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            let index = ((buffer >> bits) & 31) as usize;
            out.push(char::from(*ALPHABET.get(index).unwrap_or(&b'A')));
        }
    }
    if bits > 0 {
        let index = ((buffer << (5 - bits)) & 31) as usize;
        out.push(char::from(*ALPHABET.get(index).unwrap_or(&b'A')));
    }
    out
}
