//! Bulk posting for bill runs (being built by the billing work).
