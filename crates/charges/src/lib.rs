//! Charges: the billing clerk's second module. Bills come from `billing`; everything else
//! charged or credited to a customer account comes from here — special fees (manual, and late
//! fees by policy), adjustments with reason codes (above a limit they wait for a different
//! supervisor's approval), deposits required by credit rating (billed, held, applied or
//! refunded) and payment arrangements (arrears split into instalments, kept or broken as
//! payments arrive). Every money event posts one balanced entry through `ledger::ops::post` and
//! writes its audit record in the same transaction. See `DESIGN.md`.
//!
//! A tour: [`model`] holds the pure rules and state machines; [`ops`] the operations HTTP, CLI,
//! jobs, other modules and tests share; [`store`] all of the SQL; [`api`] the JSON handlers;
//! [`pages`] the account's charges page and the approval form endpoints; [`admin_pages`] the
//! admin page of the fee schedule, adjustment reasons and settings.

pub mod admin_pages;
pub mod api;
mod error;
pub mod model;
pub mod ops;
pub mod pages;
pub mod store;

pub use error::ChargeError;

/// Every route this module serves, API and pages.
pub fn routes() -> web::Routes {
    api::routes().merge(pages::routes()).merge(admin_pages::routes())
}

#[cfg(test)]
mod tests;
