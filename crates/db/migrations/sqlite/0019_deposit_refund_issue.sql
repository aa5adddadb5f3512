-- A refunded deposit leaves its money on refunds payable (2100) until it is paid out: by check
-- (the check number) or back to a card (the processor's refund reference). Paying it out moves
-- the deposit from 'refunded' to 'refund_issued' and posts Dr 2100 / Cr cash 1000; these columns
-- say with what reference, by whom, when, and which entry did it. Times are microseconds since
-- the Unix epoch (UTC).

alter table deposit add column refund_issued_reference text;
alter table deposit add column refund_issued_by text;
alter table deposit add column refund_issued_at bigint;
alter table deposit add column refund_issued_entry_id bigint references journal_entry (entry_id);
