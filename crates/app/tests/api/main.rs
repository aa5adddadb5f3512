//! The one black-box test binary: every test starts a real Caredesk on port 0 over a fresh
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! database (SQLite by default, PostgreSQL when TEST_DATABASE_URL is set) and talks to
//! it over HTTP, or runs the real `caredesk` binary.

mod access;
mod audit_chain;
mod billing;
mod cases;
mod charges;
mod cli;
mod contacts;
mod correspondence;
mod csrf;
mod customers;
mod demo_bulk;
mod idempotency;
mod knowledge;
mod ledger;
mod live;
mod mailbox;
mod money_story;
mod notices;
mod operations;
mod payments;
mod payouts;
mod signin;
mod story;
mod tidy;
mod tokens_totp;
mod users;
