//! Customer information: who the organisation serves and bills. Customers (a person or a
//! business) with several phones, emails and addresses; accounts (the billing relationship, with
//! a check-digit number); premises (service addresses) with meters; service agreements; alerts
//! shown on every screen; notes; duplicate detection and merge. Every change is audited, and the
//! search document of the customer is rebuilt in the same transaction, so a customer created a
//! moment ago is found at once. See `DESIGN.md`.

pub mod api;
mod error;
pub mod model;
pub mod ops;
pub mod pages;
pub mod search;
pub mod store;

pub use error::CustomerError;

/// Every route this module serves, API and pages.
pub fn routes() -> web::Routes {
    api::routes().merge(pages::routes())
}

#[cfg(test)]
mod tests;
