-- Knowledge: articles whose every edit is kept as a numbered version, the cases each article
-- resolved, call scripts with ordered steps, canned answers, and the article search index
-- (FTS5 over title, body and tags of published articles, with rowid = article_id).

-- The article row holds the latest version; article_version holds all of them, the latest too.
create table article (
    article_id integer primary key,
    title text not null,
    body text not null,
    category text not null,
    -- normalised tags, lower case, separated by single spaces
    tags text not null default '',
    -- internal or public
    audience text not null,
    -- draft, published or archived
    status text not null,
    version integer not null,
    created_at bigint not null,
    created_by text not null,
    updated_at bigint not null,
    published_at bigint
);
create index article_by_category on article (category, article_id);
create index article_by_status on article (status, article_id);

create table article_version (
    article_version_id integer primary key,
    article_id bigint not null references article (article_id),
    version integer not null,
    title text not null,
    body text not null,
    author text not null,
    created_at bigint not null,
    unique (article_id, version)
);

-- Cases live in another module; case ids are plain integers until it lands, so no foreign key.
create table article_case (
    article_id bigint not null references article (article_id),
    case_id bigint not null,
    linked_at bigint not null,
    linked_by text not null,
    primary key (article_id, case_id)
);
create index article_case_by_case on article_case (case_id);

-- A call script's steps are replaced as a whole on each edit; the version counts the edits and
-- the audit record keeps the steps as they were before.
create table call_script (
    script_id integer primary key,
    name text not null unique,
    description text not null default '',
    version integer not null,
    created_at bigint not null,
    updated_at bigint not null,
    updated_by text not null
);

create table call_script_step (
    script_id bigint not null references call_script (script_id),
    position integer not null,
    prompt text not null,
    expected_answer text,
    notes text,
    primary key (script_id, position)
);

create table canned_answer (
    canned_answer_id integer primary key,
    name text not null unique,
    category text not null,
    body text not null,
    created_at bigint not null,
    updated_at bigint not null,
    updated_by text not null
);
create index canned_answer_by_category on canned_answer (category, name);

-- Only published articles are indexed; porter stemming so "refunds" finds "refund".
create virtual table article_search using fts5 (title, body, tags, tokenize = 'porter unicode61');
