-- Correspondence: email and letter templates (one key, one line of versions per language; a
-- save is a new version, never an update), the outbound email queue drained over SMTP by a
-- background job, and letters waiting in the print queue until a print batch takes them.
-- Times are integer microseconds since the Unix epoch (UTC).

create table correspondence_template (
    template_id integer primary key,
    template_key text not null,
    language text not null,
    version integer not null,
    -- email or letter
    kind text not null,
    name text not null,
    subject text not null,
    body text not null,
    created_by text not null,
    created_at bigint not null,
    unique (template_key, language, version)
);

-- One outbound email. status: queued -> sending -> sent; a failed try goes back to queued with
-- a back-off until the attempts are used up (failed); a send whose worker vanished mid-way is
-- `uncertain` (it may have been delivered) and is only sent again when a person says so.
create table outbound_email (
    email_id integer primary key,
    -- the Message-ID header, without angle brackets; receivers dedupe on it
    message_id text not null unique,
    to_addresses text not null,
    cc_addresses text not null,
    subject text not null,
    text_body text not null,
    html_body text,
    in_reply_to text,
    reference_ids text,
    case_id bigint,
    customer_id bigint references customer (customer_id),
    template_id bigint references correspondence_template (template_id),
    status text not null,
    attempts integer not null default 0,
    max_attempts integer not null,
    next_attempt_at bigint not null,
    lease_token text,
    lease_until bigint,
    last_error text,
    created_by text not null,
    created_at bigint not null,
    updated_at bigint not null,
    sent_at bigint
);
create index outbound_email_due on outbound_email (status, next_attempt_at);
create index outbound_email_by_case on outbound_email (case_id);
create index outbound_email_by_customer on outbound_email (customer_id);

create table outbound_email_attachment (
    attachment_id integer primary key,
    email_id bigint not null references outbound_email (email_id),
    file_name text not null,
    content_type text not null,
    content blob not null
);
create index outbound_email_attachment_by_email on outbound_email_attachment (email_id);

create table print_batch (
    print_batch_id integer primary key,
    letter_count integer not null,
    created_by text not null,
    created_at bigint not null
);

-- A letter: queued until a print batch takes it, then printed.
create table letter (
    letter_id integer primary key,
    customer_id bigint not null references customer (customer_id),
    account_id bigint references account (account_id),
    case_id bigint,
    template_id bigint references correspondence_template (template_id),
    language text not null,
    -- the address block, one line per line
    recipient text not null,
    subject text not null,
    body text not null,
    status text not null,
    print_batch_id bigint references print_batch (print_batch_id),
    created_by text not null,
    created_at bigint not null,
    printed_at bigint
);
create index letter_by_status on letter (status, letter_id);
create index letter_by_customer on letter (customer_id);

-- Version 1 of the templates every office needs, in English, Spanish and French; admins save
-- new versions from /admin/templates.
insert into correspondence_template
    (template_key, language, version, kind, name, subject, body, created_by, created_at) values
    ('payment_reminder', 'en', 1, 'email', 'Payment reminder',
     'Payment reminder for account {{account.number}}',
     'Dear {{customer.name}},

Our records show a balance of {{account.balance}} on account {{account.number}}, due on {{account.due_date}}. If you have already paid, please disregard this message.

Kind regards,
{{agent.name}}', 'migration', 0),
    ('payment_reminder', 'es', 1, 'email', 'Recordatorio de pago',
     'Recordatorio de pago de la cuenta {{account.number}}',
     'Estimado/a {{customer.name}}:

Nuestros registros muestran un saldo de {{account.balance}} en la cuenta {{account.number}}, con vencimiento el {{account.due_date}}. Si ya ha pagado, ignore este mensaje.

Atentamente,
{{agent.name}}', 'migration', 0),
    ('payment_reminder', 'fr', 1, 'email', 'Rappel de paiement',
     'Rappel de paiement pour le compte {{account.number}}',
     'Madame, Monsieur {{customer.name}},

Nos registres indiquent un solde de {{account.balance}} sur le compte {{account.number}}, exigible le {{account.due_date}}. Si vous avez deja paye, veuillez ignorer ce message.

Cordialement,
{{agent.name}}', 'migration', 0),
    ('final_notice', 'en', 1, 'letter', 'Final notice',
     'Final notice: account {{account.number}}',
     'Dear {{customer.name}},

The balance of {{account.balance}} on account {{account.number}} is overdue. Unless it is paid within ten days of {{today}}, service may be disconnected.

Please call us to arrange payment.', 'migration', 0),
    ('final_notice', 'es', 1, 'letter', 'Aviso final',
     'Aviso final: cuenta {{account.number}}',
     'Estimado/a {{customer.name}}:

El saldo de {{account.balance}} de la cuenta {{account.number}} esta vencido. Si no se paga dentro de los diez dias siguientes al {{today}}, el servicio puede ser desconectado.

Llamenos para acordar el pago.', 'migration', 0),
    ('final_notice', 'fr', 1, 'letter', 'Dernier avis',
     'Dernier avis : compte {{account.number}}',
     'Madame, Monsieur {{customer.name}},

Le solde de {{account.balance}} du compte {{account.number}} est en retard. Faute de paiement dans les dix jours suivant le {{today}}, le service pourra etre interrompu.

Appelez-nous pour convenir du paiement.', 'migration', 0),
    ('case_acknowledgement', 'en', 1, 'email', 'Case acknowledgement',
     '[{{case.number}}] {{case.subject}}',
     'Dear {{customer.name}},

Thank you for contacting us. We have opened case {{case.number}} and will reply as soon as we can. Please keep the case number in the subject when you write back.', 'migration', 0),
    ('case_acknowledgement', 'es', 1, 'email', 'Acuse de recibo del caso',
     '[{{case.number}}] {{case.subject}}',
     'Estimado/a {{customer.name}}:

Gracias por contactarnos. Hemos abierto el caso {{case.number}} y le responderemos lo antes posible. Conserve el numero de caso en el asunto cuando responda.', 'migration', 0),
    ('case_acknowledgement', 'fr', 1, 'email', 'Accuse de reception',
     '[{{case.number}}] {{case.subject}}',
     'Madame, Monsieur {{customer.name}},

Merci de nous avoir contactes. Nous avons ouvert le dossier {{case.number}} et vous repondrons au plus vite. Gardez le numero du dossier dans l objet de votre reponse.', 'migration', 0),
    ('case_reply', 'en', 1, 'email', 'Case reply',
     'Re: [{{case.number}}] {{case.subject}}',
     '{{extra.reply}}

{{agent.name}}
Customer service', 'migration', 0),
    ('case_reply', 'es', 1, 'email', 'Respuesta del caso',
     'Re: [{{case.number}}] {{case.subject}}',
     '{{extra.reply}}

{{agent.name}}
Servicio al cliente', 'migration', 0),
    ('case_reply', 'fr', 1, 'email', 'Reponse au dossier',
     'Re: [{{case.number}}] {{case.subject}}',
     '{{extra.reply}}

{{agent.name}}
Service client', 'migration', 0),
    ('welcome_letter', 'en', 1, 'letter', 'Welcome letter',
     'Welcome, {{customer.name}}',
     'Dear {{customer.name}},

Welcome. Your customer number is {{customer.number}} and your account number is {{account.number}}. Please quote them whenever you contact us.', 'migration', 0),
    ('welcome_letter', 'es', 1, 'letter', 'Carta de bienvenida',
     'Bienvenido/a, {{customer.name}}',
     'Estimado/a {{customer.name}}:

Bienvenido/a. Su numero de cliente es {{customer.number}} y su numero de cuenta es {{account.number}}. Indiquelos siempre que se comunique con nosotros.', 'migration', 0),
    ('welcome_letter', 'fr', 1, 'letter', 'Lettre de bienvenue',
     'Bienvenue, {{customer.name}}',
     'Madame, Monsieur {{customer.name}},

Bienvenue. Votre numero de client est {{customer.number}} et votre numero de compte est {{account.number}}. Merci de les rappeler lors de chaque contact.', 'migration', 0);
