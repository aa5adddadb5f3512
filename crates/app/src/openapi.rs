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

pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = SystemApi::openapi();
    doc.merge(staff::api::StaffApi::openapi());
    doc.merge(customers::api::CustomersApi::openapi());
    doc.merge(contacts::api::ContactsApi::openapi());
    doc.merge(correspondence::api::CorrespondenceApi::openapi());
    doc.merge(cases::api::CasesApi::openapi());
    doc.merge(reports::api::ReportsApi::openapi());
    doc.merge(knowledge::api::KnowledgeApi::openapi());
    doc.merge(ledger::api::LedgerApi::openapi());
    doc.merge(billing::api::BillingApi::openapi());
    doc.merge(payments::api::PaymentsApi::openapi());
    doc.merge(charges::api::ChargesApi::openapi());
    doc.merge(live::api::LiveApi::openapi());
    doc.merge(mailbox::api::MailboxApi::openapi());
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}
