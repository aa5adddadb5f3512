//! Payments and cashiering: payments by cash, check, money order, card token and ACH at the
//! counter, by mail, by phone and by lockbox file; receipts; cash drawers opened, balanced and
//! signed off; bank deposits; reversals of returned payments with the NSF fee; transfers of
//! misapplied payments; refunds of overpayment that a different supervisor approves. Every money
//! event posts one balanced entry through the ledger. See `DESIGN.md`.
//!
//! A tour: [`model`] holds the pure rules (tenders, card-number refusal, state machines);
//! [`file`] parses payment files; [`ops`] takes payments and runs drawers; [`ops_money`]
//! reverses, transfers, refunds and deposits; [`import`] posts payment files in bulk; [`store`]
//! and [`store_more`] hold all of the SQL; [`api`] and [`pages`] the JSON and HTML handlers.

pub mod api;
mod api_more;
mod error;
pub mod file;
pub mod import;
pub mod model;
pub mod notices;
pub mod ops;
pub mod ops_money;
pub mod pages;
mod pages_more;
pub mod store;
pub mod store_more;

pub use error::{PaymentError, to_api_error};

/// Every route this module serves, API and pages.
pub fn routes() -> web::Routes {
    api::routes().merge(api_more::routes()).merge(pages::routes()).merge(pages_more::routes())
}

#[cfg(test)]
mod tests;
