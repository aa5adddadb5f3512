//! HTML handlers for billing.

use web::Routes;

pub fn routes() -> Routes {
    Routes::new()
}
