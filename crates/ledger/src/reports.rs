//! Trial balance, aging and the general-ledger export (being built).
