//! Black-box tests of the payments module over HTTP.
