//! More JSON handlers (being built).
pub fn routes() -> web::Routes { web::Routes::new() }
