-- Cases: problems tracked until resolved. Queues with members; business calendars and SLA
-- policies by priority; the case with its SLA clock; a thread of notes and replies; links,
-- callbacks, attachments; settings; and the case search index.

create table business_calendar (
    calendar_id integer primary key,
    name text not null unique,
    utc_offset_minutes integer not null,
    -- JSON: seven entries, Monday first, each [open_minute, close_minute] or null when closed.
    week text not null
);

create table holiday (
    calendar_id bigint not null references business_calendar (calendar_id),
    holiday_date text not null,
    name text not null,
    primary key (calendar_id, holiday_date)
);

create table sla_policy (
    priority text primary key,
    first_response_minutes integer not null,
    resolution_minutes integer not null,
    calendar_id bigint not null references business_calendar (calendar_id)
);

create table queue (
    queue_id integer primary key,
    name text not null unique,
    tier integer not null,
    description text not null,
    active integer not null default 1,
    created_at bigint not null
);

create table queue_member (
    queue_id bigint not null references queue (queue_id),
    user_id bigint not null references staff_user (user_id),
    primary key (queue_id, user_id)
);

create table case_setting (
    setting_id integer primary key check (setting_id = 1),
    -- A customer reply reopens a resolved case within this many days.
    reopen_days integer not null
);

create table support_case (
    case_id integer primary key,
    case_number text not null unique,
    customer_id bigint references customer (customer_id),
    account_id bigint references account (account_id),
    subject text not null,
    category text not null,
    priority text not null,
    tier integer not null,
    queue_id bigint not null references queue (queue_id),
    assignee_id bigint references staff_user (user_id),
    status text not null,
    opened_at bigint not null,
    opened_by text not null,
    opened_in_contact_id bigint,
    first_response_at bigint,
    first_response_due_at bigint,
    resolution_due_at bigint,
    -- Business seconds left on the resolution clock while it is paused; null while it runs.
    sla_paused_remaining bigint,
    sla_state text not null,
    resolved_at bigint,
    closed_at bigint,
    resolution_code text,
    first_contact_resolution integer not null default 0,
    parent_case_id bigint references support_case (case_id),
    merged_into bigint references support_case (case_id),
    updated_at bigint not null
);
create index support_case_by_queue on support_case (queue_id, status);
create index support_case_by_assignee on support_case (assignee_id, status);
create index support_case_by_customer on support_case (customer_id);
create index support_case_by_due on support_case (status, resolution_due_at);

create table case_entry (
    entry_id integer primary key,
    case_id bigint not null references support_case (case_id),
    -- note (internal), reply_out (to the customer), reply_in (from the customer), event
    kind text not null,
    body text not null,
    author text not null,
    created_at bigint not null
);
create index case_entry_by_case on case_entry (case_id, entry_id);

create table case_link (
    case_id bigint not null references support_case (case_id),
    other_case_id bigint not null references support_case (case_id),
    kind text not null,
    created_at bigint not null,
    primary key (case_id, other_case_id)
);

create table callback (
    callback_id integer primary key,
    case_id bigint not null references support_case (case_id),
    assignee_id bigint not null references staff_user (user_id),
    due_at bigint not null,
    note text not null,
    done_at bigint,
    created_at bigint not null
);
create index callback_due on callback (assignee_id, done_at, due_at);

create table case_attachment (
    attachment_id integer primary key,
    case_id bigint not null references support_case (case_id),
    file_name text not null,
    content_type text not null,
    size_bytes bigint not null,
    sha256 text not null,
    content blob not null,
    uploaded_by text not null,
    uploaded_at bigint not null
);
create index case_attachment_by_case on case_attachment (case_id);

insert into business_calendar (calendar_id, name, utc_offset_minutes, week)
values (1, 'Office hours', 0, '[[480,1020],[480,1020],[480,1020],[480,1020],[480,1020],null,null]');
insert into sla_policy (priority, first_response_minutes, resolution_minutes, calendar_id) values
    ('urgent', 60, 480, 1), ('high', 120, 960, 1), ('normal', 480, 2400, 1), ('low', 960, 4800, 1);
insert into queue (name, tier, description, active, created_at) values
    ('General', 1, 'First line: every new contact that needs follow-up', 1, 0),
    ('Billing', 1, 'Bills, payments, adjustments and arrangements', 1, 0),
    ('Tier 2', 2, 'Escalated and complex cases, claims, international inquiries', 1, 0);
insert into case_setting (setting_id, reopen_days) values (1, 7);

create virtual table case_search using fts5 (doc, tokenize = 'trigram');
