-- Deposit refunds above the approval limit wait for a supervisor who is not the requester, as
-- adjustments do. A deposit waiting is in status 'refund_pending'; these columns say who asked,
-- who decided and why. A rejection puts the deposit back to 'held'; an approval posts the refund.
-- Times are microseconds since the Unix epoch (UTC).

alter table deposit add column refund_requested_by_user_id bigint;
alter table deposit add column refund_requested_by text;
alter table deposit add column refund_note text;
alter table deposit add column refund_requested_at bigint;
alter table deposit add column refund_decided_by_user_id bigint;
alter table deposit add column refund_decided_by text;
alter table deposit add column refund_decision_note text;
alter table deposit add column refund_decided_at bigint;
create index deposit_by_status on deposit (status, deposit_id);
