//! Unit tests for the web layer's pure parts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::auth::{constant_time_eq, cookie, urlencode};
use crate::{ApiError, Chrome, Problem};
use http::{HeaderMap, HeaderValue, StatusCode, header};

#[test]
fn cookies_are_found_among_others() {
    let mut headers = HeaderMap::new();
    headers.insert(header::COOKIE, HeaderValue::from_static("a=1; cd_session=abc; b=2"));
    assert_eq!(cookie(&headers, "cd_session").as_deref(), Some("abc"));
    assert_eq!(cookie(&headers, "missing"), None);
}

#[test]
fn constant_time_comparison_is_exact() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"ab"));
}

#[test]
fn next_urls_are_encoded() {
    assert_eq!(urlencode("/search?q=a b"), "/search%3Fq%3Da%20b");
}

#[derive(Debug, thiserror::Error)]
enum Sample {
    #[error("must be at least 12 characters")]
    PasswordTooShort,
}

impl Problem for Sample {
    fn status(&self) -> StatusCode {
        StatusCode::UNPROCESSABLE_ENTITY
    }
    fn code(&self) -> &'static str {
        "password_too_short"
    }
    fn field(&self) -> Option<&'static str> {
        Some("password")
    }
}

#[test]
fn a_module_error_becomes_a_problem_naming_its_field() {
    let e: ApiError = Sample::PasswordTooShort.into();
    assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e.code, "password_too_short");
    assert_eq!(e.errors.first().map(|f| f.field.as_str()), Some("password"));
    let json = serde_json::to_value(e.document()).unwrap_or_default();
    assert_eq!(json["status"], 422);
    assert_eq!(json["type"], "/api/docs#problem-password_too_short");
}

#[test]
fn anonymous_chrome_has_no_navigation() {
    let chrome = Chrome::new("Sign in", None, "/signin", false);
    assert!(chrome.nav.is_empty());
    assert!(!chrome.signed_in);
}

#[test]
fn every_embedded_asset_is_served_by_name() {
    let names = crate::assets::names();
    for expected in ["htmx.min.js", "app.css", "app.js", "swagger-ui-bundle.js", "swagger-ui.css"] {
        assert!(names.contains(&expected), "{expected}");
    }
}
