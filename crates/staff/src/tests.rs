//! Unit tests for the staff rules: parsing, the password policy and TOTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::StaffError;
use crate::model::*;
use kernel::Timestamp;

#[test]
fn usernames_are_normalised_and_checked() {
    assert_eq!(Username::parse("  MGarcia ").map(|u| u.as_str().to_string()).ok(), Some("mgarcia".to_string()));
    for bad in ["", "ab", "1abc", "has space", "ümlaut", "a@b", &"x".repeat(41)] {
        assert!(matches!(Username::parse(bad), Err(StaffError::UsernameInvalid)), "{bad}");
    }
    assert!(Username::parse("j.doe_2-x").is_ok());
}

#[test]
fn the_password_policy_is_length_only() {
    assert!(matches!(Password::parse("elevenchars"), Err(StaffError::PasswordTooShort)));
    assert!(Password::parse("twelve chars").is_ok());
    assert!(Password::parse("correct horse battery staple").is_ok());
    assert!(matches!(Password::parse(&"x".repeat(257)), Err(StaffError::PasswordTooLong)));
}

#[test]
fn emails_and_names_are_checked() {
    assert_eq!(parse_email("").ok(), Some(None));
    assert_eq!(parse_email(" A@Example.org ").ok(), Some(Some("a@example.org".to_string())));
    for bad in ["no-at", "@example.org", "a@b", "a@.org", "a b@example.org", "a@example."] {
        assert!(parse_email(bad).is_err(), "{bad}");
    }
    assert!(parse_display_name("  ").is_err());
    assert!(parse_display_name("Line\nbreak").is_err());
    assert_eq!(parse_display_name(" Ada ").ok(), Some("Ada".to_string()));
    assert!(parse_role("billing-clerk").is_ok());
    assert!(parse_role("root").is_err());
}

#[tokio::test]
async fn a_hash_verifies_only_its_own_password() {
    let hash = Password::parse("the right password").expect("policy accepts").hash().await;
    assert!(hash.is_ok());
    if let Ok(hash) = hash {
        assert!(hash.0.starts_with("$argon2id$"));
        assert!(hash.verify("the right password").await);
        assert!(!hash.verify("the wrong password").await);
    }
}

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_micros(seconds * 1_000_000)
}

#[test]
fn totp_accepts_one_step_of_drift_and_never_a_used_step() {
    let secret = new_totp_secret();
    let now = at(1_800_000_000);
    let step = totp_step(now);
    let code = |s: i64| totp_code(&secret, s).unwrap_or_default();
    assert_eq!(totp_accept(&secret, &code(step), now, None), Some(step));
    assert_eq!(totp_accept(&secret, &code(step - 1), now, None), Some(step - 1), "a code from 30 s ago");
    assert_eq!(totp_accept(&secret, &code(step + 1), now, None), Some(step + 1), "a clock 30 s fast");
    assert_eq!(totp_accept(&secret, &code(step - 2), now, None), None, "a code from a minute ago");
    assert_eq!(totp_accept(&secret, &code(step), now, Some(step)), None, "replay of the used step");
    assert_eq!(totp_accept(&secret, &code(step - 1), now, Some(step)), None, "an older step after a newer one");
    let spaced = format!("{} {}", code(step).get(..3).unwrap_or_default(), code(step).get(3..).unwrap_or_default());
    assert_eq!(totp_accept(&secret, &spaced, now, None), Some(step), "spaces are ignored");
    assert_eq!(totp_accept(&secret, "12345", now, None), None);
    assert_eq!(totp_accept(&secret, "abcdef", now, None), None);
}

#[test]
fn the_otpauth_uri_names_the_issuer_and_user() {
    let uri = otpauth_uri("ABC", "jdoe");
    assert!(uri.starts_with("otpauth://totp/Caredesk:jdoe?secret=ABC&issuer=Caredesk"));
}
