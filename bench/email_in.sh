#!/usr/bin/env bash
# Inbound email figures for BENCHMARKS.md (issue 5): raw RFC 822 messages POSTed to
# /api/v1/inbound/email as a mail server pipes them, on SQLite. Each message is stored raw,
# parsed, threaded (a third are replies by In-Reply-To, a third name their case in the subject,
# a third are new senders opening cases), logged on the customer's timeline and committed.
# Messages per second = N / wall-clock time for all N answers; medians of RUNS runs.
# Usage: bash bench/email_in.sh [path/to/caredesk]   (needs wrk and sqlite3)
# Environment: N (messages per run, default 5000), RUNS (default 3), CONNECTIONS (default 32),
# DURATION (a ceiling per run, default 600s).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bin="$(release_bin "${1:-}")"
n="${N:-5000}"
runs="${RUNS:-3}"
connections="${CONNECTIONS:-32}"
port=18093
work=$(mktemp -d)
pid=0
trap 'if [ "$pid" != 0 ]; then kill $pid 2>/dev/null || true; fi; rm -rf "$work"' EXIT

cat >"$work/post.lua" <<'LUA'
local auth, sent, run = "", 0, ""
function setup(thread)
  thread:set("id", math.random(1, 1000000))
end
function init(args)
  auth = "Bearer " .. args[1]
  run = args[3]
end
request = function()
  sent = sent + 1
  local k = id .. "-" .. sent
  local kind = sent % 3
  local extra = ""
  local subject = "Question " .. k
  if kind == 1 and sent > 3 then
    extra = "In-Reply-To: <m" .. run .. "-" .. id .. "-" .. (sent - 1) .. "@bench.example>\r\n"
  elseif kind == 2 then
    subject = "Re: [CASE-" .. string.format("%06d", sent % 50 + 1) .. "] follow-up " .. k
  end
  local body = "From: Customer " .. k .. " <c" .. (sent % 200) .. "@bench.example>\r\n" ..
    "To: help@utility.example\r\nSubject: " .. subject .. "\r\n" ..
    "Message-ID: <m" .. run .. "-" .. k .. "@bench.example>\r\n" .. extra ..
    "Date: Mon, 30 Nov 2026 06:00:00 +0000\r\n\r\nHello, my bill for account " .. k .. " looks wrong.\r\n"
  return wrk.format("POST", "/api/v1/inbound/email",
    {["Content-Type"] = "message/rfc822", ["Authorization"] = auth}, body)
end
response = function(status)
  if status ~= 201 then io.write("status " .. status .. "\n") end
end
done = function(summary, latency, requests)
  io.write(string.format("requests %d\n", summary.requests))
  io.write(string.format("duration_s %.3f\n", summary.duration / 1e6))
  io.write(string.format("p99_ms %.2f\n", latency:percentile(99) / 1000))
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
  io.write(string.format("errors %d\n", errors))
end
LUA

rates=(); p99=()
for i in $(seq 1 "$runs"); do
  dir="$work/data-$i"
  "$bin" --data-dir "$dir" migrate >/dev/null 2>&1
  "$bin" --data-dir "$dir" user add --username bench_mta --role admin --display-name "Bench MTA" \
    --password-stdin <<<"bench-mta-password-1" >/dev/null 2>&1
  "$bin" --data-dir "$dir" serve --listen "127.0.0.1:$port" >"$work/serve-$i.log" 2>&1 &
  pid=$!
  until curl -fs -o /dev/null "http://127.0.0.1:$port/readyz"; do sleep 0.05; done
  token=$("$bin" --data-dir "$dir" user token --username bench_mta 2>/dev/null)
  # wrk is stopped once N messages are stored (DURATION is only a ceiling); the rate is the
  # messages stored over the span between the first and the last one received (server clock).
  wrk -t2 -c"$connections" -d"${DURATION:-600s}" -s "$work/post.lua" "http://127.0.0.1:$port" -- \
    "$token" "$n" "$i" >"$work/wrk-$i.log" 2>&1 &
  wrk_pid=$!
  until [ "$(sqlite3 "$dir/caredesk.db" "select count(*) from inbound_message" 2>/dev/null || echo 0)" -ge "$n" ]; do
    kill -0 $wrk_pid 2>/dev/null || break
    sleep 0.2
  done
  kill -INT $wrk_pid 2>/dev/null || true; wait $wrk_pid 2>/dev/null || true
  out=$(cat "$work/wrk-$i.log")
  kill $pid; wait $pid 2>/dev/null || true; pid=0
  db="$dir/caredesk.db"
  stored=$(sqlite3 "$db" "select count(*) from inbound_message")
  span=$(sqlite3 "$db" "select (max(received_at) - min(received_at)) / 1e6 from inbound_message")
  echo "run $i: stored $stored, by status: $(sqlite3 "$db" "select group_concat(status || '=' || c, ' ')
    from (select status, count(*) c from inbound_message group by status)")"
  echo "run $i: cases $(sqlite3 "$db" "select count(*) from support_case"), wrk: $(tr '\n' ' ' <<<"$out" | grep -o 'requests.*')"
  rates+=("$(awk -v s="$stored" -v t="$span" 'BEGIN {printf "%.0f", s / t}')")
  p99+=("$(awk '/^p99_ms/ {print $2}' <<<"$out")")
done
echo "inbound_messages_per_s_runs: ${rates[*]}  median: $(printf '%s\n' "${rates[@]}" | median)"
echo "api_p99_ms_runs: ${p99[*]}  median: $(printf '%s\n' "${p99[@]}" | median)"
