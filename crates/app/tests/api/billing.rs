//! Black-box tests of the billing module over HTTP.
