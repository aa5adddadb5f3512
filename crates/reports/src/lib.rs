//! Reports. First among them, the repetitive and unusual inquiries report a lead reviews: how
//! many contacts each reason drew per day and per week, the days that spiked far above their
//! trailing week, and the words rising fastest in contact summaries — on screen with a chart, and
//! as CSV. See `DESIGN.md`.

pub mod api;
mod error;
pub mod model;
pub mod ops;
pub mod pages;
pub mod store;

pub use error::ReportError;

/// Every route this module serves, API and pages.
pub fn routes() -> web::Routes {
    api::routes().merge(pages::routes())
}

#[cfg(test)]
mod tests;
