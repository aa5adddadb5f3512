-- Billing: rate schedules in versions by effective date (keyed by the rate code service
-- agreements carry), meter reads (actual, rollover, replacement, estimated), bill runs with
-- their resume cursor, and bills with their lines. Rates and tax percentages are decimal text
-- ("0.1123", "6.25"), parsed into scaled integers by billing::model; amounts are integer minor
-- units. A bill's journal entry and open item live in the ledger tables (0008).

create table rate_schedule (
    rate_schedule_id integer primary key,
    rate_code text not null,
    -- electric, water, gas, ...
    service_type text not null,
    -- the first day this version applies, YYYY-MM-DD
    effective_from text not null,
    currency text not null,
    -- the unit the meter counts: kWh, m3, therm, ...
    unit text not null,
    fixed_charge_minor bigint not null,
    minimum_charge_minor bigint not null,
    -- blocks as "500:0.1123;*:0.1389": up to 500 units at 0.1123, the rest at 0.1389
    tiers text not null,
    -- percent, e.g. "6.25"
    tax_percent text not null,
    created_at bigint not null,
    created_by text not null,
    unique (rate_code, effective_from)
);

insert into rate_schedule (rate_code, service_type, effective_from, currency, unit, fixed_charge_minor,
                           minimum_charge_minor, tiers, tax_percent, created_at, created_by) values
    ('E-RES-1', 'electric', '2020-01-01', 'USD', 'kWh', 1250, 1500, '500:0.1123;*:0.1389', '6.25', 0, 'system:seed'),
    ('E-COM-1', 'electric', '2020-01-01', 'USD', 'kWh', 3500, 5000, '2000:0.1045;*:0.0987', '6.25', 0, 'system:seed'),
    ('W-RES-1', 'water', '2020-01-01', 'USD', 'm3', 900, 900, '10:1.85;*:2.40', '0', 0, 'system:seed'),
    ('W-RES-2', 'water', '2020-01-01', 'USD', 'm3', 1100, 1100, '10:1.95;*:2.60', '0', 0, 'system:seed'),
    ('G-RES-1', 'gas', '2020-01-01', 'USD', 'therm', 1000, 1000, '*:1.2150', '4.5', 0, 'system:seed');

create table meter_read (
    meter_read_id integer primary key,
    meter_id bigint not null references meter (meter_id),
    read_date text not null,
    reading bigint not null,
    -- actual, rollover (the dial passed its maximum and restarted at zero), replacement (a new
    -- meter starting at zero), estimated (written by a bill run)
    kind text not null,
    created_at bigint not null,
    created_by text not null
);
create index meter_read_by_meter on meter_read (meter_id, read_date);

-- billing settings, one row
create table billing_setting (
    setting_id integer primary key,
    due_days bigint not null,
    batch_size bigint not null
);
insert into billing_setting (setting_id, due_days, batch_size) values (1, 21, 4000);

create table bill_run (
    bill_run_id integer primary key,
    bill_cycle bigint not null,
    -- YYYY-MM
    period text not null,
    -- running, done, failed
    status text not null,
    accounts_total bigint not null,
    -- the resume cursor: accounts up to this id are done, committed with each batch
    last_account_id bigint not null,
    accounts_done bigint not null,
    bills_written bigint not null,
    accounts_skipped bigint not null,
    total_minor bigint not null,
    last_error text,
    started_by text not null,
    started_at bigint not null,
    updated_at bigint not null,
    finished_at bigint,
    unique (bill_cycle, period)
);

-- accounts a run could not bill (an unknown rate code, say), for a clerk to fix
create table bill_run_skip (
    skip_id integer primary key,
    bill_run_id bigint not null references bill_run (bill_run_id),
    account_id bigint not null references account (account_id),
    reason text not null
);
create index bill_run_skip_by_run on bill_run_skip (bill_run_id);

create table bill (
    bill_id integer primary key,
    bill_number text not null unique,
    account_id bigint not null references account (account_id),
    customer_id bigint not null references customer (customer_id),
    period text not null,
    bill_run_id bigint references bill_run (bill_run_id),
    period_start text not null,
    period_end text not null,
    bill_date text not null,
    due_date text not null,
    currency text not null,
    subtotal_minor bigint not null,
    tax_minor bigint not null,
    total_minor bigint not null,
    -- the journal entry (none for a bill of nothing)
    entry_id bigint references journal_entry (entry_id),
    estimated integer not null,
    created_at bigint not null,
    -- one bill per account and period, ever
    unique (account_id, period)
);
create index bill_by_run on bill (bill_run_id);

create table bill_line (
    bill_line_id integer primary key,
    bill_id bigint not null references bill (bill_id),
    agreement_id bigint,
    service_type text not null,
    -- fixed, usage, minimum, tax
    kind text not null,
    description text not null,
    quantity bigint,
    rate text,
    amount_minor bigint not null,
    meter_number text,
    read_from bigint,
    read_to bigint,
    estimated integer not null
);
create index bill_line_by_bill on bill_line (bill_id);

-- bill runs read one cycle's accounts in id order
create index account_by_bill_cycle on account (bill_cycle, account_id);
