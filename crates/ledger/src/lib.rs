//! The ledger: double-entry and append-only. Every money event of every module posts exactly one
//! balanced journal entry through [`ops::post`], which also keeps each customer account's
//! balances, the daily totals behind the trial balance, and — through [`ops::add_open_item`] and
//! [`ops::settle`] — the open items that credits settle oldest-due first and that aging reads.
//! Posted entries are never changed: the database refuses it, and a correction is
//! [`ops::reverse`]. See `DESIGN.md`.
//!
//! A tour: [`model`] holds the pure rules (an entry balances per currency); [`ops`] the
//! operations other modules, HTTP, CLI and tests share; [`store`] all of the SQL; [`api`] and
//! [`pages`] the JSON and HTML handlers.

pub mod api;
pub mod batch;
pub mod batch_payments;
mod error;
pub mod manage;
pub mod model;
pub mod ops;
pub mod pages;
pub mod report_store;
pub mod reports;
pub mod store;
pub mod verify;

pub use error::LedgerError;
pub use model::{BusinessDate, EntryDraft, LedgerCode, LineDraft};

/// Every route this module serves, API and pages.
pub fn routes() -> web::Routes {
    api::routes().merge(pages::routes())
}

#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod store_tests;
#[cfg(test)]
mod tests;
