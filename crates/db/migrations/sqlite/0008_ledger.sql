-- The ledger: a chart of accounts; journal entries and their lines, append-only (triggers refuse
-- update and delete; a correction is a reversing entry); each customer account's balance per
-- ledger account (receivable, deposits held) kept exact in the same transaction as the lines;
-- debit and credit totals per ledger account and business date, so the trial balance sums days,
-- not lines; and open items, the charges with due dates that credits settle oldest-due first and
-- that aging reads. Amounts are integer minor units; a line is a debit when positive.

create table ledger_account (
    ledger_account_id integer primary key,
    code text not null unique,
    name text not null,
    -- asset, liability, equity, revenue, expense
    kind text not null,
    active integer not null default 1,
    created_at bigint not null
);

insert into ledger_account (code, name, kind, created_at) values
    ('1000', 'Cash in bank', 'asset', 0),
    ('1010', 'Undeposited funds', 'asset', 0),
    ('1100', 'Accounts receivable', 'asset', 0),
    ('2000', 'Customer deposits held', 'liability', 0),
    ('2100', 'Refunds payable', 'liability', 0),
    ('2200', 'Taxes payable', 'liability', 0),
    ('2300', 'Claims payable', 'liability', 0),
    ('3000', 'Retained earnings', 'equity', 0),
    ('4000', 'Service revenue', 'revenue', 0),
    ('4010', 'Electric revenue', 'revenue', 0),
    ('4020', 'Water revenue', 'revenue', 0),
    ('4030', 'Gas revenue', 'revenue', 0),
    ('4040', 'Sewer revenue', 'revenue', 0),
    ('4050', 'Refuse revenue', 'revenue', 0),
    ('4900', 'Fees revenue', 'revenue', 0),
    ('4950', 'Billing adjustments', 'revenue', 0),
    ('6000', 'Bad debt expense', 'expense', 0),
    ('6100', 'Cash over and short', 'expense', 0);

create table journal_entry (
    entry_id integer primary key,
    -- the business date the entry books on, YYYY-MM-DD
    entry_date text not null,
    -- bill, payment, fee, adjustment, deposit, reversal, refund, transfer, drawer, bank_deposit, manual, ...
    source_kind text not null,
    -- the source document's human number (BILL-0000123, PAY-0000042); one entry per document
    source_ref text not null,
    memo text not null,
    reverses_entry_id bigint references journal_entry (entry_id),
    posted_by text not null,
    posted_at bigint not null,
    unique (source_kind, source_ref)
);
create index journal_entry_by_date on journal_entry (entry_date);

create table journal_line (
    line_id integer primary key,
    entry_id bigint not null references journal_entry (entry_id),
    ledger_account_id bigint not null references ledger_account (ledger_account_id),
    -- the customer account this line belongs to (receivable, deposits held), if any
    account_id bigint references account (account_id),
    currency text not null,
    amount_minor bigint not null
);
create index journal_line_by_entry on journal_line (entry_id);
create index journal_line_by_account on journal_line (account_id, line_id);
create index journal_line_by_ledger_account on journal_line (ledger_account_id, line_id);

create trigger journal_entry_refuse_update before update on journal_entry
begin
    select raise(abort, 'posted journal entries are never changed; post a reversing entry');
end;
create trigger journal_entry_refuse_delete before delete on journal_entry
begin
    select raise(abort, 'posted journal entries are never deleted; post a reversing entry');
end;
create trigger journal_line_refuse_update before update on journal_line
begin
    select raise(abort, 'posted journal lines are never changed; post a reversing entry');
end;
create trigger journal_line_refuse_delete before delete on journal_line
begin
    select raise(abort, 'posted journal lines are never deleted; post a reversing entry');
end;

create table subledger_balance (
    account_id bigint not null references account (account_id),
    ledger_account_id bigint not null references ledger_account (ledger_account_id),
    currency text not null,
    balance_minor bigint not null,
    primary key (account_id, ledger_account_id, currency)
);

create table ledger_day_total (
    ledger_account_id bigint not null references ledger_account (ledger_account_id),
    currency text not null,
    entry_date text not null,
    debit_minor bigint not null,
    credit_minor bigint not null,
    primary key (ledger_account_id, currency, entry_date)
);

create table open_item (
    item_id integer primary key,
    account_id bigint not null references account (account_id),
    entry_id bigint not null references journal_entry (entry_id),
    -- bill, fee, deposit, nsf_fee, adjustment, ...
    kind text not null,
    source_ref text not null,
    currency text not null,
    due_date text not null,
    amount_minor bigint not null check (amount_minor > 0),
    open_minor bigint not null check (open_minor >= 0 and open_minor <= amount_minor),
    created_at bigint not null
);
create index open_item_by_account on open_item (account_id, due_date);
create index open_item_open_by_due on open_item (due_date) where open_minor > 0;

-- Each change to an item's open amount and the entry that caused it: which payment settled
-- which bill, and which reversal reopened it.
create table allocation (
    allocation_id integer primary key,
    item_id bigint not null references open_item (item_id),
    entry_id bigint not null references journal_entry (entry_id),
    -- positive settles, negative reopens
    amount_minor bigint not null,
    created_at bigint not null
);
create index allocation_by_item on allocation (item_id);
create index allocation_by_entry on allocation (entry_id);
