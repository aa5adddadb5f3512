-- Contacts: every interaction with a customer (phone, email, chat, letter, in person, portal or
-- system), with admin-defined reason codes (a reason may have sub-reasons) and dispositions.
-- Times are integer microseconds since the Unix epoch (UTC). case_id, order_id and payment_id
-- name records of modules that do not exist yet, so they carry no foreign key.

create table reason_code (
    reason_code_id integer primary key,
    code text not null unique,
    label text not null,
    -- a sub-reason names its reason; a reason has none
    parent_code text references reason_code (code),
    active integer not null default 1,
    created_at bigint not null
);
create index reason_code_by_parent on reason_code (parent_code);

create table disposition (
    disposition_id integer primary key,
    code text not null unique,
    label text not null,
    active integer not null default 1,
    created_at bigint not null
);

create table contact (
    contact_id integer primary key,
    customer_id bigint not null references customer (customer_id),
    account_id bigint references account (account_id),
    case_id bigint,
    order_id bigint,
    payment_id bigint,
    channel text not null,
    direction text not null,
    reason_code text not null references reason_code (code),
    sub_reason_code text references reason_code (code),
    -- system contacts are recorded, not worked, and carry no disposition
    disposition_code text references disposition (code),
    summary text not null,
    started_at bigint not null,
    ended_at bigint not null,
    agent_user_id bigint references staff_user (user_id),
    agent_name text not null,
    created_at bigint not null
);
-- the timeline: one customer's contacts, newest first
create index contact_by_customer on contact (customer_id, contact_id);

-- the default codes; admins add their own and deactivate these
insert into reason_code (code, label, parent_code, active, created_at) values
    ('billing_question', 'Billing question', null, 1, 0),
    ('payment', 'Payment', null, 1, 0),
    ('start_service', 'Start service', null, 1, 0),
    ('stop_service', 'Stop service', null, 1, 0),
    ('outage', 'Outage', null, 1, 0),
    ('complaint', 'Complaint', null, 1, 0),
    ('order_status', 'Order status', null, 1, 0),
    ('claim', 'Claim', null, 1, 0),
    ('notice', 'Notice sent', null, 1, 0),
    ('other', 'Other', null, 1, 0);
insert into reason_code (code, label, parent_code, active, created_at) values
    ('high_bill', 'High bill', 'billing_question', 1, 0),
    ('bill_explanation', 'Explain the bill', 'billing_question', 1, 0),
    ('bill_sent', 'Bill sent', 'billing_question', 1, 0),
    ('payment_arrangement', 'Payment arrangement', 'payment', 1, 0),
    ('payment_taken', 'Payment taken', 'payment', 1, 0),
    ('payment_reversed', 'Payment reversed', 'payment', 1, 0),
    ('move_in', 'Moving in', 'start_service', 1, 0),
    ('move_out', 'Moving out', 'stop_service', 1, 0),
    ('report_outage', 'Report an outage', 'outage', 1, 0),
    ('restoration_time', 'When will it be back', 'outage', 1, 0),
    ('staff_conduct', 'Staff conduct', 'complaint', 1, 0),
    ('where_is_my_order', 'Where is my order', 'order_status', 1, 0),
    ('lost_item', 'Lost item', 'claim', 1, 0),
    ('damaged_item', 'Damaged item', 'claim', 1, 0),
    ('disconnect_notice', 'Disconnect notice', 'notice', 1, 0),
    ('reminder_notice', 'Payment reminder', 'notice', 1, 0);

insert into disposition (code, label, active, created_at) values
    ('resolved', 'Resolved', 1, 0),
    ('information_given', 'Information given', 1, 0),
    ('callback_scheduled', 'Callback scheduled', 1, 0),
    ('transferred', 'Transferred', 1, 0),
    ('escalated', 'Escalated', 1, 0),
    ('case_opened', 'Case opened', 1, 0),
    ('no_answer', 'No answer', 1, 0),
    ('left_message', 'Left a message', 1, 0);
