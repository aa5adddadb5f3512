//! The table-driven authorisation test: every declared route, walked with every role (and with
//! no credentials), must allow exactly the roles whose permissions include the route's.

use kernel::Role;
use reqwest::{Method, StatusCode};
use testkit::{TestResult, spawn_app};
use web::{Access, RouteInfo};

fn concrete(path: &str) -> String {
    let path = path.replace("{token_id}", "999999").replace("{name}", "app.css");
    let mut concrete = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => in_param = true,
            '}' => {
                in_param = false;
                concrete.push('1');
            }
            _ if !in_param => concrete.push(c),
            _ => {}
        }
    }
    concrete
}

async fn call(
    app: &testkit::TestApp,
    route: &RouteInfo,
    token: Option<&str>,
    browser: Option<(&reqwest::Client, &str)>,
) -> Result<reqwest::Response, reqwest::Error> {
    let url = app.url(&concrete(route.path));
    let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap_or(Method::GET);
    let unsafe_method = method != Method::GET;
    match (route.is_api(), token, browser) {
        (true, Some(token), _) => {
            let mut request = app.api.request(method, url).bearer_auth(token);
            if unsafe_method {
                request = request.json(&serde_json::json!({}));
            }
            request.send().await
        }
        (false, _, Some((client, csrf))) => {
            let mut request = client.request(method, url);
            if unsafe_method {
                request = request.form(&[("_csrf", csrf)]);
            }
            request.send().await
        }
        _ => {
            let mut request = app.api.request(method, url);
            if unsafe_method {
                request = request.json(&serde_json::json!({}));
            }
            request.send().await
        }
    }
}

fn refused(response: &reqwest::Response) -> bool {
    let to_signin = response.status() == StatusCode::SEE_OTHER
        && response
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.starts_with("/signin?next="));
    matches!(response.status(), StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) || to_signin
}

#[tokio::test]
async fn every_route_allows_exactly_the_roles_that_hold_its_permission() -> TestResult {
    let app = spawn_app().await;
    let mut routes = caredesk::server::route_table();
    // Signing out ends the session the walk uses, so it goes last.
    routes.sort_by_key(|r| r.path == "/signout");
    let mut checked = 0;
    for role in Role::ALL {
        let username = format!("walk-{}", role.code().replace('_', "-"));
        let token = app.user_with_token(&username, role).await?;
        let browser = app.browser();
        let csrf = app.sign_in(&browser, &username).await?;
        for route in &routes {
            let response = call(&app, route, Some(&token), Some((&browser, &csrf))).await?;
            let status = response.status();
            match route.access {
                Access::Public | Access::PublicApi => {
                    assert_ne!(status, StatusCode::FORBIDDEN, "{} {} as {}", route.method, route.path, role.code());
                }
                Access::Signed(permission) => {
                    let allowed = role.permits(permission);
                    if allowed {
                        assert!(
                            !refused(&response),
                            "{} {} should be allowed for {} but got {status}",
                            route.method,
                            route.path,
                            role.code()
                        );
                    } else {
                        assert_eq!(
                            status,
                            StatusCode::FORBIDDEN,
                            "{} {} should be refused for {}",
                            route.method,
                            route.path,
                            role.code()
                        );
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= Role::ALL.len() * 30, "walked {checked} route-role pairs");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn without_credentials_every_signed_route_asks_for_sign_in() -> TestResult {
    let app = spawn_app().await;
    for route in caredesk::server::route_table() {
        let response = call(&app, &route, None, None).await?;
        match route.access {
            Access::Signed(_) if route.is_api() => {
                assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{} {}", route.method, route.path);
                assert_eq!(response.headers()["content-type"], "application/problem+json");
            }
            Access::Signed(_) if route.method == http::Method::GET => {
                assert_eq!(response.status(), StatusCode::SEE_OTHER, "{} {}", route.method, route.path);
            }
            Access::Signed(_) => {
                assert!(refused(&response), "{} {} got {}", route.method, route.path, response.status());
            }
            Access::Public | Access::PublicApi => {
                assert!(!refused(&response) || route.path == "/signin", "{} {} is public", route.method, route.path);
            }
        }
    }
    app.stop().await;
    Ok(())
}

#[test]
fn no_route_is_declared_twice() {
    let table = caredesk::server::route_table();
    let mut seen = std::collections::BTreeSet::new();
    for route in &table {
        assert!(
            seen.insert(format!("{} {}", route.method, route.path)),
            "{} {} declared twice",
            route.method,
            route.path
        );
    }
}
