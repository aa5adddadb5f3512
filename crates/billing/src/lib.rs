//! The billing module (being built; see DESIGN.md).

pub mod api;
pub mod pages;

/// Every route this module serves, API and pages.
pub fn routes() -> web::Routes {
    api::routes().merge(pages::routes())
}
