//! The OpenAPI 3.1 document: every module's paths merged, with the two ways to authenticate
//! (bearer token, session cookie) declared. A test checks it names every API route.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Caredesk API",
        description = concat!(
            "The customer service desk: staff, customers, contacts, cases, billing, payments and more. ",
            "Errors are application/problem+json with a stable `code`; lists are paged with `limit` and `cursor`; ",
            "POSTs that create records or move money accept an `Idempotency-Key` header."
        ),
    ),
    paths(crate::system::openapi_json, crate::system::search_api, crate::system::jobs_api, crate::system::audit_api),
    components(
        schemas(
            crate::system::SearchResults,
            crate::system::SearchGroup,
            crate::system::SearchHit,
            crate::system::JobsView,
            crate::system::JobView,
            crate::system::AuditPage,
            db::audit::AuditRecord,
        ),
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "system", description = "The document itself, jobs and the audit trail"),
        (name = "search", description = "One search across everything"),
    ),
)]
struct SystemApi;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from POST /api/v1/auth/token or `caredesk user token`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                web::SESSION_COOKIE,
                "The web UI's session; unsafe methods also need the X-CSRF-Token header",
            ))),
        );
    }
}

/// Each module's own document, in the order they are merged.
fn modules() -> Vec<utoipa::openapi::OpenApi> {
    vec![
        staff::api::StaffApi::openapi(),
        customers::api::CustomersApi::openapi(),
        contacts::api::ContactsApi::openapi(),
        correspondence::api::CorrespondenceApi::openapi(),
        cases::api::CasesApi::openapi(),
        reports::api::ReportsApi::openapi(),
        knowledge::api::KnowledgeApi::openapi(),
        ledger::api::LedgerApi::openapi(),
        billing::api::BillingApi::openapi(),
        payments::api::PaymentsApi::openapi(),
        charges::api::ChargesApi::openapi(),
        live::api::LiveApi::openapi(),
        mailbox::api::MailboxApi::openapi(),
    ]
}

pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = SystemApi::openapi();
    for module in modules() {
        doc.merge(module);
    }
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}

/// Schema names that two modules define differently. Merging keeps only the first, so the
/// document would describe the other module's bodies wrongly; a test keeps this list empty.
pub fn clashing_schemas() -> Vec<String> {
    let mut seen: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    let mut clashes = Vec::new();
    for module in std::iter::once(SystemApi::openapi()).chain(modules()) {
        let Some(components) = module.components else { continue };
        for (name, schema) in components.schemas {
            let text = serde_json::to_string(&schema).unwrap_or_default();
            match seen.get(&name) {
                Some(earlier) if *earlier != text => clashes.push(name),
                Some(_) => {}
                None => {
                    seen.insert(name, text);
                }
            }
        }
    }
    clashes
}
