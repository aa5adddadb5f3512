//! Unit and store tests for customer information.
