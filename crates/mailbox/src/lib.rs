//! Mailbox: inbound email turned into case threads. Every message is stored raw before anything
//! else, then parsed, threaded and written to the case, the customer's timeline and its own row.
