//! Billing: rate schedules in versions by effective date (fixed charge, blocks, minimum, tax),
//! meter reads (entered, imported, or estimated by the run), bill runs over a cycle's accounts
//! in resumable batches, and bills with their lines, ledger entry, open item and system contact.
//! See `DESIGN.md`.
//!
//! A tour: [`model`] holds the pure rules (scaled-integer rates, periods, usage and estimates);
//! [`rating`] turns agreements into bill lines and the bill's journal entry; [`run`] is the bill
//! run; [`ops`] the other operations HTTP, CLI, jobs and tests share; [`store`] and
//! [`bills_store`] all of the SQL; [`api`] and [`pages`] the JSON and HTML handlers.

pub mod api;
pub mod bill_pdf;
pub mod bills_store;
mod error;
pub mod model;
pub mod ops;
pub mod pages;
pub mod rating;
pub mod run;
mod run_write;
pub mod store;

pub use error::BillingError;

/// The job that runs a bill run in the background (payload `{"cycle": 5, "period": "2026-11"}`).
pub const BILL_RUN_JOB: &str = "billing.bill_run";

/// Every route this module serves, API and pages.
pub fn routes() -> web::Routes {
    api::routes().merge(pages::routes())
}

#[cfg(test)]
mod tests;
