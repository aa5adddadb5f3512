//! JSON handlers for billing.

use utoipa::OpenApi;
use web::Routes;

#[derive(OpenApi)]
#[openapi(tags((name = "billing", description = "Billing")))]
pub struct BillingApi;

pub fn routes() -> Routes {
    Routes::new()
}
