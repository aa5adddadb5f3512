//! The one Caredesk binary. A tour:
//! - [`cli`]: the `caredesk` commands (`serve`, `migrate`, `user`, `demo`, `verify`).
//! - [`config`]: the typed configuration (defaults, file, environment, flags).
//! - [`server`]: assembles every module's routes behind the auth guard and serves them, with the
//!   background job worker beside it.
//! - [`system`]: health, readiness, metrics, the home and search screens, jobs and the audit API.
//! - [`openapi`]: the OpenAPI 3.1 document covering every API route.
//! - [`demo`]: the demo data set.

pub mod cli;
mod cli_billing;
mod cli_charges;
mod cli_ledger;
mod cli_letters;
mod cli_payments;
mod cli_user;
pub mod config;
pub mod demo;
pub mod demo_bulk;
pub mod demo_customers;
pub mod demo_money;
pub mod money_pages;
pub mod openapi;
pub mod server;
pub mod system;

pub use config::Config;
pub use server::{RunningApp, spawn};
