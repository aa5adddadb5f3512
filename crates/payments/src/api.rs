//! JSON handlers for payments.

use utoipa::OpenApi;
use web::Routes;

#[derive(OpenApi)]
#[openapi(tags((name = "payments", description = "Payments")))]
pub struct PaymentsApi;

pub fn routes() -> Routes {
    Routes::new()
}
