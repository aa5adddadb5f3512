#!/usr/bin/env bash
# Customer and agent-day figures for BENCHMARKS.md (issue 3), all on SQLite: time to generate
# the demo data set, global search p50/p95 per kind of query, the customer 360 page p50/p95, and
# POST /api/v1/contacts throughput.
# Usage: bash bench/desk.sh [path/to/release/caredesk]   (needs curl, wrk and sqlite3)
# Environment: CUSTOMERS (default 1000000), DIR (data set, default /tmp/caredesk-desk-$CUSTOMERS),
# GEN_RUNS (generations timed, default 1; 0 reuses DIR), RUNS (wrk runs per figure, default 3),
# DURATION (per wrk run, default 10s), CONNECTIONS (for the contacts POSTs, default 64).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bin="$(release_bin "${1:-}")"
customers="${CUSTOMERS:-1000000}"
dir="${DIR:-/tmp/caredesk-desk-$customers}"
gen_runs="${GEN_RUNS:-1}"
runs="${RUNS:-3}"
duration="${DURATION:-10s}"
connections="${CONNECTIONS:-64}"
port=18081
work=$(mktemp -d)
pid=0
trap 'if [ "$pid" != 0 ]; then kill $pid 2>/dev/null || true; fi; rm -rf "$work"' EXIT

gens=()
for i in $(seq 1 "$gen_runs"); do
  rm -rf "$dir"
  t0=$(date +%s%N)
  "$bin" --data-dir "$dir" demo --customers "$customers" >/dev/null 2>&1
  t1=$(date +%s%N)
  gens+=("$(awk -v ns=$((t1 - t0)) 'BEGIN {printf "%.1f", ns/1e9}')")
done
if [ "$gen_runs" -gt 0 ]; then
  echo "generate_s_runs: ${gens[*]}"
  echo "generate_s_median: $(printf '%s\n' "${gens[@]}" | median)"
fi
db="$dir/caredesk.db"
for table in customer contact support_case case_entry customer_search case_search; do
  echo "rows_$table: $(sqlite3 "$db" "select count(*) from $table")"
done
echo "db_size_mib: $(du -sm "$dir" | cut -f1)"

# Fixed query lists: the same customers on every run (ids spread over the data set).
ids() { awk -v n="$customers" -v k="$1" 'BEGIN {for (i = 1; i <= k; i++) print (i * 7919 * 13) % n + 1}'; }
in_list=$(ids 20 | paste -sd, -)
sqlite3 "$db" "select replace(display_name, ' ', '%20') from customer where customer_id in ($in_list)" \
  | sed 's|^|/api/v1/search?q=|' >"$work/name.txt"
sqlite3 "$db" "select substr(e164, 9, 4) from customer_phone where customer_id in ($in_list)" \
  | sed 's|^|/api/v1/search?q=|' >"$work/phone.txt"
sqlite3 "$db" "select account_number from account where customer_id in ($in_list)" \
  | sed 's|^|/api/v1/search?q=|' >"$work/account.txt"
printf '/api/v1/search?q=%s\n' meter%20exchange flickering%20lights refund%20overpayment damaged%20parcel \
  streetlight wrong%20part lost%20envelope water%20pressure paperless%20billing bereavement >"$work/case.txt"
ids 200 | sed 's|^|/customers/|' >"$work/page.txt"

"$bin" --data-dir "$dir" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
pid=$!
until curl -fs -o /dev/null "http://127.0.0.1:$port/readyz"; do sleep 0.05; done
token=$("$bin" --data-dir "$dir" user token --username admin 2>/dev/null)
auth="Authorization: Bearer $token"
echo "sample_name_query: $(head -1 "$work/name.txt")"
curl -fs -H "$auth" "http://127.0.0.1:$port$(head -1 "$work/phone.txt")" | head -c 300; echo

for kind in name phone account case page; do
  p50s=(); p95s=()
  for i in $(seq 1 "$runs"); do
    out=$(wrk -t1 -c1 -d"$duration" -H "$auth" -s bench/desk_paths.lua "http://127.0.0.1:$port" -- "$work/$kind.txt")
    errors=$(awk '/^errors/ {print $2}' <<<"$out")
    [ "$errors" = 0 ] || echo "WARNING: $kind run $i had $errors errors"
    p50s+=("$(awk '/^p50_ms/ {print $2}' <<<"$out")")
    p95s+=("$(awk '/^p95_ms/ {print $2}' <<<"$out")")
  done
  echo "${kind}_p50_ms_runs: ${p50s[*]}  median: $(printf '%s\n' "${p50s[@]}" | median)"
  echo "${kind}_p95_ms_runs: ${p95s[*]}  median: $(printf '%s\n' "${p95s[@]}" | median)"
done

rates=()
for i in $(seq 1 "$runs"); do
  out=$(wrk -t2 -c"$connections" -d"$duration" -H "$auth" -H "Content-Type: application/json" \
    -s bench/desk_contacts.lua "http://127.0.0.1:$port" -- "$customers")
  errors=$(awk '/^errors/ {print $2}' <<<"$out")
  [ "$errors" = 0 ] || echo "WARNING: contacts run $i had $errors errors"
  rates+=("$(awk '/^ok_rps/ {print $2}' <<<"$out")")
  echo "contacts_run_$i: $(tr '\n' ' ' <<<"$out")"
done
echo "contacts_ok_rps_runs: ${rates[*]}  median: $(printf '%s\n' "${rates[@]}" | median)"
echo "rss_after_load_mib: $(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$pid/status)"
