//! HTML handlers for payments.

use web::Routes;

pub fn routes() -> Routes {
    Routes::new()
}
