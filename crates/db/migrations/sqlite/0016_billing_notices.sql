-- Customer notices other modules send through correspondence (issue 5): which are switched on,
-- and which events have had theirs, so a re-run of the job that found the event sends nothing
-- new. The notice key is also its template's key. Times are microseconds since the Unix epoch.

create table notice (
    notice_key text primary key,
    label text not null,
    -- the module whose event sends it (charges, payments)
    module text not null,
    enabled integer not null check (enabled in (0, 1)),
    updated_at bigint not null
);

-- One row per event that called for a notice: claimed in the transaction of the business write,
-- so a rolled-back write leaves no row and no email, and the unique key stops a second one.
-- outcome: sent, or unreachable (the customer can be neither emailed nor written to).
create table notice_event (
    notice_event_id integer primary key,
    notice_key text not null references notice (notice_key),
    -- the event in the sending module's words, e.g. FEE-0000042 or PAY-0000007
    event_key text not null,
    customer_id bigint not null references customer (customer_id),
    outcome text not null,
    channel text,
    email_id bigint references outbound_email (email_id),
    letter_id bigint references letter (letter_id),
    contact_id bigint,
    created_at bigint not null,
    unique (notice_key, event_key)
);
create index notice_event_by_customer on notice_event (customer_id);

insert into notice (notice_key, label, module, enabled, updated_at) values
    ('late_fee_assessed', 'Late fee assessed', 'charges', 1, 0),
    ('payment_returned', 'Payment returned (NSF fee)', 'payments', 1, 0),
    ('arrangement_broken', 'Payment arrangement broken', 'charges', 1, 0),
    ('deposit_billed', 'Security deposit billed', 'charges', 1, 0);

-- Version 1 of each notice's wording, in English (other languages fall back to it until an
-- admin saves a variant at /admin/templates). Written as emails; a customer who prefers mail
-- gets the same text as a letter.
insert into correspondence_template
    (template_key, language, version, kind, name, subject, body, created_by, created_at) values
    ('late_fee_assessed', 'en', 1, 'email', 'Late fee assessed',
     'Late fee of {{extra.fee_amount}} on account {{account.number}}',
     'Dear {{customer.name}},

A late fee of {{extra.fee_amount}} ({{extra.fee_number}}) has been added to account {{account.number}} because {{extra.item_reference}}, due on {{extra.item_due_date}}, was not paid in time.

The balance of the account is now {{account.balance}}. Please pay it as soon as you can, or call us to arrange payment.

Kind regards,
{{agent.name}}', 'migration', 0),
    ('payment_returned', 'en', 1, 'email', 'Payment returned',
     'Your payment {{extra.payment_number}} was returned',
     'Dear {{customer.name}},

Your payment {{extra.payment_number}} of {{extra.payment_amount}} ({{extra.payment_reference}}) to account {{account.number}} was returned unpaid by the bank. The payment has been taken off the account and a returned payment fee of {{extra.fee_amount}} has been added.

The balance of the account is now {{account.balance}}. Please pay it by another means as soon as you can.

Kind regards,
{{agent.name}}', 'migration', 0),
    ('arrangement_broken', 'en', 1, 'email', 'Payment arrangement broken',
     'Your payment arrangement on account {{account.number}} has ended',
     'Dear {{customer.name}},

We have not received the instalment of {{extra.instalment_amount}} that was due on {{extra.instalment_due_date}} under your payment arrangement on account {{account.number}} ({{extra.missed_count}} instalment(s) missed). The arrangement has therefore ended.

The balance of the account, {{account.balance}}, is now due in full. Please call us if you need to discuss it.

Kind regards,
{{agent.name}}', 'migration', 0),
    ('deposit_billed', 'en', 1, 'email', 'Security deposit billed',
     'Security deposit of {{extra.deposit_amount}} for account {{account.number}}',
     'Dear {{customer.name}},

A security deposit of {{extra.deposit_amount}} ({{extra.deposit_number}}) is required for account {{account.number}} and has been added to the account, due on {{extra.deposit_due_date}}.

We hold the deposit for you and return or apply it under the terms of your service.

Kind regards,
{{agent.name}}', 'migration', 0);
