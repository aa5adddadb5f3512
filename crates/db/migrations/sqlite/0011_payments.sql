-- Payments and cashiering: cash drawers (opened with a float, closed with counted amounts,
-- signed off by a supervisor), payment files imported from the bank's lockbox, payments (one
-- journal entry each, source `payment` / `PAY-0000001`, the number derived from the id),
-- reversals (returned check / NSF), transfers of a misapplied payment, refunds of overpayment
-- with their approval, and bank deposits that move undeposited funds to cash. Amounts are
-- integer minor units. The ledger holds the money; these tables hold the documents.

create table cash_drawer (
    drawer_id integer primary key,
    cashier_user_id bigint not null references staff_user (user_id),
    cashier_name text not null,
    -- open, closed, signed_off
    status text not null,
    currency text not null,
    float_minor bigint not null check (float_minor >= 0),
    opened_at bigint not null,
    counted_cash_minor bigint,
    counted_check_minor bigint,
    expected_cash_minor bigint,
    expected_check_minor bigint,
    -- counted minus expected over both tenders; posted to cash over and short at close
    over_short_minor bigint,
    closed_at bigint,
    signed_off_by text,
    signed_off_at bigint,
    bank_deposit_id bigint
);
-- A cashier runs one drawer at a time.
create unique index cash_drawer_one_open on cash_drawer (cashier_user_id) where status = 'open';
create index cash_drawer_by_status on cash_drawer (status, drawer_id);

create table payment_file (
    payment_file_id integer primary key,
    -- sha-256 of the file's bytes: the same file is never imported twice
    content_sha256 text not null unique,
    file_name text not null,
    line_count bigint not null,
    total_minor bigint not null,
    currency text not null,
    imported_by text not null,
    imported_at bigint not null
);

create table payment (
    payment_id integer primary key,
    account_id bigint not null references account (account_id),
    customer_id bigint not null references customer (customer_id),
    amount_minor bigint not null check (amount_minor > 0),
    currency text not null,
    -- cash, check, money_order, card, ach
    tender text not null,
    -- counter, mail, phone, lockbox
    channel text not null,
    check_number text,
    -- card or bank account: the processor's token, the card brand and the last four digits only
    processor_token text,
    card_brand text,
    last_four text,
    memo text not null,
    -- the lockbox file's reference for the line; unique, so a line is never imported twice
    file_reference text unique,
    drawer_id bigint references cash_drawer (drawer_id),
    payment_file_id bigint references payment_file (payment_file_id),
    bank_deposit_id bigint,
    -- posted, reversed
    status text not null,
    received_date text not null,
    taken_by text not null,
    taken_by_user_id bigint,
    created_at bigint not null
);
create index payment_by_account on payment (account_id, payment_id);
create index payment_by_drawer on payment (drawer_id);
create index payment_undeposited on payment (payment_id) where bank_deposit_id is null and drawer_id is null;

create table payment_reversal (
    reversal_id integer primary key,
    payment_id bigint not null unique references payment (payment_id),
    account_id bigint not null references account (account_id),
    -- nsf, returned_check, error
    reason text not null,
    fee_minor bigint not null,
    reversal_entry_id bigint not null references journal_entry (entry_id),
    reversed_by text not null,
    reversed_at bigint not null
);
create index payment_reversal_by_account on payment_reversal (account_id, reversed_at);

create table payment_transfer (
    transfer_id integer primary key,
    payment_id bigint not null references payment (payment_id),
    from_account_id bigint not null references account (account_id),
    to_account_id bigint not null references account (account_id),
    amount_minor bigint not null check (amount_minor > 0),
    currency text not null,
    memo text not null,
    transferred_by text not null,
    transferred_at bigint not null
);
create index payment_transfer_by_payment on payment_transfer (payment_id);

create table refund (
    refund_id integer primary key,
    account_id bigint not null references account (account_id),
    amount_minor bigint not null check (amount_minor > 0),
    currency text not null,
    -- requested, approved, rejected, issued
    status text not null,
    reason text not null,
    requested_by text not null,
    requested_by_user_id bigint not null,
    requested_at bigint not null,
    decided_by text,
    decided_by_user_id bigint,
    decided_at bigint,
    decision_note text,
    -- check number or card refund reference
    issued_reference text,
    issued_by text,
    issued_at bigint
);
create index refund_by_status on refund (status, refund_id);
create index refund_by_account on refund (account_id);

create table bank_deposit (
    bank_deposit_id integer primary key,
    deposit_date text not null,
    total_minor bigint not null,
    currency text not null,
    payment_count bigint not null,
    drawer_count bigint not null,
    created_by text not null,
    created_at bigint not null
);

-- Settings of the module, as integers (amounts in minor units).
create table payment_setting (
    name text primary key,
    value_int bigint not null
);
insert into payment_setting (name, value_int) values ('nsf_fee_minor', 2500);

insert into reason_code (code, label, parent_code, active, created_at) values
    ('refund_issued', 'Refund issued', 'payment', 1, 0);
