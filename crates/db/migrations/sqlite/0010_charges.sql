-- Charges: what a billing clerk charges or credits to an account outside the bill run. Fee types
-- with default amounts (admin-editable); fees posted to fees revenue, each late fee naming the
-- overdue open item it was assessed on (at most one late fee per item); adjustment reason codes
-- and adjustments, which above a configured limit wait for a supervisor's approval before
-- posting; deposits required by credit rating, billed, held, applied or refunded; payment
-- arrangements splitting the arrears into instalments, kept or broken as credits arrive. Money
-- is integer minor units; times are microseconds since the Unix epoch (UTC); dates YYYY-MM-DD.

-- Settings as integers: the approval limit, the late-fee policy, the deposit per credit rating.
create table charge_setting (
    setting_key text primary key,
    value bigint not null,
    updated_at bigint not null
);
insert into charge_setting (setting_key, value, updated_at) values
    ('adjustment_approval_limit_minor', 10000, 0),
    ('late_fee_percent_basis_points', 150, 0),
    ('late_fee_minimum_minor', 500, 0),
    ('late_fee_grace_period_days', 5, 0),
    ('deposit_minor.excellent', 0, 0),
    ('deposit_minor.good', 0, 0),
    ('deposit_minor.fair', 10000, 0),
    ('deposit_minor.poor', 20000, 0);

create table fee_type (
    fee_type_id integer primary key,
    code text not null unique,
    label text not null,
    -- in the minor unit of the account's currency
    default_amount_minor bigint not null check (default_amount_minor >= 0),
    active integer not null default 1,
    created_at bigint not null
);
insert into fee_type (code, label, default_amount_minor, active, created_at) values
    ('late_fee', 'Late payment fee', 500, 1, 0),
    ('reconnect_fee', 'Reconnection fee', 5000, 1, 0),
    ('returned_check_fee', 'Returned check fee', 3500, 1, 0),
    ('field_visit_fee', 'Field visit fee', 2500, 1, 0),
    ('meter_test_fee', 'Meter test fee', 4000, 1, 0);

create table fee (
    fee_id integer primary key,
    account_id bigint not null references account (account_id),
    fee_type_code text not null references fee_type (code),
    currency text not null,
    amount_minor bigint not null check (amount_minor > 0),
    memo text not null,
    fee_date text not null,
    -- a late fee names the overdue item it was assessed on: one late fee per item
    late_fee_item_id bigint unique references open_item (item_id),
    entry_id bigint references journal_entry (entry_id),
    created_by text not null,
    created_at bigint not null
);
create index fee_by_account on fee (account_id, fee_id);

create table adjustment_reason (
    adjustment_reason_id integer primary key,
    code text not null unique,
    label text not null,
    active integer not null default 1,
    created_at bigint not null
);
insert into adjustment_reason (code, label, active, created_at) values
    ('billing_error', 'Billing error', 1, 0),
    ('meter_misread', 'Meter misread', 1, 0),
    ('estimated_read_correction', 'Estimated read correction', 1, 0),
    ('goodwill', 'Goodwill', 1, 0),
    ('duplicate_charge', 'Duplicate charge', 1, 0),
    ('fee_waiver', 'Fee waived', 1, 0);

create table adjustment (
    adjustment_id integer primary key,
    account_id bigint not null references account (account_id),
    -- credit (lowers what is owed) or debit (raises it)
    direction text not null,
    currency text not null,
    amount_minor bigint not null check (amount_minor > 0),
    reason_code text not null references adjustment_reason (code),
    note text not null,
    -- posted (below the limit), pending_approval, approved (and posted), rejected
    status text not null,
    requested_by_user_id bigint,
    requested_by text not null,
    decided_by_user_id bigint,
    decided_by text,
    decision_note text,
    decided_at bigint,
    entry_id bigint references journal_entry (entry_id),
    created_at bigint not null
);
create index adjustment_by_account on adjustment (account_id, adjustment_id);
create index adjustment_by_status on adjustment (status, adjustment_id);

create table deposit (
    deposit_id integer primary key,
    account_id bigint not null references account (account_id),
    currency text not null,
    amount_minor bigint not null check (amount_minor > 0),
    -- the account's credit rating when the deposit was required
    credit_rating text not null,
    -- required, billed, held, applied, refunded
    status text not null,
    billed_entry_id bigint references journal_entry (entry_id),
    item_id bigint references open_item (item_id),
    closed_entry_id bigint references journal_entry (entry_id),
    created_by text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index deposit_by_account on deposit (account_id, deposit_id);

create table arrangement (
    arrangement_id integer primary key,
    account_id bigint not null references account (account_id),
    currency text not null,
    total_minor bigint not null check (total_minor > 0),
    instalment_count integer not null check (instalment_count > 0),
    -- weekly or monthly
    frequency text not null,
    first_due_date text not null,
    -- active, completed (kept), broken, cancelled
    status text not null,
    -- credits to the receivable on journal lines after this one count towards the arrangement
    start_after_line_id bigint not null,
    credited_minor bigint not null default 0,
    created_by text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index arrangement_by_account on arrangement (account_id, arrangement_id);
create index arrangement_by_status on arrangement (status, arrangement_id);

create table arrangement_instalment (
    arrangement_id bigint not null references arrangement (arrangement_id),
    seq integer not null,
    due_date text not null,
    amount_minor bigint not null check (amount_minor > 0),
    -- due, paid, missed
    status text not null,
    primary key (arrangement_id, seq)
);

-- the system contact a broken arrangement logs
insert into reason_code (code, label, parent_code, active, created_at) values
    ('arrangement_broken', 'Payment arrangement broken', 'payment', 1, 0);
