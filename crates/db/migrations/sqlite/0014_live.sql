-- Live channels: chat sessions with their messages (so a node restart loses no transcript),
-- telephone calls reported by the phone system, staff telephone extensions and the module's
-- few settings. Times are integer microseconds since the Unix epoch (UTC).

create table chat_session (
    chat_session_id integer primary key,
    -- sha256 of the visitor's resume token; the token itself lives only in the browser
    token_hash text not null unique,
    -- waiting, active or ended
    status text not null,
    visitor_name text not null,
    visitor_email text not null,
    visitor_account text not null default '',
    origin text not null default '',
    -- matched by email when the chat starts (or set by the agent when it ends)
    customer_id bigint references customer (customer_id),
    agent_user_id bigint references staff_user (user_id),
    contact_id bigint references contact (contact_id),
    case_id bigint references support_case (case_id),
    created_at bigint not null,
    answered_at bigint,
    ended_at bigint
);
create index chat_session_by_status on chat_session (status, chat_session_id);
create index chat_session_by_agent on chat_session (agent_user_id, status);

create table chat_message (
    chat_message_id integer primary key,
    chat_session_id bigint not null references chat_session (chat_session_id),
    -- visitor, agent or system
    sender text not null,
    -- the agent who wrote it; none for the visitor and the system
    sender_user_id bigint references staff_user (user_id),
    body text not null,
    sent_at bigint not null
);
create index chat_message_by_session on chat_message (chat_session_id, chat_message_id);

create table staff_extension (
    staff_extension_id integer primary key,
    user_id bigint not null unique references staff_user (user_id),
    extension text not null unique,
    updated_at bigint not null
);

create table phone_call (
    phone_call_id integer primary key,
    -- the phone system's own id for the call (Asterisk: the linkedid)
    external_call_id text not null unique,
    -- ringing, answered, transferred or ended
    state text not null,
    caller_number text not null,
    -- caller_number in E.164 when it parses; empty otherwise
    caller_e164 text not null default '',
    called_number text not null default '',
    extension text not null default '',
    agent_user_id bigint references staff_user (user_id),
    customer_id bigint references customer (customer_id),
    contact_id bigint references contact (contact_id),
    recording_url text not null default '',
    ringing_at bigint not null,
    answered_at bigint,
    ended_at bigint,
    updated_at bigint not null
);
create index phone_call_by_agent on phone_call (agent_user_id, phone_call_id);

create table live_setting (
    name text primary key,
    value text not null,
    updated_at bigint not null
);
