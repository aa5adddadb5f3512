//! Black-box tests of the ledger module over HTTP.
