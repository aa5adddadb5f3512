-- Foundation: staff users, sessions, API tokens, idempotency records, the job queue and the
-- hash-chained audit trail. Times are integer microseconds since the Unix epoch (UTC).

create table staff_user (
    user_id integer primary key,
    username text not null unique,
    display_name text not null,
    email text,
    role text not null,
    password_hash text not null,
    disabled integer not null default 0,
    failed_signins integer not null default 0,
    locked_until bigint,
    totp_secret text,
    totp_enabled integer not null default 0,
    totp_last_step bigint,
    password_changed_at bigint not null,
    created_at bigint not null,
    updated_at bigint not null
);

-- The cookie carries a random id; only its SHA-256 is stored, so a database read leaks no session.
create table session (
    session_hash text primary key,
    user_id bigint not null references staff_user (user_id),
    csrf_token text not null,
    created_at bigint not null,
    last_seen_at bigint not null,
    expires_at bigint not null,
    client_ip text not null default '',
    user_agent text not null default ''
);
create index session_by_user on session (user_id);

create table api_token (
    token_id integer primary key,
    user_id bigint not null references staff_user (user_id),
    name text not null,
    token_hash text not null unique,
    created_at bigint not null,
    last_used_at bigint,
    revoked_at bigint
);
create index api_token_by_user on api_token (user_id);

-- One row per (user, Idempotency-Key): the first request's fingerprint and its stored response.
create table idempotency (
    user_id bigint not null references staff_user (user_id),
    idem_key text not null,
    request_hash text not null,
    response_status integer not null,
    response_body text not null,
    created_at bigint not null,
    primary key (user_id, idem_key)
);

create table job (
    job_id integer primary key,
    kind text not null,
    payload text not null,
    status text not null,
    attempts integer not null default 0,
    max_attempts integer not null,
    run_at bigint not null,
    lease_until bigint,
    lease_token text,
    leased_by text,
    last_error text,
    dedupe_key text,
    created_at bigint not null,
    finished_at bigint
);
create index job_ready on job (status, run_at);
create unique index job_dedupe on job (dedupe_key) where status in ('queued', 'running');

-- The audit trail: each record carries the hash of the one before, so any edit breaks the chain.
create table audit (
    seq bigint primary key,
    at bigint not null,
    actor_user_id bigint,
    actor_name text not null,
    action text not null,
    entity text not null,
    entity_id text not null,
    detail text not null,
    prev_hash text not null,
    hash text not null
);
create index audit_entity on audit (entity, entity_id);

-- A single row that serialises appenders and remembers the chain's head.
create table audit_head (
    head_id integer primary key check (head_id = 1),
    last_seq bigint not null,
    last_hash text not null
);
insert into audit_head (head_id, last_seq, last_hash)
values (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

create trigger audit_refuse_update before update on audit
begin
    select raise(abort, 'audit records are append-only');
end;
create trigger audit_refuse_delete before delete on audit
begin
    select raise(abort, 'audit records are append-only');
end;
