-- Several nodes on one database: each running node registers here and refreshes its row, so a
-- node alone on the database can leave the chat relay idle (no reads of chat_message, no queue
-- reconciliation) and start relaying once another node appears. live_signal carries what is
-- not a transcript line to the other nodes: typing, "visitor reconnected" and telephone
-- screen-pops. Times are integer microseconds since the Unix epoch (UTC).

create table live_node (
    -- a random name the process picks when its chat hub starts
    node text primary key,
    started_at bigint not null,
    -- refreshed while the node runs; a row not refreshed for a while is a stopped node
    seen_at bigint not null
);

create table live_signal (
    live_signal_id integer primary key,
    -- the node that wrote it (it never delivers its own signals again)
    node text not null,
    -- typing, visitor_back or call_pop
    kind text not null,
    chat_session_id bigint,
    -- for typing: who typed (visitor or agent)
    sender text not null default '',
    -- the staff user the signal is for (visitor_back, call_pop)
    user_id bigint,
    -- the event to show, as JSON (call_pop)
    payload text not null default '',
    created_at bigint not null
);
create index live_signal_by_time on live_signal (created_at);
