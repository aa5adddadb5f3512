//! Unit tests for the outbound email rules and merge fields, store tests on SQLite always and on
//! PostgreSQL when `TEST_DATABASE_URL` is set, and drain tests against a real SMTP server
//! (aiosmtpd, started by the test; skipped with a notice when it is not installed).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod bench;
mod headers_tls;
mod outbound;
mod send;
pub(crate) mod sink;
