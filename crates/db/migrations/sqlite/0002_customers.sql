-- Customer information: customers with phones, emails and addresses; accounts; premises with
-- meters; service agreements; alerts; notes; numbers kept findable after a merge; and the
-- search index (FTS5 with the trigram tokenizer, so any fragment of three or more characters of
-- a name, phone, email, account number or address matches).

create table customer (
    customer_id integer primary key,
    customer_number text not null unique,
    kind text not null,
    display_name text not null,
    first_name text,
    last_name text,
    business_name text,
    contact_person text,
    preferred_language text not null default 'en',
    preferred_channel text not null default 'phone',
    do_not_call integer not null default 0,
    do_not_email integer not null default 0,
    do_not_mail integer not null default 0,
    merged_into bigint references customer (customer_id),
    created_at bigint not null,
    updated_at bigint not null
);

create table customer_phone (
    phone_id integer primary key,
    customer_id bigint not null references customer (customer_id),
    label text not null,
    e164 text not null,
    is_primary integer not null default 0
);
create index customer_phone_by_customer on customer_phone (customer_id);
create index customer_phone_by_number on customer_phone (e164);

create table customer_email (
    email_id integer primary key,
    customer_id bigint not null references customer (customer_id),
    label text not null,
    address text not null,
    is_primary integer not null default 0
);
create index customer_email_by_customer on customer_email (customer_id);
create index customer_email_by_address on customer_email (address);

create table customer_address (
    address_id integer primary key,
    customer_id bigint not null references customer (customer_id),
    label text not null,
    line1 text not null,
    line2 text,
    city text not null,
    region text,
    postal_code text not null,
    country text not null
);
create index customer_address_by_customer on customer_address (customer_id);

create table account (
    account_id integer primary key,
    account_number text not null unique,
    customer_id bigint not null references customer (customer_id),
    status text not null,
    bill_cycle integer not null,
    collection_class text not null,
    credit_rating text not null,
    cash_only integer not null default 0,
    paperless integer not null default 0,
    currency text not null,
    mailing_address_id bigint references customer_address (address_id),
    opened_at bigint not null,
    updated_at bigint not null
);
create index account_by_customer on account (customer_id);

create table premise (
    premise_id integer primary key,
    premise_type text not null,
    line1 text not null,
    line2 text,
    city text not null,
    region text,
    postal_code text not null,
    country text not null,
    created_at bigint not null
);

create table meter (
    meter_id integer primary key,
    meter_number text not null unique,
    premise_id bigint not null references premise (premise_id),
    service_type text not null,
    installed_on text not null,
    removed_on text
);
create index meter_by_premise on meter (premise_id);

create table service_agreement (
    agreement_id integer primary key,
    account_id bigint not null references account (account_id),
    premise_id bigint not null references premise (premise_id),
    service_type text not null,
    rate_code text not null,
    start_date text not null,
    end_date text,
    status text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index service_agreement_by_account on service_agreement (account_id);
create index service_agreement_by_premise on service_agreement (premise_id);

create table customer_alert (
    alert_id integer primary key,
    customer_id bigint not null references customer (customer_id),
    kind text not null,
    message text not null,
    created_at bigint not null,
    created_by text not null,
    cleared_at bigint
);
create index customer_alert_by_customer on customer_alert (customer_id);

create table customer_note (
    note_id integer primary key,
    customer_id bigint not null references customer (customer_id),
    body text not null,
    author text not null,
    created_at bigint not null
);
create index customer_note_by_customer on customer_note (customer_id);

-- After a merge the absorbed customer's number still leads to the survivor.
create table customer_former_number (
    customer_number text primary key,
    customer_id bigint not null references customer (customer_id),
    merged_at bigint not null
);

create virtual table customer_search using fts5 (doc, tokenize = 'trigram');
