-- Mailbox: inbound email. Every message is stored raw the moment it arrives (from the API or an
-- IMAP mailbox), before it is parsed, so nothing is ever lost; processing then threads it into
-- a case and fills in what it learned. status: received -> processed | held | duplicate |
-- failed; a failed message keeps its error and can be processed again.
-- Times are integer microseconds since the Unix epoch (UTC).

create table inbound_message (
    inbound_message_id integer primary key,
    -- 'api' or 'imap:<mailbox name>'
    source text not null,
    -- IMAP: '<uidvalidity>:<uid>'; null for the API
    source_uid text,
    raw blob not null,
    size_bytes bigint not null,
    received_at bigint not null,
    status text not null,
    error text,
    attempts integer not null default 0,
    -- the Message-ID header without angle brackets
    message_id text,
    from_address text,
    from_name text,
    subject text,
    -- why the message looks automatic (auto-reply, list, loop), comma-separated; empty if not
    auto_flags text not null default '',
    -- true when it was sent an acknowledgement (never for automatic messages)
    acknowledged integer not null default 0,
    case_id bigint references support_case (case_id),
    customer_id bigint references customer (customer_id),
    contact_id bigint references contact (contact_id),
    -- how it found its case: message_id, references, subject, new_case, or null
    threaded_by text,
    -- the HTML part after sanitising, for "view original (sanitised)"
    html_sanitised text,
    processed_at bigint
);
create unique index inbound_message_by_source_uid on inbound_message (source, source_uid);
create index inbound_message_by_message_id on inbound_message (message_id);
create index inbound_message_by_status on inbound_message (status, inbound_message_id);
create index inbound_message_by_sender on inbound_message (from_address, received_at);
create index inbound_message_by_case on inbound_message (case_id);

-- One row of settings: where new cases go, and the loop limits.
create table mailbox_setting (
    setting_id integer primary key check (setting_id = 1),
    -- null: the first tier-1 queue (General)
    queue_id bigint references queue (queue_id),
    -- more than this many messages from one sender within the window are treated as a loop
    sender_limit integer not null,
    sender_window_minutes integer not null,
    -- more than this many of our own Message-IDs in References marks a loop
    own_references_limit integer not null,
    -- the domain of the Message-IDs we generate (outbound email)
    own_domain text not null
);
insert into mailbox_setting (setting_id, queue_id, sender_limit, sender_window_minutes, own_references_limit, own_domain)
values (1, null, 20, 10, 5, 'caredesk.invalid');
