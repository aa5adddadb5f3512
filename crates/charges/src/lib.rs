//! Charges: what a billing clerk charges or credits to an account outside the bill run (being
//! built; see DESIGN.md).

/// Every route this module serves, API and pages.
pub fn routes() -> web::Routes {
    web::Routes::new()
}
