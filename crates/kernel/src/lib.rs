//! The kernel: pure types every Caredesk module shares — money, typed ids, instants and the
//! clock, cursor paging, roles and permissions, and the actor behind every change. No I/O lives
//! here, so every rule in this crate is testable without a database.

pub mod access;
pub mod clock;
pub mod ids;
pub mod money;
pub mod paging;

pub use access::{Actor, Permission, Role};
pub use clock::{Clock, FixedClock, SystemClock, Timestamp};
pub use money::{Currency, Money, MoneyError};
pub use paging::{Cursor, Page, PageRequest, PagingError};

#[cfg(test)]
mod tests;
