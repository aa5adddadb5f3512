//! Unit tests of the payments rules.
