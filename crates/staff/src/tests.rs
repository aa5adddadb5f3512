//! Unit tests for staff rules.
