-- Two indexes keep only the rows that have a key. Payments taken without a drawer (mail, phone,
-- lockbox) have no drawer_id, and journal lines off the customer subledger (cash, revenue, tax)
-- have no account_id; every query through these indexes asks for one drawer or one account
-- (`drawer_id = ...`, `account_id = ...`), which a partial index on `is not null` answers as
-- before. A million-line lockbox file then writes two million fewer index entries (about 6 %
-- of its import time, BENCHMARKS.md), and a bill run one fewer per revenue and tax line.

drop index payment_by_drawer;
create index payment_by_drawer on payment (drawer_id) where drawer_id is not null;
drop index journal_line_by_account;
create index journal_line_by_account on journal_line (account_id, line_id) where account_id is not null;
