//! Health, readiness, metrics, the OpenAPI document and the docs page.

use std::collections::BTreeSet;
use testkit::{TestResult, spawn_app};

#[tokio::test]
async fn health_and_readiness_answer() -> TestResult {
    let app = spawn_app().await;
    let health = app.api.get(app.url("/healthz")).send().await?;
    assert_eq!(health.status(), 200);
    let ready = app.api.get(app.url("/readyz")).send().await?;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await?, "ready");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn metrics_export_latency_histograms_per_route() -> TestResult {
    let app = spawn_app().await;
    app.api.get(app.url("/healthz")).send().await?;
    let text = app.api.get(app.url("/metrics")).send().await?.text().await?;
    assert!(text.contains("http_request_duration_seconds_bucket"), "histogram buckets exported");
    assert!(text.contains("route=\"/healthz\""), "labelled by route pattern");
    app.stop().await;
    Ok(())
}

#[test]
fn no_two_modules_define_a_schema_name_differently() {
    assert_eq!(caredesk::openapi::clashing_schemas(), Vec::<String>::new());
}

#[tokio::test]
async fn the_openapi_document_covers_every_api_route() -> TestResult {
    let app = spawn_app().await;
    let doc: serde_json::Value = app.api.get(app.url("/api/v1/openapi.json")).send().await?.json().await?;
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().ok_or("no paths")? {
        for method in item.as_object().ok_or("no methods")?.keys() {
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let routed: BTreeSet<String> = caredesk::server::route_table()
        .into_iter()
        .filter(|r| r.is_api())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(routed, documented, "every /api route is in the OpenAPI document and nothing else is");
    let schemes = &doc["components"]["securitySchemes"];
    assert!(schemes["bearer"].is_object() && schemes["session"].is_object());
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn api_docs_are_served_from_embedded_files() -> TestResult {
    let app = spawn_app().await;
    let page = app.api.get(app.url("/api/docs")).send().await?.text().await?;
    assert!(page.contains("/assets/swagger-ui-bundle.js"));
    assert!(!page.contains("https://"), "nothing is loaded from another host");
    let bundle = app.api.get(app.url("/assets/swagger-ui-bundle.js")).send().await?;
    assert_eq!(bundle.status(), 200);
    let htmx = app.api.get(app.url("/assets/htmx.min.js")).send().await?;
    assert_eq!(htmx.status(), 200);
    assert!(htmx.text().await?.contains("htmx"));
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn unknown_routes_are_404_problems_or_pages() -> TestResult {
    let app = spawn_app().await;
    let api = app.api.get(app.url("/api/v1/nothing-here")).send().await?;
    assert_eq!(api.status(), 404);
    assert_eq!(api.headers()["content-type"], "application/problem+json");
    let page = app.api.get(app.url("/nothing-here")).send().await?;
    assert_eq!(page.status(), 404);
    assert!(page.text().await?.contains("<html"));
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_main_request_bodies_carry_examples() -> TestResult {
    let app = spawn_app().await;
    let doc: serde_json::Value = app.api.get(app.url("/api/v1/openapi.json")).send().await?.json().await?;
    let schemas = &doc["components"]["schemas"];
    for name in [
        "CustomerBody",
        "AccountBody",
        "PremiseBody",
        "MeterBody",
        "AgreementBody",
        "AlertBody",
        "ContactBody",
        "CaseBody",
        "ReplyBody",
        "EscalateBody",
        "ResolveBody",
        "CallbackBody",
        "ArticleBody",
        "NewUserBody",
    ] {
        assert!(!schemas[name]["example"].is_null() || !schemas[name]["examples"].is_null(), "{name} has an example");
    }
    app.stop().await;
    Ok(())
}
