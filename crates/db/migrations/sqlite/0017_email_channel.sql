-- Email channel: queued emails may carry a few extra headers from a fixed allow-list
-- (Auto-Submitted, X-Auto-Response-Suppress, Precedence), so an acknowledgement says it is an
-- automatic reply (RFC 3834); the Message-ID domain and attempt limit of [smtp] are stored where
-- queueing reads them; inbound messages remember the queue their mailbox sends new cases
-- to, so a retried message lands where the first try would have; and the acknowledgement of a
-- case opened by email becomes an editable template, seeded with the wording it had in code.

-- JSON list of {"name", "value"}; null: none
alter table outbound_email add column extra_headers text;

-- What queueing an email needs of the [smtp] section, stored by `caredesk serve` at start from
-- its configuration (queueing runs in the caller's transaction anywhere; this is where it reads
-- them instead of a per-process copy).
create table outbound_setting (
    setting_id integer primary key check (setting_id = 1),
    -- the right-hand side of the Message-IDs we generate
    message_id_domain text not null,
    -- tries before an email is marked failed
    max_attempts integer not null
);
insert into outbound_setting (setting_id, message_id_domain, max_attempts) values (1, 'caredesk.invalid', 8);

-- the default queue of the IMAP mailbox the message came from; null: the mailbox setting's
alter table inbound_message add column queue_id bigint references queue (queue_id);

-- A new version (the latest wins) so offices that never edited the key get the wording the
-- acknowledgement was sent with; its fields need no customer (a new sender often has none):
-- extra.sender_name is the sender's name, else their address; case.subject is their subject.
insert into correspondence_template
    (template_key, language, version, kind, name, subject, body, created_by, created_at)
select 'case_acknowledgement', 'en', coalesce(max(version), 0) + 1, 'email', 'Case acknowledgement',
     'Re: [{{case.number}}] {{case.subject}}',
     'Hello {{extra.sender_name}},

We received your message, your reference is {{case.number}}.
We will answer as soon as we can. To add to this matter, reply to this email or keep
{{case.number}} in the subject.

Customer Service

(This is an automatic acknowledgement.)
', 'migration', 0
from correspondence_template where template_key = 'case_acknowledgement' and language = 'en';
